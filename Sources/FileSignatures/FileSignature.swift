/// Every file signature lstmconv recognises, in one place: the readers check them, the importers' dispatch
/// sniffs a file's first bytes once with ``FileSignature/sniff(_:)`` and hands the result down.
public enum FileSignature: String, Sendable, CaseIterable {
    /// The `.lstmw` container: `89 4C 53 54 0D 0A 1A 0A` (`\x89LST\r\n\x1a\n`, PNG-style; spec/binary.md).
    case lstmw
    /// An HDF5 superblock at offset 0: `89 48 44 46 0D 0A 1A 0A` (our `.h5` encoding, Keras `.h5`).
    case hdf5
    /// A zip archive: local file header `PK\x03\x04` or an empty archive's `PK\x05\x06` (`.keras`, `torch.save`).
    case zip
    /// A legacy `torch.save` stream: a pickle (any protocol) of the magic number `0x1950a86a20f9469cfc6c`.
    case legacyTorch
    /// A bare pickle: `\x80` then a protocol byte 2…5.
    case pickle
    /// safetensors: an 8-byte little-endian header length (2 … 100 MB), then `{` (after optional spaces).
    case safetensors
    /// A NumPy `.npy` array: `\x93NUMPY`.
    case npy

    /// The `.lstmw` magic.
    public static let lstmwMagic: [UInt8] = [0x89, 0x4C, 0x53, 0x54, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The HDF5 superblock signature.
    public static let hdf5Magic: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    /// The zip local-file-header signature.
    public static let zipLocalHeader: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    /// The zip end-of-central-directory signature (an empty archive starts with it).
    public static let zipEndOfDirectory: [UInt8] = [0x50, 0x4B, 0x05, 0x06]
    /// The magic number a legacy `torch.save` stream pickles first (after `80 02 8a 0a`).
    public static let legacyTorchMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]
    /// The `.npy` magic.
    public static let npyMagic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
    /// HDF5 allows a user block before the superblock: the signature may also sit at 512, 1024, 2048, … bytes.
    public static let hdf5UserBlockOffsets: [Int] = (9...20).map { 1 << $0 }
    /// How many leading bytes ``sniff(_:)`` needs to tell every signature apart.
    public static let prefixLength = 64

    /// The signature `prefix` (a file's first bytes, up to ``prefixLength``) starts with, or `nil`.
    /// The order matters only where one signature is a prefix of another (a legacy torch stream is a pickle).
    public static func sniff<Bytes: Collection>(_ prefix: Bytes) -> FileSignature? where Bytes.Element == UInt8 {
        let bytes = Array(prefix.prefix(prefixLength))
        if bytes.starts(with: lstmwMagic) { return .lstmw }
        if bytes.starts(with: hdf5Magic) { return .hdf5 }
        if bytes.starts(with: zipLocalHeader) || bytes.starts(with: zipEndOfDirectory) { return .zip }
        if bytes.starts(with: npyMagic) { return .npy }
        if isLegacyTorch(bytes) { return .legacyTorch }
        if bytes.count >= 2, bytes[0] == 0x80, (2...5).contains(bytes[1]) { return .pickle }
        if isSafetensors(bytes) { return .safetensors }
        return nil
    }

    /// The magic number as protocols 0 and 1 pickle it: a text `LONG`.
    public static let legacyTorchTextMagic: [UInt8] = Array("L119547037146038801333356L\n".utf8)

    /// Whether `bytes` start with a legacy `torch.save` stream's magic-number pickle, in any pickle protocol:
    /// `LONG1` after `PROTO 2/3`, after `PROTO 4/5` and a `FRAME`, or a text `LONG` (protocols 0 and 1).
    static func isLegacyTorch(_ bytes: [UInt8]) -> Bool {
        if bytes.starts(with: legacyTorchTextMagic) { return true }
        guard bytes.count >= 14, bytes[0] == 0x80, (2...5).contains(bytes[1]) else { return false }
        let start = bytes[1] >= 4 && bytes[2] == 0x95 ? 11 : 2  // FRAME + its 8-byte length
        guard bytes.count >= start + 12 else { return false }
        return bytes[start] == 0x8a && bytes[start + 1] == 0x0a && Array(bytes[(start + 2)..<(start + 12)]) == legacyTorchMagic
    }

    /// Whether `bytes` look like a safetensors header: a plausible length, then `{` after optional spaces.
    static func isSafetensors(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 10 else { return false }
        let length = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length >= 2, length <= 100_000_000 else { return false }
        guard let first = bytes[8...].first(where: { $0 != 0x20 }) else { return false }
        return first == UInt8(ascii: "{")
    }

    /// The first bytes rendered for an error message: `89 4c 53 54 …`.
    public static func hexPrefix<Bytes: Collection>(_ bytes: Bytes, count: Int = 8) -> String where Bytes.Element == UInt8 {
        bytes.prefix(count).map { byte in
            let hex = String(byte, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }.joined(separator: " ")
    }
}
