import Foundation
import LSTMLayouts
import LSTMModel

/// Turns a Keras layer chain plus its weights into document layers, one Keras layer at a time.
struct KerasModelBuilder {
    let config: KerasModelConfig
    let store: any KerasWeightStore
    let generation: KerasGeneration

    private(set) var layers: [Layer] = []
    private(set) var summaries: [String] = []
    /// Fused-layout table ids used, in first-use order.
    private(set) var layoutIDs: [String] = []
    private(set) var notes: [String] = []
    /// Every dataset path a document tensor was cut from.
    private(set) var consumed: Set<String> = []
    /// `Masking(mask_value)` seen, waiting for the first recurrent layer.
    private var pendingMask: (value: Double, layer: KerasLayerConfig)?
    /// Whether the sequence flowing at this point carries a Keras mask.
    private var masked = false
    /// Layers whose Keras dtype policy computes in float16/bfloat16 (`name (policy)`).
    private(set) var halfPrecisionLayers: [String] = []

    init(config: KerasModelConfig, store: any KerasWeightStore, generation: KerasGeneration) {
        self.config = config
        self.store = store
        self.generation = generation
    }

    /// Features per step the chain emits so far (`nil` before the first layer with weights).
    private var previousOutput: Int? { layers.last?.outputSize }

    mutating func build() throws(ImportError) {
        for layer in config.layers {
            let kind = try KerasLayerKind.classify(layer)
            try KerasLayerKind.check(layer)
            if case .dense = layers.last {
                switch kind {
                case .dense, .activation, .passThrough: break
                default:
                    throw ImportError(
                        .unsupportedTopology, "layer \(layer.label) follows a Dense layer; only Dense layers may follow a Dense head",
                        location: layer.name)
                }
            }
            if let pending = pendingMask {
                switch kind {
                case .recurrent, .rnnWrapper, .bidirectional, .passThrough, .input: break
                default:
                    throw ImportError(
                        .unsupportedTopology,
                        "layer \(pending.layer.label) masks the input of \(layer.label); lstmconv supports Masking only directly before the first recurrent layer",
                        location: pending.layer.name)
                }
            }
            switch kind {
            case .input:
                continue
            case .masking:
                guard layers.isEmpty, pendingMask == nil else {
                    throw ImportError(
                        .unsupportedTopology, "layer \(layer.label) is not at the start of the model; Masking must come first", location: layer.name)
                }
                let value = layer.config["mask_value"]?.double ?? 0
                guard value.isFinite else {
                    throw ImportError(.unsupportedLayer, "layer \(layer.label) has a non-finite mask_value", location: layer.name)
                }
                pendingMask = (value, layer)
            case .timeDistributed:
                guard let inner = layer.config["layer"], let innerConfig = inner["config"], innerConfig.object != nil else {
                    throw ImportError(.missingConfig, "layer \(layer.label) has no wrapped `layer` config", location: layer.name)
                }
                try addDense(KerasLayerConfig(className: "Dense", name: layer.name, config: innerConfig), weightsOf: layer, kind: .timeDistributed)
            case .passThrough:
                notes.append("layer \(layer.label) is the identity at inference and was skipped")
            case .activation:
                try foldActivation(layer)
            case .embedding:
                try addEmbedding(layer)
            case .dense:
                try addDense(layer)
            case .recurrent(let cell):
                try addRecurrent(layer, inner: [layer], cell: cell, wrapped: false)
            case .rnnWrapper(let cell):
                try addRecurrent(layer, inner: [layer], cell: cell, wrapped: true)
            case .bidirectional:
                let inner = try KerasBidirectional.innerLayers(of: layer)
                let kinds = try inner.map { sublayer throws(ImportError) in try KerasLayerKind.classify(sublayer) }
                var classes: [KerasCellClass] = []
                var wrapped: [Bool] = []
                for entry in kinds {
                    switch entry {
                    case .recurrent(let cell): classes.append(cell); wrapped.append(false)
                    case .rnnWrapper(let cell): classes.append(cell); wrapped.append(true)
                    default: break
                    }
                }
                guard classes.count == 2, classes[0] == classes[1], wrapped[0] == wrapped[1] else {
                    throw ImportError(
                        .unsupportedLayer,
                        "Bidirectional layer \(layer.label) combines \(inner[0].label) and \(inner[1].label); both directions must be the same recurrent class",
                        location: layer.name)
                }
                try addRecurrent(layer, inner: inner, cell: classes[0], wrapped: wrapped[0])
            }
        }
        guard layers.contains(where: { if case .recurrent = $0 { true } else { false } }) else {
            throw ImportError(
                .noRecurrentWeights,
                "the model has no LSTM, GRU or SimpleRNN layer (layers: \(config.layers.map(\.label).joined(separator: ", ")))")
        }
    }

