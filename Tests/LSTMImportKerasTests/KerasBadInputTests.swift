import Foundation
import LSTMLayouts
import LSTMImportKeras
import LSTMTestSupport
import Testing

/// A bad Keras input (Fixtures/keras/bad, described in bad.json) and the error it must produce.
struct KerasBadCase: Sendable, CustomTestStringConvertible {
    var file: String
    var code: ImportError.Code
    /// Text the one-line message must contain besides the file name (layer, class, dataset, expected vs found).
    var mentions: [String]

    var testDescription: String { file }

    static let all: [KerasBadCase] = [
        KerasBadCase(file: "not_keras.h5", code: .unrecognizedSource, mentions: ["HDF5 file without Keras content"]),
        KerasBadCase(file: "no_model_config.h5", code: .missingConfig, mentions: ["model_config", "--config"]),
        KerasBadCase(
            file: "lstm_kernel_width_not_4h.h5", code: .shapeMismatch,
            mentions: ["'lstm' (LSTM)", "model_weights/lstm/lstm/lstm_cell/kernel:0", "4H = 20", "[3, 19]"]),
        KerasBadCase(
            file: "gru_kernel_width_not_3h.h5", code: .shapeMismatch,
            mentions: ["'gru' (GRU)", "model_weights/gru/sequential/gru/gru_cell/kernel", "3H = 15", "[3, 14]"]),
        KerasBadCase(
            file: "missing_dataset.h5", code: .missingTensor,
            mentions: ["'lstm_1' (LSTM)", "model_weights/lstm_1/sequential/lstm_1/lstm_cell/recurrent_kernel"]),
        KerasBadCase(file: "unsupported_conv1d.h5", code: .unsupportedLayer, mentions: ["'conv' (Conv1D)"]),
        KerasBadCase(file: "unsupported_attention.h5", code: .unsupportedLayer, mentions: ["'attention' (Attention)"]),
        KerasBadCase(file: "branching_functional.h5", code: .unsupportedTopology, mentions: ["'join' (Concatenate)", "left", "right"]),
        KerasBadCase(file: "truncated.h5", code: .malformedSource, mentions: []),
        KerasBadCase(file: "empty.h5", code: .unrecognizedSource, mentions: ["empty"]),
        KerasBadCase(file: "no_config.keras", code: .missingConfig, mentions: ["config.json"]),
        KerasBadCase(file: "no_weights.keras", code: .missingTensor, mentions: ["model.weights.h5"]),
        KerasBadCase(file: "weights_only_without_config.weights.h5", code: .missingConfig, mentions: ["--config"]),
    ]
}

@Suite("Keras bad inputs")
struct KerasBadInputTests {
    @Test("bad.json lists exactly the cases tested here")
    func everyBadFileIsCovered() throws {
        let data = try Data(contentsOf: KerasFixtures.directory.appendingPathComponent("bad/bad.json"))
        let listed = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["files"] as? [[String: Any]])
        let names = Set(listed.compactMap { $0["file"] as? String })
        #expect(names == Set(KerasBadCase.all.map(\.file)))
    }

    @Test("each bad input gives its code and a one-line message naming the file, layer or dataset", arguments: KerasBadCase.all)
    func refused(bad: KerasBadCase) throws {
        let url = KerasFixtures.directory.appendingPathComponent("bad/\(bad.file)")
        let error = #expect(throws: ImportError.self) { try KerasImporter.importFile(at: url) }
        let thrown = try #require(error)
        #expect(thrown.code == bad.code, "\(thrown)")
        let text = thrown.description
        #expect(text.hasPrefix(url.path + ": "), "\(text)")
        #expect(!text.contains("\n"))
        for mention in bad.mentions {
            #expect(text.contains(mention), "\(text) should mention \(mention)")
        }
    }

    @Test("bad inputs are not claimed as Keras sources unless they are Keras containers")
    func sniffing() {
        func kind(_ name: String) -> KerasSourceKind? { KerasImporter.sourceKind(of: KerasFixtures.directory.appendingPathComponent("bad/\(name)")) }
        #expect(kind("not_keras.h5") == nil)
        #expect(kind("empty.h5") == nil)
        #expect(kind("no_config.keras") == nil)
        #expect(kind("no_weights.keras") == .archive)
        #expect(kind("no_model_config.h5") == .hdf5)
        #expect(kind("weights_only_without_config.weights.h5") == .hdf5)
    }

    @Test("every fixture source is recognized by content", arguments: KerasFixtures.sources)
    func sniffFixtures(source: KerasFixtureSource) {
        #expect(KerasImporter.sourceKind(of: source.file) == (source.kind == .archive ? .archive : .hdf5))
    }
}
