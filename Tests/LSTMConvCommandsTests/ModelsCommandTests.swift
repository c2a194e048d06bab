import Foundation
import Testing

/// Issue 13's CLI options on the framework fixtures of `Fixtures/models/`: `validate` with the flags each case
/// needs passes (exit 0), and the wrong choice fails (exit 2), so each flag is shown to matter.
@Suite("lstmconv run/validate: last step vs final states, lengths, time-major")
struct ModelsCommandTests {
    static func validate(_ caseName: String, _ source: String, _ flags: [String], engine: String = "fast") async throws -> CLI.Result {
        let folder = "models/\(caseName)/"
        return try await CLI.run(
            ["validate", CLI.fixture(folder + source).path, "--input", CLI.fixture(folder + "input.npy").path,
             "--expected", CLI.fixture(folder + "expected.npy").path, "--rtol", "0", "--engine", engine] + flags)
    }

    @Test("bidirectional PyTorch: --last-step is output[:, -1], --final-states is h_n", arguments: ["fast", "reference"])
    func lastStepAgainstFinalStates(engine: String) async throws {
        try #require(CLI.staleness == nil, "\(CLI.staleness ?? "")")
        let lastStep = "torch_bilstm_head_last_step", finalStates = "torch_bilstm_head_final_states"
        let common = ["--module", "rnn", "--head", "head"]
        #expect(try await Self.validate(lastStep, "model.pt", common + ["--last-step"], engine: engine).status == Exit.success)
        #expect(try await Self.validate(lastStep, "model.pt", common + ["--final-states"], engine: engine).status == Exit.mismatch)
        #expect(try await Self.validate(finalStates, "model.pt", common + ["--final-states"], engine: engine).status == Exit.success)
        #expect(try await Self.validate(finalStates, "model.pt", common + ["--last-step"], engine: engine).status == Exit.mismatch)
        let both = try await Self.validate(lastStep, "model.pt", common + ["--last-step", "--final-states"], engine: engine)
        #expect(both.status == Exit.usage)
    }

    @Test("--lengths runs packed sequences; without it the padded steps are read", arguments: ["fast", "reference"])
    func lengths(engine: String) async throws {
        try #require(CLI.staleness == nil, "\(CLI.staleness ?? "")")
        let name = "torch_packed_bilstm_sequence"
        let lengths = CLI.fixture("models/\(name)/lengths.npy").path
        #expect(try await Self.validate(name, "model.pt", ["--lengths", lengths], engine: engine).status == Exit.success)
        #expect(try await Self.validate(name, "model.pt", [], engine: engine).status == Exit.mismatch)
        let missing = try await Self.validate(name, "model.pt", ["--lengths", "/nonexistent/lengths.npy"], engine: engine)
        #expect(missing.status == Exit.missingInput)
        let wrong = try await Self.validate(name, "model.pt", ["--lengths", CLI.fixture("models/\(name)/input.npy").path], engine: engine)
        #expect(wrong.status == Exit.badInput, "\(wrong)")
    }

    @Test("--time-major reads [T, B, F] and writes [T, B, ·]; a tf-keras time_major model needs no flag")
    func timeMajor() async throws {
        try #require(CLI.staleness == nil, "\(CLI.staleness ?? "")")
        #expect(try await Self.validate("torch_time_major_bilstm", "model.pt", ["--time-major"]).status == Exit.success)
        #expect(try await Self.validate("torch_time_major_bilstm", "model.pt", []).status == Exit.mismatch)
        #expect(try await Self.validate("tfk_time_major_lstm", "model.h5", []).status == Exit.success)
    }

    @Test("nn.RNN relu needs --nonlinearity relu; the float16 hint")
    func nonlinearityAndFloat16() async throws {
        try #require(CLI.staleness == nil, "\(CLI.staleness ?? "")")
        #expect(try await Self.validate("torch_rnn_relu", "model.pt", ["--nonlinearity", "relu"]).status == Exit.success)
        #expect(try await Self.validate("torch_rnn_relu", "model.pt", []).status == Exit.mismatch)
        let half = try await Self.validate("k3_mixed_float16_lstm", "model.keras", [])
        #expect(half.status == Exit.mismatch)
        #expect(half.stdout.contains("--atol 1e-2"), "\(half)")
        let halfJSON = try await Self.validate("k3_mixed_float16_lstm", "model.keras", ["--json"])
        #expect(halfJSON.status == Exit.mismatch)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(halfJSON.stdout.utf8)) as? [String: Any], "\(halfJSON)")
        #expect(document["passed"] as? Bool == false)
        #expect((document["hints"] as? [String])?.contains { $0.contains("--atol 1e-2") } == true, "\(halfJSON)")
        #expect(try await Self.validate("k3_mixed_float16_lstm", "model.keras", ["--atol", "1e-2"]).status == Exit.success)
    }
}
