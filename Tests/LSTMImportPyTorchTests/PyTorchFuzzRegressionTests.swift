import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import Testing

/// Inputs found by fuzzing the restricted unpickler (scripts/fuzz/, target FuzzPickle): each must end in a typed error.
@Suite("PyTorch pickle fuzz regressions")
struct PyTorchFuzzRegressionTests {
    /// Pickle opcodes, protocol 2.
    static func unicode(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        return [0x58] + withUnsafeBytes(of: UInt32(bytes.count).littleEndian, Array.init) + bytes  // BINUNICODE
    }

    /// `{k: d, …}` nested `levels` deep where every level shares the same dict through the memo (BINPUT/BINGET):
    /// a few hundred bytes that flatten to `width^(levels+1)` keys. Python's `pickle.dumps` writes the same.
    static func sharedDictTower(width: Int, levels: Int) -> Data {
        var bytes: [UInt8] = [0x80, 0x02]  // PROTO 2
        for level in 0...levels {
            bytes += [0x7d, 0x28]  // EMPTY_DICT, MARK
            for index in 0..<width {
                bytes += unicode(String(index))
                bytes += level == 0 ? [0x4b, 0x00] : [0x68, UInt8(level - 1)]  // BININT1 0 / BINGET level-1
            }
            bytes += [0x75, 0x71, UInt8(level)]  // SETITEMS, BINPUT level
        }
        return Data(bytes + [0x2e])  // STOP
    }

    @Test("a dict shared under many keys at every level is refused before it is expanded")
    func sharedDictionaries() {
        // 10 keys × 9 levels: 10⁹ flattened keys from a 1 KB file (was a hang).
        let data = Self.sharedDictTower(width: 10, levels: 8)
        #expect(data.count < 1_000)
        let error = #expect(throws: ImportError.self) { try TorchArchive.readStream(data) }
        #expect(error?.code == .archiveLimit)
    }

    @Test("a small shared tree still reads: sharing is allowed under the cap")
    func sharedDictionariesUnderTheCap() throws {
        let dict = try TorchArchive.readStream(Self.sharedDictTower(width: 3, levels: 2))
        #expect(dict.entries.count == 27)
        #expect(dict.entries.first?.key == "0.0.0")
    }

    @Test("a dict that contains itself is refused", arguments: [
        // {'a': <itself>} via BINPUT 0 / BINGET 0, then SETITEM.
        [0x80, 0x02, 0x7d, 0x71, 0x00] + unicode("a") + [0x68, 0x00, 0x73, 0x2e],
        // A list appended to itself inside a dict: {'a': [<itself>]}.
        [0x80, 0x02, 0x7d] + unicode("a") + [0x5d, 0x71, 0x01, 0x68, 0x01, 0x61, 0x73, 0x2e],
        // The same cycle through a tuple: l = []; l.append((l,)).
        [0x80, 0x02, 0x7d] + unicode("a") + [0x5d, 0x71, 0x01, 0x68, 0x01, 0x85, 0x61, 0x73, 0x2e],
    ])
    func cycles(bytes: [UInt8]) {
        let error = #expect(throws: ImportError.self) { try TorchArchive.readStream(Data(bytes)) }
        #expect(error?.code == .malformedSource)
        #expect(error?.message.contains("contains itself") == true)
    }
}
