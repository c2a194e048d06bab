import Foundation
import LSTMConv
import LSTMConvCommands
import Testing

/// The exit codes and file rules of spec/cli.md, command by command.
@Suite("exit codes and output rules")
struct ExitCodeTests {
    static let golden = CLI.fixture("golden/small_lstm.lstmw").path
    static let lstmCase = "pytorch/lstm_1layer"

    @Test("spec/cli.md's exit code table is the one the code uses")
    func specTableMatchesCode() throws {
        let spec = try String(contentsOf: CLI.packageRoot.appendingPathComponent("spec/cli.md"), encoding: .utf8)
        var table: [Int32: String] = [:]
        for line in spec.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if let code = Int32(cells.first ?? "") { table[code] = cells.dropFirst().first }
        }
        let code: [(Int32, Int32)] = [
            (ExitStatus.success.rawValue, Exit.success), (ExitStatus.mismatch.rawValue, Exit.mismatch),
            (ExitStatus.usage.rawValue, Exit.usage), (ExitStatus.badInput.rawValue, Exit.badInput),
            (ExitStatus.missingInput.rawValue, Exit.missingInput),
            (ExitStatus.cannotCreateOutput.rawValue, Exit.cannotCreateOutput),
        ]
        for (inCode, inTests) in code {
            #expect(inCode == inTests)
            #expect(table[inTests] != nil, "spec/cli.md has no row for exit \(inTests)")
        }
        #expect(Set(table.keys) == Set(code.map(\.1) + [ExitStatus.internalError.rawValue]))
    }

    // MARK: - 64 usage

    static let usageErrors: [[String]] = [
        ["inspect", "--bogus", golden],
        ["inspect"],
        ["frobnicate", golden],
        ["convert", golden],
        ["convert", golden, "-o", "x.h5", "--dtype", "f8"],
        ["convert", golden, "-o", "x.lstmw", "--compress"],
        ["import", CLI.fixture("pytorch/lstm_1layer/model.pt").path, "-o", "x.lstmw", "--compress"],
        ["import", golden, "--from", "tensorflow"],
        ["run", golden, "--input", "x.npy"],
        ["run", golden, "--input", "x.npy", "--output", "y.npy", "--engine", "gpu"],
        ["run", golden, "--input", "x.npy", "--output", "y.npy", "--states", "y.npy"],
        ["validate", golden, "--input", "x.npy"],
        ["validate", golden, "--input", "x.npy", "--expected", "y.npy", "--atol", "-1"],
        ["validate", golden, "--input", "x.npy", "--expected", "y.npy", "--rtol", "nan"],
    ]

    @Test("usage errors exit 64 with a usage line and touch nothing", arguments: usageErrors)
    func usage(_ arguments: [String]) async throws {
        try await withScratch { scratch in
            let result = try await CLI.run(arguments, in: scratch.url)
            #expect(result.status == Exit.usage, "\(result)")
            #expect(result.stderr.contains("Usage:") || result.stderr.contains("Help:"), "\(result)")
            #expect(try CLI.listing(scratch.url).isEmpty)
        }
    }

    // MARK: - 66 missing input

    static let missingInputs: [(arguments: [String], missing: String)] = {
        let fixture = FixtureIndex.case(lstmCase)
        let input = fixture?.inputURL.path ?? ""
        let expected = fixture?.expectedURL.path ?? ""
        let model = fixture?.url("model.pt").path ?? ""
        return [
            (["inspect", "nope.lstmw"], "nope.lstmw"),
            (["verify", "nope.h5"], "nope.h5"),
            (["convert", "nope.lstmw", "-o", "out.h5"], "nope.lstmw"),
            (["import", "nope.pt"], "nope.pt"),
            (["import", CLI.fixture("keras/k3_stacked_lstm_dense/model.weights.h5").path, "--config", "nope.json", "-o", "out.lstmw"], "nope.json"),
            (["run", "nope.lstmw", "--input", input, "--output", "y.npy"], "nope.lstmw"),
            (["run", model, "--input", "nope.npy", "--output", "y.npy"], "nope.npy"),
            (["run", model, "--input", input, "--output", "y.npy", "--initial-states", "nope.npz"], "nope.npz"),
            (["validate", model, "--input", input, "--expected", "nope.npy"], "nope.npy"),
            (["validate", model, "--input", "nope.npy", "--expected", expected], "nope.npy"),
            (["inspect", "."], "."),
            (["export", "nope.lstmw", "--to", "pytorch", "-o", "out.safetensors"], "nope.lstmw"),
        ]
    }()

    @Test("a missing input exits 66 with one line naming it, and nothing is written", arguments: missingInputs)
    func missingInput(_ arguments: [String], _ missing: String) async throws {
        try await withScratch { scratch in
            let result = try await CLI.run(arguments, in: scratch.url)
            #expect(result.status == Exit.missingInput, "\(result)")
            expectOneErrorLine(result, naming: missing)
            #expect(try CLI.listing(scratch.url).isEmpty)
        }
    }

    // MARK: - 73 existing output

    /// A command that writes `output` inside the scratch folder.
    struct Writer: Sendable, CustomTestStringConvertible {
        var name: String
        var output: String
        var arguments: @Sendable (Scratch) -> [String]
        var testDescription: String { name }
    }

    static let writers: [Writer] = {
        let fixture = FixtureIndex.case(lstmCase)
        let input = fixture?.inputURL.path ?? ""
        let pt = fixture?.url("model.pt").path ?? ""
        return [
            Writer(name: "import", output: "out.lstmw") { ["import", pt, "-o", $0.path("out.lstmw")] },
            Writer(name: "import to HDF5", output: "out.h5") { ["import", pt, "-o", $0.path("out.h5")] },
            Writer(name: "convert", output: "out.h5") { ["convert", golden, "-o", $0.path("out.h5")] },
            Writer(name: "convert to .lstmw", output: "out.lstmw") { ["convert", CLI.fixture("hdf5/golden/small_lstm.h5").path, "-o", $0.path("out.lstmw")] },
            Writer(name: "export", output: "out.safetensors") { ["export", pt, "--to", "pytorch", "-o", $0.path("out.safetensors")] },
            Writer(name: "run --output", output: "y.npy") { ["run", pt, "--input", input, "--output", $0.path("y.npy")] },
            Writer(name: "run --states", output: "s.npz") {
                ["run", pt, "--input", input, "--output", $0.path("y.npy"), "--states", $0.path("s.npz")]
            },
        ]
    }()

    @Test("an existing output without --force exits 73 and stays byte-for-byte untouched; --force replaces it", arguments: writers)
    func existingOutput(_ writer: Writer) async throws {
        try await withScratch { scratch in
            let placeholder = Data("precious, not to be replaced\n".utf8)
            let target = URL(fileURLWithPath: scratch.path(writer.output))
            try placeholder.write(to: target)
            let before = try CLI.listing(scratch.url)

            let refused = try await CLI.run(writer.arguments(scratch))
            #expect(refused.status == Exit.cannotCreateOutput, "\(refused)")
            expectOneErrorLine(refused, naming: writer.output)
            #expect(refused.stderr.contains("--force"), "the error should say how to replace it\n\(refused)")
            #expect(try Data(contentsOf: target) == placeholder)
            #expect(try CLI.listing(scratch.url) == before, "a refused command left a file behind")

            let forced = try await CLI.run(writer.arguments(scratch) + ["--force"])
            #expect(forced.status == Exit.success, "\(forced)")
            let replaced = try Data(contentsOf: target)
            #expect(replaced != placeholder)
            if writer.output.hasSuffix(".npy") {
                #expect(try NumPyArray(npyData: replaced).shape == [3, 5, 5])
            } else if writer.output.hasSuffix(".safetensors") {
                // An 8-byte little-endian header length, then that much JSON.
                let length = replaced.prefix(8).reversed().reduce(0) { $0 << 8 | Int($1) }
                #expect(length > 0 && 8 + length <= replaced.count)
                #expect((try? JSONSerialization.jsonObject(with: replaced.dropFirst(8).prefix(length))) is [String: Any])
            } else if writer.output.hasSuffix(".npz") {
                #expect(try NPZArchive(npzData: replaced).names.count == 2)
            } else {
                #expect(try Checkpoint.load(target).layers.count == 1)
            }
            #expect(try CLI.listing(scratch.url).allSatisfy { !$0.hasPrefix(".") }, "no temporary file remains")
        }
    }

    @Test("an output in a missing folder, or over a folder, exits 73 before any work")
    func uncreatableOutput() async throws {
        try await withScratch { scratch in
            try FileManager.default.createDirectory(atPath: scratch.path("folder"), withIntermediateDirectories: false)
            for output in [scratch.path("missing/out.lstmw"), scratch.path("folder")] {
                let result = try await CLI.run(["convert", Self.golden, "-o", output, "--encoding", "binary"])
                #expect(result.status == Exit.cannotCreateOutput, "\(result)")
                expectOneErrorLine(result, naming: output)
            }
            #expect(try CLI.listing(scratch.url) == ["folder"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path("folder")).isEmpty)
        }
    }

    @Test("import never replaces its own source, even with --force")
    func importKeepsSource() async throws {
        try await withScratch { scratch in
            let source = try scratch.copy(CLI.fixture("keras/k3_gru_reset_before/model.h5"), as: "model.h5")
            let original = try Data(contentsOf: URL(fileURLWithPath: source))
            let result = try await CLI.run(["import", "model.h5", "--encoding", "hdf5", "--force"], in: scratch.url)
            #expect(result.status == Exit.cannotCreateOutput, "\(result)")
            expectOneErrorLine(result, naming: "model.h5")
            #expect(try Data(contentsOf: URL(fileURLWithPath: source)) == original)
            #expect(try CLI.listing(scratch.url) == ["model.h5"])
        }
    }

    // MARK: - 2 validate mismatch

    @Test("validate: the expected output of another case of the same shape is a mismatch (exit 2), with the errors printed")
    func expectedFromAnotherCase() async throws {
        let model = try #require(FixtureIndex.case("pytorch/lstm_1layer"))
        let other = try #require(FixtureIndex.case("pytorch/gru_1layer"))
        #expect(model.expected.shape == other.expected.shape && model.input.shape == other.input.shape)
        for engine in ["fast", "reference"] {
            let result = try await CLI.run([
                "validate", model.url("model.pt").path, "--input", model.inputURL.path, "--expected", other.expectedURL.path,
                "--engine", engine,
            ])
            #expect(result.status == Exit.mismatch, "\(result)")
            #expect(result.stdoutLines.contains { $0.hasPrefix("max abs error: ") }, "\(result)")
            #expect(result.stdoutLines.contains { $0.hasPrefix("worst element: [") }, "\(result)")
            expectOneErrorLine(result, naming: "model.pt")
            #expect(result.stderr.contains("outside atol"), "\(result)")
        }
    }

    @Test("validate: one perturbed element is found and reported as the worst element (exit 2); a tiny one passes")
    func perturbedExpected() async throws {
        let fixture = try #require(FixtureIndex.case("keras/k3_bigru_concat_seq"))
        let expected = try NumPyArray(contentsOf: fixture.expectedURL)
        #expect(expected.shape == [2, 6, 2])
        var values = expected.floats
        let index = [1, 4, 0]
        let offset = (index[0] * 6 + index[1]) * 2 + index[2]
        try await withScratch { scratch in
            values[offset] += 0.01
            try NumPyArray(shape: expected.shape, float32: values).write(to: URL(fileURLWithPath: scratch.path("far.npy")))
            values[offset] = expected.floats[offset] + 2e-6
            try NumPyArray(shape: expected.shape, float32: values).write(to: URL(fileURLWithPath: scratch.path("near.npy")))
            let model = fixture.url("model.keras").path
            let far = try await CLI.run(["validate", model, "--input", fixture.inputURL.path, "--expected", scratch.path("far.npy")])
            #expect(far.status == Exit.mismatch, "\(far)")
            #expect(far.stdoutLines.contains { $0.hasPrefix("worst element: \(index) ") }, "\(far)")
            #expect(far.stderr.contains("1 of 24 elements"), "\(far)")
            let near = try await CLI.run(["validate", model, "--input", fixture.inputURL.path, "--expected", scratch.path("near.npy")])
            #expect(near.status == Exit.success, "\(near)")
        }
    }

    @Test("validate: a shape mismatch exits 2 and is reported as such, not as numeric errors")
    func shapeMismatch() async throws {
        let model = try #require(FixtureIndex.case("pytorch/lstm_1layer"))
        let other = try #require(FixtureIndex.case("pytorch/lstm_proj"))
        #expect(model.expected.shape != other.expected.shape)
        let result = try await CLI.run([
            "validate", model.url("model.safetensors").path, "--input", model.inputURL.path, "--expected", other.expectedURL.path,
        ])
        #expect(result.status == Exit.mismatch, "\(result)")
        expectOneErrorLine(result, naming: "model.safetensors")
        #expect(result.stderr.contains("shape mismatch"), "\(result)")
        #expect(result.stderr.contains("\(model.expected.shape)") && result.stderr.contains("\(other.expected.shape)"), "\(result)")
        #expect(!result.stdout.contains("max abs error"), "\(result)")
    }

    @Test("an input that does not fit the model is bad input (65) naming the input file")
    func inputDoesNotFit() async throws {
        let model = try #require(FixtureIndex.case("pytorch/lstm_1layer"))
        let other = try #require(FixtureIndex.case("pytorch/lstm_3layer"))
        #expect(model.input.shape.last != other.input.shape.last)
        try await withScratch { scratch in
            let result = try await CLI.run([
                "run", model.url("model.pt").path, "--input", other.inputURL.path, "--output", scratch.path("y.npy"),
            ])
            #expect(result.status == Exit.badInput, "\(result)")
            expectOneErrorLine(result, naming: other.input.file)
            #expect(try CLI.listing(scratch.url).isEmpty)
        }
    }

    // MARK: - run --states

    @Test(
        "run --states writes layer_k/direction/STM|LTM; the last layer's final STM is PyTorch's output at the last (forward) and first (backward) step",
        arguments: ["pytorch/lstm_bidirectional_2layer", "pytorch/gru_2layer_bidirectional", "pytorch/lstm_1layer", "numpy/doc_embedding_stack_dense"])
    func runStates(_ path: String) async throws {
        let fixture = try #require(FixtureIndex.case(path))
        let model = fixture.url(fixture.files["pt"] ?? fixture.files["ours"] ?? "").path
        try await withScratch { scratch in
            let result = try await CLI.run([
                "run", model, "--input", fixture.inputURL.path, "--output", scratch.path("y.npy"), "--states", scratch.path("s.npz"),
                "--engine", "reference",
            ])
            #expect(result.status == Exit.success, "\(result)")
            #expect(try CLI.listing(scratch.url) == ["y.npy", "s.npz"])
            let states = try NPZArchive(contentsOf: URL(fileURLWithPath: scratch.path("s.npz")))

            var names: [String] = []
            var lastRecurrent: (index: Int, hidden: Int, directions: Int)?
            for (index, layer) in fixture.expectedLayers.enumerated() {
                guard let kind = layer["kind"] as? String, kind == "lstm" || kind == "gru" else { continue }
                let directions = layer["directions"] as? Int ?? 1
                let projection = layer["projection_size"] as? Int ?? 0
                let hidden = projection > 0 ? projection : (layer["hidden_size"] as? Int ?? 0)
                for direction in ["forward", "backward"].prefix(directions) {
                    names.append("layer_\(index)/\(direction)/STM")
                    if kind == "lstm" { names.append("layer_\(index)/\(direction)/LTM") }
                }
                lastRecurrent = (index, hidden, directions)
            }
            #expect(Set(states.names) == Set(names), "\(states.names)")
            let batch = fixture.input.shape[0]
            for name in states.names {
                #expect(try states.array(name).shape.first == batch, "\(name)")
            }

            // PyTorch's output of the last layer holds the forward STM at the last step and the backward STM at step 0.
            guard fixture.framework == "pytorch", let last = lastRecurrent else { return }
            let expected = try NumPyArray(contentsOf: fixture.expectedURL)
            let (steps, width) = (expected.shape[1], expected.shape[2])
            let h = last.hidden
            for (direction, step, column) in [("forward", steps - 1, 0), ("backward", 0, h)].prefix(last.directions) {
                let stm = try states.array("layer_\(last.index)/\(direction)/STM")
                #expect(stm.shape == [batch, h])
                var worst = 0.0
                for b in 0..<batch {
                    for j in 0..<h {
                        let want = expected.doubles[(b * steps + step) * width + column + j]
                        worst = max(worst, abs(stm.doubles[b * h + j] - want))
                    }
                }
                #expect(worst <= fixture.tolerance.reference_atol, "\(direction) STM differs from PyTorch's output by \(worst)")
            }
        }
    }

    @Test("run --initial-states with the zero states of --states' names gives the same output as no initial states")
    func zeroInitialStates() async throws {
        let fixture = try #require(FixtureIndex.case("pytorch/lstm_bidirectional"))
        let model = fixture.url("model.safetensors").path
        try await withScratch { scratch in
            let plain = try await CLI.run([
                "run", model, "--input", fixture.inputURL.path, "--output", scratch.path("plain.npy"), "--states", scratch.path("s.npz"),
            ])
            #expect(plain.status == Exit.success, "\(plain)")
            let states = try NPZArchive(contentsOf: URL(fileURLWithPath: scratch.path("s.npz")))
            var zeros = NPZArchive()
            for name in states.names {
                let shape = try states.array(name).shape
                zeros.set(name, try NumPyArray(shape: shape, float32: Array(repeating: 0, count: shape.reduce(1, *))))
            }
            try zeros.write(to: URL(fileURLWithPath: scratch.path("zeros.npz")))
            let seeded = try await CLI.run([
                "run", model, "--input", fixture.inputURL.path, "--output", scratch.path("seeded.npy"),
                "--initial-states", scratch.path("zeros.npz"),
            ])
            #expect(seeded.status == Exit.success, "\(seeded)")
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: scratch.path("seeded.npy")))
                    == Data(contentsOf: URL(fileURLWithPath: scratch.path("plain.npy"))))

            var wrong = NPZArchive()
            wrong.set("layer_7/forward/STM", try NumPyArray(shape: [3, 5], float32: Array(repeating: 0, count: 15)))
            try wrong.write(to: URL(fileURLWithPath: scratch.path("wrong.npz")))
            let refused = try await CLI.run([
                "run", model, "--input", fixture.inputURL.path, "--output", scratch.path("never.npy"),
                "--initial-states", scratch.path("wrong.npz"),
            ])
            #expect(refused.status == Exit.badInput, "\(refused)")
            expectOneErrorLine(refused, naming: "wrong.npz")
            #expect(!FileManager.default.fileExists(atPath: scratch.path("never.npy")))
        }
    }
}
