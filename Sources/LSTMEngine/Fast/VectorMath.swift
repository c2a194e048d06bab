import LSTMModel

// Eight-lane float32 activations for the fast engine's fused gate loops.
//
// exp uses the Cephes single-precision polynomial (relative error ≈ 2e-7 over the clamped range); sigmoid and tanh
// are built on it. Their absolute error stays below 5e-7 everywhere, far inside the engine's 1e-5 agreement bound.

typealias Lanes = SIMD8<Float>

enum VectorMath {
    /// Lane-wise `min(max(x, lower), upper)` through comparisons (the generic `clamped` is not vectorised).
    @inline(__always)
    static func clamp(_ x: Lanes, _ lower: Float, _ upper: Float) -> Lanes {
        let raised = x.replacing(with: lower, where: x .< lower)
        return raised.replacing(with: upper, where: raised .> upper)
    }

    /// e^x, lane-wise, for `x` clamped to ±87 (beyond that the result saturates, as float32 does).
    @inline(__always)
    static func exp(_ x: Lanes) -> Lanes {
        let x = clamp(x, -87, 87)
        // n = round(x / ln 2), by adding 1.5·2^23 (the float's integer part then sits in its low mantissa bits).
        let magic = Lanes(repeating: 12_582_912)
        let shifted = x * Lanes(repeating: 1.442_695_04) + magic
        let n = shifted - magic
        // r = x − n·ln 2, in two parts for precision.
        let r = x - n * Lanes(repeating: 0.693_359_375) - n * Lanes(repeating: -2.121_944_40e-4)
        var p = Lanes(repeating: 1.987_569_150_0e-4)
        p = p * r + Lanes(repeating: 1.398_199_950_7e-3)
        p = p * r + Lanes(repeating: 8.333_451_907_3e-3)
        p = p * r + Lanes(repeating: 4.166_579_589_4e-2)
        p = p * r + Lanes(repeating: 1.666_666_545_9e-1)
        p = p * r + Lanes(repeating: 5.000_000_120_1e-1)
        p = p * (r * r) + r + Lanes(repeating: 1)
        // 2^n from the integer n: (n + 127) << 23.
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Lanes.self)
        return p * scale
    }

    /// 1 / (1 + e^−x).
    @inline(__always)
    static func sigmoid(_ x: Lanes) -> Lanes {
        1 / (1 + exp(-x))
    }

    /// tanh x = sign(x)·(1 − e^−2|x|) / (1 + e^−2|x|).
    @inline(__always)
    static func tanh(_ x: Lanes) -> Lanes {
        let magnitude = x.replacing(with: -x, where: x .< 0)
        let e = exp(-2 * magnitude)
        let t = (1 - e) / (1 + e)
        return t.replacing(with: -t, where: x .< 0)
    }
}

/// An activation in the form the fused loops apply: float32 parameters, no softmax.
enum LaneActivation: Sendable {
    case sigmoid
    case hardSigmoid(slope: Float, offset: Float)
    case tanh
    case relu
    case linear

    init(_ activation: Activation) {
        switch activation {
        case .sigmoid: self = .sigmoid
        case .hardSigmoid(let slope, let offset): self = .hardSigmoid(slope: Float(slope), offset: Float(offset))
        case .tanh: self = .tanh
        case .relu: self = .relu
        case .linear, .softmax: self = .linear  // softmax is applied by the dense layer over the whole row
        }
    }

    @inline(__always)
    func callAsFunction(_ x: Lanes) -> Lanes {
        switch self {
        case .sigmoid:
            return VectorMath.sigmoid(x)
        case .hardSigmoid(let slope, let offset):
            return VectorMath.clamp(x * slope + offset, 0, 1)
        case .tanh:
            return VectorMath.tanh(x)
        case .relu:
            return x.replacing(with: 0, where: x .< 0)
        case .linear:
            return x
        }
    }
}
