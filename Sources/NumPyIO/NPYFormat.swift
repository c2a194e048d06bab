import AtomicFileIO
import Foundation
import FileSignatures

// The `.npy` format (NumPy NEP 1): magic `\x93NUMPY`, version, header length (u16 LE for 1.0, u32 LE for 2.0
// and 3.0), a Python-literal header padded with spaces to a multiple of 64 bytes and ended by `\n`, then data.

extension NumPyArray {
    /// The longest header this reader accepts (NumPy's own default limit is 10 000 bytes).
    public static let maximumHeaderLength = 1 << 20

    /// Decodes a `.npy` file's bytes.
    public init(npyData data: Data) throws(NumPyError) {
        let bytes = [UInt8](data)
        let (header, headerStart, dataStart) = try Self.header(in: bytes)
        guard let count = NumPyArray.elementCount(of: header.shape) else {
            throw NumPyError(.badHeader, "shape \(header.shape) has a negative or overflowing dimension", offset: headerStart)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: header.dtype.byteWidth)
        let available = bytes.count - dataStart
        guard !overflow, byteCount <= available else {
            throw NumPyError(
                .truncated,
                "shape \(header.shape) of \(header.dtype.rawValue) needs \(overflow ? "too many" : String(byteCount)) bytes, the file has \(available)",
                offset: dataStart)
        }
        let payload = bytes[dataStart..<(dataStart + byteCount)]
        let storage: Storage
        switch header.dtype {
        case .float32: storage = .float32(ElementCoding.decode(payload, as: Float.self, word: UInt32.self, header.byteOrder))
        case .float64: storage = .float64(ElementCoding.decode(payload, as: Double.self, word: UInt64.self, header.byteOrder))
        case .int32: storage = .int32(ElementCoding.decode(payload, as: Int32.self, word: UInt32.self, header.byteOrder))
        case .int64: storage = .int64(ElementCoding.decode(payload, as: Int64.self, word: UInt64.self, header.byteOrder))
        }
        try self.init(shape: header.shape, storage: storage)
    }

    /// The header of a `.npy` file whose first bytes are `bytes` (at least the whole header), where its text
    /// starts and where the data starts.
    static func header(in bytes: [UInt8]) throws(NumPyError) -> (header: NPYHeader, headerStart: Int, dataStart: Int) {
        let magic = FileSignature.npyMagic
        guard bytes.count >= 8, Array(bytes[0..<6]) == magic else {
            throw NumPyError(.badMagic, "expected the magic string \\x93NUMPY", offset: 0)
        }
        let major = bytes[6], minor = bytes[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default: throw NumPyError(.unsupportedVersion, "version \(major).\(minor); supported are 1.0, 2.0 and 3.0", offset: 6)
        }
        guard bytes.count >= 8 + lengthBytes else {
            throw NumPyError(.truncated, "the file ends inside the header length", offset: 8)
        }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(bytes[8 + k]) << (8 * k) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= Self.maximumHeaderLength else {
            throw NumPyError(.badHeader, "header length \(headerLength) exceeds \(Self.maximumHeaderLength)", offset: 8)
        }
        guard bytes.count >= headerStart + headerLength else {
            throw NumPyError(.truncated, "the file ends inside the \(headerLength)-byte header", offset: headerStart)
        }
        let headerBytes = bytes[headerStart..<(headerStart + headerLength)]
        // 1.0 and 2.0 headers are latin-1, 3.0 headers UTF-8.
        let text: String
        if major == 3 {
            guard let decoded = String(bytes: headerBytes, encoding: .utf8) else {
                throw NumPyError(.badHeader, "a 3.0 header must be UTF-8", offset: headerStart)
            }
            text = decoded
        } else {
            text = String(headerBytes.map { Character(Unicode.Scalar($0)) })
        }
        var parser = PythonLiteralParser(text, headerOffset: headerStart)
        return (try NPYHeader(try parser.parseAll(), offset: headerStart), headerStart, headerStart + headerLength)
    }

