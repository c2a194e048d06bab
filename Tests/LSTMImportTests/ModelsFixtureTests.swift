import Foundation
import LSTMEngine
import LSTMExport
import LSTMImportPyTorch
import LSTMImport
import LSTMModel
import NumPyIO
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

    static let caseNames = allCaseNames.filter {
        $0.hasPrefix("torch_") || $0.hasSuffix("_simple_rnn")
    }

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
            let comparison = Comparison(actual: result.output, expected: expected, atol: 1e-5, rtol: 0)
            #expect(comparison.shapeMismatch == nil, "\(name)/\(source): output \(result.output.shape), expected \(expected.shape)")
            #expect(
                comparison.maxAbsoluteError <= 1e-5,
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
        let scratch = try ScratchFolder()
        let file = scratch.file("rnn.safetensors")
        try PyTorchExporter.write(export, to: file)
        var options = PyTorchImportOptions(module: "rnn", nonlinearity: first.activation)
        options.returnSequences = true
        let back = try PyTorchImporter.importFile(at: file, options: options).model
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
