import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Faults while writing (issue 12): a full disk (the file-size limit), a signal mid-write, two writers of one
/// path, a folder that cannot be written. Each ends in a clean exit code with nothing partial left behind.
@Suite("Write faults", .serialized)
struct FaultTests {
    static let model = CLI.fixture("pytorch/lstm_1layer/model.pt").path
    static let input = CLI.fixture("pytorch/lstm_1layer/input.npy").path

    /// Runs the CLI with `ulimit -f blocks` (512-byte blocks for /bin/sh).
    static func runWithFileSizeLimit(_ blocks: Int, _ arguments: [String], in folder: URL) async throws -> CLI.Result {
        let binary = try #require(CLI.executable)
        if let staleness = CLI.staleness { throw StaleExecutable(message: staleness) }
        return try await Child.run("/bin/sh", ["-c", "ulimit -f \(blocks) && exec \"$@\"", "sh", binary.path] + arguments, in: folder)
    }

    @Test("A full disk (file-size limit) while writing each output kind: exit 73 naming the output, no crash, nothing left",
          arguments: ["out.h5", "out.lstmw"])
    func fileSizeLimit(_ output: String) async throws {
        try await withScratch { scratch in
            let before = Data("kept\n".utf8)
            try before.write(to: scratch.url.appendingPathComponent(output))
            let result = try await Self.runWithFileSizeLimit(2, ["import", Self.model, "-o", output, "--force"], in: scratch.url)
            #expect(result.status == Exit.cannotCreateOutput, "\(result)")
            expectOneErrorLine(result, naming: output)
            #expect(!result.stderr.contains(".tmp"), "the message names the temporary file: \(result)")
            #expect(try CLI.listing(scratch.url) == [output], "\(result)")
            #expect(try Data(contentsOf: scratch.url.appendingPathComponent(output)) == before)
        }
    }

    @Test("run with --states under a file-size limit: both outputs or neither (the existing output stays)")
    func multiOutputAllOrNone() async throws {
        try await withScratch { scratch in
            let before = Data("kept\n".utf8)
            try before.write(to: scratch.url.appendingPathComponent("y.npy"))
            try before.write(to: scratch.url.appendingPathComponent("s.npz"))
            // y.npy (428 bytes) fits in 512 bytes; the states archive (642 bytes) does not.
            let result = try await Self.runWithFileSizeLimit(
                1, ["run", Self.model, "--input", Self.input, "--output", "y.npy", "--states", "s.npz", "--force"], in: scratch.url)
            #expect(result.status == Exit.cannotCreateOutput, "\(result)")
            expectOneErrorLine(result, naming: "s.npz")
            #expect(try CLI.listing(scratch.url) == ["y.npy", "s.npz"], "\(result)")
            #expect(try Data(contentsOf: scratch.url.appendingPathComponent("y.npy")) == before, "y.npy was replaced")
            #expect(try Data(contentsOf: scratch.url.appendingPathComponent("s.npz")) == before)
        }
    }

