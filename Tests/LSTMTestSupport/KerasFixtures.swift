import Foundation
import HDF5Bridge
import LSTMModel
import Testing

/// The Keras fixture cases under `Fixtures/keras/<case>/`, written by the fixture generator from real
/// Keras 3 and tf-keras (see each `case.json`).
public enum KerasFixtures {
    /// The repository root, found from this file's path.
    public static let root = FixturePaths.repositoryRoot
    public static let directory = root.appendingPathComponent("Fixtures/keras")

    /// Case folder names (those with a `case.json`), sorted.
    public static let caseNames: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: directory.appendingPathComponent("\($0)/case.json").path) }.sorted()
    }()

    /// Every importable source of every case: `model.h5`, `model.keras`, and weights file + config.
    public static let sources: [KerasFixtureSource] = caseNames.flatMap { name -> [KerasFixtureSource] in
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
    public static func sha256sum(_ url: URL) throws -> String {
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
public struct KerasFixtureSource: Sendable, CustomTestStringConvertible {
    public enum Kind: String, Sendable { case h5, archive = "keras", weightsWithConfig = "weights+config" }
    public var caseName: String
    public var kind: Kind
    public var file: URL
    public var config: URL?

    public var testDescription: String { "\(caseName) [\(kind.rawValue)]" }
    public var fixture: KerasCase { get throws { try KerasCase.load(caseName) } }
}

/// A fixture's `case.json`.
public struct KerasCase: Decodable, Sendable {
    public struct ArrayFile: Decodable, Sendable {
        public var file: String
        public var dtype: String
        public var shape: [Int]
    }

    public struct ExpectedLayer: Decodable, Sendable {
        public var kind: String
        public var input_size: Int
        public var hidden_size: Int?
        public var units: Int?
        public var vocabulary_size: Int?
        public var embedding_size: Int?
        public var directions: Int?
        public var merge_mode: String?
        public var return_sequences: Bool?
        public var go_backwards: Bool?
        public var activation: String?
        public var recurrent_activation: String?
        public var bias: String?
        public var reset: String?
        public var use_bias: Bool?
    }

    public struct KerasLayer: Decodable, Sendable {
        public var name: String
        public var `class`: String
    }

    public struct HardSigmoid: Decodable, Sendable {
        public var slope: Double
        public var offset: Double
    }

    public struct Tolerance: Decodable, Sendable {
        public var atol: Double
    }

    public var `case`: String
    public var framework_package: String
    public var framework_version: String
    public var keras_generation: Int?
    public var backend: String?
    public var model_class: String
    public var files: [String: String]
    public var input: ArrayFile
    public var expected: ArrayFile
    public var hard_sigmoid: HardSigmoid?
    public var tolerance: Tolerance
    public var expected_layers: [ExpectedLayer]
    public var keras_layers: [KerasLayer]

    public static func load(_ name: String) throws -> KerasCase {
        let data = try Data(contentsOf: KerasFixtures.directory.appendingPathComponent("\(name)/case.json"))
        return try JSONDecoder().decode(KerasCase.self, from: data)
    }

    /// The Keras layers that carry weights, in order: one per document layer (`Activation` layers fold into a Dense).
    public var weightedLayers: [KerasLayer] {
        keras_layers.filter { ["Embedding", "LSTM", "GRU", "CuDNNLSTM", "CuDNNGRU", "RNN", "Bidirectional", "Dense"].contains($0.class) }
    }
}

/// Reads raw datasets with HDF5Bridge, independently of the importer.
package enum KerasRawHDF5 {
    package static func floats(_ file: HDF5File, _ path: String) throws -> (shape: [Int], values: [Float]) {
        let dataset = try file.root().dataset(path)
        return (dataset.shape, try dataset.readFloats())
    }
}
