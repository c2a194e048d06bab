import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv convert IN -o OUT [--dtype …] [--encoding …]`.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Re-encode a checkpoint: switch encoding (by OUT's extension or --encoding) and optionally dtype.")

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

    @Flag(help: "No progress bar (drawn on stderr only when it is a terminal and the work takes over 0.5 s).")
    var quiet = false

    func validate() throws {
        if encoding == nil, Encoding(pathExtensionOf: output) == nil {
            throw ValidationError("cannot tell the output encoding from '\(output)'; use .lstmw, .h5 or .hdf5, or pass --encoding")
        }
        if compress, (encoding ?? Encoding(pathExtensionOf: output)) == .binary {
            throw ValidationError("--compress applies to HDF5 output only; '\(output)' is written as .lstmw")
        }
    }

    func run() throws {
        try reporting {
            try FileRules.requireInput(input)
            try FileRules.requireWritable(output, force: force)
            try withProgress("convert \(input)", files: [input], passes: 2, quiet: quiet) {
                try FileRules.writing(output) {
                    try Checkpoint.convert(
                        URL(fileURLWithPath: input), to: URL(fileURLWithPath: output), encoding: encoding, dtype: dtype, compress: compress,
                        overwrite: force)
                }
            }
            print("\(input) → \(output)")
        }
    }
}
