import Foundation
import LSTMExport
import LSTMLayouts
import LSTMImportPyTorch
import LSTMModel
import LSTMTestSupport
import Testing

/// One PyTorch file to import, export and compare.
struct ExportRoundTripCase: Sendable, CustomTestStringConvertible {
    var name: String
    var folder: URL
    var importOptions: PyTorchImportOptions
    var exportOptions: PyTorchExportOptions
    /// The module's constructor arguments as the fixture generator recorded them (`nil`: not recorded).
    var module: [String: String]?
    var testDescription: String { name }

    var safetensors: URL { folder.appendingPathComponent("model.safetensors") }

    /// Every `Fixtures/pytorch/<case>/` plus the importer's `bias=False` and float64 extras.
    static let all: [ExportRoundTripCase] = {
        var cases: [ExportRoundTripCase] = PyTorchFixtures.caseNames.compactMap { name in
            guard let fixture = try? PyTorchFixtures.Case(name) else { return nil }
            let module = fixture.module
            let className = module["class"] as? String ?? ""
            var arguments: [String: String] = [:]
            for key in ["input_size", "hidden_size", "num_layers", "proj_size"] {
                if let value = module[key] as? Int { arguments[key] = String(value) }
            }
            if let bidirectional = module["bidirectional"] as? Bool { arguments["bidirectional"] = String(bidirectional) }
            arguments["class"] = className
            let head = fixture.head?["prefix"] as? String
            return ExportRoundTripCase(
                name: name, folder: PyTorchFixtures.root.appendingPathComponent(name), importOptions: fixture.options,
                exportOptions: PyTorchExportOptions(prefix: fixture.prefix, headPrefix: head ?? "head", cellNames: className.hasSuffix("Cell")),
                module: arguments)
        }
        cases.append(
            ExportRoundTripCase(
                name: "pytorch-importer/gru_float64", folder: FixturePaths.fixture("pytorch-importer").appendingPathComponent("gru_float64"),
                importOptions: PyTorchImportOptions(), exportOptions: PyTorchExportOptions(), module: nil))
        cases.append(
            ExportRoundTripCase(
                name: "pytorch-importer/lstm_nobias", folder: FixturePaths.fixture("pytorch-importer").appendingPathComponent("lstm_nobias"),
                importOptions: PyTorchImportOptions(), exportOptions: PyTorchExportOptions(includeBias: false), module: nil))
        return cases
    }()
}

/// A scratch folder removed at the end of a test.
final class ScratchFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Header-level view of a safetensors file, parsed with Foundation's JSON (independently of our reader).
struct RawSafetensors {
    var headerLength: Int
    var header: [String: Any]
    var buffer: Data

    init(_ data: Data) throws {
        headerLength = Int(data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        let json = data.subdata(in: 8 ..< 8 + headerLength)
        header = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        buffer = data.subdata(in: 8 + headerLength ..< data.count)
    }

    var metadata: [String: String] { header["__metadata__"] as? [String: String] ?? [:] }
}

@Suite("Export: PyTorch files round-trip byte for byte")
struct ExportPyTorchRoundTripTests {
    @Test("import → export gives the original tensors, keys and bytes; the export re-imports to the same model",
          arguments: ExportRoundTripCase.all)
    func roundTrip(_ testCase: ExportRoundTripCase) throws {
        let scratch = try ScratchFolder()
        let original = try PyTorchImporter.readStateDict(at: testCase.safetensors).stateDict
        let imported = try PyTorchImporter.importFile(at: testCase.safetensors, options: testCase.importOptions)
        #expect(imported.ignoredKeys.isEmpty, "the fixture has keys the import does not use: \(imported.ignoredKeys)")

        let export = try PyTorchExporter.export(imported.model, options: testCase.exportOptions)
        let out = scratch.file("out.safetensors")
        try PyTorchExporter.write(export, to: out)
        let written = try PyTorchImporter.readStateDict(at: out).stateDict

        // Same key set; every tensor byte-identical (dtype, shape, bytes).
        #expect(Set(written.entries.map(\.key)) == Set(original.entries.map(\.key)))
        for (key, value) in original.entries {
            let tensor = try #require(original.tensor(key), "\(key) is not a float tensor: \(value)")
            #expect(written.tensor(key) == tensor, "\(testCase.name): \(key) differs")
        }
        // The data buffer is the one safetensors.torch.save_file wrote (same order, same bytes).
        let ours = try RawSafetensors(try Data(contentsOf: out))
        let theirs = try RawSafetensors(try Data(contentsOf: testCase.safetensors))
        #expect(ours.buffer == theirs.buffer)
        #expect(ours.headerLength % 8 == 0)
        #expect(ours.metadata["format"] == "pt")

        // The export re-imports to the same model (layers, sources and all).
        let again = try PyTorchImporter.importFile(at: out, options: testCase.importOptions)
        #expect(again.model.layers == imported.model.layers)
        #expect(again.model.provenance.sourceLayout == imported.model.provenance.sourceLayout)
        #expect(again.ignoredKeys.isEmpty)

        // The recorded module matches the generator's description of the PyTorch module.
        if let module = testCase.module {
            let modules = try #require(
                try JSONSerialization.jsonObject(with: Data((ours.metadata["lstmconv.modules"] ?? "").utf8)) as? [[String: Any]])
            let recurrent = try #require(modules.first { ["LSTM", "GRU", "LSTMCell", "GRUCell"].contains($0["class"] as? String ?? "") })
            let arguments = recurrent["args"] as? [String: Any] ?? [:]
            #expect(recurrent["class"] as? String == module["class"])
            #expect(recurrent["prefix"] as? String == testCase.exportOptions.prefix)
            for key in ["input_size", "hidden_size"] {
                #expect((arguments[key] as? Int).map(String.init) == module[key], "\(key)")
            }
            if !(module["class"] ?? "").hasSuffix("Cell") {
                for key in ["num_layers", "proj_size"] where module["class"] == "LSTM" || key == "num_layers" {
                    #expect((arguments[key] as? Int).map(String.init) == module[key], "\(key)")
                }
                #expect((arguments["bidirectional"] as? Bool).map { String($0) } == module["bidirectional"])
                #expect(arguments["batch_first"] as? Bool == true)
            }
        }
    }

    @Test("without --prefix the module prefix is dropped; --prefix restores it", arguments: ["prefixed_head_last", "prefixed_head_every_step"])
    func prefixes(_ name: String) throws {
        let fixture = try PyTorchFixtures.Case(name)
        let model = try PyTorchImporter.importFile(at: fixture.safetensors, options: fixture.options).model
        let bare = try PyTorchExporter.export(model)
        #expect(bare.tensors.allSatisfy { !$0.key.hasPrefix("encoder.") })
        #expect(bare.tensors.contains { $0.key == "weight_ih_l0" })
        #expect(bare.tensors.contains { $0.key == "head.weight" })
        let renamed = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "net.lstm", headPrefix: "net.out"))
        #expect(renamed.tensors.map(\.key).filter { !$0.hasPrefix("net.lstm.") && !$0.hasPrefix("net.out.") } == [])
        #expect(Set(renamed.tensors.map(\.tensor.bytes)) == Set(bare.tensors.map(\.tensor.bytes)))
    }
}
