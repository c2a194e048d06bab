/// The document name of a tensor: the notes' gate names for LSTM, the same style for GRU.
///
/// Every gate matrix acts on `[STM_{t-1}, E_t]` in that order: its first `R` columns multiply the
/// short-term memory, the remaining `I` columns the event.
public enum TensorRole: String, Sendable, CaseIterable, Comparable {
    // LSTM learn gate
    case W_n, b_n, W_i, b_i
    // LSTM forget gate
    case W_f, b_f
    // LSTM use gate (W_u, b_u only in the document variant)
    case W_u, b_u, W_v, b_v
    // Recurrent-side second biases of two-bias sources (LSTM)
    case bh_n, bh_i, bh_f, bh_v
    // Peepholes: LTM into the sigmoid gates
    case P_i, P_f, P_v
    // Projection of STM
    case W_p
    // GRU: update gate z, reset gate r, candidate c
    case W_z, b_z, W_r, b_r, W_c, b_c
    // GRU recurrent-side second biases
    case bh_z, bh_r, bh_c
    // Plain RNN (SimpleRNN, nn.RNN): the state update and its recurrent-side second bias
    case W_s, b_s, bh_s
    // Embedding table and dense head
    case W_e, W_d, b_d

    /// Canonical order: declaration order. The binary writer stores tensors in this order.
    public static func < (lhs: TensorRole, rhs: TensorRole) -> Bool {
        canonicalIndex[lhs, default: 0] < canonicalIndex[rhs, default: 0]
    }

    private static let canonicalIndex: [TensorRole: Int] =
        Dictionary(uniqueKeysWithValues: allCases.enumerated().map { ($0.element, $0.offset) })
}

/// One tensor the schema requires: where it lives, what it is, and its shape.
public struct TensorSlot: Sendable, Equatable {
    public var layer: Int
    public var direction: Direction?
    public var role: TensorRole
    public var shape: [Int]

    /// The tensor's path, shared by both encodings: `layer_0/forward/W_n`, `layer_2/W_d`.
    public var path: String { TensorSlot.path(layer: layer, direction: direction, role: role) }

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
