import Foundation
import LSTMEngine
import LSTMModel
import Testing
import LSTMTestSupport

/// The fast engine on every kernel path this CPU supports (generic always; AVX2 and AVX-512 where present), against
/// the frameworks' fixtures and the reference engine — the dispatch is forced per engine, so each path is tested
/// whatever `LSTMCONV_KERNEL` says.
@Suite("Fast engine on every kernel path this CPU has")
struct KernelPathTests {
    @Test func theDispatchPicksASupportedPathFromTheCPUFeatures() throws {
        #expect(KernelPath.generic.isSupported)
        #expect(KernelPath.best.isSupported)
        #expect(KernelPath.supported.contains(KernelPath.best))
        #expect(KernelPath.default.isSupported)
        let features = Set(KernelPath.cpuFeatures.split(separator: " ").map(String.init))
        #expect(KernelPath.avx2.isSupported == features.isSuperset(of: ["avx2", "fma"]), "\(features)")
        #expect(KernelPath.avx512.isSupported == features.isSuperset(of: ["avx2", "fma", "avx512f", "avx512vl"]), "\(features)")
        #if arch(x86_64)
        #expect(features.contains("sse2"))
        #expect(KernelPath.generic.description == "generic")
        #elseif arch(arm64)
        #expect(KernelPath.generic.description == "neon")
        #endif
        // An engine asked for a path the CPU lacks runs the best one instead.
        let model = Model(layers: [recurrent(.lstm, I: 3, H: 4, seed: 1)])
        for path in KernelPath.allCases {
            let engine = try FastEngine(model, kernels: path)
            #expect(engine.kernelPath == (path.isSupported ? path : .best))
        }
    }

    @Test(arguments: EngineFixture.all, KernelPath.supported)
    func everyFixtureOnEveryPath(_ fixture: EngineFixture, _ path: KernelPath) throws {
        let (model, input, expected) = try fixture.load()
        let fast = try FastEngine(model, kernels: path).run(input)
        let reference = try ReferenceEngine(model).run(input)
        let error = Comparison(actual: fast.output, expected: expected, atol: fixture.tolerance.atol, rtol: 0)
        #expect(error.isWithinTolerance, "\(path) vs \(fixture.framework): \(error)")
        let agreement = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
        #expect(agreement.isWithinTolerance, "\(path) vs reference: \(agreement)")
    }

    @Test(arguments: agreementCases, KernelPath.supported)
    func everyVariantOnEveryPath(_ engineCase: EngineCase, _ path: KernelPath) throws {
        let reference = try ReferenceEngine(engineCase.model).run(engineCase.input, initialStates: engineCase.initialStates)
        let fast = try FastEngine(engineCase.model, kernels: path).run(engineCase.input, initialStates: engineCase.initialStates)
        let comparison = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
        #expect(comparison.isWithinTolerance, "\(path): \(comparison)")
        for (key, expected) in reference.finalStates {
            let actual = try #require(fast.finalStates[key])
            #expect(Comparison(actual: actual.STM, expected: expected.STM, atol: 1e-5, rtol: 0).isWithinTolerance, "\(path) \(key)")
        }
    }

    /// Layers large enough that products are split over threads, with widths that leave a partial 32-column panel
    /// and row counts that leave partial micro-kernel row blocks.
    static let largeModels: [(name: String, model: Model, batch: Int)] = [
        ("lstm 128, bidirectional", Model(layers: [recurrent(.lstm, I: 70, H: 128, directions: 2, seed: 81)]), 3),
        ("lstm 100 → dense", Model(layers: [
            recurrent(.lstm, I: 33, H: 100, returnSequences: false, seed: 82),
            GoldenModels.filled(.dense(DenseLayer(inputSize: 100, units: 45, activation: .tanh, parameters: ParameterSet())), seed: 83),
        ]), 9),
        ("lstm 96 projection 40", Model(layers: [recurrent(.lstm, I: 24, H: 96, P: 40, seed: 84)]), 2),
        ("gru 110 reset before", Model(layers: [recurrent(.gru, I: 50, H: 110, reset: .before, seed: 85)]), 1),
        ("gru 110 reset after", Model(layers: [recurrent(.gru, I: 50, H: 110, reset: .after, seed: 86)]), 11),
    ]

    @Test(arguments: 0..<largeModels.count, KernelPath.supported)
    func largeLayersOnEveryPathAndThreadCount(_ index: Int, _ path: KernelPath) throws {
        let (name, model, batch) = Self.largeModels[index]
        guard case .recurrent(let first) = model.layers[0] else { return }
        let input = features(batch: batch, time: 6, size: first.inputSize, seed: 90 + UInt64(index))
        let reference = try ReferenceEngine(model).run(input)
        for threads in [1, 2] {
            let fast = try FastEngine(model, kernels: path, threads: threads).run(input)
            let comparison = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
            #expect(comparison.isWithinTolerance, "\(name), \(path), \(threads) threads: \(comparison)")
        }
    }
}
