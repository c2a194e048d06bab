/// Limits that keep hostile hyperparameters from allocating absurd amounts of memory.
public enum ModelLimits {
    /// Most layers a model may have (checked before anything is allocated).
    public static let maxLayers = 64
    /// Largest size (H, I, P, units, vocabulary) a layer may declare.
    public static let maxSize = 1 << 20
}

extension Model {
    /// Semantic validation after parsing: every hyperparameter in range, every layer's input equal to the
    /// previous layer's output, every tensor present with the shape the hyperparameters imply, nothing extra.
    public func validate() throws(ModelError) {
        try validate(tensors: true)
    }

    /// ``validate()``; with `tensors: false` only the hyperparameters and the chain of layers are checked (a model
    /// outline from a header, whose tensors were not read).
    package func validate(tensors: Bool) throws(ModelError) {
        guard !layers.isEmpty else { throw ModelError(.invalidHyperparameter, "model has no layers", keyPath: "layer_count") }
        guard layers.count <= ModelLimits.maxLayers else {
            throw ModelError(.invalidHyperparameter, "\(layers.count) layers exceeds the limit of \(ModelLimits.maxLayers)", keyPath: "layer_count")
        }
        var previousOutput: Int?
        for (index, layer) in layers.enumerated() {
            let key = "layer_\(index)"
            try layer.validateHyperparameters(keyPath: key, isFirst: index == 0)
            if let previousOutput {
                let input: Int
                switch layer {
                case .embedding:
                    throw ModelError(.invalidHyperparameter, "an embedding layer may only be the first layer", keyPath: key)
                case .recurrent(let recurrent): input = recurrent.inputSize
                case .dense(let dense): input = dense.inputSize
                }
                guard input == previousOutput else {
                    throw ModelError(
                        .invalidHyperparameter,
                        "input size \(input) does not match the previous layer's output size \(previousOutput)",
                        keyPath: "\(key)/input_size")
                }
            }
            if case .recurrent(let recurrent) = layer, recurrent.timeMajor, index != 0 {
                throw ModelError(.invalidHyperparameter, "time_major describes the model's input; it is only valid on the first layer", keyPath: "\(key)/time_major")
            }
            if case .recurrent(let recurrent) = layer, let value = recurrent.maskValue {
                guard index == 0 else {
                    throw ModelError(.invalidHyperparameter, "mask_value (a Keras Masking layer) is only valid on the first layer", keyPath: "\(key)/mask_value")
                }
                guard value.isFinite else {
                    throw ModelError(.invalidHyperparameter, "mask_value must be finite", keyPath: "\(key)/mask_value")
                }
            }
            if case .dense = layer, index + 1 < layers.count {
                if case .dense = layers[index + 1] {} else {
                    throw ModelError(.invalidHyperparameter, "a dense layer may only be followed by dense layers", keyPath: key)
                }
            }
            previousOutput = layer.outputSize
            if tensors { try layer.validateTensors(layerIndex: index) }
        }
    }
}

