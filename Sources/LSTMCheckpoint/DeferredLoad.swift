import Foundation
import LSTMBinary
import LSTMHDF5
import LSTMModel

extension Checkpoint {
    /// The model of a checkpoint with every tensor deferred: the header is read and checked as by
    /// ``inspectHeader(_:)``, and each tensor is read (its CRC-32 checked) only when it is materialised, so that a
    /// streaming export holds the tensors it is writing, not the model. A header with findings is loaded whole by
    /// ``load(_:as:)`` instead, which reports the problem exactly as a load does.
    package static func loadDeferred(_ url: URL) throws -> Model {
        let header = try inspectHeader(url)
        guard header.findings.isEmpty, header.provenance != nil else { return try load(url, as: header.encoding) }
        let byPath = Dictionary(header.tensors.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let read: (String) throws -> Data
        switch header.encoding {
        case .binary:
            let reader = try BinaryTensorReader(url)
            let entries = Dictionary(reader.header.tensors.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            read = { path in
                guard let entry = entries[path] else { throw CheckpointError(.invalidModel, "no tensor \(path)", file: url.path) }
                return try reader.bytes(of: entry)
            }
        case .hdf5:
            let file = try HDF5Encoding.open(url)
            read = { path in try file.tensor(named: path).bytes }
        }
        return try Model(
            attributes: header.attributes,
            tensor: { path, shape in
                guard let info = byPath[path], let dtype = info.dtype else { return nil }
                return (try Tensor(deferring: dtype, shape: info.shape) { try read(path) }, info.source)
            },
            storedPaths: header.tensors.map(\.path))
    }
}
