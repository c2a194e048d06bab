import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv run MODEL --input x.npy --output y.npy`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a forward pass on a .npy input and write the model's output (and optionally final states).",
        discussion: """
            Input: [batch, time, features] float32/float64 (batch-first; with --time-major, or for a model recorded \
            as time-major, [time, batch, features]), or integer token ids [batch, time] when the first layer is an \
            embedding. --lengths limits each sequence (PyTorch packed sequences). Output: [B, T, D*H] with return_sequences, [B, D*H] otherwise, [B, units] after a dense \
            head; float32 from the fast engine, float64 from the reference engine. --states writes a .npz with \
            layer_<k>/<direction>/STM for every recurrent layer and direction, and .../LTM for LSTM layers.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input .npy.")
    var input: String

    @Option(help: "Output .npy.")
    var output: String

    @Option(help: "Write the final STM (and LTM) of every layer and direction to this .npz.")
    var states: String?

    @Option(help: "Initial states .npz (the names --states writes).")
    var initialStates: String?

    @Flag(help: "Replace existing output files.")
    var force = false

    func validate() throws {
        if let states, URL(fileURLWithPath: states).standardizedFileURL == URL(fileURLWithPath: output).standardizedFileURL {
            throw ValidationError("--output and --states must name different files")
        }
    }

    func run() throws {
        try reporting {
            try FileRules.requireInput(input)
            if let initialStates { try FileRules.requireInput(initialStates) }
            try FileRules.requireWritable(output, force: force)
            if let states { try FileRules.requireWritable(states, force: force) }
            let pass = try modelOptions.prepare()
            let runOptions = try modelOptions.runOptions()
            let x = try blaming(input) { try ForwardJob.input(from: URL(fileURLWithPath: input), for: pass.model) }
            let initial = try initialStates.map { path in
                try blaming(path) { try ForwardJob.states(from: URL(fileURLWithPath: path)) }
            } ?? [:]
            let result = try blaming(initialStates.map { "\(input) with \($0)" } ?? input) {
                try pass.run(x, initialStates: initial, options: runOptions)
            }
            let outputArray = try ForwardJob.numpy(result.values)
            let outputExisted = FileManager.default.fileExists(atPath: output)
            try FileRules.writing(output) { try outputArray.write(to: URL(fileURLWithPath: output), overwrite: force) }
            if let states {
                do {
                    try FileRules.writing(states) {
                        try ForwardJob.writeStates(result, to: URL(fileURLWithPath: states), overwrite: force)
                    }
                } catch {
                    // No partial result: without its states the output alone is not what was asked for.
                    if !outputExisted { try? FileManager.default.removeItem(atPath: output) }
                    throw error
                }
            }
            let precision = result.precision == .f64 ? "float64" : "float32"
            printError("\(output): \(result.output.shape) \(precision) (\(modelOptions.engine.rawValue) engine)")
        }
    }
}
