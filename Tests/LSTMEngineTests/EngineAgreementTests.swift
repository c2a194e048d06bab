import LSTMEngine
import LSTMModel
import LSTMTestSupport
import Testing

/// One model built in code with the input it runs on.
struct EngineCase: CustomTestStringConvertible, Sendable {
    let name: String
    let model: Model
    let input: ForwardInput
    var initialStates: [StateKey: CellState] = [:]

    var testDescription: String { name }
}

/// Deterministic pseudo-random values in `[-scale, scale)` (a 64-bit LCG; no engine involved).
func pseudoRandom(count: Int, seed: UInt64, scale: Double = 1) -> [Double] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (Double(state >> 11) / Double(1 << 53) * 2 - 1) * scale
    }
}

func features(batch: Int, time: Int, size: Int, seed: UInt64) -> ForwardInput {
    // Stored as float32 so both engines see identical values.
    let values = pseudoRandom(count: batch * time * size, seed: seed).map { Float($0) }
    return .float32(try! NDArray(shape: [batch, time, size], scalars: values))
}

func recurrent(
    _ cell: CellKind, I: Int, H: Int, P: Int? = nil, directions: Int = 1, merge: MergeMode? = nil,
    returnSequences: Bool = true, goBackwards: Bool = false, activation: Activation = .tanh,
    recurrentActivation: Activation = .sigmoid, useGate: UseGateVariant = .standard, peepholes: PeepholeForm = .none,
    bias: BiasKind = .single, reset: ResetMode? = nil, cellClip: Double? = nil, gateClip: Double? = nil,
    projectionClip: Double? = nil, forgetBias: Double = 0, seed: Int
) -> Layer {
    GoldenModels.filled(.recurrent(RecurrentLayer(
        cell: cell, inputSize: I, hiddenSize: H, projectionSize: P,
        directions: Array(repeating: ParameterSet(), count: directions),
        mergeMode: directions == 2 ? (merge ?? .concat) : nil, returnSequences: returnSequences,
        goBackwards: goBackwards, activation: activation, recurrentActivation: recurrentActivation, useGate: useGate,
        peepholes: peepholes, bias: cell == .gru && reset == .after ? .double : bias,
        resetMode: cell == .gru ? (reset ?? .after) : nil, cellClip: cellClip, gateClip: gateClip,
        projectionClip: projectionClip, forgetBias: forgetBias)), seed: seed)
}

