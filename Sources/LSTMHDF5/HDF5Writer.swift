import AtomicFileIO
import Foundation
import HDF5Bridge
import LSTMModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Options of the HDF5 writer.
public struct HDF5WriteOptions: Sendable, Equatable {
    /// Store every dataset chunked (one chunk = the whole dataset), shuffled then deflated at level 6.
    public var compress: Bool

    /// Contiguous datasets, or with `compress` chunked datasets with shuffle + deflate.
    public init(compress: Bool = false) {
        self.compress = compress
    }
}

extension HDF5Encoding {
    /// Writes `model` as an HDF5 file (spec/hdf5.md).
    ///
    /// The output is deterministic (same model and options, same bytes). It is written to a temporary file
    /// in the target folder and renamed into place, so a failed write never leaves a partial file.
    ///
    /// - Parameters:
    ///   - model: the model to write.
    ///   - url: the output file.
    ///   - options: storage options (contiguous, or chunked with shuffle + deflate).
    ///   - overwrite: replace an existing file; without it an existing output is ``LSTMHDF5Error/Code/fileExists``.
    public static func write(
        _ model: Model, to url: URL, options: HDF5WriteOptions = HDF5WriteOptions(), overwrite: Bool = false
    ) throws(LSTMHDF5Error) {
        let path = url.path
        do throws(ModelError) {
            try model.validate()
        } catch {
            throw LSTMHDF5Error(error, file: path)
        }
        let stored = model.storedTensors
        try write(
            attributes: model.schemaAttributes,
            tensors: stored.map { StoredTensorEntry(slot: $0.slot, dtype: $0.tensor.dtype, shape: $0.tensor.shape, checksum: $0.tensor.checksum, source: $0.source) },
            to: url, options: options, overwrite: overwrite
        ) { (index: Int) throws(LSTMHDF5Error) in stored[index].tensor.bytes }
    }

    /// One dataset of a file being written, described before its bytes are at hand.
    package struct StoredTensorEntry: Sendable {
        package var slot: TensorSlot
        package var dtype: DType
        package var shape: [Int]
        /// CRC-32 of the bytes that will be written; `nil`: computed from them as they are written.
        package var checksum: UInt32?
        package var source: String?

        package init(slot: TensorSlot, dtype: DType, shape: [Int], checksum: UInt32?, source: String?) {
            self.slot = slot
            self.dtype = dtype
            self.shape = shape
            self.checksum = checksum
            self.source = source
        }
    }

    /// Writes the file of a model that is not in memory: `attributes` and the datasets `tensors` (canonical
    /// order), asking `bytes` for each tensor's bytes only when its dataset is written.
    package static func write(
        attributes: SchemaAttributes, tensors: [StoredTensorEntry], to url: URL, options: HDF5WriteOptions = HDF5WriteOptions(),
        overwrite: Bool = false, bytes: (Int) throws(LSTMHDF5Error) -> Data
    ) throws(LSTMHDF5Error) {
        let path = url.path
        try AtomicFile.write(to: url, overwrite: overwrite, mapError: { failure in
            LSTMHDF5Error(failure.kind == .exists ? .fileExists : .io, failure.message, file: path)
        }) { (temporary: String) throws(LSTMHDF5Error) in
            try writeFile(attributes: attributes, tensors: tensors, bytes: bytes, to: temporary, options: options, label: path)
        }
    }

    /// The human description stored in the root `about` attribute (ignored by readers).
    public static var aboutText: String {
        "lstmconv LSTM/GRU weights, format \(FormatVersion.major).\(FormatVersion.minor), schema \(FormatVersion.schemaVersion). "
            + "Root attributes: format, versions, layer_count, provenance. One group per layer (layer_<k>) with its "
            + "hyperparameters as attributes; recurrent layers hold one group per direction (forward, backward). "
            + "Datasets are named by the document tensors (W_n, W_i, W_f, W_u, W_v, b_*, bh_*, P_*, W_p; GRU W_z, W_r, W_c; "
            + "W_e, W_d, b_d); every gate matrix acts on [STM_{t-1}, E_t]. Each dataset has attributes dtype, "
            + "crc32 (CRC-32 of its little-endian bytes) and source."
    }

