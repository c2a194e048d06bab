import Foundation
import LSTMBinary
import LSTMHDF5
import LSTMModel

/// What a checkpoint says about itself without any tensor data: the format version, the layers'
/// hyperparameters, the provenance and the tensor directory, plus every semantic problem as a finding.
///
/// `.lstmw`: only the preamble and header are read (at most 32 + `header_length` + 63 bytes). `.h5`: the tree,
/// the attributes and each dataset's shape and storage are read through libhdf5, never a dataset's data. No
/// model is built and no checksum is recomputed (``Checkpoint/verify(_:)`` does that).
///
/// ```swift
/// let header = try Checkpoint.inspectHeader(URL(fileURLWithPath: "model.lstmw"))
/// for tensor in header.tensors { print(tensor.path, tensor.shape) }
/// if !header.findings.isEmpty { print("would not load:", header.findings[0]) }
/// ```
public struct CheckpointHeader: Sendable {
    /// One stored tensor as the header describes it.
    public struct TensorInfo: Sendable, Equatable {
        /// The document path, e.g. `layer_0/forward/W_n`.
        public var path: String
        /// The stored element type (`nil` when an `.h5` dataset lacks a known `dtype` attribute).
        public var dtype: DType?
        /// The stored shape.
        public var shape: [Int]
        /// The CRC-32 the file records (`nil` when an `.h5` dataset lacks its `crc32` attribute).
        public var checksum: UInt32?
        /// The source tensor name (provenance), `nil` when empty.
        public var source: String?
        /// Bytes the data occupies in the file.
        public var storedByteCount: Int
    }

    /// The file the header was read from.
    public var file: String
    /// The encoding, by signature.
    public var encoding: Encoding
    /// The file's size in bytes.
    public var fileSize: Int
    /// The container version: the preamble's (`.lstmw`) or the `format_major`/`format_minor` attributes (`.h5`).
    public var formatVersion: String
    /// The layers' hyperparameters (no tensors); empty when the attributes do not describe a model.
    public var layers: [Layer]
    /// The provenance, when the attributes carry it.
    public var provenance: Provenance?
    /// Every stored tensor, in file order.
    public var tensors: [TensorInfo]
    /// Everything that would make ``Checkpoint/load(_:as:)`` refuse the file, one line each; empty when the
    /// header describes a valid model (the tensor data itself is not checked here).
    public var findings: [String]
    /// The root and layer attributes as stored.
    package var attributes: SchemaAttributes

    /// Whether the header describes a model a load would accept (checksums aside).
    public var isValid: Bool { findings.isEmpty }
}

extension Checkpoint {
    /// Reads only the header of a checkpoint (``CheckpointHeader``): no tensor data, no model.
    ///
    /// Framing damage that leaves nothing to show (bad magic, header checksum, truncated header, an HDF5 tree
    /// with soft links) is thrown as the readers' error; semantic problems are reported as findings.
    public static func inspectHeader(_ url: URL) throws -> CheckpointHeader {
        let path = url.path
        switch try encoding(of: url) {
        case .binary:
            let header = try BinaryHeader.read(path: path)
            let outline = header.outline(file: path)
            let layerCount = outline.layers.count
            return CheckpointHeader(
                file: path, encoding: .binary, fileSize: header.fileSize, formatVersion: "\(header.major).\(header.minor)",
                layers: outline.layers, provenance: outline.provenance,
                tensors: header.tensors.map {
                    CheckpointHeader.TensorInfo(
                        path: $0.path, dtype: $0.dtype, shape: $0.shape, checksum: $0.checksum, source: $0.source,
                        storedByteCount: $0.byteCount)
                },
                findings: outline.findings,
                attributes: SchemaAttributes(flattened: header.metadata, layerCount: max(layerCount, header.layerGroupCount)))
        case .hdf5:
            let summary = try HDF5Encoding.inspect(url)
            var outline = ModelOutline(
                attributes: summary.attributes,
                stored: summary.tensors.map { ModelOutline.StoredTensor(path: $0.path, shape: $0.shape, dtype: $0.dtype) },
                canonicalOrder: false)
            for tensor in summary.tensors where tensor.dtype == nil || tensor.storedChecksum == nil {
                outline.findings.append("\(tensor.path): every dataset carries a known dtype and a crc32 attribute")
            }
            func int(_ key: String) -> String {
                if case .int(let value)? = summary.attributes.root.first(where: { $0.key == key })?.value { return "\(value)" }
                return "?"
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            return CheckpointHeader(
                file: path, encoding: .hdf5, fileSize: size, formatVersion: "\(int(RootKey.formatMajor)).\(int(RootKey.formatMinor))",
                layers: outline.layers, provenance: outline.provenance,
                tensors: summary.tensors.map {
                    CheckpointHeader.TensorInfo(
                        path: $0.path, dtype: $0.dtype, shape: $0.shape, checksum: $0.storedChecksum, source: $0.source,
                        storedByteCount: $0.storedByteCount)
                },
                findings: outline.findings, attributes: summary.attributes)
        }
    }
}
