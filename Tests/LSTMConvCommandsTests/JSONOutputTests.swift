import Foundation
import Testing

/// `--json` on every command: one JSON document with the keys its published schema requires (spec/schemas/; the
/// full JSON Schema validation is python/tests/test_cli_json.py), `inspect` of every importable source kind, and
/// the conveniences (`--version`, completions, worked examples in the help).
@Suite("--json, inspect of any source, version, completions, examples")
struct JSONOutputTests {
    static let schemas = CLI.packageRoot.appendingPathComponent("spec/schemas")

    /// The `required` keys of a published schema.
    static func required(_ name: String) throws -> (required: [String], document: [String: Any]) {
        let data = try Data(contentsOf: schemas.appendingPathComponent("\(name).schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name).schema.json is not an object")
        #expect(schema["$schema"] as? String == "https://json-schema.org/draft/2020-12/schema")
        let properties = try #require(schema["properties"] as? [String: Any])
        let required = try #require(schema["required"] as? [String])
        for key in required { #expect(properties[key] != nil, "\(name): required \(key) has no property") }
        return (required, schema)
    }

    /// Parses stdout as exactly one JSON object and checks it carries `name`'s required keys.
    static func expectDocument(_ result: CLI.Result, schema name: String, command: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
        let document = try #require(object as? [String: Any], "\(result)")
        for key in try required(name).required { #expect(document[key] != nil, "\(name): \(key) missing\n\(result)") }
        #expect(document["command"] as? String == command, "\(result)")
        #expect(document["schema_version"] as? Int == 1, "\(result)")
        return document
    }

    @Test("every command and the error have a schema that parses", arguments: HelpTests.commands + ["error"])
    func schemaParses(_ name: String) throws {
        let (required, schema) = try Self.required(name)
        #expect(required.contains("command") && required.contains("schema_version"))
        #expect((schema["$id"] as? String)?.hasPrefix("urn:lstmconv:cli:1:") == true)
    }

    @Test("every command prints one document with its schema's required keys")
    func everyCommand() async throws {
        try await withScratch { scratch in
            let keras = "keras/k3_stacked_lstm_dense"
            let model = CLI.fixture("\(keras)/model.h5").path
            let input = CLI.fixture("\(keras)/input.npy").path
            let expected = CLI.fixture("\(keras)/expected.npy").path
            let runs: [(String, [String])] = [
                ("import", ["import", model, "-o", scratch.path("m.lstmw")]),
                ("inspect", ["inspect", scratch.path("m.lstmw")]),
                ("verify", ["verify", scratch.path("m.lstmw")]),
                ("convert", ["convert", scratch.path("m.lstmw"), "-o", scratch.path("m.h5")]),
                ("run", ["run", model, "--input", input, "--output", scratch.path("y.npy")]),
                ("validate", ["validate", model, "--input", input, "--expected", expected]),
                ("export", ["export", model, "--to", "onnx", "-o", scratch.path("m.onnx")]),
                ("explain", ["explain", model, "--input", input]),
            ]
            for (command, arguments) in runs {
                let result = try await CLI.run(arguments + ["--json"])
                #expect(result.status == Exit.success, "\(result)")
                _ = try Self.expectDocument(result, schema: command, command: command)
            }
            // verify's document lists every tensor inspect lists.
            let inspect = try Self.expectDocument(try await CLI.run(["inspect", "--json", scratch.path("m.lstmw")]), schema: "inspect", command: "inspect")
            let verify = try Self.expectDocument(try await CLI.run(["verify", "--json", scratch.path("m.lstmw")]), schema: "verify", command: "verify")
            let inspected = (inspect["tensors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
            let verified = (verify["tensors"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String }
            #expect(!inspected.isEmpty && inspected == verified)
        }
    }

    @Test("a failure under --json is an error document on stdout, with the usual exit code and stderr line", arguments: [
        (["inspect", "missing.lstmw"], Exit.missingInput, "no such file"),
        (["convert", "Fixtures/golden/small_lstm.lstmw", "-o", "Fixtures/golden/small_lstm.lstmw"], Exit.cannotCreateOutput, "output exists"),
        (["verify", "--bogus"], Exit.usage, "usage"),
    ])
    func errorDocument(_ arguments: [String], _ status: Int32, _ code: String) async throws {
        let result = try await CLI.run(arguments + ["--json"])
        #expect(result.status == status, "\(result)")
        let document = try Self.expectDocument(result, schema: "error", command: arguments[0])
        let error = try #require(document["error"] as? [String: Any])
        #expect(error["code"] as? String == code, "\(result)")
        #expect(error["exit_code"] as? Int == Int(status))
        for key in ["file", "location", "expected", "found", "hint"] { #expect(error.keys.contains(key), "\(key) missing: \(result)") }
        #expect(!result.stderr.isEmpty)
    }

    @Test("inspect reads every importable source kind in memory and shows the layer table with the source's names", arguments: [
        ("keras/k3_text_embedding_lstm_softmax/model.h5", [String](), ["embedding", "lstm", "dense"]),
        ("keras/k3_text_embedding_lstm_softmax/model.keras", [], ["embedding", "lstm", "dense"]),
        ("keras/k3_stacked_lstm_dense/model.weights.h5", ["--config", "Fixtures/keras/k3_stacked_lstm_dense/model.json"], ["dense"]),
        ("pytorch/prefixed_head_last/model.pt", ["--module", "encoder.rnn", "--head", "head", "--last-step"], ["encoder.rnn", "head"]),
        ("pytorch/lstm_2layer/model.safetensors", [], ["(top level)[0]", "(top level)[1]"]),
        ("onnx/torch_embedding_lstm_linear_softmax/model.onnx", [], ["/embedding/Gather", "/rnn/LSTM", "/head/Gemm"]),
    ])
    func inspectAnySource(_ file: String, _ options: [String], _ names: [String]) async throws {
        let result = try await CLI.run(["inspect", CLI.fixture(file).path] + options)
        #expect(result.status == Exit.success, "\(result)")
        let lines = result.stdoutLines
        #expect(lines.first?.contains("imported in memory") == true, "\(result)")
        let header = try #require(lines.firstIndex { $0.hasPrefix("  #  name") }, "\(result)")
        for column in ["kind", "input", "output", "params"] { #expect(lines[header].contains(column)) }
        let total = try #require(lines.firstIndex { $0.hasPrefix("  total: ") }, "\(result)")
        let rows = lines[(header + 1)..<total]
        #expect(rows.count == lines.filter { $0.hasPrefix("layer ") }.count, "\(result)")
        for name in names { #expect(rows.contains { $0.contains(" \(name) ") }, "\(name) missing\n\(result)") }
        #expect(rows.allSatisfy { $0.contains("[batch") }, "symbolic batch axis\n\(result)")
        // The parameters add up to the total, which counts every tensor's elements.
        let counts = rows.compactMap { $0.split(separator: " ").last.flatMap { Int($0) } }
        let totalLine = lines[total].split(separator: " ")
        #expect(counts.reduce(0, +) == Int(totalLine[1]), "\(result)")
        #expect(lines.contains("tensors:") && lines.contains("provenance:"), "\(result)")
        #expect(!result.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        // Readable at 100 columns: only the header (it starts with the path) and the tensor table (long source names
        // widen its last column) may be wider; the hyperparameter lines wrap.
        let tensors = try #require(lines.firstIndex(of: "tensors:"))
        let provenance = try #require(lines.firstIndex(of: "provenance:"))
        for (number, line) in lines.enumerated() where number > 0 && !(tensors..<provenance).contains(number) {
            #expect(line.count <= 100 || !line.contains(" "), "line \(number) is \(line.count) wide\n\(result)")
        }
    }

    @Test("--version names the format versions read and written")
    func version() async throws {
        let result = try await CLI.run(["--version"])
        #expect(result.status == Exit.success, "\(result)")
        let lines = result.stdoutLines
        #expect(lines.count == 3, "\(result)")
        #expect(lines.first?.hasPrefix("lstmconv ") == true)
        #expect(lines.contains { $0.hasPrefix("format: reads lstmconv 1.x (.lstmw and HDF5), schema 1–2; writes 1.0") }, "\(result)")
        #expect(lines.contains("json: schema_version 1 (spec/schemas)"), "\(result)")
    }

    @Test("completion scripts list every subcommand", arguments: ["bash", "zsh", "fish"])
    func completions(_ shell: String) async throws {
        let result = try await CLI.run(["--generate-completion-script", shell])
        #expect(result.status == Exit.success, "\(result)")
        for command in HelpTests.commands { #expect(result.stdout.contains(command), "\(shell): \(command) missing") }
        #expect(result.stdout.contains("json"), "\(shell)")
    }

    @Test("each command's long help ends with a worked example that runs", arguments: HelpTests.commands)
    func workedExample(_ command: String) async throws {
        let help = try await CLI.run([command, "--help"])
        let lines = help.stdoutLines
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "EXAMPLE:" }, "\(help)")
        // The help wraps at the terminal width: the example is every line up to the next blank one.
        let example = lines[(start + 1)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.joined(separator: " ")
        var words = example.split(separator: " ").map(String.init)
        #expect(words.first == "lstmconv" && words.dropFirst().first == command, "\(example)")
        // Run it in a scratch folder (outputs land there; fixture paths are made absolute).
        try await withScratch { scratch in
            words = Array(words.dropFirst()).map { $0.hasPrefix("Fixtures/") ? CLI.packageRoot.appendingPathComponent($0).path : $0 }
            let result = try await CLI.run(words, in: scratch.url)
            #expect(result.status == Exit.success, "\(example)\n\(result)")
        }
    }

    /// Runs `lstmconv inspect` on a pseudo-terminal (util-linux `script`, in Debian's essential bsdutils).
    static func inspectOnTerminal(noColor: String?) throws -> String {
        if let staleness = CLI.staleness { throw StaleExecutable(message: staleness) }
        let binary = try #require(CLI.executable)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", "'\(binary.path)' inspect '\(CLI.fixture("golden/small_lstm.lstmw").path)'", "/dev/null"]
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = noColor
        environment["TERM"] = "xterm"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test("inspect's headings are bold on a terminal, plain with NO_COLOR")
    func colourOnlyOnATerminal() throws {
        let coloured = try Self.inspectOnTerminal(noColor: nil)
        #expect(coloured.contains("\u{1B}[1mlayers:\u{1B}[0m") && coloured.contains("\u{1B}[1mtensors:\u{1B}[0m"), "\(coloured)")
        let plain = try Self.inspectOnTerminal(noColor: "1")
        #expect(plain.contains("layers:") && !plain.contains("\u{1B}["), "\(plain)")
    }
}
