import Foundation
import LSTMBinary
import LSTMModel
import LSTMTestSupport
import Testing

/// One hand-made malformed file and the error code the reader must give it.
struct Corruption: Sendable, CustomTestStringConvertible {
    let name: String
    let code: BinaryFormatError.Code
    /// Text the error message must contain.
    var mentions: [String] = []
    /// The semantic error code behind `.invalidModel`-style errors.
    var underlying: ModelError.Code?
    let make: @Sendable () throws -> Data

    var testDescription: String { name }
}

private struct SetupError: Error, CustomStringConvertible {
    let description: String
}

/// The corruption generator: every malformed class of spec/binary.md §7, built from the small golden model
/// (or another golden model where the class needs it) with the header CRC recomputed, so that each file
/// reaches the check it targets.
enum Corruptions {
    static let small = GoldenModels.smallLSTM

    static func raw(_ model: Model = small, _ edit: @escaping @Sendable (inout RawFile) throws -> Void) -> @Sendable () throws -> Data {
        {
            var file = RawFile(model: model)
            try edit(&file)
            return file.encode()
        }
    }

    static func bytes(_ edit: @escaping @Sendable (inout [UInt8]) throws -> Void) -> @Sendable () throws -> Data {
        {
            var file = Array(try BinaryWriter.encode(small))
            try edit(&file)
            return Data(file)
        }
    }

    /// Re-lays out the tensors after editing the item list (keeps the metadata).
    static func items(_ model: Model = small, _ edit: @escaping @Sendable (inout [RawFile.Item]) throws -> Void) -> @Sendable () throws -> Data {
        {
            var items = RawFile.items(of: model)
            try edit(&items)
            return RawFile(metadata: RawFile(model: model).metadata, items: items).encode()
        }
    }

    static func entry(_ file: RawFile, _ key: String) throws -> Int {
        guard let index = file.index(of: key) else { throw SetupError(description: "no key \(key)") }
        return index
    }

