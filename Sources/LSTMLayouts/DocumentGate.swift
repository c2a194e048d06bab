import LSTMModel

/// A gate of the document model, and the tensors it owns.
package enum DocumentGate: String, Sendable, CaseIterable {
    /// Learn gate candidate `N_t` (framework g / c / j).
    case n
    /// Learn gate input factor `i_t`.
    case i
    /// Forget gate `f_t`.
    case f
    /// Use gate sigmoid `V_t` (framework o).
    case v
    /// GRU update gate.
    case z
    /// GRU reset gate.
    case r
    /// GRU candidate (framework n / h).
    case c
    /// Plain RNN state update (Keras SimpleRNN, PyTorch nn.RNN).
    case s

    /// The gate's weight matrix `W_g [H, R+I]`.
    package var weight: TensorRole {
        switch self {
        case .n: .W_n
        case .i: .W_i
        case .f: .W_f
        case .v: .W_v
        case .z: .W_z
        case .r: .W_r
        case .c: .W_c
        case .s: .W_s
        }
    }

    /// The gate's (input-side) bias `b_g`.
    package var bias: TensorRole {
        switch self {
        case .n: .b_n
        case .i: .b_i
        case .f: .b_f
        case .v: .b_v
        case .z: .b_z
        case .r: .b_r
        case .c: .b_c
        case .s: .b_s
        }
    }

    /// The gate's recurrent-side second bias `bh_g` (two-bias sources).
    package var secondBias: TensorRole {
        switch self {
        case .n: .bh_n
        case .i: .bh_i
        case .f: .bh_f
        case .v: .bh_v
        case .z: .bh_z
        case .r: .bh_r
        case .c: .bh_c
        case .s: .bh_s
        }
    }

    /// The peephole tensor for sigmoid gates that have one.
    package var peephole: TensorRole? {
        switch self {
        case .i: .P_i
        case .f: .P_f
        case .v: .P_v
        default: nil
        }
    }

    /// The notes' wording, for summaries and the spec.
    package var title: String {
        switch self {
        case .n: "learn (N_t)"
        case .i: "learn (i_t)"
        case .f: "forget (f_t)"
        case .v: "use (V_t)"
        case .z: "update (z_t)"
        case .r: "reset (r_t)"
        case .c: "candidate (c_t)"
        case .s: "state (STM_t)"
        }
    }
}
