import LSTMModel
/// A dense, C-ordered array: the engines' input, output and state type.
public struct NDArray<Scalar: Sendable & Equatable>: Sendable, Equatable {
    /// Dimensions, outermost first.
    public let shape: [Int]
    /// Exactly `shape.reduce(1, *)` elements in C (row-major) order.
    public let scalars: [Scalar]

    /// Wraps `scalars`, checking that their count matches `shape`.
    public init(shape: [Int], scalars: [Scalar]) throws(EngineError) {
        guard let count = NDArray.elementCount(of: shape), count == scalars.count else {
            throw EngineError(
                .shapeMismatch, "\(scalars.count) elements cannot have shape \(shape)", actualShape: shape)
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Used internally where the count is correct by construction.
    init(unchecked shape: [Int], _ scalars: [Scalar]) {
        self.shape = shape
        self.scalars = scalars
    }

    /// Number of elements.
    public var count: Int { scalars.count }

    /// Product of `shape`, or `nil` for a negative dimension or an overflowing product.
    public static func elementCount(of shape: [Int]) -> Int? { Tensor.elementCount(of: shape) }

    /// The C-order multi-index of flat position `offset`.
    public func index(ofOffset offset: Int) -> [Int] {
        var remainder = offset
        var index = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            index[axis] = remainder % shape[axis]
            remainder /= shape[axis]
        }
        return index
    }
}

extension NDArray where Scalar == Double {
    /// An array of zeros.
    public static func zeros(_ shape: [Int]) -> NDArray<Double> {
        NDArray(unchecked: shape, [Double](repeating: 0, count: elementCount(of: shape) ?? 0))
    }
}
