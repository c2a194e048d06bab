import Foundation
import LSTMLayouts
import LSTMModel

/// A tensor read from a PyTorch file, before any mapping.
public enum StateTensor: Sendable, Equatable {
    /// A floating-point tensor lstmconv can store (f32, f16, bf16, f64), bytes exactly as in the file.
    case tensor(Tensor)
    /// A tensor of another element type (int64 counters, bool masks, float8, …): kept by name so it can be
    /// listed as ignored, refused with `unsupportedDType` if the mapping needs it.
    case unsupported(dtype: String, shape: [Int])
    /// A value that is not a tensor (an epoch number, a string, an optimizer setting).
    case notATensor(String)

    /// The tensor's shape, `nil` for non-tensors.
    public var shape: [Int]? {
        switch self {
        case .tensor(let tensor): tensor.shape
        case .unsupported(_, let shape): shape
        case .notATensor: nil
        }
    }
}

/// The flat key → tensor dictionary of a PyTorch file, in file order.
///
/// Nested dictionaries (a checkpoint such as `{"model": state_dict, "epoch": 3}`) are flattened with `.`,
/// so `model.lstm.weight_ih_l0` groups under module `model.lstm` like any other prefix.
public struct StateDict: Sendable {
    /// Which reader produced it.
    public enum Format: String, Sendable {
        case safetensors
        /// `torch.save` zip archive (PyTorch ≥ 1.6).
        case torchZip = "torch zip"
        /// `torch.save(..., _use_new_zipfile_serialization=False)` / PyTorch < 1.6.
        case torchLegacy = "torch legacy"
        /// A bare pickle of a dict (no tensor storages possible).
        case pickle = "bare pickle"
    }

    /// The container the state dict was read from.
    public let format: Format
    /// Keys and values in file order (safetensors: in data-offset order). Keys are unique.
    public let entries: [(key: String, value: StateTensor)]
    /// safetensors `__metadata__`; for torch archives `byteorder` and the archive `version`.
    public let metadata: [String: String]
    private let positions: [String: Int]

    /// Wraps entries; for a repeated key the first entry wins (the readers refuse repeated keys).
    public init(format: Format, entries: [(key: String, value: StateTensor)], metadata: [String: String] = [:]) {
        self.format = format
        self.entries = entries
        self.metadata = metadata
        var positions: [String: Int] = [:]
        for (index, entry) in entries.enumerated() where positions[entry.key] == nil {
            positions[entry.key] = index
        }
        self.positions = positions
    }

    /// The value stored under `key`.
    public subscript(key: String) -> StateTensor? {
        positions[key].map { entries[$0].value }
    }

    /// The floating-point tensor stored under `key`, or `nil` if there is none.
    public func tensor(_ key: String) -> Tensor? {
        if case .tensor(let tensor) = self[key] { return tensor }
        return nil
    }
}

/// Size limits applied while reading untrusted files.
public struct PyTorchReadLimits: Sendable {
    /// Largest safetensors JSON header (the reference implementation's cap: 100 MB).
    public var maxHeaderBytes: Int
    /// Largest single zip entry (declared or actually produced) and largest materialised tensor.
    public var maxEntryBytes: Int
    /// Largest sum of every zip entry read.
    public var maxTotalBytes: Int
    /// Largest `data.pkl`.
    public var maxPickleBytes: Int
    /// Largest ratio of uncompressed to compressed size of a deflated entry over 1 MiB.
    /// PyTorch stores entries uncompressed; a high ratio is a zip bomb.
    public var maxCompressionRatio: Int

    /// A state dict from its entries and container.
    public init(
        maxHeaderBytes: Int = 100_000_000, maxEntryBytes: Int = 4 << 30, maxTotalBytes: Int = 16 << 30,
        maxPickleBytes: Int = 256 << 20, maxCompressionRatio: Int = 200
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxEntryBytes = maxEntryBytes
        self.maxTotalBytes = maxTotalBytes
        self.maxPickleBytes = maxPickleBytes
        self.maxCompressionRatio = maxCompressionRatio
    }
}
