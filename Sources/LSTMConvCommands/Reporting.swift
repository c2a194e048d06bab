import ArgumentParser
import Foundation
import LSTMConv

/// A failure the command layer itself detects (missing input, existing output, mismatch).
struct CommandFailure: Error, CustomStringConvertible {
    var exitCode: ExitCode
    var message: String
    /// The stable code for `--json` (default: named after the exit code).
    var code: String?
    /// The file at fault, for `--json`.
    var file: String?
    /// The library error this failure reports, for `--json`'s code, location, expected and found.
    var underlying: (any LSTMConvError)?
    /// What to try next, already part of `message`; `--json` gives it apart too.
    var hint: String?
    /// `--json` only: the command already wrote its document (validate's shape mismatch), so no error document.
    var documented = false
    var description: String { message }
}

/// Writes one line to stderr.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs a command body, turning every thrown error into one stderr line and a documented exit code:
/// ``CommandFailure`` carries its own code; every library error maps its ``FailureKind`` onto one
/// (``exitStatus(for:)``); anything else is bad input (65).
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
    } catch let error as any LSTMConvError {
        printError("lstmconv: error: \(capped(error.description))")
        throw exitStatus(for: error.failureKind)
    } catch {
        printError("lstmconv: error: \(oneLine(error))")
        throw ExitStatus.badInput
    }
}

/// The documented exit code of each kind of failure (spec/cli.md).
func exitStatus(for kind: FailureKind) -> ExitCode {
    switch kind {
    case .badInput: ExitStatus.badInput
    case .noSuchFile: ExitStatus.missingInput
    case .cannotWrite: ExitStatus.cannotCreateOutput
    case .mismatch: ExitStatus.mismatch
    }
}

/// Any error on one line: lstmconv's errors already print as `<file>: <code> at <where>: …`; others are folded.
func oneLine(_ error: any Error) -> String {
    if let error = error as? any LSTMConvError { return capped(error.description) }
    return capped("\(error)".split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: " "))
}

/// A hostile file can make a message list thousands of names: one line stays readable.
func capped(_ line: String) -> String {
    guard line.count > maxMessageLength else { return line }
    return line.prefix(maxMessageLength) + " … (\(line.count - maxMessageLength) more characters)"
}

/// The longest error line (characters) before it is cut.
let maxMessageLength = 2000

/// Runs `body`, reporting the errors of the engines and the model (which concern data in memory and cannot name
/// a file themselves) as bad input in `file`; every other error already names its file and passes through.
func blaming<T>(_ file: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as any LSTMConvError where error.file == nil {
        throw CommandFailure(exitCode: exitStatus(for: error.failureKind), message: "\(file): \(error)", file: file, underlying: error)
    }
}

/// Paths and overwrite rules shared by every command that reads or writes files.
enum FileRules {
    /// Fails with exit 66 when `path` does not name a readable file.
    static func requireInput(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw CommandFailure(exitCode: ExitStatus.missingInput, message: "\(path): no such readable file", file: path)
        }
    }

    /// Fails with exit 73 when `path` exists and `force` is false, names a folder, or its folder is missing or
    /// not writable. Checked before any work, so a command that cannot write its output does nothing.
    static func requireWritable(_ path: String, force: Bool) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue {
                throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: "\(path): is a folder, not an output file", file: path)
            }
            if !force {
                throw CommandFailure(
                    exitCode: ExitStatus.cannotCreateOutput,
                    message: "\(path): already exists; pass --force to replace it or choose another output path", code: "output exists", file: path)
            }
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: "\(path): the folder \(folder) does not exist")
        }
        guard manager.isWritableFile(atPath: folder) else {
            throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: "\(path): the folder \(folder) is not writable")
        }
    }

    /// Fails with exit 73 when `output` is the same file as `input` (a forced write would destroy the input).
    static func requireDistinct(_ output: String, from input: String) throws {
        let a = URL(fileURLWithPath: output).resolvingSymlinksInPath().standardizedFileURL.path
        let b = URL(fileURLWithPath: input).resolvingSymlinksInPath().standardizedFileURL.path
        if a == b {
            throw CommandFailure(
                exitCode: ExitStatus.cannotCreateOutput,
                message: "\(output): is the input file itself; choose another output path")
        }
    }

    /// Runs a write, reporting the writer's own "exists" and I/O failures as exit 73 (cannot create the output).
    static func writing(_ path: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as any LSTMConvError where error.failureKind == .cannotWrite {
            throw CommandFailure(exitCode: ExitStatus.cannotCreateOutput, message: error.description, underlying: error)
        }
    }
}
