import ArgumentParser
import AtomicFileIO
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

            EXAMPLE:
              lstmconv run Fixtures/pytorch/lstm_2layer/model.pt --input Fixtures/pytorch/lstm_2layer/input.npy --output y.npy --states states.npz
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

    @OptionGroup var json: JSONOption

    @Flag(help: "No progress bar (drawn on stderr only when it is a terminal and the work takes over 0.5 s).")
    var quiet = false

    func validate() throws {
        if let states, URL(fileURLWithPath: states).standardizedFileURL == URL(fileURLWithPath: output).standardizedFileURL {
            throw ValidationError("--output and --states must name different files")
        }
    }

    func run() throws {
        try reporting("run", json: json.json) {
            try FileRules.requireInput(input)
            if let initialStates { try FileRules.requireInput(initialStates) }
            try FileRules.requireWritable(output, force: force)
            if let states { try FileRules.requireWritable(states, force: force) }
            let pass = try withProgress("load \(modelOptions.model)", files: [modelOptions.model], passes: 1, quiet: quiet) {
                try modelOptions.prepare()
            }
            let runOptions = try modelOptions.runOptions()
            let x = try blaming(input) { try ForwardJob.input(from: URL(fileURLWithPath: input), for: pass.model) }
            let initial = try initialStates.map { path in
                try blaming(path) { try ForwardJob.states(from: URL(fileURLWithPath: path), model: pass.model, batch: x.shape.first) }
            } ?? [:]
            warnNonFinite(x, in: input)
            let result = try blamingInput(
                initialStates.map { "\(input) with \($0)" } ?? input, shape: x.shape, isTokens: x.isTokens, model: pass.model,
                timeMajor: runOptions.timeMajor
            ) {
                try pass.run(x, initialStates: initial, options: runOptions)
            }
            // Every output is finished and flushed next to its target before any is moved into place: a failure
            // (disk full, file-size limit, a signal) leaves every existing output as it was.
            let outputData = try ForwardJob.numpy(result.values).npyData()
            var staged: [StagedFile] = []
            do {
                staged.append(try AtomicFile.stage(outputData, to: URL(fileURLWithPath: output), overwrite: force, mapError: outputFailure))
                if let states {
                    let statesData = try ForwardJob.statesArchive(result).npzData()
                    staged.append(try AtomicFile.stage(statesData, to: URL(fileURLWithPath: states), overwrite: force, mapError: outputFailure))
                }
                do throws(AtomicFileError) {
                    try AtomicFile.commit(staged)
                } catch {
                    throw outputFailure(error)
                }
            } catch {
                staged.forEach { $0.discard() }
                throw error
            }
            warnNonFinite(result.output, in: output)
            let precision = result.precision == .f64 ? "float64" : "float32"
            printError("\(output): \(result.output.shape) \(precision) (\(modelOptions.engine.rawValue) engine)")
            if json.json {
                try JSONOutput.write(RunDocument(
                    model: modelOptions.model, input: input, output: output, outputShape: result.output.shape, precision: precision,
                    engine: modelOptions.engine.rawValue, timeMajor: runOptions.timeMajor, states: states,
                    stateNames: states == nil ? [] : result.namedStates.map(\.name)))
            }
        }
    }
}

/// A failed write of an output: exit 73, naming the output and the cause.
func outputFailure(_ failure: AtomicFileError) -> CommandFailure {
    CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: "\(failure.path): \(failure.message)")
}
