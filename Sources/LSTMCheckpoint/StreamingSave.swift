import Foundation
import LSTMBinary
import LSTMHDF5
import LSTMModel

extension Checkpoint {
    /// Writes `model` like ``save(_:to:encoding:compress:overwrite:)``, reading each deferred tensor (a streaming
    /// import's: described first, read from the source when due) only when the writer reaches it and dropping it
    /// once written, so memory holds about one tensor and the source tensors it is cut from, not the model.
    /// Checksums are computed from the bytes as they are written (`.lstmw`: the header is written again at the end
    /// with them). The output is byte for byte what `save` writes for the same model in memory.
    ///
    /// A source failure mid-way ends the write with that error (as thrown by the reader) and no output.
    package static func saveStreaming(
        _ model: Model, to url: URL, encoding: Encoding? = nil, compress: Bool = false, overwrite: Bool = false
    ) throws {
        let chosen = try Checkpoint.encoding(encoding, for: url)
        do {
            try model.validate()
        } catch {
            switch chosen {
            case .binary: throw BinaryFormatError(model: error, file: url.path)
            case .hdf5: throw LSTMHDF5Error(error, file: url.path)
            }
        }
        let stored = model.storedTensors
        var failure: (any Error)?
        func bytes(_ index: Int) -> Result<Data, any Error> {
            do {
                return .success(try stored[index].tensor.materialized().bytes)
            } catch {
                failure = error
                return .failure(error)
            }
        }
        do {
            switch chosen {
            case .binary:
                let plans = stored.map { entry in
                    StoredTensorPlan(
                        path: entry.slot.path, dtype: entry.tensor.dtype, shape: entry.tensor.shape, byteCount: entry.tensor.bytes.count,
                        checksum: 0, source: entry.source)
                }
                try BinaryWriter.write(attributes: model.schemaAttributes, unchecksummed: plans, to: url, overwrite: overwrite) {
                    (index: Int) throws(BinaryFormatError) -> Data in
                    switch bytes(index) {
                    case .success(let data): return data
                    case .failure(let error): throw BinaryFormatError(.cannotRead, "\(error)", file: url.path)
                    }
                }
            case .hdf5:
                let entries = stored.map { entry in
                    HDF5Encoding.StoredTensorEntry(
                        slot: entry.slot, dtype: entry.tensor.dtype, shape: entry.tensor.shape, checksum: nil, source: entry.source)
                }
                try HDF5Encoding.write(
                    attributes: model.schemaAttributes, tensors: entries, to: url, options: HDF5WriteOptions(compress: compress),
                    overwrite: overwrite
                ) { (index: Int) throws(LSTMHDF5Error) -> Data in
                    switch bytes(index) {
                    case .success(let data): return data
                    case .failure(let error): throw LSTMHDF5Error(.io, "\(error)", file: url.path)
                    }
                }
            }
        } catch {
            throw failure ?? error
        }
    }
}