    // MARK: - Layers

    private mutating func foldActivation(_ layer: KerasLayerConfig) throws(ImportError) {
        let activation = try KerasActivation.parse(
            layer.config["activation"], default: "linear", layer: layer, key: "activation", generation: generation)
        if activation == .linear {
            notes.append("layer \(layer.label) is linear and was skipped")
            return
        }
        guard case .dense(var dense) = layers.last, dense.activation == .linear else {
            throw ImportError(
                .unsupportedLayer,
                "layer \(layer.label) applies \(activation) on its own; a stand-alone Activation is only supported right after a linear Dense",
                location: layer.name)
        }
        dense.activation = activation
        layers[layers.count - 1] = .dense(dense)
        notes.append("layer \(layer.label) was folded into the preceding Dense as its activation")
    }

    private mutating func addEmbedding(_ layer: KerasLayerConfig) throws(ImportError) {
        guard layers.isEmpty else {
            throw ImportError(.unsupportedTopology, "layer \(layer.label) is not the first layer; an Embedding must start the chain", location: layer.name)
        }
        let weights = try store.weights(of: layer, kind: .embedding)[""] ?? [:]
        let table = try required("embeddings", in: weights, layer: layer)
        let shape = table.tensor.shape
        guard shape.count == 2 else {
            throw ImportError(.shapeMismatch, "layer \(layer.label): embeddings must be [input_dim, output_dim], found \(shape)", location: table.sourceName)
        }
        for (key, axis) in [("input_dim", 0), ("output_dim", 1)] {
            if let stated = layer.config[key]?.int, stated != shape[axis] {
                throw ImportError(
                    .shapeMismatch, "layer \(layer.label): config \(key)=\(stated) but embeddings have shape \(shape)", location: table.sourceName)
            }
        }
        consumed.insert(table.sourceName)
        let parameters = ParameterSet(tensors: [.W_e: table.tensor], sources: [.W_e: table.sourceName])
        let maskZero = layer.config["mask_zero"]?.bool == true
        layers.append(.embedding(EmbeddingLayer(vocabularySize: shape[0], embeddingSize: shape[1], parameters: parameters, maskZero: maskZero)))
        masked = maskZero
        summaries.append(
            "embedding (keras Embedding \"\(layer.name)\"): vocabulary \(shape[0]), size \(shape[1]) → W_e"
                + (maskZero ? "; mask_zero: token 0 is padding, its steps are masked" : ""))
    }

