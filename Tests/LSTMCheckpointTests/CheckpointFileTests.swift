import Foundation
import LSTMBinary
import LSTMCheckpoint
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

@Suite("Checkpoint: loading, lazy single-tensor reads, missing files")
struct CheckpointFileTests {
    static let goldenNames = ["small_lstm", "bidirectional_gru", "projected_peephole_lstm", "document_lstm"]

    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-checkpoint-\(UUID().uuidString)-\(name)")
    }

    @Test("open(url).tensor(named:) equals the fully loaded model's tensor, both encodings", arguments: goldenNames)
    func lazyEqualsFull(name: String) throws {
        let binary = FixturePaths.golden("\(name).lstmw")
        let model = try Checkpoint.load(binary)
        let h5 = Self.temporary("\(name).h5")
        defer { try? FileManager.default.removeItem(at: h5) }
        try Checkpoint.save(model, to: h5)
        for url in [binary, h5] {
            let file = try Checkpoint.open(url)
            #expect(Set(file.tensorNames) == Set(model.tensorNames))
            #expect(file.tensorNames.count == model.storedTensors.count)
            for path in model.tensorNames {
                #expect(try file.tensor(named: path) == model[path], "\(url.lastPathComponent) \(path)")
            }
        }
    }

    @Test("a lazy read checks only the tensor it reads: another tensor's damage does not stop it, its own does")
    func lazyReadChecksOnlyItsTensor() throws {
        let source = FixturePaths.golden("small_lstm.lstmw")
        var bytes = try Data(contentsOf: source)
        let file = try BinaryFile(bytes: bytes)
        let entries = file.header.tensors
        #expect(entries.count >= 2)
        let damaged = entries[0], intact = entries[1]
        let offset = file.header.fileOffset(of: damaged)
        bytes[offset] ^= 0xFF
        let url = Self.temporary("damaged.lstmw")
        defer { try? FileManager.default.removeItem(at: url) }
        try bytes.write(to: url)

        #expect(throws: BinaryFormatError(.tensorChecksumMismatch)) { try Checkpoint.load(url) }
        let lazy = try Checkpoint.open(url)
        #expect(try lazy.tensor(named: intact.path).checksum == intact.checksum)
        #expect(throws: BinaryFormatError(.tensorChecksumMismatch)) { try lazy.tensor(named: damaged.path) }
        #expect(throws: BinaryFormatError(.missingTensor)) { try lazy.tensor(named: "layer_7/forward/W_n") }
    }

    @Test("f32 tensors of a .lstmw are views on the mapped file: withUnsafeScalars reads them in place")
    func zeroCopyView() throws {
        let file = try Checkpoint.open(FixturePaths.golden("small_lstm.lstmw"))
        let path = try #require(file.tensorNames.first)
        let tensor = try file.tensor(named: path)
        #expect(tensor.dtype == .f32)
        let viewed = tensor.withUnsafeScalars { Array($0) }
        #expect(viewed == tensor.floats())
    }

    @Test("a missing file is 'no such file' through every entry point")
    func missingFile() {
        let url = Self.temporary("absent.lstmw")
        #expect(throws: CheckpointError(.noSuchFile)) { try Checkpoint.load(url) }
        #expect(throws: CheckpointError(.noSuchFile)) { try Checkpoint.open(url) }
        #expect(throws: CheckpointError(.noSuchFile)) { try Checkpoint.verify(url) }
        do {
            _ = try Checkpoint.load(url)
        } catch let error as CheckpointError {
            #expect(error.failureKind == .noSuchFile)
            #expect(error.description.hasPrefix(url.path + ": no such file"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a file that is neither encoding names what was expected and what was found")
    func notACheckpoint() throws {
        let url = Self.temporary("text.lstmw")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("hello, world".utf8).write(to: url)
        let error = #expect(throws: CheckpointError(.notACheckpoint)) { try Checkpoint.load(url) }
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains("89 4c 53 54") && text.contains("68 65 6c 6c"), "\(text)")
    }
}
