import CLSTMZlib
import Foundation

/// The per-tensor and header checksum of the format: CRC-32 (ISO-HDLC, as zlib and PNG compute it).
///
/// Check value: `Checksum.crc32(of: Array("123456789".utf8)) == 0xCBF43926`.
public enum Checksum {
    /// CRC-32 of a byte sequence, computed by zlib.
    public static func crc32<Bytes: DataProtocol>(of bytes: Bytes) -> UInt32 {
        var crc: UInt = 0
        for region in bytes.regions {
            region.withUnsafeBytes { raw in
                var remaining = raw.count
                var base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self)
                while remaining > 0, let pointer = base {
                    let chunk = min(remaining, Int(UInt32.max >> 1))
                    crc = CLSTMZlib.crc32(crc, pointer, uInt(chunk))
                    base = pointer + chunk
                    remaining -= chunk
                }
            }
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

extension Checksum {
    /// A CRC-32 computed over several pieces in order (a tensor streamed to or from a file).
    package struct Running: Sendable {
        private var crc: UInt = 0

        package init() {}

        /// Continues the checksum over `bytes`.
        package mutating func update(_ bytes: UnsafeRawBufferPointer) {
            var remaining = bytes.count
            var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
            while remaining > 0, let pointer = base {
                let chunk = min(remaining, Int(UInt32.max >> 1))
                crc = CLSTMZlib.crc32(crc, pointer, uInt(chunk))
                base = pointer + chunk
                remaining -= chunk
            }
        }

        /// Continues the checksum over `bytes`.
        package mutating func update<Bytes: DataProtocol>(_ bytes: Bytes) {
            for region in bytes.regions { region.withUnsafeBytes { update($0) } }
        }

        /// The CRC-32 of everything so far.
        package var value: UInt32 { UInt32(truncatingIfNeeded: crc) }
    }
}
