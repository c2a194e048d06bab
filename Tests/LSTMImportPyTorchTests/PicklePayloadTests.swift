import Foundation
import LSTMImportPyTorch
import LSTMLayouts
import Testing

/// Pickles that run a command when a real unpickler loads them. Each run builds them afresh with its own marker
/// path; Python's own `pickle` proves every payload live (it creates its control marker), and our importer must
/// refuse each one without creating the marker it names.
@Suite("Pickle payloads are parsed, never executed", .serialized)
struct PicklePayloadTests {
    /// `posix.system(command)` (protocol 2, GLOBAL), `builtins.exec(code)` (protocol 4, STACK_GLOBAL),
    /// and `subprocess.call(args)` wrapped in a state_dict-looking dict.
    enum Payload: String, CaseIterable, Sendable {
        case osSystemGlobal, execStackGlobal, subprocessInsideDict

        func pickle(marker: String) -> Data {
            var bytes: [UInt8] = []
            func text(_ string: String) {
                let utf8 = Array(string.utf8)
                bytes += [0x58] + withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init) + utf8  // BINUNICODE
            }
            switch self {
            case .osSystemGlobal:
                bytes += [0x80, 0x02] + Array("cposix\nsystem\n".utf8)  // PROTO 2, GLOBAL
                text("touch \(marker)")
                bytes += [0x85, 0x52, 0x2E]  // TUPLE1, REDUCE, STOP
            case .execStackGlobal:
                bytes += [0x80, 0x04]  // PROTO 4
                text("builtins")
                text("exec")
                bytes += [0x93]  // STACK_GLOBAL
                text("open(\(String(reflecting: marker)), 'w').close()")
                bytes += [0x85, 0x52, 0x2E]
            case .subprocessInsideDict:
                bytes += [0x80, 0x02, 0x7D, 0x28]  // PROTO 2, EMPTY_DICT, MARK
                text("rnn.weight_ih_l0")
                bytes += Array("csubprocess\ncall\n".utf8)
                bytes += [0x28]  // MARK
                text("touch")
                text(marker)
                bytes += [0x6C, 0x85, 0x52]  // LIST, TUPLE1, REDUCE
                bytes += [0x75, 0x2E]  // SETITEMS, STOP
            }
            return Data(bytes)
        }
    }

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-pickle-\(UUID().uuidString)-\(name)").path
    }

    @Test("Python's pickle runs the payload; our importer refuses it and runs nothing", arguments: Payload.allCases)
    func payloadIsRefused(payload: Payload) throws {
        // Control: the same payload with its own marker, loaded by CPython, must create that marker.
        let control = Self.temporary("control")
        let controlFile = Self.temporary("control.pt")
        defer { try? FileManager.default.removeItem(atPath: control); try? FileManager.default.removeItem(atPath: controlFile) }
        try payload.pickle(marker: control).write(to: URL(fileURLWithPath: controlFile))
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", "import pickle, sys\ntry: pickle.load(open(sys.argv[1], 'rb'))\nexcept Exception: pass", controlFile]
        try python.run()
        python.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: control), "the payload is not live: CPython did not create \(control)")

        // Under test: a fresh marker no earlier run can have created.
        let marker = Self.temporary("marker")
        let file = Self.temporary("payload.pt")
        defer { try? FileManager.default.removeItem(atPath: marker); try? FileManager.default.removeItem(atPath: file) }
        try payload.pickle(marker: marker).write(to: URL(fileURLWithPath: file))
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(throws: ImportError(.forbiddenPickle, "")) {
            try PyTorchImporter.importFile(at: URL(fileURLWithPath: file))
        }
        Thread.sleep(forTimeInterval: 0.2)  // a spawned `touch` would have finished by now
        #expect(!FileManager.default.fileExists(atPath: marker), "a payload ran: \(marker) exists")
    }
}
