import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import Testing

/// Pickles that are valid but hostile (issue 12): depth measured on the finished graph, teardown without
/// recursion, a graph check linear in the pickle however the memo shares.
@Suite("PyTorch hostile pickles")
struct PyTorchHostilePickleTests {
    static func put(_ index: Int) -> [UInt8] { [0x72] + withUnsafeBytes(of: UInt32(index).littleEndian, Array.init) }  // LONG_BINPUT
    static func get(_ index: Int) -> [UInt8] { [0x6A] + withUnsafeBytes(of: UInt32(index).littleEndian, Array.init) }  // LONG_BINGET
    static let dictX: [UInt8] = [0x7D, 0x58, 1, 0, 0, 0, UInt8(ascii: "x")]  // EMPTY_DICT, BINUNICODE "x"

    /// `count` lists, each appended to the previous one while still empty: every APPEND sees depth 1.
    static func deepLists(_ count: Int) -> Data {
        var bytes: [UInt8] = [0x80, 0x02]
        for index in 0..<count { bytes += [0x5D] + put(index) + [0x30] }  // EMPTY_LIST, PUT, POP
        for index in 0..<(count - 1) { bytes += get(index) + get(index + 1) + [0x61, 0x30] }  // APPEND, POP
        return Data(bytes + dictX + get(0) + [0x73, 0x2E])  // SETITEM, STOP
    }

    /// t_k = (t_{k-1}, t_{k-1}) for `levels` levels: 2^levels paths through the memo.
    static func memoTuples(_ levels: Int) -> Data {
        var bytes: [UInt8] = [0x80, 0x02, 0x29] + put(0)  // EMPTY_TUPLE
        for level in 1...levels { bytes += get(level - 1) + get(level - 1) + [0x86] + put(level) }  // TUPLE2
        return Data(bytes + dictX + get(levels) + [0x73, 0x2E])
    }

    @Test("50,000 lists filled after being appended: refused by their real depth, freed without recursion")
    func deepListsAreRefused() {
        let error = #expect(throws: ImportError.self) { try TorchArchive.readStream(Self.deepLists(50_000)) }
        #expect(error?.message.contains("nesting deeper than 100") == true, "\(error?.description ?? "")")
    }

    @Test("Nesting up to the limit is read; one more level is refused")
    func depthLimitIsExact() throws {
        _ = try TorchArchive.readStream(Self.deepLists(98))  // 98 lists inside the dict: depth 99
        #expect(throws: ImportError.self) { try TorchArchive.readStream(Self.deepLists(101)) }
    }

    @Test("Tuples shared 2^60 ways through the memo are checked once each")
    func memoTuplesAreLinear() throws {
        let dict = try TorchArchive.readStream(Self.memoTuples(60))
        #expect(dict.entries.map(\.key) == ["x"])
    }
}
