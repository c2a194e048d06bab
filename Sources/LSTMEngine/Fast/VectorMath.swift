import CLSTMKernels
import LSTMModel

// The activations of the fast engine's gate math, which runs in the C kernels (`CLSTMKernels`, every kernel
// path): tanh is Eigen's float rational approximation and sigmoid is built on it (no exp, one division per
// element; absolute errors below 5e-7), hard sigmoid, relu and linear are exact. NaN passes through every one.

/// An activation in the form the fused loops apply: float32 parameters. Softmax is applied by the dense layer.
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
        case .linear, .softmax: self = .linear
        }
    }

    /// The activation as the C gate kernels take it.
    var kernel: lstmk_activation {
        switch self {
        case .sigmoid: lstmk_activation(kind: Int32(LSTMK_ACT_SIGMOID), slope: 0, offset: 0)
        case .hardSigmoid(let slope, let offset): lstmk_activation(kind: Int32(LSTMK_ACT_HARD_SIGMOID), slope: slope, offset: offset)
        case .tanh: lstmk_activation(kind: Int32(LSTMK_ACT_TANH), slope: 0, offset: 0)
        case .relu: lstmk_activation(kind: Int32(LSTMK_ACT_RELU), slope: 0, offset: 0)
        case .linear: lstmk_activation(kind: Int32(LSTMK_ACT_LINEAR), slope: 0, offset: 0)
        }
    }

    /// Applies the activation in place to `count` contiguous values on `path`.
    func apply(_ values: UnsafeMutablePointer<Float>, _ count: Int, path: KernelPath) {
        lstmk_activate(path.code, kernel, values, count)
    }
}
