import LSTMModel

/// A value a gate trace records at every time step, named as in the notes (spec/engine.md §9).
public enum TracedGate: String, Sendable, CaseIterable, Comparable {
    /// learn: the candidate `N_t` (LSTM), or the GRU candidate `c`.
    case N
    /// learn: the learn (input) gate `i_t`.
    case i
    /// forget: the forget gate `f_t`.
    case f
    /// remember: `LTM_t = LTM_{t-1}·f_t + N_t·i_t` (after the cell clip).
    case LTM
    /// use: `tanh(LTM_t)` (standard variant) or `tanh(W_u·(LTM_{t-1}·f_t) + b_u)` (document variant).
    case U
    /// use: the use (output) gate `V_t`.
    case V
    /// GRU update gate `z`.
    case z
    /// GRU reset gate `r`.
    case r
    /// LSTM with a projection: `U_t·V_t` before `W_p`.
    case STM_unprojected
    /// The step's output: LSTM `U_t·V_t` (projected and clipped when the layer has a projection), GRU
    /// `z·STM_{t-1} + (1 − z)·N`, plain RNN `activation(W_s[STM_{t-1}, E_t] + b_s)`. At a masked step: the carried
    /// memory (what the next step reads), whatever the layer emits there.
    case STM

    /// The values traced for `layer`, in report order.
    public static func gates(of layer: RecurrentLayer) -> [TracedGate] {
        switch layer.cell {
        case .lstm: layer.projectionSize == nil ? [.N, .i, .f, .LTM, .U, .V, .STM] : [.N, .i, .f, .LTM, .U, .V, .STM_unprojected, .STM]
        case .gru: [.z, .r, .N, .STM]
        case .rnn: [.STM]
        }
    }

    /// The width of the value's last axis: `R` for `STM`, `H` otherwise.
    public func width(in layer: RecurrentLayer) -> Int {
        self == .STM ? layer.recurrentSize : layer.hiddenSize
    }

    public static func < (lhs: TracedGate, rhs: TracedGate) -> Bool {
        let order = allCases
        return (order.firstIndex(of: lhs) ?? 0) < (order.firstIndex(of: rhs) ?? 0)
    }
}

/// Every traced value of one recurrent layer and direction.
public struct DirectionTrace: Sendable, Equatable {
    /// The layer (counting every layer of the model) and direction.
    public let key: StateKey
    /// The layer's hyperparameters.
    public let layer: RecurrentLayer
    /// Whether the direction consumes its input from the last time step to the first (a backward direction, or
    /// the forward direction of a `go_backwards` layer): then step `t` follows step `t + 1`.
    public let readsReversed: Bool
    /// The traced values, in ``TracedGate/gates(of:)`` order.
    public let gates: [TracedGate]
    /// One float32 array `[B, T, width]` per gate, indexed by the time position of the event `E_t` in the layer's
    /// input that the step consumed.
    public let arrays: [TracedGate: NDArray<Float>]

    /// Wraps traced arrays (the engines build these; a caller may rebuild one, e.g. from a saved `.npz`).
    public init(key: StateKey, layer: RecurrentLayer, readsReversed: Bool, arrays: [TracedGate: NDArray<Float>]) {
        self.key = key
        self.layer = layer
        self.readsReversed = readsReversed
        self.gates = TracedGate.gates(of: layer)
        self.arrays = arrays
    }

    /// The array of `gate`, or `nil` when the cell has no such value.
    public subscript(gate: TracedGate) -> NDArray<Float>? { arrays[gate] }

    /// The `.npz` key of `gate`: `layer_<k>/<direction>/<gate>`.
    public func name(_ gate: TracedGate) -> String { "\(key)/\(gate.rawValue)" }

    /// Batch size `B`.
    public var batch: Int { arrays[.STM]?.shape.first ?? 0 }
    /// Time steps `T`.
    public var time: Int { arrays[.STM]?.shape.dropFirst().first ?? 0 }
}

