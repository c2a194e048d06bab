import Foundation
import LSTMLayouts
@testable import LSTMImportPyTorch
import LSTMTestSupport
import Testing

/// Deterministic byte mutations of real files: every reader must answer with a model or an `ImportError`,
/// never crash, hang or trap. (A crash fails the whole test run.)
@Suite struct PyTorchMutationTests {
    /// A small deterministic generator (SplitMix64), so failures reproduce.
    struct Mutator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }

        /// One to four edits: overwrite a byte, set it to an interesting value, truncate, or duplicate a run.
        mutating func mutate(_ original: [UInt8]) -> [UInt8] {
            var bytes = original
            for _ in 0...below(4) where !bytes.isEmpty {
                let position = below(bytes.count)
                switch below(5) {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: next())
                case 1: bytes[position] = [0x00, 0xff, 0x7f, 0x80, 0x2e, 0x28][below(6)]
                case 2: bytes.removeSubrange(position...)
                case 3:
                    let end = min(bytes.count, position + 1 + below(16))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                default: bytes[position] ^= UInt8(1 << below(8))
                }
            }
            return bytes
        }
    }

    static func outcome(_ body: () throws(ImportError) -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch {
            return error.code.description
        }
    }

    @Test func mutatedLegacyStreams() throws {
        let original = [UInt8](try Data(contentsOf: PyTorchFixtures.bad("legacy_nonzip.pt")))
        var mutator = Mutator(state: 1)
        var outcomes: [String: Int] = [:]
        for _ in 0..<3000 {
            let bytes = mutator.mutate(original)
            outcomes[Self.outcome { () throws(ImportError) in _ = try TorchArchive.readStream(Data(bytes)) }, default: 0] += 1
        }
        #expect(outcomes.keys.contains("malformed source"), "\(outcomes)")
    }

    @Test func mutatedSafetensors() throws {
        let original = [UInt8](try Data(contentsOf: PyTorchFixtures.url("lstm_bidirectional", "model.safetensors")))
        var mutator = Mutator(state: 2)
        var outcomes: [String: Int] = [:]
        for _ in 0..<3000 {
            let bytes = mutator.mutate(original)
            outcomes[Self.outcome { () throws(ImportError) in
                let dict = try Safetensors.read(Data(bytes))
                _ = try PyTorchImporter.importStateDict(dict)
            }, default: 0] += 1
        }
        #expect(outcomes.keys.contains("malformed source"), "\(outcomes)")
    }

    @Test func mutatedTorchArchives() throws {
        let original = [UInt8](try Data(contentsOf: PyTorchFixtures.url("lstm_strided", "model.pt")))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-pytorch-mutations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var mutator = Mutator(state: 3)
        var outcomes: [String: Int] = [:]
        for index in 0..<400 {
            let url = folder.appendingPathComponent("m\(index).pt")
            try Data(mutator.mutate(original)).write(to: url)
            outcomes[Self.outcome { () throws(ImportError) in _ = try PyTorchImporter.importFile(at: url) }, default: 0] += 1
        }
        #expect(outcomes.keys.contains("malformed source"), "\(outcomes)")
    }
}
