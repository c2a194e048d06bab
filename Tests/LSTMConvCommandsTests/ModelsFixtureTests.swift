import Foundation
import LSTMConv
@testable import LSTMConvCommands
import Testing

/// Issue 13 fixtures (`Fixtures/models/<case>/`, written by `Fixtures/fixturegen/models_*.py` with real PyTorch,
/// Keras 3 and tf-keras): models as people build them. Every source file of every case is imported with the
/// options its `case.json` states and run by both engines with its run options (lengths, time-major); the output
/// must match the framework's own `expected.npy` to 1e-5.
@Suite struct ModelsFixtureTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models")

    static let allCaseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: root.appendingPathComponent("\($0)/case.json").path) }.sorted()
    }()

    static let caseNames = allCaseNames

    struct Case {
        let name: String
        let json: [String: Any]

        init(_ name: String) throws {
            self.name = name
            let data = try Data(contentsOf: ModelsFixtureTests.root.appendingPathComponent("\(name)/case.json"))
            json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        }

        func url(_ file: String) -> URL { ModelsFixtureTests.root.appendingPathComponent(name).appendingPathComponent(file) }
        var sources: [String] { json["sources"] as? [String] ?? [] }
        var importJSON: [String: Any] { json["import"] as? [String: Any] ?? [:] }
        var runJSON: [String: Any] { json["run"] as? [String: Any] ?? [:] }

        /// What `lstmconv run` flags the case states.
        func runOptions() throws -> RunOptions {
            var run = RunOptions(timeMajor: runJSON["time_major"] as? Bool ?? false)
            if let file = runJSON["lengths"] as? String {
                run.lengths = try ForwardJob.lengths(from: url(file))
            }
            return run
        }

        /// What `lstmconv import` flags the case states, as library options.
        var options: ImportOptions {
            var options = ImportOptions(
                module: importJSON["module"] as? String, head: importJSON["head"] as? String,
                lastStepOnly: importJSON["last_step"] as? Bool ?? false, finalStatesOnly: importJSON["final_states"] as? Bool ?? false)
            options.config = (importJSON["config"] as? String).map(url)
            if importJSON["nonlinearity"] as? String == "relu" { options.nonlinearity = .relu }
            options.embedding = importJSON["embedding"] as? String
            return options
        }

    }

    @Test(arguments: caseNames, [Engine.reference, .fast])
    func reproducesTheFramework(_ name: String, _ engine: Engine) throws {
        let fixture = try Case(name)
        #expect(!fixture.sources.isEmpty, "\(name) lists no source")
        let expectedArray = try NumPyArray(contentsOf: fixture.url("expected.npy"))
        let expected = try NDArray(shape: expectedArray.shape, scalars: expectedArray.doubles)
        for source in fixture.sources {
            let model = try ModelSource.load(fixture.url(source), options: fixture.options)
            let input = try ForwardJob.input(from: fixture.url("input.npy"), for: model)
            let result = try engine.prepare(model).run(input, initialStates: [:], options: try fixture.runOptions())
            // 1e-5 everywhere, except where Keras computes in float16 (the case states its bound and why).
            let atol = (fixture.json["tolerance"] as? [String: Any])?["atol"] as? Double ?? 1e-5
            if fixture.json["float16"] as? Bool == true {
                #expect(model.provenance.sourceComputeDType == "float16", "\(name)/\(source): the float16 policy is not recorded")
            }
            let comparison = Comparison(actual: result.output, expected: expected, atol: atol, rtol: 0)
            #expect(comparison.shapeMismatch == nil, "\(name)/\(source): output \(result.output.shape), expected \(expected.shape)")
            #expect(
                comparison.maxAbsoluteError <= atol,
                "\(name)/\(source) on the \(engine) engine: max abs error \(comparison.maxAbsoluteError)")
        }
    }
}

