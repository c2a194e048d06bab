/// An element-wise activation. `hardSigmoid` always carries its slope and offset, because Keras 2
/// (`0.2x + 0.5`) and Keras 3 (`x/6 + 0.5`) disagree on what the name means.
public enum Activation: Sendable, Equatable, CustomStringConvertible {
    case sigmoid
    /// `clip(slope * x + offset, 0, 1)`.
    case hardSigmoid(slope: Double, offset: Double)
    case tanh
    case relu
    case linear
    /// Only valid on a dense layer.
    case softmax

    /// Keras ≤ 2.x, tf-keras, ONNX and Core ML: `clip(0.2x + 0.5)`.
    public static let hardSigmoidKeras2 = Activation.hardSigmoid(slope: 0.2, offset: 0.5)
    /// Keras 3, PyTorch `hardsigmoid`, JAX: `clip(x/6 + 0.5)`.
    public static let hardSigmoidKeras3 = Activation.hardSigmoid(slope: 1.0 / 6.0, offset: 0.5)

    /// The name stored in the file.
    public var name: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .hardSigmoid: "hard_sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .linear: "linear"
        case .softmax: "softmax"
        }
    }

    public var description: String {
        if case let .hardSigmoid(slope, offset) = self { return "hard_sigmoid(\(slope)x+\(offset))" }
        return name
    }
}

/// The two LSTM output rules. Recorded explicitly in every file, never guessed.
public enum UseGateVariant: String, Sendable, CaseIterable {
    /// Every framework's LSTM: `STM_t = V_t * tanh(LTM_t)` (`W_u = I`, `b_u = 0`, not stored).
    case standard
    /// The notes as written: `U_t = tanh(W_u (LTM_{t-1} f_t) + b_u)`, `STM_t = U_t * V_t`.
    case document
}

/// How the long-term memory feeds the sigmoid gates.
public enum PeepholeForm: String, Sendable, CaseIterable {
    case none
    /// `P_i`, `P_f`, `P_v` of shape `[H]`, multiplied element-wise (TF, ONNX).
    case diagonal
    /// `P_i`, `P_f`, `P_v` of shape `[H, H]`, a matrix product (the notes' form).
    case full
}

/// Where a GRU applies its reset gate.
public enum ResetMode: String, Sendable, CaseIterable {
    /// `r` multiplies `STM_{t-1}` before the candidate's recurrent product (Keras `reset_after=False`).
    case before
    /// `r` multiplies the candidate's recurrent product plus `bh_c` (PyTorch, cuDNN, Keras default).
    case after
}

/// Whether each gate has one bias vector or two (input-side `b_*` and recurrent-side `bh_*`).
public enum BiasKind: String, Sendable, CaseIterable {
    case single
    /// Kept so that an export reproduces two-bias sources (PyTorch, cuDNN, ONNX) bit for bit.
    case double
}

/// How a bidirectional layer combines its two directions.
public enum MergeMode: String, Sendable, CaseIterable {
    case concat, sum, mul, ave
}

/// What a recurrent layer that does not return sequences emits (`return_sequences = false`).
///
/// The two differ for a bidirectional layer: the backward direction's final state is its output at the first
/// time step, while the last time step holds its output after reading only the last event.
public enum FinalOutput: String, Sendable, CaseIterable {
    /// Each direction's final state after reading the whole sequence, merged: Keras `return_sequences=False`,
    /// PyTorch `h_n` of the last layer (`cat(h_n[-2], h_n[-1])` for a bidirectional one).
    case finalState = "final_state"
    /// The output sequence's last time step: PyTorch `output[:, -1]`.
    case lastStep = "last_step"
}

/// What a recurrent layer emits at a masked (skipped) time step. The state is carried over unchanged either way.
public enum MaskedOutput: String, Sendable, CaseIterable {
    /// The carried state, i.e. the previous output (Keras `LSTM`/`GRU`/`SimpleRNN` with a mask).
    case previous
    /// Zeros (Keras `Bidirectional` with `return_sequences`, PyTorch `pad_packed_sequence`).
    case zero
}

/// The recurrent cell kind.
public enum CellKind: String, Sendable, CaseIterable {
    case lstm, gru
    /// The notes' plain RNN (Keras `SimpleRNN`, PyTorch `nn.RNN`): `STM_t = activation(W_s[STM_{t-1}, E_t] + b_s)`.
    case rnn
}

