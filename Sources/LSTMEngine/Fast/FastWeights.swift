import LSTMModel

// The fast engine's prepared weights: every gate of a direction stacked and transposed once, so that one
// GEMM computes all gates, and packed once into the kernels' 32-column panels (spec/engine.md §7).

/// The float32 settings the fused loops read.
struct FastSettings: Sendable {
    let activation: LaneActivation
    let recurrentActivation: LaneActivation
    let gateClip: Float?
    let cellClip: Float?
    let projectionClip: Float?
    let resetMode: ResetMode
    let document: Bool
    let peepholes: PeepholeForm

    init(_ layer: RecurrentLayer) {
        activation = LaneActivation(layer.activation)
        recurrentActivation = LaneActivation(layer.recurrentActivation)
        gateClip = layer.gateClip.map(Float.init)
        cellClip = layer.cellClip.map(Float.init)
        projectionClip = layer.projectionClip.map(Float.init)
        resetMode = layer.resetMode ?? .after
        document = layer.cell == .lstm && layer.useGate == .document
        peepholes = layer.cell == .lstm ? layer.peepholes : .none
    }
}

/// One direction's weights in a single float32 buffer, located by offsets.
///
/// Gate order in the stacked matrices: LSTM `i, f, N, V`; GRU `z, r, c`; plain RNN `s`. `G` gates of width `H`.
struct FastCell: Sendable {
    /// Number of stacked gates: 4 (LSTM), 3 (GRU) or 1 (plain RNN).
    let gates: Int
    let H: Int, R: Int, I: Int
    /// Projection size, or `nil`.
    let P: Int?
    let storage: [Float]
    /// `W_x^T [I, G·H]`: the `E` column block of every gate, transposed and packed.
    let wxT: PackedMatrix
    /// `W_h^T [R, G·H]`: the `STM` column block of every gate, transposed and packed. GRU: the `z, r` columns
    /// `[R, 2H]` only; the candidate's are ``whCandidateT``.
    let whT: PackedMatrix
    /// GRU: `W_h^T` of the candidate `[R, H]`, packed.
    let whCandidateT: PackedMatrix?
    /// `[G·H]`: what the input projection starts from. LSTM: `b + bh`, plus `forget_bias` on `f`.
    /// GRU: `b + bh` for `z`, `r`; `b_c (+ bh_c)` for `c` with reset before, `b_c` alone with reset after.
    let bias: Int
    /// GRU reset after: `bh_c [H]` (zeros for a single-bias layer).
    let bhCandidate: Int?
    /// Diagonal peepholes `[3H]`: `P_i, P_f, P_v`.
    let peepholeDiagonal: Int?
    /// Full peepholes `[P_i; P_f]^T [H, 2H]` and `P_v^T [H, H]`, packed.
    let peepholeInputForgetT: PackedMatrix?, peepholeUseT: PackedMatrix?
    /// Document variant: `W_u^T [H, H]` packed, `b_u [H]`.
    let wuT: PackedMatrix?, bu: Int?
    /// Projection `W_p^T [H, P]`, packed.
    let wpT: PackedMatrix?

