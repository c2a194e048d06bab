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
        let loaded = try loadModel()
        return try blaming(model) { try engine.prepare(loaded) }
    }

    /// Loads the model, importing it in memory when needed.
    func loadModel() throws -> Model {
        try FileRules.requireInput(model)
        try source.requireInputs()
        return try ModelSource.load(URL(fileURLWithPath: model), options: source.importOptions)
    }
}
