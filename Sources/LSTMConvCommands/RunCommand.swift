import ArgumentParser
import Foundation
import LSTMImport

/// `lstmconv run MODEL --input x.npy --output y.npy`.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a forward pass on a .npy input and write the model's output (and optionally final states).",
        discussion: """
            Input: [batch, time, features] float32/float64, or integer token ids [batch, time] when the first layer \
            is an embedding. Output: [B, T, D*H] with return_sequences, [B, D*H] otherwise, [B, units] after a dense \
            head; float32 from the fast engine, float64 from the reference engine. --states writes a .npz with \
            layer_<k>/<direction>/STM and .../LTM for every layer and direction.
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input .npy.")
    var input: String

    @Option(help: "Output .npy.")
    var output: String

    @Option(help: "Write the final STM/LTM of every layer and direction to this .npz.")
    var states: String?

    @Option(help: "Initial states .npz (same names as --states writes).")
    var initialStates: String?

    @Flag(help: "Replace existing output files.")
    var force = false

    func run() throws {
        try reporting {
            try FileRules.requireInput(input)
            try FileRules.requireWritable(output, force: force)
            if let states { try FileRules.requireWritable(states, force: force) }
            if let initialStates { try FileRules.requireInput(initialStates) }
            let pass = try modelOptions.prepare()
            let x = try ForwardJob.input(from: URL(fileURLWithPath: input), for: pass.model)
            let initial = try initialStates.map { try ForwardJob.states(from: URL(fileURLWithPath: $0)) } ?? [:]
            let result = try pass.run(x, initialStates: initial)
            try ForwardJob.numpy(result.output, precision: result.precision)
                .write(to: URL(fileURLWithPath: output), overwrite: force)
            if let states {
                try ForwardJob.writeStates(result, to: URL(fileURLWithPath: states), overwrite: force)
            }
            printError("\(output): \(result.output.shape) \(result.precision == .f64 ? "float64" : "float32") (\(modelOptions.engine.rawValue) engine)")
        }
    }
}