    /// Writes the temporary file `path`; errors name the target `label` (the temporary name means nothing to a
    /// user) and, the model being valid, are failures to create the output (``LSTMHDF5Error/Code/io``: disk full,
    /// file-size limit, permissions).
    private static func writeFile(
        attributes: SchemaAttributes, tensors: [StoredTensorEntry], bytes: (Int) throws(LSTMHDF5Error) -> Data, to path: String,
        options: HDF5WriteOptions, label: String
    ) throws(LSTMHDF5Error) {
        // A failure of `bytes` (reading the source) ends the write and is rethrown as it was.
        var sourceFailure: LSTMHDF5Error?
        let provider = { (index: Int) throws(HDF5Error) -> Data in
            do throws(LSTMHDF5Error) {
                return try bytes(index)
            } catch {
                sourceFailure = error
                throw HDF5Error(.invalidArgument, "the source of tensor \(index) failed")
            }
        }
        do throws(HDF5Error) {
            let file = try HDF5File.create(path)
            do throws(HDF5Error) {
                try populate(file, attributes: attributes, tensors: tensors, bytes: provider, options: options)
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
        } catch {
            if let sourceFailure { throw sourceFailure }
            var failure = LSTMHDF5Error(error, file: label)
            if failure.code != .fileExists { failure.code = .io }
            failure.message = "cannot write the output: " + failure.message.replacingOccurrences(of: path, with: label)
            throw failure
        }
    }

    private static func populate(
        _ file: HDF5File, attributes: SchemaAttributes, tensors: [StoredTensorEntry], bytes: (Int) throws(HDF5Error) -> Data,
        options: HDF5WriteOptions
    ) throws(HDF5Error) {
        let root = try file.root()
        try root.attributes.write("about", .string(aboutText))
        for (key, value) in attributes.root {
            try root.attributes.write(key, stored(value))
        }
        let layout: HDF5DatasetLayout = options.compress ? .chunked(chunk: nil, shuffle: true, deflateLevel: 6) : .contiguous
        var groups: [String: HDF5Group] = [:]
        for (index, layerAttributes) in attributes.layers.enumerated() {
            let group = try root.createGroup("layer_\(index)")
            for (key, value) in layerAttributes {
                try group.attributes.write(key, stored(value))
            }
            groups[TensorSlot.groupPath(layer: index, direction: nil)] = group
        }
        for (index, tensor) in tensors.enumerated() {
            let slot = tensor.slot
            let groupPath = TensorSlot.groupPath(layer: slot.layer, direction: slot.direction)
            let group: HDF5Group
            if let existing = groups[groupPath] {
                group = existing
            } else {
                guard let parent = groups[TensorSlot.groupPath(layer: slot.layer, direction: nil)], let direction = slot.direction else {
                    throw HDF5Error(.invalidArgument, "no group for \(slot.path)")
                }
                group = try parent.createGroup(direction.rawValue)
                groups[groupPath] = group
            }
            let data = try bytes(index)
            let dataset = try group.createDataset(
                slot.role.rawValue, format: tensor.dtype.hdf5Format, shape: tensor.shape,
                littleEndianBytes: data, layout: layout)
            try dataset.attributes.write("dtype", .string(tensor.dtype.rawValue))
            try dataset.attributes.write("crc32", .uint32(tensor.checksum ?? Checksum.crc32(of: data)))
            try dataset.attributes.write("source", .string(tensor.source ?? ""))
            WorkProgress.advance(data.count)
        }
    }

    private static func stored(_ value: MetaValue) -> HDF5AttributeValue {
        switch value {
        case .int(let number): .int64(number)
        case .double(let number): .float64(number)
        case .bool(let flag): .uint8(flag ? 1 : 0)
        case .string(let text): .string(text)
        }
    }
}

extension DType {
    /// The HDF5 float format a tensor of this dtype is stored as.
    var hdf5Format: HDF5FloatFormat {
        switch self {
        case .f16: .f16
        case .bf16: .bf16
        case .f32: .f32
        case .f64: .f64
        }
    }
}