    static func replacing(_ bytes: [UInt8], _ pattern: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if index + pattern.count <= bytes.count, Array(bytes[index..<index + pattern.count]) == pattern {
                out += replacement
                index += pattern.count
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    static func floats(_ count: Int) -> [UInt8] {
        Array(Tensor(GoldenModels.values(count: count, seed: 99), shape: [count]).bytes)
    }

    static let all: [Corruption] = preamble + metadata + directory + data + semantics

    // MARK: Preamble and framing (§7 steps 1–3)

    static let preamble: [Corruption] = [
        Corruption(name: "empty file", code: .truncated) { Data() },
        Corruption(name: "magic prefix only", code: .truncated) { try bytes { $0 = Array($0.prefix(5)) }() },
        Corruption(name: "shorter than the preamble", code: .truncated) { try bytes { $0 = Array($0.prefix(31)) }() },
        Corruption(name: "text file", code: .badMagic, mentions: ["not a .lstmw file"]) { Data("hello, world\n".utf8) },
        Corruption(name: "HDF5 file", code: .badMagic, mentions: ["HDF5"]) {
            Data([0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 100))
        },
        Corruption(name: "bit 7 cleared (7-bit channel)", code: .badMagic, mentions: ["7-bit"],
                   make: bytes { $0 = $0.map { $0 & 0x7F } }),
        Corruption(name: "CR LF converted to LF", code: .badMagic, mentions: ["CR LF became LF"],
                   make: bytes { $0 = replacing($0, [0x0D, 0x0A], with: [0x0A]) }),
        Corruption(name: "LF converted to CR LF", code: .badMagic, mentions: ["LF became CR LF"],
                   make: bytes { $0 = replacing($0, [0x0A], with: [0x0D, 0x0A]) }),
        Corruption(name: "lone LF converted to CR LF", code: .badMagic, mentions: ["LF became CR LF"],
                   make: bytes { $0.replaceSubrange(7..<8, with: [0x0D, 0x0A]) }),
        Corruption(name: "byte-swapped byte-order mark", code: .bigEndian, make: raw { $0.byteOrderMark = [1, 2, 3, 4] }),
        Corruption(name: "garbage byte-order mark", code: .badByteOrderMark, make: raw { $0.byteOrderMark = [4, 3, 2, 0] }),
        Corruption(name: "major version 0", code: .unsupportedVersion, make: raw { $0.major = 0 }),
        Corruption(name: "newer major version", code: .unsupportedVersion, mentions: ["2.0", "1.0"],
                   make: raw { $0.major = 2; $0.set(RootKey.formatMajor, .int(2)) }),
        Corruption(name: "unknown required flag (bit 0)", code: .unknownRequiredFeature, make: raw { $0.flags = 1 }),
        Corruption(name: "unknown required flag (bit 31)", code: .unknownRequiredFeature, make: raw { $0.flags = 1 << 31 }),
        Corruption(name: "header length 0", code: .invalidHeaderLength, make: raw { $0.headerLength = 0 }),
        Corruption(name: "header length above the 16 MiB cap", code: .invalidHeaderLength,
                   make: raw { $0.headerLength = UInt64(BinaryFormat.maxHeaderLength) + 1 }),
        Corruption(name: "header length 2^64-1", code: .invalidHeaderLength, make: raw { $0.headerLength = .max }),
        Corruption(name: "header length past end of file", code: .truncated,
                   make: raw { $0.headerLength = UInt64($0.headerBytes.count + 4096) }),
        Corruption(name: "header checksum field damaged", code: .headerChecksumMismatch,
                   make: bytes { $0[24] ^= 0x01 }),
        Corruption(name: "header byte damaged", code: .headerChecksumMismatch, make: bytes { $0[40] ^= 0x10 }),
        Corruption(name: "minor version damaged", code: .headerChecksumMismatch, make: bytes { $0[10] ^= 0x04 }),
        Corruption(name: "header length shortened", code: .headerChecksumMismatch, make: bytes { $0[16] &-= 1 }),
    ]

    // MARK: Metadata TLV (§7 step 4)

    static let metadata: [Corruption] = [
        Corruption(name: "metadata count exceeds entries", code: .truncatedHeader,
                   make: raw { $0.omitDirectory = true; $0.metadataCount = UInt32($0.metadata.count + 1) }),
        Corruption(name: "int value cut by header end", code: .truncatedHeader,
                   make: raw { file in
                       file.omitDirectory = true
                       file.metadata.append(RawFile.Entry("cut", .int(7)))
                       file.dropHeaderTail = 3
                   }),
        Corruption(name: "string length past header end", code: .truncatedHeader,
                   make: raw { file in
                       let index = try entry(file, RootKey.converter)
                       file.metadata[index].payload.replaceSubrange(0..<4, with: le(UInt32(60_000)))
                   }),
        Corruption(name: "metadata count above the cap", code: .invalidEntryCount,
                   make: raw { $0.metadataCount = UInt32(BinaryFormat.maxMetadataEntries + 1) }),
        Corruption(name: "empty key", code: .invalidKey, make: raw { $0.metadata[0].key = [] }),
        Corruption(name: "key with a space", code: .invalidKey, make: raw { $0.metadata.append(RawFile.Entry("bad key", .int(1))) }),
        Corruption(name: "non-ASCII key", code: .invalidKey, make: raw { $0.metadata.append(RawFile.Entry("größe", .int(1))) }),
        Corruption(name: "key longer than 255 bytes", code: .invalidKey,
                   make: raw { $0.metadata.append(RawFile.Entry(String(repeating: "k", count: 256), .int(1))) }),
        Corruption(name: "duplicate key", code: .duplicateKey, mentions: [],
                   make: raw { file in
                       let index = try entry(file, "layer.0.hidden_size")
                       file.metadata.append(file.metadata[index])
                   }),
        Corruption(name: "value type code 7", code: .unknownValueType, make: raw { $0.metadata[0].type = 7 }),
        Corruption(name: "value type code 0", code: .unknownValueType, make: raw { $0.metadata[0].type = 0 }),
        Corruption(name: "bool byte 2", code: .invalidValue,
                   make: raw { file in file.metadata[try entry(file, "layer.0.return_sequences")].payload = [2] }),
        Corruption(name: "string not UTF-8", code: .invalidValue,
                   make: raw { file in file.metadata[try entry(file, RootKey.converter)].payload = le(UInt32(2)) + [0xC3, 0x28] }),
        Corruption(name: "string longer than the cap", code: .invalidValue,
                   make: raw { file in
                       file.metadata[try entry(file, RootKey.converter)].payload = le(UInt32(BinaryFormat.maxStringLength + 1))
                           + [UInt8](repeating: 0x61, count: BinaryFormat.maxStringLength + 1)
                   }),
    ]

    // MARK: Tensor directory (§7 step 4)

    static let directory: [Corruption] = [
        Corruption(name: "no tensors", code: .invalidTensorCount, make: raw { $0.directory = []; $0.data = [] }),
        Corruption(name: "tensor count above the cap", code: .invalidTensorCount,
                   make: raw { $0.tensorCount = UInt32(BinaryFormat.maxTensors + 1) }),
        Corruption(name: "tensor count exceeds entries", code: .truncatedHeader,
                   make: raw { $0.tensorCount = UInt32($0.directory.count + 1) }),
        Corruption(name: "directory entry cut", code: .truncatedHeader, make: raw { $0.dropHeaderTail = 5 }),
        Corruption(name: "empty tensor path", code: .invalidTensorName, make: raw { $0.directory[0].path = [] }),
        Corruption(name: "tensor path with a space", code: .invalidTensorName,
                   make: raw { $0.directory[0].path = Array("layer_0/forward/W n".utf8) }),
        Corruption(name: "tensor path longer than 255 bytes", code: .invalidTensorName,
                   make: raw { $0.directory[0].path = [UInt8](repeating: 0x61, count: 256) }),
        Corruption(name: "duplicate tensor path", code: .duplicateTensor,
                   make: raw { $0.directory[1].path = $0.directory[0].path }),
        Corruption(name: "dtype code 9", code: .unknownDType, make: raw { $0.directory[0].dtype = 9 }),
        Corruption(name: "dtype code 0", code: .unknownDType, make: raw { $0.directory[0].dtype = 0 }),
        Corruption(name: "rank 0", code: .invalidRank, make: raw { $0.directory[0].dims = [] }),
        Corruption(name: "rank 5", code: .invalidRank, make: raw { $0.directory[0].dims = [1, 1, 1, 4, 7] }),
        Corruption(name: "rank byte 255", code: .invalidRank, make: raw { $0.directory[0].rank = 255 }),
        Corruption(name: "zero dimension", code: .invalidShape, make: raw { $0.directory[0].dims = [4, 0] }),
        Corruption(name: "dimension above Int64.max", code: .shapeOverflow, make: raw { $0.directory[0].dims = [1 << 63, 1] }),
        Corruption(name: "element count overflows", code: .shapeOverflow, make: raw { $0.directory[0].dims = [1 << 40, 1 << 40] }),
        Corruption(name: "byte size overflows", code: .shapeOverflow, make: raw { $0.directory[0].dims = [1 << 62, 1] }),
        Corruption(name: "nbytes disagrees with the shape", code: .byteCountMismatch, make: raw { $0.directory[0].nbytes += 4 }),
        Corruption(name: "misaligned offset", code: .misalignedOffset, make: raw { $0.directory[1].offset += 8 }),
        Corruption(name: "first tensor not at 0", code: .tensorGap,
                   make: raw { file in
                       for index in file.directory.indices { file.directory[index].offset += 64 }
                       file.data.insert(contentsOf: [UInt8](repeating: 0, count: 64), at: 0)
                   }),
        Corruption(name: "overlapping tensors", code: .tensorOverlap, make: raw { $0.directory[1].offset = $0.directory[0].offset }),
        Corruption(name: "every tensor aliasing one range", code: .tensorOverlap,
                   make: raw { file in for index in file.directory.indices { file.directory[index].offset = 0 } }),
        Corruption(name: "gap between tensors", code: .tensorGap,
                   make: raw { file in
                       let last = file.directory.count - 1
                       let start = Int(file.directory[last].offset)
                       file.directory[last].offset += 64
                       file.data.insert(contentsOf: [UInt8](repeating: 0, count: 64), at: start)
                   }),
        Corruption(name: "source name longer than the cap", code: .invalidSourceName,
                   make: raw { $0.directory[0].source = [UInt8](repeating: 0x73, count: BinaryFormat.maxSourceLength + 1) }),
        Corruption(name: "source name not UTF-8", code: .invalidSourceName, make: raw { $0.directory[0].source = [0xFF] }),
        Corruption(name: "bytes after the directory inside the header", code: .headerTrailingBytes,
                   make: raw { $0.headerTrailer = [0, 0, 0, 0] }),
    ]

    // MARK: Data section (§7 steps 5–6)

    static let data: [Corruption] = [
        Corruption(name: "non-zero padding after the header", code: .nonZeroPadding,
                   make: raw { file in
                       let padding = (64 - (32 + file.headerBytes.count) % 64) % 64
                       guard padding > 0 else { throw SetupError(description: "the header needs no padding") }
                       file.headPadding = [UInt8](repeating: 0, count: padding - 1) + [0x01]
                   }),
        Corruption(name: "non-zero padding between tensors", code: .nonZeroPadding,
                   make: raw { file in
                       let end = Int(file.directory[0].offset + file.directory[0].nbytes)
                       guard end < Int(file.directory[1].offset) else { throw SetupError(description: "no padding after tensor 0") }
                       file.data[end] = 0x80
                   }),
        Corruption(name: "tensor bytes damaged", code: .tensorChecksumMismatch, mentions: ["layer_0/forward/W_n"],
                   make: raw { $0.data[3] ^= 0x01 }),
        Corruption(name: "tensor checksum field damaged", code: .tensorChecksumMismatch, make: raw { $0.directory[2].crc ^= 0x8000 }),
        Corruption(name: "trailing byte", code: .trailingBytes, make: raw { $0.trailer = [0] }),
        Corruption(name: "appended polyglot payload", code: .trailingBytes,
                   make: raw { $0.trailer = [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18) }),
        Corruption(name: "last byte missing", code: .truncated, make: bytes { $0.removeLast() }),
        Corruption(name: "data section missing", code: .truncated,
                   make: raw { $0.data = [] }),
        Corruption(name: "cut inside the header", code: .truncated, make: bytes { $0 = Array($0.prefix(200)) }),
    ]

    // MARK: Format keys and semantics (§7 steps 7–9)

    static let semantics: [Corruption] = [
        Corruption(name: "format name", code: .formatMismatch, make: raw { $0.set(RootKey.format, .string("safetensors")) }),
        Corruption(name: "format key missing", code: .formatMismatch, make: raw { $0.remove(RootKey.format) }),
        Corruption(name: "format_major disagrees with the preamble", code: .formatMismatch,
                   make: raw { $0.set(RootKey.formatMajor, .int(2)) }),
        Corruption(name: "format_minor disagrees with the preamble", code: .formatMismatch,
                   make: raw { $0.set(RootKey.formatMinor, .int(3)) }),
        Corruption(name: "format_major stored as a string", code: .formatMismatch,
                   make: raw { $0.set(RootKey.formatMajor, .string("1")) }),
        Corruption(name: "newer schema version", code: .unsupportedSchemaVersion,
                   make: raw { $0.set(RootKey.schemaVersion, .int(FormatVersion.latestSchemaVersion + 1)) }),
        Corruption(name: "schema version missing", code: .unsupportedSchemaVersion, make: raw { $0.remove(RootKey.schemaVersion) }),
        Corruption(name: "missing tensor", code: .missingTensor, mentions: ["layer_0/forward/b_v"],
                   make: items { $0.removeAll { $0.path == "layer_0/forward/b_v" } }),
        Corruption(name: "extra tensor", code: .unexpectedTensor,
                   make: items { $0.append(RawFile.Item(path: "layer_0/forward/P_i", dtype: .f32, shape: [4], bytes: floats(4), source: "")) }),
        Corruption(name: "tensor of a layer that does not exist", code: .unexpectedTensor,
                   make: items { $0.append(RawFile.Item(path: "layer_1/W_d", dtype: .f32, shape: [2, 4], bytes: floats(8), source: "")) }),
        Corruption(name: "tensor shape vs hyperparameters", code: .shapeMismatch, mentions: ["layer_0/forward/W_n"],
                   make: items { $0[0].shape = [4, 6]; $0[0].bytes = floats(24) }),
        Corruption(name: "hidden size vs tensor shapes", code: .shapeMismatch,
                   make: raw { $0.set("layer.0.hidden_size", .int(5)) }),
        Corruption(name: "input size vs tensor shapes", code: .shapeMismatch,
                   make: raw { $0.set("layer.0.input_size", .int(2)) }),
        Corruption(name: "bidirectional GRU without backward tensors", code: .missingTensor,
                   make: items(GoldenModels.bidirectionalGRU) { $0.removeAll { $0.path.hasPrefix("layer_0/backward/") } }),
        Corruption(name: "GRU with a peephole", code: .unexpectedTensor,
                   make: items(GoldenModels.bidirectionalGRU) { items in
                       items.insert(RawFile.Item(path: "layer_0/forward/P_i", dtype: .f32, shape: [3], bytes: floats(3), source: ""), at: 3)
                   }),
        Corruption(name: "dense input vs previous layer", code: .invalidModel, underlying: .invalidHyperparameter,
                   make: raw(GoldenModels.bidirectionalGRU) { $0.set("layer.0.merge_mode", .string("sum")) }),
        Corruption(name: "required attribute missing", code: .invalidModel, underlying: .missingAttribute,
                   make: raw { $0.remove("layer.0.hidden_size") }),
        Corruption(name: "attribute of the wrong type", code: .invalidModel, underlying: .wrongAttributeType,
                   make: raw { $0.set("layer.0.hidden_size", .double(4)) }),
        Corruption(name: "enum value outside the known set", code: .invalidModel, underlying: .invalidAttributeValue,
                   make: raw { $0.set("layer.0.use_gate", .string("sideways")) }),
        Corruption(name: "unknown layer kind", code: .invalidModel, underlying: .invalidAttributeValue,
                   make: raw { $0.set("layer.0.kind", .string("transformer")) }),
        Corruption(name: "layer_count 0", code: .invalidModel, underlying: .invalidAttributeValue,
                   make: raw { $0.set(RootKey.layerCount, .int(0)) }),
        Corruption(name: "layer_count larger than the layers", code: .invalidModel, underlying: .missingAttribute,
                   make: raw { $0.set(RootKey.layerCount, .int(2)) }),
        Corruption(name: "infinite forget bias", code: .invalidModel, underlying: .invalidHyperparameter,
                   make: raw { $0.set("layer.0.forget_bias", .double(.infinity)) }),
        Corruption(name: "tensors out of canonical order", code: .nonCanonicalOrder,
                   make: items { $0.swapAt(0, 1) }),
    ]
}

@Suite("Corruption generator")
struct CorruptionTests {
    @Test(arguments: Corruptions.all)
    func rejected(_ corruption: Corruption) throws {
        let data = try corruption.make()
        let error = #expect(throws: BinaryFormatError.self) { try BinaryFile.readModel(from: data) }
        guard let error else { return }
        #expect(error.code == corruption.code, "\(corruption.name): got \(error)")
        for text in corruption.mentions {
            #expect(error.description.contains(text), "\(corruption.name): \"\(error)\" does not mention \(text)")
        }
        if let underlying = corruption.underlying {
            #expect(error.underlying?.code == underlying, "\(corruption.name): got \(error)")
        }
    }

    @Test("corruptions of the framing are caught when the file is opened, before any model is built")
    func framingCaughtOnOpen() throws {
        for corruption in Corruptions.preamble + Corruptions.metadata + Corruptions.directory {
            let data = try corruption.make()
            #expect(throws: BinaryFormatError(corruption.code), "\(corruption.name)") { try BinaryFile(bytes: data) }
        }
    }

    @Test("errors locate the problem")
    func errorContext() throws {
        var file = RawFile(model: Corruptions.small)
        file.data[200] ^= 0x01
        let damaged = try BinaryFile(bytes: file.encode(), path: "/tmp/x.lstmw")
        let error = try #require(throws: BinaryFormatError.self) { try damaged.model() }
        let entry = try #require(damaged.header.tensors.last { $0.offset <= 200 })
        #expect(error.tensor == entry.path)
        #expect(error.offset == damaged.header.fileOffset(of: entry))
        #expect(error.file == "/tmp/x.lstmw")
        #expect(error.expected == "0x" + String(format: "%08x", entry.checksum))
        #expect(error.description.hasPrefix("/tmp/x.lstmw: tensor checksum mismatch at offset"))

        var duplicate = RawFile(model: Corruptions.small)
        duplicate.metadata.append(RawFile.Entry("layer.0.hidden_size", .int(4)))
        let keyError = try #require(throws: BinaryFormatError.self) { try BinaryFile(bytes: duplicate.encode()) }
        #expect(keyError.key == "layer.0.hidden_size")
        #expect(keyError.offset == 32 + duplicate.metadata.dropLast().reduce(4) { $0 + $1.bytes.count })
    }

    @Test("verify reports each damaged tensor and keeps the others valid")
    func verifyReportsPerTensor() throws {
        var file = RawFile(model: Corruptions.small)
        let damaged = 2
        file.data[Int(file.directory[damaged].offset)] ^= 0x40
        let report = try BinaryFile(bytes: file.encode()).verify()
        #expect(!report.isValid)
        #expect(report.tensors.count == file.directory.count)
        for (index, check) in report.tensors.enumerated() {
            #expect(check.isValid == (index != damaged), "\(check.path)")
        }

        let semantic = try BinaryFile(bytes: try Corruptions.raw { $0.set("layer.0.hidden_size", .int(5)) }()).verify()
        #expect(semantic.tensors.allSatisfy { $0.isValid })
        #expect(semantic.modelError?.code == .shapeMismatch)
        #expect(!semantic.isValid)
    }
}

@Suite("Compatibility")
struct CompatibilityTests {
    @Test("a newer minor version of the same major reads back equal")
    func newerMinor() throws {
        var file = RawFile(model: Corruptions.small)
        file.minor = 7
        file.set(RootKey.formatMinor, .int(7))
        let read = try BinaryFile(bytes: file.encode())
        #expect(read.header.minor == 7)
        #expect(try read.model() == Corruptions.small)
    }

    @Test("unknown optional keys are ignored")
    func unknownKeysIgnored() throws {
        var file = RawFile(model: GoldenModels.bidirectionalGRU)
        file.metadata.insert(RawFile.Entry("comment", .string("trained on Tuesday ✓")), at: 3)
        file.metadata.append(RawFile.Entry("layer.0.future_option", .double(0.5)))
        file.metadata.append(RawFile.Entry("layer.1.future_flag", .bool(true)))
        file.metadata.append(RawFile.Entry("layer.9.orphan", .int(-3)))
        let read = try BinaryFile(bytes: file.encode())
        #expect(read.header.value(forKey: "comment") == .string("trained on Tuesday ✓"))
        #expect(try read.model() == GoldenModels.bidirectionalGRU)
    }

    @Test("skipping checksum verification still rebuilds the model")
    func noChecksumVerification() throws {
        var file = RawFile(model: Corruptions.small)
        file.directory[0].crc ^= 1
        let read = try BinaryFile(bytes: file.encode())
        #expect(try read.model(verifyChecksums: false) == Corruptions.small)
        #expect(throws: BinaryFormatError(.tensorChecksumMismatch)) { try read.model() }
    }
}
