import Foundation
import LSTMBinary
import LSTMHDF5
import LSTMErrors
import LSTMModel
import FileSignatures

/// The two physical encodings of the format.
public enum Encoding: String, Sendable, CaseIterable {
    /// The `.lstmw` binary container (spec/binary.md).
    case binary
    /// The HDF5 encoding (spec/hdf5.md).
    case hdf5

    /// The encoding a path's extension names: `.lstmw` → binary, `.h5`/`.hdf5` → HDF5.
    public init?(pathExtensionOf path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "lstmw": self = .binary
        case "h5", "hdf5": self = .hdf5
        default: return nil
        }
    }

    /// The encoding a file's first bytes announce, or `nil` when neither signature matches.
    public init?(sniffing prefix: Data) {
        switch FileSignature.sniff(prefix) {
        case .lstmw: self = .binary
        case .hdf5: self = .hdf5
        default: return nil
        }
    }

    /// The encoding of an existing file, judged by content (first 8 bytes), not by name.
    public static func of(fileAt url: URL) -> Encoding? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let prefix = try? handle.read(upToCount: 8) else { return nil }
        return Encoding(sniffing: prefix)
    }
}

/// A failure to find or choose an encoding for a checkpoint (the decoders throw their own errors).
public struct CheckpointError: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The file does not exist, is a folder or cannot be opened.
        public static let noSuchFile = Code(name: "no such file")
        /// The file starts with neither the `.lstmw` magic nor the HDF5 signature.
        public static let notACheckpoint = Code(name: "not an lstmconv checkpoint")
        /// An output path whose extension names no encoding.
        public static let unknownEncoding = Code(name: "unknown encoding")
        /// The header describes a model a load would refuse (``CheckpointHeader/findings``).
        public static let invalidModel = Code(name: "invalid model")
        public var description: String { name }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// The checkpoint file.
    public var file: String?
    /// What the file should start with, for ``Code/notACheckpoint``.
    public var expected: String?
    /// What the file starts with, for ``Code/notACheckpoint``.
    public var found: String?

    /// Creates an error with its code, message and the context that locates it.
    public init(_ code: Code, _ message: String = "", file: String? = nil, expected: String? = nil, found: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.expected = expected
        self.found = found
    }

    public static func == (lhs: CheckpointError, rhs: CheckpointError) -> Bool { lhs.code == rhs.code }
    public var codeName: String { code.description }
    public var location: String? { code == .notACheckpoint ? "offset 0" : nil }
    public var failureKind: FailureKind {
        switch code {
        case .noSuchFile: .noSuchFile
        case .unknownEncoding: .cannotWrite
        default: .badInput
        }
    }
}

/// Loading and saving checkpoints in either encoding.
///
/// ```swift
/// import Foundation
/// import LSTMConv
///
/// let model = try Checkpoint.load(URL(fileURLWithPath: "model.lstmw"))   // or .h5
/// let x = try NDArray<Float>(shape: [1, 5, model.layers[0].inputSize ?? 1],
///                            scalars: Array(repeating: 0.1, count: 5 * (model.layers[0].inputSize ?? 1)))
/// let y = try Engine.fast.run(model, input: .float32(x))
/// try Checkpoint.save(model, to: URL(fileURLWithPath: "model.h5"))      // the other encoding
/// ```
public enum Checkpoint {
    /// Reads and validates a checkpoint, choosing the decoder from the file's signature.
    /// Every tensor checksum is verified.
    /// - Parameters:
    ///   - url: the checkpoint file.
    ///   - encoding: the encoding when the caller already sniffed it; `nil` sniffs the file.
    public static func load(_ url: URL, as encoding: Encoding? = nil) throws -> Model {
        switch try encoding ?? self.encoding(of: url) {
        case .binary: return try BinaryFile.readModel(contentsOf: url)
        case .hdf5: return try HDF5Encoding.read(from: url)
        }
    }

    /// `encoding`, or the one `url`'s extension names (`.lstmw`, `.h5`, `.hdf5`); neither is an error.
    static func encoding(_ encoding: Encoding?, for url: URL) throws(CheckpointError) -> Encoding {
        guard let chosen = encoding ?? Encoding(pathExtensionOf: url.path) else {
            throw CheckpointError(
                .unknownEncoding, "cannot tell the encoding from the extension; use .lstmw, .h5 or .hdf5, or pass --encoding",
                file: url.path)
        }
        return chosen
    }

    /// Writes `model` atomically (temporary file, then rename).
    ///
    /// - Parameters:
    ///   - model: the model to write.
    ///   - url: the output file.
    ///   - encoding: `nil` chooses by `url`'s extension (`.lstmw`, `.h5`, `.hdf5`).
    ///   - compress: HDF5 only: chunked datasets with shuffle + deflate.
    ///   - overwrite: replace an existing file; otherwise an existing file is an error and stays untouched.
    public static func save(
        _ model: Model, to url: URL, encoding: Encoding? = nil, compress: Bool = false, overwrite: Bool = false
    ) throws {
        let chosen = try Checkpoint.encoding(encoding, for: url)
        switch chosen {
        case .binary: try BinaryWriter.write(model, to: url, overwrite: overwrite)
        case .hdf5: try HDF5Encoding.write(model, to: url, options: HDF5WriteOptions(compress: compress), overwrite: overwrite)
        }
    }

