import ArgumentParser
import Foundation
import LSTMConv

/// `--json`, shared by every subcommand: one JSON document on stdout instead of the text (spec/cli.md §JSON).
struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON document on stdout instead of text (spec/schemas/<command>.schema.json); errors too.")
    var json = false
}

/// How `--json` documents are written: sorted keys, snake_case, one document per run.
enum JSONOutput {
    /// The version of every `--json` document's layout (`schema_version`), the one in spec/schemas/*.schema.json.
    /// It changes only with a major CLI version, as the exit codes do.
    static let schemaVersion = 1

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// Writes `value` as the run's one JSON document on stdout.
    static func write(_ value: some Encodable) throws {
        var data = try encoder.encode(value)
        data.append(0x0A)
        FileHandle.standardOutput.write(data)
    }

    /// The error document of a failed run (`spec/schemas/error.schema.json`).
    static func writeError(command: String, error: any Error) {
        let document = ErrorDocument(command: command, error: .of(error))
        try? write(document)
    }
}

/// `--json` output of a failed command: the error's stable code and context, and the exit code.
struct ErrorDocument: Encodable {
    struct Detail: Encodable {
        var code: String
        var message: String
        var file: String?
        var location: String?
        var expected: String?
        var found: String?
        var exitCode: Int32
        /// What to try next, when the command knows (also in `message`).
        var hint: String?

        enum CodingKeys: String, CodingKey {
            case code, message, file, location, expected, found, exitCode, hint
        }

        /// Every key, `null` when unknown, so that scripts can read each one without checking.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encode(file, forKey: .file)
            try container.encode(location, forKey: .location)
            try container.encode(expected, forKey: .expected)
            try container.encode(found, forKey: .found)
            try container.encode(exitCode, forKey: .exitCode)
            try container.encode(hint, forKey: .hint)
        }

        /// The detail of any error a command throws.
        static func of(_ error: any Error) -> Detail {
            switch error {
            case let failure as CommandFailure:
                if let underlying = failure.underlying {
                    var detail = of(underlying)
                    detail.file = failure.file ?? underlying.file
                    detail.exitCode = failure.exitCode.rawValue
                    if let hint = failure.hint {
                        detail.hint = hint
                        detail.message += "; \(hint)"
                    }
                    return detail
                }
                var message = failure.message
                if let file = failure.file, message.hasPrefix(file + ": ") { message = String(message.dropFirst(file.count + 2)) }
                return Detail(
                    code: failure.code ?? codeName(failure.exitCode), message: capped(message), file: failure.file,
                    exitCode: failure.exitCode.rawValue, hint: failure.hint)
            case let error as any LSTMConvError:
                // Some errors say everything in their code, location and expected/found: then the message is the line.
                var message = error.message
                if message.isEmpty {
                    message = error.description
                    if let file = error.file, message.hasPrefix(file + ": ") { message = String(message.dropFirst(file.count + 2)) }
                }
                return Detail(
                    code: error.codeName, message: capped(message), file: error.file, location: error.location,
                    expected: error.expected, found: error.found, exitCode: exitStatus(for: error.failureKind).rawValue)
            case let error as ValidationError:
                return Detail(code: "usage", message: error.description, exitCode: ExitStatus.usage.rawValue)
            default:
                return Detail(code: FailureKind.badInput.rawValue, message: oneLine(error), exitCode: ExitStatus.badInput.rawValue)
            }
        }

        /// The code of a failure the command layer detects itself, by its exit code.
        static func codeName(_ exitCode: ExitCode) -> String {
            switch exitCode {
            case ExitStatus.missingInput: FailureKind.noSuchFile.rawValue
            case ExitStatus.cannotCreateOutput: FailureKind.cannotWrite.rawValue
            case ExitStatus.mismatch: FailureKind.mismatch.rawValue
            case ExitStatus.usage: "usage"
            default: FailureKind.badInput.rawValue
            }
        }
    }

    var command: String
    var schemaVersion = JSONOutput.schemaVersion
    var error: Detail
}

/// ``reporting(_:)`` with `--json`: a failure also prints its ``ErrorDocument`` on stdout; the stderr line and the
/// exit code stay as without `--json`. A body that already wrote its document and only sets the exit code throws
/// an `ExitCode`, which passes through.
func reporting(_ command: String, json: Bool, _ body: () throws -> Void) throws {
    try reporting {
        do {
            try body()
        } catch let error where json && !(error is ExitCode) && !(error is CleanExit) && (error as? CommandFailure)?.documented != true {
            JSONOutput.writeError(command: command, error: error)
            throw error
        }
    }
}

extension LSTMConvRoot {
    /// `main()` that also answers usage errors (exit 64) with an ``ErrorDocument`` when `--json` was given.
    public static func mainReportingJSON() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
        } catch {
            let status = exitCode(for: error)
            if arguments.contains("--json"), status == ExitStatus.usage {
                let command = arguments.first { !$0.hasPrefix("-") } ?? "lstmconv"
                let message = fullMessage(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                let detail = ErrorDocument.Detail(code: "usage", message: message, exitCode: status.rawValue)
                try? JSONOutput.write(ErrorDocument(command: command, error: detail))
            }
            exit(withError: error)
        }
    }
}

/// A value for JSON: `nil` for NaN and infinity, which JSON cannot hold.
func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
