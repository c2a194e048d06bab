import Foundation
import LSTMLayouts
import LSTMModel

// A restricted unpickler: it implements the opcodes `torch.save(state_dict)` emits and resolves only an
// allow-list of globals, each to a fixed Swift behaviour. It never imports, calls or executes anything named
// in the file: a GLOBAL outside the list is refused the moment it is read, before any REDUCE could use it.

/// An element type named by a torch storage class or dtype global.
struct TorchElementType: Sendable, Equatable {
    /// The torch name, e.g. `float32`, `int64`, `uint8 (untyped)`.
    var name: String
    /// Bytes per element.
    var width: Int
    /// The lstmconv dtype, `nil` for element types lstmconv does not store.
    var dtype: DType?

    /// `torch.<X>Storage` classes (legacy typed storages, still written by `torch.save`).
    static let storages: [String: TorchElementType] = [
        "FloatStorage": .init(name: "float32", width: 4, dtype: .f32),
        "HalfStorage": .init(name: "float16", width: 2, dtype: .f16),
        "BFloat16Storage": .init(name: "bfloat16", width: 2, dtype: .bf16),
        "DoubleStorage": .init(name: "float64", width: 8, dtype: .f64),
        "LongStorage": .init(name: "int64", width: 8, dtype: nil),
        "IntStorage": .init(name: "int32", width: 4, dtype: nil),
        "ShortStorage": .init(name: "int16", width: 2, dtype: nil),
        "CharStorage": .init(name: "int8", width: 1, dtype: nil),
        "ByteStorage": .init(name: "uint8", width: 1, dtype: nil),
        "BoolStorage": .init(name: "bool", width: 1, dtype: nil),
        "ComplexFloatStorage": .init(name: "complex64", width: 8, dtype: nil),
        "ComplexDoubleStorage": .init(name: "complex128", width: 16, dtype: nil),
        "QInt8Storage": .init(name: "qint8", width: 1, dtype: nil),
        "QUInt8Storage": .init(name: "quint8", width: 1, dtype: nil),
        "QInt32Storage": .init(name: "qint32", width: 4, dtype: nil),
        "QUInt4x2Storage": .init(name: "quint4x2", width: 1, dtype: nil),
        "QUInt2x4Storage": .init(name: "quint2x4", width: 1, dtype: nil),
    ]

    /// `torch.storage.UntypedStorage`: bytes; the tensor's dtype comes from `_rebuild_tensor_v3`.
    static let untyped = TorchElementType(name: "uint8 (untyped storage)", width: 1, dtype: nil)

    /// `torch.<dtype>` globals (arguments of `_rebuild_tensor_v3`).
    static let dtypes: [String: TorchElementType] = {
        var table: [String: TorchElementType] = [:]
        let entries: [(String, Int, DType?)] = [
            ("float32", 4, .f32), ("float", 4, .f32), ("float16", 2, .f16), ("half", 2, .f16),
            ("bfloat16", 2, .bf16), ("float64", 8, .f64), ("double", 8, .f64),
            ("int64", 8, nil), ("long", 8, nil), ("int32", 4, nil), ("int", 4, nil), ("int16", 2, nil),
            ("short", 2, nil), ("int8", 1, nil), ("uint8", 1, nil), ("uint16", 2, nil), ("uint32", 4, nil),
            ("uint64", 8, nil), ("bool", 1, nil), ("complex64", 8, nil), ("complex128", 16, nil),
            ("complex32", 4, nil), ("float8_e4m3fn", 1, nil), ("float8_e5m2", 1, nil),
            ("float8_e4m3fnuz", 1, nil), ("float8_e5m2fnuz", 1, nil), ("float8_e8m0fnu", 1, nil),
        ]
        for (name, width, dtype) in entries {
            table[name] = TorchElementType(name: name, width: width, dtype: dtype)
        }
        return table
    }()
}

/// A storage named by a persistent id: `('storage', <Storage class>, key, location, numel)`.
struct StorageRef: Sendable, Equatable {
    var key: String
    var elementType: TorchElementType
    /// Elements of `elementType` the storage holds.
    var count: Int
}

/// A tensor view described by `_rebuild_tensor_v2/v3`: not yet materialised.
struct TensorRef: Sendable, Equatable {
    var storage: StorageRef
    var elementType: TorchElementType
    var offset: Int
    var size: [Int]
    var stride: [Int]
}

