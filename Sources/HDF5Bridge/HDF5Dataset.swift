import CHDF5
import Foundation

/// How a dataset's data is stored, as its creation property list says.
package struct HDF5StorageInfo: Sendable, Equatable {
    package enum Layout: String, Sendable {
        case compact, contiguous, chunked, virtual, unknown
    }

    /// A filter in a chunked dataset's pipeline.
    package struct Filter: Sendable, Equatable {
        /// The registered filter id (1 deflate, 2 shuffle, 3 Fletcher-32, 4 szip, …).
        package var id: Int
        /// Whether this libhdf5 can apply the filter.
        package var isAvailable: Bool

        package var name: String {
            switch id {
            case 1: "deflate"
            case 2: "shuffle"
            case 3: "fletcher32"
            case 4: "szip"
            case 5: "nbit"
            case 6: "scaleoffset"
            default: "filter \(id)"
            }
        }
    }

    package var layout: Layout
    /// Chunk dimensions, for a chunked layout.
    package var chunkShape: [Int]?
    package var filters: [Filter]
    /// Number of external raw-data files (`H5Pset_external`); non-zero means the data leaves the file.
    package var externalFileCount: Int
    /// Bytes allocated in the file for the data (`H5Dget_storage_size`; compressed size when filtered).
    package var storedByteCount: Int
}

