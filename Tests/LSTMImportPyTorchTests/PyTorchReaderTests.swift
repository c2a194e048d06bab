import Foundation
import LSTMLayouts
@testable import LSTMImportPyTorch
import LSTMModel
import LSTMTestSupport
import Testing

/// The restricted unpickler on hand-assembled opcode streams.
@Suite struct PyTorchPickleTests {
    static func load(_ bytes: [UInt8]) throws(ImportError) -> PickleValue {
        var unpickler = Unpickler(Data(bytes)) { (_: PickleValue) throws(ImportError) -> PickleValue in
            throw ImportError(.malformedSource, "no storages here")
        }
        return try unpickler.load()
    }

    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }
    static let proto2: [UInt8] = [0x80, 0x02]
    static let stop = UInt8(ascii: ".")

    struct Refusal: CustomTestStringConvertible, Sendable {
        let name: String
        let bytes: [UInt8]
        let code: ImportError.Code
        let mentions: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        .init(name: "GLOBAL posix.system", bytes: proto2 + text("cposix\nsystem\n)R."), code: .forbiddenPickle, mentions: "posix.system"),
        .init(
            name: "STACK_GLOBAL builtins.eval (protocol 4)",
            bytes: [0x80, 0x04, 0x8c, 8] + text("builtins") + [0x8c, 4] + text("eval") + [0x93] + text(")R."),
            code: .forbiddenPickle, mentions: "builtins.eval"),
        .init(name: "INST os.system", bytes: proto2 + text("(X") + [2, 0, 0, 0] + text("idios\nsystem\n."), code: .forbiddenPickle, mentions: "os.system"),
        .init(name: "__main__ class", bytes: proto2 + text("c__main__\nNet\n)") + [0x81, stop], code: .forbiddenPickle, mentions: "state_dict()"),
        .init(name: "REDUCE of a storage class", bytes: proto2 + text("ctorch\nFloatStorage\n)R."), code: .forbiddenPickle, mentions: "torch.FloatStorage"),
        .init(name: "REDUCE of a string", bytes: proto2 + [0x8c, 1] + text("x)R."), code: .forbiddenPickle, mentions: "str"),
        .init(name: "EXT1 registry call", bytes: proto2 + [0x82, 1] + text(")R."), code: .forbiddenPickle, mentions: "registry"),
        .init(name: "no STOP", bytes: proto2 + text("N"), code: .malformedSource, mentions: "truncated"),
        .init(name: "string past the end", bytes: proto2 + [UInt8(ascii: "X"), 0xff, 0xff, 0, 0, 0x41], code: .malformedSource, mentions: "past the end"),
        .init(name: "memo read before write", bytes: proto2 + [UInt8(ascii: "h"), 7, stop], code: .malformedSource, mentions: "memo"),
        .init(name: "unknown opcode", bytes: proto2 + [0xff, stop], code: .malformedSource, mentions: "0xff"),
        .init(name: "unknown protocol", bytes: [0x80, 0x09, stop], code: .malformedSource, mentions: "protocol"),
        .init(name: "pop past a MARK", bytes: proto2 + text("](Na."), code: .malformedSource, mentions: "underflow"),
        .init(name: "odd SETITEMS", bytes: proto2 + text("}(Nu."), code: .malformedSource, mentions: "odd"),
        .init(name: "APPEND to a dict", bytes: proto2 + text("}Na."), code: .malformedSource, mentions: "not a list"),
        .init(name: "BUILD on an int", bytes: proto2 + [UInt8(ascii: "K"), 1] + text("}b."), code: .malformedSource, mentions: "BUILD"),
        .init(
            name: "tuples nested 500 deep", bytes: proto2 + text(")") + [UInt8](repeating: 0x85, count: 500) + [stop],
            code: .malformedSource, mentions: "nesting"),
        .init(
            name: "a list appended into itself 500 times",
            bytes: proto2 + text("]q") + [0] + Array([[UInt8(ascii: "h"), 0, UInt8(ascii: "a")]].joined()) .repeated(500) + [stop],
            code: .malformedSource, mentions: "nesting"),
        .init(
            name: "rebuild_tensor_v2 without a storage",
            bytes: proto2 + text("ctorch._utils\n_rebuild_tensor_v2\n(NK") + [0] + text(")))") + [0x89] + text("NtR."),
            code: .malformedSource, mentions: "storage"),
    ]

    @Test(arguments: refusals)
    func refused(_ refusal: Refusal) {
        do {
            let value = try Self.load(refusal.bytes)
            Issue.record("\(refusal.name) was accepted as \(value.kind)")
        } catch {
            #expect(error.code == refusal.code, "\(error)")
            #expect(error.description.contains(refusal.mentions), "\(error)")
        }
    }

    @Test func longIntegersKeepTheirSign() throws {
        func long(_ bytes: [UInt8]) throws -> PickleValue { try Self.load(Self.proto2 + [0x8a, UInt8(bytes.count)] + bytes + [Self.stop]) }
        guard case .int(let minusOne) = try long([0xff]) else { Issue.record("not an int"); return }
        #expect(minusOne == -1)
        guard case .int(let big) = try long([0xff, 0x00]) else { Issue.record("not an int"); return }
        #expect(big == 255)
        guard case .int(let min) = try long([0, 0, 0, 0, 0, 0, 0, 0x80]) else { Issue.record("not an int"); return }
        #expect(min == Int.min)
        guard case .int(let zero) = try long([]) else { Issue.record("not an int"); return }
        #expect(zero == 0)
        guard case .bigInt(let wide) = try long(TorchArchive.legacyMagic) else { Issue.record("the legacy magic is wider than Int"); return }
        #expect(wide == TorchArchive.legacyMagic)
        guard case .int(let negative) = try Self.load(Self.proto2 + [UInt8(ascii: "J"), 0xfe, 0xff, 0xff, 0xff, Self.stop]) else { return }
        #expect(negative == -2)
    }

    @Test func memoizedDictionariesShareTheirItems() throws {
        // EMPTY_DICT, BINPUT 0, SETITEM "a" → 1, POP, BINGET 0: the recalled dict sees the item set after memoizing.
        let bytes = Self.proto2 + Self.text("}q") + [0, 0x8c, 1] + Self.text("aK") + [1] + Self.text("s0h") + [0, Self.stop]
        guard case .dict(let dict) = try Self.load(bytes) else { Issue.record("not a dict"); return }
        #expect(dict.items.count == 1)
    }

    @Test func orderedDictFromPairs() throws {
        // collections.OrderedDict([("k", None)])
        let bytes = Self.proto2 + Self.text("ccollections\nOrderedDict\n]") + [0x8c, 1] + Self.text("kN") + [0x86] + Self.text("a") + [0x85] + Self.text("R.")
        guard case .dict(let dict) = try Self.load(bytes) else { Issue.record("not a dict"); return }
        #expect(dict.items.count == 1)
    }
}

