/// How an actual array compares with an expected one (`lstmconv validate`, spec/engine.md §8).
public struct Comparison: Sendable, Equatable, CustomStringConvertible {
    /// The arrays have different shapes: nothing was compared numerically.
    public struct ShapeMismatch: Sendable, Equatable {
        /// The shape produced.
        public var actual: [Int]
        /// The shape expected.
        public var expected: [Int]

        /// Records a shape mismatch.
        public init(actual: [Int], expected: [Int]) {
            self.actual = actual
            self.expected = expected
        }
    }

    /// The absolute tolerance.
    public let atol: Double
    /// The relative tolerance (of the expected value).
    public let rtol: Double
    /// Set when the shapes differ; every numeric field is then zero / empty.
    public let shapeMismatch: ShapeMismatch?
    /// Elements compared.
    public let count: Int
    /// `max |a − e|` (infinity when a NaN or infinity disagrees).
    public let maxAbsoluteError: Double
    /// `max |a − e| / |e|` over elements with `e ≠ 0`.
    public let maxRelativeError: Double
    /// The C-order index of the worst element: the largest `|a − e| / (atol + rtol·|e|)`; `nil` when empty.
    public let worstIndex: [Int]?
    /// The actual and expected values at ``worstIndex``.
    public let worstActual: Double?
    /// The expected value at the worst element, when the shapes match.
    public let worstExpected: Double?
    /// Elements outside `|a − e| ≤ atol + rtol·|e|`.
    public let mismatchCount: Int
    private let actual: NDArray<Double>
    private let expected: NDArray<Double>

    /// Compares element-wise with NumPy's `isclose` rule: `|a − e| ≤ atol + rtol·|e|`, NaN never close.
    public init(actual: NDArray<Double>, expected: NDArray<Double>, atol: Double = 1e-5, rtol: Double = 1e-4) {
        self.atol = atol
        self.rtol = rtol
        self.actual = actual
        self.expected = expected
        guard actual.shape == expected.shape else {
            shapeMismatch = ShapeMismatch(actual: actual.shape, expected: expected.shape)
            (count, maxAbsoluteError, maxRelativeError, mismatchCount) = (0, 0, 0, 0)
            (worstIndex, worstActual, worstExpected) = (nil, nil, nil)
            return
        }
        shapeMismatch = nil
        count = actual.count
        var maxAbsolute = 0.0, maxRelative = 0.0, worstScore = -1.0, worstOffset: Int?
        for (offset, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() {
            let difference: Double
            if a == e {
                difference = 0  // also equal infinities
            } else if a.isNaN || e.isNaN || a.isInfinite || e.isInfinite {
                difference = .infinity
            } else {
                difference = abs(a - e)
            }
            let tolerance = atol + rtol * abs(e)
            maxAbsolute = max(maxAbsolute, difference)
            if e != 0, !e.isNaN { maxRelative = max(maxRelative, difference / abs(e)) }
            let score = tolerance > 0 ? difference / tolerance : (difference > 0 ? .infinity : 0)
            if score > worstScore || worstOffset == nil {
                worstScore = score
                worstOffset = offset
            }
        }
        maxAbsoluteError = maxAbsolute
        maxRelativeError = maxRelative
        mismatchCount = Comparison.mismatches(actual.scalars, expected.scalars, atol: atol, rtol: rtol)
        worstIndex = worstOffset.map(actual.index(ofOffset:))
        worstActual = worstOffset.map { actual.scalars[$0] }
        worstExpected = worstOffset.map { expected.scalars[$0] }
    }

    /// `true` when the shapes agree and every element is within `atol + rtol·|e|`.
    public var isWithinTolerance: Bool { shapeMismatch == nil && mismatchCount == 0 }

    /// Whether every element is within `atol + rtol·|e|` for other tolerances (shape mismatches never pass).
    public func within(atol: Double, rtol: Double) -> Bool {
        guard shapeMismatch == nil else { return false }
        return Comparison.mismatches(actual.scalars, expected.scalars, atol: atol, rtol: rtol) == 0
    }

    /// Elements of `actual` outside `|a − e| ≤ atol + rtol·|e|` (NaN never matches, equal infinities do).
    static func mismatches(_ actual: [Double], _ expected: [Double], atol: Double, rtol: Double) -> Int {
        var count = 0
        for (a, e) in zip(actual, expected) where !(a == e || abs(a - e) <= atol + rtol * abs(e)) { count += 1 }
        return count
    }

    public var description: String {
        if let shapeMismatch {
            return "shape mismatch: actual \(shapeMismatch.actual), expected \(shapeMismatch.expected)"
        }
        var text = "max abs error \(maxAbsoluteError), max rel error \(maxRelativeError) over \(count) elements"
        if let worstIndex, let worstActual, let worstExpected {
            text += "; worst at \(worstIndex): actual \(worstActual), expected \(worstExpected)"
        }
        text += isWithinTolerance
            ? " — within atol \(atol), rtol \(rtol)"
            : " — \(mismatchCount) outside atol \(atol), rtol \(rtol)"
        return text
    }
}