    private mutating func addDense(
        _ layer: KerasLayerConfig, weightsOf owner: KerasLayerConfig? = nil, kind: KerasLayerKind = .dense
    ) throws(ImportError) {
        if let policy = KerasDTypePolicy.name(of: layer.config) ?? owner.flatMap({ KerasDTypePolicy.name(of: $0.config) }),
            KerasDTypePolicy.computesInHalf(policy)
        {
            halfPrecisionLayers.append("\(layer.name) (\(policy))")
        }
        for key in ["lora_rank", "quantization_config"] {
            if let value = layer.config[key], !value.isNull {
                throw ImportError(.unsupportedLayer, "layer \(layer.label) has \(key)=\(value.brief), which lstmconv cannot express", location: layer.name)
            }
        }
        let activation = try KerasActivation.parse(layer.config["activation"], default: "linear", layer: layer, key: "activation", generation: generation)
        let useBias = layer.config["use_bias"]?.bool ?? true
        let weights = try store.weights(of: owner ?? layer, kind: kind)[""] ?? [:]
        let kernel = try required("kernel", in: weights, layer: layer)
        let shape = kernel.tensor.shape
        let units = layer.config["units"]?.int
        guard shape.count == 2, units == nil || units == shape[1] else {
            throw ImportError(
                .shapeMismatch, "layer \(layer.label): kernel must be [input, units=\(units.map(String.init) ?? "?")], found \(shape)",
                location: kernel.sourceName)
        }
        if let previousOutput, shape[0] != previousOutput {
            throw ImportError(
                .shapeMismatch, "layer \(layer.label): kernel has \(shape[0]) input rows but the previous layer emits \(previousOutput) features",
                location: kernel.sourceName)
        }
        var parameters = ParameterSet()
        parameters.tensors[.W_d] = try kernel.tensor.transposed()
        parameters.sources[.W_d] = kernel.sourceName + ".T"
        consumed.insert(kernel.sourceName)
        if useBias {
            let bias = try required("bias", in: weights, layer: layer)
            guard bias.tensor.shape == [shape[1]] else {
                throw ImportError(.shapeMismatch, "layer \(layer.label): bias must be [\(shape[1])], found \(bias.tensor.shape)", location: bias.sourceName)
            }
            parameters.tensors[.b_d] = bias.tensor
            parameters.sources[.b_d] = bias.sourceName
            consumed.insert(bias.sourceName)
        }
        try rejectUnknown(weights, known: ["kernel", "bias"], layer: layer)
        layers.append(.dense(DenseLayer(inputSize: shape[0], units: shape[1], activation: activation, useBias: useBias, parameters: parameters)))
        let className = owner == nil ? "Dense" : "TimeDistributed(Dense)"
        summaries.append(
            "dense (keras \(className) \"\(layer.name)\"): \(shape[0]) → \(shape[1]), \(activation) → W_d\(useBias ? ", b_d" : "")"
                + (masked ? "; applied at every step, masked steps included (as Keras does)" : ""))
    }