extension Layer {
    func validateHyperparameters(keyPath key: String, isFirst: Bool) throws(ModelError) {
        func positive(_ value: Int, _ name: String) throws(ModelError) {
            guard value >= 1, value <= ModelLimits.maxSize else {
                throw ModelError(.invalidHyperparameter, "\(name) = \(value) is outside 1...\(ModelLimits.maxSize)", keyPath: "\(key)/\(name)")
            }
        }
        func checkActivation(_ activation: Activation, _ name: String, allowSoftmax: Bool) throws(ModelError) {
            if case .softmax = activation, !allowSoftmax {
                throw ModelError(.invalidHyperparameter, "softmax is only valid on a dense layer", keyPath: "\(key)/\(name)")
            }
            if case let .hardSigmoid(slope, offset) = activation {
                guard slope.isFinite, slope > 0, offset.isFinite else {
                    throw ModelError(.invalidHyperparameter, "hard_sigmoid needs a finite positive slope and finite offset", keyPath: "\(key)/\(name)")
                }
            }
        }
        switch self {
        case .embedding(let layer):
            try positive(layer.vocabularySize, "vocabulary_size")
            try positive(layer.embeddingSize, "embedding_size")
        case .dense(let layer):
            try positive(layer.inputSize, "input_size")
            try positive(layer.units, "units")
            try checkActivation(layer.activation, "activation", allowSoftmax: true)
        case .recurrent(let layer):
            try positive(layer.inputSize, "input_size")
            try positive(layer.hiddenSize, "hidden_size")
            if let p = layer.projectionSize {
                try positive(p, "projection_size")
                guard layer.cell == .lstm else {
                    throw ModelError(.invalidHyperparameter, "projection is only defined for LSTM", keyPath: "\(key)/projection_size")
                }
            }
            guard layer.directions.count == 1 || layer.directions.count == 2 else {
                throw ModelError(.invalidHyperparameter, "a recurrent layer has 1 or 2 directions, found \(layer.directions.count)", keyPath: "\(key)/directions")
            }
            if layer.directions.count == 2, layer.mergeMode == nil {
                throw ModelError(.invalidHyperparameter, "a bidirectional layer needs a merge mode", keyPath: "\(key)/merge_mode")
            }
            if layer.directions.count == 1, layer.mergeMode != nil {
                throw ModelError(.invalidHyperparameter, "a one-direction layer has no merge mode", keyPath: "\(key)/merge_mode")
            }
            try checkActivation(layer.activation, "activation", allowSoftmax: false)
            try checkActivation(layer.recurrentActivation, "recurrent_activation", allowSoftmax: false)
            for (value, name) in [(layer.cellClip, "cell_clip"), (layer.gateClip, "gate_clip"), (layer.projectionClip, "projection_clip")] {
                if let value, !(value.isFinite && value > 0) {
                    throw ModelError(.invalidHyperparameter, "\(name) must be finite and positive", keyPath: "\(key)/\(name)")
                }
            }
            guard layer.forgetBias.isFinite else {
                throw ModelError(.invalidHyperparameter, "forget_bias must be finite", keyPath: "\(key)/forget_bias")
            }
            switch layer.cell {
            case .lstm:
                if layer.resetMode != nil {
                    throw ModelError(.invalidHyperparameter, "reset mode is only defined for GRU", keyPath: "\(key)/reset")
                }
            case .rnn:
                if layer.resetMode != nil {
                    throw ModelError(.invalidHyperparameter, "reset mode is only defined for GRU", keyPath: "\(key)/reset")
                }
                if layer.useGate != .standard || layer.peepholes != .none || layer.cellClip != nil || layer.projectionClip != nil || layer.forgetBias != 0 {
                    throw ModelError(.invalidHyperparameter, "use-gate variant, peepholes, cell clip, projection clip and forget bias are LSTM-only", keyPath: key)
                }
            case .gru:
                guard let reset = layer.resetMode else {
                    throw ModelError(.invalidHyperparameter, "a GRU layer must state its reset mode", keyPath: "\(key)/reset")
                }
                if reset == .after, layer.bias != .double {
                    throw ModelError(.invalidHyperparameter, "a reset-after GRU keeps two bias vectors", keyPath: "\(key)/bias")
                }
                if layer.useGate != .standard || layer.peepholes != .none || layer.cellClip != nil || layer.projectionClip != nil || layer.forgetBias != 0 {
                    throw ModelError(.invalidHyperparameter, "use-gate variant, peepholes, cell clip, projection clip and forget bias are LSTM-only", keyPath: key)
                }
            }
        }
    }

    func validateTensors(layerIndex: Int) throws(ModelError) {
        let slots = expectedSlots(layerIndex: layerIndex)
        let sets = parameterSets
        for entry in sets {
            let direction = entry.direction
            let expected = slots.filter { $0.direction == direction }
            let expectedRoles = Set(expected.map(\.role))
            for role in entry.parameters.tensors.keys.sorted() where !expectedRoles.contains(role) {
                throw ModelError(
                    .unexpectedTensor, "the layer's hyperparameters do not use this tensor",
                    keyPath: TensorSlot.path(layer: layerIndex, direction: direction, role: role))
            }
            for slot in expected {
                guard let tensor = entry.parameters.tensors[slot.role] else {
                    throw ModelError(.missingTensor, "required by the layer's hyperparameters", keyPath: slot.path, expectedShape: slot.shape)
                }
                guard tensor.shape == slot.shape else {
                    throw ModelError(.shapeMismatch, "", keyPath: slot.path, expectedShape: slot.shape, actualShape: tensor.shape)
                }
            }
        }
    }
}
