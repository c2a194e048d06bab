import LSTMModel

// The notes' gates, one function each, in float64. Read with spec/engine.md §1–§3 side by side:
//
//   learn:     N_t = tanh(W_n[STM_{t-1}, E_t] + b_n),  i_t = σ(W_i[STM_{t-1}, E_t] + b_i)
//   forget:    f_t = σ(W_f[STM_{t-1}, E_t] + b_f)
//   remember:  LTM_t = LTM_{t-1}·f_t + N_t·i_t
//   use:       V_t = σ(W_v[STM_{t-1}, E_t] + b_v)
//              standard: U_t = tanh(LTM_t)                       (W_u = I, b_u = 0, the new LTM)
//              document: U_t = tanh(W_u·(LTM_{t-1}·f_t) + b_u)
//              STM_t = U_t·V_t
//
// `tanh` is the layer's `activation`, `σ` its `recurrentActivation`.
//
// The plain RNN (SimpleRNN, nn.RNN) is one squashing over the same concatenation:
//   state:     STM_t = tanh(W_s[STM_{t-1}, E_t] + b_s)

/// One gate's weights: `z = W·[STM_{t-1}, E_t] + b (+ bh)`.
struct GateWeights {
    /// `[H, R + I]`: the first `R` columns multiply `STM_{t-1}`, the last `I` columns `E_t`.
    let W: Matrix
    let b: Vector
    /// The recurrent-side second bias of two-bias sources.
    let bh: Vector?

    init(_ set: ParameterSet, W: TensorRole, b: TensorRole, bh: TensorRole, twoBiases: Bool) throws(ModelError) {
        self.W = Matrix(try set.tensor(W))
        self.b = Vector(try set.tensor(b).doubles())
        self.bh = twoBiases ? Vector(try set.tensor(bh).doubles()) : nil
    }

    /// The gate's pre-activation `W·[STM_{t-1}, E_t] + b (+ bh)`.
    func preActivation(STM: Vector, E: Vector) -> Vector {
        let z = W * STM.concatenated(with: E) + b
        guard let bh else { return z }
        return z + bh
    }
}

/// A peephole: how `LTM` feeds a sigmoid gate.
enum Peephole {
    /// `P [H]`, multiplied element-wise.
    case diagonal(Vector)
    /// `P [H, H]`, a matrix product.
    case full(Matrix)

    init(_ tensor: Tensor, form: PeepholeForm) {
        self = form == .full ? .full(Matrix(tensor)) : .diagonal(Vector(tensor.doubles()))
    }

    /// `P·LTM`.
    func callAsFunction(_ LTM: Vector) -> Vector {
        switch self {
        case .diagonal(let P): P * LTM
        case .full(let P): P * LTM
        }
    }
}

/// The hyperparameters the gate equations read.
struct CellSettings {
    let activation: Activation
    let recurrentActivation: Activation
    let useGate: UseGateVariant
    let forgetBias: Double
    let gateClip: Double?
    let cellClip: Double?
    let projectionClip: Double?
    let resetMode: ResetMode

    init(_ layer: RecurrentLayer) {
        activation = layer.activation
        recurrentActivation = layer.recurrentActivation
        useGate = layer.useGate
        forgetBias = layer.forgetBias
        gateClip = layer.gateClip
        cellClip = layer.cellClip
        projectionClip = layer.projectionClip
        resetMode = layer.resetMode ?? .after
    }
}

// MARK: - LSTM

/// One LSTM direction's weights, named as in the notes.
struct LSTMWeights {
    let n: GateWeights, i: GateWeights, f: GateWeights, v: GateWeights
    /// Document variant only.
    let W_u: Matrix?, b_u: Vector?
    let P_i: Peephole?, P_f: Peephole?, P_v: Peephole?
    /// Projection `[P, H]`.
    let W_p: Matrix?

    init(_ set: ParameterSet, layer: RecurrentLayer) throws(ModelError) {
        let two = layer.bias == .double
        n = try GateWeights(set, W: .W_n, b: .b_n, bh: .bh_n, twoBiases: two)
        i = try GateWeights(set, W: .W_i, b: .b_i, bh: .bh_i, twoBiases: two)
        f = try GateWeights(set, W: .W_f, b: .b_f, bh: .bh_f, twoBiases: two)
        v = try GateWeights(set, W: .W_v, b: .b_v, bh: .bh_v, twoBiases: two)
        if layer.useGate == .document {
            W_u = Matrix(try set.tensor(.W_u))
            b_u = Vector(try set.tensor(.b_u).doubles())
        } else {
            W_u = nil
            b_u = nil
        }
        if layer.peepholes == .none {
            (P_i, P_f, P_v) = (nil, nil, nil)
        } else {
            P_i = Peephole(try set.tensor(.P_i), form: layer.peepholes)
            P_f = Peephole(try set.tensor(.P_f), form: layer.peepholes)
            P_v = Peephole(try set.tensor(.P_v), form: layer.peepholes)
        }
        W_p = layer.projectionSize == nil ? nil : Matrix(try set.tensor(.W_p))
    }
}

