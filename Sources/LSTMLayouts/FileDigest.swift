import Crypto
import Foundation

/// SHA-256 of a source file, recorded in provenance.
package enum FileDigest {
    /// Lowercase hex SHA-256 of `data`.
    package static func sha256Hex(of data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}