/// An open HDF5 dataset. Its shape and datatype are read once, when it is opened.
package final class HDF5Dataset {
    package let file: HDF5File
    /// The dataset's path in the file, e.g. `/layer_0/forward/W_n`.
    package let path: String
    /// The dataspace dimensions (empty for a scalar).
    package let shape: [Int]
    /// The stored datatype.
    package let datatype: HDF5Datatype
    let id: H5ID
    private let type: H5ID

    init(file: HDF5File, id: H5ID, path: String) throws(HDF5Error) {
        self.file = file
        self.id = id
        self.path = path
        file.register(id)
        let context = H5Context(file: file.path, object: path)
        let space = try H5.open("H5Dget_space", context, close: H5Sclose) { H5Dget_space(id.raw) }
        self.shape = try HDF5Dataspace.shape(space, context)
        self.type = try H5.open("H5Dget_type", context, close: H5Tclose) { H5Dget_type(id.raw) }
        self.datatype = try HDF5Datatype.describe(type, context)
    }

    var context: H5Context { H5Context(file: file.path, object: path) }

    /// The dataset's attributes.
    package var attributes: HDF5Attributes {
        HDF5Attributes(owner: id, kind: .dataset, file: file, objectPath: path)
    }

    /// Number of elements (product of ``shape``).
    package var elementCount: Int { HDF5Limits.elementCount(shape) ?? 0 }

    /// The storage layout, filters, external files and allocated size.
    package func storage() throws(HDF5Error) -> HDF5StorageInfo {
        let dcpl = try H5.open("H5Dget_create_plist", context, close: H5Pclose) { H5Dget_create_plist(id.raw) }
        let layoutValue = try H5.call("H5Pget_layout", context) { Int(H5Pget_layout(dcpl.raw).rawValue) }
        let layout: HDF5StorageInfo.Layout =
            switch Int32(layoutValue) {
            case H5D_COMPACT.rawValue: .compact
            case H5D_CONTIGUOUS.rawValue: .contiguous
            case H5D_CHUNKED.rawValue: .chunked
            case H5D_VIRTUAL.rawValue: .virtual
            default: .unknown
            }
        var chunkShape: [Int]?
        var filters: [HDF5StorageInfo.Filter] = []
        if layout == .chunked {
            var dims = [hsize_t](repeating: 0, count: 32)
            let rank = try H5.call("H5Pget_chunk", context) { H5Pget_chunk(dcpl.raw, Int32(dims.count), &dims) }
            chunkShape = dims.prefix(Int(rank)).map { Int(clamping: $0) }
            let count = try H5.call("H5Pget_nfilters", context) { H5Pget_nfilters(dcpl.raw) }
            for index in 0..<UInt32(count) {
                let filter = try H5.call("H5Pget_filter2", context) { chdf5_filter(dcpl.raw, index) }
                let available = try H5.call("H5Zfilter_avail", context) { H5Zfilter_avail(filter) }
                filters.append(.init(id: Int(filter), isAvailable: available > 0))
            }
        }
        let external = try H5.call("H5Pget_external_count", context) { H5Pget_external_count(dcpl.raw) }
        let stored = H5.unchecked(file: context.file) { H5Dget_storage_size(id.raw) }
        return HDF5StorageInfo(
            layout: layout, chunkShape: chunkShape, filters: filters, externalFileCount: Int(external),
            storedByteCount: Int(clamping: stored))
    }

    /// Checks that the data can be read from this file alone and that its stored size fits the shape:
    /// no external raw-data files, not virtual, every filter available, and storage that holds the data
    /// (exactly the raw size when contiguous or compact; at least the raw size when chunked without
    /// compression, so no chunk is missing; at most 1032 : 1 for deflate or szip).
    package func checkReadable(elementSize: Int) throws(HDF5Error) {
        let info = try storage()
        if info.externalFileCount > 0 {
            throw context.error(.externalStorage, "the raw data lives in \(info.externalFileCount) external file(s)")
        }
        if info.layout == .virtual {
            throw context.error(.virtualDataset, "virtual datasets map data from other datasets or files")
        }
        if info.layout == .unknown {
            throw context.error(.wrongType, "unknown storage layout")
        }
        if let missing = info.filters.first(where: { !$0.isAvailable }) {
            throw context.error(.unavailableFilter, "the data needs the \(missing.name) filter, which this libhdf5 lacks")
        }
        guard let count = HDF5Limits.elementCount(shape), count <= HDF5Limits.maxElements else {
            throw context.error(.wrongShape, "shape \(shape) is too large")
        }
        let (raw, overflow) = count.multipliedReportingOverflow(by: elementSize)
        guard !overflow else { throw context.error(.wrongShape, "shape \(shape) is too large") }
        if raw == 0 { return }
        if info.storedByteCount == 0 {
            throw context.error(.missingData, "no data was ever written (shape \(shape))")
        }
        let compressed = info.filters.contains { $0.id == 1 || $0.id == 4 }
        if info.layout == .chunked, compressed {
            guard raw / 1032 <= info.storedByteCount else {
                throw context.error(.missingData, "\(info.storedByteCount) stored bytes cannot expand to \(raw)")
            }
        } else if info.layout == .chunked {
            guard info.storedByteCount >= raw else {
                throw context.error(.missingData, "\(info.storedByteCount) stored bytes in chunks for \(raw) bytes of data")
            }
        } else {
            guard info.storedByteCount == raw else {
                throw context.error(.missingData, "\(info.storedByteCount) stored bytes for \(raw) bytes of data")
            }
        }
    }

    /// Reads any float dataset as `Float`, converting (f16, bf16, f64, either byte order).
    ///
    /// - Throws: ``HDF5Error/Code/wrongType`` for integers, strings, compound and variable-length types.
    package func readFloats() throws(HDF5Error) -> [Float] {
        try checkFloat()
        try checkReadable(elementSize: datatype.size)
        return try read(count: elementCount, memoryType: chdf5_native_float(), as: Float.self)
    }

    /// Reads any float dataset as `Double`, converting (exact for every IEEE format up to f64).
    package func readDoubles() throws(HDF5Error) -> [Double] {
        try checkFloat()
        try checkReadable(elementSize: datatype.size)
        return try read(count: elementCount, memoryType: chdf5_native_double(), as: Double.self)
    }

    /// Reads the data as little-endian bytes of `format`, which must be the stored format (in either byte
    /// order: big-endian data is byte-swapped by libhdf5).
    package func readLittleEndianBytes(as format: HDF5FloatFormat) throws(HDF5Error) -> Data {
        try checkFloat()
        guard datatype.floatFormat == format else {
            throw context.error(.wrongType, "expected IEEE \(format.rawValue), found \(datatype)")
        }
        try checkReadable(elementSize: format.byteWidth)
        let memoryType = try format.makeType(context)
        return try readData(byteCount: elementCount * format.byteWidth, memoryType: memoryType.raw)
    }

    /// The whole dataset read by libhdf5 straight into one buffer that becomes the `Data` (no intermediate
    /// array, no second copy). A buffer of 1 MiB or more is its own anonymous mapping, unmapped when freed: glibc
    /// would otherwise serve tensor-sized buffers from a heap that freed ones fragment (LSTMModel's `LargeBuffer`).
    /// `memorySpace`/`fileSpace` select a part (a hyperslab); the default is the whole dataset.
    func readData(
        byteCount: Int, memoryType: hid_t, memorySpace: hid_t = chdf5_space_all(), fileSpace: hid_t = chdf5_space_all()
    ) throws(HDF5Error) -> Data {
        guard byteCount > 0 else { return Data() }
        let buffer: UnsafeMutableRawPointer
        let release: @Sendable (UnsafeMutableRawPointer, Int) -> Void
        if byteCount >= 1 << 20, let pages = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            pages != MAP_FAILED
        {
            buffer = pages
            release = { pointer, count in munmap(pointer, count) }
        } else {
            buffer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
            release = { pointer, _ in pointer.deallocate() }
        }
        do throws(HDF5Error) {
            try H5.call("H5Dread", context) {
                H5Dread(id.raw, memoryType, memorySpace, fileSpace, chdf5_default(), buffer)
            }
        } catch {
            release(buffer, byteCount)
            throw error
        }
        return Data(bytesNoCopy: buffer, count: byteCount, deallocator: .custom(release))
    }

    private func checkFloat() throws(HDF5Error) {
        guard datatype.typeClass == .float else {
            throw context.error(.wrongType, "expected floating-point data, found \(datatype)")
        }
        guard datatype.byteOrder == .littleEndian || datatype.byteOrder == .bigEndian else {
            throw context.error(.wrongType, "unsupported byte order in \(datatype)")
        }
    }

    private func read<T>(count: Int, memoryType: hid_t, as _: T.Type) throws(HDF5Error) -> [T] where T: BitwiseCopyable {
        var failure: HDF5Error?
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(HDF5Error) {
                if count > 0 {
                    try H5.call("H5Dread", context) {
                        H5Dread(id.raw, memoryType, chdf5_space_all(), chdf5_space_all(), chdf5_default(), buffer.baseAddress)
                    }
                }
                initialized = count
            } catch {
                // Memory libhdf5 may have partly written is discarded: zero it so the array is valid.
                UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
                initialized = count
                failure = error
            }
        }
        if let failure { throw failure }
        return values
    }
}

