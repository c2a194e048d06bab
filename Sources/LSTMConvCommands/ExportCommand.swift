import ArgumentParser
import Foundation
import LSTMConv

/// The frameworks `lstmconv export --to` writes.
enum ExportTarget: String, CaseIterable, ExpressibleByArgument {
    /// A PyTorch `state_dict` as `.safetensors`.
    case pytorch
    /// One ONNX graph (`.onnx`, opset 17).
    case onnx
    /// A Keras 3 `.keras` archive.
    case keras

    /// The output extensions the target writes.
    var extensions: [String] {
        switch self {
        case .pytorch: ["safetensors"]
        case .onnx: ["onnx"]
        case .keras: ["keras", "h5"]
        }
    }
}

/// `lstmconv export MODEL --to pytorch|onnx -o OUT [--prefix PREFIX] [--force]`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model in a framework's format: PyTorch state_dict (.safetensors), ONNX graph (.onnx) or Keras 3 archive (.keras).",
        discussion: """
            --to pytorch: the file loads with module.load_state_dict(safetensors.torch.load_file(OUT)) into the \
            equivalent nn.LSTM / nn.GRU (batch_first=True), an nn.Linear for a trailing dense layer and an \
            nn.Embedding for a leading embedding; the modules to construct are printed and stored in the file's \
            metadata, and so is a head's activation (a state_dict holds none: it is printed on stderr too). \
            Anything PyTorch cannot compute (document use gate, peepholes, clips, forget_bias, other activations, \
            GRU reset before, go_backwards, merge modes other than concat) is refused (exit 65).
            --to onnx: one graph, opset 17, input [batch, time, features] (int64 token ids [batch, time] after an \
            embedding) and output exactly as `lstmconv run` takes and gives them. Peepholes, gate clips and \
            HardSigmoid export; the document use gate, full peepholes, projection, cell/projection clips, \
            forget_bias and go_backwards on a bidirectional layer are refused (exit 65).
            --to keras: a Keras 3 .keras archive (-o OUT.keras) or a legacy HDF5 model (-o OUT.h5, loadable by \
            Keras 3 and tf-keras; hard_sigmoid refused there) that load_model rebuilds as a Sequential; two biases \
            fold into Keras' one (a reset-after GRU keeps both rows); peepholes, projection, clips, forget_bias, \
            the document use gate and a HardSigmoid other than x/6 + 0.5 are refused (exit 65).
            --json prints what was written (every key, initializer or weight; the modules; the notes) as one document.

            EXAMPLE:
              lstmconv export Fixtures/keras/k3_stacked_lstm_dense/model.h5 --to pytorch -o model.safetensors --prefix rnn
            """)

    @Argument(help: "A .lstmw or .h5 checkpoint, or any importable source (Keras .h5/.keras, PyTorch .pt/.pth, .safetensors), imported in memory.")
    var model: String

    @Option(help: "Target framework.")
    var to: ExportTarget

    @Option(name: .shortAndLong, help: "Output path (.safetensors for pytorch, .onnx for onnx, .keras or .h5 for keras).")
    var output: String

    @Option(help: "PyTorch: module prefix of the recurrent module, e.g. rnn or encoder.rnn (default: none, keys such as weight_ih_l0).")
    var prefix: String = ""

    @Option(help: "PyTorch: module prefix of the nn.Linear head.")
    var headPrefix: String = "head"

    @Option(help: "PyTorch: module prefix of the nn.Embedding.")
    var embeddingPrefix: String = "embedding"

    @Flag(help: "PyTorch: write nn.LSTMCell / nn.GRUCell names (weight_ih, no _l0); one one-direction layer only.")
    var cell = false

    @Flag(help: "PyTorch: write no recurrent biases, for bias=False modules (every recurrent bias must be zero).")
    var noBias = false

    @Flag(name: .shortAndLong, help: "List every written key with its shape and dtype.")
    var verbose = false

    @Flag(help: "Replace OUT if it exists.")
    var force = false

    @OptionGroup var json: JSONOption

    @OptionGroup var sourceOptions: SourceOptions

    func validate() throws {
        guard to.extensions.contains(URL(fileURLWithPath: output).pathExtension.lowercased()) else {
            let names = to.extensions.map { "'<name>.\($0)'" }.joined(separator: " or ")
            throw ValidationError("--to \(to.rawValue) writes a \(to.extensions.map { ".\($0)" }.joined(separator: " or ")) file; name the output \(names)")
        }
        if to != .pytorch, !prefix.isEmpty || headPrefix != "head" || embeddingPrefix != "embedding" || cell || noBias {
            throw ValidationError("--prefix, --head-prefix, --embedding-prefix, --cell and --no-bias apply to --to pytorch only")
        }
    }

    @Flag(help: "No progress bar (drawn on stderr only when it is a terminal and the work takes over 0.5 s).")
    var quiet = false

    func run() throws {
        try reporting("export", json: json.json) {
            try FileRules.requireInput(model)
            try sourceOptions.requireInputs()
            try FileRules.requireDistinct(output, from: model)
            try FileRules.requireWritable(output, force: force)
            var options = sourceOptions.importOptions
            options.streaming = true
            try withProgress("export \(model)", files: [model], passes: 1, quiet: quiet) {
                // Streaming: the model's tensors are described first and each is read from the file when the writer
                // reaches it (ONNX reads them all: its protobuf is built in memory).
                let loaded = try ModelSource.loadStreaming(URL(fileURLWithPath: model), options: options)
                switch to {
                case .pytorch: try exportPyTorch(loaded)
                case .onnx: try exportONNX(loaded)
                case .keras: try exportKeras(loaded)
                }
            }
        }
    }

    /// Maps a write failure to exit 73 and leaves other export errors as they are.
    func writing(_ body: () throws(ExportError) -> Void) throws {
        do throws(ExportError) {
            try body()
        } catch {
            guard error.code == .outputExists || error.code == .cannotWrite else { throw error }
            throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: error.description)
        }
    }

    func exportONNX(_ loaded: Model) throws {
        let export: ONNXExport
        do throws(ExportError) {
            export = try ONNXExporter.export(loaded)
        } catch {
            throw error.inFile(model)
        }
        try writing { () throws(ExportError) in try ONNXExporter.write(export, to: URL(fileURLWithPath: output), overwrite: force) }
        let graph = export.model.graph
        let ops = graph.node.map(\.opType).filter { ["LSTM", "GRU", "Gemm", "MatMul", "Gather"].contains($0) }
        if json.json {
            return try JSONOutput.write(ExportDocument(
                model: model, output: output, to: to.rawValue, format: "ONNX opset \(ONNXExporter.opset)",
                tensors: graph.initializer.map { .init(name: $0.name, shape: $0.dims.map { Int($0) }, dtype: nil) }, modules: [],
                headActivation: nil, operators: ops, notes: export.notes))
        }
        print("exported \(model) → \(output) (ONNX opset \(ONNXExporter.opset), \(graph.node.count) nodes, \(graph.initializer.count) initializers)")
        print("  input: \(graph.input.first?.name ?? "input"), output: \(graph.output.first?.name ?? "output"); operators: \(ops.joined(separator: ", "))")
        for note in export.notes { print("  note: \(note)") }
        if verbose {
            print("initializers:")
            for tensor in graph.initializer { print("  \(tensor.name)  \(tensor.dims)") }
        }
    }

    func exportKeras(_ loaded: Model) throws {
        let export: KerasExport
        do throws(ExportError) {
            export = try KerasExporter.export(loaded)
        } catch {
            throw error.inFile(model)
        }
        let url = URL(fileURLWithPath: output)
        let legacy = url.pathExtension.lowercased() == "h5"
        if legacy {
            do throws(ExportError) {
                try KerasExporter.writeLegacyH5(export, to: url, overwrite: force)
            } catch {
                guard error.code == .outputExists || error.code == .cannotWrite else { throw error.inFile(model) }
                throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: error.description)
            }
        } else {
            try writing { () throws(ExportError) in try KerasExporter.write(export, to: url, overwrite: force) }
        }
        if json.json {
            return try JSONOutput.write(ExportDocument(
                model: model, output: output, to: to.rawValue,
                format: legacy ? "legacy Keras HDF5 model" : "Keras \(KerasExporter.kerasVersion) .keras archive",
                tensors: export.weights.map { .init(name: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.rawValue) }, modules: [],
                headActivation: nil, operators: [], notes: export.notes))
        }
        print("exported \(model) → \(output) (\(legacy ? "legacy Keras HDF5 model" : "Keras \(KerasExporter.kerasVersion) .keras archive"), \(export.weights.count) weights)")
        for note in export.notes { print("  note: \(note)") }
        if verbose {
            print("weights:")
            for (path, tensor) in export.weights { print("  \(path)  \(tensor.shape)  \(tensor.dtype.rawValue)") }
        }
    }

    func exportPyTorch(_ loaded: Model) throws {
        do {
            let exportOptions = PyTorchExportOptions(
                prefix: prefix, headPrefix: headPrefix, embeddingPrefix: embeddingPrefix, cellNames: cell, includeBias: !noBias)
            let export: PyTorchExport
            do throws(ExportError) {
                export = try PyTorchExporter.export(loaded, options: exportOptions)
            } catch {
                throw error.inFile(model)
            }
            try writing { () throws(ExportError) in try PyTorchExporter.write(export, to: URL(fileURLWithPath: output), overwrite: force) }
            if let activation = export.headActivation {
                printError("note: the head's activation \(activation) is not in the state_dict; apply it after nn.Linear `\(headPrefix)` (metadata lstmconv.head_activation)")
            }
            if json.json {
                return try JSONOutput.write(ExportDocument(
                    model: model, output: output, to: to.rawValue, format: "PyTorch state_dict",
                    tensors: export.tensors.map { .init(name: $0.0, shape: $0.1.shape, dtype: $0.1.dtype.rawValue) },
                    modules: export.modules.map { .init(prefix: $0.prefix, constructor: $0.constructor, layers: $0.layers, output: $0.output) },
                    headActivation: export.headActivation.map { "\($0)" }, operators: [], notes: export.notes))
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
