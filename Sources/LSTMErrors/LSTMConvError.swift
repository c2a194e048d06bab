/// What kind of failure an error is, independent of the module that threw it. The CLI maps it onto its
/// documented exit codes (spec/cli.md); library users can branch on it without knowing every module's codes.
public enum FailureKind: String, Sendable, CaseIterable {
    /// Malformed, truncated, hostile or unsupported content of an input file (CLI exit 65).
    case badInput = "bad input"
    /// An input file does not exist or cannot be opened for reading (CLI exit 66).
    case noSuchFile = "no such file"
    /// An output could not be created: it exists and replacing it was not allowed, or writing failed (CLI exit 73).
    case cannotWrite = "cannot write"
    /// Data was read correctly but disagrees with what it should be: a checksum or a comparison (CLI exit 2).
    case mismatch = "mismatch"
}

/// The one shape of every public lstmconv error: a stable code plus the context that locates the problem.
///
/// Each module keeps its own error struct and its own codes (`BinaryFormatError.Code.badMagic`,
/// `ImportError.Code.shapeMismatch`, …); all of them conform to this protocol, print in one order,
///
/// ```text
/// <file>: <code> at <location>: <message> (expected <expected>, found <found>)
/// ```
///
/// and compare equal by code only, so tests can write `#expect(throws: BinaryFormatError(.badMagic))`.
public protocol LSTMConvError: Error, Sendable, CustomStringConvertible {
    /// The stable name of the error's code, e.g. `"bad magic"`; `spec/` lists every module's codes.
    var codeName: String { get }
    /// A one-line explanation for the user.
    var message: String { get }
    /// The file concerned, when known.
    var file: String? { get }
    /// Where in the file or model: a byte offset, key, tensor path or layer, already rendered
    /// (`offset 64, tensor layer_0/forward/W_n`).
    var location: String? { get }
    /// What the format or the model requires, when the error is a comparison.
    var expected: String? { get }
    /// What the input holds, when the error is a comparison.
    var found: String? { get }
    /// The kind of failure, which decides the CLI's exit code.
    var failureKind: FailureKind { get }
}

extension LSTMConvError {
    public var expected: String? { nil }
    public var found: String? { nil }
    public var failureKind: FailureKind { .badInput }

    /// `<file>: <code> at <location>: <message> (expected <expected>, found <found>)`, on one line.
    public var description: String {
        var text = file.map { "\($0): " } ?? ""
        text += codeName
        if let location, !location.isEmpty { text += " at \(location)" }
        if !message.isEmpty { text += ": \(message)" }
        switch (expected, found) {
        case let (expected?, found?): text += " (expected \(expected), found \(found))"
        case let (expected?, nil): text += " (expected \(expected))"
        case let (nil, found?): text += " (found \(found))"
        case (nil, nil): break
        }
        return text.split(whereSeparator: \.isNewline).map(trimmed).joined(separator: " ")
    }
}

/// Joins the non-empty parts of a location: `offset 64, tensor layer_0/forward/W_n`.
public func renderLocation(_ parts: (label: String, value: String?)...) -> String? {
    let rendered = parts.compactMap { part in part.value.map { part.label.isEmpty ? $0 : "\(part.label) \($0)" } }
    return rendered.isEmpty ? nil : rendered.joined(separator: ", ")
}

/// `line` without leading and trailing whitespace.
private func trimmed(_ line: Substring) -> String {
    guard let first = line.firstIndex(where: { !$0.isWhitespace }),
          let last = line.lastIndex(where: { !$0.isWhitespace }) else { return "" }
    return String(line[first...last])
}
