import LSTMEngine
import LSTMModel
import LSTMTestSupport
import Testing

/// Masked steps and lengths (spec/engine.md §5.1): both engines agree on every cell kind, projection, two
/// directions and both masked-output rules, including empty and full lengths; and the rules themselves hold
/// (state carried over a masked step, zeros past a length, a masked step anywhere equals removing it).
@Suite struct MaskAgreementTests {
    static let layers: [(String, [Layer])] = [
        ("lstm", [recurrent(.lstm, I: 3, H: 5, seed: 1)]),
        ("lstm projection bidirectional", [recurrent(.lstm, I: 3, H: 5, P: 2, directions: 2, seed: 2)]),
        ("gru reset after bidirectional, stacked", [
            recurrent(.gru, I: 3, H: 4, directions: 2, reset: .after, seed: 3), recurrent(.gru, I: 8, H: 3, reset: .before, seed: 4),
        ]),
        ("rnn relu bidirectional", [recurrent(.rnn, I: 3, H: 4, directions: 2, activation: .relu, seed: 5)]),
        ("lstm last step", [recurrent(.lstm, I: 3, H: 4, directions: 2, returnSequences: false, seed: 6)]),
    ]

    @Test(arguments: layers.map(\.0))
    func enginesAgreeWithLengths(_ name: String) throws {
        var model = Model(layers: try #require(Self.layers.first { $0.0 == name }).1)
        if name == "lstm last step", case .recurrent(var layer) = model.layers[0] {
            layer.finalOutput = .lastStep
            model.layers[0] = .recurrent(layer)
        }
        let input = features(batch: 4, time: 6, size: 3, seed: 11)
        let lengths = [6, 0, 3, 1]
        let reference = try Engine.reference.run(model, input: input, lengths: lengths)
        let fast = try Engine.fast.run(model, input: input, lengths: lengths)
        let comparison = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
        #expect(comparison.shapeMismatch == nil && comparison.maxAbsoluteError <= 1e-5, "\(name): \(comparison.maxAbsoluteError)")
        for (key, state) in reference.finalStates {
            let other = try #require(fast.finalStates[key])
            #expect(Comparison(actual: other.STM, expected: state.STM, atol: 1e-5, rtol: 0).maxAbsoluteError <= 1e-5)
        }
        // A full length is the unmasked run.
        let full = try Engine.reference.run(model, input: input, lengths: [6, 6, 6, 6])
        #expect(full.output == (try Engine.reference.run(model, input: input)).output)
        // Past a length every output is zero (sequence outputs).
        if reference.output.shape.count == 3 {
            let (T, F) = (reference.output.shape[1], reference.output.shape[2])
            for (b, length) in lengths.enumerated() {
                for t in length..<T {
                    #expect(reference.output.scalars[((b * T + t) * F)..<((b * T + t + 1) * F)].allSatisfy { $0 == 0 })
                }
            }
        }
    }

    @Test("a Keras mask in the middle equals the sequence without that step; previous vs zero outputs")
    func maskValueSkipsSteps() throws {
        guard case .recurrent(var layer) = recurrent(.lstm, I: 2, H: 3, seed: 7) else { return }
        layer.maskValue = 0
        var values = pseudoRandom(count: 5 * 2, seed: 9).map { Float($0) }
        values[2] = 0
        values[3] = 0  // step 1 masked
        let masked = ForwardInput.float32(try NDArray(shape: [1, 5, 2], scalars: values))
        let skipped = ForwardInput.float32(try NDArray(shape: [1, 4, 2], scalars: Array(values[0..<2] + values[4...])))
        for engine in [Engine.reference, .fast] {
            for rule in MaskedOutput.allCases {
                layer.maskedOutput = rule
                let model = Model(layers: [.recurrent(layer)])
                let a = try engine.run(model, input: masked).output.scalars
                let b = try engine.run(model, input: skipped).output.scalars
                #expect(Array(a[0..<3]) == Array(b[0..<3]))
                #expect(Array(a[3..<6]) == (rule == .zero ? [0, 0, 0] : Array(b[0..<3])), "\(engine) \(rule)")
                #expect(zip(a[6...], b[3...]).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(engine) \(rule)")
            }
        }
    }

    @Test("bad lengths are typed errors")
    func badLengths() throws {
        let model = Model(layers: [recurrent(.gru, I: 3, H: 2, reset: .after, seed: 8)])
        let input = features(batch: 2, time: 3, size: 3, seed: 1)
        for lengths in [[1], [1, 4], [-1, 2]] {
            for engine in [Engine.reference, .fast] {
                #expect(throws: EngineError.self) { try engine.run(model, input: input, lengths: lengths) }
            }
        }
    }
}
