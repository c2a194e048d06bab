import Foundation
import LSTMBinary
import LSTMModel

/// A test-side encoder of the `.lstmw` layout, written from spec/binary.md, in which every field can be set to
/// any value: the corruption generator builds hostile files with it. Untouched, it reproduces the writer's bytes.
struct RawFile {
    struct Entry {
        var key: [UInt8]
        var keyLength: UInt16?
        var type: UInt8
        var payload: [UInt8]

        init(_ key: String, _ value: MetaValue) {
            self.key = Array(key.utf8)
            switch value {
            case .int(let number): type = 1; payload = le(UInt64(bitPattern: number))
            case .double(let number): type = 2; payload = le(number.bitPattern)
            case .string(let string): type = 3; payload = le(UInt32(string.utf8.count)) + Array(string.utf8)
            case .bool(let flag): type = 4; payload = [flag ? 1 : 0]
            }
        }

        var bytes: [UInt8] { le(keyLength ?? UInt16(key.count)) + key + [type] + payload }
    }

    struct Directory {
        var path: [UInt8]
        var dtype: UInt8
        var rank: UInt8?
        var dims: [UInt64]
        var offset: UInt64
        var nbytes: UInt64
        var crc: UInt32
        var source: [UInt8]

        var bytes: [UInt8] {
            var out = le(UInt16(path.count)) + path + [dtype, rank ?? UInt8(dims.count)]
            for dimension in dims { out += le(dimension) }
            return out + le(offset) + le(nbytes) + le(crc) + le(UInt16(source.count)) + source
        }
    }

    /// One tensor to lay out: path, dtype, shape, bytes, source.
    struct Item {
        var path: String
        var dtype: DType
        var shape: [Int]
        var bytes: [UInt8]
        var source: String
    }

    var magic = BinaryFormat.magic
    var major: UInt16 = 1
    var minor: UInt16 = 0
    var byteOrderMark = BinaryFormat.byteOrderMark
    var headerLength: UInt64?
    var headerChecksum: UInt32?
    var flags: UInt32 = 0
    var metadataCount: UInt32?
    var metadata: [Entry]
    var tensorCount: UInt32?
    var directory: [Directory]
    var headerTrailer: [UInt8] = []
    /// Leaves the tensor count and directory out of the header.
    var omitDirectory = false
    /// Cuts this many bytes off the end of the header (the header length shrinks with it).
    var dropHeaderTail = 0
    /// Replaces the zero padding between header and data section when set.
    var headPadding: [UInt8]?
    /// The data section (tensors with their zero padding).
    var data: [UInt8]
    var trailer: [UInt8] = []

    /// Lays out `items` as spec/binary.md §6 says: each tensor at the next multiple of 64, zero padding.
    init(metadata: [Entry], items: [Item]) {
        self.metadata = metadata
        var directory: [Directory] = []
        var data: [UInt8] = []
        for item in items {
            data += [UInt8](repeating: 0, count: (64 - data.count % 64) % 64)
            directory.append(Directory(
                path: Array(item.path.utf8), dtype: item.dtype.code, rank: nil, dims: item.shape.map { UInt64($0) },
                offset: UInt64(data.count), nbytes: UInt64(item.bytes.count), crc: Checksum.crc32(of: item.bytes),
                source: Array(item.source.utf8)))
            data += item.bytes
        }
        self.directory = directory
        self.data = data
    }

    init(model: Model) {
        self.init(
            metadata: model.schemaAttributes.flattened.map { Entry($0.key, $0.value) },
            items: RawFile.items(of: model))
    }

    static func items(of model: Model) -> [Item] {
        model.storedTensors.map {
            Item(path: $0.slot.path, dtype: $0.tensor.dtype, shape: $0.tensor.shape, bytes: Array($0.tensor.bytes), source: $0.source ?? "")
        }
    }

    var headerBytes: [UInt8] {
        var out = le(metadataCount ?? UInt32(metadata.count))
        for entry in metadata { out += entry.bytes }
        if !omitDirectory {
            out += le(tensorCount ?? UInt32(directory.count))
            for entry in directory { out += entry.bytes }
        }
        out += headerTrailer
        return Array(out.dropLast(dropHeaderTail))
    }

    func encode() -> Data {
        let header = headerBytes
        var preamble = magic + le(major) + le(minor) + byteOrderMark + le(headerLength ?? UInt64(header.count))
        let crcField = preamble.count
        preamble += le(UInt32(0)) + le(flags)
        let crc = headerChecksum ?? Checksum.crc32(of: Array(preamble[0..<crcField]) + Array(preamble[(crcField + 4)...]) + header)
        preamble.replaceSubrange(crcField..<crcField + 4, with: le(crc))
        var file = preamble + header
        file += headPadding ?? [UInt8](repeating: 0, count: (64 - file.count % 64) % 64)
        return Data(file + data + trailer)
    }

    // MARK: - Edits

    mutating func set(_ key: String, _ value: MetaValue) {
        if let index = metadata.firstIndex(where: { $0.key == Array(key.utf8) }) {
            metadata[index] = Entry(key, value)
        } else {
            metadata.append(Entry(key, value))
        }
    }

    mutating func remove(_ key: String) {
        metadata.removeAll { $0.key == Array(key.utf8) }
    }

    func index(of key: String) -> Int? { metadata.firstIndex { $0.key == Array(key.utf8) } }
}

func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}
