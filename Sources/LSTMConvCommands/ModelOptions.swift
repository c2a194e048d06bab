import ArgumentParser
import Foundation
import LSTMConv

/// How `run` and `validate` find and prepare the model.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A .lstmw or .h5 checkpoint, or any importable source (Keras .h5/.keras, PyTorch .pt/.pth, .safetensors), imported in memory.")
    var model: String

    @Option(help: "Engine: reference (the float64 oracle) or fast (float32 on BLAS).")
    var engine: Engine = .default

    @OptionGroup var source: SourceOptions







    /// Loads the model (importing in memory when needed) and prepares the chosen engine.
    func prepare() throws -> any ForwardPass {
        try FileRules.requireInput(model)
        try source.requireInputs()
        let loaded = try ModelSource.load(URL(fileURLWithPath: model), options: source.importOptions)
        return try blaming(model) { try engine.prepare(loaded) }
    }
}
