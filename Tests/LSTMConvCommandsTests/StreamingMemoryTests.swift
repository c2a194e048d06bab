import Foundation
import LSTMConv
import LSTMModel
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `convert` streams: one tensor in memory at a time. A generated 4-layer LSTM(1536) of about 300 MB is
/// converted `.lstmw → .h5 → .lstmw` and each child's peak RSS (from `wait4`, that child alone) must stay under
/// half the model's size — a converter that holds the model (or the file) in memory needs at least its size.
/// The round trip must give back the same bytes. No timing is asserted.
@Suite("Streaming conversion stays in bounded memory", .serialized)
struct StreamingMemoryTests {
    static let layers = 4, hidden = 1536

    /// A model of zeros with the size of a real one: 4 × 4 gate weights of [H, 2H] float32 (about 302 MB).
    static func bigModel() throws -> Model {
        var built: [Layer] = []
        for _ in 0..<layers {
            var set = ParameterSet()
            for gate in [TensorRole.W_n, .W_i, .W_f, .W_v] {
                set.tensors[gate] = try Tensor(dtype: .f32, shape: [hidden, 2 * hidden], bytes: Data(count: hidden * 2 * hidden * 4))
            }
            for bias in [TensorRole.b_n, .b_i, .b_f, .b_v] {
                set.tensors[bias] = Tensor([Float](repeating: 0.25, count: hidden), shape: [hidden])
            }
            built.append(.recurrent(RecurrentLayer(
                cell: .lstm, inputSize: hidden, hiddenSize: hidden, directions: [set], returnSequences: true)))
        }
        return Model(layers: built)
    }

    /// Runs the built lstmconv with `arguments`; its exit status and peak resident set in bytes.
    static func run(_ arguments: [String], executable: URL) throws -> (status: Int32, peakRSS: Int) {
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exited, usage.ru_maxrss * 1024)  // ru_maxrss is in KiB on Linux
    }

    @Test(.enabled(if: CLI.executable != nil, "needs the built lstmconv"))
    func convertPeakRSSIsBelowHalfTheModel() async throws {
        let executable = try #require(CLI.executable)
        try await withScratch { scratch in
            let source = scratch.url.appendingPathComponent("big.lstmw")
            let model = try Self.bigModel()
            try Checkpoint.save(model, to: source)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
            #expect(size > 300_000_000, "the generated model has \(size) bytes")
            let largest = model.storedTensors.map(\.tensor.bytes.count).max() ?? 0
            let h5 = scratch.path("big.h5"), back = scratch.path("back.lstmw")
            for arguments in [["convert", source.path, "-o", h5, "--quiet"], ["convert", h5, "-o", back, "--quiet"]] {
                let (status, peak) = try Self.run(arguments, executable: executable)
                #expect(status == 0, "\(arguments)")
                // Half the model: what a converter holding the whole model or file could never stay under.
                #expect(peak < size / 2, "\(arguments[1]) → \(arguments[3]): peak RSS \(peak / 1_000_000) MB for a \(size / 1_000_000) MB model")
                #expect(peak > largest, "the peak (\(peak)) should at least hold one tensor (\(largest)): is RSS measured?")
            }
            #expect(FileManager.default.contentsEqual(atPath: source.path, andPath: back))
        }
    }
}
