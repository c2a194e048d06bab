import Foundation
import LSTMEngine
import LSTMHDF5
import LSTMModel
import NumPyIO
import Testing
import LSTMTestSupport

/// One case of `Fixtures/index.json` that has the model in our encoding (`ours.h5`, or `model.h5` for the numpy
/// cases): real framework output (Keras, tf-keras, PyTorch) or the independent NumPy reference (document variant).
struct EngineFixture: Sendable, CustomTestStringConvertible, Decodable {
    struct Array: Sendable, Decodable {
        var file: String
        var dtype: String
        var shape: [Int]
    }
    struct Tolerance: Sendable, Decodable {
        var atol: Double
        var reference_atol: Double
    }
    var path: String
    var framework: String
    var files: [String: String]
    var input: Array
    var expected: Array
    var tolerance: Tolerance

    var testDescription: String { path }
    var folder: URL { EngineFixture.root.appendingPathComponent(path) }

    static let root = FixturePaths.fixtures

    /// Every case with our encoding, in index order. Empty only if the index cannot be read (the tests then fail).
    static let all: [EngineFixture] = {
        struct Index: Decodable { var cases: [EngineFixture] }
        guard let data = try? Data(contentsOf: root.appendingPathComponent("index.json")),
            let index = try? JSONDecoder().decode(Index.self, from: data)
        else { return [] }
        return index.cases.filter { $0.files["ours"] != nil }
    }()

    func load() throws -> (model: Model, input: ForwardInput, expected: NDArray<Double>) {
        let model = try HDF5Encoding.read(from: folder.appendingPathComponent(files["ours"] ?? "ours.h5"))
        let inputArray = try NumPyArray(contentsOf: folder.appendingPathComponent(input.file))
        let expectedArray = try NumPyArray(contentsOf: folder.appendingPathComponent(expected.file))
        let forwardInput: ForwardInput
        if let ids = inputArray.integers {
            forwardInput = .tokens(try NDArray(shape: inputArray.shape, scalars: ids))
        } else {
            forwardInput = .float32(try NDArray(shape: inputArray.shape, scalars: inputArray.floats))
        }
        return (model, forwardInput, try NDArray(shape: expectedArray.shape, scalars: expectedArray.doubles))
    }
}

@Suite("Engines against the fixtures (real frameworks and the NumPy reference)")
struct FixtureTests {
    @Test func everyFixtureFamilyIsPresent() {
        let frameworks = Set(EngineFixture.all.map(\.framework))
        #expect(EngineFixture.all.count >= 60, "found \(EngineFixture.all.count) cases under \(EngineFixture.root.path)")
        #expect(frameworks.isSuperset(of: ["keras", "pytorch", "numpy-reference"]), "\(frameworks)")
    }

    @Test(arguments: EngineFixture.all)
    func bothEnginesReproduceTheExpectedOutput(_ fixture: EngineFixture) throws {
        let (model, input, expected) = try fixture.load()
        #expect(input.shape == fixture.input.shape)
        // The comparison is meaningful: the expected output is not all (near) zero.
        #expect(expected.scalars.contains { abs($0) > 1e-3 })

        let reference = try ReferenceEngine(model).run(input)
        let fast = try FastEngine(model).run(input)

        let referenceError = Comparison(actual: reference.output, expected: expected, atol: fixture.tolerance.reference_atol, rtol: 0)
        #expect(referenceError.isWithinTolerance, "reference vs \(fixture.framework): \(referenceError)")
        let fastError = Comparison(actual: fast.output, expected: expected, atol: fixture.tolerance.atol, rtol: 0)
        #expect(fastError.isWithinTolerance, "fast vs \(fixture.framework): \(fastError)")
        let agreement = Comparison(actual: fast.output, expected: reference.output, atol: 1e-5, rtol: 0)
        #expect(agreement.isWithinTolerance, "fast vs reference: \(agreement)")
        for (key, state) in reference.finalStates {
            let other = try #require(fast.finalStates[key])
            #expect(Comparison(actual: other.STM, expected: state.STM, atol: 1e-5, rtol: 0).isWithinTolerance, "\(key.name(.STM))")
            if let LTM = state.LTM, let otherLTM = other.LTM {
                #expect(Comparison(actual: otherLTM, expected: LTM, atol: 1e-5, rtol: 0).isWithinTolerance, "\(key.name(.LTM))")
            }
        }
    }
}
