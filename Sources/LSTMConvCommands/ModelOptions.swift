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

    @Option(help: "Integer .npy [batch]: each sequence's length (PyTorch pack_padded_sequence); outputs past a length are zero.")
    var lengths: String?

    @Flag(help: "The input is time-major [time, batch, features] ([time, batch] token ids) and a sequence output is written [time, batch, ·] (PyTorch batch_first=False). Default: batch-first [batch, time, features].")
    var timeMajor = false

    /// Reads `--lengths` (exit 66 when missing) and combines it with `--time-major`.
    func runOptions() throws -> RunOptions {
        var options = RunOptions(timeMajor: timeMajor)
        if let lengths {
            try FileRules.requireInput(lengths)
            options.lengths = try blaming(lengths) { try ForwardJob.lengths(from: URL(fileURLWithPath: lengths)) }
        }
        return options
    }







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
