import Foundation
import LSTMModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file with `read(2)` into memory aligned to `alignment` (the only unsafe-pointer code of this
/// module). A file that shrinks while it is read ends the read early (the framing checks then report it as
/// truncated); one that grows is read up to the size it had when opened, plus at most what `read` returns.
enum AlignedRead {
    struct Failure: Error {
        var message: String
    }

    static func contents(of path: String, alignment: Int) throws(Failure) -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(message: "cannot open the file: \(String(cString: strerror(errno)))") }
        defer { _ = close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(message: "cannot stat the file: \(String(cString: strerror(errno)))") }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw Failure(message: "not a regular file") }
        let size = Int(status.st_size)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: alignment)
        var filled = 0
        var failure: Int32 = 0
        while filled < size {
            let count = read(descriptor, buffer + filled, size - filled)
            if count < 0, errno == EINTR { continue }
            if count < 0 { failure = errno }
            if count <= 0 { break }
            filled += count
            WorkProgress.advance(count)
        }
        guard failure == 0 else {
            buffer.deallocate()
            throw Failure(message: "cannot read the file: \(String(cString: strerror(failure)))")
        }
        return Data(bytesNoCopy: buffer, count: filled, deallocator: .custom { pointer, _ in pointer.deallocate() })
    }
}
