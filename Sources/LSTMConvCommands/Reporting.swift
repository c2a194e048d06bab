import ArgumentParser
import Foundation

/// A failure the command layer itself detects (missing input, existing output, mismatch).
struct CommandFailure: Error, CustomStringConvertible {
    var exitCode: ExitCode
    var message: String
    var description: String { message }
}

/// Writes one line to stderr.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs a command body, turning every thrown error into one stderr line and a documented exit code.
func reporting(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch let failure as CommandFailure {
        printError("lstmconv: error: \(failure.message)")
        throw failure.exitCode
    } catch let error as CleanExit {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        printError("lstmconv: error: \(error)")
        throw ExitStatus.badInput
    }
}

/// Paths and overwrite rules shared by every command that reads or writes files.
enum FileRules {
    /// Fails with exit 66 when `path` does not name a readable file.
    static func requireInput(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw CommandFailure(exitCode: ExitStatus.missingInput, message: "\(path): no such readable file")
        }
    }

    /// Fails with exit 73 when `path` exists and `force` is false.
    static func requireWritable(_ path: String, force: Bool) throws {
        if FileManager.default.fileExists(atPath: path), !force {
            throw CommandFailure(
                exitCode: ExitStatus.cannotCreateOutput,
                message: "\(path) already exists; pass --force to replace it or choose another output path")
        }
    }
}
