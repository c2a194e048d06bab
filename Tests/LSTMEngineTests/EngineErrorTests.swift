import LSTMEngine
import LSTMModel
import LSTMTestSupport
import Testing

@Suite("Engine input errors")
struct EngineErrorTests {
    let lstm = Model(layers: [recurrent(.lstm, I: 3, H: 4, seed: 1)])
    let embedded = Model(layers: [
        GoldenModels.filled(.embedding(EmbeddingLayer(vocabularySize: 5, embeddingSize: 3, parameters: ParameterSet())), seed: 2),
        recurrent(.lstm, I: 3, H: 4, seed: 3),
    ])

    @Test(arguments: Engine.allCases)
    func tokenOutOfRange(_ engine: Engine) throws {
        for bad in [5, -1, 1_000_000] {
            let ids = try NDArray(shape: [1, 3], scalars: [0, bad, 1])
            #expect(throws: EngineError(.tokenOutOfRange)) { try engine.run(embedded, input: .tokens(ids)) }
        }
    }

    @Test(arguments: Engine.allCases)
    func floatTokenIds(_ engine: Engine) throws {
        let integral = try NDArray<Double>(shape: [1, 3], scalars: [0, 4, 1])
        let asTokens = try engine.run(embedded, input: .tokens(try NDArray(shape: [1, 3], scalars: [0, 4, 1])))
        #expect(try engine.run(embedded, input: .float64(integral)) == asTokens)
        let fractional = try NDArray<Double>(shape: [1, 3], scalars: [0, 1.5, 1])
        #expect(throws: EngineError(.invalidInput)) { try engine.run(embedded, input: .float64(fractional)) }
    }

    @Test(arguments: Engine.allCases)
    func wrongInputShapes(_ engine: Engine) throws {
        for shape in [[2, 5, 4], [2, 5], [10, 3], [1, 1, 1, 3]] {
            let count = shape.reduce(1, *)
            let input = try NDArray(shape: shape, scalars: [Float](repeating: 0, count: count))
            #expect(throws: EngineError(.invalidInput), "\(shape)") { try engine.run(lstm, input: .float32(input)) }
        }
        let ids = try NDArray(shape: [1, 3], scalars: [0, 1, 2])
        #expect(throws: EngineError(.invalidInput)) { try engine.run(lstm, input: .tokens(ids)) }
        let features = try NDArray(shape: [1, 3, 3], scalars: [Float](repeating: 0, count: 9))
        #expect(throws: EngineError(.invalidInput)) { try engine.run(embedded, input: .float32(features)) }
    }

