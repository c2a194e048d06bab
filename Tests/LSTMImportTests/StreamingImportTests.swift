import FileSignatures
import Foundation
import LSTMCheckpoint
import LSTMExport
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

extension StreamingImportTests {
    @Test("a damaged torch storage (stored member, read by range) fails its CRC-32 when written, leaving no output")
    func damagedTorchStorage() throws {
        let fixture = try PyTorchFixtures.Case("lstm_2layer")
        let members = FileSignature.zipStoredMembers(at: fixture.pt)
        let storage = try #require(members.filter { $0.key.contains("/data/") && $0.value.size > 0 }.sorted { $0.key < $1.key }.first)
        var bytes = try Data(contentsOf: fixture.pt)
        bytes[storage.value.offset + storage.value.size / 2] ^= 0x01
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let damaged = folder.appendingPathComponent("model.pt")
        try bytes.write(to: damaged)
        var options = fixture.options
        options.sourceCache = SourceCache()
        let streamed = try PyTorchImporter.importFile(at: damaged, options: options)
        let output = folder.appendingPathComponent("m.lstmw")
        let error = #expect(throws: ImportError.self) { try Checkpoint.saveStreaming(streamed.model, to: output) }
        #expect(error?.code == .malformedSource)
        #expect(error?.description.contains("CRC-32") == true)
        #expect(error?.description.contains(storage.key) == true)
        #expect(!FileManager.default.fileExists(atPath: output.path))
        // The in-memory import refuses the same file (ZIPFoundation's CRC check).
        #expect(throws: ImportError.self) { try PyTorchImporter.importFile(at: damaged, options: fixture.options) }
    }
}

/// `lstmconv export` streams: the model file's tensors are deferred (`Checkpoint.loadDeferred`) and each is read
/// when the writer reaches it. Over every Keras and PyTorch fixture (imported, saved as `.lstmw`; as `.h5` for one
/// target), every export writes the same bytes as from the model in memory, or fails with the same error.
@Suite("Streaming export writes what the in-memory export writes")
struct StreamingExportTests {
    enum Target: String, CaseIterable { case safetensors, keras, kerasH5 = "h5", onnx }

    static func export(_ model: Model, _ target: Target, to url: URL) throws {
        switch target {
        case .safetensors: try PyTorchExporter.write(try PyTorchExporter.export(model), to: url)
        case .keras: try KerasExporter.write(try KerasExporter.export(model), to: url)
        case .kerasH5: try KerasExporter.writeLegacyH5(try KerasExporter.export(model), to: url)
        case .onnx: try ONNXExporter.write(try ONNXExporter.export(model), to: url)
        }
    }

    @Test("byte-identical exports from a deferred checkpoint", arguments: StreamingImportTests.sources)
    func streamedEqualsInMemory(_ source: StreamingImportTests.Source) throws {
        let model = try StreamingImportTests.importFile(source, streaming: false).model
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for encoding in ["lstmw", "h5"] {
            let checkpoint = folder.appendingPathComponent("m.\(encoding)")
            try Checkpoint.save(model, to: checkpoint)
            let loaded = try Checkpoint.load(checkpoint)
            let deferred = try Checkpoint.loadDeferred(checkpoint)
            #expect(deferred.storedTensors.allSatisfy { $0.tensor.isDeferred })
            // Every target from `.lstmw`; from `.h5` (the other deferred reader) one is enough.
            for target in encoding == "lstmw" ? Target.allCases : [.safetensors] {
                let expected = folder.appendingPathComponent("eager-\(encoding).\(target.rawValue)")
                let written = folder.appendingPathComponent("streamed-\(encoding).\(target.rawValue)")
                let eagerError: (any Error)?
                do {
                    try Self.export(loaded, target, to: expected)
                    eagerError = nil
                } catch {
                    eagerError = error
                }
                if let eagerError {
                    #expect(throws: (any Error).self) { try Self.export(deferred, target, to: written) }
                    do { try Self.export(deferred, target, to: written) } catch {
                        // The same failure, naming its own output file.
                        #expect("\(error)".replacingOccurrences(of: written.path, with: expected.path) == "\(eagerError)")
                    }
                    continue
                }
                try Self.export(deferred, target, to: written)
                #expect(try Data(contentsOf: written) == Data(contentsOf: expected), "\(encoding) → \(target.rawValue) differs")
                if target == .onnx {
                    // The ONNX file was streamed: its initializers were still deferred when it was written.
                    #expect(!(try ONNXExporter.export(deferred).deferred.isEmpty))
                }
            }
        }
    }
}
