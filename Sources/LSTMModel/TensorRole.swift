/// The document name of a tensor: the notes' gate names for LSTM, the same style for GRU.
///
/// Every gate matrix acts on `[STM_{t-1}, E_t]` in that order: its first `R` columns multiply the
/// short-term memory, the remaining `I` columns the event.
public enum TensorRole: String, Sendable, CaseIterable, Comparable {
    // MARK: LSTM learn gate: N_t = tanh(W_n [STM_{t-1}, E_t] + b_n), i_t = σ(W_i [STM_{t-1}, E_t] + b_i)

    /// Learn gate candidate weights `W_n [H, R + I]`: `N_t = tanh(W_n [STM_{t-1}, E_t] + b_n)` (PyTorch `g`, Keras `c`).
    case W_n
    /// Learn gate candidate bias `b_n [H]`.
    case b_n
    /// Learn gate (input gate) weights `W_i [H, R + I]`: `i_t = σ(W_i [STM_{t-1}, E_t] + b_i)`.
    case W_i
    /// Learn gate (input gate) bias `b_i [H]`.
    case b_i

    // MARK: LSTM forget gate: f_t = σ(W_f [STM_{t-1}, E_t] + b_f); remember: LTM_t = LTM_{t-1}·f_t + N_t·i_t

    /// Forget gate weights `W_f [H, R + I]`: `f_t = σ(W_f [STM_{t-1}, E_t] + b_f)`.
    case W_f
    /// Forget gate bias `b_f [H]` (TF1's run-time `forget_bias` is a layer attribute, not folded in here).
    case b_f

    // MARK: LSTM use gate: U_t = tanh(W_u (LTM_{t-1}·f_t) + b_u), V_t = σ(W_v [STM_{t-1}, E_t] + b_v), STM_t = U_t·V_t

    /// Use gate memory weights `W_u [H, H]`, document variant only: `U_t = tanh(W_u (LTM_{t-1}·f_t) + b_u)`.
    /// The standard variant has `W_u = I`, `b_u = 0` and reads the new LTM: `U_t = tanh(LTM_t)`.
    case W_u
    /// Use gate memory bias `b_u [H]`, document variant only.
    case b_u
    /// Use gate (output gate) weights `W_v [H, R + I]`: `V_t = σ(W_v [STM_{t-1}, E_t] + b_v)`, `STM_t = U_t·V_t`.
    case W_v
    /// Use gate (output gate) bias `b_v [H]`.
    case b_v

    // MARK: Second (recurrent-side) biases of two-bias sources (PyTorch, cuDNN, ONNX), added to the first

    /// Second bias of the learn candidate, `bh_n [H]` (PyTorch `bias_hh` g block).
    case bh_n
    /// Second bias of the learn gate, `bh_i [H]`.
    case bh_i
    /// Second bias of the forget gate, `bh_f [H]`.
    case bh_f
    /// Second bias of the use gate, `bh_v [H]`.
    case bh_v

    // MARK: Peepholes: LTM fed into the sigmoid gates

    /// Peephole into the learn gate: `+ P_i ⊙ LTM_{t-1}` (diagonal, `[H]`) or `+ P_i LTM_{t-1}` (full, `[H, H]`).
    case P_i
    /// Peephole into the forget gate, from `LTM_{t-1}`.
    case P_f
    /// Peephole into the use gate, from the new `LTM_t`.
    case P_v

    // MARK: Projection

    /// Projection `W_p [P, H]`: `STM_t = W_p (U_t·V_t)`, so the recurrent size R is P (PyTorch `proj_size`).
    case W_p

    // MARK: GRU: update gate z, reset gate r, candidate c; STM_t = z_t·STM_{t-1} + (1 − z_t)·c_t

    /// GRU update gate weights `W_z [H, H + I]`: `z_t = σ(W_z [STM_{t-1}, E_t] + b_z)`.
    case W_z
    /// GRU update gate bias `b_z [H]`.
    case b_z
    /// GRU reset gate weights `W_r [H, H + I]`: `r_t = σ(W_r [STM_{t-1}, E_t] + b_r)`.
    case W_r
    /// GRU reset gate bias `b_r [H]`.
    case b_r
    /// GRU candidate weights `W_c [H, H + I]`: `c_t = tanh(W_c [r_t·STM_{t-1}, E_t] + b_c)` (reset before) or with
    /// `r_t` applied to the recurrent product plus `bh_c` (reset after).
    case W_c
    /// GRU candidate bias `b_c [H]`.
    case b_c
    /// Second bias of the GRU update gate, `bh_z [H]`.
    case bh_z
    /// Second bias of the GRU reset gate, `bh_r [H]`.
    case bh_r
    /// Second bias of the GRU candidate, `bh_c [H]`: inside the reset product when the reset is applied after.
    case bh_c

    // MARK: Plain RNN (SimpleRNN, nn.RNN): STM_t = activation(W_s [STM_{t-1}, E_t] + b_s)