extension Array {
    fileprivate func repeated(_ count: Int) -> [Element] { (0..<count).flatMap { _ in self } }
}

/// Strided views of storages.
@Suite struct PyTorchStridedTests {
    static let storage = Tensor([1, 2, 3, 4, 5, 6], shape: [6]).bytes
    static let float32 = TorchElementType(name: "float32", width: 4, dtype: .f32)

    static func view(offset: Int, size: [Int], stride: [Int]) throws -> [Float] {
        let ref = TensorRef(
            storage: StorageRef(key: "0", elementType: float32, count: 6), elementType: float32, offset: offset, size: size, stride: stride)
        let bytes = try StridedCopy.gather(ref, from: storage, maxBytes: 1 << 20, key: "t")
        return try Tensor(dtype: .f32, shape: [bytes.count / 4], bytes: bytes).floats()
    }

    @Test func contiguousWithOffset() throws {
        #expect(try Self.view(offset: 2, size: [2, 2], stride: [2, 1]) == [3, 4, 5, 6])
    }

    @Test func transposed() throws {
        #expect(try Self.view(offset: 0, size: [3, 2], stride: [1, 3]) == [1, 4, 2, 5, 3, 6])
    }

    @Test func expandedWithStrideZero() throws {
        #expect(try Self.view(offset: 1, size: [2, 3], stride: [0, 2]) == [2, 4, 6, 2, 4, 6])
    }

    @Test func sizeOneAxesIgnoreTheirStride() throws {
        #expect(try Self.view(offset: 0, size: [1, 3], stride: [99, 1]) == [1, 2, 3])
    }

    @Test func viewPastTheStorageIsRefused() {
        #expect(throws: ImportError(.malformedSource, "")) { try Self.view(offset: 3, size: [2, 2], stride: [2, 1]) }
    }

    @Test func hugeExpansionIsRefusedBeforeAllocating() {
        #expect(throws: ImportError(.archiveLimit, "")) { try Self.view(offset: 0, size: [1 << 40], stride: [0]) }
    }

    @Test func overflowingStridesAreRefused() {
        #expect(throws: ImportError(.malformedSource, "")) { try Self.view(offset: 0, size: [2, 2], stride: [Int.max, 1]) }
    }

    @Test func bigEndianElementsAreSwapped() {
        #expect(StridedCopy.swapped(Data([1, 2, 3, 4, 5, 6, 7, 8]), width: 4) == Data([4, 3, 2, 1, 8, 7, 6, 5]))
    }
}

