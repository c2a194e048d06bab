import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling and an atomic rename: readers of the target never see a partial
/// file, and a failure leaves the target as it was.
enum AtomicFile {
    /// Streams chunks from `body` into `.<name>.<uuid>.tmp` next to `url`, flushes it, then moves it into place.
    static func write(
        to url: URL, overwrite: Bool, failAfterChunks: Int? = nil,
        body: ((Data) throws(BinaryFormatError) -> Void) throws(BinaryFormatError) -> Void
    ) throws(BinaryFormatError) {
        let target = url.path
        let manager = FileManager.default
        if !overwrite, manager.fileExists(atPath: target) {
            throw BinaryFormatError(.fileExists, "refusing to replace an existing file without overwrite", file: target)
        }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        guard manager.createFile(atPath: temporary, contents: nil) else {
            throw BinaryFormatError(.cannotWrite, "cannot create a temporary file in \(folder.path)", file: target)
        }
        do throws(BinaryFormatError) {
            let handle: FileHandle
            do {
                handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            } catch {
                throw BinaryFormatError(.cannotWrite, "cannot open \(temporary): \(error.localizedDescription)", file: target)
            }
            var chunks = 0
            do throws(BinaryFormatError) {
                try body { (chunk: Data) throws(BinaryFormatError) in
                    if let failAfterChunks, chunks >= failAfterChunks {
                        throw BinaryFormatError(.cannotWrite, "simulated write failure after \(chunks) chunks", file: target)
                    }
                    do {
                        try handle.write(contentsOf: chunk)
                    } catch {
                        throw BinaryFormatError(.cannotWrite, error.localizedDescription, file: target)
                    }
                    chunks += 1
                }
                do {
                    try handle.synchronize()
                    try handle.close()
                } catch {
                    throw BinaryFormatError(.cannotWrite, error.localizedDescription, file: target)
                }
            } catch {
                try? handle.close()
                throw error
            }
            try place(temporary, at: target, overwrite: overwrite)
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }

    /// Moves the finished temporary file to `target`: `rename` when replacing is allowed, else `link` (which
    /// fails atomically when the target exists) followed by removing the temporary name.
    private static func place(_ temporary: String, at target: String, overwrite: Bool) throws(BinaryFormatError) {
        if overwrite {
            guard rename(temporary, target) == 0 else {
                throw BinaryFormatError(.cannotWrite, "rename failed: \(String(cString: strerror(errno)))", file: target)
            }
            return
        }
        if link(temporary, target) == 0 {
            _ = unlink(temporary)
            return
        }
        let linkError = errno
        if linkError == EEXIST {
            throw BinaryFormatError(.fileExists, "refusing to replace an existing file without overwrite", file: target)
        }
        // File systems without hard links: fall back to a checked rename.
        guard !FileManager.default.fileExists(atPath: target) else {
            throw BinaryFormatError(.fileExists, "refusing to replace an existing file without overwrite", file: target)
        }
        guard rename(temporary, target) == 0 else {
            throw BinaryFormatError(.cannotWrite, "rename failed: \(String(cString: strerror(errno)))", file: target)
        }
    }
}
