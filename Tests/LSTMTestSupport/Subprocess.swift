import Foundation

/// Runs helper programs (python3, swift, git) from tests.
public enum Subprocess {
    /// Runs `arguments` through `/usr/bin/env` in `folder`, returning the exit status and the merged
    /// stdout + stderr.
    public static func run(_ arguments: [String], in folder: URL? = nil) throws -> (status: Int32, output: String) {
        try run(executable: URL(fileURLWithPath: "/usr/bin/env"), arguments, in: folder)
    }

    /// Runs `executable` with `arguments` in `folder`, returning the exit status and the merged stdout + stderr.
    public static func run(executable: URL, _ arguments: [String], in folder: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// What a child run with ``capture(executable:_:in:environment:onStart:)`` did.
    public struct Captured: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `executable` with `arguments` in `folder` (stdin `/dev/null`; stdout and stderr kept apart, through
    /// files, so that a child writing much never blocks on a full pipe) and waits without blocking a thread.
    /// `onStart` sees the process once it runs (to signal or time it).
    public static func capture(
        executable: URL, _ arguments: [String], in folder: URL?, environment: [String: String]? = nil,
        onStart: (@Sendable (Process) -> Void)? = nil
    ) async throws -> Captured {
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: logs) }
        let outURL = logs.appendingPathComponent("stdout")
        let errURL = logs.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        if let environment { process.environment = environment }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
                onStart?(process)
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try out.close()
        try err.close()
        return Captured(
            status: status, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
