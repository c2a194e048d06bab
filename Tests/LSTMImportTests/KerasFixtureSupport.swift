import Foundation
import HDF5Bridge
import LSTMModel
import Testing
import LSTMTestSupport

/// The Keras fixture cases under `Fixtures/keras/<case>/`, written by the fixture generator from real
/// Keras 3 and tf-keras (see each `case.json`).
enum KerasFixtures {
    /// The repository root, found from this file's path.
    static let root = FixturePaths.repositoryRoot
    static let directory = root.appendingPathComponent("Fixtures/keras")

    /// Case folder names (those with a `case.json`), sorted.
    static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/case.json").path) }.sorted()
    }()

    /// Every importable source of every case: `model.h5`, `model.keras`, and weights file + config.
    static let sources: [KerasFixtureSource] = caseNames.flatMap { name -> [KerasFixtureSource] in
        guard let fixture = try? KerasCase.load(name) else { return [] }
        var result: [KerasFixtureSource] = []
        let folder = directory.appendingPathComponent(name)
        if let h5 = fixture.files["h5"] { result.append(KerasFixtureSource(caseName: name, kind: .h5, file: folder.appendingPathComponent(h5), config: nil)) }
        if let archive = fixture.files["keras"] {
            result.append(KerasFixtureSource(caseName: name, kind: .archive, file: folder.appendingPathComponent(archive), config: nil))
        }
        if let weights = fixture.files["weights_h5"], let config = fixture.files["config_json"] {
            result.append(
                KerasFixtureSource(
                    caseName: name, kind: .weightsWithConfig, file: folder.appendingPathComponent(weights),
                    config: folder.appendingPathComponent(config)))
        }
        return result
    }

    /// Lowercase hex SHA-256 by the system's `sha256sum` (independent of the importer's digest code).
    static func sha256sum(_ url: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}

/// One file (plus optional `--config`) to import.
struct KerasFixtureSource: Sendable, CustomTestStringConvertible {
    enum Kind: String, Sendable { case h5, archive = "keras", weightsWithConfig = "weights+config" }
    var caseName: String
    var kind: Kind
    var file: URL
    var config: URL?

    var testDescription: String { "\(caseName) [\(kind.rawValue)]" }
    var fixture: KerasCase { get throws { try KerasCase.load(caseName) } }
}

/// A fixture's `case.json`.
struct KerasCase: Decodable, Sendable {
    struct ArrayFile: Decodable, Sendable {
        var file: String
        var dtype: String
        var shape: [Int]
    }

    struct ExpectedLayer: Decodable, Sendable {
        var kind: String
        var input_size: Int
        var hidden_size: Int?
        var units: Int?
        var vocabulary_size: Int?
        var embedding_size: Int?
        var directions: Int?
        var merge_mode: String?
        var return_sequences: Bool?
        var go_backwards: Bool?
        var activation: String?
        var recurrent_activation: String?
        var bias: String?
        var reset: String?
        var use_bias: Bool?
    }

    struct KerasLayer: Decodable, Sendable {
        var name: String
        var `class`: String
    }

    struct HardSigmoid: Decodable, Sendable {
        var slope: Double
        var offset: Double
    }

    struct Tolerance: Decodable, Sendable {
        var atol: Double
    }

    var `case`: String
    var framework_package: String
    var framework_version: String
    var keras_generation: Int?
    var backend: String?
    var model_class: String
    var files: [String: String]
    var input: ArrayFile
    var expected: ArrayFile
    var hard_sigmoid: HardSigmoid?
    var tolerance: Tolerance
    var expected_layers: [ExpectedLayer]
    var keras_layers: [KerasLayer]

    static func load(_ name: String) throws -> KerasCase {
        let data = try Data(contentsOf: KerasFixtures.directory.appendingPathComponent("\(name)/case.json"))
        return try JSONDecoder().decode(KerasCase.self, from: data)
    }

    /// The Keras layers that carry weights, in order: one per document layer (`Activation` layers fold into a Dense).
    var weightedLayers: [KerasLayer] {
        keras_layers.filter { ["Embedding", "LSTM", "GRU", "CuDNNLSTM", "CuDNNGRU", "RNN", "Bidirectional", "Dense"].contains($0.class) }
    }
}

/// Reads raw datasets with HDF5Bridge, independently of the importer.
enum KerasRawHDF5 {
    static func floats(_ file: HDF5File, _ path: String) throws -> (shape: [Int], values: [Float]) {
        let dataset = try file.root().dataset(path)
        return (dataset.shape, try dataset.readFloats())
    }
}
