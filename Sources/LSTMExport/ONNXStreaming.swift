import Foundation
import LSTMModel

/// Re-framing of a serialized `ModelProto` whose deferred initializers were serialized without `raw_data`: the
/// pieces of the file with those bytes in place, so that the file is written one tensor at a time.
///
/// swift-protobuf writes fields in field-number order with minimal varints. An initializer sets `dims` (1),
/// `data_type` (2), `name` (8) and `raw_data` (9) only, so its complete serialization is the one without `raw_data`
/// followed by field 9; the graph (`ModelProto` field 7) and each initializer (`GraphProto` field 5) get the length
/// prefixes of their complete form. The result is byte for byte `ONNXExport.serialized()`.
enum ONNXStreaming {
    enum Piece {
        case bytes(Data)
        case tensor(Tensor, name: String)

        var count: Int {
            switch self {
            case .bytes(let data): data.count
            case .tensor(let tensor, _): tensor.bytes.count
            }
        }
    }

    static func pieces(of serialized: Data, deferred: [Int: Tensor]) throws(ExportError) -> [Piece] {
        let bytes = [UInt8](serialized)
        var pieces: [Piece] = []
        try forEachField(bytes, 0..<bytes.count) { (field, wire, whole, payload) throws(ExportError) in
            guard field == 7, wire == 2 else {
                pieces.append(.bytes(Data(bytes[whole])))
                return
            }
            var graph: [Piece] = []
            var initializer = 0
            try forEachField(bytes, payload) { (field, wire, whole, payload) throws(ExportError) in
                defer { if field == 5 && wire == 2 { initializer += 1 } }
                guard field == 5, wire == 2, let tensor = deferred[initializer], tensor.bytes.count > 0 else {
                    graph.append(.bytes(Data(bytes[whole])))
                    return
                }
                let raw = tensor.bytes.count
                var head = Data(bytes[payload])
                head.append(0x4A)  // field 9, length-delimited
                head.append(contentsOf: varint(UInt64(raw)))
                var framing = Data([0x2A])  // field 5, length-delimited
                framing.append(contentsOf: varint(UInt64(head.count + raw)))
                graph.append(.bytes(framing + head))
                graph.append(.tensor(tensor, name: "initializer \(initializer)"))
            }
            var framing = Data([0x3A])  // field 7, length-delimited
            framing.append(contentsOf: varint(UInt64(graph.reduce(0) { $0 + $1.count })))
            pieces.append(.bytes(framing))
            pieces += graph
        }
        return pieces
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            let byte = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? byte : byte | 0x80)
        } while value != 0
        return out
    }

    /// Calls `body` with each field of the message in `range`: its number, wire type, its whole bytes (tag
    /// included) and, for a length-delimited field, its payload.
    private static func forEachField(
        _ bytes: [UInt8], _ range: Range<Int>, _ body: (Int, Int, Range<Int>, Range<Int>) throws(ExportError) -> Void
    ) throws(ExportError) {
        func malformed() -> ExportError { ExportError(.invalidModel, "cannot re-frame the serialized ONNX model") }
        func readVarint(_ at: inout Int) throws(ExportError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard at < range.upperBound, shift < 64 else { throw malformed() }
                let byte = bytes[at]
                at += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        var at = range.lowerBound
        while at < range.upperBound {
            let start = at
            let tag = try readVarint(&at)
            let (field, wire) = (Int(tag >> 3), Int(tag & 7))
            var payload = at..<at
            switch wire {
            case 0: _ = try readVarint(&at)
            case 1: at += 8
            case 5: at += 4
            case 2:
                let length = try readVarint(&at)
                guard length <= UInt64(range.upperBound - at) else { throw malformed() }
                payload = at..<(at + Int(length))
                at += Int(length)
            default: throw malformed()
            }
            guard at <= range.upperBound else { throw malformed() }
            try body(field, wire, start..<at, payload)
        }
    }
}