/// The plain RNN leaves through the PyTorch exporter as an `nn.RNN` state_dict and comes back unchanged.
@Suite struct SimpleRNNExportTests {
    @Test(arguments: ["torch_rnn_tanh_2layer_bidirectional", "torch_rnn_relu", "k3_simple_rnn"])
    func exportReimportsToTheSameModel(_ name: String) throws {
        let fixture = try ModelsFixtureTests.Case(name)
        let source = fixture.url(fixture.sources[0])
        var model = try ModelSource.load(source, options: fixture.options)
        if name == "k3_simple_rnn" {
            // nn.RNN stacks one module per activation; Keras' Dense head with a bidirectional relu layer is kept.
            model.layers = Array(model.layers.prefix(1))
        }
        let export = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "rnn"))
        let rnn = try #require(export.modules.first)
        #expect(rnn.className == "RNN")
        let nonlinearity = rnn.arguments.first { $0.name == "nonlinearity" }?.value
        guard case .recurrent(let first) = model.layers[0] else { Issue.record("not recurrent"); return }
        #expect(nonlinearity == .string(first.activation == .relu ? "relu" : "tanh"))
        let scratch = try Scratch()
        let file = scratch.url.appendingPathComponent("rnn.safetensors")
        try PyTorchExporter.write(export, to: file)
        var options = ImportOptions(module: "rnn")
        options.nonlinearity = first.activation
        let back = try ModelSource.importFile(file, options: options).model
        for (a, b) in zip(model.layers, back.layers) {
            guard case .recurrent(let x) = a, case .recurrent(let y) = b else { continue }
            #expect(x.cell == .rnn && y.cell == .rnn && x.activation == y.activation)
            for (setA, setB) in zip(x.directions, y.directions) {
                #expect(setA.tensors[.W_s] == setB.tensors[.W_s])
                #expect(setA.tensors[.b_s] == setB.tensors[.b_s])
            }
        }
    }
}

/// `nn.Embedding → nn.LSTM/GRU → nn.Linear` imports whole: the embedding is found without `--embedding`, and
/// `--embedding ""` leaves it out (then listed as ignored).
@Suite struct PyTorchEmbeddingTests {
    @Test(arguments: ["torch_embedding_lstm_linear", "torch_embedding_gru_linear"])
    func foundAutomatically(_ name: String) throws {
        let fixture = try ModelsFixtureTests.Case(name)
        var options = fixture.options
        options.embedding = nil
        let result = try ModelSource.importFile(fixture.url("model.pt"), options: options)
        guard case .embedding(let table) = result.model.layers.first else {
            Issue.record("no embedding layer: \(result.model.layers.map(\.kindName))")
            return
        }
        #expect(table.vocabularySize == 7 && table.embeddingSize == 3)
        #expect(!result.ignoredKeys.contains("embedding.weight"))
        options.embedding = ""
        let without = try ModelSource.importFile(fixture.url("model.pt"), options: options)
        #expect(without.model.layers.first?.kindName != "embedding")
        #expect(without.ignoredKeys.contains("embedding.weight"))
    }
}

/// A stateful Keras LSTM: `run` from zeros reproduces Keras' first batch, its final states equal the states Keras
/// carried, and a second run from those states reproduces Keras' second batch.
@Suite struct StatefulTests {
    @Test(arguments: ["k3_stateful_lstm", "tfk_stateful_lstm"], [Engine.reference, .fast])
    func carriesStatesLikeKeras(_ name: String, _ engine: Engine) throws {
        let fixture = try ModelsFixtureTests.Case(name)
        for source in fixture.sources {
            let model = try ModelSource.load(fixture.url(source), options: fixture.options)
            guard case .recurrent(let layer) = model.layers[0] else { Issue.record("not recurrent"); return }
            #expect(layer.stateful)
            let pass = try engine.prepare(model)
            let first = try pass.run(try ForwardJob.input(from: fixture.url("input.npy"), for: model))
            let states = try ForwardJob.states(from: fixture.url("expected_states.npz"))
            for (key, state) in states {
                let mine = try #require(first.finalStates[key])
                let stm = Comparison(actual: mine.STM, expected: state.STM, atol: 1e-5, rtol: 0)
                #expect(stm.shapeMismatch == nil && stm.maxAbsoluteError <= 1e-5, "\(name)/\(source) \(key) STM: \(stm.maxAbsoluteError)")
                if let ltm = state.LTM, let myLTM = mine.LTM {
                    let c = Comparison(actual: myLTM, expected: ltm, atol: 1e-5, rtol: 0)
                    #expect(c.maxAbsoluteError <= 1e-5, "\(name)/\(source) \(key) LTM: \(c.maxAbsoluteError)")
                }
            }
            let second = try pass.run(try ForwardJob.input(from: fixture.url("input2.npy"), for: model), initialStates: first.finalStates)
            let expected2 = try ForwardJob.expected(from: fixture.url("expected2.npy"))
            let comparison = Comparison(actual: second.output, expected: expected2, atol: 1e-5, rtol: 0)
            #expect(comparison.maxAbsoluteError <= 1e-5, "\(name)/\(source) second batch: \(comparison.maxAbsoluteError)")
        }
    }
}