    /// Adds an LSTM / GRU layer; `inner` is `[layer]`, or the forward and backward sublayers of a Bidirectional.
    private mutating func addRecurrent(_ layer: KerasLayerConfig, inner: [KerasLayerConfig], cell: KerasCellClass, wrapped: Bool) throws(ImportError) {
        let isBidirectional = inner.count == 2
        if isBidirectional, layer.consumedOutput != 0 {
            // Bidirectional(return_state=True) returns [o, h_forward, c_forward, h_backward, c_backward]: one
            // direction's state is not the layer's output.
            throw ImportError(
                .unsupportedTopology,
                "Bidirectional layer \(layer.label) has return_state=True and the next layer reads one direction's state (output \(layer.consumedOutput)); only its merged output can continue the chain",
                location: layer.name)
        }
        let options = try inner.map { sublayer throws(ImportError) in
            try KerasRecurrentOptions(sublayer, cellClass: cell, wrapped: wrapped, generation: generation)
        }
        var mergeMode: MergeMode?
        if isBidirectional {
            let (forward, backward) = (options[0], options[1])
            guard forward.units == backward.units, forward.activation == backward.activation,
                forward.recurrentActivation == backward.recurrentActivation, forward.useBias == backward.useBias,
                forward.returnSequences == backward.returnSequences, forward.resetAfter == backward.resetAfter
            else {
                throw ImportError(
                    .unsupportedLayer,
                    "Bidirectional layer \(layer.label): the forward and backward layers differ in units, activations, bias, reset_after or return_sequences",
                    location: layer.name)
            }
            // Keras runs the backward sublayer with the opposite go_backwards and flips its output back; with
            // go_backwards=True on the wrapped layer that is the engine's two-direction go_backwards (engine.md §5).
            if inner[1].name != inner[0].name, backward.goBackwards == forward.goBackwards {
                throw ImportError(
                    .unsupportedLayer,
                    "Bidirectional layer \(layer.label): the forward and backward layers both have go_backwards=\(forward.goBackwards ? "True" : "False")",
                    location: layer.name)
            }
            let merge = layer.config["merge_mode"]
            guard let name = merge?.string ?? (merge == nil ? "concat" : nil), let mode = MergeMode(rawValue: name) else {
                throw ImportError(
                    merge?.isNull == true ? .unsupportedTopology : .unsupportedLayer,
                    "Bidirectional layer \(layer.label) has merge_mode=\(merge?.brief ?? "?"); supported: concat, sum, mul, ave",
                    location: layer.name)
            }
            mergeMode = mode
        }
        let primary = options[0]
        let weights = try store.weights(of: layer, kind: isBidirectional ? .bidirectional : (wrapped ? .rnnWrapper(cell) : .recurrent(cell)))
        var directions: [ParameterSet] = []
        var layout: FusedLayout?
        var inputSize = previousOutput
        for part in isBidirectional ? ["forward", "backward"] : [""] {
            let found = weights[part] ?? [:]
            let direction = try recurrentDirection(primary, found, layer: layer, part: part, inputSize: inputSize)
            directions.append(direction.set)
            layout = direction.layout
            inputSize = direction.inputSize
        }
        guard let layout, let inputSize else {
            throw ImportError(.missingTensor, "layer \(layer.label) has no weights", location: layer.name)
        }
        if !layoutIDs.contains(layout.id) { layoutIDs.append(layout.id) }
        let twoBiases = layout.tensors.contains { [.biasRows, .biasThenSecondBias, .secondBias].contains($0.part) }
        var recurrent = RecurrentLayer(
            cell: cell.cell, inputSize: inputSize, hiddenSize: primary.units, directions: directions, mergeMode: mergeMode,
            returnSequences: primary.returnSequences, goBackwards: primary.goBackwards,
            activation: primary.activation, recurrentActivation: primary.recurrentActivation, useGate: .standard,
            peepholes: .none, bias: twoBiases ? .double : .single,
            resetMode: cell.cell == .gru ? (layout.id == KerasLayouts.gruResetBefore.id ? .before : .after) : nil)
        if let pending = pendingMask {
            recurrent.maskValue = pending.value
            pendingMask = nil
            masked = true
        }
        if masked {
            // Keras: a plain layer emits its carried output at masked steps; Bidirectional with return_sequences
            // emits zeros (zero_output_for_mask).
            recurrent.maskedOutput = isBidirectional && primary.returnSequences ? .zero : .previous
        }
        if primary.timeMajor {
            guard layers.isEmpty else {
                throw ImportError(
                    .unsupportedLayer,
                    "layer \(layer.label) has time_major=True but is not the first layer; only a time-major first layer (the model's input layout) is supported",
                    location: layer.name)
            }
            recurrent.timeMajor = true
        } else if case .recurrent(let first)? = layers.first, first.timeMajor {
            throw ImportError(
                .unsupportedLayer,
                "layer \(layer.label) is batch-major after a time_major=True layer; mixed layouts are not supported", location: layer.name)
        }
        recurrent.stateful = primary.stateful
        if primary.stateful {
            notes.append(
                "layer \(layer.label) is stateful: Keras carries its final states into the next batch; `lstmconv run` starts from zeros (or --initial-states) and writes the final states with --states, for the caller to carry")
        }
        if let policy = primary.computePolicy, KerasDTypePolicy.computesInHalf(policy) {
            halfPrecisionLayers.append("\(layer.name) (\(policy))")
        }
        let readsFinalH = layer.config["return_state"]?.bool == true && layer.consumedOutput == 1
        layers.append(.recurrent(recurrent))
        if layer.config["return_state"]?.bool == true {
            notes.append(
                "layer \(layer.label) has return_state=True; the next layer reads its \(readsFinalH ? "final h (imported as the layer without return_sequences)" : "output"): a chain")
        }
        let layerMasked = masked
        if !recurrent.returnSequences { masked = false }
        let letters = layout.gates.map(\.letter).joined(separator: ",")
        let roles = layout.gates.map(\.gate.weight.rawValue).joined(separator: ",")
        var flags: [String] = []
        if let mergeMode { flags.append("bidirectional \(mergeMode.rawValue)") }
        if primary.returnSequences { flags.append("return_sequences") }
        if recurrent.goBackwards { flags.append("go_backwards") }
        if recurrent.activation != .tanh { flags.append("activation \(recurrent.activation)") }
        if recurrent.recurrentActivation != .sigmoid { flags.append("recurrent_activation \(recurrent.recurrentActivation)") }
        if !primary.useBias { flags.append("use_bias=False (zero biases)") }
        if let value = recurrent.maskValue { flags.append("input masked where every feature is \(value) (Masking)") }
        if layerMasked { flags.append("masked steps keep the state and emit \(recurrent.maskedOutput == .zero ? "zeros" : "the previous output")") }
        if recurrent.timeMajor { flags.append("time_major: input [T, B, F]") }
        if recurrent.stateful { flags.append("stateful") }
        summaries.append(
            "\(cell.cell.rawValue) (keras \(layer.className) \"\(layer.name)\", \(layout.id)): I=\(inputSize) H=\(primary.units), gates \(letters) → \(roles)"
                + (flags.isEmpty ? "" : "; " + flags.joined(separator: ", ")))
    }

