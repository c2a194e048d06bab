import LSTMModel

/// The committed golden models (spec §6): small, deterministic, covering every schema feature.
///
/// Values come from a fixed formula, not from any engine, so the golden files and their expected
/// decoded values can be regenerated and compared bit for bit.
public enum GoldenModels {
    /// Name → model, in the order the golden files are listed in `Fixtures/golden/`.
    public static var all: [(name: String, model: Model)] {
        [
            ("small_lstm", smallLSTM),
            ("bidirectional_gru", bidirectionalGRU),
            ("projected_peephole_lstm", projectedPeepholeLSTM),
            ("document_lstm", documentLSTM),
        ]
    }

    /// Deterministic, non-trivial values: a scaled sine sequence seeded per tensor.
    public static func values(count: Int, seed: Int) -> [Float] {
        (0..<count).map { index in
            let x = Double(index * 7 + seed * 13 + 1)
            return Float((x * 0.618_033_988_75).truncatingRemainder(dividingBy: 1.0) - 0.5) * 0.8
        }
    }

    /// Fills every tensor a layer's hyperparameters require with ``values(count:seed:)``.
    public static func filled(_ layer: Layer, seed: Int, dtype: DType = .f32) -> Layer {
        var seed = seed
        func make(_ shape: [Int], _ role: TensorRole) -> Tensor {
            seed += 1
            return Tensor(values(count: shape.reduce(1, *), seed: seed), shape: shape, dtype: dtype)
        }
        switch layer {
        case .embedding(var embedding):
            embedding.parameters = ParameterSet(tensors: [.W_e: make([embedding.vocabularySize, embedding.embeddingSize], .W_e)])
            return .embedding(embedding)
        case .dense(var dense):
            var set = ParameterSet(tensors: [.W_d: make([dense.units, dense.inputSize], .W_d)])
            if dense.useBias { set.tensors[.b_d] = make([dense.units], .b_d) }
            dense.parameters = set
            return .dense(dense)
        case .recurrent(var recurrent):
            let expected = recurrent.expectedTensors
            recurrent.directions = recurrent.directions.map { _ in
                var set = ParameterSet()
                for (role, shape) in expected {
                    set.tensors[role] = make(shape, role)
                    set.sources[role] = "golden/\(role.rawValue)"
                }
                return set
            }
            return .recurrent(recurrent)
        }
    }

    static let provenance = Provenance(
        sourceFramework: "lstmconv", sourceFrameworkVersion: "", sourceLayout: "document",
        sourceSHA256: "", converter: "lstmconv golden")

    /// One LSTM layer, I=3, H=4, standard use gate, single bias, return_sequences.
    public static var smallLSTM: Model {
        Model(layers: [
            filled(.recurrent(RecurrentLayer(
                cell: .lstm, inputSize: 3, hiddenSize: 4, directions: [ParameterSet()], returnSequences: true)), seed: 1),
        ], provenance: provenance)
    }

    /// A bidirectional reset-after GRU (two biases, concat) followed by a softmax dense head.
    public static var bidirectionalGRU: Model {
        Model(layers: [
            filled(.recurrent(RecurrentLayer(
                cell: .gru, inputSize: 2, hiddenSize: 3, directions: [ParameterSet(), ParameterSet()],
                mergeMode: .concat, bias: .double, resetMode: .after)), seed: 2),
            filled(.dense(DenseLayer(inputSize: 6, units: 2, activation: .softmax, parameters: ParameterSet())), seed: 3),
        ], provenance: provenance)
    }

    /// An LSTM with diagonal peepholes, projection P=2, cell clip, hard_sigmoid (Keras 2), f16 storage.
    public static var projectedPeepholeLSTM: Model {
        Model(layers: [
            filled(.recurrent(RecurrentLayer(
                cell: .lstm, inputSize: 3, hiddenSize: 4, projectionSize: 2, directions: [ParameterSet()],
                returnSequences: true, recurrentActivation: .hardSigmoidKeras2, peepholes: .diagonal,
                bias: .double, cellClip: 3.0, projectionClip: 2.5, forgetBias: 1.0)), seed: 4, dtype: .f16),
        ], provenance: provenance)
    }

    /// The notes' document-variant LSTM (stored `W_u`, `b_u`) after an embedding, bf16 and f64 tensors.
    public static var documentLSTM: Model {
        Model(layers: [
            filled(.embedding(EmbeddingLayer(vocabularySize: 5, embeddingSize: 3, parameters: ParameterSet())), seed: 5, dtype: .bf16),
            filled(.recurrent(RecurrentLayer(
                cell: .lstm, inputSize: 3, hiddenSize: 3, directions: [ParameterSet()], goBackwards: true,
                useGate: .document, peepholes: .full)), seed: 6, dtype: .f64),
        ], provenance: provenance)
    }
}
