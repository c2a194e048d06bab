import Foundation
import LSTMLayouts

/// A parsed JSON value (Keras model configs).
enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Most nested arrays and objects in a config (Keras writes fewer than 20).
    static let maxDepth = 256

    /// Parses UTF-8 JSON text as Python's `json` module writes it: strict RFC 8259 plus the bare `NaN`,
    /// `Infinity` and `-Infinity` it emits. Everything Keras' own loader would reject or read differently is
    /// refused: a key repeated in one object (Python keeps the last, we would not know which was meant), JSON5
    /// (comments, trailing commas, single quotes, unquoted keys, hexadecimal), numbers beyond float64 (`1e400`),
    /// nesting deeper than ``maxDepth``. `what` names the document in errors (e.g. "`model_config` of model.h5").
    static func parse(_ data: Data, what: String) throws(ImportError) -> JSONValue {
        var parser = StrictJSONParser(bytes: [UInt8](data))
        do throws(StrictJSONParser.Failure) {
            return try parser.document()
        } catch {
            throw ImportError(.malformedSource, "\(what) is not valid JSON (\(error.reason) at byte \(error.offset))", offset: error.offset)
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var bool: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    var object: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    var isNull: Bool { self == .null }

    var double: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// An integer value, if this is a number with no fractional part.
    var int: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        return nil
    }

    /// Compact rendering for error messages.
    var brief: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let value): "\"\(value)\""
        case .array(let values): "[" + values.map(\.brief).joined(separator: ", ") + "]"
        case .object: "{…}"
        }
    }
}

/// The strict JSON reader behind ``JSONValue/parse(_:what:)``: one pass over the bytes, nesting bounded by
/// ``JSONValue/maxDepth``, errors with the byte offset.
struct StrictJSONParser {
    struct Failure: Error {
        var reason: String
        var offset: Int
    }

    let bytes: [UInt8]
    var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(Failure) -> JSONValue {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw Failure(reason: "not UTF-8 text", offset: 0) }
        let value = try self.value(depth: 0)
        skipSpace()
        guard position == bytes.count else { throw fail("unexpected text after the document") }
        return value
    }

    private func fail(_ reason: String) -> Failure { Failure(reason: reason, offset: position) }

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func literal(_ word: String) -> Bool {
        let utf8 = Array(word.utf8)
        guard bytes.count - position >= utf8.count, Array(bytes[position ..< position + utf8.count]) == utf8 else { return false }
        position += utf8.count
        return true
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        skipSpace()
        guard position < bytes.count else { throw fail("unexpected end of the text") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            guard depth < JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
            position += 1
            var object: [String: JSONValue] = [:]
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(object)
            }
            while true {
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
                let keyOffset = position
                let key = try string()
                skipSpace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected `:` after a key") }
                position += 1
                let item = try value(depth: depth + 1)
                guard object.updateValue(item, forKey: key) == nil else {
                    throw Failure(reason: "the key \"\(key.prefix(80))\" appears twice in one object", offset: keyOffset)
                }
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of the text in an object") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                guard bytes[position] == UInt8(ascii: "}") else { throw fail("expected `,` or `}` in an object") }
                position += 1
                return .object(object)
            }
        case UInt8(ascii: "["):
            guard depth < JSONValue.maxDepth else { throw fail("nesting deeper than \(JSONValue.maxDepth)") }
            position += 1
            var array: [JSONValue] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(array)
            }
            while true {
                array.append(try value(depth: depth + 1))
                skipSpace()
                guard position < bytes.count else { throw fail("unexpected end of the text in an array") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                guard bytes[position] == UInt8(ascii: "]") else { throw fail("expected `,` or `]` in an array") }
                position += 1
                return .array(array)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        default:
            if literal("true") { return .bool(true) }
            if literal("false") { return .bool(false) }
            if literal("null") { return .null }
            if literal("NaN") { return .number(.nan) }
            if literal("Infinity") { return .number(.infinity) }
            if literal("-Infinity") { return .number(-.infinity) }
            return .number(try number())
        }
    }

    /// A number in JSON's grammar (no `+`, no leading zeros, no hex, no bare `.5`), finite as a float64.
    private mutating func number() throws(Failure) -> Double {
        let start = position
        func digits() -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - first
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0 else { position = start; throw fail("expected a value") }
        guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw Failure(reason: "a number with a leading zero", offset: start) }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw fail("expected digits after `.`") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw fail("expected digits in an exponent") }
        }
        let text = String(decoding: bytes[start ..< position], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw Failure(reason: "the number \(text.prefix(40)) is out of the float64 range", offset: start)
        }
        return value
    }

    /// A quoted string with JSON's escapes (`\uXXXX` surrogate pairs joined; lone surrogates refused).
    private mutating func string() throws(Failure) -> String {
        position += 1  // the opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = position
        func flush(_ parser: StrictJSONParser, _ scalars: inout String.UnicodeScalarView, _ from: Int) {
            scalars.append(contentsOf: String(decoding: parser.bytes[from ..< parser.position], as: UTF8.self).unicodeScalars)
        }
        while true {
            guard position < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                flush(self, &scalars, runStart)
                position += 1
                return String(scalars)
            }
            guard byte >= 0x20 else { throw fail("a control character inside a string") }
            guard byte == UInt8(ascii: "\\") else {
                position += 1
                continue
            }
            flush(self, &scalars, runStart)
            position += 1
            guard position < bytes.count else { throw fail("unterminated string") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard literal("\\u") else { throw fail("a lone UTF-16 surrogate") }
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("a lone UTF-16 surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("a lone UTF-16 surrogate") }
                scalars.append(scalar)
            default:
                throw fail("an unknown escape in a string")
            }
            runStart = position
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard bytes.count - position >= 4 else { throw fail("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[position])).hexDigitValue else { throw fail("a bad \\u escape") }
            value = value * 16 + UInt32(digit)
            position += 1
        }
        return value
    }
}
