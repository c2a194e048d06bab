import Foundation
import LSTMEngine
import LSTMModel
import Testing

// Semantics checked against values derived by hand, independently of both engines' code.

/// An LSTM whose gates are all exactly 1 and whose candidate is the input: `LTM_t = LTM_{t-1} + E_t`, and
/// `STM_t = V_t·linear(LTM_t) = LTM_t`. Its output is the running sum of what it has read, which makes the
/// read order and output alignment of every direction visible.
func accumulatorLayer(directions: Int, merge: MergeMode? = nil, returnSequences: Bool = true, goBackwards: Bool = false) -> Layer {
    let ones = Activation.hardSigmoid(slope: 1, offset: 1)  // clip(0·… + 1) = 1 whatever the input
    let H = 1, I = 1
    func set() -> ParameterSet {
        var set = ParameterSet()
        set[.W_n] = Tensor([0, 1], shape: [H, H + I])  // N_t = E_t
        for role in [TensorRole.W_i, .W_f, .W_v] { set[role] = Tensor([0, 0], shape: [H, H + I]) }
        for role in [TensorRole.b_n, .b_i, .b_f, .b_v] { set[role] = Tensor([0], shape: [H]) }
        return set
    }
    return .recurrent(RecurrentLayer(
        cell: .lstm, inputSize: I, hiddenSize: H, directions: (0..<directions).map { _ in set() },
        mergeMode: directions == 2 ? (merge ?? .concat) : nil, returnSequences: returnSequences, goBackwards: goBackwards,
        activation: .linear, recurrentActivation: ones))
}

let sequence: [Double] = [1, 10, 100, 1000]

func runAccumulator(_ layer: Layer, engine: Engine) throws -> ForwardResult {
    let input = try NDArray(shape: [1, sequence.count, 1], scalars: sequence)
    return try engine.run(Model(layers: [layer]), input: .float64(input))
}

@Suite("Direction semantics (hand-derived running sums)")
struct DirectionSemanticsTests {
    @Test(arguments: Engine.allCases)
    func forwardIsRunningSum(_ engine: Engine) throws {
        let result = try runAccumulator(accumulatorLayer(directions: 1), engine: engine)
        #expect(result.output.shape == [1, 4, 1])
        #expect(result.output.scalars == [1, 11, 111, 1111])
    }

    @Test(arguments: Engine.allCases)
    func backwardOutputIsAlignedWithInputTime(_ engine: Engine) throws {
        // Concat: [forward_t, backward_t]; backward_t has read E_{T-1} … E_t.
        let result = try runAccumulator(accumulatorLayer(directions: 2, merge: .concat), engine: engine)
        #expect(result.output.shape == [1, 4, 2])
        #expect(result.output.scalars == [1, 1111, 11, 1110, 111, 1100, 1111, 1000])
        // Final states: forward after E_3, backward after E_0 (the whole reversed sequence).
        #expect(result.finalStates[StateKey(layer: 0, direction: .forward)]?.STM.scalars == [1111])
        #expect(result.finalStates[StateKey(layer: 0, direction: .backward)]?.STM.scalars == [1111])
        #expect(result.finalStates[StateKey(layer: 0, direction: .backward)]?.LTM?.scalars == [1111])
    }

    @Test(arguments: Engine.allCases)
    func goBackwardsKeepsReversedOrder(_ engine: Engine) throws {
        // Reads E_3, E_2, E_1, E_0 and returns the outputs in that order.
        let result = try runAccumulator(accumulatorLayer(directions: 1, goBackwards: true), engine: engine)
        #expect(result.output.scalars == [1000, 1100, 1110, 1111])
    }