/// learn: `N_t = activation(z_n)`, `i_t = recurrentActivation(z_i + P_i·LTM_{t-1})`.
func learn(_ w: LSTMWeights, _ s: CellSettings, STM: Vector, E: Vector, LTM: Vector) -> (N: Vector, i: Vector) {
    let z_n = w.n.preActivation(STM: STM, E: E)
    var z_i = w.i.preActivation(STM: STM, E: E)
    if let P_i = w.P_i { z_i = z_i + P_i(LTM) }
    let N_t = s.activation.apply(z_n.clipped(to: s.gateClip))
    let i_t = s.recurrentActivation.apply(z_i.clipped(to: s.gateClip))
    return (N_t, i_t)
}

/// forget: `f_t = recurrentActivation(z_f + forgetBias + P_f·LTM_{t-1})`.
func forget(_ w: LSTMWeights, _ s: CellSettings, STM: Vector, E: Vector, LTM: Vector) -> Vector {
    var z_f = w.f.preActivation(STM: STM, E: E) + s.forgetBias
    if let P_f = w.P_f { z_f = z_f + P_f(LTM) }
    return s.recurrentActivation.apply(z_f.clipped(to: s.gateClip))
}

/// remember: `LTM_t = LTM_{t-1}·f_t + N_t·i_t`, clipped to `±cellClip` when set.
func remember(_ s: CellSettings, LTM: Vector, f: Vector, N: Vector, i: Vector) -> Vector {
    let LTM_t = LTM * f + N * i
    return LTM_t.clipped(to: s.cellClip)
}

/// use: `V_t = recurrentActivation(z_v + P_v·LTM_t)`, then
/// standard `U_t = activation(LTM_t)`, or document `U_t = activation(W_u·(LTM_{t-1}·f_t) + b_u)`;
/// `STM_t = U_t·V_t`.
func use(
    _ w: LSTMWeights, _ s: CellSettings, STM: Vector, E: Vector, LTM_previous: Vector, f: Vector, LTM_t: Vector
) -> (U: Vector, V: Vector, STM: Vector) {
    var z_v = w.v.preActivation(STM: STM, E: E)
    if let P_v = w.P_v { z_v = z_v + P_v(LTM_t) }
    let V_t = s.recurrentActivation.apply(z_v.clipped(to: s.gateClip))
    // `W_u`, `b_u` exist exactly when the variant is `document` (LSTMWeights.init).
    guard s.useGate == .document, let W_u = w.W_u, let b_u = w.b_u else {
        let U_t = s.activation.apply(LTM_t)  // standard: W_u = I, b_u = 0, reading the new LTM
        return (U_t, V_t, U_t * V_t)
    }
    let U_t = s.activation.apply(W_u * (LTM_previous * f) + b_u)
    return (U_t, V_t, U_t * V_t)  // document
}

/// project: `STM_t = W_p·STM_t`, clipped to `±projectionClip` when set; unchanged without projection.
func project(_ w: LSTMWeights, _ s: CellSettings, STM: Vector) -> Vector {
    guard let W_p = w.W_p else { return STM }
    return (W_p * STM).clipped(to: s.projectionClip)
}

/// Every value of one LSTM time step, named as in the notes (what a gate trace records).
struct LSTMStep {
    let N: Vector, i: Vector, f: Vector, LTM: Vector, U: Vector, V: Vector
    /// `U_t·V_t`, before the projection.
    let unprojected: Vector
    /// The step's output: `U_t·V_t`, projected when the layer has a projection.
    let STM: Vector
}

