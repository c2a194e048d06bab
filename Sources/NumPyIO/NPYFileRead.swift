import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The direct `.npy` reader (the only unsafe-pointer code of NumPyIO besides the element coding): `pread` of the
/// header, then of the data straight into the typed array's uninitialised storage — one copy, kernel to array, and
/// no page of the file is mapped (a file truncated meanwhile gives a short read, never SIGBUS). It answers `nil`
/// for anything it does not take as it is: a malformed or truncated file, a short read, a file that is not
/// regular. ``NumPyArray/init(contentsOf:)`` then reads the file whole and reports the exact error.
enum NPYFileRead {
    /// Bytes read first: every header NumPy writes (a multiple of 64 bytes, usually 128) fits.
    static let firstRead = 4096

    static func array(at path: String) -> NumPyArray? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { _ = close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(status.st_size)
        guard var prefix = bytes(descriptor, count: min(size, firstRead)), prefix.count >= 10 else { return nil }
        // A header longer than the first read: read exactly up to its end.
        let lengthBytes = prefix[6] == 1 ? 2 : 4
        guard prefix.count >= 8 + lengthBytes else { return nil }
        var headerLength = 0
        for k in 0..<lengthBytes { headerLength |= Int(prefix[8 + k]) << (8 * k) }
        let needed = 8 + lengthBytes + headerLength
        if needed > prefix.count {
            guard headerLength <= NumPyArray.maximumHeaderLength, needed <= size, let longer = bytes(descriptor, count: needed) else {
                return nil
            }
            prefix = longer
        }
        guard let (header, _, dataStart) = try? NumPyArray.header(in: prefix),
            let count = NumPyArray.elementCount(of: header.shape)
        else { return nil }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: header.dtype.byteWidth)
        guard !overflow, byteCount <= size - dataStart else { return nil }
        let storage: NumPyArray.Storage
        switch header.dtype {
        case .float32:
            guard let values = elements(Float.self, word: UInt32.self, count, descriptor, dataStart, header.byteOrder) else { return nil }
            storage = .float32(values)
        case .float64:
            guard let values = elements(Double.self, word: UInt64.self, count, descriptor, dataStart, header.byteOrder) else { return nil }
            storage = .float64(values)
        case .int32:
            guard let values = elements(Int32.self, word: UInt32.self, count, descriptor, dataStart, header.byteOrder) else { return nil }
            storage = .int32(values)
        case .int64:
            guard let values = elements(Int64.self, word: UInt64.self, count, descriptor, dataStart, header.byteOrder) else { return nil }
            storage = .int64(values)
        }
        return try? NumPyArray(shape: header.shape, storage: storage)
    }

    /// The first `count` bytes of the file; `nil` on a read error or a short read.
    private static func bytes(_ descriptor: Int32, count: Int) -> [UInt8]? {
        var complete = false
        let result = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            complete = read(descriptor, into: UnsafeMutableRawBufferPointer(buffer), at: 0)
            initialized = count
        }
        return complete ? result : nil
    }

    /// `count` elements from `offset`, swapped to this machine's order when the file's differs.
    private static func elements<Value: BitwiseCopyable, Word: FixedWidthInteger>(
        _: Value.Type, word _: Word.Type, _ count: Int, _ descriptor: Int32, _ offset: Int, _ order: ByteOrder
    ) -> [Value]? {
        precondition(MemoryLayout<Value>.size == MemoryLayout<Word>.size)
        var complete = false
        var values = [Value](unsafeUninitializedCapacity: count) { buffer, initialized in
            complete = read(descriptor, into: UnsafeMutableRawBufferPointer(buffer), at: offset)
            initialized = count
        }
        guard complete else { return nil }
        if order != ElementCoding.native {
            values.withUnsafeMutableBytes { raw in
                for position in stride(from: 0, to: raw.count, by: MemoryLayout<Word>.size) {
                    raw.storeBytes(of: raw.load(fromByteOffset: position, as: Word.self).byteSwapped, toByteOffset: position, as: Word.self)
                }
            }
        }
        return values
    }

    /// Fills `buffer` from `offset`; `false` on an error or when the file ends first.
    private static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        var filled = 0
        while filled < buffer.count {
            let got = pread(descriptor, base + filled, buffer.count - filled, off_t(offset + filled))
            if got < 0, errno == EINTR { continue }
            if got <= 0 { return false }
            filled += got
        }
        return true
    }
}
