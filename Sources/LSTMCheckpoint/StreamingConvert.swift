import Foundation
import LSTMBinary
import LSTMHDF5
import LSTMModel

extension Checkpoint {
    /// Re-encodes a checkpoint (either encoding) as `encoding`, optionally storing every tensor as `dtype`,
    /// streaming: the source's header is read and checked, then one tensor at a time is read (its CRC-32
    /// checked), converted if asked and written to the temporary output, and dropped. Peak memory grows with
    /// the largest tensor, not the model. The output is byte for byte what `save(load(input))` writes.
    ///
    /// A source whose header shows a problem is refused with the error ``load(_:as:)`` gives; a tensor that
    /// fails its checksum mid-way ends the conversion with no output left behind.
    /// - Returns: the number of tensors written.
    @discardableResult
    public static func convert(
        _ input: URL, to output: URL, encoding: Encoding? = nil, dtype: DType? = nil, compress: Bool = false, overwrite: Bool = false
    ) throws -> Int {
        let chosen = try Checkpoint.encoding(encoding, for: output)
        let header = try inspectHeader(input)
        guard header.findings.isEmpty, let provenance = header.provenance else {
            // The loader names the problem exactly as `load` reports it.
            var model = try load(input, as: header.encoding)
            if let dtype { model = model.converted(to: dtype) }
            try save(model, to: output, encoding: chosen, compress: compress, overwrite: overwrite)
            return model.storedTensors.count
        }
        let outline = Model(layers: header.layers, provenance: provenance)
        let byPath = Dictionary(header.tensors.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let slots = outline.expectedSlots

        // The source, one tensor at a time (checksum verified), as the dtype it is stored in.
        let read: (String) throws -> Tensor
        switch header.encoding {
        case .binary:
            let reader = try BinaryTensorReader(input)
            let entries = Dictionary(reader.header.tensors.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            read = { path in
                guard let entry = entries[path] else { throw CheckpointError(.invalidModel, "no tensor \(path)", file: input.path) }
                return try Tensor(dtype: entry.dtype, shape: entry.shape, bytes: try reader.bytes(of: entry))
            }
        case .hdf5:
            let file = try HDF5Encoding.open(input)
            read = { path in try file.tensor(named: path) }
        }
        func produce(_ index: Int) throws -> Tensor {
            let tensor = try read(slots[index].path)
            guard let dtype, dtype != tensor.dtype else { return tensor }
            return tensor.converted(to: dtype)
        }

        // Checksums of the written bytes: the source's when the bytes are copied, else one conversion pass first.
        var checksums: [UInt32] = []
        for (index, slot) in slots.enumerated() {
            guard let info = byPath[slot.path], let stored = info.checksum, let storedType = info.dtype else {
                throw CheckpointError(.invalidModel, "the header lacks \(slot.path)", file: input.path)
            }
            if let dtype, dtype != storedType {
                checksums.append(try produce(index).checksum)
            } else {
                checksums.append(stored)
            }
        }
        let attributes = outline.schemaAttributes
        switch chosen {
        case .binary:
            let plans = slots.enumerated().map { index, slot in
                let info = byPath[slot.path]
                let type = dtype ?? info?.dtype ?? .f32
                let count = (Tensor.elementCount(of: slot.shape) ?? 0) * type.byteWidth
                return StoredTensorPlan(
                    path: slot.path, dtype: type, shape: slot.shape, byteCount: count, checksum: checksums[index], source: info?.source)
            }
            var failure: (any Error)?
            do {
                try BinaryWriter.write(attributes: attributes, tensors: plans, to: output, overwrite: overwrite) {
                    (index: Int) throws(BinaryFormatError) -> Data in
                    do {
                        return try produce(index).bytes
                    } catch let error as BinaryFormatError {
                        throw error
                    } catch {
                        failure = error
                        throw BinaryFormatError(.cannotRead, "\(error)", file: input.path)
                    }
                }
            } catch {
                throw failure ?? error
            }
        case .hdf5:
            let entries = slots.enumerated().map { index, slot in
                HDF5Encoding.StoredTensorEntry(
                    slot: slot, dtype: dtype ?? byPath[slot.path]?.dtype ?? .f32, shape: slot.shape, checksum: checksums[index],
                    source: byPath[slot.path]?.source)
            }
            var failure: (any Error)?
            do {
                try HDF5Encoding.write(
                    attributes: attributes, tensors: entries, to: output, options: HDF5WriteOptions(compress: compress), overwrite: overwrite
                ) { (index: Int) throws(LSTMHDF5Error) -> Data in
                    do {
                        return try produce(index).bytes
                    } catch let error as LSTMHDF5Error {
                        throw error
                    } catch {
                        failure = error
                        throw LSTMHDF5Error(.io, "\(error)", file: input.path)
                    }
                }
            } catch {
                throw failure ?? error
            }
        }
        return slots.count
    }
}