    /// The encoding of an existing checkpoint, by signature.
    /// - Parameter url: the checkpoint file.
    public static func encoding(of url: URL) throws(CheckpointError) -> Encoding {
        let prefix: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            prefix = try handle.read(upToCount: 8) ?? Data()
        } catch {
            throw CheckpointError(.noSuchFile, "cannot open the file for reading", file: url.path)
        }
        guard let encoding = Encoding(sniffing: prefix) else {
            throw CheckpointError(
                .notACheckpoint, "", file: url.path,
                expected: "the .lstmw magic \(FileSignature.hexPrefix(FileSignature.lstmwMagic)) or the HDF5 signature \(FileSignature.hexPrefix(FileSignature.hdf5Magic))",
                found: prefix.isEmpty ? "an empty file" : FileSignature.hexPrefix(prefix))
        }
        return encoding
    }

    /// Recomputes every tensor checksum of a checkpoint without building the model first.
    ///
    /// `.lstmw`: streamed — the header is read, then each tensor is checksummed with `pread` in 1 MiB pieces on
    /// every core (at most 4 threads); memory does not grow with the file. The model's semantics are then
    /// checked from the header. `.h5`: each dataset is read whole, one at a time.
    public static func verify(_ url: URL) throws -> ChecksumReport {
        switch try encoding(of: url) {
        case .binary:
            let report = try BinaryFile.verifyStreaming(url)
            return ChecksumReport(
                encoding: .binary,
                tensors: report.tensors.map { .init(path: $0.path, stored: $0.stored, computed: $0.computed) },
                problem: report.modelError.map { "\($0)" })
        case .hdf5:
            let report = try HDF5Encoding.verify(url)
            // Structure is checked only once the checksums agree; a mismatch is the finding then.
            var problem: String?
            if report.isValid {
                do { _ = try HDF5Encoding.read(from: url) } catch { problem = "\(error)" }
            }
            return ChecksumReport(
                encoding: .hdf5,
                tensors: report.tensors.map { .init(path: $0.path, stored: $0.storedChecksum, computed: $0.computedChecksum) },
                problem: problem)
        }
    }
}

/// The result of recomputing every checksum of a checkpoint.
public struct ChecksumReport: Sendable {
    /// One tensor's checksum check.
    public struct Entry: Sendable {
        /// The tensor's document path, e.g. `layer_0/forward/W_n`.
        public var path: String
        /// The CRC-32 the file stores.
        public var stored: UInt32
        /// The CRC-32 recomputed from the tensor's bytes.
        public var computed: UInt32
        /// Whether the stored and recomputed checksums agree.
        public var isValid: Bool { stored == computed }
    }

    /// The encoding of the verified file.
    public var encoding: Encoding
    /// Every tensor's check, in file order.
    public var tensors: [Entry]
    /// A structural problem found after the checksums (e.g. the model does not validate).
    public var problem: String?
    /// Whether every checksum agrees and no structural problem was found.
    public var isValid: Bool { problem == nil && tensors.allSatisfy(\.isValid) }
}

/// A checkpoint opened lazily: the header (`.lstmw`) or the tree and attributes (`.h5`) are checked, and each
/// tensor is read — and its checksum verified — only when asked for. Nothing else is loaded.
///
/// ```swift
/// let file = try Checkpoint.open(URL(fileURLWithPath: "model.lstmw"))
/// let forget = try file.tensor(named: "layer_0/forward/W_f")
/// ```
public struct CheckpointFile: Sendable {
    private enum Storage: Sendable {
        case binary(BinaryFile)
        case hdf5(HDF5TensorFile)
    }

    private let storage: Storage
    /// The encoding the file was opened as.
    public let encoding: Encoding

    fileprivate init(binary: BinaryFile) {
        storage = .binary(binary)
        encoding = .binary
    }

    fileprivate init(hdf5: HDF5TensorFile) {
        storage = .hdf5(hdf5)
        encoding = .hdf5
    }

    /// Every stored tensor's document path, in file order.
    public var tensorNames: [String] {
        switch storage {
        case .binary(let file): file.header.tensors.map(\.path)
        case .hdf5(let file): file.tensorNames
        }
    }

    /// One tensor, its checksum verified. For `.lstmw` the bytes are a view on the memory-mapped file.
    public func tensor(named path: String) throws -> Tensor {
        switch storage {
        case .binary(let file): try file.tensor(named: path)
        case .hdf5(let file): try file.tensor(named: path)
        }
    }
}

extension Checkpoint {
    /// Opens a checkpoint for reading single tensors (``CheckpointFile``): no model is built and no other tensor
    /// is read or checksummed.
    public static func open(_ url: URL) throws -> CheckpointFile {
        switch try encoding(of: url) {
        case .binary: CheckpointFile(binary: try BinaryFile(contentsOf: url))
        case .hdf5: CheckpointFile(hdf5: try HDF5Encoding.open(url))
        }
    }
}
