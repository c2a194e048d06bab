import Foundation
import LSTMExport
import LSTMImportPyTorch
import LSTMModel
import LSTMTestSupport
import Testing

/// Small models built in code, one feature at a time.
enum ExportModels {
    static func recurrent(
        _ cell: CellKind = .lstm, input: Int = 3, hidden: Int = 4, directions: Int = 1, returnSequences: Bool = true,
        dtype: DType = .f32, seed: Int = 1, _ change: (inout RecurrentLayer) -> Void = { _ in }
    ) -> Layer {
        var layer = RecurrentLayer(
            cell: cell, inputSize: input, hiddenSize: hidden, directions: Array(repeating: ParameterSet(), count: directions),
            mergeMode: directions == 2 ? .concat : nil, returnSequences: returnSequences, bias: cell == .gru ? .double : .single,
            resetMode: cell == .gru ? .after : nil)
        change(&layer)
        return GoldenModels.filled(.recurrent(layer), seed: seed, dtype: dtype)
    }

    static func dense(input: Int, units: Int = 2, activation: Activation = .linear, useBias: Bool = true) -> Layer {
        GoldenModels.filled(.dense(DenseLayer(inputSize: input, units: units, activation: activation, useBias: useBias, parameters: ParameterSet())), seed: 9)
    }

    static func embedding(vocabulary: Int = 6, size: Int = 3) -> Layer {
        GoldenModels.filled(.embedding(EmbeddingLayer(vocabularySize: vocabulary, embeddingSize: size, parameters: ParameterSet())), seed: 7)
    }
}

/// Everything PyTorch cannot compute is refused with a typed error naming the layer (and attribute).
struct ExportRefusal: Sendable, CustomTestStringConvertible {
    var name: String
    var layers: [Layer]
    var options = PyTorchExportOptions()
    var code = ExportError.Code.notExpressible
    var layer: Int?
    var location: String?
    var testDescription: String { name }

