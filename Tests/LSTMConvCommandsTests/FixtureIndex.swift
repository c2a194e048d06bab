import Foundation

/// `Fixtures/index.json`: every framework case and every bad file the fixture generator wrote.
struct FixtureIndex: Decodable {
    struct ArraySpec: Decodable {
        var file: String
        var dtype: String
        var shape: [Int]
    }

    struct Tolerance: Decodable {
        var atol: Double
        var reference_atol: Double
    }

    struct Case: Decodable {
        /// `keras/<name>`, `pytorch/<name>` or `numpy/<name>`.
        var path: String
        var framework: String
        /// Role (`h5`, `keras`, `weights_h5`, `config_json`, `pt`, `safetensors`, `ours`) → file name.
        var files: [String: String]
        var input: ArraySpec
        var expected: ArraySpec
        var tolerance: Tolerance

        func url(_ file: String) -> URL { CLI.fixture(path).appendingPathComponent(file) }
        var inputURL: URL { url(input.file) }
        var expectedURL: URL { url(expected.file) }

        /// The case's `case.json`.
        var details: [String: Any] {
            guard let data = try? Data(contentsOf: url("case.json")),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
            return object
        }

        /// The import flags the case states: `--module`/`--head` from `import_options`, and `--last-step` when
        /// the head reads only the last step.
        var importFlags: [String] {
            let details = details
            var flags: [String] = []
            let options = details["import_options"] as? [String: String] ?? [:]
            for key in options.keys.sorted() { flags += ["--\(key)", options[key] ?? ""] }
            if let head = details["head"] as? [String: Any], head["applied_to"] as? String == "last_step" {
                flags.append("--last-step")
            }
            return flags
        }

        /// `expected_layers` of `case.json`: the layer attributes the importer must produce.
        var expectedLayers: [[String: Any]] { details["expected_layers"] as? [[String: Any]] ?? [] }
    }

    var cases: [Case]
    /// Framework → bad files, relative to `Fixtures/`.
    var bad: [String: [String]]

    static let shared: FixtureIndex = {
        do {
            let data = try Data(contentsOf: CLI.fixture("index.json"))
            return try JSONDecoder().decode(FixtureIndex.self, from: data)
        } catch {
            // An unreadable index yields no cases; `indexIsComplete` then fails loudly.
            return FixtureIndex(cases: [], bad: [:])
        }
    }()

    static func cases(_ framework: String) -> [String] {
        shared.cases.filter { $0.path.hasPrefix(framework + "/") }.map(\.path)
    }

    static func `case`(_ path: String) -> Case? { shared.cases.first { $0.path == path } }

    static var badFiles: [String] { shared.bad.keys.sorted().flatMap { shared.bad[$0] ?? [] } }
}

/// A golden file's `*.expected.json` (written by `Fixtures/golden/decode_lstmw.py`, an independent decoder).
struct GoldenExpectation: Decodable {
    struct Entry: Decodable {
        var key: String
        var value: JSONScalar
    }

    struct TensorEntry: Decodable {
        var path: String
        var dtype: String
        var shape: [Int]
        var crc32: UInt32
        var source: String
        var values: [Double]
    }

    var metadata: [Entry]
    var tensors: [TensorEntry]

    static func load(_ name: String) throws -> GoldenExpectation {
        let data = try Data(contentsOf: CLI.fixture("golden/\(name).expected.json"))
        return try JSONDecoder().decode(GoldenExpectation.self, from: data)
    }
}

/// A JSON scalar (metadata values).
enum JSONScalar: Decodable, Equatable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    /// Numbers compare by value (`0` and `0.0` are equal).
    func matches(_ other: JSONScalar) -> Bool {
        switch (self, other) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): Double(a) == b
        default: self == other
        }
    }
}

/// What `lstmconv inspect --json` prints.
struct InspectJSON: Decodable {
    struct TensorEntry: Decodable {
        var path: String
        var layer: Int
        var direction: String?
        var name: String
        var shape: [Int]
        var dtype: String
        var crc32: String
        var source: String?
    }

    var file: String
    var encoding: String
    var file_size: Int
    var attributes: [String: JSONScalar]
    var layers: [[String: JSONScalar]]
    var tensors: [TensorEntry]
}
