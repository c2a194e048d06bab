import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import LSTMModel
import LSTMTestSupport
import Testing

/// The importer's own extra inputs (`Fixtures/pytorch-importer/generate.py`): checkpoints, big-endian archives,
/// a zip bomb that lies about its size, `bias=False`, float64.
@Suite struct PyTorchExtraInputTests {
    static let root = PyTorchFixtures.root.deletingLastPathComponent().appendingPathComponent("pytorch-importer")

    @Test func aTrainingCheckpointIsFlattenedAndItsExtrasListed() throws {
        let result = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("checkpoint.pt"))
        guard case .recurrent(let layer) = try #require(result.model.layers.first) else { Issue.record("not recurrent"); return }
        #expect(layer.cell == .lstm && layer.inputSize == 3 && layer.hiddenSize == 4)
        #expect(result.layerSummaries.first?.contains("\"model\"") == true)
        #expect(result.ignoredKeys.contains("epoch"))
        #expect(result.ignoredKeys.contains { $0.hasPrefix("optimizer.state.") && $0.hasSuffix("exp_avg") })
        #expect(!result.ignoredKeys.contains { $0.hasPrefix("model.") })
    }

    @Test func bigEndianArchivesAreSwapped() throws {
        let big = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("big_endian.pt"))
        let little = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("lstm_nobias/model.pt"))
        #expect(big.model.layers == little.model.layers)
        #expect(try PyTorchImporter.readStateDict(at: Self.root.appendingPathComponent("big_endian.pt")).stateDict.metadata["byteorder"] == "big")
    }

    @Test func pickleProtocol4ArchivesImport() throws {
        let four = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("protocol4.pt"))
        let two = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("lstm_nobias/model.pt"))
        #expect(four.model.layers == two.model.layers)
    }

    @Test func extractionStopsAtTheDeclaredSize() {
        // data/0 declares 320 bytes but inflates to 64 MiB; the ratio check cannot see it, the extraction cap must.
        do {
            _ = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("lying_bomb.pt"))
            Issue.record("the lying zip bomb was accepted")
        } catch {
            #expect(error.code == .archiveLimit, "\(error)")
            #expect(error.description.contains("extraction stopped"), "\(error)")
        }
    }

    @Test func biasFalseAndFloat64ImportFromBothFormats() throws {
        for name in ["lstm_nobias", "gru_float64"] {
            let pt = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("\(name)/model.pt"))
            let st = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("\(name)/model.safetensors"))
            #expect(pt.model.layers == st.model.layers, "\(name)")
            #expect(st.model.provenance.sourceFrameworkVersion.hasPrefix("2."), "safetensors metadata carries torch_version")
            #expect(pt.model.provenance.sourceFrameworkVersion == "", "a torch.save archive does not state the torch version")
        }
        let nobias = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("lstm_nobias/model.pt"))
        #expect(nobias.notes.contains { $0.contains("bias=False") })
        for layer in nobias.model.layers {
            guard case .recurrent(let recurrent) = layer else { continue }
            #expect(recurrent.directions[0][.bh_v]?.doubles().allSatisfy { $0 == 0 } == true)
        }
        let float64 = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("gru_float64/model.safetensors"))
        #expect(float64.model.storedTensors.allSatisfy { $0.tensor.dtype == .f64 })
    }

    @Test func torchScriptArchivesAreRefusedWithAdvice() {
        do {
            _ = try PyTorchImporter.importFile(at: Self.root.appendingPathComponent("torchscript.pt"))
            Issue.record("a TorchScript archive was accepted")
        } catch {
            #expect(error.code == .forbiddenPickle, "\(error)")
            #expect(error.description.contains("TorchScript") && error.description.contains("state_dict()"), "\(error)")
        }
    }

    /// A bare hostile pickle named `.pt` (no zip) is still read by the restricted unpickler, never executed.
    @Test func bareHostilePicklesAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-pytorch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("evil.pt")
        try Data([0x80, 0x02] + Array("cposix\nsystem\nX\u{4}\0\0\0trueR.".utf8)).write(to: url)
        #expect(PyTorchImporter.canRead(url))
        do {
            _ = try PyTorchImporter.importFile(at: url)
            Issue.record("a hostile bare pickle was accepted")
        } catch {
            #expect(error.code == .forbiddenPickle && error.description.contains("posix.system"), "\(error)")
        }
        // A damaged .safetensors file is still claimed by this importer, so its error is the precise one.
        let damaged = folder.appendingPathComponent("damaged.safetensors")
        try Data([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7b]).write(to: damaged)
        #expect(PyTorchImporter.canRead(damaged))
        #expect(throws: ImportError(.malformedSource, "")) { try PyTorchImporter.importFile(at: damaged) }
    }
}