    /// Cuts one direction's document tensors with the Keras table that matches the class and bias shape.
    private mutating func recurrentDirection(
        _ options: KerasRecurrentOptions, _ found: [String: FoundTensor], layer: KerasLayerConfig, part: String, inputSize: Int?
    ) throws(ImportError) -> (set: ParameterSet, layout: FusedLayout, inputSize: Int) {
        let h = options.units
        let gates = options.cellClass.gateCount
        let what = "layer \(layer.label)\(part.isEmpty ? "" : " (\(part))"), units=\(h)"
        let kernel = try required("kernel", in: found, layer: layer, part: part)
        let recurrentKernel = try required("recurrent_kernel", in: found, layer: layer, part: part)
        try rejectUnknown(found, known: ["kernel", "recurrent_kernel", "bias"], layer: layer)
        let kernelShape = kernel.tensor.shape
        let gateName = gates == 1 ? "H" : "\(gates)H"
        guard kernelShape.count == 2, kernelShape[1] == gates * h else {
            throw ImportError(
                .shapeMismatch, "\(what): kernel must be [I, \(gateName) = \(gates * h)], found \(kernelShape)", location: kernel.sourceName)
        }
        let columns = kernelShape[0]
        if let inputSize, columns != inputSize {
            throw ImportError(
                .shapeMismatch, "\(what): kernel has I=\(columns) rows but the previous layer emits \(inputSize) features",
                location: kernel.sourceName)
        }
        guard recurrentKernel.tensor.shape == [h, gates * h] else {
            throw ImportError(
                .shapeMismatch, "\(what): recurrent_kernel must be [H, \(gateName)] = \([h, gates * h]), found \(recurrentKernel.tensor.shape)",
                location: recurrentKernel.sourceName)
        }
        let layout: FusedLayout
        let bias: FoundTensor
        if options.useBias {
            bias = try required("bias", in: found, layer: layer, part: part)
            layout = try Self.layout(for: options, biasShape: bias.tensor.shape, what: what, location: bias.sourceName)
        } else {
            // No bias in the file: zeros of the shape the layer's table expects (a GRU's from reset_after).
            let shape = options.cellClass == .gru && (options.resetAfter ?? (generation == .keras3)) ? [2, 3 * h] : [gates * h]
            layout = try Self.layout(for: options, biasShape: shape, what: what, location: layer.name)
            let zeros = Data(count: shape.reduce(1, *) * kernel.tensor.dtype.byteWidth)
            do {
                bias = FoundTensor(try Tensor(dtype: kernel.tensor.dtype, shape: shape, bytes: zeros), sourceName: "zeros (use_bias=False)")
            } catch {
                throw ImportError(.shapeMismatch, error.description, location: layer.name)
            }
        }
        let set: ParameterSet
        do {
            set = try layout.assemble(
                ["kernel": kernel, "recurrent_kernel": recurrentKernel, "bias": bias], hiddenSize: h, inputSize: columns, recurrentSize: h)
        } catch {
            var wrapped = error
            wrapped.message = "\(what): \(error.message)"
            throw wrapped
        }
        for source in [kernel, recurrentKernel, bias] where options.useBias || source.sourceName != bias.sourceName {
            consumed.insert(source.sourceName)
        }
        return (set, layout, columns)
    }

