import Foundation
import LSTMLayouts
import LSTMModel
#if canImport(Glibc)
import Glibc
#endif
import ZIPFoundation
import FileSignatures

/// A Keras `.keras` zip archive: `config.json`, `metadata.json`, `model.weights.h5`.
struct KerasArchive {
    let archive: Archive
    let url: URL

    init(url: URL) throws(ImportError) {
        self.url = url
        if let problem = FileSignature.zipStructureProblem(at: url) {
            throw ImportError(.malformedSource, "the zip archive cannot be read: \(problem)")
        }
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw ImportError(.malformedSource, "the zip archive cannot be read (\(error)); the file may be truncated")
        }
        // Keras (Python's zipfile) reads the last of two members with one name, ZIPFoundation the first:
        // refuse the ambiguity instead of reading something Keras would not.
        var names: Set<String> = []
        var count = 0
        for entry in archive {
            count += 1
            guard count <= 100_000 else { throw ImportError(.archiveLimit, "more than 100,000 zip members") }
            guard names.insert(entry.path).inserted else {
                throw ImportError(.malformedSource, "the archive holds two members named `\(entry.path)`", location: entry.path)
            }
        }
    }

    /// Most a deflated member over 1 MiB may expand (HDF5 weights deflate far less; a zip bomb far more).
    static let maxCompressionRatio: UInt64 = 200

    /// Refuses a member whose declared size is over `limit` or whose deflate ratio is a bomb's.
    static func checkDeclared(_ entry: Entry, limit: UInt64, name: String) throws(ImportError) {
        guard entry.uncompressedSize <= limit else {
            throw ImportError(.archiveLimit, "`\(name)` would expand to \(entry.uncompressedSize) bytes; the limit is \(limit)", location: name)
        }
        guard entry.uncompressedSize <= 1 << 20 || entry.uncompressedSize / max(entry.compressedSize, 1) <= maxCompressionRatio else {
            throw ImportError(
                .archiveLimit,
                "`\(name)` expands \(entry.compressedSize) → \(entry.uncompressedSize) bytes, a ratio over \(maxCompressionRatio):1 (a zip bomb)",
                location: name)
        }
    }

    var hasConfig: Bool { archive["config.json"] != nil }

    /// A small member's bytes (JSON), refusing anything above ``KerasImporter/maxJSONBytes``.
    func member(_ path: String) throws(ImportError) -> Data? {
        guard let entry = archive[path] else { return nil }
        try Self.checkDeclared(entry, limit: UInt64(KerasImporter.maxJSONBytes), name: path)
        var data = Data()
        do {
            let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                data.append(chunk)
                if data.count > KerasImporter.maxJSONBytes || UInt64(data.count) > entry.uncompressedSize { throw ArchiveLimitExceeded() }
            }
            guard checksum == entry.checksum else {
                throw ImportError(.malformedSource, "`\(path)` fails its CRC-32 check", location: path)
            }
            guard UInt64(data.count) == entry.uncompressedSize else {
                throw ImportError(
                    .malformedSource, "`\(path)` declares \(entry.uncompressedSize) bytes but holds \(data.count)", location: path)
            }
        } catch let error as ImportError {
            throw error
        } catch is ArchiveLimitExceeded {
            throw ImportError(.archiveLimit, "`\(path)` expands beyond \(KerasImporter.maxJSONBytes) bytes", location: path)
        } catch {
            throw ImportError(.malformedSource, "cannot extract `\(path)` (\(error)); the archive may be truncated", location: path)
        }
        return data
    }

    /// The model config from `config.json`.
    func config() throws(ImportError) -> KerasModelConfig {
        guard let data = try member("config.json") else { throw noConfig }
        return try KerasModelConfig.parse(JSONValue.parse(data, what: "`config.json`"))
    }

    /// The error for a zip without `config.json`, listing what it does hold.
    var noConfig: ImportError {
        let names = archive.map(\.path).prefix(20).joined(separator: ", ")
        return ImportError(
            .missingConfig, "the zip has no `config.json`, so it is not a Keras .keras archive (members: \(names))", location: "config.json")
    }

    /// `keras_version` from `metadata.json`, if present.
    var kerasVersion: String? {
        guard let data = try? member("metadata.json"), let json = try? JSONValue.parse(data, what: "`metadata.json`") else { return nil }
        return json["keras_version"]?.string
    }

    /// Extracts `model.weights.h5` to a private temporary file, opens it, runs `body`, and deletes the file.
    ///
    /// `declaredBytesBound` is what the config justifies (``KerasDeclaredSize/maxWeightFileBytes(_:)``): a member
    /// declared larger is refused before anything is extracted.
    ///
    /// With `keepOpen` (a streaming import, whose tensors are read after `body` returns) the file is removed when
    /// the opened ``KerasH5`` is released instead.
    func withWeights<T>(
        declaredBytesBound: Int, keepOpen: Bool = false, _ body: (KerasH5) throws(ImportError) -> T
    ) throws(ImportError) -> T {
        guard hasConfig else { throw noConfig }
        let name = "model.weights.h5"
        guard let entry = archive[name] else {
            let others = archive.map(\.path).filter { $0.hasPrefix("model.weights") }
            throw ImportError(
                .missingTensor,
                others.isEmpty
                    ? "the archive has no `\(name)`"
                    : "the archive stores its weights as \(others.joined(separator: ", ")); lstmconv reads a single `\(name)`",
                location: name)
        }
        // The config first: the weights member may not be larger than the declared layers justify.
        let limit = min(KerasImporter.maxArchiveMemberBytes, Int64(clamping: declaredBytesBound))
        try Self.checkDeclared(entry, limit: UInt64(limit), name: name)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-keras-\(UUID().uuidString)")
        let owner = TemporaryDirectory(directory)
        var handedOver = false
        defer { if !handedOver { owner.remove() } }
        let target = directory.appendingPathComponent(name)
        func temporaryFailure(_ reason: String) -> ImportError {
            ImportError(
                .temporaryStorage,
                "cannot write the extracted `\(name)` to a temporary file in \(directory.deletingLastPathComponent().path) (TMPDIR): \(reason)",
                location: name)
        }
        do {
            let handle: FileHandle
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
                guard FileManager.default.createFile(atPath: target.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw temporaryFailure("the file cannot be created")
                }
                handle = try FileHandle(forWritingTo: target)
            } catch let error as ImportError {
                throw error
            } catch {
                throw temporaryFailure((error as NSError).localizedFailureReason ?? "the folder is missing or not writable")
            }
            defer { try? handle.close() }
            if let stored = storedMember(entry, name: name) {
                // Stored (Keras 3 writes members uncompressed): copied by the kernel, then its CRC-32 checked.
                try Self.kernelCopy(stored, from: url, to: handle, name: name, failure: temporaryFailure)
                guard Self.crc32(of: target, size: stored.size) == entry.checksum else {
                    throw ImportError(.malformedSource, "`\(name)` fails its CRC-32 check", location: name)
                }
                return try open(target, name: name, owner: owner, keepOpen: keepOpen, handOver: &handedOver, body)
            }
            var written: Int64 = 0
            let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                written += Int64(chunk.count)
                if written > limit || UInt64(written) > entry.uncompressedSize { throw ArchiveLimitExceeded() }
                do {
                    try handle.write(contentsOf: chunk)
                } catch {
                    throw temporaryFailure("the write failed (disk full?)")
                }
            }
            guard checksum == entry.checksum else {
                throw ImportError(.malformedSource, "`\(name)` fails its CRC-32 check", location: name)
            }
            guard UInt64(written) == entry.uncompressedSize else {
                throw ImportError(.malformedSource, "`\(name)` declares \(entry.uncompressedSize) bytes but holds \(written)", location: name)
            }
        } catch let error as ImportError {
            throw error
        } catch is ArchiveLimitExceeded {
            throw ImportError(
                .archiveLimit, "`\(name)` expands beyond its declared \(entry.uncompressedSize) bytes (limit \(limit)); extraction stopped",
                location: name)
        } catch {
            throw ImportError(.malformedSource, "cannot extract `\(name)` (\(error)); the archive may be truncated", location: name)
        }
        return try open(target, name: name, owner: owner, keepOpen: keepOpen, handOver: &handedOver, body)
    }

    /// Opens the extracted weights and runs `body` on them.
    private func open<T>(
        _ target: URL, name: String, owner: TemporaryDirectory, keepOpen: Bool, handOver handedOver: inout Bool,
        _ body: (KerasH5) throws(ImportError) -> T
    ) throws(ImportError) -> T {
        let h5: KerasH5
        do {
            h5 = try KerasH5(path: target.path)
        } catch {
            var located = error
            located.message = "`\(name)` inside the archive: " + error.message
            located.place = name
            throw located
        }
        if keepOpen {
            h5.retained = owner
            handedOver = true
        }
        do {
            return try body(h5)
        } catch {
            // Dataset paths inside the archive read `model.weights.h5:layers/…`.
            var located = error
            if let location = located.place, location.hasPrefix("layers/") { located.place = "\(name):\(location)" }
            throw located
        }
    }
}

