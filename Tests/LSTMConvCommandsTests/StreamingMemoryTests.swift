import Foundation
import LSTMConv
import LSTMModel
import Testing

/// `convert`, `export` and `import` stream: one tensor (and the source tensors it is cut from) in memory at a time.
/// A generated 4-layer LSTM(1536) of about 300 MB is converted `.lstmw → .h5 → .lstmw`, exported to safetensors and
/// ONNX, and imported from a Keras `.h5` and a `.safetensors`; each child's peak RSS (`wait4` in a small python3
/// parent) must stay under half the model's size — a converter that holds the model (or the file) in memory needs
/// at least its size. The round trip must give back the same bytes. No timing is asserted.
@Suite("Streaming conversion, export and import stay in bounded memory", .serialized)
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

    /// A small python3 process forks and execs the command and reports the child's `ru_maxrss` from `wait4`.
    /// Not spawned from the test process directly: Linux carries a process's high-water RSS across `execve`
    /// (and a `posix_spawn`ed child starts from the parent's), so a child of this large test process would report
    /// at least the test process's own peak.
    static let measure = """
        import os, sys
        pid = os.fork()
        if pid == 0:
            fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(fd, 1)
            os.execv(sys.argv[1], sys.argv[1:])
        _, status, usage = os.wait4(pid, 0)
        print(os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024)
        """

    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs the built lstmconv with `arguments`; its exit status and peak resident set in bytes.
    static func run(_ arguments: [String], executable: URL) throws -> (status: Int32, peakRSS: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python))
        process.arguments = ["-c", measure, executable.path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let values = try #require(fields.count == 2 ? fields : nil, "the measuring script printed \(output)")
        return (Int32(values[0]), values[1])
    }

    @Test(.enabled(if: CLI.executable != nil && python != nil, "needs the built lstmconv and python3"))
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
            // Export streams too: safetensors written tensor by tensor, ONNX initializers written in place.
            let exports = [
                ["export", source.path, "--to", "pytorch", "-o", scratch.path("big.safetensors"), "--quiet"],
                ["export", source.path, "--to", "onnx", "-o", scratch.path("big.onnx"), "--quiet"],
            ]
            for arguments in [["convert", source.path, "-o", h5, "--quiet"], ["convert", h5, "-o", back, "--quiet"]] + exports {
                let (status, peak) = try Self.run(arguments, executable: executable)
                #expect(status == 0, "\(arguments)")
                // Half the model: what a converter holding the whole model or file could never stay under.
                #expect(peak < size / 2, "\(arguments.joined(separator: " ")): peak RSS \(peak / 1_000_000) MB for a \(size / 1_000_000) MB model")
                #expect(peak > largest, "the peak (\(peak)) should at least hold one tensor (\(largest)): is RSS measured?")
            }
            #expect(FileManager.default.contentsEqual(atPath: source.path, andPath: back))
        }
    }

    /// `import` streams too: the same model exported by our own writers as a Keras legacy `.h5` (kernels
    /// `[I, 4H]`, transposed on import) and as PyTorch `.safetensors` (`[4H, I]`), imported to `.lstmw` and `.h5`.
    /// An importer that builds the model in memory before writing needs more than the model's size: the previous
    /// one peaked at 421 MB (`.h5`) and 644 MB (`.safetensors`) here, against the 151 MB bound.
    @Test(.enabled(if: CLI.executable != nil && python != nil, "needs the built lstmconv and python3"))
    func importPeakRSSIsBelowHalfTheModel() async throws {
        let executable = try #require(CLI.executable)
        try await withScratch { scratch in
            let model = try Self.bigModel()
            let h5 = scratch.url.appendingPathComponent("big-keras.h5"), safetensors = scratch.url.appendingPathComponent("big.safetensors")
            try KerasExporter.writeLegacyH5(try KerasExporter.export(model), to: h5)
            try PyTorchExporter.write(try PyTorchExporter.export(model), to: safetensors)
            let largest = model.storedTensors.map(\.tensor.bytes.count).max() ?? 0
            for source in [h5, safetensors] {
                let size = try #require(try FileManager.default.attributesOfItem(atPath: source.path)[.size] as? Int)
                #expect(size > 300_000_000, "\(source.lastPathComponent) has \(size) bytes")
                for output in ["out.lstmw", "out.h5"] {
                    let target = scratch.path(source.lastPathComponent + "-" + output)
                    let arguments = ["import", source.path, "-o", target, "--quiet"]
                    let (status, peak) = try Self.run(arguments, executable: executable)
                    #expect(status == 0, "\(arguments)")
                    #expect(peak < size / 2, "\(source.lastPathComponent) → \(output): peak RSS \(peak / 1_000_000) MB for a \(size / 1_000_000) MB source")
                    #expect(peak > largest, "the peak (\(peak)) should at least hold one tensor (\(largest)): is RSS measured?")
                    #expect(FileManager.default.fileExists(atPath: target))
                }
            }
        }
    }
}
