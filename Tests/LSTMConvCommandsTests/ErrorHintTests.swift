import Foundation
import LSTMConv
import Testing

/// Each error people hit in practice names its fix (spec/cli.md §Errors that say what to do next).
@Suite("errors that say what to do next")
struct ErrorHintTests {
    /// A PyTorch state_dict with nested prefixes (`model.embed`, `model.rnn`, `model.fc`), written by `export` from
    /// the Keras fixture Embedding → LSTM → Dense.
    static func nestedStateDict(in scratch: Scratch) async throws -> String {
        let output = scratch.path("nested.safetensors")
        let export = try await CLI.run([
            "export", CLI.fixture("keras/k3_text_embedding_lstm_softmax/model.h5").path, "--to", "pytorch", "-o", output,
            "--prefix", "model.rnn", "--head-prefix", "model.fc", "--embedding-prefix", "model.embed",
        ])
        #expect(export.status == Exit.success, "\(export)")
        return output
    }

    @Test("--module, --head and --embedding that name no module suggest the full prefix and list what was found", arguments: [
        (["--module", "rnn"], "did you mean `--module model.rnn`? recurrent modules found: model.rnn"),
        (["--head", "fc"], "did you mean `--head model.fc`? heads found: model.fc"),
        (["--embedding", "embed"], "did you mean `--embedding model.embed`? embeddings found: model.embed"),
    ])
    func didYouMean(_ flags: [String], _ hint: String) async throws {
        try await withScratch { scratch in
            let source = try await Self.nestedStateDict(in: scratch)
            let result = try await CLI.run(["import", source, "-o", scratch.path("out.lstmw")] + flags)
            #expect(result.status == Exit.badInput, "\(result)")
            expectOneErrorLine(result, naming: "nested.safetensors")
            #expect(result.stderr.contains(hint), "\(result)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path("out.lstmw")))
            // The same suggestion in the JSON error document.
            let json = try await CLI.run(["import", source, "-o", scratch.path("out.lstmw"), "--json"] + flags)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            let error = try #require(document["error"] as? [String: Any])
            #expect((error["message"] as? String)?.contains(hint) == true, "\(json)")
            #expect(error["exit_code"] as? Int == 65)
        }
    }

    @Test("the suggested prefixes are the ones that import")
    func suggestionsImport() async throws {
        try await withScratch { scratch in
            let source = try await Self.nestedStateDict(in: scratch)
            let result = try await CLI.run([
                "import", source, "-o", scratch.path("out.lstmw"), "--module", "model.rnn", "--head", "model.fc", "--embedding", "model.embed",
                "--last-step",
            ])
            #expect(result.status == Exit.success, "\(result)")
            #expect(result.stderr.isEmpty, "\(result)")
        }
    }

    @Test("import warns about a head it left out and says how to keep it")
    func headLeftOutIsAWarning() async throws {
        try await withScratch { scratch in
            let source = CLI.fixture("pytorch/prefixed_head_last/model.pt").path
            let result = try await CLI.run(["import", source, "-o", scratch.path("out.lstmw"), "--module", "encoder.rnn"])
            #expect(result.status == Exit.success, "\(result)")
            let warning = try #require(result.stderrLines.first { $0.hasPrefix("lstmconv: warning: ") }, "\(result)")
            #expect(warning.contains("`head`") && warning.contains("pass --head head to keep it"), "\(result)")
            #expect(result.stdout.contains("ignored source keys: head.weight, head.bias"), "\(result)")
            let json = try await CLI.run(["import", source, "-o", scratch.path("json.lstmw"), "--module", "encoder.rnn", "--json"])
            let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            #expect((document["warnings"] as? [String])?.first?.contains("pass --head head") == true, "\(json)")
        }
    }

    @Test("validate: every step vs one per sequence names --last-step")
    func lastStepHint() async throws {
        let folder = CLI.fixture("pytorch/prefixed_head_last")
        let result = try await CLI.run([
            "validate", folder.appendingPathComponent("model.pt").path, "--module", "encoder.rnn", "--head", "head",
            "--input", folder.appendingPathComponent("input.npy").path, "--expected", folder.appendingPathComponent("expected.npy").path,
        ])
        #expect(result.status == Exit.mismatch, "\(result)")
        expectOneErrorLine(result, naming: "shape mismatch")
        #expect(result.stderr.contains("the model produces [3, 5, 3]") && result.stderr.contains("holds [3, 3]"), "\(result)")
        #expect(result.stderr.contains("pass --last-step (output[:, -1]"), "\(result)")
    }