/// The callables a state_dict pickle may REDUCE, each with a fixed Swift meaning.
enum PickleCallable: String, Sendable {
    case orderedDict = "collections.OrderedDict"
    case rebuildTensorV2 = "torch._utils._rebuild_tensor_v2"
    case rebuildTensorV3 = "torch._utils._rebuild_tensor_v3"
    case rebuildParameter = "torch._utils._rebuild_parameter"
    case rebuildParameterWithState = "torch._utils._rebuild_parameter_with_state"
}

/// A global on the allow-list.
enum AllowedGlobal: Sendable, Equatable {
    case callable(PickleCallable)
    case storage(TorchElementType)
    case dtype(TorchElementType)
}

final class PickleList {
    var items: [PickleValue] = []
    var depth = 1
}

final class PickleDict {
    var items: [(key: PickleValue, value: PickleValue)] = []
    var depth = 1
}

/// A value on the unpickler's stack.
enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// A LONG too wide for `Int`: its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes(Data)
    case tuple([PickleValue], depth: Int)
    case list(PickleList)
    case dict(PickleDict)
    case global(AllowedGlobal, name: String)
    case storage(StorageRef)
    case tensor(TensorRef)

    /// Nesting depth, kept so a hostile pickle cannot build structures deep enough to exhaust the stack.
    var depth: Int {
        switch self {
        case .tuple(_, let depth): depth
        case .list(let list): list.depth
        case .dict(let dict): dict.depth
        default: 0
        }
    }

    /// A short description for error messages.
    var kind: String {
        switch self {
        case .none: "None"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .float: "float"
        case .string: "str"
        case .bytes: "bytes"
        case .tuple: "tuple"
        case .list: "list"
        case .dict: "dict"
        case .global(_, let name): name
        case .storage: "storage"
        case .tensor: "tensor"
        }
    }
}

/// The restricted unpickler.
struct Unpickler {
    /// Nesting limit for tuples, lists and dicts (a state_dict needs 3 or 4).
    static let maxDepth = 100
    /// Longest GLOBAL module or name line.
    static let maxLineLength = 512

    let data: Data
    /// Absolute index of the next byte in `data`.
    private(set) var position: Int
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    /// Every list and dict the current pickle created.
    private var containers: [PickleValue] = []
    private let persistentLoad: (PickleValue) throws(ImportError) -> PickleValue

    init(_ data: Data, persistentLoad: @escaping (PickleValue) throws(ImportError) -> PickleValue) {
        self.data = data
        self.position = data.startIndex
        self.persistentLoad = persistentLoad
    }

    /// Offset of the next byte from the start of the data.
    var offset: Int { position - data.startIndex }

    /// Reads one pickle (up to its STOP) and returns its value. Call again to read a following pickle.
    ///
    /// A list or dict that contains itself (possible with the memo: `APPEND` a list to itself) is refused, and the
    /// containers of a pickle that fails are emptied, so no reference cycle outlives the call.
    mutating func load() throws(ImportError) -> PickleValue {
        stack = []
        marks = []
        memo = [:]
        containers = []
        defer { containers = [] }
        do throws(ImportError) {
            while true {
                let opcodeOffset = offset
                let opcode = try byte()
                if let result = try step(opcode, at: opcodeOffset) {
                    guard !containsCycle() else {
                        throw malformed("a list or dict contains itself; a state_dict is a tree")
                    }
                    return result
                }
            }
        } catch {
            for container in containers {
                switch container {
                case .list(let list): list.items = []
                case .dict(let dict): dict.items = []
                default: break
                }
            }
            stack = []
            memo = [:]
            throw error
        }
    }

    // MARK: - Reference cycles

    /// Records a new list or dict, for the cycle check and for clean-up on failure.
    private mutating func created(_ container: PickleValue) -> PickleValue {
        containers.append(container)
        return container
    }

    /// Records the dict a call (`OrderedDict(...)`) returned; other values pass through.
    private mutating func tracked(_ value: PickleValue) -> PickleValue {
        if case .dict = value { containers.append(value) }
        return value
    }

