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
}