/// The new attributes (rnn kind, final_output, mask_zero, mask_value, masked_output, time_major, stateful,
/// source_compute_dtype) survive both encodings: every imported fixture model saved as `.lstmw` and `.h5` loads back
/// equal, and the reloaded file still reproduces the framework.
@Suite struct ModelsEncodingTests {
    @Test(arguments: ModelsFixtureTests.caseNames)
    func roundTripsThroughBothEncodings(_ name: String) throws {
        let fixture = try ModelsFixtureTests.Case(name)
        let model = try ModelSource.load(fixture.url(fixture.sources[0]), options: fixture.options)
        let scratch = try Scratch()
        for file in ["model.lstmw", "model.h5"] {
            let url = scratch.url.appendingPathComponent(file)
            try Checkpoint.save(model, to: url)
            let back = try Checkpoint.load(url)
            #expect(back == model, "\(name) through \(file)")
        }
    }

    @Test("schema 2 exactly when a schema-1 reader would compute something else", arguments: [
        ("torch_bilstm_head_final_states", Int64(1)), ("torch_embedding_lstm_linear", 2), ("torch_rnn_relu", 2),
        ("k3_masking_lstm_bigru", 2), ("k3_time_distributed_dense", 1), ("tfk_time_major_lstm", 2),
    ])
    func schemaVersion(_ name: String, _ expected: Int64) throws {
        let fixture = try ModelsFixtureTests.Case(name)
        let model = try ModelSource.load(fixture.url(fixture.sources[0]), options: fixture.options)
        #expect(model.schemaVersion == expected)
        #expect(model.schemaAttributes.root.first { $0.key == "schema_version" }?.value == .int(expected))
    }
}

/// Conv1D, Attention and encoder–decoder `initial_state` wiring stay refused: a typed error naming the layer.
@Suite struct StillRefusedTests {
    static let entries: [(file: String, layer: String)] = ["keras3", "tf_keras"].flatMap { flavour -> [(file: String, layer: String)] in
        let url = ModelsFixtureTests.root.appendingPathComponent("refused/refused_\(flavour).json")
        guard let data = try? Data(contentsOf: url),
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let files = json["files"] as? [[String: Any]]
        else { return [] }
        return files.compactMap { entry in
            guard let file = entry["file"] as? String, let layer = entry["layer"] as? String else { return nil }
            return (file, layer)
        }
    }

    @Test func everyFlavourHasItsRefusedModels() {
        #expect(Self.entries.count == 8)
    }

    @Test(arguments: entries.map(\.file))
    func refusedNamingTheLayer(_ file: String) throws {
        let layer = try #require(Self.entries.first { $0.file == file }?.layer)
        let url = ModelsFixtureTests.root.appendingPathComponent("refused/\(file)")
        do {
            _ = try ModelSource.importFile(url)
            Issue.record("\(file) was imported")
        } catch let error as ImportError {
            #expect([ImportError.Code.unsupportedLayer, .unsupportedTopology].contains(error.code), "\(error)")
            #expect(error.location?.contains(layer) == true, "\(file): \(error)")
            #expect(!error.description.contains("\n"))
        }
    }
}