/// A direction of a recurrent layer. Index 0 is always forward, 1 backward.
public enum Direction: String, Sendable, CaseIterable {
    case forward, backward
}

/// Tensors of one layer (or one direction of a recurrent layer), keyed by document name,
/// each with the source tensor it came from (provenance).
public struct ParameterSet: Sendable, Equatable {
    /// The tensors, keyed by document name.
    public var tensors: [TensorRole: Tensor]
    /// The source tensor name (and slice) each tensor was cut from, e.g. `lstm.weight_ih_l0[0:8, :]`.
    public var sources: [TensorRole: String]

    /// A parameter set from tensors and, optionally, the source name each came from.
    public init(tensors: [TensorRole: Tensor] = [:], sources: [TensorRole: String] = [:]) {
        self.tensors = tensors
        self.sources = sources
    }

    /// Reads one tensor, throwing `missingTensor` when absent.
    public func tensor(_ role: TensorRole) throws(ModelError) -> Tensor {
        guard let tensor = tensors[role] else {
            throw ModelError(.missingTensor, "no \(role.rawValue) tensor", keyPath: role.rawValue)
        }
        return tensor
    }

    /// The tensor of `role`, or `nil`.
    public subscript(role: TensorRole) -> Tensor? {
        get { tensors[role] }
        set { tensors[role] = newValue }
    }
}

/// An LSTM or GRU layer: hyperparameters plus one ``ParameterSet`` per direction.
public struct RecurrentLayer: Sendable, Equatable {
    /// LSTM or GRU.
    public var cell: CellKind
    /// I: features per time step of this layer's input.
    public var inputSize: Int
    /// H: cell (LTM) size.
    public var hiddenSize: Int
    /// P: projected STM size (LSTM only), `nil` for none.
    public var projectionSize: Int?
    /// `[forward]` or `[forward, backward]`.
    public var directions: [ParameterSet]
    /// How two directions are combined; `nil` with one direction.
    public var mergeMode: MergeMode?
    /// Whether the layer returns every step `[B, T, ·]` or only the last `[B, ·]`.
    public var returnSequences: Bool
    /// Without `returnSequences`: final states (`h_n`, Keras) or the last time step (`output[:, -1]`).
    public var finalOutput: FinalOutput
    /// Keras `go_backwards`: read the input reversed and return outputs in that reversed order.
    public var goBackwards: Bool
    /// Candidate and output squashing (`N_t`, `U_t`; GRU candidate). Keras `activation`.
    public var activation: Activation
    /// Gate activation (`i_t`, `f_t`, `V_t`; GRU `z`, `r`). Keras `recurrent_activation`. Unused by an RNN layer.
    public var recurrentActivation: Activation
    /// LSTM only; GRU and RNN layers are always `.standard`.
    public var useGate: UseGateVariant
    /// Whether and how LTM feeds the sigmoid gates (`P_i`, `P_f`, `P_v`).
    public var peepholes: PeepholeForm
    /// One bias per gate, or two (`b_*` and `bh_*`) as PyTorch, cuDNN and ONNX store them.
    public var bias: BiasKind
    /// GRU only.
    public var resetMode: ResetMode?
    /// TF1 `cell_clip`: `LTM_t` is clipped to `±cellClip` after the remember gate.
    public var cellClip: Double?
    /// ONNX `clip`: every gate pre-activation is clipped to `±gateClip`.
    public var gateClip: Double?
    /// TF1 `proj_clip`: the projected STM is clipped to `±projectionClip`.
    public var projectionClip: Double?
    /// TF1 `forget_bias`: a constant added to the forget gate pre-activation at run time (not stored in `b_f`).
    public var forgetBias: Double
    /// Keras `Masking(mask_value)` in front of this (first) layer: a time step whose features all equal this
    /// value is masked (skipped). `nil`: no masking layer.
    public var maskValue: Double?
    /// What the layer emits at masked steps (when its input carries a mask).
    public var maskedOutput: MaskedOutput = .previous
    /// tf-keras `time_major=True` (first layer only): the model takes `[T, B, F]` and returns sequences `[T, B, ·]`.
    public var timeMajor = false
    /// Keras `stateful=True`: the source carries the final states into the next batch. Recorded for the caller;
    /// each run still starts from the given (or zero) initial states, and `run --states` returns the final ones.
    public var stateful = false