    @Test(arguments: Engine.allCases)
    func bidirectionalGoBackwardsMatchesKeras(_ engine: Engine) throws {
        // Keras Bidirectional(LSTM(go_backwards=True)): output in reversed time order; at position s the forward
        // part has read E_{T-1} … E_{T-1-s}, the backward part E_0 … E_{T-1-s}.
        let result = try runAccumulator(accumulatorLayer(directions: 2, goBackwards: true), engine: engine)
        #expect(result.output.scalars == [1000, 1111, 1100, 111, 1110, 11, 1111, 1])
    }

    @Test(arguments: Engine.allCases)
    func finalOutputsWithoutReturnSequences(_ engine: Engine) throws {
        let forward = try runAccumulator(accumulatorLayer(directions: 1, returnSequences: false), engine: engine)
        #expect(forward.output.shape == [1, 1])
        #expect(forward.output.scalars == [1111])
        let merges: [(MergeMode, [Double])] = [(.concat, [1111, 1111]), (.sum, [2222]), (.mul, [1111 * 1111]), (.ave, [1111])]
        for (merge, expected) in merges {
            let result = try runAccumulator(accumulatorLayer(directions: 2, merge: merge, returnSequences: false), engine: engine)
            #expect(result.output.scalars == expected, "\(merge)")
        }
    }

    @Test(arguments: Engine.allCases)
    func initialStateStartsTheSum(_ engine: Engine) throws {
        let input = try NDArray<Double>(shape: [2, 2, 1], scalars: [1, 2, 3, 4])
        let start = CellState(STM: try NDArray(shape: [2, 1], scalars: [0, 0]), LTM: try NDArray(shape: [2, 1], scalars: [100, -100]))
        let result = try engine.run(
            Model(layers: [accumulatorLayer(directions: 1)]), input: .float64(input),
            initialStates: [StateKey(layer: 0, direction: .forward): start])
        #expect(result.output.scalars == [101, 103, -97, -93])
    }
}