    static let all: [ExportRefusal] = [
        ExportRefusal(name: "document use gate", layers: [ExportModels.recurrent { $0.useGate = .document }], layer: 0, location: "use_gate"),
        ExportRefusal(name: "diagonal peepholes", layers: [ExportModels.recurrent { $0.peepholes = .diagonal }], layer: 0, location: "peepholes"),
        ExportRefusal(name: "full peepholes", layers: [ExportModels.recurrent { $0.peepholes = .full }], layer: 0, location: "peepholes"),
        ExportRefusal(name: "cell clip", layers: [ExportModels.recurrent { $0.cellClip = 3 }], layer: 0, location: "cell_clip"),
        ExportRefusal(name: "gate clip", layers: [ExportModels.recurrent(.gru) { $0.gateClip = 2 }], layer: 0, location: "gate_clip"),
        ExportRefusal(
            name: "projection clip", layers: [ExportModels.recurrent { $0.projectionSize = 2; $0.projectionClip = 1 }], layer: 0,
            location: "projection_clip"),
        ExportRefusal(name: "forget bias", layers: [ExportModels.recurrent { $0.forgetBias = 1 }], layer: 0, location: "forget_bias"),
        ExportRefusal(name: "relu activation", layers: [ExportModels.recurrent { $0.activation = .relu }], layer: 0, location: "activation"),
        ExportRefusal(
            name: "hard sigmoid", layers: [ExportModels.recurrent(.gru) { $0.recurrentActivation = .hardSigmoidKeras3 }], layer: 0,
            location: "recurrent_activation"),
        ExportRefusal(
            name: "GRU reset before", layers: [ExportModels.recurrent(.gru) { $0.resetMode = .before; $0.bias = .single }], layer: 0,
            location: "reset"),
        ExportRefusal(name: "go_backwards", layers: [ExportModels.recurrent { $0.goBackwards = true }], layer: 0, location: "go_backwards"),
        ExportRefusal(
            name: "merge sum", layers: [ExportModels.recurrent(.gru, directions: 2) { $0.mergeMode = .sum }], layer: 0, location: "merge_mode"),
        ExportRefusal(
            name: "merge ave in the second layer",
            layers: [ExportModels.recurrent(hidden: 4), ExportModels.recurrent(input: 4, hidden: 4, directions: 2) { $0.mergeMode = .ave }],
            layer: 1, location: "merge_mode"),
        ExportRefusal(
            name: "two dense layers",
            layers: [ExportModels.recurrent(returnSequences: false), ExportModels.dense(input: 4, units: 3), ExportModels.dense(input: 3)],
            layer: 2),
        ExportRefusal(
            name: "return_sequences false before another layer",
            layers: [ExportModels.recurrent(returnSequences: false), ExportModels.recurrent(input: 4)], layer: 0, location: "return_sequences"),
        ExportRefusal(
            name: "embedding not first (the model itself is invalid)",
            layers: [ExportModels.recurrent(hidden: 3), ExportModels.embedding()], code: .invalidModel),
        ExportRefusal(name: "no recurrent layer", layers: [ExportModels.embedding(), ExportModels.dense(input: 3)]),
        ExportRefusal(
            name: "cell names on two layers", layers: [ExportModels.recurrent(), ExportModels.recurrent(input: 4)],
            options: PyTorchExportOptions(cellNames: true), layer: 1),
        ExportRefusal(
            name: "cell names on a bidirectional layer", layers: [ExportModels.recurrent(directions: 2)],
            options: PyTorchExportOptions(cellNames: true), layer: 0),
        ExportRefusal(
            name: "bias=False with non-zero biases", layers: [ExportModels.recurrent()], options: PyTorchExportOptions(includeBias: false),
            layer: 0),
        ExportRefusal(name: "prefix with an empty component", layers: [ExportModels.recurrent()], options: PyTorchExportOptions(prefix: "a..b"), code: .invalidName),
        ExportRefusal(name: "prefix with a space", layers: [ExportModels.recurrent()], options: PyTorchExportOptions(prefix: "my rnn"), code: .invalidName),
        ExportRefusal(name: "empty head prefix", layers: [ExportModels.recurrent()], options: PyTorchExportOptions(headPrefix: ""), code: .invalidName),
        ExportRefusal(
            name: "head and recurrent module share a prefix",
            layers: [ExportModels.recurrent(returnSequences: false), ExportModels.dense(input: 4)],
            options: PyTorchExportOptions(prefix: "net", headPrefix: "net"), code: .invalidName),
    ]
}

@Suite("Export: refusals and the safetensors writer")
struct ExportRefusalTests {
    @Test("refused with a typed error naming the layer", arguments: ExportRefusal.all)
    func refusal(_ refusal: ExportRefusal) throws {
        let model = Model(layers: refusal.layers)
        do {
            let export = try PyTorchExporter.export(model, options: refusal.options)
            Issue.record("exported \(export.tensors.map(\.key)) instead of refusing")
        } catch {
            #expect(error.code == refusal.code, "\(error)")
            if let layer = refusal.layer {
                #expect(error.layer == layer, "\(error)")
                #expect(error.description.contains("layer_\(layer)"))
            }
            if let location = refusal.location { #expect(error.place == location, "\(error)") }
            #expect(!error.message.isEmpty)
        }
    }

    @Test("the same cases are expressible without the offending feature")
    func baselinesExport() throws {
        let models: [[Layer]] = [
            [ExportModels.recurrent()],
            [ExportModels.recurrent(.gru, directions: 2)],
            [ExportModels.recurrent { $0.projectionSize = 2 }],
            [ExportModels.recurrent(returnSequences: false), ExportModels.dense(input: 4)],
            [ExportModels.embedding(), ExportModels.recurrent(), ExportModels.dense(input: 4, useBias: false)],
            [ExportModels.recurrent(hidden: 4), ExportModels.recurrent(input: 4, hidden: 4, directions: 2)],
        ]
        for layers in models {
            let export = try PyTorchExporter.export(Model(layers: layers))
            #expect(!export.tensors.isEmpty)
        }
    }

    @Test("a single-bias layer gets zero bias_hh of its dtype, and the metadata says so", arguments: [DType.f32, .f16, .bf16, .f64])
    func zeroSecondBias(_ dtype: DType) throws {
        let model = Model(layers: [ExportModels.recurrent(hidden: 4, directions: 2, dtype: dtype)])
        let export = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "rnn"))
        let byKey = export.tensorsByKey
        for key in ["rnn.bias_hh_l0", "rnn.bias_hh_l0_reverse"] {
            let zero = try #require(byKey[key])
            #expect(zero.dtype == dtype && zero.shape == [16])
            #expect(zero.bytes.allSatisfy { $0 == 0 })
        }
        #expect(export.zeroBiasKeys == ["rnn.bias_hh_l0", "rnn.bias_hh_l0_reverse"])
        #expect(export.metadata["lstmconv.zero_bias_hh"] == "rnn.bias_hh_l0,rnn.bias_hh_l0_reverse")
        #expect(export.metadata["lstmconv.notes"]?.contains("zeros") == true)
        guard case .recurrent(let layer) = model.layers[0] else { return }
        let biasIH = try #require(byKey["rnn.bias_ih_l0"])
        // PyTorch order i, f, g, o ← b_i, b_f, b_n, b_v, copied.
        let expected = try [TensorRole.b_i, .b_f, .b_n, .b_v].flatMap { role in try #require(layer.directions[0].tensors[role]).bytes }
        #expect([UInt8](biasIH.bytes) == expected)
        #expect(byKey.values.allSatisfy { $0.dtype == dtype })
    }

