import ArgumentParser

/// The root `lstmconv` command (placeholder until the subcommands land).
public struct LSTMConvRoot: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "lstmconv", abstract: "LSTM/GRU weight toolkit.")
    public init() {}
}
