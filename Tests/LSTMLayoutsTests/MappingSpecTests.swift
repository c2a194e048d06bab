import Foundation
import LSTMLayouts
import LSTMImportKeras
import LSTMImportONNX
import LSTMImportPyTorch
import Testing
import LSTMTestSupport

/// `spec/mappings.md` must show exactly the documented-only table (TF1) of `DocumentedLayouts`;
/// `spec/mappings-pytorch.md`, `spec/mappings-keras.md` and `spec/mappings-onnx.md` are checked by the importers' own spec tests.
/// Every layout of every framework must be well formed and have a unique id.
@Suite struct MappingSpecTests {
    static let layouts: [FusedLayout] = PyTorchLayouts.all + KerasLayouts.all + ONNXLayouts.all + DocumentedLayouts.all

    static var specURL: URL {
        FixturePaths.spec("mappings.md")
    }

    @Test func specShowsTheTablesTheCodeUses() throws {
        let rendered = MappingSpec.render(DocumentedLayouts.all)
        let document = try String(contentsOf: Self.specURL, encoding: .utf8)
        if ProcessInfo.processInfo.environment["RECORD_SPEC"] == "1" {
            try MappingSpec.replacingGeneratedBlock(in: document, with: rendered)
                .write(to: Self.specURL, atomically: true, encoding: .utf8)
            return
        }
        let block = try #require(MappingSpec.generatedBlock(in: document), "spec/mappings.md has no generated block")
        #expect(block == rendered, "spec/mappings.md is stale: run RECORD_SPEC=1 swift test --filter MappingSpecTests")
    }

    @Test(arguments: layouts.map(\.id))
    func everyGateOfTheCellAppearsExactlyOnce(id: String) throws {
        let layout = try #require(Self.layouts.first { $0.id == id })
        let expected: Set<DocumentGate> = switch layout.cell {
        case .lstm: [.n, .i, .f, .v]
        case .gru: [.z, .r, .c]
        case .rnn: [.s]
        }
        #expect(Set(layout.gates.map(\.gate)) == expected)
        #expect(layout.gates.count == expected.count)
    }

    @Test func layoutIdsAreUnique() {
        #expect(Set(Self.layouts.map(\.id)).count == Self.layouts.count)
    }
}