    @Test("validate on a bidirectional module names both --last-step and --final-states and how they differ")
    func bidirectionalHint() async throws {
        try await withScratch { scratch in
            let folder = CLI.fixture("pytorch/lstm_bidirectional")
            let input = try NumPyArray(contentsOf: folder.appendingPathComponent("input.npy"))
            let full = try NumPyArray(contentsOf: folder.appendingPathComponent("expected.npy"))
            #expect(full.shape.count == 3)
            let oneStep = try NumPyArray(shape: [full.shape[0], full.shape[2]], float32: Array(repeating: 0, count: full.shape[0] * full.shape[2]))
            try oneStep.npyData().write(to: URL(fileURLWithPath: scratch.path("last.npy")))
            #expect(input.shape[0] == full.shape[0])
            let result = try await CLI.run([
                "validate", folder.appendingPathComponent("model.pt").path, "--input", folder.appendingPathComponent("input.npy").path,
                "--expected", scratch.path("last.npy"),
            ])
            #expect(result.status == Exit.mismatch, "\(result)")
            #expect(result.stderr.contains("--last-step") && result.stderr.contains("--final-states"), "\(result)")
            #expect(result.stderr.contains("bidirectional, so the two differ"), "\(result)")
        }
    }

    @Test("token ids for a model without an embedding say which option imports one")
    func tokensWithoutEmbedding() async throws {
        try await withScratch { scratch in
            try NumPyArray(shape: [2, 3], int64: [1, 2, 3, 4, 5, 6]).npyData().write(to: URL(fileURLWithPath: scratch.path("ids.npy")))
            let result = try await CLI.run([
                "run", CLI.fixture("golden/small_lstm.lstmw").path, "--input", scratch.path("ids.npy"), "--output", scratch.path("y.npy"),
            ])
            #expect(result.status == Exit.badInput, "\(result)")
            expectOneErrorLine(result, naming: "ids.npy")
            #expect(result.stderr.contains("starts with lstm") && result.stderr.contains("--embedding PREFIX"), "\(result)")
        }
    }

    @Test("an input with the wrong feature size shows [batch, time, features] and mentions --time-major", arguments: [
        ([2, 5, 7], "has 7 features"), ([2, 3, 5], "looks like [batch, features, time]"), ([5, 3], "add the batch axis"),
    ])
    func featureMismatch(_ shape: [Int], _ detail: String) async throws {
        try await withScratch { scratch in
            let count = shape.reduce(1, *)
            try NumPyArray(shape: shape, float32: Array(repeating: 0.5, count: count)).npyData()
                .write(to: URL(fileURLWithPath: scratch.path("x.npy")))
            for command in [["run", "--output", scratch.path("y.npy")], ["explain"]] {
                let result = try await CLI.run(
                    [command[0], CLI.fixture("golden/small_lstm.lstmw").path, "--input", scratch.path("x.npy")] + command.dropFirst())
                #expect(result.status == Exit.badInput, "\(result)")
                expectOneErrorLine(result, naming: "x.npy")
                #expect(result.stderr.contains("the model reads [batch, time, 3]"), "\(result)")
                #expect(result.stderr.contains(detail), "\(result)")
                #expect(result.stderr.contains("pass --time-major for a [time, batch, features] array"), "\(result)")
            }
        }
    }

    @Test("--from that contradicts the content is refused, naming the kind found", arguments: [
        ("pytorch/lstm_1layer/model.pt", "safetensors", "--from pytorch"),
        ("pytorch/lstm_1layer/model.safetensors", "pytorch", "--from safetensors"),
        ("keras/k3_stacked_lstm_dense/model.h5", "onnx", "--from keras"),
        ("golden/small_lstm.lstmw", "keras", "drop --from"),
    ])
    func fromMismatch(_ file: String, _ from: String, _ fix: String) async throws {
        try await withScratch { scratch in
            for command in ["import", "inspect"] {
                var arguments = [command, CLI.fixture(file).path, "--from", from]
                if command == "import" { arguments += ["-o", scratch.path("out.lstmw")] }
                let result = try await CLI.run(arguments)
                #expect(result.status == Exit.badInput, "\(result)")
                expectOneErrorLine(result, naming: "source format mismatch")
                #expect(result.stderr.contains(fix), "\(result)")
            }
            #expect(try CLI.listing(scratch.url).isEmpty)
        }
    }

    @Test("verify and convert on a framework file say which commands read it", arguments: [
        "keras/k3_stacked_lstm_dense/model.h5", "pytorch/lstm_1layer/model.safetensors", "onnx/torch_gru_seq/model.onnx",
    ])
    func notACheckpoint(_ file: String) async throws {
        try await withScratch { scratch in
            for arguments in [["verify", CLI.fixture(file).path], ["convert", CLI.fixture(file).path, "-o", scratch.path("out.lstmw")]] {
                let result = try await CLI.run(arguments)
                #expect(result.status == Exit.badInput, "\(result)")
                expectOneErrorLine(result, naming: file)
                #expect(result.stderr.contains("not an lstmconv checkpoint: `lstmconv inspect` and `validate` read it in memory"), "\(result)")
                #expect(result.stderr.contains("`lstmconv import \(CLI.fixture(file).path)` writes a checkpoint that `\(arguments[0])` reads"), "\(result)")
            }
            #expect(try CLI.listing(scratch.url).isEmpty)
        }
    }
}
