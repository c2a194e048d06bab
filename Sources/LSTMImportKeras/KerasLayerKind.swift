import LSTMLayouts
import LSTMModel

/// Which Keras generation wrote a file: decides what `hard_sigmoid` means.
enum KerasGeneration: Sendable, Equatable {
    /// Keras ≤ 2.x, tf.keras, tf-keras: `hard_sigmoid(x) = clip(0.2x + 0.5, 0, 1)`.
    case keras2
    /// Keras 3: `hard_sigmoid(x) = clip(x/6 + 0.5, 0, 1)`.
    case keras3
    /// Neither the file nor the config says.
    case unknown

    /// The generation a `keras_version` string denotes.
    init(version: String?) {
        guard let version, let major = version.split(separator: ".").first.flatMap({ Int($0) }) else {
            self = .unknown
            return
        }
        self = major >= 3 ? .keras3 : .keras2
    }

    /// `keras` (Keras 3 and multi-backend Keras ≤ 2.3) or `tf-keras` (tf.keras / tf-keras 2.4+, `…-tf`).
    static func framework(version: String?) -> String {
        guard let version else { return "keras" }
        if version.hasSuffix("-tf") || version.contains("-tf") { return "tf-keras" }
        let parts = version.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
        if parts.count >= 2, parts[0] == 2, parts[1] >= 4 { return "tf-keras" }
        return "keras"
    }
}

/// The recurrent cell classes the importer reads.
enum KerasCellClass: String, Sendable {
    case lstm = "LSTM"
    case gru = "GRU"
    case cudnnLSTM = "CuDNNLSTM"
    case cudnnGRU = "CuDNNGRU"
    case simpleRNN = "SimpleRNN"

    var cell: CellKind {
        switch self {
        case .lstm, .cudnnLSTM: .lstm
        case .gru, .cudnnGRU: .gru
        case .simpleRNN: .rnn
        }
    }

    var gateCount: Int {
        switch cell {
        case .lstm: 4
        case .gru: 3
        case .rnn: 1
        }
    }
}

/// How the importer treats each Keras layer class.
enum KerasLayerKind: Sendable {
    case input
    /// Identity at inference (dropout, noise, regularizers).
    case passThrough
    /// A stand-alone `Activation` layer (folded into a preceding linear Dense).
    case activation
    case embedding
    case dense
    /// `TimeDistributed(Dense)`: a dense head applied at every step.
    case timeDistributed
    /// `Masking(mask_value)` in front of the first recurrent layer.
    case masking
    case recurrent(KerasCellClass)
    /// `RNN` wrapping a single `LSTMCell` / `GRUCell`.
    case rnnWrapper(KerasCellClass)
    case bidirectional

    /// Classes that are the identity at inference time.
    static let passThroughClasses: Set<String> = [
        "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
    ]

    /// Classifies a layer, throwing `unsupportedLayer` (naming the layer and its class) for anything else.
    static func classify(_ layer: KerasLayerConfig) throws(ImportError) -> KerasLayerKind {
        switch layer.className {
        case "InputLayer": return .input
        case "Activation": return .activation
        case "Embedding": return .embedding
        case "Dense": return .dense
        case "Masking": return .masking
        case "TimeDistributed":
            let inner = layer.config["layer"]?["class_name"]?.string ?? "?"
            guard inner == "Dense" else {
                throw ImportError(
                    .unsupportedLayer, "layer \(layer.label) wraps `\(inner)`; only TimeDistributed(Dense) is supported", location: layer.name)
            }
            return .timeDistributed
        case "Bidirectional": return .bidirectional
        case "RNN":
            let cellClass = layer.config["cell"]?["class_name"]?.string ?? "?"
            switch cellClass {
            case "LSTMCell": return .rnnWrapper(.lstm)
            case "GRUCell": return .rnnWrapper(.gru)
            case "SimpleRNNCell": return .rnnWrapper(.simpleRNN)
            default:
                throw ImportError(
                    .unsupportedLayer,
                    "layer \(layer.label) wraps the cell class `\(cellClass)`; only a single LSTMCell, GRUCell or SimpleRNNCell is supported",
                    location: layer.name)
            }
        default:
            if let cell = KerasCellClass(rawValue: layer.className) { return .recurrent(cell) }
            if passThroughClasses.contains(layer.className) { return .passThrough }
            throw ImportError(
                .unsupportedLayer,
                "layer \(layer.label) cannot be expressed: lstmconv reads InputLayer, Masking, Embedding, LSTM, GRU, SimpleRNN, CuDNNLSTM, CuDNNGRU, RNN(LSTMCell|GRUCell|SimpleRNNCell), Bidirectional, Dense, TimeDistributed(Dense), Activation and inference no-ops (Dropout, SpatialDropout1D, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization)",
                location: layer.name)
        }
    }

