import Foundation
import LSTMCheckpoint
import LSTMHDF5
import LSTMModel
import LSTMLayouts
import LSTMImportKeras
import LSTMImportONNX
import LSTMImportPyTorch

/// The framework a source file is read as (`lstmconv import --from`).
public enum SourceFormat: String, Sendable, CaseIterable {
    case keras
    case pytorch
    case safetensors
    case onnx
}

/// What a file is, judged by its content (signatures, zip members, HDF5 attributes), not by its name.
public enum SourceKind: Sendable, Equatable, CustomStringConvertible {
    /// An lstmconv checkpoint in one of its encodings.
    case checkpoint(Encoding)
    /// A Keras `.h5` / `.weights.h5` / `.keras`.
    case keras
    /// A `torch.save` archive (zip or legacy stream).
    case pytorch
    /// A `.safetensors` file.
    case safetensors
    /// An ONNX `ModelProto` (`.onnx`).
    case onnx

    public var description: String {
        switch self {
        case .checkpoint(let encoding): "lstmconv checkpoint (\(encoding.rawValue))"
        case .keras: "Keras model"
        case .pytorch: "PyTorch state_dict"
        case .safetensors: "safetensors"
        case .onnx: "ONNX model"
        }
    }
}

/// Options for importing a framework file.
public struct ImportOptions: Sendable {
    /// Force the source format instead of detecting it.
    public var from: SourceFormat?
    /// Keras: architecture JSON for weights-only files.
    public var config: URL?
    /// PyTorch: the recurrent module prefix to import.
    public var module: String?
    /// PyTorch: a Linear module prefix appended as a dense head.
    public var head: String?
    /// PyTorch: the last recurrent layer returns only `output[:, -1]` `[B, D·R]` (the last time step) instead of
    /// the whole sequence `[B, T, D·R]` (`output`, the default). A head then applies to it.
    public var lastStepOnly: Bool
    /// PyTorch: the last recurrent layer returns only its final states `h_n` (directions concatenated, forward
    /// first) `[B, D·R]`. Differs from ``lastStepOnly`` for a bidirectional module: the backward direction's
    /// final state is its output at the first time step.
    public var finalStatesOnly: Bool
    /// PyTorch `nn.RNN`: its nonlinearity, `.tanh` (the default) or `.relu` (a state_dict does not say).
    public var nonlinearity: Activation = .tanh
    /// PyTorch: the `nn.Embedding` prefix in front of the recurrent module (`nil`: found automatically when
    /// unambiguous; `""`: none).
    public var embedding: String?
    /// A streaming import (``ModelSource/importFile(_:options:)`` then `Checkpoint.saveStreaming`): the result's
    /// Keras, PyTorch and safetensors tensors are described (deferred) and read from the source file only when
    /// written. ONNX models are read in memory either way.
    package var streaming = false

    /// Import options; every `nil` means: detect or use the default.
    public init(
        from: SourceFormat? = nil, config: URL? = nil, module: String? = nil, head: String? = nil, lastStepOnly: Bool = false,
        finalStatesOnly: Bool = false
    ) {
        self.from = from
        self.config = config
        self.module = module
        self.head = head
        self.lastStepOnly = lastStepOnly
        self.finalStatesOnly = finalStatesOnly
    }

    /// The PyTorch importer options these describe.
    var pytorch: PyTorchImportOptions {
        var options = PyTorchImportOptions(
            module: module, head: head, returnSequences: !(lastStepOnly || finalStatesOnly),
            finalOutput: finalStatesOnly ? .finalState : .lastStep, nonlinearity: nonlinearity)
        options.embedding = embedding
        if streaming { options.sourceCache = SourceCache() }
        return options
    }
}