/// Every schema feature, each at a SIMD-tail size (H not a multiple of 8) and most at B = 1 (the GEMV path) too.
let agreementCases: [EngineCase] = {
    var cases: [EngineCase] = []
    func add(_ name: String, _ layers: [Layer], batch: Int = 3, time: Int = 5, input: ForwardInput? = nil) {
        let model = Model(layers: layers)
        let I: Int
        switch layers[0] {
        case .recurrent(let layer): I = layer.inputSize
        case .dense(let layer): I = layer.inputSize
        case .embedding: I = 0
        }
        cases.append(EngineCase(name: name, model: model, input: input ?? features(batch: batch, time: time, size: I, seed: UInt64(cases.count + 1))))
    }
    add("lstm", [recurrent(.lstm, I: 3, H: 5, seed: 1)])
    add("lstm B=1", [recurrent(.lstm, I: 3, H: 5, seed: 1)], batch: 1)
    add("lstm H=16 two biases", [recurrent(.lstm, I: 7, H: 16, bias: .double, seed: 2)])
    add("lstm H=19 final only", [recurrent(.lstm, I: 4, H: 19, returnSequences: false, seed: 3)], time: 9)
    add("lstm document", [recurrent(.lstm, I: 3, H: 11, useGate: .document, seed: 4)])
    add("lstm document B=1", [recurrent(.lstm, I: 3, H: 11, useGate: .document, seed: 4)], batch: 1)
    add("lstm diagonal peepholes", [recurrent(.lstm, I: 3, H: 9, peepholes: .diagonal, seed: 5)])
    add("lstm full peepholes", [recurrent(.lstm, I: 3, H: 9, peepholes: .full, seed: 6)])
    add("lstm full peepholes B=1", [recurrent(.lstm, I: 3, H: 9, peepholes: .full, seed: 6)], batch: 1)
    add("lstm document full peepholes", [recurrent(.lstm, I: 3, H: 6, useGate: .document, peepholes: .full, seed: 7)])
    add("lstm document diagonal peepholes", [recurrent(.lstm, I: 3, H: 6, useGate: .document, peepholes: .diagonal, seed: 7)])
    add("lstm projection", [recurrent(.lstm, I: 3, H: 10, P: 4, seed: 8)])
    add("lstm projection clip", [recurrent(.lstm, I: 3, H: 10, P: 4, projectionClip: 0.05, seed: 8)])
    add("lstm projection peepholes cell clip forget bias", [
        recurrent(.lstm, I: 3, H: 10, P: 4, peepholes: .diagonal, bias: .double, cellClip: 0.3, forgetBias: 1, seed: 9),
    ])
    add("lstm gate clip", [recurrent(.lstm, I: 3, H: 8, gateClip: 0.1, seed: 10)])
    add("lstm hard sigmoid keras2", [recurrent(.lstm, I: 3, H: 8, recurrentActivation: .hardSigmoidKeras2, seed: 11)])
    add("lstm hard sigmoid keras3", [recurrent(.lstm, I: 3, H: 8, recurrentActivation: .hardSigmoidKeras3, seed: 12)])
    add("lstm relu activation", [recurrent(.lstm, I: 3, H: 8, activation: .relu, seed: 13)])
    add("lstm linear activation", [recurrent(.lstm, I: 3, H: 8, activation: .linear, seed: 14)])
    add("lstm go_backwards", [recurrent(.lstm, I: 3, H: 5, goBackwards: true, seed: 15)])
    add("lstm go_backwards final", [recurrent(.lstm, I: 3, H: 5, returnSequences: false, goBackwards: true, seed: 15)])
    for merge in MergeMode.allCases {
        add("bidirectional lstm \(merge)", [recurrent(.lstm, I: 3, H: 5, directions: 2, merge: merge, seed: 16)])
        add("bidirectional lstm \(merge) final", [
            recurrent(.lstm, I: 3, H: 5, directions: 2, merge: merge, returnSequences: false, seed: 17),
        ])
    }
    add("bidirectional lstm go_backwards", [recurrent(.lstm, I: 3, H: 5, directions: 2, goBackwards: true, seed: 18)])
    add("bidirectional lstm B=1", [recurrent(.lstm, I: 3, H: 5, directions: 2, seed: 18)], batch: 1)
    add("gru reset after", [recurrent(.gru, I: 3, H: 7, reset: .after, seed: 19)])
    add("gru reset after B=1", [recurrent(.gru, I: 3, H: 7, reset: .after, seed: 19)], batch: 1)
    add("gru reset before", [recurrent(.gru, I: 3, H: 7, reset: .before, seed: 20)])
    add("gru reset before two biases", [recurrent(.gru, I: 3, H: 17, bias: .double, reset: .before, seed: 21)])
    add("gru reset before B=1", [recurrent(.gru, I: 3, H: 7, reset: .before, seed: 20)], batch: 1)
    add("gru gate clip hard sigmoid", [
        recurrent(.gru, I: 3, H: 7, recurrentActivation: .hardSigmoidKeras2, reset: .after, gateClip: 0.2, seed: 22),
    ])
    add("bidirectional gru sum go_backwards", [
        recurrent(.gru, I: 3, H: 7, directions: 2, merge: .sum, goBackwards: true, reset: .before, seed: 23),
    ])
    add("stacked lstm gru dense softmax", [
        recurrent(.lstm, I: 4, H: 6, directions: 2, seed: 24),
        recurrent(.gru, I: 12, H: 5, returnSequences: false, reset: .after, seed: 25),
        GoldenModels.filled(.dense(DenseLayer(inputSize: 5, units: 3, activation: .softmax, parameters: ParameterSet())), seed: 26),
    ])
    add("lstm then dense per time step", [
        recurrent(.lstm, I: 4, H: 6, seed: 27),
        GoldenModels.filled(.dense(DenseLayer(inputSize: 6, units: 2, activation: .sigmoid, parameters: ParameterSet())), seed: 28),
        GoldenModels.filled(.dense(DenseLayer(inputSize: 2, units: 9, activation: .linear, useBias: false, parameters: ParameterSet())), seed: 29),
    ])
    let tokens = try! NDArray(shape: [2, 6], scalars: [0, 3, 4, 1, 1, 2, 4, 4, 0, 2, 3, 1])
    add("embedding lstm", [
        GoldenModels.filled(.embedding(EmbeddingLayer(vocabularySize: 5, embeddingSize: 3, parameters: ParameterSet())), seed: 30),
        recurrent(.lstm, I: 3, H: 4, seed: 31),
    ], input: .tokens(tokens))
    add("lstm T=0", [recurrent(.lstm, I: 3, H: 5, directions: 2, seed: 32)], time: 0)
    add("lstm T=1", [recurrent(.lstm, I: 3, H: 5, directions: 2, seed: 32)], time: 1)
    add("lstm long sequence", [recurrent(.lstm, I: 8, H: 24, seed: 33)], batch: 4, time: 60)
    // Golden models of the test-support target: f16, bf16 and f64 storage.
    for (name, model) in GoldenModels.all {
        let input: ForwardInput
        if case .embedding = model.layers[0] {
            input = .tokens(try! NDArray(shape: [2, 4], scalars: [0, 1, 4, 3, 2, 2, 1, 0]))
        } else if case .recurrent(let layer) = model.layers[0] {
            input = features(batch: 2, time: 4, size: layer.inputSize, seed: 99)
        } else {
            continue
        }
        cases.append(EngineCase(name: "golden \(name)", model: model, input: input))
    }
    // Initial states for every layer and direction.
    let stacked = Model(layers: [
        recurrent(.lstm, I: 3, H: 5, P: 2, directions: 2, seed: 34),
        recurrent(.gru, I: 4, H: 3, reset: .before, seed: 35),
    ])
    let B = 2
    func state(_ rows: Int, _ columns: Int, _ seed: UInt64) -> NDArray<Double> {
        try! NDArray(shape: [rows, columns], scalars: pseudoRandom(count: rows * columns, seed: seed, scale: 0.5))
    }
    cases.append(EngineCase(
        name: "initial states", model: stacked, input: features(batch: B, time: 4, size: 3, seed: 36),
        initialStates: [
            StateKey(layer: 0, direction: .forward): CellState(STM: state(B, 2, 1), LTM: state(B, 5, 2)),
            StateKey(layer: 0, direction: .backward): CellState(STM: state(B, 2, 3), LTM: state(B, 5, 4)),
            StateKey(layer: 1, direction: .forward): CellState(STM: state(B, 3, 5), LTM: nil),
        ]))
    return cases
}()