    @Test("stacks with different sizes become an nn.ModuleList; the head and embedding keep their prefixes")
    func moduleSplit() throws {
        let model = Model(layers: [
            ExportModels.embedding(vocabulary: 6, size: 3),
            ExportModels.recurrent(input: 3, hidden: 5), ExportModels.recurrent(.lstm, input: 5, hidden: 4, returnSequences: false),
            ExportModels.dense(input: 4),
        ])
        let export = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "rnn"))
        #expect(export.modules.map(\.prefix) == ["embedding", "rnn.0", "rnn.1", "head"])
        #expect(export.modules.map(\.className) == ["Embedding", "LSTM", "LSTM", "Linear"])
        #expect(export.modules[1].output == "sequence" && export.modules[2].output == "final_state")
        #expect(export.modules[3].output == "final_state")
        #expect(export.modules[2].constructor == "nn.LSTM(input_size=5, hidden_size=4, num_layers=1, bias=True, batch_first=True, bidirectional=False, proj_size=0)")
        let keys = export.tensors.map(\.key)
        #expect(keys.first == "embedding.weight")
        #expect(keys.contains("rnn.0.weight_ih_l0") && keys.contains("rnn.1.weight_hh_l0") && keys.last == "head.bias")
        guard case .embedding(let embedding) = model.layers[0], case .dense(let dense) = model.layers[3] else { return }
        #expect(export.tensorsByKey["embedding.weight"] == embedding.parameters.tensors[.W_e])
        #expect(export.tensorsByKey["head.weight"] == dense.parameters.tensors[.W_d])
        #expect(export.tensorsByKey["head.bias"] == dense.parameters.tensors[.b_d])
    }

    @Test("equal layers stack into one module with _l{k} names")
    func stacking() throws {
        let model = Model(layers: [
            ExportModels.recurrent(.gru, input: 3, hidden: 4, directions: 2, seed: 1),
            ExportModels.recurrent(.gru, input: 8, hidden: 4, directions: 2, seed: 2),
        ])
        let export = try PyTorchExporter.export(model)
        #expect(export.modules.count == 1)
        #expect(export.modules[0].constructor == "nn.GRU(input_size=3, hidden_size=4, num_layers=2, bias=True, batch_first=True, bidirectional=True)")
        #expect(export.tensors.map(\.key) == [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        ])
        #expect(export.tensorsByKey["weight_ih_l1"]?.shape == [12, 8])
        #expect(export.zeroBiasKeys.isEmpty && export.metadata["lstmconv.zero_bias_hh"] == nil)
    }

    @Test("a layer with another dtype starts a new module")
    func dtypeSplit() throws {
        let model = Model(layers: [ExportModels.recurrent(dtype: .f32), ExportModels.recurrent(input: 4, dtype: .f16)])
        let export = try PyTorchExporter.export(model)
        #expect(export.modules.map(\.prefix) == ["0", "1"])
        #expect(export.modules.map(\.torchDType) == ["float32", "float16"])
    }

    @Test("the writer is deterministic, sorts the header, pads to 8 bytes and orders data like the reference writer")
    func writerFormat() throws {
        let tensors: [String: Tensor] = [
            "b.half": Tensor([1, 2, 3], shape: [3], dtype: .f16),
            "a.brain": Tensor([4, 5, 6], shape: [3], dtype: .bf16),
            "z.double": Tensor(doubles: [7], shape: [1], dtype: .f64),
            "c.single": Tensor([8, 9, 10, 11], shape: [2, 2]),
            "y.half": Tensor([12], shape: [1], dtype: .f16),
        ]
        let metadata = ["format": "pt", "quote\"and\\slash": "line\nbreak", "Émoji": "✓"]
        let data = try SafetensorsWriter.encode(tensors, metadata: metadata)
        #expect(try SafetensorsWriter.encode(tensors, metadata: metadata) == data)
        let raw = try RawSafetensors(data)
        #expect(raw.headerLength % 8 == 0)
        #expect(raw.metadata == metadata)
        let headerText = String(decoding: data.subdata(in: 8 ..< 8 + raw.headerLength), as: UTF8.self)
        #expect(headerText.hasPrefix("{\"__metadata__\":{\"format\":\"pt\","))
        #expect(!headerText.trimmingCharacters(in: .whitespaces).contains(" "))
        // Header keys in byte order.
        let keyOrder = ["__metadata__", "a.brain", "b.half", "c.single", "y.half", "z.double"]
        let positions = keyOrder.map { headerText.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil } && positions.map { $0! } == positions.map { $0! }.sorted())
        // Data: F64, F32, BF16, F16 (then by key), back to back.
        func offsets(_ key: String) -> [Int] { (raw.header[key] as? [String: Any])?["data_offsets"] as? [Int] ?? [] }
        #expect(offsets("z.double") == [0, 8])
        #expect(offsets("c.single") == [8, 24])
        #expect(offsets("a.brain") == [24, 30])
        #expect(offsets("b.half") == [30, 36])
        #expect(offsets("y.half") == [36, 38])
        #expect(raw.buffer.count == 38)
        #expect(raw.buffer.subdata(in: 8 ..< 24) == tensors["c.single"]?.bytes)
        // Our reader (the reference implementation's checks) accepts it.
        let dict = try Safetensors.read(data)
        for (key, tensor) in tensors { #expect(dict.tensor(key) == tensor) }
        #expect(dict.metadata == metadata)
    }

    @Test("the writer refuses to overwrite without overwrite: true, replaces with it, and leaves no temporary file")
    func atomicWrites() throws {
        let scratch = try ScratchFolder()
        let url = scratch.file("out.safetensors")
        let first = ["a": Tensor([1], shape: [1])]
        let second = ["b": Tensor([2], shape: [1])]
        try SafetensorsWriter.write(first, to: url)
        #expect(throws: ExportError(.outputExists)) { try SafetensorsWriter.write(second, to: url) }
        #expect(try Data(contentsOf: url) == (try SafetensorsWriter.encode(first)))
        try SafetensorsWriter.write(second, to: url, overwrite: true)
        #expect(try Data(contentsOf: url) == (try SafetensorsWriter.encode(second)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["out.safetensors"])
        #expect(throws: ExportError(.cannotWrite)) {
            try SafetensorsWriter.write(first, to: scratch.file("missing-folder/out.safetensors"))
        }
        #expect(throws: ExportError(.invalidName)) { try SafetensorsWriter.encode(["__metadata__": Tensor([1], shape: [1])]) }
    }
}
