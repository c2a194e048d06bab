import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv inspect FILE [--json]`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show layers, gate variant, sizes, every tensor (document name, shape, dtype, checksum, source) and provenance.",
        discussion: """
            FILE is a checkpoint (.lstmw, or .h5 in the lstmconv format) or any file `lstmconv import` reads (Keras \
            .keras/.h5, PyTorch .pt/.pth, .safetensors, ONNX .onnx), imported in memory with import's options and \
            shown the same way, under the source's own layer names. The view: a layer table (name, kind, input and \
            output shape with symbolic batch and time, parameters) and the total, each layer's hyperparameters, every \
            tensor, then the provenance.

            EXAMPLE:
              lstmconv inspect Fixtures/pytorch/prefixed_head_last/model.pt --module encoder.rnn --head head --last-step
            """)

    @Argument(help: "A checkpoint (.lstmw or .h5) or any importable source (Keras .h5/.keras, PyTorch .pt/.pth, .safetensors, .onnx).")
    var file: String

    @OptionGroup var output: JSONOption

    @OptionGroup var sourceOptions: SourceOptions

    func run() throws {
        try reporting("inspect", json: output.json) {
            try FileRules.requireInput(file)
            try sourceOptions.requireInputs()
            let report = try ModelReport.load(URL(fileURLWithPath: file), options: sourceOptions.importOptions)
            if output.json {
                FileHandle.standardOutput.write(try report.json())
                print()
            } else {
                print(report.text(colour: Terminal.wantsColour))
            }
        }
    }
}

/// Whether stdout is a terminal that wants colour: never when `NO_COLOR` is set (no-color.org) or `TERM=dumb`.
enum Terminal {
    static var wantsColour: Bool {
        let environment = ProcessInfo.processInfo.environment
        guard environment["NO_COLOR"].map({ $0.isEmpty }) ?? true, environment["TERM"] != "dumb" else { return false }
        return isatty(STDOUT_FILENO) == 1
    }
}
