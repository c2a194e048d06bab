import LSTMModel

// Checks shared by both engines, so that they reject exactly the same inputs with the same errors.

/// A model input whose shape fits the model's first layer.
enum CheckedInput {
    /// Token ids `[B, T]`, every id inside the embedding's vocabulary.
    case tokens(ids: [Int], batch: Int, time: Int)
    /// Features `[B, T, F]`.
    case sequence(ForwardInput, batch: Int, time: Int, features: Int)
    /// Features `[B, F]` (a model that starts with a dense layer).
    case vectors(ForwardInput, batch: Int, features: Int)

    var batch: Int {
        switch self {
        case .tokens(_, let batch, _), .sequence(_, let batch, _, _), .vectors(_, let batch, _): batch
        }
    }
}

extension ForwardInput {
    /// The values as float64 (exact for every case).
    var doubles: [Double] {
        switch self {
        case .float64(let array): array.scalars
        case .float32(let array): array.scalars.map(Double.init)
        case .tokens(let array): array.scalars.map(Double.init)
        }
    }

    /// The values as float32 (rounded to nearest for float64 input).
    var floats: [Float] {
        switch self {
        case .float64(let array): array.scalars.map(Float.init)
        case .float32(let array): array.scalars
        case .tokens(let array): array.scalars.map(Float.init)
        }
    }
}

/// Validates the model, mapping its error into an engine error.
func validatedModel(_ model: Model) throws(EngineError) -> Model {
    do {
        try model.validate()
    } catch {
        throw EngineError(.invalidModel, "the model does not validate", keyPath: error.keyPath, underlying: error)
    }
    return model
}

/// Checks `input` against the model's first layer (spec/engine.md §6).
func checkInput(_ input: ForwardInput, model: Model) throws(EngineError) -> CheckedInput {
    let shape = input.shape
    guard let first = model.layers.first else { throw EngineError(.invalidModel, "the model has no layers") }
    switch first {
    case .embedding(let embedding):
        guard shape.count == 2 else {
            throw EngineError(.invalidInput, "an embedding model takes token ids [batch, time] (batch-first; a time-major run reads [time, batch] and swaps it)", keyPath: "input", actualShape: shape)
        }
        let ids: [Int]
        switch input {
        case .tokens(let array):
            ids = array.scalars
        case .float32, .float64:
            var converted: [Int] = []
            converted.reserveCapacity(input.doubles.count)
            for (offset, value) in input.doubles.enumerated() {
                guard let id = Int(exactly: value) else {
                    throw EngineError(
                        .invalidInput, "token ids must be integers; element \(offset) is \(value)", keyPath: "input")
                }
                converted.append(id)
            }
            ids = converted
        }
        for (offset, id) in ids.enumerated() where id < 0 || id >= embedding.vocabularySize {
            let batch = shape[1] > 0 ? offset / shape[1] : 0
            let time = shape[1] > 0 ? offset % shape[1] : 0
            throw EngineError(
                .tokenOutOfRange,
                "token id \(id) at [\(batch), \(time)] is outside 0..<\(embedding.vocabularySize)", keyPath: "layer_0")
        }
        return .tokens(ids: ids, batch: shape[0], time: shape[1])
    case .recurrent(let layer):
        if case .tokens = input {
            throw EngineError(.invalidInput, "integer input needs an embedding as the first layer", keyPath: "input")
        }
        guard shape.count == 3, shape[2] == layer.inputSize else {
            throw EngineError(
                .invalidInput, "a recurrent first layer takes features [batch, time, \(layer.inputSize)] (batch-first; a time-major run reads [time, batch, \(layer.inputSize)] and swaps it)",
                keyPath: "input", expectedShape: [shape.first ?? 1, shape.count > 1 ? shape[1] : 1, layer.inputSize],
                actualShape: shape)
        }
        return .sequence(input, batch: shape[0], time: shape[1], features: shape[2])
    case .dense(let layer):
        if case .tokens = input {
            throw EngineError(.invalidInput, "integer input needs an embedding as the first layer", keyPath: "input")
        }
        guard shape.last == layer.inputSize, shape.count == 2 || shape.count == 3 else {
            throw EngineError(
                .invalidInput, "a dense first layer takes features [batch, \(layer.inputSize)] or [batch, time, \(layer.inputSize)]",
                keyPath: "input", actualShape: shape)
        }
        if shape.count == 2 { return .vectors(input, batch: shape[0], features: shape[1]) }
        return .sequence(input, batch: shape[0], time: shape[1], features: shape[2])
    }
}

/// Checks that every initial state names a recurrent layer and direction of the model and has the shapes
/// `STM [B, R]` and (LSTM only) `LTM [B, H]`.
func checkInitialStates(_ states: [StateKey: CellState], model: Model, batch: Int) throws(EngineError) {
    for (key, state) in states {
        guard key.layer < model.layers.count, case .recurrent(let layer) = model.layers[key.layer] else {
            throw EngineError(.invalidState, "layer \(key.layer) is not a recurrent layer", keyPath: key.description)
        }
        guard key.direction == .forward || layer.directions.count == 2 else {
            throw EngineError(.invalidState, "the layer has no backward direction", keyPath: key.description)
        }
        guard state.STM.shape == [batch, layer.recurrentSize] else {
            throw EngineError(
                .invalidState, "", keyPath: key.name(.STM), expectedShape: [batch, layer.recurrentSize],
                actualShape: state.STM.shape)
        }
        switch (layer.cell, state.LTM) {
        case (.gru, .some), (.rnn, .some):
            throw EngineError(.invalidState, "a \(layer.cell == .gru ? "GRU" : "plain RNN") has no long-term memory", keyPath: key.name(.LTM))
        case (.lstm, .some(let LTM)) where LTM.shape != [batch, layer.hiddenSize]:
            throw EngineError(
                .invalidState, "", keyPath: key.name(.LTM), expectedShape: [batch, layer.hiddenSize], actualShape: LTM.shape)
        default:
            break
        }
    }
}
