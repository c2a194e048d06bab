import Foundation
import LSTMLayouts
import LSTMImportONNX
import LSTMTestSupport
import Testing

/// `spec/mappings-onnx.md` shows exactly the tables the ONNX importer slices with and the exporter fuses with.
@Suite struct ONNXSpecTests {
    static let begin = "<!-- BEGIN ONNX TABLES (swift test regenerates with RECORD_SPEC=1) -->"
    static let end = "<!-- END ONNX TABLES -->"
    static let url = ONNXFixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("spec/mappings-onnx.md")

    @Test func specShowsTheTablesTheCodeUses() throws {
        let document = try String(contentsOf: Self.url, encoding: .utf8)
        let rendered = Self.begin + "\n\n" + ONNXLayouts.markdown + "\n\n" + Self.end
        let range = try #require(document.range(of: Self.begin).flatMap { begin in
            document.range(of: Self.end).map { begin.lowerBound..<$0.upperBound }
        }, "spec/mappings-onnx.md has no generated block")
        if ProcessInfo.processInfo.environment["RECORD_SPEC"] == "1" {
            try document.replacingCharacters(in: range, with: rendered).write(to: Self.url, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(document[range]) == rendered, "spec/mappings-onnx.md is stale: run RECORD_SPEC=1 swift test --filter ONNXSpecTests")
    }

    @Test func tablesCoverTheirCellsAndUseStableIds() {
        #expect(ONNXLayouts.all.map(\.id) == ["onnx.lstm", "onnx.gru", "onnx.rnn"])
    }
}
