import Crypto
import Foundation
import LSTMModel

/// SHA-256 of a source file, recorded in provenance.
package enum FileDigest {
    /// Lowercase hex SHA-256 of `data`.
    package static func sha256Hex(of data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    /// Lowercase hex SHA-256 of the file at `url`, read in 4 MiB pieces (never mapped, never whole in memory);
    /// also the file's first `prefixBytes` bytes (for sniffing) and its size.
    package static func sha256Hex(ofFileAt url: URL, prefixBytes: Int = 0) throws -> (digest: String, prefix: Data, size: Int) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var prefix = Data()
        var size = 0
        while true {
            let piece = try handle.read(upToCount: 4 << 20) ?? Data()
            if piece.isEmpty { break }
            if prefix.count < prefixBytes { prefix.append(piece.prefix(prefixBytes - prefix.count)) }
            hasher.update(data: piece)
            size += piece.count
        }
        return (hasher.finalize().map { String(format: "%02x", $0) }.joined(), prefix, size)
    }
}

extension FileDigest {
    /// The whole file at `url` read (never mapped) into one buffer, hashed with SHA-256 piece by piece as it
    /// arrives: one pass over the bytes instead of a read and then a hash.
    package static func contentsAndSHA256Hex(ofFileAt url: URL) throws -> (data: Data, digest: String) {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let expected = Int((try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0)
        var data = Data(capacity: max(expected, 0))
        var hasher = SHA256()
        while true {
            let piece = try handle.read(upToCount: 4 << 20) ?? Data()
            if piece.isEmpty { break }
            hasher.update(data: piece)
            data.append(piece)
            WorkProgress.advance(piece.count)
        }
        return (data, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}