    /// Classifies and checks the nested layer of wrappers, for early, precise errors.
    static func check(_ layer: KerasLayerConfig) throws(ImportError) {
        if case .bidirectional = try classify(layer) {
            let inner = try KerasBidirectional.innerLayers(of: layer)
            for entry in inner {
                switch try classify(entry) {
                case .recurrent, .rnnWrapper: break
                default:
                    throw ImportError(
                        .unsupportedLayer, "Bidirectional layer \(layer.label) wraps \(entry.label), which is not a recurrent layer",
                        location: layer.name)
                }
            }
        }
    }
}

/// Options of one recurrent layer, read from its config.
struct KerasRecurrentOptions: Sendable {
    var cellClass: KerasCellClass
    var units: Int
    var activation: Activation
    var recurrentActivation: Activation
    var useBias: Bool
    /// GRU only: `reset_after` as configured (`nil` when the config does not say: decided by the bias shape).
    var resetAfter: Bool?
    var returnSequences: Bool
    var goBackwards: Bool
    /// `time_major=True` (tf-keras).
    var timeMajor: Bool
    /// `stateful=True`.
    var stateful: Bool
    /// The dtype policy the layer computes in, when it is not float32 (`float16`, `mixed_float16`, …).
    var computePolicy: String?

    /// Reads the options of `LSTM`, `GRU`, `CuDNNLSTM`, `CuDNNGRU` or `RNN(cell)`.
    init(_ layer: KerasLayerConfig, cellClass: KerasCellClass, wrapped: Bool, generation: KerasGeneration) throws(ImportError) {
        let config = layer.config
        // RNN(cell): the cell options live in `config.cell.config`, the sequence options on the RNN.
        let cellConfig = wrapped ? (config["cell"]?["config"] ?? .object([:])) : config
        self.cellClass = cellClass
        guard let units = cellConfig["units"]?.int, units >= 1, units <= ModelLimits.maxSize else {
            throw ImportError(
                .missingConfig, "layer \(layer.label) has no valid `units` (found \(cellConfig["units"]?.brief ?? "nothing"))",
                location: layer.name)
        }
        self.units = units
        // return_state: the chain reads one of the outputs (KerasModelConfig.chain checked which); a Dense on `h` is
        // the layer without return_sequences.
        if config["return_state"]?.bool == true {
            switch layer.consumedOutput {
            case 0: break
            case 1: break
            default:
                throw ImportError(
                    .unsupportedTopology,
                    "layer \(layer.label) has return_state=True and the next layer reads its output \(layer.consumedOutput) (a cell state or a backward state); only the output or the final h can continue the chain",
                    location: layer.name)
            }
        }
        timeMajor = config["time_major"]?.bool ?? false
        stateful = config["stateful"]?.bool ?? false
        computePolicy = KerasDTypePolicy.name(of: config)
        switch cellClass {
        case .cudnnLSTM, .cudnnGRU:
            activation = .tanh
            recurrentActivation = .sigmoid
            useBias = true
        case .simpleRNN:
            activation = try KerasActivation.parse(cellConfig["activation"], default: "tanh", layer: layer, key: "activation", generation: generation)
            recurrentActivation = .sigmoid  // no gates: unused
            useBias = cellConfig["use_bias"]?.bool ?? true
        case .lstm, .gru:
            activation = try KerasActivation.parse(cellConfig["activation"], default: "tanh", layer: layer, key: "activation", generation: generation)
            recurrentActivation = try KerasActivation.parse(
                cellConfig["recurrent_activation"], default: "sigmoid", layer: layer, key: "recurrent_activation", generation: generation)
            useBias = cellConfig["use_bias"]?.bool ?? true
        }
        for (candidate, key) in [(activation, "activation"), (recurrentActivation, "recurrent_activation")] {
            if case .softmax = candidate {
                throw ImportError(
                    .unsupportedLayer, "layer \(layer.label) uses softmax as its \(key); softmax is only supported on Dense", location: layer.name)
            }
        }
        resetAfter = cellClass == .gru ? cellConfig["reset_after"]?.bool : (cellClass == .cudnnGRU ? true : nil)
        returnSequences = config["return_sequences"]?.bool ?? false
        if config["return_state"]?.bool == true, layer.consumedOutput == 1 { returnSequences = false }
        goBackwards = config["go_backwards"]?.bool ?? false
    }
}

