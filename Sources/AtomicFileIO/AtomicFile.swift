import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an atomic write failed, before the caller maps it onto its own error type.
package struct AtomicFileError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable {
        /// The target exists and replacing it was not allowed.
        case exists
        /// Creating, writing, flushing or renaming failed.
        case io
    }

    package var kind: Kind
    package var message: String
    /// The target path.
    package var path: String
    package var description: String { "\(path): \(message)" }
}

/// Every writer of lstmconv puts files in place through here: the bytes go to a temporary sibling
/// `.<name>.<uuid>.tmp` in the target folder, are flushed to disk, and are then moved into place — with
/// `rename` when replacing is allowed, else with `link`, which fails atomically if the target appeared meanwhile.
/// Readers of the target never see a partial file; a failure removes the temporary file and leaves any existing
/// target untouched.
package enum AtomicFile {
    /// Runs `produce` with the temporary path, which it fills in any way (a stream, libhdf5, …), then places it.
    ///
    /// - Parameters:
    ///   - mapError: turns an ``AtomicFileError`` into the caller's error type.
    package static func write<E: Error>(
        to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E, produce: (String) throws(E) -> Void
    ) throws(E) {
        let target = url.path
        if !overwrite, FileManager.default.fileExists(atPath: target) {
            throw mapError(AtomicFileError(kind: .exists, message: "refusing to replace an existing file without overwrite (--force)", path: target))
        }
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw mapError(AtomicFileError(kind: .io, message: "the folder \(folder.path) does not exist", path: target))
        }
        let temporary = folder
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp").path
        do throws(E) {
            try produce(temporary)
            do throws(AtomicFileError) {
                try synchronize(temporary, target: target)
                try place(temporary, at: target, overwrite: overwrite)
            } catch {
                throw mapError(error)
            }
        } catch {
            _ = unlink(temporary)
            throw error
        }
    }

    /// Writes `data` atomically.
    package static func write<E: Error>(
        _ data: Data, to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E
    ) throws(E) {
        try write(to: url, overwrite: overwrite, mapError: mapError) { (temporary: String) throws(E) in
            do {
                try data.write(to: URL(fileURLWithPath: temporary), options: .withoutOverwriting)
            } catch {
                throw mapError(AtomicFileError(
                    kind: .io, message: "cannot write a temporary file next to it: \(error.localizedDescription)", path: url.path))
            }
        }
    }

    /// Streams chunks into the temporary file through `body`'s sink, then places it.
    package static func stream<E: Error>(
        to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E,
        body: ((Data) throws(E) -> Void) throws(E) -> Void
    ) throws(E) {
        try write(to: url, overwrite: overwrite, mapError: mapError) { (temporary: String) throws(E) in
            guard FileManager.default.createFile(atPath: temporary, contents: nil),
                  let handle = FileHandle(forWritingAtPath: temporary) else {
                throw mapError(AtomicFileError(kind: .io, message: "cannot create a temporary file next to it", path: url.path))
            }
            defer { try? handle.close() }
            try body { (chunk: Data) throws(E) in
                do {
                    try handle.write(contentsOf: chunk)
                } catch {
                    throw mapError(AtomicFileError(kind: .io, message: error.localizedDescription, path: url.path))
                }
            }
        }
    }

    /// Flushes the finished temporary file to disk.
    private static func synchronize(_ temporary: String, target: String) throws(AtomicFileError) {
        do {
            let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
            defer { try? handle.close() }
            try handle.synchronize()
        } catch {
            throw AtomicFileError(kind: .io, message: "cannot flush \(temporary): \(error.localizedDescription)", path: target)
        }
    }

    /// Moves the temporary file to `target`: `rename` when replacing is allowed, else `link` (atomic failure when
    /// the target exists) and then removing the temporary name.
    private static func place(_ temporary: String, at target: String, overwrite: Bool) throws(AtomicFileError) {
        func renameFailed() -> AtomicFileError {
            AtomicFileError(kind: .io, message: "rename failed: \(String(cString: strerror(errno)))", path: target)
        }
        let exists = AtomicFileError(kind: .exists, message: "refusing to replace an existing file without overwrite (--force)", path: target)
        if overwrite {
            guard rename(temporary, target) == 0 else { throw renameFailed() }
            return
        }
        if link(temporary, target) == 0 {
            _ = unlink(temporary)
            return
        }
        if errno == EEXIST { throw exists }
        // File systems without hard links: a checked rename.
        guard !FileManager.default.fileExists(atPath: target) else { throw exists }
        guard rename(temporary, target) == 0 else { throw renameFailed() }
    }
}
