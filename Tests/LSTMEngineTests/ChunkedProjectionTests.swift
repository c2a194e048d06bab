@testable import LSTMEngine
import LSTMModel
import Testing

/// The fast engine runs each direction in chunks of steps (the input projection of one chunk at a time into a
/// reused buffer, spec/engine.md §7). Real sequences are rarely long enough for several chunks in a test, so these
/// force chunks of 1, 2 and 3 steps — every chunk boundary, reversed reading, masking and batch-first input
/// gathering — and check every variant against the reference engine on every kernel path.
@Suite("Fast engine in chunks of steps")
struct ChunkedProjectionTests {
    static let chunkSizes = [1, 2, 3]

    @Test(arguments: agreementCases, KernelPath.supported)
    func everyVariantInChunksOnEveryPath(_ engineCase: EngineCase, _ path: KernelPath) throws {
        let reference = try ReferenceEngine(engineCase.model).run(engineCase.input, initialStates: engineCase.initialStates)
        for steps in Self.chunkSizes {
            var engine = try FastEngine(engineCase.model, kernels: path)
            engine.chunkSteps = steps
            let fast = try engine.run(engineCase.input, initialStates: engineCase.initialStates)
            let comparison = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
            #expect(comparison.isWithinTolerance, "\(path), chunks of \(steps): \(comparison)")
            for (key, expected) in reference.finalStates {
                let actual = try #require(fast.finalStates[key])
                #expect(Comparison(actual: actual.STM, expected: expected.STM, atol: 1e-5, rtol: 0).isWithinTolerance, "\(key)")
                if let ltm = expected.LTM {
                    let other = try #require(actual.LTM)
                    #expect(Comparison(actual: other, expected: ltm, atol: 1e-5, rtol: 0).isWithinTolerance, "\(key) LTM")
                }
            }
        }
    }

    @Test(arguments: MaskAgreementTests.layers.map(\.0), KernelPath.supported)
    func maskedStepsInChunks(_ name: String, _ path: KernelPath) throws {
        let model = Model(layers: try #require(MaskAgreementTests.layers.first { $0.0 == name }).1)
        let input = features(batch: 4, time: 7, size: 3, seed: 12)
        let lengths = [7, 0, 3, 1]
        let reference = try ReferenceEngine(model).run(input, initialStates: [:], lengths: lengths)
        for steps in Self.chunkSizes {
            var engine = try FastEngine(model, kernels: path)
            engine.chunkSteps = steps
            let fast = try engine.run(input, initialStates: [:], lengths: lengths)
            let comparison = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
            #expect(comparison.isWithinTolerance, "\(name), \(path), chunks of \(steps): \(comparison)")
        }
    }

    @Test func chunksAreSizedByBytesAndRowsAndNeverExceedTheSequence() {
        // About 1 MiB of gates per chunk, at least 256 rows, at most T, at least 1.
        #expect(DirectionRun.chunkSteps(steps: 10_000, batch: 1, width: 4 * 64) == (1 << 20) / (4 * 64 * 4))
        #expect(DirectionRun.chunkSteps(steps: 100, batch: 32, width: 4 * 1024) == 8)
        #expect(DirectionRun.chunkSteps(steps: 5, batch: 3, width: 20) == 5)
        #expect(DirectionRun.chunkSteps(steps: 0, batch: 3, width: 20) == 1)
        #expect(DirectionRun.chunkSteps(steps: 100, batch: 1024, width: 4 * 1024) == 1)
    }
}
