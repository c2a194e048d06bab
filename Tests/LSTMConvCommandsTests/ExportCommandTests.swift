import ArgumentParser
import Foundation
import LSTMConvCommands
import Testing
import LSTMTestSupport

/// `lstmconv export` through the command parser: the documented exit codes and the written file.
@Suite("lstmconv export")
struct ExportCommandTests {
    static let root = FixturePaths.repositoryRoot

    static func fixture(_ path: String) -> String { root.appendingPathComponent("Fixtures/\(path)").path }

    /// Runs the command; returns the exit code it ends with (0 when it returns normally).
    static func run(_ arguments: [String]) -> Int32 {
        do {
            var command = try LSTMConvRoot.parseAsRoot(arguments)
            try command.run()
            return 0
        } catch {
            return LSTMConvRoot.exitCode(for: error).rawValue
        }
    }

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-export-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func writesAFileThenRefusesToReplaceItWithoutForce() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.safetensors").path
        let arguments = [
            "export", Self.fixture("pytorch/prefixed_head_last/model.safetensors"), "--to", "pytorch", "-o", out,
            "--module", "encoder.rnn", "--head", "head", "--last-step", "--prefix", "encoder.rnn",
        ]
        #expect(Self.run(arguments) == 0)
        let first = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(first.count > 8)
        #expect(Self.run(arguments) == 73)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == first)
        #expect(Self.run(arguments + ["--force"]) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == first, "the same model gives the same bytes")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.safetensors"])
    }

    @Test func exitCodes() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.safetensors").path
        // Not expressible in PyTorch (GRU reset before): bad input, nothing written.
        #expect(Self.run(["export", Self.fixture("keras/k3_gru_reset_before/model.h5"), "--to", "pytorch", "-o", out]) == 65)
        #expect(!FileManager.default.fileExists(atPath: out))
        // Missing input.
        #expect(Self.run(["export", folder.appendingPathComponent("absent.h5").path, "--to", "pytorch", "-o", out]) == 66)
        // Usage: not a .safetensors name, unknown target.
        #expect(Self.run(["export", Self.fixture("keras/k3_stacked_lstm_dense/model.h5"), "--to", "pytorch", "-o", folder.appendingPathComponent("x.pt").path]) == 64)
        #expect(Self.run(["export", Self.fixture("keras/k3_stacked_lstm_dense/model.h5"), "--to", "onnx", "-o", out]) == 64)
        // The output folder does not exist.
        #expect(Self.run(["export", Self.fixture("keras/k3_stacked_lstm_dense/model.h5"), "--to", "pytorch", "-o", folder.appendingPathComponent("no/out.safetensors").path]) == 73)
        // A Keras stack exports.
        #expect(Self.run(["export", Self.fixture("keras/k3_stacked_lstm_dense/model.h5"), "--to", "pytorch", "-o", out, "--prefix", "rnn"]) == 0)
    }
}
