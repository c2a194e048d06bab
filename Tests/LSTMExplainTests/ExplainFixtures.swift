import Foundation
import LSTMEngine
import LSTMHDF5
import LSTMModel
import NumPyIO
import Testing

/// A case of `Fixtures/index.json` with the model in our encoding, loaded for tracing.
struct ExplainFixture: Sendable, CustomTestStringConvertible, Decodable {
    struct ArraySpec: Sendable, Decodable { var file: String }
    var path: String
    var files: [String: String]
    var input: ArraySpec

    var testDescription: String { path }

    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static let all: [ExplainFixture] = {
        struct Index: Decodable { var cases: [ExplainFixture] }
        guard let data = try? Data(contentsOf: root.appendingPathComponent("index.json")),
            let index = try? JSONDecoder().decode(Index.self, from: data)
        else { return [] }
        return index.cases.filter { $0.files["ours"] != nil }
    }()

    static func named(_ path: String) -> ExplainFixture? { all.first { $0.path == path } }

    var modelURL: URL { ExplainFixture.root.appendingPathComponent(path).appendingPathComponent(files["ours"] ?? "ours.h5") }
    var inputURL: URL { ExplainFixture.root.appendingPathComponent(path).appendingPathComponent(input.file) }

    func load() throws -> (model: Model, input: ForwardInput) {
        let model = try HDF5Encoding.read(from: modelURL)
        let array = try NumPyArray(contentsOf: inputURL)
        if let ids = array.integers {
            return (model, .tokens(try NDArray(shape: array.shape, scalars: ids)))
        }
        return (model, .float32(try NDArray(shape: array.shape, scalars: array.floats)))
    }
}

