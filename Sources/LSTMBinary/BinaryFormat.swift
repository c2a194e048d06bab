import LSTMModel
import FileSignatures

/// Constants and limits of the `.lstmw` container (spec/binary.md).
package enum BinaryFormat {
    /// `89 4C 53 54 0D 0A 1A 0A` = `"\u{89}LST\r\n\u{1A}\n"`, PNG-style.
    package static let magic = FileSignature.lstmwMagic
    /// The byte-order mark `0x01020304` as a little-endian file stores it.
    package static let byteOrderMark: [UInt8] = [0x04, 0x03, 0x02, 0x01]
    /// Size of the fixed preamble.
    package static let preambleSize = 32
    /// Alignment of the data section and of every tensor, relative to the start of the file.
    package static let alignment = 64
    /// The only major version this reader accepts.
    package static let supportedMajor: UInt16 = FormatVersion.major
    /// The minor version this writer emits.
    package static let writtenMinor: UInt16 = FormatVersion.minor
    /// Required-feature flag bits this reader understands (none in format 1.0).
    package static let knownRequiredFeatures: UInt32 = 0
    /// Upper bound on `header_length`.
    package static let maxHeaderLength = 16 << 20
    /// Upper bound on the number of metadata entries.
    package static let maxMetadataEntries = 65_536
    /// Upper bound on a metadata key's UTF-8 byte count.
    package static let maxKeyLength = 255
    /// Upper bound on a metadata string's UTF-8 byte count.
    package static let maxStringLength = 65_535
    /// Upper bound on the number of tensors.
    package static let maxTensors = 4_096
    /// Upper bound on a tensor path's byte count.
    package static let maxPathLength = 255
    /// Upper bound on a tensor rank.
    package static let maxRank = 4
    /// Upper bound on a source name's UTF-8 byte count.
    package static let maxSourceLength = 4_096

    /// Offsets of the preamble fields.
    enum Field {
        static let major = 8
        static let minor = 10
        static let byteOrderMark = 12
        static let headerLength = 16
        static let headerChecksum = 24
        static let flags = 28
    }

    /// Metadata value type codes.
    enum ValueType: UInt8 {
        case int = 1
        case double = 2
        case string = 3
        case bool = 4
    }

    /// `value` rounded up to the next multiple of ``alignment``; `nil` on overflow.
    static func aligned(_ value: Int) -> Int? {
        let (sum, overflow) = value.addingReportingOverflow(alignment - 1)
        return overflow ? nil : sum & ~(alignment - 1)
    }

    /// Metadata keys: 1…255 bytes of `[A-Za-z0-9._-]`.
    static func isValidKey<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        !bytes.isEmpty && bytes.count <= maxKeyLength
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Tensor paths: 1…255 bytes of `[A-Za-z0-9_/]`.
    static func isValidPath<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        !bytes.isEmpty && bytes.count <= maxPathLength
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "/") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// Hex rendering for messages: `0x1a2b3c4d`.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
