import Foundation
import LSTMModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source file opened for reading byte ranges with `pread` (never mapped: a file truncated while mapped would
/// kill the process with SIGBUS). A streaming import reads each tensor's range when the writer asks for it.
package final class SourceFile: @unchecked Sendable {
    /// The path shown in messages.
    package let path: String
    private let descriptor: Int32

    package init(_ url: URL) throws(ImportError) {
        path = url.path
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ImportError(.unrecognizedSource, "cannot open the file: \(String(cString: strerror(errno)))", file: url.path)
        }
    }

    deinit { close(descriptor) }

    /// Exactly `count` bytes from `offset`, into a buffer of their own (a short file is a `malformedSource` error).
    package func read(offset: Int, count: Int, location: String) throws(ImportError) -> Data {
        var failure: ImportError?
        let data = LargeBuffer.data(count: count) { buffer in
            var done = 0
            while done < count {
                let got = pread(descriptor, buffer + done, count - done, off_t(offset + done))
                if got < 0, errno == EINTR { continue }
                guard got > 0 else {
                    failure = ImportError(
                        .malformedSource,
                        got == 0 ? "the file ends at \(offset + done); the tensor needs bytes \(offset)..<\(offset + count)"
                            : "cannot read the file: \(String(cString: strerror(errno)))",
                        location: location, offset: offset + done)
                    return done
                }
                done += got
            }
            return done
        }
        if let failure { throw failure }
        WorkProgress.advance(count)
        return data
    }

    /// Rows (`axis` 0: one range) or columns (`axis` 1: one `pread` per row) `range` of the C-ordered rank-2
    /// tensor of `shape` and element `width` stored from `offset`.
    package func read(
        offset: Int, shape: [Int], width: Int, axis: Int, range: Range<Int>, location: String
    ) throws(ImportError) -> Data {
        guard shape.count == 2, range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw ImportError(.shapeMismatch, "cannot read \(range) along axis \(axis) of shape \(shape)", location: location)
        }
        let rowBytes = shape[1] * width
        if axis == 0 {
            return try read(offset: offset + range.lowerBound * rowBytes, count: range.count * rowBytes, location: location)
        }
        let (rows, partBytes) = (shape[0], range.count * width)
        var failure: ImportError?
        let data = LargeBuffer.data(count: rows * partBytes) { buffer in
            for row in 0..<rows {
                let start = offset + row * rowBytes + range.lowerBound * width
                var done = 0
                while done < partBytes {
                    let got = pread(descriptor, buffer + row * partBytes + done, partBytes - done, off_t(start + done))
                    if got < 0, errno == EINTR { continue }
                    guard got > 0 else {
                        failure = ImportError(
                            .malformedSource, got == 0 ? "the file ends at \(start + done)" : "cannot read the file: \(String(cString: strerror(errno)))",
                            location: location, offset: start + done)
                        return 0
                    }
                    done += got
                }
            }
            return rows * partBytes
        }
        if let failure { throw failure }
        WorkProgress.advance(rows * partBytes)
        return data
    }
}