/// One LSTM time step: learn, forget, remember, use (and project).
func lstmStep(_ w: LSTMWeights, _ s: CellSettings, STM: Vector, LTM: Vector, E: Vector) -> LSTMStep {
    let (N_t, i_t) = learn(w, s, STM: STM, E: E, LTM: LTM)
    let f_t = forget(w, s, STM: STM, E: E, LTM: LTM)
    let LTM_t = remember(s, LTM: LTM, f: f_t, N: N_t, i: i_t)
    let (U_t, V_t, STM_t) = use(w, s, STM: STM, E: E, LTM_previous: LTM, f: f_t, LTM_t: LTM_t)
    return LSTMStep(N: N_t, i: i_t, f: f_t, LTM: LTM_t, U: U_t, V: V_t, unprojected: STM_t, STM: project(w, s, STM: STM_t))
}

// MARK: - GRU

/// One GRU direction's weights: update `z`, reset `r`, candidate `c`.
struct GRUWeights {
    let z: GateWeights, r: GateWeights, c: GateWeights
    /// `W_c`'s `STM` block `[H, R]` and `E` block `[H, I]`, for the reset-after candidate.
    let W_c_STM: Matrix, W_c_E: Matrix

    init(_ set: ParameterSet, layer: RecurrentLayer) throws(ModelError) {
        let two = layer.bias == .double
        z = try GateWeights(set, W: .W_z, b: .b_z, bh: .bh_z, twoBiases: two)
        r = try GateWeights(set, W: .W_r, b: .b_r, bh: .bh_r, twoBiases: two)
        c = try GateWeights(set, W: .W_c, b: .b_c, bh: .bh_c, twoBiases: two)
        let R = layer.recurrentSize
        W_c_STM = c.W.columns(0..<R)
        W_c_E = c.W.columns(R..<c.W.columns)
    }
}

/// update: `z = recurrentActivation(W_z·[STM_{t-1}, E_t] + b_z (+ bh_z))`.
func update(_ w: GRUWeights, _ s: CellSettings, STM: Vector, E: Vector) -> Vector {
    s.recurrentActivation.apply(w.z.preActivation(STM: STM, E: E).clipped(to: s.gateClip))
}

/// reset: `r = recurrentActivation(W_r·[STM_{t-1}, E_t] + b_r (+ bh_r))`.
func reset(_ w: GRUWeights, _ s: CellSettings, STM: Vector, E: Vector) -> Vector {
    s.recurrentActivation.apply(w.r.preActivation(STM: STM, E: E).clipped(to: s.gateClip))
}

/// candidate: reset before `c = activation(W_c·[r·STM_{t-1}, E_t] + b_c (+ bh_c))`;
/// reset after `c = activation(W_c[:, E]·E_t + b_c + r·(W_c[:, STM]·STM_{t-1} + bh_c))`.
func candidate(_ w: GRUWeights, _ s: CellSettings, STM: Vector, E: Vector, r: Vector) -> Vector {
    let z_c: Vector
    switch s.resetMode {
    case .before:
        z_c = w.c.preActivation(STM: r * STM, E: E)
    case .after:
        var recurrent = w.W_c_STM * STM
        if let bh_c = w.c.bh { recurrent = recurrent + bh_c }
        z_c = w.W_c_E * E + w.c.b + r * recurrent
    }
    return s.activation.apply(z_c.clipped(to: s.gateClip))
}

/// Every value of one GRU time step: update `z`, reset `r`, candidate `c` and the output.
struct GRUStep {
    let z: Vector, r: Vector, c: Vector, STM: Vector
}

/// One GRU time step: `STM_t = z·STM_{t-1} + (1 − z)·c`.
func gruStep(_ w: GRUWeights, _ s: CellSettings, STM: Vector, E: Vector) -> GRUStep {
    let z = update(w, s, STM: STM, E: E)
    let r = reset(w, s, STM: STM, E: E)
    let c = candidate(w, s, STM: STM, E: E, r: r)
    return GRUStep(z: z, r: r, c: c, STM: z * STM + (1 - z) * c)
}

// MARK: - Plain RNN

/// One plain-RNN direction's weights: the state update `W_s`, `b_s` (`bh_s`).
struct RNNWeights {
    let s: GateWeights

    init(_ set: ParameterSet, layer: RecurrentLayer) throws(ModelError) {
        s = try GateWeights(set, W: .W_s, b: .b_s, bh: .bh_s, twoBiases: layer.bias == .double)
    }
}

/// One plain-RNN time step: `STM_t = activation(W_s·[STM_{t-1}, E_t] + b_s (+ bh_s))`.
func rnnStep(_ w: RNNWeights, _ s: CellSettings, STM: Vector, E: Vector) -> Vector {
    s.activation.apply(w.s.preActivation(STM: STM, E: E).clipped(to: s.gateClip))
}
