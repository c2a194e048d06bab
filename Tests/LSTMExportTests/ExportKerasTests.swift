import Foundation
import LSTMEngine
import LSTMExport
import LSTMImportKeras
import LSTMImportPyTorch
import LSTMModel
import NumPyIO
import LSTMTestSupport
import Testing

/// Keras models moved into PyTorch's layout: import → export → re-import, then both engines must still reproduce
/// Keras' own `model.predict` (`expected.npy`). Models PyTorch cannot express must be refused.
@Suite("Export: Keras models through PyTorch's layout")
struct ExportKerasTests {
    /// Whether the case's layers (as `case.json` states them, independently of the importer and exporter) have a
    /// PyTorch form: LSTM, or GRU with reset after; tanh/sigmoid; no go_backwards; concat merge; an embedding only
    /// first; at most one dense layer (its activation is stated in the metadata, not refused).
    static func expressible(_ fixture: KerasCase) -> Bool {
        let dense = fixture.expected_layers.filter { $0.kind == "dense" }
        guard dense.count <= 1 else { return false }
        for (index, layer) in fixture.expected_layers.enumerated() {
            switch layer.kind {
            case "embedding": if index != 0 { return false }
            case "lstm", "gru":
                if layer.go_backwards == true || layer.activation != "tanh" || layer.recurrent_activation != "sigmoid" { return false }
                if (layer.directions ?? 1) == 2, layer.merge_mode != "concat" { return false }
                if layer.kind == "gru", layer.reset != "after" { return false }
            default: break
            }
        }
        return true
    }

    /// Re-imports an export: every recurrent module in order (`<prefix>` or `<prefix>.<m>`), the head with the last.
    static func reimport(_ url: URL, export: PyTorchExport, lastReturnsSequences: Bool) throws -> Model {
        let dict = try PyTorchImporter.readStateDict(at: url).stateDict
        let recurrent = export.modules.filter { ["LSTM", "GRU"].contains($0.className) }
        let head = export.modules.first { $0.className == "Linear" }
        #expect(Set(PyTorchImporter.recurrentModules(in: dict)) == Set(recurrent.map(\.prefix)))
        var layers: [Layer] = []
        for (number, module) in recurrent.enumerated() {
            let isLast = number == recurrent.count - 1
            var options = PyTorchImportOptions(
                module: module.prefix, head: isLast ? head?.prefix : nil, returnSequences: isLast ? lastReturnsSequences : true)
            options.finalOutput = .finalState  // Keras' return_sequences=False: each direction's final state (h_n)
            layers += try PyTorchImporter.importStateDict(dict, options: options).model.layers
        }
        // The head's activation is not in the state_dict; the metadata states it, and the user applies it.
        if let activation = export.headActivation, case .dense(var dense)? = layers.last {
            #expect(export.metadata["lstmconv.head_activation"] != nil)
            dense.activation = activation
            layers[layers.count - 1] = .dense(dense)
        }
        let model = Model(layers: layers)
        try model.validate()
        return model
    }

    @Test("exportable cases re-import and reproduce Keras within 1e-5 on both engines; the rest are refused",
          arguments: KerasFixtures.sources)
    func exportReimportRun(_ source: KerasFixtureSource) throws {
        let fixture = try source.fixture
        let folder = KerasFixtures.directory.appendingPathComponent(fixture.case)
        let model = try KerasImporter.importFile(at: source.file, options: KerasImportOptions(config: source.config)).model
        guard Self.expressible(fixture) else {
            #expect(throws: ExportError(.notExpressible)) { try PyTorchExporter.export(model) }
            return
        }
        let scratch = try ScratchFolder()
        let url = scratch.file("keras.safetensors")
        let export = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "rnn"))
        try PyTorchExporter.write(export, to: url)
        let lastRecurrent = try #require(fixture.expected_layers.last { $0.kind == "lstm" || $0.kind == "gru" })
        let again = try Self.reimport(url, export: export, lastReturnsSequences: lastRecurrent.return_sequences ?? false)
        #expect(again.layers.count == model.layers.count)

        // Single-bias Keras layers come back with bh = 0 (bias_hh zeros); everything else is the same bytes.
        for (before, after) in zip(model.layers, again.layers) {
            guard case .recurrent(let original) = before, case .recurrent(let returned) = after else {
                #expect(before.parameterSets.map(\.parameters.tensors) == after.parameterSets.map(\.parameters.tensors))
                continue
            }
            for (set, back) in zip(original.directions, returned.directions) {
                for (role, tensor) in set.tensors { #expect(back.tensors[role] == tensor, "\(role)") }
                for (role, tensor) in back.tensors where set.tensors[role] == nil {
                    #expect(role.rawValue.hasPrefix("bh_") && tensor.doubles().allSatisfy { $0 == 0 }, "\(role)")
                }
            }
        }

        let input = try NumPyArray(contentsOf: folder.appendingPathComponent(fixture.input.file))
        let expected = try NumPyArray(contentsOf: folder.appendingPathComponent(fixture.expected.file))
        let forwardInput: ForwardInput = .float32(try NDArray(shape: input.shape, scalars: input.floats))
        for engine in Engine.allCases {
            let output = try engine.run(again, input: forwardInput).output
            try #require(output.shape == expected.shape, "output \(output.shape), expected \(expected.shape)")
            let worst = zip(output.scalars, expected.doubles).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(source.testDescription) on \(engine.rawValue): max abs error \(worst)")
        }
    }

    @Test("at least the LSTM, GRU (reset after), bidirectional, stacked and CuDNN cases are exported")
    func coverage() {
        let exported = Set(KerasFixtures.caseNames.filter { (try? KerasCase.load($0)).map(Self.expressible) ?? false })
        for name in ["k3_bigru_concat_seq", "tfk_bigru_concat_seq", "k3_stacked_lstm_dense", "tfk_stacked_lstm_dense", "tfk_cudnn_lstm", "tfk_cudnn_gru"] {
            #expect(exported.contains(name), "\(name)")
        }
    }
}