    /// The Keras table for a recurrent class, chosen (for GRU) by the bias shape and checked against the config.
    static func layout(for options: KerasRecurrentOptions, biasShape: [Int], what: String, location: String) throws(ImportError) -> FusedLayout {
        let h = options.units
        let (layout, expected): (FusedLayout, [Int])
        switch options.cellClass {
        case .lstm: (layout, expected) = (KerasLayouts.lstm, [4 * h])
        case .cudnnLSTM: (layout, expected) = (KerasLayouts.cudnnLSTM, [8 * h])
        case .cudnnGRU: (layout, expected) = (KerasLayouts.cudnnGRU, [6 * h])
        case .simpleRNN: (layout, expected) = (KerasLayouts.simpleRNN, [h])
        case .gru:
            let after = biasShape == [2, 3 * h]
            let before = biasShape == [3 * h]
            guard after || before else {
                throw ImportError(
                    .shapeMismatch,
                    "\(what): GRU bias must be [2, 3H] = \([2, 3 * h]) (reset_after=True) or [3H] = \([3 * h]) (reset_after=False), found \(biasShape)",
                    location: location)
            }
            if let stated = options.resetAfter, stated != after {
                throw ImportError(
                    .shapeMismatch, "\(what): config says reset_after=\(stated ? "True" : "False") but the bias has shape \(biasShape)",
                    location: location)
            }
            return after ? KerasLayouts.gruResetAfter : KerasLayouts.gruResetBefore
        }
        guard biasShape == expected else {
            throw ImportError(
                .shapeMismatch, "\(what): \(options.cellClass.rawValue) bias must be \(expected), found \(biasShape)", location: location)
        }
        return layout
    }

    // MARK: - Helpers

    private func required(_ name: String, in found: [String: FoundTensor], layer: KerasLayerConfig, part: String = "") throws(ImportError) -> FoundTensor {
        guard let tensor = found[name] else {
            let present = found.keys.sorted().joined(separator: ", ")
            throw ImportError(
                .missingTensor,
                "layer \(layer.label)\(part.isEmpty ? "" : " (\(part))") has no `\(name)` weight (found: \(present.isEmpty ? "none" : present))",
                location: layer.name)
        }
        return tensor
    }

    private func rejectUnknown(_ found: [String: FoundTensor], known: Set<String>, layer: KerasLayerConfig) throws(ImportError) {
        if let extra = found.keys.sorted().first(where: { !known.contains($0) }) {
            throw ImportError(
                .unsupportedLayer,
                "layer \(layer.label) has a weight `\(extra)` that lstmconv does not understand (expected \(known.sorted().joined(separator: ", ")))",
                location: found[extra]?.sourceName ?? layer.name)
        }
    }
}