@Suite("Gate equations against hand computation")
struct GateEquationTests {
    /// A one-unit LSTM with distinct weights on every gate, computed here straight from the notes.
    func oneUnit(document: Bool, peepholes: PeepholeForm) -> (Model, expected: [Double]) {
        let Wn = [0.3, -0.7], Wi = [0.5, 0.2], Wf = [-0.4, 0.9], Wv = [0.8, -0.1]
        let bn = 0.1, bi = -0.2, bf = 0.3, bv = 0.05, Wu = 0.6, bu = -0.15
        let Pi = 0.25, Pf = -0.35, Pv = 0.45
        var set = ParameterSet()
        set[.W_n] = Tensor(doubles: Wn, shape: [1, 2]); set[.b_n] = Tensor(doubles: [bn], shape: [1])
        set[.W_i] = Tensor(doubles: Wi, shape: [1, 2]); set[.b_i] = Tensor(doubles: [bi], shape: [1])
        set[.W_f] = Tensor(doubles: Wf, shape: [1, 2]); set[.b_f] = Tensor(doubles: [bf], shape: [1])
        set[.W_v] = Tensor(doubles: Wv, shape: [1, 2]); set[.b_v] = Tensor(doubles: [bv], shape: [1])
        if document {
            set[.W_u] = Tensor(doubles: [Wu], shape: [1, 1]); set[.b_u] = Tensor(doubles: [bu], shape: [1])
        }
        if peepholes != .none {
            let shape = peepholes == .full ? [1, 1] : [1]
            set[.P_i] = Tensor(doubles: [Pi], shape: shape)
            set[.P_f] = Tensor(doubles: [Pf], shape: shape)
            set[.P_v] = Tensor(doubles: [Pv], shape: shape)
        }
        let layer = RecurrentLayer(
            cell: .lstm, inputSize: 1, hiddenSize: 1, directions: [set], returnSequences: true,
            useGate: document ? .document : .standard, peepholes: peepholes)
        func sigma(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        let usesPeepholes = peepholes != .none
        var STM = 0.0, LTM = 0.0, outputs: [Double] = []
        for E in [0.5, -1.0, 2.0] {
            let N = tanh(Wn[0] * STM + Wn[1] * E + bn)
            let i = sigma(Wi[0] * STM + Wi[1] * E + bi + (usesPeepholes ? Pi * LTM : 0))
            let f = sigma(Wf[0] * STM + Wf[1] * E + bf + (usesPeepholes ? Pf * LTM : 0))
            let newLTM = LTM * f + N * i
            let V = sigma(Wv[0] * STM + Wv[1] * E + bv + (usesPeepholes ? Pv * newLTM : 0))
            STM = document ? tanh(Wu * (LTM * f) + bu) * V : V * tanh(newLTM)
            LTM = newLTM
            outputs.append(STM)
        }
        return (Model(layers: [.recurrent(layer)]), outputs)
    }

    @Test(arguments: Engine.allCases, [(false, PeepholeForm.none), (true, .none), (false, .diagonal), (true, .full)])
    func oneUnitLSTM(_ engine: Engine, _ variant: (document: Bool, peepholes: PeepholeForm)) throws {
        let (model, expected) = oneUnit(document: variant.document, peepholes: variant.peepholes)
        let input = try NDArray(shape: [1, 3, 1], scalars: [0.5, -1.0, 2.0])
        let result = try engine.run(model, input: .float64(input))
        let tolerance = engine == .reference ? 1e-12 : 1e-6
        for (actual, wanted) in zip(result.output.scalars, expected) {
            #expect(abs(actual - wanted) <= tolerance, "\(actual) vs \(wanted)")
        }
    }

    @Test(arguments: Engine.allCases)
    func oneUnitGRUResetModes(_ engine: Engine) throws {
        let Wz = [0.4, -0.6], Wr = [-0.3, 0.8], Wc = [0.7, 0.5]
        let bz = 0.1, br = -0.1, bc = 0.2, bhz = 0.05, bhr = 0.15, bhc = -0.25
        for mode in ResetMode.allCases {
            var set = ParameterSet()
            set[.W_z] = Tensor(doubles: Wz, shape: [1, 2]); set[.b_z] = Tensor(doubles: [bz], shape: [1])
            set[.W_r] = Tensor(doubles: Wr, shape: [1, 2]); set[.b_r] = Tensor(doubles: [br], shape: [1])
            set[.W_c] = Tensor(doubles: Wc, shape: [1, 2]); set[.b_c] = Tensor(doubles: [bc], shape: [1])
            set[.bh_z] = Tensor(doubles: [bhz], shape: [1]); set[.bh_r] = Tensor(doubles: [bhr], shape: [1])
            set[.bh_c] = Tensor(doubles: [bhc], shape: [1])
            let model = Model(layers: [.recurrent(RecurrentLayer(
                cell: .gru, inputSize: 1, hiddenSize: 1, directions: [set], returnSequences: true, bias: .double,
                resetMode: mode))])
            func sigma(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
            var h = 0.0, expected: [Double] = []
            for x in [0.5, -1.0, 2.0] {
                let z = sigma(Wz[0] * h + Wz[1] * x + bz + bhz)
                let r = sigma(Wr[0] * h + Wr[1] * x + br + bhr)
                let c = mode == .before
                    ? tanh(Wc[0] * (r * h) + Wc[1] * x + bc + bhc)  // ONNX linear_before_reset = 0
                    : tanh(Wc[1] * x + bc + r * (Wc[0] * h + bhc))  // PyTorch
                h = z * h + (1 - z) * c
                expected.append(h)
            }
            let result = try engine.run(model, input: .float64(try NDArray(shape: [1, 3, 1], scalars: [0.5, -1.0, 2.0])))
            let tolerance = engine == .reference ? 1e-12 : 1e-6
            for (actual, wanted) in zip(result.output.scalars, expected) {
                #expect(abs(actual - wanted) <= tolerance, "\(mode): \(actual) vs \(wanted)")
            }
        }
    }
}
