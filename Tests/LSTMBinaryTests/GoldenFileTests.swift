import Foundation
import LSTMBinary
import LSTMModel
import LSTMTestSupport
import Testing

/// `Fixtures/golden/`, found from this file's path.
enum GoldenFiles {
    static let folder = FixturePaths.fixture("golden")

    static func url(_ name: String, _ suffix: String) -> URL { folder.appendingPathComponent(name + suffix) }

    static var names: [String] { GoldenModels.all.map(\.name) }

    static func model(_ name: String) throws -> Model {
        try #require(GoldenModels.all.first { $0.name == name }?.model)
    }
}

/// What `Fixtures/golden/decode_lstmw.py` (an independent decoder written from the spec) read from a golden file.
struct ExpectedFile: Decodable {
    struct Preamble: Decodable {
        var major: Int
        var minor: Int
        var flags: Int
        var header_length: Int
        var header_crc32: UInt32
        var data_offset: Int
        var file_size: Int
    }

    struct Entry: Decodable {
        var key: String
        var type: String
        var value: Value
    }

    enum Value: Decodable, Equatable {
        case number(Double)
        case string(String)
        case bool(Bool)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let string = try? container.decode(String.self) {
                self = .string(string)
            } else {
                self = .number(try container.decode(Double.self))
            }
        }
    }

    struct TensorValues: Decodable {
        var path: String
        var dtype: String
        var shape: [Int]
        var offset: Int
        var nbytes: Int
        var crc32: UInt32
        var source: String
        var values: [Double]
    }

    var preamble: Preamble
    var metadata: [Entry]
    var tensors: [TensorValues]

    static func load(_ name: String) throws -> ExpectedFile {
        try JSONDecoder().decode(ExpectedFile.self, from: Data(contentsOf: GoldenFiles.url(name, ".expected.json")))
    }
}

@Suite("Golden files")
struct GoldenFileTests {
    /// Re-records the golden `.lstmw` files. Run `RECORD_GOLDEN=1 swift test --filter GoldenFileTests`, then
    /// `python3 Fixtures/golden/decode_lstmw.py` to regenerate the expected values, and review the diff.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RECORD_GOLDEN"] == "1"), arguments: GoldenFiles.names)
    func record(name: String) throws {
        try BinaryWriter.write(try GoldenFiles.model(name), to: GoldenFiles.url(name, ".lstmw"), overwrite: true)
    }

    @Test("the writer reproduces the committed bytes", arguments: GoldenFiles.names)
    func writerReproducesGolden(name: String) throws {
        let committed = try Data(contentsOf: GoldenFiles.url(name, ".lstmw"))
        let encoded = try BinaryWriter.encode(try GoldenFiles.model(name))
        #expect(encoded == committed, "\(name): writer output differs from the committed golden file")
        // The spec-driven test encoder lays the model out identically.
        #expect(RawFile(model: try GoldenFiles.model(name)).encode() == committed)
    }

    @Test("the reader decodes the independently decoded values", arguments: GoldenFiles.names)
    func readerDecodesExpectedValues(name: String) throws {
        let expected = try ExpectedFile.load(name)
        let file = try BinaryFile(contentsOf: GoldenFiles.url(name, ".lstmw"))
        let header = file.header

        #expect(Int(header.major) == expected.preamble.major)
        #expect(Int(header.minor) == expected.preamble.minor)
        #expect(Int(header.flags) == expected.preamble.flags)
        #expect(header.headerLength == expected.preamble.header_length)
        #expect(header.headerChecksum == expected.preamble.header_crc32)
        #expect(header.dataOffset == expected.preamble.data_offset)
        #expect(header.fileSize == expected.preamble.file_size)

        #expect(header.metadata.map(\.key) == expected.metadata.map(\.key))
        for (entry, want) in zip(header.metadata, expected.metadata) {
            switch entry.value {
            case .int(let value): #expect(want.type == "int" && want.value == .number(Double(value)), "\(entry.key)")
            case .double(let value): #expect(want.type == "double" && want.value == .number(value), "\(entry.key)")
            case .string(let value): #expect(want.type == "string" && want.value == .string(value), "\(entry.key)")
            case .bool(let value): #expect(want.type == "bool" && want.value == .bool(value), "\(entry.key)")
            }
        }

        let model = try file.model()
        let stored = model.storedTensors
        try #require(stored.count == expected.tensors.count)
        #expect(header.tensors.count == expected.tensors.count)
        for ((slot, tensor, source), want) in zip(stored, expected.tensors) {
            #expect(slot.path == want.path)
            #expect(tensor.dtype.rawValue == want.dtype)
            #expect(tensor.shape == want.shape)
            #expect(tensor.checksum == want.crc32)
            #expect((source ?? "") == want.source)
            #expect(tensor.doubles() == want.values, "\(want.path): decoded values differ")
        }
        for (entry, want) in zip(header.tensors, expected.tensors) {
            #expect(entry.offset == want.offset)
            #expect(entry.byteCount == want.nbytes)
            #expect(entry.checksum == want.crc32)
        }

        // Reading back gives the model the golden file was written from.
        #expect(model == (try GoldenFiles.model(name)))
        #expect(file.verify().isValid)
    }

    @Test("golden files use every dtype and a non-trivial layout")
    func goldenCoverage() throws {
        var dtypes = Set<DType>()
        for name in GoldenFiles.names {
            let file = try BinaryFile(contentsOf: GoldenFiles.url(name, ".lstmw"))
            dtypes.formUnion(file.header.tensors.map(\.dtype))
            #expect(file.header.dataOffset % BinaryFormat.alignment == 0)
            #expect(file.header.tensors.allSatisfy { (file.header.dataOffset + $0.offset) % BinaryFormat.alignment == 0 })
        }
        #expect(dtypes == Set(DType.allCases))
    }
}