    @Test(arguments: Engine.allCases)
    func badInitialStates(_ engine: Engine) throws {
        let input = try NDArray(shape: [2, 3, 3], scalars: [Float](repeating: 0.1, count: 18))
        let good = try NDArray<Double>(shape: [2, 4], scalars: [Double](repeating: 0, count: 8))
        let wrong = try NDArray<Double>(shape: [1, 4], scalars: [Double](repeating: 0, count: 4))
        let forward = StateKey(layer: 0, direction: .forward)
        let cases: [[StateKey: CellState]] = [
            [forward: CellState(STM: wrong, LTM: nil)],
            [forward: CellState(STM: good, LTM: wrong)],
            [StateKey(layer: 0, direction: .backward): CellState(STM: good, LTM: nil)],
            [StateKey(layer: 3, direction: .forward): CellState(STM: good, LTM: nil)],
        ]
        for states in cases {
            #expect(throws: EngineError(.invalidState)) { try engine.run(lstm, input: .float32(input), initialStates: states) }
        }
        let gru = Model(layers: [recurrent(.gru, I: 3, H: 4, reset: .after, seed: 4)])
        #expect(throws: EngineError(.invalidState)) {
            try engine.run(gru, input: .float32(input), initialStates: [forward: CellState(STM: good, LTM: good)])
        }
        _ = try engine.run(lstm, input: .float32(input), initialStates: [forward: CellState(STM: good, LTM: good)])
    }

    @Test(arguments: Engine.allCases)
    func invalidModel(_ engine: Engine) throws {
        var layer = RecurrentLayer(cell: .lstm, inputSize: 3, hiddenSize: 4, directions: [ParameterSet()])
        layer.directions[0][.W_n] = Tensor([Float](repeating: 0, count: 28), shape: [4, 7])
        let error = #expect(throws: EngineError(.invalidModel)) { try engine.prepare(Model(layers: [.recurrent(layer)])) }
        #expect(error?.underlying?.code == .missingTensor)
    }

    @Test func recurrentAfterVectorsIsAnError() throws {
        let model = Model(layers: [
            recurrent(.lstm, I: 3, H: 4, returnSequences: false, seed: 1),
            recurrent(.lstm, I: 4, H: 4, seed: 2),
        ])
        // The model validates (sizes chain), but a recurrent layer cannot read a vector.
        let input = try NDArray(shape: [1, 2, 3], scalars: [Float](repeating: 0.1, count: 6))
        for engine in Engine.allCases {
            #expect(throws: EngineError(.invalidInput)) { try engine.run(model, input: .float32(input)) }
        }
    }

    @Test func arrayShapeMismatch() {
        #expect(throws: EngineError(.shapeMismatch)) { try NDArray<Double>(shape: [2, 3], scalars: [1, 2]) }
        #expect(throws: EngineError(.shapeMismatch)) { try NDArray<Double>(shape: [-1], scalars: []) }
    }

    @Test func stateNames() throws {
        let key = StateKey(layer: 2, direction: .backward)
        #expect(key.name(.LTM) == "layer_2/backward/LTM")
        #expect(StateKey.parse("layer_2/backward/LTM")?.key == key)
        #expect(StateKey.parse("layer_2/backward/LTM")?.part == .LTM)
        for bad in ["layer_x/forward/STM", "layer_0/sideways/STM", "layer_0/forward/h", "layer_0/forward", "layer_-1/forward/STM"] {
            #expect(StateKey.parse(bad) == nil, "\(bad)")
        }
        let stm = try NDArray<Double>(shape: [1, 2], scalars: [1, 2])
        let states = try CellState.states(named: [("layer_0/forward/STM", stm), ("layer_0/forward/LTM", stm)])
        #expect(states[StateKey(layer: 0, direction: .forward)] == CellState(STM: stm, LTM: stm))
        #expect(throws: EngineError(.invalidState)) { try CellState.states(named: [("layer_0/forward/LTM", stm)]) }
        #expect(throws: EngineError(.invalidState)) { try CellState.states(named: [("h0", stm)]) }
    }
}

@Suite("Comparison")
struct ComparisonTests {
    @Test func reportsErrorsAndWorstIndex() throws {
        let expected = try NDArray<Double>(shape: [2, 3], scalars: [1, 2, 3, 0, -5, 100])
        let actual = try NDArray<Double>(shape: [2, 3], scalars: [1, 2.001, 3, 0.0005, -5, 100.02])
        let comparison = Comparison(actual: actual, expected: expected, atol: 1e-5, rtol: 1e-4)
        #expect(abs(comparison.maxAbsoluteError - 0.02) < 1e-12)
        #expect(abs(comparison.maxRelativeError - 0.0005) < 1e-12)  // 0.001 / 2
        // Scores: |a-e| / (atol + rtol|e|): 0.001/2.1e-4 ≈ 4.8, 0.0005/1e-5 = 50, 0.02/0.01001 ≈ 2.
        #expect(comparison.worstIndex == [1, 0])
        #expect(comparison.worstActual == 0.0005)
        #expect(comparison.mismatchCount == 3)
        #expect(!comparison.isWithinTolerance)
        #expect(comparison.within(atol: 1e-3, rtol: 2e-4))
        #expect(!comparison.within(atol: 1e-3, rtol: 0))
    }

    @Test func numpyIsCloseRule() throws {
        let expected = try NDArray<Double>(shape: [4], scalars: [1, .infinity, .nan, 0])
        let same = try NDArray<Double>(shape: [4], scalars: [1, .infinity, .nan, 0])
        let comparison = Comparison(actual: same, expected: expected, atol: 0, rtol: 0)
        #expect(comparison.mismatchCount == 1)  // NaN never matches
        let finite = try NDArray<Double>(shape: [2], scalars: [1, 2])
        #expect(Comparison(actual: finite, expected: finite, atol: 0, rtol: 0).isWithinTolerance)
    }

    @Test func shapeMismatchIsNotNumeric() throws {
        let a = try NDArray<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try NDArray<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        let comparison = Comparison(actual: a, expected: b)
        #expect(comparison.shapeMismatch == Comparison.ShapeMismatch(actual: [2, 3], expected: [3, 2]))
        #expect(!comparison.isWithinTolerance)
        #expect(!comparison.within(atol: 1e9, rtol: 1e9))
        #expect(comparison.description.hasPrefix("shape mismatch"))
    }
}