/// A forward pass with every gate activation recorded (``Engine/trace(_:input:initialStates:lengths:)``).
public struct GateTrace: Sendable, Equatable {
    /// The forward pass's own result, identical to what `run` returns.
    public let result: ForwardResult
    /// One entry per recurrent layer and direction, in layer then direction order.
    public let directions: [DirectionTrace]

    public init(result: ForwardResult, directions: [DirectionTrace]) {
        self.result = result
        self.directions = directions
    }

    /// Every traced array with its `.npz` key, in layer, direction and gate order.
    public var namedArrays: [(name: String, array: NDArray<Float>)] {
        directions.flatMap { direction in
            direction.gates.compactMap { gate in direction[gate].map { (direction.name(gate), $0) } }
        }
    }
}

extension Engine {
    /// Runs `model` on `input` and records every gate activation of every recurrent layer and direction, computed
    /// by the same code the engine runs (the reference engine's gate functions, the fast engine's fused loops).
    ///
    /// ```swift
    /// let trace = try Engine.reference.trace(model, input: .float32(x))
    /// let f = trace.directions[0][.f]          // forget gate, [B, T, H] float32
    /// ```
    public func trace(
        _ model: Model, input: ForwardInput, initialStates: [StateKey: CellState] = [:], lengths: [Int]? = nil
    ) throws(EngineError) -> GateTrace {
        switch self {
        case .reference: try ReferenceEngine(model).trace(input, initialStates: initialStates, lengths: lengths)
        case .fast: try FastEngine(model).trace(input, initialStates: initialStates, lengths: lengths)
        }
    }
}

extension Engine {
    /// ``trace(_:input:initialStates:lengths:)`` with `run`'s layout options: a time-major input (`--time-major`, or a
    /// model recorded as time-major) is read as `[T, B, ·]` and the result's sequence output given back so; the traced
    /// arrays are always `[B, T, width]`.
    public func trace(
        _ model: Model, input: ForwardInput, initialStates: [StateKey: CellState] = [:], options: RunOptions
    ) throws(EngineError) -> GateTrace {
        guard options.timeMajor || model.isTimeMajor else {
            return try trace(model, input: input, initialStates: initialStates, lengths: options.lengths)
        }
        guard input.shape.count >= 2 else {
            throw EngineError(
                .invalidInput, "a time-major input is [time, batch, features] (or [time, batch] token ids)", keyPath: "input",
                actualShape: input.shape)
        }
        let swapped: ForwardInput
        switch input {
        case .float64(let array): swapped = .float64(array.swappingLeadingAxes())
        case .float32(let array): swapped = .float32(array.swappingLeadingAxes())
        case .tokens(let array): swapped = .tokens(array.swappingLeadingAxes())
        }
        let traced = try trace(model, input: swapped, initialStates: initialStates, lengths: options.lengths)
        var result = traced.result
        switch result.values {
        case .float32(let array) where array.shape.count == 3: result.values = .float32(array.swappingLeadingAxes())
        case .float64(let array) where array.shape.count == 3: result.values = .float64(array.swappingLeadingAxes())
        default: break
        }
        return GateTrace(result: result, directions: traced.directions)
    }
}

/// A `[B, T, width]` float32 array filled one `(b, t)` row at a time.
struct TraceArray {
    let batch: Int, time: Int, width: Int
    var values: [Float]

    init(batch: Int, time: Int, width: Int) {
        self.batch = batch
        self.time = time
        self.width = width
        values = [Float](repeating: 0, count: batch * time * width)
    }

    mutating func set(b: Int, t: Int, _ row: [Double]) {
        let start = (b * time + t) * width
        for k in 0..<min(width, row.count) { values[start + k] = Float(row[k]) }
    }

    var array: NDArray<Float> { NDArray(unchecked: [batch, time, width], values) }
}