/// The safetensors reader on hand-built files.
@Suite struct PyTorchSafetensorsTests {
    static func file(_ header: String, _ buffer: [UInt8]) -> Data {
        let json = Array(header.utf8)
        var data = Data((0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) })
        data.append(contentsOf: json)
        data.append(contentsOf: buffer)
        return data
    }

    @Test func scalarsEmptyTensorsOtherDTypesAndMetadata() throws {
        let header = #"  {"__metadata__":{"format":"pt","torch_version":"2.1.0"},"#
            + #""c":{"dtype":"I64","shape":[1],"data_offsets":[8,16]},"#
            + #""a":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"#
            + #""b":{"dtype":"BF16","shape":[0,3],"data_offsets":[8,8]}}   "#
        let value = 1.5.bitPattern
        let buffer = (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } + [UInt8](repeating: 7, count: 8)
        let dict = try Safetensors.read(Self.file(header, buffer))
        #expect(dict.metadata == ["format": "pt", "torch_version": "2.1.0"])
        #expect(dict.entries.map(\.key) == ["a", "b", "c"], "entries in data-offset order")
        #expect(dict.tensor("a")?.doubles() == [1.5])
        #expect(dict.tensor("a")?.shape == [])
        #expect(dict.tensor("b")?.shape == [0, 3])
        #expect(dict["c"] == .unsupported(dtype: "I64", shape: [1]))
    }

    struct Bad: CustomTestStringConvertible, Sendable {
        let name: String
        let header: String
        let buffer: Int
        let code: ImportError.Code
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        .init(name: "metadata with a number", header: #"{"__metadata__":{"epoch":3}}"#, buffer: 0, code: .malformedSource),
        .init(name: "three offsets", header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, buffer: 4, code: .malformedSource),
        .init(name: "negative dimension", header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, buffer: 4, code: .malformedSource),
        .init(
            name: "overflowing shape", header: #"{"a":{"dtype":"F32","shape":[2,4611686018427387904],"data_offsets":[0,4]}}"#,
            buffer: 4, code: .malformedSource),
        .init(name: "offsets beyond Int", header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,18446744073709551615]}}"#, buffer: 4, code: .malformedSource),
        .init(name: "not an object", header: "[1, 2]", buffer: 0, code: .malformedSource),
        .init(name: "missing dtype", header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, buffer: 4, code: .malformedSource),
        .init(name: "sub-byte total", header: #"{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}"#, buffer: 1, code: .malformedSource),
        .init(name: "first tensor not at 0", header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, buffer: 8, code: .malformedSource),
        .init(
            name: "two tensors on the same bytes",
            header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#,
            buffer: 4, code: .malformedSource),
        .init(name: "unknown dtype", header: #"{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,1]}}"#, buffer: 1, code: .unsupportedDType),
    ]

    @Test(arguments: bad)
    func refused(_ bad: Bad) {
        #expect(throws: ImportError(bad.code, "")) {
            try Safetensors.read(Self.file(bad.header, [UInt8](repeating: 0, count: bad.buffer)))
        }
    }

    @Test func contentSniffing() throws {
        let st = try Data(contentsOf: PyTorchFixtures.url("lstm_1layer", "model.safetensors")).prefix(64)
        let pt = try Data(contentsOf: PyTorchFixtures.url("lstm_1layer", "model.pt")).prefix(64)
        let legacy = try Data(contentsOf: PyTorchFixtures.bad("legacy_nonzip.pt")).prefix(64)
        #expect(PyTorchImporter.looksLikeSafetensors(st) && !PyTorchImporter.looksLikeSafetensors(pt) && !PyTorchImporter.looksLikeSafetensors(legacy))
        #expect(PyTorchImporter.looksLikeZip(pt) && !PyTorchImporter.looksLikeZip(st))
        #expect(TorchArchive.looksLikeLegacy(legacy) && !TorchArchive.looksLikeLegacy(pt))
        #expect(TorchArchive.isTorchArchive(at: PyTorchFixtures.url("lstm_1layer", "model.pt")))
        #expect(!TorchArchive.isTorchArchive(at: PyTorchFixtures.url("lstm_1layer", "model.safetensors")))
        for url in [PyTorchFixtures.url("lstm_1layer", "model.pt"), PyTorchFixtures.url("lstm_1layer", "model.safetensors"), PyTorchFixtures.bad("legacy_nonzip.pt")] {
            #expect(PyTorchImporter.canRead(url), "\(url.lastPathComponent)")
        }
        #expect(!PyTorchImporter.canRead(PyTorchFixtures.url("lstm_1layer", "case.json")))
    }
}
