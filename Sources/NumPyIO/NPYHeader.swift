// The `.npy` header: a Python dict literal such as
// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
// Only the literal forms NumPy writes are accepted: strings, integers, True/False/None, tuples, lists, dicts.

/// A parsed Python literal.
indirect enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    case dict([(key: String, value: PythonLiteral)])

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.none, .none): true
        case (.tuple(let a), .tuple(let b)), (.list(let a), .list(let b)): a == b
        case (.dict(let a), .dict(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }
}

/// A recursive-descent parser over the header's characters, with a depth limit.
struct PythonLiteralParser {
    private let characters: [Character]
    private var position = 0
    private let headerOffset: Int
    private static let maximumDepth = 16

    init(_ text: String, headerOffset: Int) {
        characters = Array(text)
        self.headerOffset = headerOffset
    }

    /// Parses exactly one literal followed only by whitespace.
    mutating func parseAll() throws(NumPyError) -> PythonLiteral {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard position == characters.count else { throw failure("unexpected text after the header dictionary") }
        return value
    }

    private func failure(_ message: String) -> NumPyError {
        NumPyError(.badHeader, message, offset: headerOffset + position)
    }

    private mutating func skipWhitespace() {
        while position < characters.count, characters[position].isWhitespace { position += 1 }
    }

    private mutating func parseValue(depth: Int) throws(NumPyError) -> PythonLiteral {
        guard depth < Self.maximumDepth else { throw failure("the header nests too deeply") }
        skipWhitespace()
        guard position < characters.count else { throw failure("the header ends too early") }
        switch characters[position] {
        case "{": return try parseDict(depth: depth)
        case "(": return try parseSequence(close: ")", depth: depth)
        case "[": return try parseSequence(close: "]", depth: depth)
        case "'", "\"": return .string(try parseString())
        case "-", "0"..."9": return .integer(try parseInteger())
        default:
            for (word, value) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)]
            where matches(word) {
                position += word.count
                return value
            }
            throw failure("unexpected character \"\(characters[position])\"")
        }
    }

    private func matches(_ word: String) -> Bool {
        let end = position + word.count
        guard end <= characters.count, String(characters[position..<end]) == word else { return false }
        return end == characters.count || !(characters[end].isLetter || characters[end].isNumber || characters[end] == "_")
    }

    private mutating func parseString() throws(NumPyError) -> String {
        let quote = characters[position]
        position += 1
        var result = ""
        while position < characters.count {
            let character = characters[position]
            position += 1
            if character == quote { return result }
            if character == "\\" {
                guard position < characters.count else { break }
                let escaped = characters[position]
                position += 1
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "\\", "'", "\"": result.append(escaped)
                default: throw failure("unsupported escape \\\(escaped) in a string")
                }
            } else {
                result.append(character)
            }
        }
        throw failure("unterminated string")
    }

    private mutating func parseInteger() throws(NumPyError) -> Int {
        let start = position
        if characters[position] == "-" { position += 1 }
        while position < characters.count, characters[position].isASCII, characters[position].isNumber { position += 1 }
        let text = String(characters[start..<position])
        // Python 2 wrote long integers with an L suffix: (3L, 4L).
        if position < characters.count, characters[position] == "L" { position += 1 }
        guard let value = Int(text) else { throw failure("\"\(text)\" is not an integer that fits in 64 bits") }
        return value
    }

    private mutating func parseSequence(close: Character, depth: Int) throws(NumPyError) -> PythonLiteral {
        position += 1
        var items: [PythonLiteral] = []
        while true {
            skipWhitespace()
            guard position < characters.count else { throw failure("unterminated \(close == ")" ? "tuple" : "list")") }
            if characters[position] == close {
                position += 1
                break
            }
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < characters.count else { continue }
            if characters[position] == "," {
                position += 1
            } else if characters[position] != close {
                throw failure("expected \",\" or \"\(close)\"")
            }
        }
        return close == ")" ? .tuple(items) : .list(items)
    }

    private mutating func parseDict(depth: Int) throws(NumPyError) -> PythonLiteral {
        position += 1
        var entries: [(key: String, value: PythonLiteral)] = []
        while true {
            skipWhitespace()
            guard position < characters.count else { throw failure("unterminated dictionary") }
            if characters[position] == "}" {
                position += 1
                break
            }
            guard characters[position] == "'" || characters[position] == "\"" else {
                throw failure("dictionary keys must be strings")
            }
            let key = try parseString()
            skipWhitespace()
            guard position < characters.count, characters[position] == ":" else { throw failure("expected \":\" after \"\(key)\"") }
            position += 1
            let value = try parseValue(depth: depth + 1)
            if entries.contains(where: { $0.key == key }) { throw failure("duplicate key \"\(key)\"") }
            entries.append((key, value))
            skipWhitespace()
            guard position < characters.count else { continue }
            if characters[position] == "," {
                position += 1
            } else if characters[position] != "}" {
                throw failure("expected \",\" or \"}\"")
            }
        }
        return .dict(entries)
    }
}