    /// Reads a `.npy` file: the header, then the data straight into the array's own storage with one `pread`
    /// (never mapped). A file the direct read cannot take as it is (malformed, truncated, changing) is read whole
    /// and decoded by ``init(npyData:)``, which reports exactly what is wrong.
    public init(contentsOf url: URL) throws(NumPyError) {
        if let array = NPYFileRead.array(at: url.path) {
            self = array
            return
        }
        let data: Data
        do {
            // Read, never mapped: a file truncated while mapped would kill the process with SIGBUS.
            data = try Data(contentsOf: url)
        } catch {
            throw NumPyError(.noSuchFile, "cannot read the file", path: url.path, underlying: error as NSError)
        }
        do {
            try self.init(npyData: data)
        } catch {
            throw error.located(url.path)
        }
    }

    /// Encodes the array as `.npy` bytes, exactly as `numpy.save` lays them out (version 1.0 unless the header
    /// needs 2.0; header padded so the data starts on a 64-byte boundary).
    public func npyData(byteOrder: ByteOrder = .little) -> Data {
        let header = npyHeader(byteOrder: byteOrder)
        var data = Data(capacity: header.count + count * dtype.byteWidth)
        data.append(contentsOf: header)
        switch storage {
        case .float32(let values): data.append(ElementCoding.encode(values, word: UInt32.self, byteOrder))
        case .float64(let values): data.append(ElementCoding.encode(values, word: UInt64.self, byteOrder))
        case .int32(let values): data.append(ElementCoding.encode(values, word: UInt32.self, byteOrder))
        case .int64(let values): data.append(ElementCoding.encode(values, word: UInt64.self, byteOrder))
        }
        return data
    }

    /// The magic, version, header length and padded header of the array's `.npy` encoding: everything before the
    /// data (a multiple of 64 bytes).
    func npyHeader(byteOrder: ByteOrder) -> [UInt8] {
        let orderMark = byteOrder == .little ? "<" : ">"
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '\(orderMark)\(dtype.typeCode)', 'fortran_order': False, 'shape': \(shapeText), }"
        // NumPy leaves room to grow the first axis in place (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS = 21).
        if let first = shape.first { header += String(repeating: " ", count: max(0, 21 - String(first).count)) }
        let headerLength = header.utf8.count + 1  // + "\n"
        var version: UInt8 = 1
        var lengthBytes = 2
        var padding = 64 - ((8 + lengthBytes + headerLength) % 64)
        if headerLength + padding > 65_535 {  // does not fit a 1.0 length field
            version = 2
            lengthBytes = 4
            padding = 64 - ((8 + lengthBytes + headerLength) % 64)
        }
        let total = headerLength + padding
        var bytes = FileSignature.npyMagic + [version, 0]
        bytes.reserveCapacity(8 + lengthBytes + total)
        for k in 0..<lengthBytes { bytes.append(UInt8((total >> (8 * k)) & 0xFF)) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: [UInt8](repeating: 0x20, count: padding))
        bytes.append(0x0A)
        return bytes
    }

    /// Writes the array as a `.npy` file in this machine's byte order with no copy of its data: the header and the
    /// array's own bytes go to a temporary file beside `url`, which is flushed and left staged for
    /// ``AtomicFile/commit(_:)`` (see ``write(to:overwrite:byteOrder:)`` for the one-file case).
    package func stage<E: Error>(
        to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E
    ) throws(E) -> StagedFile {
        let header = npyHeader(byteOrder: ElementCoding.native)
        let result: Result<StagedFile, E> = header.withUnsafeBytes { headerBytes in
            withUnsafePayload { payload in
                Result { () throws(E) in try AtomicFile.stage(parts: [headerBytes, payload], to: url, overwrite: overwrite, mapError: mapError) }
            }
        }
        return try result.get()
    }

    /// The elements' bytes in this machine's byte order, in place.
    private func withUnsafePayload<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch storage {
        case .float32(let values): values.withUnsafeBytes(body)
        case .float64(let values): values.withUnsafeBytes(body)
        case .int32(let values): values.withUnsafeBytes(body)
        case .int64(let values): values.withUnsafeBytes(body)
        }
    }

    /// Writes the array as a `.npy` file: to a temporary file beside `url`, then renamed into place.
    ///
    /// - Throws: ``NumPyError/Code/fileExists`` when `url` exists and `overwrite` is false.
    public func write(to url: URL, overwrite: Bool = false, byteOrder: ByteOrder = .little) throws(NumPyError) {
        try AtomicFile.write(npyData(byteOrder: byteOrder), to: url, overwrite: overwrite, mapError: NumPyError.init(atomicWrite:))
    }
}

