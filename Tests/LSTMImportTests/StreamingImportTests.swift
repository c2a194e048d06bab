import Foundation
import LSTMCheckpoint
import LSTMImport
import LSTMImportKeras
import LSTMImportPyTorch
import LSTMLayouts
import LSTMModel
import LSTMTestSupport
import Testing

/// `lstmconv import -o` streams: the importer describes the model (deferred tensors) and each tensor is read from
/// the source only when the writer reaches it. Over every Keras and PyTorch fixture, the streamed output is byte
/// for byte what the in-memory import writes, in both encodings.
@Suite("Streaming import writes what the in-memory import writes")
struct StreamingImportTests {
    struct Source: Sendable, CustomTestStringConvertible {
        var file: URL
        var keras: KerasImportOptions?
        var pytorch: PyTorchImportOptions?
        var testDescription: String { file.pathComponents.suffix(2).joined(separator: "/") }
    }

    static let sources: [Source] = {
        var result = KerasFixtures.sources.map { source in
            Source(file: source.file, keras: KerasImportOptions(config: source.config), pytorch: nil)
        }
        for name in PyTorchFixtures.caseNames {
            guard let fixture = try? PyTorchFixtures.Case(name) else { continue }
            for file in [fixture.pt, fixture.safetensors] where FileManager.default.fileExists(atPath: file.path) {
                result.append(Source(file: file, keras: nil, pytorch: fixture.options))
            }
        }
        return result
    }()

    static func importFile(_ source: Source, streaming: Bool) throws -> ImportResult {
        if var options = source.keras {
            if streaming { options.sourceCache = SourceCache() }
            return try KerasImporter.importFile(at: source.file, options: options)
        }
        var options = try #require(source.pytorch)
        if streaming { options.sourceCache = SourceCache() }
        return try PyTorchImporter.importFile(at: source.file, options: options)
    }

    @Test("byte-identical .lstmw and .h5", arguments: sources)
    func streamedEqualsInMemory(_ source: Source) throws {
        let eager = try Self.importFile(source, streaming: false)
        let streamed = try Self.importFile(source, streaming: true)
        #expect(!eager.model.storedTensors.contains { $0.tensor.isDeferred })
        // Every tensor read from the file is deferred (zero biases of use_bias=False layers are made in memory).
        #expect(streamed.model.storedTensors.contains { $0.tensor.isDeferred }, "nothing was deferred: the import did not stream")
        #expect(streamed.tensorMap.map(\.document) == eager.tensorMap.map(\.document))
        #expect(streamed.tensorMap.map(\.source) == eager.tensorMap.map(\.source))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for name in ["m.lstmw", "m.h5"] {
            let expected = folder.appendingPathComponent("eager-" + name), written = folder.appendingPathComponent("streamed-" + name)
            try Checkpoint.save(eager.model, to: expected)
            try Checkpoint.saveStreaming(streamed.model, to: written)
            #expect(try Data(contentsOf: written) == Data(contentsOf: expected), "\(name) differs")
        }
    }

    @Test("a source truncated after the model was described fails the write with a typed error and leaves no output")
    func truncatedSourceLeavesNoOutput() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixture = try PyTorchFixtures.Case("lstm_2layer")
        let copy = folder.appendingPathComponent("model.safetensors")
        try FileManager.default.copyItem(at: fixture.safetensors, to: copy)
        var options = fixture.options
        options.sourceCache = SourceCache()
        let streamed = try PyTorchImporter.importFile(at: copy, options: options)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: copy.path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: copy)
        try handle.truncate(atOffset: UInt64(size / 2))
        try handle.close()
        for name in ["m.lstmw", "m.h5"] {
            let output = folder.appendingPathComponent(name)
            #expect {
                try Checkpoint.saveStreaming(streamed.model, to: output)
            } throws: { error in
                (error as? ImportError)?.code == .malformedSource
            }
            #expect(!FileManager.default.fileExists(atPath: output.path))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
            #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
        }
    }
}
