import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv convert IN -o OUT [--dtype …] [--encoding …]`.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Re-encode a checkpoint: switch encoding (by OUT's extension or --encoding) and optionally dtype.",
        discussion: """
            .lstmw ↔ .h5 is bit-exact; --dtype rounds every tensor (to nearest even when narrowing) and records new \
            checksums. OUT is written atomically and never replaced without --force.

            EXAMPLE:
              lstmconv convert Fixtures/golden/small_lstm.lstmw -o small_lstm.h5 --dtype f16
            """)

    @Argument(help: "Input checkpoint (.lstmw or .h5).")
    var input: String

    @Option(name: .shortAndLong, help: "Output path (.lstmw, .h5 or .hdf5).")
    var output: String

    @Option(help: "Store every tensor as this dtype.")
    var dtype: DType?

    @Option(help: "Output encoding; default: from OUT's extension.")
    var encoding: Encoding?

    @Flag(help: "HDF5 only: chunked datasets with shuffle + deflate.")
    var compress = false

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @OptionGroup var json: JSONOption

    func validate() throws {
        if encoding == nil, Encoding(pathExtensionOf: output) == nil {
            throw ValidationError("cannot tell the output encoding from '\(output)'; use .lstmw, .h5 or .hdf5, or pass --encoding")
        }
        if compress, (encoding ?? Encoding(pathExtensionOf: output)) == .binary {
            throw ValidationError("--compress applies to HDF5 output only; '\(output)' is written as .lstmw")
        }
    }

    func run() throws {
        try reporting("convert", json: json.json) {
            try FileRules.requireInput(input)
            try FileRules.requireWritable(output, force: force)
            var model = try requiringCheckpoint(input, command: "convert") { try Checkpoint.load(URL(fileURLWithPath: input)) }
            if let dtype { model = model.converted(to: dtype) }
            try FileRules.writing(output) {
                try Checkpoint.save(model, to: URL(fileURLWithPath: output), encoding: encoding, compress: compress, overwrite: force)
            }
            if json.json {
                try JSONOutput.write(ConvertDocument(
                    input: input, output: output, encoding: (encoding ?? Encoding(pathExtensionOf: output) ?? .binary).rawValue,
                    dtype: dtype?.rawValue, compress: compress, tensors: model.storedTensors.count))
            } else {
                print("\(input) → \(output)")
            }
        }
    }
}