@Suite("Fast engine agrees with the reference engine")
struct EngineAgreementTests {
    @Test(arguments: agreementCases)
    func fastMatchesReference(_ engineCase: EngineCase) throws {
        let reference = try ReferenceEngine(engineCase.model).run(engineCase.input, initialStates: engineCase.initialStates)
        let fast = try FastEngine(engineCase.model).run(engineCase.input, initialStates: engineCase.initialStates)
        #expect(reference.precision == .f64)
        #expect(fast.precision == .f32)
        let comparison = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
        #expect(comparison.isWithinTolerance, "\(comparison)")
        #expect(Set(fast.finalStates.keys) == Set(reference.finalStates.keys))
        for (key, expected) in reference.finalStates {
            let actual = try #require(fast.finalStates[key])
            let stm = Comparison(actual: actual.STM, expected: expected.STM, atol: 1e-5, rtol: 0)
            #expect(stm.isWithinTolerance, "\(key.name(.STM)): \(stm)")
            #expect((actual.LTM == nil) == (expected.LTM == nil))
            if let actualLTM = actual.LTM, let expectedLTM = expected.LTM {
                let ltm = Comparison(actual: actualLTM, expected: expectedLTM, atol: 1e-5, rtol: 0)
                #expect(ltm.isWithinTolerance, "\(key.name(.LTM)): \(ltm)")
            }
        }
    }

    @Test func everyRecurrentLayerAndDirectionHasAFinalState() throws {
        let model = Model(layers: [
            recurrent(.lstm, I: 3, H: 5, directions: 2, seed: 1),
            recurrent(.gru, I: 10, H: 4, directions: 2, merge: .ave, returnSequences: false, reset: .after, seed: 2),
        ])
        for engine in Engine.allCases {
            let result = try engine.run(model, input: features(batch: 2, time: 3, size: 3, seed: 7))
            #expect(result.namedStates.map(\.name) == [
                "layer_0/forward/STM", "layer_0/forward/LTM", "layer_0/backward/STM", "layer_0/backward/LTM",
                "layer_1/forward/STM", "layer_1/backward/STM",
            ])
            #expect(result.output.shape == [2, 4])
            // Without return_sequences the ave merge is exactly the mean of the two final STMs.
            let forward = try #require(result.finalStates[StateKey(layer: 1, direction: .forward)]).STM.scalars
            let backward = try #require(result.finalStates[StateKey(layer: 1, direction: .backward)]).STM.scalars
            #expect(result.output.scalars == zip(forward, backward).map { engine == .fast ? Double((Float($0) + Float($1)) * 0.5) : 0.5 * ($0 + $1) })
        }
    }
}
