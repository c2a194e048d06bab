import Foundation
import LSTMLayouts
import Testing

@testable import LSTMImportKeras

/// The strict JSON reader of Keras configs (issue 12): what Python's `json` writes is read, what Keras would
/// reject or read differently is refused with the byte offset.
@Suite("Strict JSON")
struct StrictJSONTests {
    static func parse(_ text: String) throws(ImportError) -> JSONValue {
        try JSONValue.parse(Data(text.utf8), what: "test")
    }

    @Test("Python's json output, NaN and infinities included, reads as written")
    func pythonOutput() throws {
        let value = try Self.parse(#" {"a": [1, -2.5e3, 0.0, true, false, null], "b": "x\"\\\/\n\u00e9\ud83d\ude00", "c": NaN, "d": -Infinity, "e": {}} "#)
        #expect(value["a"] == .array([.number(1), .number(-2500), .number(0), .bool(true), .bool(false), .null]))
        #expect(value["b"]?.string == "x\"\\/\n\u{e9}\u{1F600}")
        #expect(value["c"]?.brief == "nan")
        #expect(value["d"] == .number(-.infinity))
        #expect(value["e"] == .object([:]))
    }

    @Test(
        "Refused: duplicate keys, JSON5, numbers beyond float64, deep nesting, bad escapes",
        arguments: [
            (#"{"units": 5, "units": 6}"#, "appears twice"),
            (#"{"a": 1, /* c */ "b": 2}"#, "expected a quoted key"),
            (#"{"a": 1,}"#, "expected a quoted key"),
            (#"{'a': 1}"#, "expected a quoted key"),
            (#"{a: 1}"#, "expected a quoted key"),
            (#"[1, 2,]"#, "expected a value"),
            (#"{"a": 0x10}"#, "expected `,` or `}`"),
            (#"{"a": 1e400}"#, "out of the float64 range"),
            (#"{"a": 01}"#, "leading zero"),
            (#"{"a": +1}"#, "expected a value"),
            (#"{"a": .5}"#, "expected a value"),
            (#"{"a": "\ud800"}"#, "surrogate"),
            (#"{"a": "\x"}"#, "unknown escape"),
            ("{\"a\": \"\u{01}\"}", "control character"),
            (#"{"a": 1} {"#, "after the document"),
            (String(repeating: "[", count: 300) + String(repeating: "]", count: 300), "nesting deeper than 256"),
        ])
    func refused(_ text: String, _ reason: String) {
        let error = #expect(throws: ImportError.self) { try Self.parse(text) }
        #expect(error?.code == .malformedSource)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test("A 30,000-layer Functional chain is ordered (linear graph handling)")
    func longChain() throws {
        var layers = [#"{"class_name": "InputLayer", "name": "in", "config": {"name": "in"}, "inbound_nodes": []}"#]
        var previous = "in"
        for index in 0..<30_000 {
            layers.append(
                #"{"class_name": "Dropout", "name": "d\#(index)", "config": {"name": "d\#(index)"}, "inbound_nodes": [[["\#(previous)", 0, 0, {}]]]}"#)
            previous = "d\(index)"
        }
        let text = #"{"class_name": "Functional", "config": {"layers": [\#(layers.joined(separator: ","))], "input_layers": [["in", 0, 0]], "output_layers": [["\#(previous)", 0, 0]]}}"#
        let config = try KerasModelConfig.parse(Self.parse(text))
        #expect(config.layers.count == 30_001)
        #expect(config.layers.last?.name == previous)
    }
}