/// Keras activation names → ``Activation``.
enum KerasActivation {
    /// Parses an activation entry: a name, `null` (linear) or a Keras 3 serialized function object.
    static func parse(
        _ value: JSONValue?, default fallback: String, layer: KerasLayerConfig, key: String, generation: KerasGeneration
    ) throws(ImportError) -> Activation {
        let name: String
        switch value {
        case nil: name = fallback
        case .null?: name = "linear"
        case .string(let text)?: name = text
        case .object(let object)?:
            // Keras 3: {"module": "keras.activations", "class_name": "function", "config": "tanh", …}
            guard let text = object["config"]?.string ?? object["class_name"]?.string else {
                throw ImportError(.unsupportedLayer, "layer \(layer.label) has an unreadable \(key) \(value?.brief ?? "")", location: layer.name)
            }
            name = text
        default:
            throw ImportError(.unsupportedLayer, "layer \(layer.label) has an unreadable \(key) \(value?.brief ?? "")", location: layer.name)
        }
        switch name {
        case "tanh": return .tanh
        case "sigmoid": return .sigmoid
        case "relu": return .relu
        case "linear", "None": return .linear
        case "softmax": return .softmax
        case "hard_sigmoid":
            switch generation {
            case .keras2: return .hardSigmoidKeras2
            case .keras3: return .hardSigmoidKeras3
            case .unknown:
                throw ImportError(
                    .missingConfig,
                    "layer \(layer.label) uses hard_sigmoid, whose meaning depends on the Keras version (0.2x+0.5 in Keras 2, x/6+0.5 in Keras 3), and neither the file nor the config states `keras_version`",
                    location: layer.name)
            }
        default:
            throw ImportError(
                .unsupportedLayer,
                "layer \(layer.label) uses the activation `\(name)` for \(key); supported: tanh, sigmoid, hard_sigmoid, relu, linear (and softmax on Dense)",
                location: layer.name)
        }
    }
}

/// The two sublayer configs of a `Bidirectional` wrapper.
enum KerasBidirectional {
    /// `[forward, backward]`: `config.layer` and `config.backward_layer` (or the forward layer again).
    static func innerLayers(of layer: KerasLayerConfig) throws(ImportError) -> [KerasLayerConfig] {
        guard let forward = layer.config["layer"] else {
            throw ImportError(.missingConfig, "Bidirectional layer \(layer.label) has no `layer` in its config", location: layer.name)
        }
        let forwardLayer = try KerasModelConfig.layer(forward, index: 0)
        let backward = layer.config["backward_layer"].flatMap { $0.isNull ? nil : $0 }
        let backwardLayer = try backward.map { value throws(ImportError) in try KerasModelConfig.layer(value, index: 1) } ?? forwardLayer
        return [forwardLayer, backwardLayer]
    }
}

/// A layer's Keras dtype policy (`dtype`: a name, or a `DTypePolicy`/`Policy` object).
enum KerasDTypePolicy {
    /// The policy name when it computes in something other than float32, else `nil`.
    static func name(of config: JSONValue) -> String? {
        let value = config["dtype"]
        let name = value?.string ?? value?["config"]?["name"]?.string
        guard let name, name != "float32" else { return nil }
        return name
    }

    /// Whether the policy computes in float16 or bfloat16 (`float16`, `mixed_float16`, `bfloat16`, `mixed_bfloat16`).
    static func computesInHalf(_ name: String) -> Bool { name.hasSuffix("float16") }
}
