import ArgumentParser
import Foundation
import LSTMConv

/// The frameworks `lstmconv export --to` writes.
enum ExportTarget: String, CaseIterable, ExpressibleByArgument {
    /// A PyTorch `state_dict` as `.safetensors`.
    case pytorch
}

/// `lstmconv export MODEL --to pytorch -o OUT.safetensors [--prefix PREFIX] [--force]`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model's weights in a framework's layout: a PyTorch state_dict as .safetensors.",
        discussion: """
            The file loads with module.load_state_dict(safetensors.torch.load_file(OUT)) into the equivalent \
            nn.LSTM / nn.GRU (batch_first=True), an nn.Linear for a trailing linear dense layer and an nn.Embedding \
            for a leading embedding; the modules to construct are printed and stored in the file's metadata. \
            Anything PyTorch cannot compute (document use gate, peepholes, clips, forget_bias, other activations, \
            GRU reset before, go_backwards, merge modes other than concat, a non-linear head) is refused (exit 65).
            """)

    @Argument(help: "A .lstmw or .h5 checkpoint, or any importable source (Keras .h5/.keras, PyTorch .pt/.pth, .safetensors), imported in memory.")
    var model: String

    @Option(help: "Target framework.")
    var to: ExportTarget

    @Option(name: .shortAndLong, help: "Output path (.safetensors).")
    var output: String

    @Option(help: "Module prefix of the recurrent module, e.g. rnn or encoder.rnn (default: none, keys such as weight_ih_l0).")
    var prefix: String = ""

    @Option(help: "Module prefix of the nn.Linear head.")
    var headPrefix: String = "head"

    @Option(help: "Module prefix of the nn.Embedding.")
    var embeddingPrefix: String = "embedding"

    @Flag(help: "Write nn.LSTMCell / nn.GRUCell names (weight_ih, no _l0); one one-direction layer only.")
    var cell = false

    @Flag(help: "Write no recurrent biases, for bias=False modules (every recurrent bias must be zero).")
    var noBias = false






    @Flag(name: .shortAndLong, help: "List every written key with its shape and dtype.")
    var verbose = false

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @OptionGroup var sourceOptions: SourceOptions

    func validate() throws {
        guard URL(fileURLWithPath: output).pathExtension.lowercased() == "safetensors" else {
            throw ValidationError("--to pytorch writes a .safetensors file; name the output '<name>.safetensors'")
        }
    }

    func run() throws {
        try reporting {
            try FileRules.requireInput(model)
            try sourceOptions.requireInputs()
            try FileRules.requireDistinct(output, from: model)
            try FileRules.requireWritable(output, force: force)
            let options = sourceOptions.importOptions
            let loaded = try ModelSource.load(URL(fileURLWithPath: model), options: options)
            let exportOptions = PyTorchExportOptions(
                prefix: prefix, headPrefix: headPrefix, embeddingPrefix: embeddingPrefix, cellNames: cell, includeBias: !noBias)
            let export: PyTorchExport
            do throws(ExportError) {
                export = try PyTorchExporter.export(loaded, options: exportOptions)
            } catch {
                throw error.inFile(model)
            }
            do throws(ExportError) {
                try PyTorchExporter.write(export, to: URL(fileURLWithPath: output), overwrite: force)
            } catch {
                guard error.code == .outputExists || error.code == .cannotWrite else { throw error }
                throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: error.description)
            }
            print("exported \(model) → \(output) (PyTorch state_dict, \(export.tensors.count) tensors)")
            for module in export.modules {
                let name = module.prefix.isEmpty ? "(top level)" : module.prefix
                let layers = module.layers.count == 1 ? "layer \(module.layers[0])" : "layers \(module.layers.map(String.init).joined(separator: ", "))"
                var line = "  \(name): \(module.constructor), \(module.torchDType), \(layers)"
                if let output = module.output { line += module.className == "Linear" ? ", applied to: \(output)" : ", returns: \(output)" }
                print(line)
            }
            for note in export.notes { print("  note: \(note)") }
            if verbose {
                print("keys:")
                for (key, tensor) in export.tensors {
                    print("  \(key)  \(tensor.shape)  \(tensor.dtype.rawValue)")
                }
            }
        }
    }
}
