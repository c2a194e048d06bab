import Foundation
import HDF5Bridge
import LSTMLayouts
import LSTMImportKeras
import LSTMModel
import LSTMTestSupport
import Testing

@Suite("Keras import of the real Keras 3 / tf-keras fixtures")
struct KerasImportTests {
    @Test("there are fixture cases to run")
    func fixturesExist() {
        #expect(KerasFixtures.caseNames.count >= 12)
        #expect(KerasFixtures.sources.contains { $0.kind == .archive })
        #expect(KerasFixtures.sources.contains { $0.kind == .weightsWithConfig })
    }

    @Test("imports, and the layer structure matches case.json", arguments: KerasFixtures.sources)
    func layerStructure(source: KerasFixtureSource) throws {
        let fixture = try source.fixture
        let result = try KerasImporter.importFile(at: source.file, options: KerasImportOptions(config: source.config))
        let layers = result.model.layers
        try #require(layers.count == fixture.expected_layers.count, "\(layers.map(\.kindName)) vs \(fixture.expected_layers.map(\.kind))")
        for (layer, expected) in zip(layers, fixture.expected_layers) {
            #expect(layer.kindName == expected.kind)
            switch layer {
            case .embedding(let embedding):
                #expect(embedding.vocabularySize == expected.vocabulary_size)
                #expect(embedding.embeddingSize == expected.embedding_size)
            case .dense(let dense):
                #expect(dense.inputSize == expected.input_size)
                #expect(dense.units == expected.units)
                #expect(dense.activation.name == expected.activation)
                #expect(dense.useBias == expected.use_bias)
            case .recurrent(let recurrent):
                #expect(recurrent.inputSize == expected.input_size)
                #expect(recurrent.hiddenSize == expected.hidden_size)
                #expect(recurrent.directions.count == expected.directions)
                #expect((recurrent.mergeMode?.rawValue ?? "none") == expected.merge_mode)
                #expect(recurrent.returnSequences == expected.return_sequences)
                #expect(recurrent.goBackwards == expected.go_backwards)
                #expect(recurrent.activation.name == expected.activation)
                #expect(recurrent.recurrentActivation.name == expected.recurrent_activation)
                #expect(recurrent.bias.rawValue == expected.bias)
                #expect(recurrent.resetMode?.rawValue == expected.reset)
                #expect(recurrent.useGate == .standard)
                #expect(recurrent.peepholes == .none)
                for activation in [recurrent.activation, recurrent.recurrentActivation] {
                    if case let .hardSigmoid(slope, offset) = activation {
                        let stated = try #require(fixture.hard_sigmoid)
                        #expect(slope == stated.slope)
                        #expect(offset == stated.offset)
                    }
                }
            }
        }
        #expect(result.layerSummaries.count == layers.count)
    }

    @Test("hard_sigmoid follows the Keras generation that wrote the file", arguments: KerasFixtures.sources.filter { $0.caseName.contains("hard_sigmoid") })
    func hardSigmoidGeneration(source: KerasFixtureSource) throws {
        let fixture = try source.fixture
        let result = try KerasImporter.importFile(at: source.file, options: KerasImportOptions(config: source.config))
        let recurrent = result.model.layers.compactMap { layer -> RecurrentLayer? in
            if case .recurrent(let value) = layer { return value }
            return nil
        }
        let expected: Activation = fixture.keras_generation == 3 ? .hardSigmoidKeras3 : .hardSigmoidKeras2
        #expect(recurrent.contains { $0.recurrentActivation == expected })
    }

    @Test("provenance: framework, version, backend, table ids, sources and the file's SHA-256", arguments: KerasFixtures.sources)
    func provenance(source: KerasFixtureSource) throws {
        let fixture = try source.fixture
        let result = try KerasImporter.importFile(at: source.file, options: KerasImportOptions(config: source.config))
        let provenance = result.model.provenance
        #expect(provenance.sourceFramework == (fixture.framework_package == "tf_keras" ? "tf-keras" : "keras"))
        if fixture.keras_generation == 3 && source.kind == .weightsWithConfig {
            // A Keras 3 .weights.h5 and to_json() state no version; the config format says Keras 3.
            #expect(provenance.sourceFrameworkVersion.hasPrefix("3"))
        } else {
            #expect(provenance.sourceFrameworkVersion == fixture.framework_version)
        }
        #expect(provenance.sourceSHA256 == (try KerasFixtures.sha256sum(source.file)))
        if source.kind == .h5, let backend = fixture.backend {
            #expect(provenance.sourceLayout.contains("backend \(backend)"))
        }
        for layer in result.model.layers {
            guard case .recurrent(let recurrent) = layer else { continue }
            let id: String =
                switch (recurrent.cell, recurrent.bias, recurrent.resetMode) {
                case (.lstm, .single, _): "keras.lstm"
                case (.lstm, .double, _): "keras.cudnn_lstm"
                case (.gru, _, .before?): "keras.gru.reset_before"
                case (.gru, _, _): fixture.keras_layers.contains { $0.class == "CuDNNGRU" } ? "keras.cudnn_gru" : "keras.gru.reset_after"
                case (.rnn, _, _): "keras.simple_rnn"
                }
            #expect(provenance.sourceLayout.contains(id))
        }
        // Every stored tensor names the dataset it was cut from.
        for entry in result.model.storedTensors {
            let source = try #require(entry.source)
            #expect(!source.isEmpty)
        }
        #expect(result.tensorMap.count == result.model.storedTensors.count)
        try result.model.validate()
    }

    @Test("every tensor equals the fixture generator's own conversion (ours.h5, written by h5py)", arguments: KerasFixtures.sources)
    func matchesGeneratorConversion(source: KerasFixtureSource) throws {
        let fixture = try source.fixture
        let result = try KerasImporter.importFile(at: source.file, options: KerasImportOptions(config: source.config))
        let ours = try HDF5File.openReadOnly(KerasFixtures.directory.appendingPathComponent("\(fixture.case)/\(fixture.files["ours"] ?? "ours.h5")").path)
        let root = try ours.root()
        for entry in result.model.storedTensors {
            let dataset = try root.dataset(entry.slot.path)
            #expect(dataset.shape == entry.tensor.shape, "\(entry.slot.path)")
            #expect(try dataset.readFloats() == entry.tensor.floats(), "\(entry.slot.path)")
        }
        #expect(try root.memberNames().filter { $0.hasPrefix("layer_") }.count == result.model.layers.count)
    }

    @Test("the same model from .h5, .keras and weights + config", arguments: KerasFixtures.caseNames)
    func containersAgree(caseName: String) throws {
        let sources = KerasFixtures.sources.filter { $0.caseName == caseName }
        let models = try sources.map { try KerasImporter.importFile(at: $0.file, options: KerasImportOptions(config: $0.config)).model }
        for model in models.dropFirst() {
            #expect(model.layers.count == models[0].layers.count)
            for (left, right) in zip(model.storedTensors, models[0].storedTensors) {
                #expect(left.slot == right.slot)
                #expect(left.tensor == right.tensor, "\(caseName) \(left.slot.path)")
            }
        }
    }
}