/// Detects a source's kind and imports it with the matching importer.
public enum ModelSource {
    /// What `url` holds, by content. Throws `unrecognizedSource` naming the file when nothing matches.
    public static func detect(_ url: URL) throws(ImportError) -> SourceKind {
        let prefix: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            prefix = try handle.read(upToCount: 64) ?? Data()
        } catch {
            throw ImportError(.unrecognizedSource, "cannot read the file: \(error.localizedDescription)", file: url.path)
        }
        if prefix.isEmpty {
            throw ImportError(.unrecognizedSource, "the file is empty (0 bytes)", file: url.path)
        }
        if let encoding = Encoding(sniffing: prefix) {
            if encoding == .binary { return .checkpoint(.binary) }
            if HDF5Encoding.isLSTMConvFile(url) { return .checkpoint(.hdf5) }
            return .keras
        }
        if PyTorchImporter.looksLikeSafetensors(prefix) { return .safetensors }
        if ONNXImporter.looksLikeONNX(prefix) { return .onnx }
        if KerasImporter.hasZipSignature(prefix) {
            if PyTorchImporter.canRead(url) { return .pytorch }
            if KerasImporter.sourceKind(of: url) == .archive { return .keras }
            // A damaged zip neither importer can open: the name decides which importer explains what is wrong.
            switch url.pathExtension.lowercased() {
            case "pt", "pth", "bin", "ckpt": return .pytorch
            case "keras": return .keras
            default: break
            }
            throw ImportError(
                .unrecognizedSource,
                "a zip archive that is neither a Keras .keras archive (no config.json) nor a torch.save archive (no <name>/data.pkl)",
                file: url.path)
        }
        if PyTorchImporter.canRead(url) { return .pytorch }
        if KerasImporter.sourceKind(of: url) != nil { return .keras }
        throw ImportError(
            .unrecognizedSource,
            "not a Keras (.h5, .keras), PyTorch (.pt, .pth), safetensors, ONNX or lstmconv file; first bytes: \(prefix.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " "))",
            file: url.path)
    }

    /// Imports a framework file onto the document gates.
    public static func importFile(_ url: URL, options: ImportOptions = ImportOptions()) throws -> ImportResult {
        let format: SourceFormat
        if let forced = options.from {
            try requireContent(of: url, matches: forced)
            format = forced
        } else {
            switch try detect(url) {
            case .checkpoint(let encoding):
                throw ImportError(
                    .unrecognizedSource,
                    "this is already an lstmconv checkpoint (\(encoding.rawValue)); use `lstmconv convert` to re-encode it",
                    file: url.path)
            case .keras: format = .keras
            case .pytorch: format = .pytorch
            case .safetensors: format = .safetensors
            case .onnx: format = .onnx
            }
        }
        switch format {
        case .keras:
            var keras = KerasImportOptions(config: options.config)
            if options.streaming { keras.sourceCache = SourceCache() }
            return try KerasImporter.importFile(at: url, options: keras)
        case .onnx:
            return try ONNXImporter.importFile(at: url)
        case .pytorch, .safetensors:
            return try PyTorchImporter.importFile(
                at: url, options: options.pytorch)
        }
    }

    /// Refuses `--from` when the content is recognisably another kind (`source format mismatch`): a `.pt` read
    /// `--from safetensors` is a torch.save archive whatever the flag says. Content no detector recognises is left
    /// to the forced importer, which explains what is wrong with it.
    static func requireContent(of url: URL, matches forced: SourceFormat) throws(ImportError) {
        guard let kind = try? detect(url) else { return }
        let actual: SourceFormat
        switch kind {
        case .checkpoint(let encoding):
            throw ImportError(
                .sourceFormatMismatch,
                "--from \(forced.rawValue), but this is an lstmconv checkpoint (\(encoding.rawValue)); drop --from (use `lstmconv convert` to re-encode it)",
                file: url.path)
        case .keras: actual = .keras
        case .pytorch: actual = .pytorch
        case .safetensors: actual = .safetensors
        case .onnx: actual = .onnx
        }
        guard actual != forced else { return }
        throw ImportError(
            .sourceFormatMismatch, "--from \(forced.rawValue), but the content is a \(kind); drop --from or pass --from \(actual.rawValue)",
            file: url.path)
    }

    /// ``load(_:options:)`` with the tensors deferred (read when materialised): a checkpoint by
    /// `Checkpoint.loadDeferred`, a framework file by a streaming import (``ImportOptions/streaming``).
    package static func loadStreaming(_ url: URL, options: ImportOptions = ImportOptions()) throws -> Model {
        var options = options
        options.streaming = true
        if options.from == nil, case .checkpoint = try detect(url) {
            return try Checkpoint.loadDeferred(url)
        }
        return try importFile(url, options: options).model
    }

    /// Loads any model file: an lstmconv checkpoint directly, anything else imported in memory.
    public static func load(_ url: URL, options: ImportOptions = ImportOptions()) throws -> Model {
        if options.from == nil, case .checkpoint(let encoding) = try detect(url) {
            return try Checkpoint.load(url, as: encoding)
        }
        return try importFile(url, options: options).model
    }
}
