import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import LSTMTestSupport
import Testing

/// `spec/mappings-pytorch.md` shows exactly the tables the PyTorch importer slices with.
@Suite struct PyTorchSpecTests {
    static let begin = "<!-- BEGIN PYTORCH TABLES (swift test regenerates with RECORD_SPEC=1) -->"
    static let end = "<!-- END PYTORCH TABLES -->"
    static let url = PyTorchFixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("spec/mappings-pytorch.md")

    @Test func specShowsTheTablesTheCodeUses() throws {
        let document = try String(contentsOf: Self.url, encoding: .utf8)
        let rendered = Self.begin + "\n\n" + PyTorchLayouts.markdown + "\n\n" + Self.end
        let range = try #require(document.range(of: Self.begin).flatMap { begin in
            document.range(of: Self.end).map { begin.lowerBound..<$0.upperBound }
        }, "spec/mappings-pytorch.md has no generated block")
        if ProcessInfo.processInfo.environment["RECORD_SPEC"] == "1" {
            try document.replacingCharacters(in: range, with: rendered).write(to: Self.url, atomically: true, encoding: .utf8)
            return
        }
        #expect(String(document[range]) == rendered, "spec/mappings-pytorch.md is stale: run RECORD_SPEC=1 swift test --filter PyTorchSpecTests")
    }

    @Test func tablesCoverTheirCellsAndUseStableIds() {
        #expect(PyTorchLayouts.all.map(\.id) == ["pytorch.lstm", "pytorch.gru", "pytorch.rnn"])
        #expect(PyTorchLayouts.rnn.gates.map(\.gate) == [.s])
        #expect(Set(PyTorchLayouts.lstm.gates.map(\.gate)) == [.i, .f, .n, .v])
        #expect(Set(PyTorchLayouts.gru.gates.map(\.gate)) == [.r, .z, .c])
    }
}