extension KerasArchive {
    /// Where `entry`'s bytes lie in the archive when it is stored uncompressed and the central directory agrees
    /// with ZIPFoundation's entry (size, CRC-32); `nil` for a compressed member (extracted by inflating).
    func storedMember(_ entry: Entry, name: String) -> FileSignature.ZipStoredMember? {
        #if os(Linux)
        guard !entry.isCompressed, let stored = FileSignature.zipStoredMember(at: url, named: name),
            UInt64(stored.size) == entry.uncompressedSize, stored.crc32 == entry.checksum
        else { return nil }
        return stored
        #else
        return nil
        #endif
    }

    /// Copies `stored` from the archive into `handle` with `sendfile(2)` (no user-space buffer).
    static func kernelCopy(
        _ stored: FileSignature.ZipStoredMember, from url: URL, to handle: FileHandle, name: String,
        failure: (String) -> ImportError
    ) throws(ImportError) {
        #if os(Linux)
        let source = Glibc.open(url.path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw ImportError(.malformedSource, "cannot reopen the archive to copy `\(name)`", location: name) }
        defer { close(source) }
        var offset = off_t(stored.offset)
        var remaining = stored.size
        while remaining > 0 {
            let copied = sendfile(handle.fileDescriptor, source, &offset, min(remaining, 1 << 30))
            if copied < 0, errno == EINTR { continue }
            guard copied > 0 else {
                if copied == 0 { throw ImportError(.malformedSource, "the archive ends inside `\(name)`", location: name) }
                throw failure(String(cString: strerror(errno)))
            }
            remaining -= copied
            WorkProgress.advance(copied)
        }
        #endif
    }

    /// CRC-32 of the first `size` bytes of the file at `url` (read in 4 MiB pieces), `nil` when it cannot be read.
    static func crc32(of url: URL, size: Int) -> UInt32? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        var running = Checksum.Running()
        var total = 0
        while let piece = try? handle.read(upToCount: 4 << 20), !piece.isEmpty {
            running.update(piece)
            total += piece.count
        }
        return total == size ? running.value : nil
    }
}

/// A private temporary folder, removed by ``remove()`` or when released.
final class TemporaryDirectory {
    let url: URL
    private var removed = false

    init(_ url: URL) {
        self.url = url
    }

    func remove() {
        guard !removed else { return }
        removed = true
        try? FileManager.default.removeItem(at: url)
    }

    deinit { remove() }
}

/// Thrown from an extraction consumer when a member grows past its limit.
private struct ArchiveLimitExceeded: Error {}
