import Foundation
import LSTMLayouts
import LSTMImportKeras
import LSTMTestSupport
import Testing

/// `spec/mappings-keras.md` must show exactly the tables the Keras importer slices with.
@Suite("Keras mapping spec")
struct KerasSpecTests {
    static var specURL: URL { KerasFixtures.root.appendingPathComponent("spec/mappings-keras.md") }

    @Test("the generated block equals KerasLayouts.all")
    func specShowsTheKerasTables() throws {
        let rendered = MappingSpec.render(KerasLayouts.all)
        let document = try String(contentsOf: Self.specURL, encoding: .utf8)
        if ProcessInfo.processInfo.environment["RECORD_SPEC"] == "1" {
            try MappingSpec.replacingGeneratedBlock(in: document, with: rendered).write(to: Self.specURL, atomically: true, encoding: .utf8)
            return
        }
        let block = try #require(MappingSpec.generatedBlock(in: document), "spec/mappings-keras.md has no generated block")
        #expect(block == rendered, "spec/mappings-keras.md is stale: run RECORD_SPEC=1 swift test --filter KerasSpecTests")
    }

    @Test("every Keras table covers each gate of its cell once, with unique ids")
    func tablesAreComplete() {
        #expect(Set(KerasLayouts.all.map(\.id)).count == KerasLayouts.all.count)
        for layout in KerasLayouts.all {
            let gates = layout.gates.map(\.gate)
            let expected: Set<DocumentGate> = switch layout.cell {
            case .lstm: [.n, .i, .f, .v]
            case .gru: [.z, .r, .c]
            case .rnn: [.s]
            }
            #expect(Set(gates) == expected)
            #expect(gates.count == Set(gates).count)
        }
    }
}
