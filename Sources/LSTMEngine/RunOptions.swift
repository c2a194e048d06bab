import LSTMModel

/// How a batch is laid out and limited, beyond the input array itself (`lstmconv run --lengths --time-major`).
public struct RunOptions: Sendable, Equatable {
    /// One length per batch element (`0...T`): PyTorch `pack_padded_sequence` (spec/engine.md §5.1).
    public var lengths: [Int]?
    /// The input is `[T, B, F]` (`[T, B]` token ids) and a sequence output is returned as `[T, B, ·]`: PyTorch's
    /// default `batch_first=False`. A model recorded as time-major (tf-keras `time_major=True`) is always run so.
    public var timeMajor: Bool

    public init(lengths: [Int]? = nil, timeMajor: Bool = false) {
        self.lengths = lengths
        self.timeMajor = timeMajor
    }
}

extension Model {
    /// Whether the model takes and returns time-major sequences (its first layer records `time_major`).
    public var isTimeMajor: Bool {
        if case .recurrent(let layer) = layers.first { return layer.timeMajor }
        return false
    }
}

extension ForwardPass {
    /// Runs the model with explicit layout options: a time-major input is swapped to batch-major for the engine,
    /// and a sequence output swapped back to `[T, B, ·]`.
    public func run(
        _ input: ForwardInput, initialStates: [StateKey: CellState], options: RunOptions
    ) throws(EngineError) -> ForwardResult {
        guard options.timeMajor || model.isTimeMajor else {
            return try run(input, initialStates: initialStates, lengths: options.lengths)
        }
        let shape = input.shape
        guard shape.count >= 2 else {
            throw EngineError(
                .invalidInput, "a time-major input is [time, batch, features] (or [time, batch] token ids)", keyPath: "input",
                actualShape: shape)
        }
        let swapped: ForwardInput
        switch input {
        case .float64(let array): swapped = .float64(array.swappingLeadingAxes())
        case .float32(let array): swapped = .float32(array.swappingLeadingAxes())
        case .tokens(let array): swapped = .tokens(array.swappingLeadingAxes())
        }
        var result = try run(swapped, initialStates: initialStates, lengths: options.lengths)
        switch result.values {
        case .float32(let array) where array.shape.count == 3: result.values = .float32(array.swappingLeadingAxes())
        case .float64(let array) where array.shape.count == 3: result.values = .float64(array.swappingLeadingAxes())
        default: break
        }
        return result
    }
}

extension NDArray {
    /// `[A, B, rest…]` → `[B, A, rest…]`.
    func swappingLeadingAxes() -> NDArray {
        let a = shape[0], b = shape[1]
        let inner = shape.dropFirst(2).reduce(1, *)
        var values = scalars
        for i in 0..<a {
            for j in 0..<b {
                let source = (i * b + j) * inner, target = (j * a + i) * inner
                for k in 0..<inner { values[target + k] = scalars[source + k] }
            }
        }
        return NDArray(unchecked: [b, a] + shape.dropFirst(2), values)
    }
}
