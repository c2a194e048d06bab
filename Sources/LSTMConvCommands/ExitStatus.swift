import ArgumentParser

/// The documented exit codes (spec/cli.md). Scripts depend on them.
public enum ExitStatus {
    public static let success = ExitCode(0)
    /// `validate` beyond tolerance or shape mismatch; `verify` checksum mismatch.
    public static let mismatch = ExitCode(2)
    /// Bad flags or arguments (swift-argument-parser's `EX_USAGE`).
    public static let usage = ExitCode(64)
    /// Malformed, truncated, hostile or unsupported input content.
    public static let badInput = ExitCode(65)
    /// An input file does not exist or cannot be read.
    public static let missingInput = ExitCode(66)
    /// The output exists (no `--force`) or cannot be created.
    public static let cannotCreateOutput = ExitCode(73)
    /// A bug.
    public static let internalError = ExitCode(1)
}