    /// A model large enough that writing it compressed takes a moment (32 MiB of float32, little redundancy).
    static func bigSafetensors(at url: URL) throws {
        let hidden = 1024, input = 1024
        let shapes: [(String, [Int])] = [
            ("weight_ih_l0", [4 * hidden, input]), ("weight_hh_l0", [4 * hidden, hidden]), ("bias_ih_l0", [4 * hidden]),
            ("bias_hh_l0", [4 * hidden]),
        ]
        var header: [String] = []
        var offset = 0
        var body = Data()
        var state: UInt32 = 0x1234_5678
        for (name, shape) in shapes {
            let count = shape.reduce(1, *)
            var words = [UInt32](repeating: 0, count: count)
            for index in 0..<count {
                state ^= state << 13
                state ^= state >> 17
                state ^= state << 5
                words[index] = 0x3C00_0000 | (state & 0x007F_FFFF)  // small positive normal floats
            }
            body.append(words.withUnsafeBufferPointer { Data(buffer: $0) })
            header.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + 4 * count)]}")
            offset += 4 * count
        }
        var json = Data(("{" + header.joined(separator: ",") + "}").utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var length = UInt64(json.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(json)
        file.append(body)
        try file.write(to: url)
    }

    @Test("SIGTERM and SIGINT mid-write: the temporary file is removed, exit 143 / 130", arguments: [SIGTERM, SIGINT])
    func signalMidWrite(_ signal: Int32) async throws {
        try await withScratch { scratch in
            let source = scratch.url.appendingPathComponent("big.safetensors")
            try Self.bigSafetensors(at: source)
            let binary = try #require(CLI.executable)
            let folder = scratch.url
            let sawTemporary = Flag()
            let result = try await Child.run(
                binary.path, ["import", source.path, "-o", "big.h5", "--encoding", "hdf5", "--compress"], in: folder
            ) { process in
                // Wait (up to 60 s) for the temporary output to appear, then interrupt.
                Thread.detachNewThread {
                    let deadline = Date().addingTimeInterval(60)
                    while process.isRunning, Date() < deadline {
                        if ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).contains(where: { $0.hasSuffix(".tmp") }) {
                            sawTemporary.set()
                            kill(process.processIdentifier, signal)
                            return
                        }
                        usleep(2000)
                    }
                }
            }
            try #require(sawTemporary.value, "the write finished before the test saw its temporary file: \(result)")
            #expect(result.status == 128 + signal, "\(result)")
            #expect(try CLI.listing(scratch.url) == ["big.safetensors"], "\(result)")
        }
    }

    @Test("Two writers of one path: with --force one complete valid file results; without, one wins and the other exits 73")
    func concurrentWriters() async throws {
        try await withScratch { scratch in
            for force in [true, false] {
                try? FileManager.default.removeItem(at: scratch.url.appendingPathComponent("same.lstmw"))
                let arguments = ["import", Self.model, "-o", "same.lstmw"] + (force ? ["--force"] : [])
                async let first = Child.run(try #require(CLI.executable).path, arguments, in: scratch.url)
                async let second = Child.run(try #require(CLI.executable).path, arguments, in: scratch.url)
                let statuses = [try await first.status, try await second.status].sorted()
                #expect(statuses == (force ? [0, 0] : [0, Exit.cannotCreateOutput]), "force \(force): \(statuses)")
                #expect(try CLI.listing(scratch.url) == ["same.lstmw"])
                let verify = try await CLI.run(["verify", scratch.path("same.lstmw")])
                #expect(verify.status == Exit.success, "\(verify)")
            }
        }
    }

    @Test("A folder that cannot be written: exit 73 naming the output, nothing written")
    func readOnlyFolder() async throws {
        try await withScratch { scratch in
            let folder = scratch.url.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path) }
            // Root ignores permission bits: then /sys (sysfs), where nobody creates files, stands in.
            let target = geteuid() == 0 ? "/sys/lstmconv-out.lstmw" : folder.appendingPathComponent("out.lstmw").path
            let result = try await CLI.run(["import", Self.model, "-o", target])
            #expect(result.status == Exit.cannotCreateOutput, "\(result)")
            expectOneErrorLine(result, naming: target)
            #expect(!FileManager.default.fileExists(atPath: target))
            #expect(try CLI.listing(folder).isEmpty)
        }
    }

    /// A memory-mapped input that another process truncates kills the reader with SIGBUS; a read cannot. The
    /// readers therefore never map (issue 12): this keeps it so. Anonymous mappings (`MAP_ANONYMOUS` on the same
    /// line: memory for tensor-sized buffers, no file behind them) are allowed.
    @Test("No reader memory-maps its input (a file truncated while mapped would be SIGBUS)")
    func noMemoryMappedReads() throws {
        let sources = CLI.packageRoot.appendingPathComponent("Sources")
        var offenders: [String] = []
        for case let url as URL in FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil) ?? .init()
        where url.pathExtension == "swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for pattern in [".alwaysMapped", ".mappedIfSafe"] where text.contains(pattern) {
                offenders.append("\(url.lastPathComponent): \(pattern)")
            }
            for line in text.split(separator: "\n") where line.contains("mmap(") && !line.contains("MAP_ANONYMOUS") {
                offenders.append("\(url.lastPathComponent): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }

    @Test("A missing TMPDIR is named as such (exit 73), not blamed on the input")
    func missingTemporaryFolder() async throws {
        try await withScratch { scratch in
            let binary = try #require(CLI.executable)
            let result = try await Child.run(
                "/usr/bin/env", ["TMPDIR=/nonexistent-lstmconv-tmp", binary.path, "import", CLI.fixture("keras/k3_functional_chain/model.keras").path,
                                 "-o", "k.lstmw"], in: scratch.url)
            #expect(result.status == Exit.cannotCreateOutput, "\(result)")
            expectOneErrorLine(result, naming: "TMPDIR")
            #expect(try CLI.listing(scratch.url).isEmpty)
        }
    }

    @Test("NaN in the input: run and validate warn (count and first position); validate counts NaN as a mismatch")
    func nonFiniteWarnings() async throws {
        try await withScratch { scratch in
            // A float32 .npy [3, 5, 4] (the model's input shape) whose element [1, 2, 3] is NaN.
            let original = try Data(contentsOf: URL(fileURLWithPath: Self.input))
            var bytes = [UInt8](original)
            let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            let dataStart = 10 + headerLength
            let features = (bytes.count - dataStart) / 4 / 15
            let offset = dataStart + 4 * ((1 * 5 + 2) * features + min(3, features - 1))
            bytes.replaceSubrange(offset ..< offset + 4, with: [0x00, 0x00, 0xC0, 0x7F])  // quiet NaN
            let nanInput = scratch.url.appendingPathComponent("nan.npy")
            try Data(bytes).write(to: nanInput)
            let run = try await CLI.run(["run", Self.model, "--input", nanInput.path, "--output", scratch.path("y.npy")])
            #expect(run.status == Exit.success, "\(run)")
            #expect(run.stderrLines.contains { $0.hasPrefix("lstmconv: warning: \(nanInput.path): 1 of ") && $0.contains("[1, 2,") }, "\(run)")
            #expect(run.stderrLines.contains { $0.contains("y.npy") && $0.contains("not finite") }, "\(run)")
            let validate = try await CLI.run([
                "validate", Self.model, "--input", nanInput.path, "--expected", CLI.fixture("pytorch/lstm_1layer/expected.npy").path,
            ])
            #expect(validate.status == Exit.mismatch, "\(validate)")
            #expect(validate.stderrLines.contains { $0.hasPrefix("lstmconv: warning: \(nanInput.path)") }, "\(validate)")
        }
    }
}

/// A flag set from another thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var state = false
    func set() { lock.withLock { state = true } }
    var value: Bool { lock.withLock { state } }
}