    /// A parameter set from tensors and, optionally, the source name each came from.
    public init(
        cell: CellKind, inputSize: Int, hiddenSize: Int, projectionSize: Int? = nil,
        directions: [ParameterSet], mergeMode: MergeMode? = nil, returnSequences: Bool = false,
        goBackwards: Bool = false, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
        useGate: UseGateVariant = .standard, peepholes: PeepholeForm = .none, bias: BiasKind = .single,
        resetMode: ResetMode? = nil, cellClip: Double? = nil, gateClip: Double? = nil,
        projectionClip: Double? = nil, forgetBias: Double = 0, finalOutput: FinalOutput = .finalState
    ) {
        self.finalOutput = finalOutput
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.projectionSize = projectionSize
        self.directions = directions
        self.mergeMode = mergeMode
        self.returnSequences = returnSequences
        self.goBackwards = goBackwards
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.useGate = useGate
        self.peepholes = peepholes
        self.bias = bias
        self.resetMode = resetMode
        self.cellClip = cellClip
        self.gateClip = gateClip
        self.projectionClip = projectionClip
        self.forgetBias = forgetBias
    }

    /// R: the size of `STM` fed back into the gates (P with projection, else H).
    public var recurrentSize: Int { projectionSize ?? hiddenSize }

    /// Features per time step this layer emits (after merging directions).
    public var outputSize: Int {
        directions.count == 2 && (mergeMode ?? .concat) == .concat ? 2 * recurrentSize : recurrentSize
    }
}

/// A token-id → vector lookup table `W_e [vocabularySize, embeddingSize]`.
public struct EmbeddingLayer: Sendable, Equatable {
    /// Number of token ids (rows of `W_e`).
    public var vocabularySize: Int
    /// Features per token (columns of `W_e`).
    public var embeddingSize: Int
    /// The layer's tensors, keyed by document name.
    public var parameters: ParameterSet
    /// Keras `mask_zero=True`: token id 0 is padding, and its time steps are masked (skipped) downstream.
    public var maskZero: Bool

    /// An embedding layer with its `W_e` table (`maskZero`: Keras `mask_zero=True`).
    public init(vocabularySize: Int, embeddingSize: Int, parameters: ParameterSet, maskZero: Bool = false) {
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.parameters = parameters
        self.maskZero = maskZero
    }
}

/// A fully connected layer `y = activation(W_d x + b_d)` with `W_d [units, inputSize]`.
public struct DenseLayer: Sendable, Equatable {
    /// Features the layer reads (columns of `W_d`).
    public var inputSize: Int
    /// Features the layer emits (rows of `W_d`).
    public var units: Int
    /// Applied to `W_d x + b_d`.
    public var activation: Activation
    /// Whether the layer has `b_d`.
    public var useBias: Bool
    /// The layer's tensors, keyed by document name.
    public var parameters: ParameterSet

    /// A dense layer with its `W_d` (and `b_d`).
    public init(inputSize: Int, units: Int, activation: Activation, useBias: Bool = true, parameters: ParameterSet) {
        self.inputSize = inputSize
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.parameters = parameters
    }
}

/// One layer of a model.
public enum Layer: Sendable, Equatable {
    case embedding(EmbeddingLayer)
    case recurrent(RecurrentLayer)
    case dense(DenseLayer)

    /// The kind name stored in the file: `embedding`, `lstm`, `gru` or `dense`.
    public var kindName: String {
        switch self {
        case .embedding: "embedding"
        case .recurrent(let layer): layer.cell.rawValue
        case .dense: "dense"
        }
    }

    /// Features per time step (or per example, after a dense head) this layer emits.
    public var outputSize: Int {
        switch self {
        case .embedding(let layer): layer.embeddingSize
        case .recurrent(let layer): layer.outputSize
        case .dense(let layer): layer.units
        }
    }

    /// Every parameter set with the direction it belongs to (`nil` for non-recurrent layers).
    public var parameterSets: [(direction: Direction?, parameters: ParameterSet)] {
        switch self {
        case .embedding(let layer): [(nil, layer.parameters)]
        case .dense(let layer): [(nil, layer.parameters)]
        case .recurrent(let layer):
            layer.directions.enumerated().map { index, set in (Direction.allCases[min(index, 1)], set) }
        }
    }
}
