import Foundation
import LSTMModel

// The reference engine's tiny float64 algebra: just enough for the gate equations to read like the notes.
// Deliberately naive (no BLAS, no SIMD): it is the oracle, not the fast path.

/// A float64 vector. `*` and `+` between vectors are element-wise.
struct Vector: Equatable {
    var values: [Double]

    init(_ values: [Double]) { self.values = values }
    init(zeros count: Int) { values = [Double](repeating: 0, count: count) }

    var count: Int { values.count }

    /// `[self, other]`: the notes' concatenation, e.g. `[STM_{t-1}, E_t]`.
    func concatenated(with other: Vector) -> Vector { Vector(values + other.values) }

    /// Applies `transform` to every element.
    func map(_ transform: (Double) -> Double) -> Vector { Vector(values.map(transform)) }

    /// Every element clipped to `[-limit, +limit]`, or `self` when `limit` is `nil`.
    func clipped(to limit: Double?) -> Vector {
        guard let limit else { return self }
        return map { Swift.min(Swift.max($0, -limit), limit) }
    }

    static func + (lhs: Vector, rhs: Vector) -> Vector { Vector(zip(lhs.values, rhs.values).map { $0 + $1 }) }
    static func - (lhs: Vector, rhs: Vector) -> Vector { Vector(zip(lhs.values, rhs.values).map { $0 - $1 }) }
    static func * (lhs: Vector, rhs: Vector) -> Vector { Vector(zip(lhs.values, rhs.values).map { $0 * $1 }) }
    static func + (lhs: Vector, rhs: Double) -> Vector { lhs.map { $0 + rhs } }
    static func * (lhs: Double, rhs: Vector) -> Vector { rhs.map { lhs * $0 } }
    static func - (lhs: Double, rhs: Vector) -> Vector { rhs.map { lhs - $0 } }
}

/// A row-major float64 matrix. `matrix * vector` is the matrix product.
struct Matrix {
    let rows: Int
    let columns: Int
    let values: [Double]

    /// Widens a stored `[rows, columns]` tensor to float64.
    init(_ tensor: Tensor) {
        rows = tensor.shape.first ?? 0
        columns = tensor.shape.count > 1 ? tensor.shape[1] : 1
        values = tensor.doubles()
    }

    init(rows: Int, columns: Int, values: [Double]) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// The columns `range` of every row: e.g. the `STM` block `0 ..< R` of a gate matrix.
    func columns(_ range: Range<Int>) -> Matrix {
        var result: [Double] = []
        result.reserveCapacity(rows * range.count)
        for row in 0..<rows { result += values[(row * columns + range.lowerBound)..<(row * columns + range.upperBound)] }
        return Matrix(rows: rows, columns: range.count, values: result)
    }

    static func * (matrix: Matrix, vector: Vector) -> Vector {
        var result = [Double](repeating: 0, count: matrix.rows)
        for row in 0..<matrix.rows {
            var sum = 0.0
            for column in 0..<matrix.columns { sum += matrix.values[row * matrix.columns + column] * vector.values[column] }
            result[row] = sum
        }
        return Vector(result)
    }
}

extension Activation {
    /// The activation of one scalar (`softmax` is a whole-vector operation: see ``apply(_:)``).
    func callAsFunction(_ x: Double) -> Double {
        switch self {
        case .sigmoid: 1 / (1 + exp(-x))
        case .hardSigmoid(let slope, let offset): Swift.min(Swift.max(slope * x + offset, 0), 1)
        case .tanh: Foundation.tanh(x)
        case .relu: Swift.max(x, 0)
        case .linear, .softmax: x
        }
    }

    /// The activation of a vector: element-wise, or softmax over the whole vector.
    func apply(_ vector: Vector) -> Vector {
        guard case .softmax = self else { return vector.map { self($0) } }
        let largest = vector.values.max() ?? 0
        let exponentials = vector.map { exp($0 - largest) }
        let total = exponentials.values.reduce(0, +)
        return exponentials.map { $0 / total }
    }
}
