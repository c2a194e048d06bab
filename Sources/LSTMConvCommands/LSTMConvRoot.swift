import ArgumentParser
import LSTMConv

/// The root `lstmconv` command: only its configuration and subcommand list.
public struct LSTMConvRoot: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "lstmconv",
        abstract: "Move LSTM/GRU weights between frameworks, check them, and run them.",
        discussion: """
            Weights are stored under the gate names of the notes (learn, forget, remember, use). See spec/ for the \
            format. Every command takes --json (one document on stdout; spec/schemas). Shell completions: \
            lstmconv --generate-completion-script bash|zsh|fish.
            """,
        version: BuildInfo.versionText,
        subcommands: [
            ImportCommand.self, InspectCommand.self, VerifyCommand.self, ConvertCommand.self, RunCommand.self,
            ValidateCommand.self, ExportCommand.self, ExplainCommand.self,
        ])

    public init() {}
}