/// The three header keys NumPy requires.
struct NPYHeader {
    let dtype: NumPyDType
    let byteOrder: ByteOrder
    let shape: [Int]

    init(_ literal: PythonLiteral, offset: Int) throws(NumPyError) {
        guard case .dict(let entries) = literal else {
            throw NumPyError(.badHeader, "the header is not a dictionary", offset: offset)
        }
        func value(_ key: String) throws(NumPyError) -> PythonLiteral {
            guard let entry = entries.first(where: { $0.key == key }) else {
                throw NumPyError(.badHeader, "the header lacks \"\(key)\"", offset: offset)
            }
            return entry.value
        }
        if let extra = entries.first(where: { !["descr", "fortran_order", "shape"].contains($0.key) }) {
            throw NumPyError(.badHeader, "unexpected header key \"\(extra.key)\"", offset: offset)
        }
        guard case .string(let descr) = try value("descr") else {
            throw NumPyError(.unsupportedDType, "structured dtypes are not supported", offset: offset)
        }
        guard case .bool(let fortran) = try value("fortran_order") else {
            throw NumPyError(.badHeader, "fortran_order must be True or False", offset: offset)
        }
        guard case .tuple(let dimensions) = try value("shape") else {
            throw NumPyError(.badHeader, "shape must be a tuple", offset: offset)
        }
        var shape: [Int] = []
        for dimension in dimensions {
            guard case .integer(let size) = dimension, size >= 0 else {
                throw NumPyError(.badHeader, "shape entries must be non-negative integers", offset: offset)
            }
            shape.append(size)
        }
        // Byte order: '<' little, '>' big, '=' native (every supported host is little-endian).
        let order: ByteOrder
        switch descr.first {
        case "<", "=": order = .little
        case ">": order = .big
        default:
            throw NumPyError(.unsupportedDType, "dtype \"\(descr)\"; supported are f4, f8, i4 and i8 (either byte order)", offset: offset)
        }
        guard let dtype = NumPyDType.allCases.first(where: { $0.typeCode == String(descr.dropFirst()) }) else {
            throw NumPyError(.unsupportedDType, "dtype \"\(descr)\"; supported are f4, f8, i4 and i8 (either byte order)", offset: offset)
        }
        // Checked after the dtype, so an unsupported dtype is reported as such whatever its order.
        if fortran && shape.filter({ $0 > 1 }).count > 1 {
            throw NumPyError(.fortranOrder, "only C-order arrays are supported; save with numpy.ascontiguousarray", offset: offset)
        }
        self.dtype = dtype
        byteOrder = order
        self.shape = shape
    }
}

/// Bulk conversion between typed words and bytes of a stated byte order.
enum ElementCoding {
    /// The byte order of this machine.
    static let native: ByteOrder = 1.littleEndian == 1 ? .little : .big

    /// `bytes` as `Value`s (`Word` is the same-size integer the file's byte order applies to): one copy, swapped in
    /// place only when the file's order is not this machine's.
    static func decode<Value: BitwiseCopyable, Word: FixedWidthInteger>(
        _ bytes: ArraySlice<UInt8>, as _: Value.Type, word _: Word.Type, _ order: ByteOrder
    ) -> [Value] {
        let width = MemoryLayout<Word>.size
        precondition(MemoryLayout<Value>.size == width)
        let count = bytes.count / width
        var values = [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<(count * width)]))
            }
            initialized = count
        }
        if order != native { values.withUnsafeMutableBytes { swapWords($0, Word.self) } }
        return values
    }

    /// `values` as bytes in `order`.
    static func encode<Value: BitwiseCopyable, Word: FixedWidthInteger>(_ values: [Value], word _: Word.Type, _ order: ByteOrder) -> Data {
        precondition(MemoryLayout<Value>.size == MemoryLayout<Word>.size)
        var data = values.withUnsafeBytes { Data($0) }
        if order != native { data.withUnsafeMutableBytes { swapWords($0, Word.self) } }
        return data
    }

    private static func swapWords<Word: FixedWidthInteger>(_ raw: UnsafeMutableRawBufferPointer, _: Word.Type) {
        let width = MemoryLayout<Word>.size
        for offset in stride(from: 0, to: raw.count - width + 1, by: width) {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: offset, as: Word.self).byteSwapped, toByteOffset: offset, as: Word.self)
        }
    }
}
