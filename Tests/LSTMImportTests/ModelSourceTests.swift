import Foundation
import LSTMCheckpoint
import LSTMImport
import LSTMLayouts
import LSTMTestSupport
import Testing

/// `ModelSource` decides what a file is by its content, whatever its name says.
@Suite("ModelSource detects every kind by content")
struct ModelSourceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var kind: SourceKind
        var testDescription: String { "\(file) → \(kind)" }
    }

    static let cases: [Case] = [
        Case(file: "golden/small_lstm.lstmw", kind: .checkpoint(.binary)),
        Case(file: "hdf5/golden/small_lstm.h5", kind: .checkpoint(.hdf5)),
        Case(file: "keras/k3_bigru_concat_seq/model.h5", kind: .keras),
        Case(file: "keras/k3_bigru_concat_seq/model.keras", kind: .keras),
        Case(file: "keras/k3_bigru_concat_seq/ours.h5", kind: .checkpoint(.hdf5)),
        Case(file: "pytorch/lstm_1layer/model.pt", kind: .pytorch),
        Case(file: "pytorch/lstm_1layer/model.safetensors", kind: .safetensors),
    ]

    @Test("the detected kind does not depend on the file name", arguments: cases)
    func detectsByContent(_ testCase: Case) throws {
        let original = FixturePaths.fixture(testCase.file)
        #expect(try ModelSource.detect(original) == testCase.kind)
        // The same bytes under a misleading name.
        let renamed = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-detect-\(UUID().uuidString).dat")
        defer { try? FileManager.default.removeItem(at: renamed) }
        try FileManager.default.copyItem(at: original, to: renamed)
        #expect(try ModelSource.detect(renamed) == testCase.kind)
    }

    @Test("an unknown file names its first bytes; a missing file is unrecognized with the file named")
    func unknownAndMissing() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-detect-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("plain text, not a model".utf8).write(to: url)
        let error = #expect(throws: ImportError(.unrecognizedSource, "")) { try ModelSource.detect(url) }
        #expect(error?.description.contains("70 6c 61 69") == true, "\(String(describing: error))")
        let missing = url.appendingPathExtension("absent")
        let noFile = #expect(throws: ImportError(.unrecognizedSource, "")) { try ModelSource.detect(missing) }
        #expect(noFile?.file == missing.path)
    }

    @Test("importing a checkpoint is refused with a pointer to convert")
    func checkpointIsNotImported() {
        #expect(throws: ImportError(.unrecognizedSource, "")) {
            try ModelSource.importFile(FixturePaths.golden("small_lstm.lstmw"))
        }
    }
}
