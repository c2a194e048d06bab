import Foundation
import LSTMLayouts

/// A parsed JSON value (Keras model configs).
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses UTF-8 JSON text. `what` names the document in errors (e.g. "`model_config` of model.h5").
    static func parse(_ data: Data, what: String) throws(ImportError) -> JSONValue {
        // Foundation's JSON5 scanner traps on some invalid UTF-8 (in unquoted keys) instead of throwing.
        guard String(validating: data, as: UTF8.self) != nil else {
            throw ImportError(.malformedSource, "\(what) is not valid JSON (not UTF-8 text)")
        }
        do {
            // JSON5 accepts the bare NaN / Infinity that Python's json module writes.
            let decoder = JSONDecoder()
            decoder.allowsJSON5 = true
            return try decoder.decode(JSONValue.self, from: data)
        } catch {
            // Keep the message on one line: DecodingError descriptions nest their context.
            let reason: String
            if case .dataCorrupted(let context) = error as? DecodingError {
                reason = context.underlyingError.map { "\($0)" } ?? context.debugDescription
            } else {
                reason = "\(error)"
            }
            let line = reason.split(whereSeparator: \.isNewline).joined(separator: " ")
            throw ImportError(.malformedSource, "\(what) is not valid JSON (\(line.prefix(300)))")
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

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
