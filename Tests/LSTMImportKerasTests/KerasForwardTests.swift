import Foundation
import LSTMEngine
import LSTMImportKeras
import LSTMModel
import NumPyIO
import LSTMTestSupport
import Testing

/// One fixture source run by one engine.
struct KerasForwardCase: Sendable, CustomTestStringConvertible {
    var source: KerasFixtureSource
    var engine: Engine
    var testDescription: String { "\(source.testDescription) on \(engine.rawValue)" }

    static let all: [KerasForwardCase] = KerasFixtures.sources.flatMap { source in
        Engine.allCases.map { KerasForwardCase(source: source, engine: $0) }
    }
}

@Suite("Keras imports reproduce Keras' own model.predict")
struct KerasForwardTests {
    /// The bound for float32 Keras outputs (issue #5).
    static let bound = 1e-5

    @Test("max abs error against expected.npy ≤ 1e-5", arguments: KerasForwardCase.all)
    func forwardPass(testCase: KerasForwardCase) throws {
        let fixture = try testCase.source.fixture
        let folder = KerasFixtures.directory.appendingPathComponent(fixture.case)
        let model = try KerasImporter.importFile(at: testCase.source.file, options: KerasImportOptions(config: testCase.source.config)).model
        let input = try NumPyArray(contentsOf: folder.appendingPathComponent(fixture.input.file))
        let expected = try NumPyArray(contentsOf: folder.appendingPathComponent(fixture.expected.file))
        #expect(input.shape == fixture.input.shape)
        let forwardInput: ForwardInput
        if let ids = input.integers, case .embedding = model.layers.first {
            forwardInput = .tokens(try NDArray(shape: input.shape, scalars: ids))
        } else {
            forwardInput = .float32(try NDArray(shape: input.shape, scalars: input.floats))
        }
        let output = try testCase.engine.run(model, input: forwardInput).output
        try #require(output.shape == expected.shape, "output \(output.shape), expected \(expected.shape)")
        let reference = expected.doubles
        var worst = 0.0
        for (actual, wanted) in zip(output.scalars, reference) {
            worst = max(worst, abs(actual - wanted))
        }
        #expect(worst <= Self.bound, "max abs error \(worst) on \(testCase.testDescription)")
        // The comparison is meaningful: outputs are not all (near) zero.
        #expect(reference.contains { abs($0) > 1e-3 })
    }
}