    /// Whether some list or dict reaches itself (iterative depth-first search: pickles may nest deeply).
    private func containsCycle() -> Bool {
        var finished: [ObjectIdentifier: Bool] = [:]  // false: on the current path; true: fully explored
        for root in containers {
            guard let rootID = Self.identity(root), finished[rootID] == nil else { continue }
            var path: [(id: ObjectIdentifier, children: [PickleValue], next: Int)] = [(rootID, Self.children(of: root), 0)]
            finished[rootID] = false
            while let last = path.last {
                guard last.next < last.children.count else {
                    finished[last.id] = true
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let child = last.children[last.next]
                guard let childID = Self.identity(child) else { continue }
                switch finished[childID] {
                case false?: return true
                case true?: continue
                case nil:
                    finished[childID] = false
                    path.append((childID, Self.children(of: child), 0))
                }
            }
        }
        return false
    }

    private static func identity(_ value: PickleValue) -> ObjectIdentifier? {
        switch value {
        case .list(let list): ObjectIdentifier(list)
        case .dict(let dict): ObjectIdentifier(dict)
        default: nil
        }
    }

    /// The lists and dicts directly inside a container, looking through tuples (values, nested at most
    /// `maxDepth`).
    private static func children(of value: PickleValue) -> [PickleValue] {
        var result: [PickleValue] = []
        func collect(_ item: PickleValue) {
            switch item {
            case .list, .dict: result.append(item)
            case .tuple(let items, _): items.forEach(collect)
            default: break
            }
        }
        switch value {
        case .list(let list): list.items.forEach(collect)
        case .dict(let dict):
            for (key, item) in dict.items {
                collect(key)
                collect(item)
            }
        default: break
        }
        return result
    }

    // MARK: - Reading bytes

    private func malformed(_ message: String, at offset: Int? = nil) -> ImportError {
        ImportError(.malformedSource, "pickle: " + message, offset: offset ?? self.offset)
    }

    private mutating func byte() throws(ImportError) -> UInt8 {
        guard position < data.endIndex else { throw malformed("truncated (no STOP opcode)") }
        defer { position += 1 }
        return data[position]
    }

    private mutating func bytes(_ count: Int) throws(ImportError) -> Data {
        guard count >= 0, count <= data.endIndex - position else {
            throw malformed("a \(count)-byte argument runs past the end of the pickle")
        }
        defer { position += count }
        return data[position ..< position + count]
    }

    /// A little-endian unsigned integer of `width` bytes.
    private mutating func unsigned(_ width: Int) throws(ImportError) -> UInt64 {
        let raw = try bytes(width)
        return raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A length argument that must fit in the remaining bytes.
    private mutating func length(_ width: Int) throws(ImportError) -> Int {
        let value = try unsigned(width)
        guard let count = Int(exactly: value), count <= data.endIndex - position else {
            throw malformed("length \(value) runs past the end of the pickle")
        }
        return count
    }

    private mutating func line() throws(ImportError) -> String {
        var raw: [UInt8] = []
        while true {
            let next = try byte()
            if next == UInt8(ascii: "\n") { break }
            raw.append(next)
            guard raw.count <= Self.maxLineLength else { throw malformed("text argument longer than \(Self.maxLineLength) bytes") }
        }
        guard let text = String(bytes: raw, encoding: .utf8) else { throw malformed("text argument is not UTF-8") }
        return text
    }

    private mutating func utf8(_ count: Int) throws(ImportError) -> String {
        let raw = try bytes(count)
        guard let text = String(data: raw, encoding: .utf8) else { throw malformed("string is not UTF-8") }
        return text
    }

    // MARK: - Stack

    private mutating func push(_ value: PickleValue) { stack.append(value) }

    private mutating func pop() throws(ImportError) -> PickleValue {
        guard let value = stack.popLast() else { throw malformed("stack underflow") }
        if let mark = marks.last, stack.count < mark { throw malformed("stack underflow past a MARK") }
        return value
    }

    private func top() throws(ImportError) -> PickleValue {
        guard let value = stack.last, stack.count > (marks.last ?? 0) || marks.isEmpty else { throw malformed("stack underflow") }
        return value
    }

    private mutating func popMark() throws(ImportError) -> [PickleValue] {
        guard let mark = marks.popLast() else { throw malformed("no MARK on the stack") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    private func tuple(_ items: [PickleValue]) throws(ImportError) -> PickleValue {
        let depth = 1 + (items.map(\.depth).max() ?? 0)
        guard depth <= Self.maxDepth else { throw malformed("nesting deeper than \(Self.maxDepth)") }
        return .tuple(items, depth: depth)
    }

    /// The depth of a container after adding `child` (read before writing: a list may be appended to itself).
    private func grown(_ depth: Int, with child: PickleValue) throws(ImportError) -> Int {
        let childDepth = child.depth
        guard childDepth < Self.maxDepth else { throw malformed("nesting deeper than \(Self.maxDepth)") }
        return max(depth, childDepth + 1)
    }

    private func append(_ items: [PickleValue], to target: PickleValue) throws(ImportError) {
        guard case .list(let list) = target else { throw malformed("APPEND to a \(target.kind), not a list") }
        for item in items { list.depth = try grown(list.depth, with: item) }
        list.items += items
    }

    private func setItems(_ items: [PickleValue], in target: PickleValue) throws(ImportError) {
        guard case .dict(let dict) = target else { throw malformed("SETITEM on a \(target.kind), not a dict") }
        guard items.count % 2 == 0 else { throw malformed("SETITEMS with an odd number of items") }
        for index in stride(from: 0, to: items.count, by: 2) {
            dict.depth = try grown(dict.depth, with: items[index])
            dict.depth = try grown(dict.depth, with: items[index + 1])
            dict.items.append((items[index], items[index + 1]))
        }
    }

    private mutating func memoize(_ index: Int) throws(ImportError) {
        memo[index] = try top()
    }

    private func recall(_ index: Int) throws(ImportError) -> PickleValue {
        guard let value = memo[index] else { throw malformed("memo entry \(index) read before it was written") }
        return value
    }

    // MARK: - Opcodes

    /// Executes one opcode; returns the result at STOP.
    private mutating func step(_ opcode: UInt8, at opcodeOffset: Int) throws(ImportError) -> PickleValue? {
        switch opcode {
        case 0x80:  // PROTO
            let version = try byte()
            guard version <= 5 else { throw malformed("unknown pickle protocol \(version)", at: opcodeOffset) }
        case 0x95:  // FRAME: a length hint only
            _ = try unsigned(8)
        case UInt8(ascii: "."):  // STOP
            let result = try pop()
            return result
        case UInt8(ascii: "("):  // MARK
            marks.append(stack.count)
        case UInt8(ascii: "0"):  // POP
            _ = try pop()
        case UInt8(ascii: "1"):  // POP_MARK
            _ = try popMark()
        case UInt8(ascii: "2"):  // DUP
            push(try top())

        // Constants and numbers.
        case UInt8(ascii: "N"): push(.none)
        case 0x88: push(.bool(true))  // NEWTRUE
        case 0x89: push(.bool(false))  // NEWFALSE
        case UInt8(ascii: "K"): push(.int(Int(try unsigned(1))))  // BININT1
        case UInt8(ascii: "M"): push(.int(Int(try unsigned(2))))  // BININT2
        case UInt8(ascii: "J"): push(.int(Int(Int32(truncatingIfNeeded: try unsigned(4)))))  // BININT
        case 0x8a: push(try long(try bytes(try length(1))))  // LONG1
        case 0x8b: push(try long(try bytes(try length(4))))  // LONG4
        case UInt8(ascii: "I"):  // INT (text)
            let text = try line()
            switch text {
            case "01": push(.bool(true))
            case "00": push(.bool(false))
            default:
                guard let value = Int(text) else { throw malformed("INT argument \"\(text)\" is not an integer", at: opcodeOffset) }
                push(.int(value))
            }
        case UInt8(ascii: "L"):  // LONG (text)
            var text = try line()
            if text.hasSuffix("L") { text.removeLast() }
            if let value = Int(text) {
                push(.int(value))
            } else if let wide = Self.wideDecimal(text) {
                push(.bigInt(wide))  // protocol 0/1 legacy torch.save magic number, for one
            } else {
                throw malformed("LONG argument \"\(text.prefix(40))\" is not an integer of at most 64 digits", at: opcodeOffset)
            }
        case UInt8(ascii: "G"):  // BINFLOAT (big-endian)
            push(.float(Double(bitPattern: try bytes(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
        case UInt8(ascii: "F"):  // FLOAT (text)
            let text = try line()
            guard let value = Double(text) else { throw malformed("FLOAT argument \"\(text)\" is not a number", at: opcodeOffset) }
            push(.float(value))

        // Strings and bytes.
        case UInt8(ascii: "X"): push(.string(try utf8(try length(4))))  // BINUNICODE
        case 0x8c: push(.string(try utf8(try length(1))))  // SHORT_BINUNICODE
        case 0x8d: push(.string(try utf8(try length(8))))  // BINUNICODE8
        case UInt8(ascii: "U"): push(.string(String(decoding: try bytes(try length(1)), as: Unicode.ASCII.self)))  // SHORT_BINSTRING
        case UInt8(ascii: "T"): push(.string(String(decoding: try bytes(try length(4)), as: Unicode.ASCII.self)))  // BINSTRING
        case UInt8(ascii: "C"): push(.bytes(Data(try bytes(try length(1)))))  // SHORT_BINBYTES
        case UInt8(ascii: "B"): push(.bytes(Data(try bytes(try length(4)))))  // BINBYTES
        case 0x8e: push(.bytes(Data(try bytes(try length(8)))))  // BINBYTES8

        // Containers.
        case UInt8(ascii: ")"): push(.tuple([], depth: 1))  // EMPTY_TUPLE
        case 0x85: push(try tuple([try pop()]))  // TUPLE1
        case 0x86:  // TUPLE2
            let second = try pop()
            push(try tuple([try pop(), second]))
        case 0x87:  // TUPLE3
            let third = try pop()
            let second = try pop()
            push(try tuple([try pop(), second, third]))
        case UInt8(ascii: "t"): push(try tuple(try popMark()))  // TUPLE
        case UInt8(ascii: "]"): push(created(.list(PickleList())))  // EMPTY_LIST
        case UInt8(ascii: "l"):  // LIST
            let list = PickleList()
            _ = created(.list(list))
            try append(try popMark(), to: .list(list))
            push(.list(list))
        case UInt8(ascii: "a"):  // APPEND
            let item = try pop()
            try append([item], to: try top())
        case UInt8(ascii: "e"):  // APPENDS
            let items = try popMark()
            try append(items, to: try top())
        case UInt8(ascii: "}"): push(created(.dict(PickleDict())))  // EMPTY_DICT
        case UInt8(ascii: "d"):  // DICT
            let dict = PickleDict()
            _ = created(.dict(dict))
            try setItems(try popMark(), in: .dict(dict))
            push(.dict(dict))
        case UInt8(ascii: "s"):  // SETITEM
            let value = try pop()
            let key = try pop()
            try setItems([key, value], in: try top())
        case UInt8(ascii: "u"):  // SETITEMS
            let items = try popMark()
            try setItems(items, in: try top())

        // Memo.
        case UInt8(ascii: "q"): try memoize(Int(try unsigned(1)))  // BINPUT
        case UInt8(ascii: "r"): try memoize(Int(try unsigned(4)))  // LONG_BINPUT
        case 0x94: try memoize(memo.count)  // MEMOIZE
        case UInt8(ascii: "p"):  // PUT (text)
            guard let index = Int(try line()), index >= 0 else { throw malformed("PUT index is not a number", at: opcodeOffset) }
            try memoize(index)
        case UInt8(ascii: "h"): push(try recall(Int(try unsigned(1))))  // BINGET
        case UInt8(ascii: "j"): push(try recall(Int(try unsigned(4))))  // LONG_BINGET
        case UInt8(ascii: "g"):  // GET (text)
            guard let index = Int(try line()) else { throw malformed("GET index is not a number", at: opcodeOffset) }
            push(try recall(index))

        // Globals and calls: only the allow-list, each with a fixed Swift meaning.
        case UInt8(ascii: "c"):  // GLOBAL
            let module = try line()
            let name = try line()
            push(try Self.resolve(module: module, name: name, at: opcodeOffset))
        case 0x93:  // STACK_GLOBAL
            let name = try pop()
            let module = try pop()
            guard case .string(let moduleName) = module, case .string(let globalName) = name else {
                throw malformed("STACK_GLOBAL needs two strings, found \(module.kind) and \(name.kind)", at: opcodeOffset)
            }
            push(try Self.resolve(module: moduleName, name: globalName, at: opcodeOffset))
        case UInt8(ascii: "i"):  // INST: module and name inline, arguments since MARK
            let module = try line()
            let name = try line()
            let callable = try Self.resolve(module: module, name: name, at: opcodeOffset)
            push(tracked(try call(callable, try popMark(), at: opcodeOffset)))
        case UInt8(ascii: "o"):  // OBJ: class and arguments since MARK
            var items = try popMark()
            guard !items.isEmpty else { throw malformed("OBJ without a class", at: opcodeOffset) }
            let callable = items.removeFirst()
            push(tracked(try call(callable, items, at: opcodeOffset)))
        case UInt8(ascii: "R"):  // REDUCE
            let arguments = try pop()
            let callable = try pop()
            guard case .tuple(let items, _) = arguments else {
                throw malformed("REDUCE arguments must be a tuple, found \(arguments.kind)", at: opcodeOffset)
            }
            push(tracked(try call(callable, items, at: opcodeOffset)))
        case 0x81:  // NEWOBJ
            let arguments = try pop()
            let cls = try pop()
            guard case .tuple(let items, _) = arguments else { throw malformed("NEWOBJ arguments must be a tuple", at: opcodeOffset) }
            push(tracked(try call(cls, items, at: opcodeOffset)))
        case 0x92:  // NEWOBJ_EX
            let keywords = try pop()
            let arguments = try pop()
            let cls = try pop()
            guard case .tuple(let items, _) = arguments, case .dict(let keywordDict) = keywords, keywordDict.items.isEmpty else {
                throw malformed("NEWOBJ_EX with keyword arguments is not part of a state_dict", at: opcodeOffset)
            }
            push(tracked(try call(cls, items, at: opcodeOffset)))
        case UInt8(ascii: "b"):  // BUILD
            let state = try pop()
            let target = try top()
            switch target {
            case .dict:
                // An OrderedDict's instance attributes (`_metadata`: per-module versions). Not needed.
                _ = state
            case .tensor:
                // Tensor attributes (`__dict__` of a subclass-free tensor). Not needed.
                _ = state
            default:
                throw malformed("BUILD on a \(target.kind) is not part of a state_dict", at: opcodeOffset)
            }
        case UInt8(ascii: "Q"):  // BINPERSID
            let id = try pop()
            push(try persistentLoad(id))
        case UInt8(ascii: "P"):  // PERSID (text)
            push(try persistentLoad(.string(try line())))
        case 0x82, 0x83, 0x84:  // EXT1, EXT2, EXT4
            throw ImportError(
                .forbiddenPickle, "the pickle asks for a callable from the copyreg extension registry; nothing was executed",
                offset: opcodeOffset)
        default:
            let name = opcode >= 0x20 && opcode < 0x7f ? "'\(Character(UnicodeScalar(opcode)))'" : String(format: "0x%02x", opcode)
            throw malformed("opcode \(name) is not used by a state_dict and is not supported", at: opcodeOffset)
        }
        return nil
    }

    /// A non-negative decimal of at most 64 digits as little-endian two's-complement bytes (a text `LONG` wider
    /// than `Int`), or `nil`.
    static func wideDecimal(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count <= 64, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var bytes: [UInt8] = [0]
        for digit in digits {
            var carry = UInt32(digit - 0x30)
            for index in bytes.indices {
                let value = UInt32(bytes[index]) * 10 + carry
                bytes[index] = UInt8(value & 0xff)
                carry = value >> 8
            }
            while carry > 0 {
                bytes.append(UInt8(carry & 0xff))
                carry >>= 8
            }
        }
        if let last = bytes.last, last & 0x80 != 0 { bytes.append(0) }  // keep it positive
        return bytes
    }

    private func long(_ raw: Data) throws(ImportError) -> PickleValue {
        let bytes = [UInt8](raw)
        guard !bytes.isEmpty else { return .int(0) }
        let negative = bytes[bytes.count - 1] & 0x80 != 0
        // Drop redundant sign-extension bytes so that values fitting in Int are ints.
        var trimmed = bytes
        while trimmed.count > 1, trimmed[trimmed.count - 1] == (negative ? 0xff : 0x00),
            (trimmed[trimmed.count - 2] & 0x80 != 0) == negative
        {
            trimmed.removeLast()
        }
        guard trimmed.count <= 8 else { return .bigInt(bytes) }
        var value: UInt64 = negative ? UInt64.max : 0
        for (index, byte) in trimmed.enumerated() {
            value &= ~(UInt64(0xff) << (8 * UInt64(index)))
            value |= UInt64(byte) << (8 * UInt64(index))
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    // MARK: - The allow-list

    /// Resolves a GLOBAL. Anything outside the allow-list is refused here, naming it.
    static func resolve(module: String, name: String, at offset: Int) throws(ImportError) -> PickleValue {
        let fullName = "\(module).\(name)"
        if let callable = PickleCallable(rawValue: fullName) { return .global(.callable(callable), name: fullName) }
        if module == "torch", let storage = TorchElementType.storages[name] { return .global(.storage(storage), name: fullName) }
        if (module == "torch.storage" || module == "torch"), name == "UntypedStorage" {
            return .global(.storage(TorchElementType.untyped), name: fullName)
        }
        if module == "torch", let dtype = TorchElementType.dtypes[name] { return .global(.dtype(dtype), name: fullName) }
        var message = "global `\(fullName)` is not on the allow-list of a state_dict pickle; nothing was executed"
        if module.hasPrefix("__torch__") {
            message += ". This is a TorchScript archive (`torch.jit.save`); save `model.state_dict()` with `torch.save` instead"
        } else if module == "__main__" || module.hasPrefix("torch.nn") || module.hasPrefix("torch.jit") {
            message += ". This looks like a whole pickled model (`torch.save(model)`); save `model.state_dict()` instead"
        }
        throw ImportError(.forbiddenPickle, message, location: fullName, offset: offset)
    }

    /// Applies an allowed callable to its arguments.
    private func call(_ callable: PickleValue, _ arguments: [PickleValue], at offset: Int) throws(ImportError) -> PickleValue {
        guard case .global(let global, let name) = callable else {
            throw ImportError(.forbiddenPickle, "the pickle calls a \(callable.kind), which is not an allowed callable; nothing was executed", offset: offset)
        }
        guard case .callable(let function) = global else {
            throw ImportError(.forbiddenPickle, "the pickle calls `\(name)`, which a state_dict never calls; nothing was executed", location: name, offset: offset)
        }
        func bad(_ detail: String) -> ImportError {
            malformed("\(name) called with \(detail)", at: offset)
        }
        switch function {
        case .orderedDict:
            let dict = PickleDict()
            if arguments.isEmpty { return .dict(dict) }
            guard arguments.count == 1 else { throw bad("\(arguments.count) arguments") }
            let pairs: [PickleValue]
            switch arguments[0] {
            case .list(let list): pairs = list.items
            case .tuple(let items, _): pairs = items
            default: throw bad("a \(arguments[0].kind)")
            }
            for pair in pairs {
                guard case .tuple(let items, _) = pair, items.count == 2 else { throw bad("an item that is not a (key, value) pair") }
                try setItems(items, in: .dict(dict))
            }
            return .dict(dict)
        case .rebuildTensorV2, .rebuildTensorV3:
            let isV3 = function == .rebuildTensorV3
            let counts = isV3 ? 7...8 : 6...7
            guard counts.contains(arguments.count) else { throw bad("\(arguments.count) arguments") }
            guard case .storage(let storage) = arguments[0] else { throw bad("a \(arguments[0].kind) as storage") }
            guard case .int(let storageOffset) = arguments[1], storageOffset >= 0 else { throw bad("a bad storage offset") }
            let size = try ints(arguments[2], "size", bad)
            let stride = try ints(arguments[3], "stride", bad)
            var elementType = storage.elementType
            if isV3 {
                guard case .global(.dtype(let dtype), _) = arguments[6] else { throw bad("a \(arguments[6].kind) as dtype") }
                elementType = dtype
            }
            return .tensor(TensorRef(storage: storage, elementType: elementType, offset: storageOffset, size: size, stride: stride))
        case .rebuildParameter, .rebuildParameterWithState:
            guard arguments.count == (function == .rebuildParameter ? 3 : 4) else { throw bad("\(arguments.count) arguments") }
            guard case .tensor = arguments[0] else { throw bad("a \(arguments[0].kind) as data") }
            return arguments[0]
        }
    }

    private func ints(_ value: PickleValue, _ what: String, _ bad: (String) -> ImportError) throws(ImportError) -> [Int] {
        guard case .tuple(let items, _) = value, items.count <= 64 else { throw bad("a \(value.kind) as \(what)") }
        var result: [Int] = []
        for item in items {
            guard case .int(let number) = item, number >= 0 else { throw bad("a \(what) that is not a tuple of non-negative ints") }
            result.append(number)
        }
        return result
    }
}