    /// Plain RNN state weights `W_s [H, H + I]`: `STM_t = activation(W_s [STM_{t-1}, E_t] + b_s)`.
    case W_s
    /// Plain RNN state bias `b_s [H]`.
    case b_s
    /// Second bias of the plain RNN, `bh_s [H]` (PyTorch `bias_hh`).
    case bh_s

    // MARK: Embedding and dense head

    /// Embedding table `W_e [vocabulary, features]`: token id `k` becomes row `k`.
    case W_e
    /// Dense head weights `W_d [units, inputs]`: `y = activation(W_d x + b_d)`.
    case W_d
    /// Dense head bias `b_d [units]`.
    case b_d

    /// Canonical order: declaration order. The binary writer stores tensors in this order.
    public static func < (lhs: TensorRole, rhs: TensorRole) -> Bool {
        canonicalIndex[lhs, default: 0] < canonicalIndex[rhs, default: 0]
    }

    private static let canonicalIndex: [TensorRole: Int] =
        Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($0.element, $0.offset) })
}

/// One tensor the schema requires: where it lives, what it is, and its shape.
public struct TensorSlot: Sendable, Equatable {
    /// The layer index in the model.
    public var layer: Int
    /// The direction within a recurrent layer; `nil` for other layers.
    public var direction: Direction?
    /// The document name of the tensor.
    public var role: TensorRole
    /// The shape the hyperparameters require.
    public var shape: [Int]

    /// The tensor's path, shared by both encodings: `layer_0/forward/W_n`, `layer_2/W_d`.
    public var path: String { TensorSlot.path(layer: layer, direction: direction, role: role) }

    /// The document path of a tensor: `layer_<k>[/<direction>]/<role>`.
    public static func path(layer: Int, direction: Direction?, role: TensorRole) -> String {
        if let direction { return "layer_\(layer)/\(direction.rawValue)/\(role.rawValue)" }
        return "layer_\(layer)/\(role.rawValue)"
    }

    /// Group path of a layer (and direction): `layer_0/forward`, `layer_2`.
    public static func groupPath(layer: Int, direction: Direction?) -> String {
        if let direction { return "layer_\(layer)/\(direction.rawValue)" }
        return "layer_\(layer)"
    }
}

extension RecurrentLayer {
    /// The tensors one direction must hold, in canonical order, with their shapes.
    public var expectedTensors: [(role: TensorRole, shape: [Int])] {
        let h = hiddenSize
        let columns = recurrentSize + inputSize
        var slots: [(TensorRole, [Int])] = []
        switch cell {
        case .lstm:
            slots += [(.W_n, [h, columns]), (.b_n, [h]), (.W_i, [h, columns]), (.b_i, [h]), (.W_f, [h, columns]), (.b_f, [h])]
            if useGate == .document { slots += [(.W_u, [h, h]), (.b_u, [h])] }
            slots += [(.W_v, [h, columns]), (.b_v, [h])]
            if bias == .double { slots += [(.bh_n, [h]), (.bh_i, [h]), (.bh_f, [h]), (.bh_v, [h])] }
            switch peepholes {
            case .none: break
            case .diagonal: slots += [(.P_i, [h]), (.P_f, [h]), (.P_v, [h])]
            case .full: slots += [(.P_i, [h, h]), (.P_f, [h, h]), (.P_v, [h, h])]
            }
            if let p = projectionSize { slots.append((.W_p, [p, h])) }
        case .gru:
            slots += [(.W_z, [h, columns]), (.b_z, [h]), (.W_r, [h, columns]), (.b_r, [h]), (.W_c, [h, columns]), (.b_c, [h])]
            if bias == .double { slots += [(.bh_z, [h]), (.bh_r, [h]), (.bh_c, [h])] }
        case .rnn:
            slots += [(.W_s, [h, columns]), (.b_s, [h])]
            if bias == .double { slots.append((.bh_s, [h])) }
        }
        return slots
    }
}

extension Layer {
    /// Every tensor this layer must hold, in canonical order.
    public func expectedSlots(layerIndex: Int) -> [TensorSlot] {
        switch self {
        case .embedding(let layer):
            return [TensorSlot(layer: layerIndex, direction: nil, role: .W_e, shape: [layer.vocabularySize, layer.embeddingSize])]
        case .dense(let layer):
            var slots = [TensorSlot(layer: layerIndex, direction: nil, role: .W_d, shape: [layer.units, layer.inputSize])]
            if layer.useBias { slots.append(TensorSlot(layer: layerIndex, direction: nil, role: .b_d, shape: [layer.units])) }
            return slots
        case .recurrent(let layer):
            let expected = layer.expectedTensors
            return layer.directions.indices.flatMap { index in
                expected.map {
                    TensorSlot(layer: layerIndex, direction: Direction.allCases[min(index, 1)], role: $0.role, shape: $0.shape)
                }
            }
        }
    }
}
