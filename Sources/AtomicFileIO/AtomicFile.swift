import Dispatch
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
        let staged = try stage(to: url, overwrite: overwrite, mapError: mapError, produce: produce)
        do throws(AtomicFileError) {
            try staged.place()
        } catch {
            staged.discard()
            throw mapError(error)
        }
    }

    /// Runs `produce` with a temporary path next to `url` and flushes the result, without placing it: the caller
    /// places several staged files together (``commit(_:)``) so that a command with several outputs replaces all
    /// or none. A failure removes the temporary file.
    package static func stage<E: Error>(
        to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E, produce: (String) throws(E) -> Void
    ) throws(E) -> StagedFile {
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
        TemporaryFiles.shared.add(temporary)
        let staged = StagedFile(temporary: temporary, target: target, overwrite: overwrite)
        do throws(E) {
            try produce(temporary)
            do throws(AtomicFileError) {
                try synchronize(temporary, target: target)
            } catch {
                throw mapError(error)
            }
        } catch {
            staged.discard()
            throw error
        }
        return staged
    }

    /// Places staged files: first checks that every target may still be written (no file appeared where
    /// overwriting is not allowed), then moves each into place. On a failure the files not yet placed are removed.
    package static func commit(_ files: [StagedFile]) throws(AtomicFileError) {
        for file in files where !file.overwrite && FileManager.default.fileExists(atPath: file.target) {
            files.forEach { $0.discard() }
            throw AtomicFileError(kind: .exists, message: "refusing to replace an existing file without overwrite (--force)", path: file.target)
        }
        for (index, file) in files.enumerated() {
            do throws(AtomicFileError) {
                try file.place()
            } catch {
                files[index...].forEach { $0.discard() }
                throw error
            }
        }
    }

    /// Writes `data` atomically.
    package static func write<E: Error>(
        _ data: Data, to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E
    ) throws(E) {
        try write(to: url, overwrite: overwrite, mapError: mapError) { (temporary: String) throws(E) in
            do throws(AtomicFileError) {
                let sink = try PosixSink(temporary, target: url.path)
                defer { sink.close() }
                try sink.write(data)
            } catch {
                throw mapError(error)
            }
        }
    }

    /// Stages `data` (see ``stage(to:overwrite:mapError:produce:)``).
    package static func stage<E: Error>(
        _ data: Data, to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E
    ) throws(E) -> StagedFile {
        try stage(to: url, overwrite: overwrite, mapError: mapError) { (temporary: String) throws(E) in
            do throws(AtomicFileError) {
                let sink = try PosixSink(temporary, target: url.path)
                defer { sink.close() }
                try sink.write(data)
            } catch {
                throw mapError(error)
            }
        }
    }

    /// Stages the concatenation of `parts` (written from where they are, no copy; see
    /// ``stage(to:overwrite:mapError:produce:)``).
    package static func stage<E: Error>(
        parts: [UnsafeRawBufferPointer], to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E
    ) throws(E) -> StagedFile {
        try stage(to: url, overwrite: overwrite, mapError: mapError) { (temporary: String) throws(E) in
            do throws(AtomicFileError) {
                let sink = try PosixSink(temporary, target: url.path)
                defer { sink.close() }
                for part in parts { try sink.write(part) }
            } catch {
                throw mapError(error)
            }
        }
    }

    /// Streams chunks into the temporary file through `body`'s sink, then places it.
    package static func stream<E: Error>(
        to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E,
        body: ((Data) throws(E) -> Void) throws(E) -> Void
    ) throws(E) {
        try streamPatchingStart(to: url, overwrite: overwrite, mapError: mapError) { (sink: (Data) throws(E) -> Void) throws(E) -> Data in
            try withoutActuallyEscaping(sink) { (sink) throws(E) in try body(sink) }
            return Data()
        }
    }

    /// ``stream(to:overwrite:mapError:body:)`` whose body returns bytes to write over the start of the file once
    /// everything is streamed (a header whose checksums are known only at the end; same length as first written;
    /// empty: nothing is patched).
    package static func streamPatchingStart<E: Error>(
        to url: URL, overwrite: Bool, mapError: @escaping (AtomicFileError) -> E,
        body: ((Data) throws(E) -> Void) throws(E) -> Data
    ) throws(E) {
        try write(to: url, overwrite: overwrite, mapError: mapError) { (temporary: String) throws(E) in
            let sink: PosixSink
            do throws(AtomicFileError) {
                sink = try PosixSink(temporary, target: url.path)
            } catch {
                throw mapError(error)
            }
            defer { sink.close() }
            let start = try body { (chunk: Data) throws(E) in
                do throws(AtomicFileError) {
                    try sink.write(chunk)
                } catch {
                    throw mapError(error)
                }
            }
            guard !start.isEmpty else { return }
            do throws(AtomicFileError) {
                try sink.write(start, at: 0)
            } catch {
                throw mapError(error)
            }
        }
    }

    /// Flushes the finished temporary file to disk.
    private static func synchronize(_ temporary: String, target: String) throws(AtomicFileError) {
        let descriptor = open(temporary, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { throw AtomicFileError(posix: "cannot reopen the temporary file", path: target) }
        defer { _ = close(descriptor) }
        guard fsync(descriptor) == 0 else { throw AtomicFileError(posix: "cannot flush the output to disk", path: target) }
    }

    /// Moves the temporary file to `target`: `rename` when replacing is allowed, else `link` (atomic failure when
    /// the target exists) and then removing the temporary name.
    fileprivate static func place(_ temporary: String, at target: String, overwrite: Bool) throws(AtomicFileError) {
        func renameFailed() -> AtomicFileError {
            AtomicFileError(posix: "cannot move the finished file into place", path: target)
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

/// A finished, flushed temporary file waiting to be moved onto its target (``AtomicFile/commit(_:)``).
package final class StagedFile: Sendable {
    /// The temporary path (`.<name>.<uuid>.tmp` next to the target).
    package let temporary: String
    package let target: String
    package let overwrite: Bool

    init(temporary: String, target: String, overwrite: Bool) {
        self.temporary = temporary
        self.target = target
        self.overwrite = overwrite
    }

    /// Moves the file into place (see ``AtomicFile``).
    package func place() throws(AtomicFileError) {
        try AtomicFile.place(temporary, at: target, overwrite: overwrite)
        TemporaryFiles.shared.remove(temporary)
    }

    /// Removes the temporary file.
    package func discard() {
        _ = unlink(temporary)
        TemporaryFiles.shared.remove(temporary)
    }
}

extension AtomicFileError {
    /// An I/O failure described by `errno`: "disk full (No space left on device)", never a Foundation error code.
    init(posix what: String, path: String, errno code: Int32 = errno) {
        let reason: String
        switch code {
        case ENOSPC: reason = "the disk is full"
        case EFBIG: reason = "the file-size limit was reached"
        case EDQUOT: reason = "the disk quota is exhausted"
        case EACCES, EPERM: reason = "permission denied"
        case EROFS: reason = "the file system is read-only"
        default: reason = String(cString: strerror(code))
        }
        self.init(kind: code == EEXIST ? .exists : .io, message: "\(what): \(reason) (errno \(code))", path: path)
    }
}

/// Writes a new temporary file with `write(2)`, so that failures report `errno` (full disk, file-size limit).
struct PosixSink {
    let descriptor: Int32
    let target: String

    init(_ path: String, target: String) throws(AtomicFileError) {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        self.target = target
        guard descriptor >= 0 else { throw AtomicFileError(posix: "cannot create a temporary file next to the output", path: target) }
    }

    func write(_ data: Data) throws(AtomicFileError) {
        var failure: AtomicFileError?
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            do throws(AtomicFileError) {
                try write(buffer)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(AtomicFileError) {
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = posixWrite(descriptor, base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw AtomicFileError(posix: "cannot write the output", path: target, errno: errno)
            }
            offset += written
        }
    }

    /// Writes `data` at `offset` (`pwrite`), leaving the file position where it was.
    func write(_ data: Data, at offset: Int) throws(AtomicFileError) {
        var failure: Int32 = 0
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var done = 0
            while done < buffer.count {
                let written = pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                done += written
            }
        }
        if failure != 0 { throw AtomicFileError(posix: "cannot write the output", path: target, errno: failure) }
    }

    func close() { posixClose(descriptor) }
}

/// The temporary files being written right now, removed when the process is interrupted (SIGINT, SIGTERM).
package final class TemporaryFiles: @unchecked Sendable {
    package static let shared = TemporaryFiles()
    private let lock = NSLock()
    private var paths: Set<String> = []
    private var sources: [any DispatchSourceSignal] = []

    func add(_ path: String) { lock.withLock { _ = paths.insert(path) } }
    func remove(_ path: String) { lock.withLock { _ = paths.remove(path) } }

    /// The paths registered now (for tests).
    package var current: Set<String> { lock.withLock { paths } }

    /// Handles SIGINT and SIGTERM (and SIGHUP): removes every temporary file being written, then exits with
    /// 128 + the signal number (130, 143, 129), as a shell reports a process killed by it. Also ignores SIGXFSZ,
    /// so a write past the file-size limit fails with `EFBIG` (a clean error) instead of killing the process.
    /// Call once, early (the CLI does, in `main`).
    package func cleanUpOnSignals() {
        signal(SIGXFSZ, SIG_IGN)
        lock.withLock {
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM, SIGHUP] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue.global())
                source.setEventHandler { [self] in
                    let pending = lock.withLock { paths }
                    for path in pending { _ = unlink(path) }
                    _exit(128 + number)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}

private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
private func posixClose(_ descriptor: Int32) { _ = close(descriptor) }
