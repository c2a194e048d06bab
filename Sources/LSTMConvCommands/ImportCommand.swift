import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv import SOURCE [-o OUT] [--from …] [--encoding …]`.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a Keras, PyTorch, safetensors or ONNX file onto the document gates and write an lstmconv checkpoint.",
        discussion: """
            The source kind is detected from content (HDF5 signature, zip members, magic), not the extension; --from \
            that disagrees with the content is refused. Prints each source layer and the gates it mapped, the keys \
            left out, and a warning for each tensor the model could have used (an embedding, a head) with the option \
            that keeps it.

            EXAMPLE:
              lstmconv import Fixtures/pytorch/prefixed_head_last/model.pt -o model.lstmw --module encoder.rnn --head head --last-step
            """)

    @Argument(help: "The source file (.h5, .keras, .weights.h5, .pt, .pth, .safetensors, .onnx).")
    var source: String

    @Option(name: .shortAndLong, help: "Output path; default: SOURCE with .lstmw (.h5 with --encoding hdf5) in place of its extension and any .weights.")
    var output: String?


    @Option(help: "Output encoding; default: from OUT's extension (.lstmw, .h5, .hdf5), else binary.")
    var encoding: Encoding?





    @Flag(help: "HDF5 output only: chunked datasets with shuffle + deflate.")
    var compress = false

    @Flag(name: .shortAndLong, help: "Print the source → document tensor map.")
    var verbose = false

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @OptionGroup var json: JSONOption

    @Flag(help: "No progress bar (drawn on stderr only when it is a terminal and the work takes over 0.5 s).")
    var quiet = false

    @OptionGroup var sourceOptions: SourceOptions

    /// The output path: `-o`, else the source name with the encoding's extension.
    var outputPath: String {
        if let output { return output }
        let base = URL(fileURLWithPath: source).deletingPathExtension()
        let stripped = base.pathExtension == "weights" ? base.deletingPathExtension() : base
        return stripped.path + (encoding == .hdf5 ? ".h5" : ".lstmw")
    }

    func validate() throws {
        if compress, (encoding ?? Encoding(pathExtensionOf: outputPath) ?? .binary) == .binary {
            throw ValidationError("--compress applies to HDF5 output only; '\(outputPath)' is written as .lstmw")
        }
    }

    func run() throws {
        try reporting("import", json: json.json) {
            try FileRules.requireInput(source)
            try sourceOptions.requireInputs()
            let destination = outputPath
            let chosen = encoding ?? Encoding(pathExtensionOf: destination) ?? .binary
            try FileRules.requireDistinct(destination, from: source)
            try FileRules.requireWritable(destination, force: force)
            var options = sourceOptions.importOptions
            options.streaming = true
            let result = try withProgress("import \(source)", files: [source], passes: 2, quiet: quiet) {
                let result = try ModelSource.importFile(URL(fileURLWithPath: source), options: options)
                try FileRules.writing(destination) {
                    do {
                        // Each source tensor is read as the writer reaches it: a read error names the source file.
                        try Checkpoint.saveStreaming(
                            result.model, to: URL(fileURLWithPath: destination), encoding: chosen, compress: compress, overwrite: force)
                    } catch let error as ImportError {
                        throw error.inFile(source)
                    }
                }
                return result
            }
            for warning in result.warnings { printError("lstmconv: warning: \(source): \(warning)") }
            if json.json {
                try JSONOutput.write(ImportDocument(source: source, output: destination, encoding: chosen, result: result))
                return
            }
            let p = result.model.provenance
            let origin = [p.sourceFramework, p.sourceFrameworkVersion].filter { !$0.isEmpty }.joined(separator: " ")
            print("imported \(source) (\(origin), \(p.sourceLayout)) → \(destination)")
            // The importer's lines name each source layer and the gates it mapped; fall back to the model's own.
            let lines = result.layerSummaries.isEmpty
                ? result.model.layers.enumerated().map { "layer \($0.offset): \(ModelReport.summary(of: $0.element))" }
                : result.layerSummaries
            for line in lines { print("  \(line)") }
            print("  \(result.tensorMap.count) document tensors mapped")
            if !result.ignoredKeys.isEmpty { print("  ignored source keys: \(result.ignoredKeys.joined(separator: ", "))") }
            for note in result.notes { print("  note: \(note)") }
            if verbose {
                print("tensor map (source → document):")
                for entry in result.tensorMap { print("  \(entry.source) → \(entry.document)") }
            }
        }
    }
}