    init(_ set: ParameterSet, layer: RecurrentLayer) throws(ModelError) {
        H = layer.hiddenSize
        R = layer.recurrentSize
        I = layer.inputSize
        P = layer.projectionSize
        let two = layer.bias == .double
        let roles: [(W: TensorRole, b: TensorRole, bh: TensorRole)] = switch layer.cell {
        case .lstm: [(.W_i, .b_i, .bh_i), (.W_f, .b_f, .bh_f), (.W_n, .b_n, .bh_n), (.W_v, .b_v, .bh_v)]
        case .gru: [(.W_z, .b_z, .bh_z), (.W_r, .b_r, .bh_r), (.W_c, .b_c, .bh_c)]
        case .rnn: [(.W_s, .b_s, .bh_s)]
        }
        gates = roles.count
        let width = gates * H
        // Everything below, allocated once at its exact size and not zero-filled: every packed matrix is written in
        // full (its padding columns zeroed), every bias appended.
        let lstm = layer.cell == .lstm, gru = layer.cell == .gru
        var capacity = packedCount(I, width) + packedCount(R, gru ? 2 * H : width) + width
        if gru { capacity += packedCount(R, H) }
        if gru && layer.resetMode == .after { capacity += H }
        if lstm && layer.peepholes == .diagonal { capacity += 3 * H }
        if lstm && layer.peepholes == .full { capacity += packedCount(H, 2 * H) + packedCount(H, H) }
        if lstm && layer.useGate == .document { capacity += packedCount(H, H) + H }
        if let P = layer.projectionSize { capacity += packedCount(H, P) }
        var storage = PackedStorage(capacity: capacity)

        func append(_ values: [Float]) -> Int { storage.append(values) }
        /// `matrix [rows, columns]` → its transpose `[columns, rows]`.
        func transposed(_ matrix: [Float], rows: Int, columns: Int) -> [Float] {
            var result = [Float](repeating: 0, count: matrix.count)
            for row in 0..<rows {
                for column in 0..<columns { result[column * rows + row] = matrix[row * columns + column] }
            }
            return result
        }

        // W^T blocks packed straight from each gate's `W [H, R + I]` rows (STM columns first, then E).
        wxT = PackedMatrix(filledLater: I, n: width, into: &storage)
        whT = PackedMatrix(filledLater: R, n: gru ? 2 * H : width, into: &storage)
        whCandidateT = gru ? PackedMatrix(filledLater: R, n: H, into: &storage) : nil
        var bias = [Float](repeating: 0, count: width)
        var bhCandidate: [Float]?
        for (g, role) in roles.enumerated() {
            // [H, R + I], read in place when it is float32 (no decoded copy of the largest tensors).
            let (wx, wh, whCandidate, R, I, H) = (wxT, whT, whCandidateT, R, I, H)
            try set.tensor(role.W).withFloats { W in
                wx.fillTransposed(W, start: R, column: g * H, rows: H, stride: R + I, in: &storage)
                if gru && g == 2, let whCandidate {
                    whCandidate.fillTransposed(W, column: 0, rows: H, stride: R + I, in: &storage)
                } else {
                    wh.fillTransposed(W, column: g * H, rows: H, stride: R + I, in: &storage)
                }
            }
            let b = try set.tensor(role.b).doubles()
            let bh = two ? try set.tensor(role.bh).doubles() : [Double](repeating: 0, count: H)
            let isCandidate = layer.cell == .gru && g == 2
            let isForget = layer.cell == .lstm && g == 1
            for j in 0..<H {
                // Sums in float64, rounded once.
                var value = b[j]
                if isCandidate && layer.resetMode == .after {
                    // bh_c is multiplied by r: it stays on the recurrent side.
                } else {
                    value += bh[j]
                }
                if isForget { value += layer.forgetBias }
                bias[g * H + j] = Float(value)
            }
            if isCandidate && layer.resetMode == .after { bhCandidate = bh.map(Float.init) }
        }
        self.bias = append(bias)
        self.bhCandidate = bhCandidate.map(append)

        if layer.cell == .lstm, layer.peepholes != .none {
            let P_i = try set.tensor(.P_i).floats()
            let P_f = try set.tensor(.P_f).floats()
            let P_v = try set.tensor(.P_v).floats()
            if layer.peepholes == .diagonal {
                peepholeDiagonal = append(P_i + P_f + P_v)
                (peepholeInputForgetT, peepholeUseT) = (nil, nil)
            } else {
                peepholeDiagonal = nil
                // [P_i; P_f] is [2H, H]; its transpose [H, 2H] lets LTM [B, H] · it land on the i, f columns.
                peepholeInputForgetT = PackedMatrix(transposed(P_i + P_f, rows: 2 * H, columns: H), k: H, n: 2 * H, into: &storage)
                peepholeUseT = PackedMatrix(transposed(P_v, rows: H, columns: H), k: H, n: H, into: &storage)
            }
        } else {
            (peepholeDiagonal, peepholeInputForgetT, peepholeUseT) = (nil, nil, nil)
        }
        if layer.cell == .lstm, layer.useGate == .document {
            wuT = PackedMatrix(transposed(try set.tensor(.W_u).floats(), rows: H, columns: H), k: H, n: H, into: &storage)
            bu = append(try set.tensor(.b_u).floats())
        } else {
            (wuT, bu) = (nil, nil)
        }
        if let P = layer.projectionSize {
            wpT = PackedMatrix(transposed(try set.tensor(.W_p).floats(), rows: P, columns: H), k: H, n: P, into: &storage)
        } else {
            wpT = nil
        }
        assert(storage.isExact, "FastCell planned \(capacity) floats")
        self.storage = storage.finished()
    }
}

/// A dense layer's `W_d^T [F, units]` (packed, in `storage`) and bias.
struct FastDense: Sendable {
    let inputs: Int, units: Int
    let wdT: PackedMatrix
    let storage: [Float]
    let bias: [Float]
    let activation: Activation

    init(_ layer: DenseLayer) throws(ModelError) {
        inputs = layer.inputSize
        units = layer.units
        let W = try layer.parameters.tensor(.W_d).floats()
        var transposed = [Float](repeating: 0, count: W.count)
        for unit in 0..<units {
            for feature in 0..<inputs { transposed[feature * units + unit] = W[unit * inputs + feature] }
        }
        var storage = PackedStorage(capacity: packedCount(inputs, units))
        wdT = PackedMatrix(transposed, k: inputs, n: units, into: &storage)
        self.storage = storage.finished()
        bias = layer.useBias ? try layer.parameters.tensor(.b_d).floats() : [Float](repeating: 0, count: units)
        activation = layer.activation
    }
}

enum FastLayer: Sendable {
    case embedding(table: [Float], size: Int)
    case recurrent(RecurrentLayer, FastSettings, [FastCell])
    case dense(FastDense)

    init(_ layer: Layer) throws(ModelError) {
        switch layer {
        case .embedding(let embedding):
            self = .embedding(table: try embedding.parameters.tensor(.W_e).floats(), size: embedding.embeddingSize)
        case .dense(let dense):
            self = .dense(try FastDense(dense))
        case .recurrent(let recurrent):
            var cells: [FastCell] = []
            for set in recurrent.directions { cells.append(try FastCell(set, layer: recurrent)) }
            self = .recurrent(recurrent, FastSettings(recurrent), cells)
        }
    }
}
