import LSTMModel

/// Which forward-pass implementation runs a model (`lstmconv run --engine reference|fast`).
public enum Engine: String, Sendable, CaseIterable {
    /// Float64, one function per gate, written straight from the notes: the oracle.
    case reference
    /// Float32 on CBLAS: batched input GEMMs, one recurrent GEMM per step, fused gate math.
    case fast

    /// The engine used when none is named.
    public static let `default` = Engine.fast

    /// Checks `model` and prepares its weights once, for any number of runs.
    public func prepare(_ model: Model) throws(EngineError) -> any ForwardPass {
        switch self {
        case .reference: try ReferenceEngine(model)
        case .fast: try FastEngine(model)
        }
    }

    /// Runs `model` on `input`: `prepare(model).run(input, initialStates:, lengths:)`.
    ///
    /// ```swift
    /// let result = try Engine.fast.run(model, input: .float32(x))   // x: NDArray<Float> [B, T, I]
    /// print(result.output.shape)                                      // [B, T, D*H] or [B, D*H] …
    /// ```
    public func run(
        _ model: Model, input: ForwardInput, initialStates: [StateKey: CellState] = [:], lengths: [Int]? = nil
    ) throws(EngineError) -> ForwardResult {
        try prepare(model).run(input, initialStates: initialStates, lengths: lengths)
    }
}

/// A model prepared for running by one engine. Immutable and safe to share between threads.
public protocol ForwardPass: Sendable {
    /// The model this pass runs.
    var model: Model { get }
    /// Runs the model on a batch. Missing initial states are zeros. `lengths` (one per batch element, `0...T`)
    /// limits each sequence as PyTorch's `pack_padded_sequence` does (spec/engine.md §5.1).
    func run(_ input: ForwardInput, initialStates: [StateKey: CellState], lengths: [Int]?) throws(EngineError) -> ForwardResult
}

extension ForwardPass {
    /// Runs the model on a batch from zero initial states.
    public func run(_ input: ForwardInput) throws(EngineError) -> ForwardResult {
        try run(input, initialStates: [:], lengths: nil)
    }

    /// Runs the model on a batch of full-length sequences. Missing initial states are zeros.
    public func run(_ input: ForwardInput, initialStates: [StateKey: CellState]) throws(EngineError) -> ForwardResult {
        try run(input, initialStates: initialStates, lengths: nil)
    }
}

/// A model input: features `[B, T, F]` (or `[B, F]` for a model that starts with a dense layer), or token ids
/// `[B, T]` for a model that starts with an embedding.
public enum ForwardInput: Sendable, Equatable {
    case float64(NDArray<Double>)
    case float32(NDArray<Float>)
    case tokens(NDArray<Int>)

    /// The input's shape.
    public var shape: [Int] {
        switch self {
        case .float64(let array): array.shape
        case .float32(let array): array.shape
        case .tokens(let array): array.shape
        }
    }
}

/// Which of a cell's two memories a state array holds.
public enum StatePart: String, Sendable, CaseIterable {
    /// Short-term memory (`h`), `[B, R]`.
    case STM
    /// Long-term memory (`c`), `[B, H]`; LSTM only.
    case LTM
}

/// A recurrent layer and direction: the key of initial and final states.
public struct StateKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The layer index in the model.
    public var layer: Int
    /// The direction within the layer.
    public var direction: Direction

    /// The state of `direction` in layer `layer`.
    public init(layer: Int, direction: Direction) {
        self.layer = layer
        self.direction = direction
    }

    /// The state's name in a states file: `layer_0/forward/STM`.
    public func name(_ part: StatePart) -> String { "layer_\(layer)/\(direction.rawValue)/\(part.rawValue)" }

    /// Parses `layer_<k>/<forward|backward>/<STM|LTM>`, or returns `nil`.
    public static func parse(_ name: String) -> (key: StateKey, part: StatePart)? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].hasPrefix("layer_"), let layer = Int(parts[0].dropFirst(6)), layer >= 0,
            let direction = Direction(rawValue: String(parts[1])), let part = StatePart(rawValue: String(parts[2]))
        else { return nil }
        return (StateKey(layer: layer, direction: direction), part)
    }

    public static func < (lhs: StateKey, rhs: StateKey) -> Bool {
        (lhs.layer, lhs.direction == .forward ? 0 : 1) < (rhs.layer, rhs.direction == .forward ? 0 : 1)
    }

    public var description: String { "layer_\(layer)/\(direction.rawValue)" }
}

