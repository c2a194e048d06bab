import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv explain MODEL --input x.npy -o report.html [--gates gates.npz]`.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show what the learn, forget, remember and use gates do on an input: a summary, an HTML report, every activation as .npz.",
        discussion: """
            Runs MODEL on the input while recording every gate of every recurrent layer and direction. Prints a \
            short summary per layer and direction (mean gates, memory half-life, saturation); -o writes a \
            self-contained HTML report (inline SVG, no network); --gates writes every activation as a .npz with \
            one float32 [B, T, width] array per key layer_<k>/<direction>/<gate> (LSTM: N i f LTM U V STM, plus \
            STM_unprojected with a projection; GRU: z r N STM), indexed by the input's time position. --json prints \
            the summary's statistics as one document.

            EXAMPLE:
              lstmconv explain Fixtures/pytorch/lstm_2layer/model.pt --input Fixtures/pytorch/lstm_2layer/input.npy -o report.html --gates gates.npz
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input .npy (as for run).")
    var input: String

    @Option(name: [.short, .customLong("output")], help: "The HTML report to write.")
    var output: String?

    @Option(help: "Write every gate activation of every layer and direction to this .npz.")
    var gates: String?

    @Option(help: "The batch element the report draws.")
    var sample: Int = 0

    @Option(help: "Report only this layer (its index counts every layer, as in the .npz keys).")
    var layer: Int?

    @Flag(help: "Replace existing output files.")
    var force = false

    @OptionGroup var json: JSONOption

    func validate() throws {
        if let gates, let output, URL(fileURLWithPath: gates).standardizedFileURL == URL(fileURLWithPath: output).standardizedFileURL {
            throw ValidationError("--output and --gates must name different files")
        }
        if sample < 0 { throw ValidationError("--sample must be 0 or more") }
        if let layer, layer < 0 { throw ValidationError("--layer must be 0 or more") }
    }

    func run() throws {
        try reporting("explain", json: json.json) {
            try FileRules.requireInput(input)
            if let output { try FileRules.requireWritable(output, force: force) }
            if let gates { try FileRules.requireWritable(gates, force: force) }
            let model = try modelOptions.loadModel()
            let x = try blaming(input) { try ForwardJob.input(from: URL(fileURLWithPath: input), for: model) }
            let layout = try modelOptions.runOptions()
            let trace = try blamingInput(input, shape: x.shape, isTokens: x.isTokens, model: model, timeMajor: layout.timeMajor) {
                try modelOptions.engine.trace(model, input: x, options: layout)
            }
            let report: ExplainReport
            do throws(ExplainError) {
                report = try ExplainReport(
                    model: model, trace: trace, source: modelOptions.model, engine: modelOptions.engine.rawValue,
                    sample: sample, layer: layer)
            } catch {
                // --sample / --layer outside what the model and input have is a usage error; a model without a
                // recurrent layer or an empty batch is bad input. All name the model.
                let status = [.noRecurrentLayer, .emptyInput].contains(error.code) ? ExitStatus.badInput : ExitStatus.usage
                throw CommandFailure(exitCode: status, message: "\(modelOptions.model): \(error)")
            }
            var written: [String] = []
            do {
                if let gates {
                    let archive = try ExplainReport.archive(trace)
                    let existed = FileManager.default.fileExists(atPath: gates)
                    try FileRules.writing(gates) { try archive.write(to: URL(fileURLWithPath: gates), overwrite: force) }
                    if !existed { written.append(gates) }
                }
                if let output {
                    try FileRules.writing(output) { try report.writeHTML(to: URL(fileURLWithPath: output), overwrite: force) }
                }
            } catch {
                // No partial result: the files asked for are written together or not at all.
                for path in written { try? FileManager.default.removeItem(atPath: path) }
                throw error
            }
            if json.json {
                try JSONOutput.write(ExplainDocument(
                    model: modelOptions.model, input: input, engine: modelOptions.engine.rawValue, sample: sample, report: output,
                    gates: gates, statistics: report.statistics))
            } else {
                print(report.summary, terminator: "")
            }
        }
    }
}
