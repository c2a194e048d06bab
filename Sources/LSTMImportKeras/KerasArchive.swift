import Foundation
import LSTMLayouts
import ZIPFoundation

/// A Keras `.keras` zip archive: `config.json`, `metadata.json`, `model.weights.h5`.
struct KerasArchive {
    let archive: Archive
    let url: URL

    init(url: URL) throws(ImportError) {
        self.url = url
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw ImportError(.malformedSource, "the zip archive cannot be read (\(error)); the file may be truncated")
        }
    }

    var hasConfig: Bool { archive["config.json"] != nil }

    /// A small member's bytes (JSON), refusing anything above ``KerasImporter/maxJSONBytes``.
    func member(_ path: String) throws(ImportError) -> Data? {
        guard let entry = archive[path] else { return nil }
        guard entry.uncompressedSize <= UInt64(KerasImporter.maxJSONBytes) else {
            throw ImportError(
                .archiveLimit, "`\(path)` would expand to \(entry.uncompressedSize) bytes; the limit is \(KerasImporter.maxJSONBytes)",
                location: path)
        }
        var data = Data()
        do {
            let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                data.append(chunk)
                if data.count > KerasImporter.maxJSONBytes { throw ArchiveLimitExceeded() }
            }
            guard checksum == entry.checksum else {
                throw ImportError(.malformedSource, "`\(path)` fails its CRC-32 check", location: path)
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
    func withWeights<T>(_ body: (KerasH5) throws(ImportError) -> T) throws(ImportError) -> T {
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
        let limit = KerasImporter.maxArchiveMemberBytes
        guard entry.uncompressedSize <= UInt64(limit) else {
            throw ImportError(.archiveLimit, "`\(name)` would expand to \(entry.uncompressedSize) bytes; the limit is \(limit)", location: name)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-keras-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: target.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw ImportError(.malformedSource, "cannot create a temporary file in \(directory.path)", location: name)
            }
            let handle = try FileHandle(forWritingTo: target)
            defer { try? handle.close() }
            var written: Int64 = 0
            let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                written += Int64(chunk.count)
                if written > limit { throw ArchiveLimitExceeded() }
                try handle.write(contentsOf: chunk)
            }
            guard checksum == entry.checksum else {
                throw ImportError(.malformedSource, "`\(name)` fails its CRC-32 check", location: name)
            }
        } catch let error as ImportError {
            throw error
        } catch is ArchiveLimitExceeded {
            throw ImportError(.archiveLimit, "`\(name)` expands beyond \(limit) bytes", location: name)
        } catch {
            throw ImportError(.malformedSource, "cannot extract `\(name)` (\(error)); the archive may be truncated", location: name)
        }
        let h5: KerasH5
        do {
            h5 = try KerasH5(path: target.path)
        } catch {
            var located = error
            located.message = "`\(name)` inside the archive: " + error.message
            located.place = name
            throw located
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

/// Thrown from an extraction consumer when a member grows past its limit.
private struct ArchiveLimitExceeded: Error {}
