import Crypto
import Foundation

/// SHA-256 of a source file, recorded in provenance.
public enum FileDigest {
    /// Lowercase hex SHA-256 of `data`.
    public static func sha256Hex(of data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