/// The memories of one layer and direction for a whole batch.
public struct CellState: Sendable, Equatable {
    /// `[B, R]`.
    public var STM: NDArray<Double>
    /// `[B, H]`; `nil` for a GRU.
    public var LTM: NDArray<Double>?

    /// A state from its short-term and (for LSTM) long-term memories.
    public init(STM: NDArray<Double>, LTM: NDArray<Double>?) {
        self.STM = STM
        self.LTM = LTM
    }

    /// Groups named state arrays (`layer_0/forward/STM` …) into states; unknown names are an error.
    public static func states(named arrays: [(name: String, array: NDArray<Double>)]) throws(EngineError) -> [StateKey: CellState] {
        var stm: [StateKey: NDArray<Double>] = [:]
        var ltm: [StateKey: NDArray<Double>] = [:]
        for (name, array) in arrays {
            guard let (key, part) = StateKey.parse(name) else {
                throw EngineError(.invalidState, "state names look like layer_0/forward/STM or layer_0/backward/LTM", keyPath: name)
            }
            if part == .STM { stm[key] = array } else { ltm[key] = array }
        }
        var result: [StateKey: CellState] = [:]
        for key in Set(stm.keys).union(ltm.keys) {
            guard let short = stm[key] else {
                throw EngineError(.invalidState, "an LTM state needs its STM", keyPath: key.name(.STM))
            }
            result[key] = CellState(STM: short, LTM: ltm[key])
        }
        return result
    }
}

/// What a forward pass returns.
public struct ForwardResult: Sendable, Equatable {
    /// An output in the precision the engine computed it in.
    public enum Values: Sendable, Equatable {
        /// The fast engine's output.
        case float32(NDArray<Float>)
        /// The reference engine's output (and token ids passed through).
        case float64(NDArray<Double>)

        /// The output's shape.
        public var shape: [Int] {
            switch self {
            case .float32(let array): array.shape
            case .float64(let array): array.shape
            }
        }
    }

    /// The model's output in the engine's own precision, shaped as the source framework shapes it:
    /// `[B, T, D*R]` with return_sequences, `[B, D*R]` without, `[B, units]` / `[B, T, units]` after a dense head.
    public var values: Values
    /// The final memories of every recurrent layer and direction.
    public var finalStates: [StateKey: CellState]

    /// `.f64` for the reference engine, `.f32` for the fast one.
    public var precision: DType {
        if case .float32 = values { return .f32 }
        return .f64
    }

    /// The output widened to `Double` (exact for a `Float` output).
    public var output: NDArray<Double> {
        switch values {
        case .float64(let array): array
        case .float32(let array): NDArray(unchecked: array.shape, array.scalars.map(Double.init))
        }
    }

    /// The output as `Float`: the fast engine's values as computed, the reference engine's rounded.
    public var floatOutput: NDArray<Float> {
        switch values {
        case .float32(let array): array
        case .float64(let array): NDArray(unchecked: array.shape, array.scalars.map(Float.init))
        }
    }

    /// A result from the engine's output and final states.
    public init(values: Values, finalStates: [StateKey: CellState]) {
        self.values = values
        self.finalStates = finalStates
    }

    /// The final states as named arrays, in layer then direction order, `STM` before `LTM`.
    public var namedStates: [(name: String, array: NDArray<Double>)] {
        finalStates.keys.sorted().flatMap { key -> [(name: String, array: NDArray<Double>)] in
            guard let state = finalStates[key] else { return [] }
            var entries = [(name: key.name(.STM), array: state.STM)]
            if let LTM = state.LTM { entries.append((key.name(.LTM), LTM)) }
            return entries
        }
    }
}
