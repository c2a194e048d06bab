import ArgumentParser
import Foundation
import LSTMImport

/// How `run` and `validate` find and prepare the model.
struct ModelOptions: ParsableArguments {
    @Argument(help: "A .lstmw or .h5 checkpoint, or any importable source (Keras .h5/.keras, PyTorch .pt/.pth, .safetensors), imported in memory.")
    var model: String

    @Option(help: "Engine: reference (the float64 oracle) or fast (float32 on BLAS).")
    var engine: Engine = .default

    @Option(help: "Read an importable MODEL as this source format instead of detecting it.")
    var from: SourceFormat?

    @Option(help: "Keras: the architecture JSON (model.to_json()) for a weights-only file.")
    var config: String?

    @Option(help: "PyTorch: the recurrent module prefix to import when there are several.")
    var module: String?

    @Option(help: "PyTorch: a Linear module prefix to append as a dense head.")
    var head: String?

    @Flag(help: "PyTorch: output only the last step [B, D*H] (h_n) instead of the whole sequence [B, T, D*H].")
    var lastStep = false

    var importOptions: ImportOptions {
        ImportOptions(from: from, config: config.map { URL(fileURLWithPath: $0) }, module: module, head: head, lastStepOnly: lastStep)
    }

    /// Loads the model (importing in memory when needed) and prepares the chosen engine.
    func prepare() throws -> any ForwardPass {
        try FileRules.requireInput(model)
        if let config { try FileRules.requireInput(config) }
        let loaded = try ModelSource.load(URL(fileURLWithPath: model), options: importOptions)
        return try blaming(model) { try engine.prepare(loaded) }
    }
}