/// Dataspace helpers.
enum HDF5Dataspace {
    static func create(_ shape: [Int], _ context: H5Context) throws(HDF5Error) -> H5ID {
        if shape.isEmpty {
            return try H5.open("H5Screate", context, close: H5Sclose) { H5Screate(H5S_SCALAR) }
        }
        guard shape.count <= 32, shape.allSatisfy({ $0 >= 0 }) else {
            throw context.error(.wrongShape, "shape \(shape) cannot be stored")
        }
        let dims = shape.map { hsize_t($0) }
        return try H5.open("H5Screate_simple", context, close: H5Sclose) { H5Screate_simple(Int32(dims.count), dims, nil) }
    }

    /// The dimensions of a dataspace (empty for scalar). A null dataspace (no value at all) is refused.
    static func shape(_ space: H5ID, _ context: H5Context) throws(HDF5Error) -> [Int] {
        let kind = try H5.call("H5Sget_simple_extent_type", context) { Int(H5Sget_simple_extent_type(space.raw).rawValue) }
        switch Int32(kind) {
        case H5S_SCALAR.rawValue: return []
        case H5S_SIMPLE.rawValue: break
        default: throw context.error(.wrongShape, "the dataspace is null (holds no value)")
        }
        let rank = try H5.call("H5Sget_simple_extent_ndims", context) { H5Sget_simple_extent_ndims(space.raw) }
        guard rank <= 32 else { throw context.error(.wrongShape, "rank \(rank)") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        try H5.call("H5Sget_simple_extent_dims", context) { H5Sget_simple_extent_dims(space.raw, &dims, nil) }
        var shape: [Int] = []
        for dim in dims {
            guard let value = Int(exactly: dim) else { throw context.error(.wrongShape, "dimension \(dim) is too large") }
            shape.append(value)
        }
        guard let count = HDF5Limits.elementCount(shape), count <= HDF5Limits.maxElements else {
            throw context.error(.wrongShape, "shape \(shape) is too large")
        }
        return shape
    }
}
