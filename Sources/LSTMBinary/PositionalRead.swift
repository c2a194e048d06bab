import Foundation
import LSTMModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file read with `pread(2)` at explicit offsets: the header-only read and the streaming checksum pass
/// (the only unsafe-pointer code of this module besides ``AlignedRead``). Nothing is memory-mapped, so a file
/// truncated while it is read gives a short read — reported as truncation — never SIGBUS.
final class PositionalRead: @unchecked Sendable {
    struct Failure: Error {
        var message: String
    }

    /// Bytes per `pread` of the checksum pass: large enough to amortise the call, small enough to stay in L2.
    static let chunk = 1 << 20

    private let descriptor: Int32
    /// The size the file had when it was opened.
    let size: Int

    init(path: String) throws(Failure) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(message: "cannot open the file: \(String(cString: strerror(errno)))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let message = String(cString: strerror(errno))
            _ = close(descriptor)
            throw Failure(message: "cannot stat the file: \(message)")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            _ = close(descriptor)
            throw Failure(message: "not a regular file")
        }
        size = Int(status.st_size)
    }

    deinit { _ = close(descriptor) }

    /// Up to `count` bytes from `offset`; fewer only when the file ends first.
    func bytes(at offset: Int, count: Int) throws(Failure) -> Data {
        do {
            return try LargeBuffer.data(count: count) { buffer in try read(into: buffer, count: count, at: offset) }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(message: "\(error)")
        }
    }

    /// CRC-32 of `count` bytes from `offset`, read in ``chunk``-sized pieces into `scratch`; `nil` when the file
    /// ends first.
    func crc32(
        at offset: Int, count: Int, scratch: UnsafeMutableRawBufferPointer, progress: (any ProgressObserver)? = nil
    ) throws(Failure) -> UInt32? {
        var crc = Checksum.Running()
        var done = 0
        while done < count {
            let piece = min(scratch.count, count - done)
            guard let base = scratch.baseAddress else { return nil }
            let got = try read(into: base, count: piece, at: offset + done)
            guard got == piece else { return nil }
            crc.update(UnsafeRawBufferPointer(start: base, count: piece))
            progress?.advance(piece)
            done += piece
        }
        return crc.value
    }

    /// Whether `count` bytes from `offset` are all zero; `nil` when the file ends first.
    func isZero(at offset: Int, count: Int) throws(Failure) -> Bool? {
        let data = try bytes(at: offset, count: count)
        guard data.count == count else { return nil }
        return data.allSatisfy { $0 == 0 }
    }

    private func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(Failure) -> Int {
        var filled = 0
        while filled < count {
            let got = pread(descriptor, buffer + filled, count - filled, off_t(offset + filled))
            if got < 0, errno == EINTR { continue }
            if got < 0 { throw Failure(message: "cannot read the file: \(String(cString: strerror(errno)))") }
            if got == 0 { break }
            filled += got
        }
        return filled
    }
}
