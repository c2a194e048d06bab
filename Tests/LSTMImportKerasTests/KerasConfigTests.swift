import Foundation
import LSTMLayouts
import LSTMModel
import Testing

@testable import LSTMImportKeras

/// The config parser and option readers on small hand-written configs (shapes Keras writes, cases no fixture has).
@Suite("Keras config parsing")
struct KerasConfigTests {
    static func parse(_ text: String) throws(ImportError) -> KerasModelConfig {
        try KerasModelConfig.parse(JSONValue.parse(Data(text.utf8), what: "test config"))
    }

    static func layer(_ name: String, _ className: String, inbound: String) -> String {
        #"{"class_name": "\#(className)", "name": "\#(name)", "config": {"name": "\#(name)", "units": 2}, "inbound_nodes": \#(inbound)}"#
    }

    @Test("Keras ≤ 2.2 Sequential stores the layer list as `config` itself")
    func oldSequential() throws {
        let config = try Self.parse(#"{"class_name": "Sequential", "config": [{"class_name": "LSTM", "config": {"name": "lstm_1", "units": 3}}]}"#)
        #expect(config.layers.map(\.name) == ["lstm_1"])
        #expect(!config.isKeras3Style)
    }

    @Test("a Keras 2 Functional chain is ordered from input to output, whatever the listing order")
    func keras2FunctionalOrder() throws {
        let layers = [
            Self.layer("dense", "Dense", inbound: #"[[["lstm", 0, 0, {}]]]"#),
            Self.layer("in", "InputLayer", inbound: "[]"),
            Self.layer("lstm", "LSTM", inbound: #"[[["in", 0, 0, {}]]]"#),
        ]
        let config = try Self.parse(
            #"{"class_name": "Functional", "config": {"layers": [\#(layers.joined(separator: ","))], "input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]]}}"#)
        #expect(config.layers.map(\.name) == ["in", "lstm", "dense"])
    }

    @Test("a Keras 3 Functional chain reads keras_history references")
    func keras3FunctionalOrder() throws {
        let node = { (source: String) in #"[{"args": [{"class_name": "__keras_tensor__", "config": {"shape": [null, 4], "keras_history": ["\#(source)", 0, 0]}}], "kwargs": {"mask": null}}]"# }
        let layers = [
            Self.layer("in", "InputLayer", inbound: "[]"),
            Self.layer("gru", "GRU", inbound: node("in")),
            Self.layer("out", "Dense", inbound: node("gru")),
        ]
        let config = try Self.parse(
            #"{"module": "keras.src.models.functional", "class_name": "Functional", "config": {"layers": [\#(layers.joined(separator: ","))], "input_layers": ["in", 0, 0], "output_layers": ["out", 0, 0]}}"#)
        #expect(config.layers.map(\.name) == ["in", "gru", "out"])
        #expect(config.isKeras3Style)
    }

    @Test(
        "graphs that are not one chain are refused as unsupported topology",
        arguments: [
            // A shared layer called twice.
            (#"[[["in", 0, 0, {}]], [["in", 0, 0, {}]]]"#, #"[[["lstm", 0, 0, {}]]]"#),
            // The output of `in` feeds both layers (a branch), and `dense` is off the chain.
            (#"[[["in", 0, 0, {}]]]"#, #"[[["in", 0, 0, {}]]]"#),
            // A layer with two input tensors.
            (#"[[["in", 0, 0, {}]]]"#, #"[[["lstm", 0, 0, {}], ["in", 0, 0, {}]]]"#),
        ])
    func notAChain(lstmInbound: String, denseInbound: String) {
        let layers = [
            Self.layer("in", "InputLayer", inbound: "[]"),
            Self.layer("lstm", "LSTM", inbound: lstmInbound),
            Self.layer("dense", "Dense", inbound: denseInbound),
        ]
        let text = #"{"class_name": "Functional", "config": {"layers": [\#(layers.joined(separator: ","))], "input_layers": [["in", 0, 0]], "output_layers": [["dense", 0, 0]]}}"#
        #expect(throws: ImportError(.unsupportedTopology, "")) { try Self.parse(text) }
    }

    @Test("two inputs are refused as unsupported topology")
    func twoInputs() {
        let text = #"{"class_name": "Functional", "config": {"layers": [], "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["c", 0, 0]]}}"#
        #expect(throws: ImportError(.unsupportedTopology, "")) { try Self.parse(text) }
    }

    @Test("a subclassed model has no architecture")
    func subclassed() {
        #expect(throws: ImportError(.unsupportedTopology, "")) { try Self.parse(#"{"class_name": "MyModel", "config": {}}"#) }
    }

    @Test("invalid JSON is a one-line malformed-source error")
    func invalidJSON() throws {
        let error = #expect(throws: ImportError.self) { try Self.parse(#"{"class_name": "Sequential", "config": {"layers": [}"#) }
        #expect(error?.code == .malformedSource)
        #expect(error?.description.contains("\n") == false)
    }

    @Test("Python's bare NaN is accepted")
    func nanAccepted() throws {
        let config = try Self.parse(#"{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense", "config": {"name": "d", "units": 2, "bias_constraint": NaN}}]}}"#)
        #expect(config.layers.count == 1)
    }

    @Test(
        "activation names and the two hard_sigmoids",
        arguments: [
            ("\"tanh\"", KerasGeneration.keras3, Activation.tanh),
            ("\"hard_sigmoid\"", .keras2, .hardSigmoidKeras2),
            ("\"hard_sigmoid\"", .keras3, .hardSigmoidKeras3),
            ("null", .keras3, .linear),
            (#"{"module": "keras.activations", "class_name": "function", "config": "relu", "registered_name": "function"}"#, .keras3, .relu),
        ])
    func activations(json: String, generation: KerasGeneration, expected: Activation) throws {
        let layer = KerasLayerConfig(className: "LSTM", name: "lstm", config: .object([:]))
        let value = try JSONValue.parse(Data(json.utf8), what: "activation")
        #expect(try KerasActivation.parse(value, default: "tanh", layer: layer, key: "activation", generation: generation) == expected)
    }

    @Test("unsupported activations and an unknown hard_sigmoid generation are refused")
    func refusedActivations() {
        let layer = KerasLayerConfig(className: "LSTM", name: "lstm", config: .object([:]))
        #expect(throws: ImportError(.unsupportedLayer, "")) {
            try KerasActivation.parse(.string("selu"), default: "tanh", layer: layer, key: "activation", generation: .keras3)
        }
        #expect(throws: ImportError(.missingConfig, "")) {
            try KerasActivation.parse(.string("hard_sigmoid"), default: "tanh", layer: layer, key: "recurrent_activation", generation: .unknown)
        }
    }

    @Test("stateful and time_major are read; return_state continues only through the output or the final h")
    func stateOptions() throws {
        func options(_ key: String, consumed: Int = 0) throws(ImportError) -> KerasRecurrentOptions {
            var layer = KerasLayerConfig(
                className: "LSTM", name: "lstm", config: .object(["units": .number(3), "return_sequences": .bool(true), key: .bool(true)]))
            layer.consumedOutput = consumed
            return try KerasRecurrentOptions(layer, cellClass: .lstm, wrapped: false, generation: .keras3)
        }
        #expect(try options("stateful").stateful)
        #expect(try options("time_major").timeMajor)
        #expect(try options("return_state", consumed: 0).returnSequences)
        #expect(try !options("return_state", consumed: 1).returnSequences)  // Dense(h): the final state
        #expect(throws: ImportError(.unsupportedTopology, "")) { try options("return_state", consumed: 2) }  // c
    }

    @Test(
        "saved-layer group names follow Keras' to_snake_case",
        arguments: [
            ("LSTM", "lstm"), ("GRU", "gru"), ("CuDNNLSTM", "cu_dnnlstm"), ("CuDNNGRU", "cu_dnngru"), ("SpatialDropout1D", "spatial_dropout1d"),
            ("InputLayer", "input_layer"), ("GaussianNoise", "gaussian_noise"), ("ActivityRegularization", "activity_regularization"), ("RNN", "rnn"),
        ])
    func snakeCase(className: String, expected: String) {
        // Expected values printed by keras.src.utils.naming.to_snake_case (Keras 3.15.1).
        #expect(KerasVarsStore.snakeCase(className) == expected)
    }

    @Test("framework names by keras_version")
    func frameworkNames() {
        #expect(KerasGeneration.framework(version: "3.15.1") == "keras")
        #expect(KerasGeneration.framework(version: "2.3.1") == "keras")
        #expect(KerasGeneration.framework(version: "2.2.4-tf") == "tf-keras")
        #expect(KerasGeneration.framework(version: "2.15.0") == "tf-keras")
        #expect(KerasGeneration(version: "2.21.0") == .keras2)
        #expect(KerasGeneration(version: "3.0.0") == .keras3)
        #expect(KerasGeneration(version: nil) == .unknown)
    }

    @Test("legacy weight names give their role with or without :0")
    func weightRoles() {
        #expect(KerasLegacyStore.role(of: "lstm/lstm_cell/kernel:0") == "kernel")
        #expect(KerasLegacyStore.role(of: "sequential/lstm/lstm_cell/recurrent_kernel") == "recurrent_kernel")
        #expect(KerasLegacyStore.role(of: "lstm_1/bias:0") == "bias")
    }

    /// Found by fuzzing (scripts/fuzz/, target FuzzKerasConfig): Foundation's JSON5 scanner traps on a 5-byte UTF-8 lead
    /// byte in an unquoted key instead of throwing; invalid UTF-8 is refused before the decoder sees it.
    @Test("invalid UTF-8 in a config is a typed error, not a trap", arguments: [
        [0x7b, 0xf8, 0xf8, 0x3a, 0x31, 0x7d],  // {<F8 F8>:1}
        [0x7b, 0x22, 0x63, 0x6c, 0x61, 0x73, 0x73, 0x5f, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d],  // {"class_name":"<C3>"}
    ] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) {
        let error = #expect(throws: ImportError.self) { try JSONValue.parse(Data(bytes), what: "test config") }
        #expect(error?.code == .malformedSource)
    }

    @Test func anExternalConfigWithInvalidUTF8IsRefused() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-bad-\(UUID().uuidString).json")
        try Data([0x7b, 0xf8, 0xf8, 0x3a, 0x31, 0x7d]).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let error = #expect(throws: ImportError.self) { try KerasImporter.importFile(at: url, options: KerasImportOptions(config: url)) }
        #expect(error?.code == .malformedSource)
        #expect(error?.message.contains("UTF-8") == true)
    }
}
