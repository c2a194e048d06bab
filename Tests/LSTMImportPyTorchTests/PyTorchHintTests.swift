import Foundation
import LSTMLayouts
@testable import LSTMImportPyTorch
import LSTMModel
import Testing

/// What the importer says when the user's options and the file disagree: warnings for tensors the topology could
/// use, "did you mean" for prefixes that name nothing. Synthetic state_dicts (names and shapes only).
@Suite struct PyTorchHintTests {
    typealias Entries = [(key: String, value: StateTensor)]

    static func dict(_ entries: Entries) -> StateDict { StateDict(format: .safetensors, entries: entries) }

    /// `model.rnn` (LSTM, I = 3, H = 4) and two embedding tables that could feed it.
    static let twoEmbeddings: Entries =
        PyTorchTopologyTests.rnn(prefix: "model.rnn", gates: 4, input: 3, hidden: 4)
        + [("model.embed_words.weight", PyTorchTopologyTests.tensor([10, 3])), ("model.embed_chars.weight", PyTorchTopologyTests.tensor([6, 3]))]

    @Test("an embedding not taken automatically (two candidates) is a warning naming --embedding for each")
    func ambiguousEmbeddingWarns() throws {
        let result = try PyTorchImporter.importStateDict(Self.dict(Self.twoEmbeddings))
        #expect(result.model.layers.count == 1)
        #expect(result.ignoredKeys == ["model.embed_words.weight", "model.embed_chars.weight"])
        #expect(result.warnings.count == 2, "\(result.warnings)")
        #expect(result.warnings[0].contains("pass --embedding model.embed_words to keep it"), "\(result.warnings)")
        #expect(result.warnings[1].contains("pass --embedding model.embed_chars to keep it"), "\(result.warnings)")
        // Taking one: the other is no longer a candidate (it would feed nothing), and none is a head either.
        var options = PyTorchImportOptions()
        options.embedding = "model.embed_words"
        let chosen = try PyTorchImporter.importStateDict(Self.dict(Self.twoEmbeddings), options: options)
        #expect(chosen.model.layers.count == 2)
        #expect(chosen.warnings.isEmpty, "\(chosen.warnings)")
        // `--embedding ""` says: none. No warning then.
        options.embedding = ""
        #expect(try PyTorchImporter.importStateDict(Self.dict(Self.twoEmbeddings), options: options).warnings.isEmpty)
    }

    @Test("--embedding, --head and --module that name nothing suggest the nearest prefix", arguments: [
        ("embedding", "embed_words", "did you mean `--embedding model.embed_words`?"),
        ("head", "classifier", "did you mean `--head model.classifier`?"),
        ("module", "rnn", "did you mean `--module model.rnn`?"),
    ])
    func didYouMean(_ option: String, _ value: String, _ hint: String) throws {
        let entries = Self.twoEmbeddings + [("model.classifier.weight", PyTorchTopologyTests.tensor([2, 4]))]
        var options = PyTorchImportOptions()
        switch option {
        case "embedding": options.embedding = value
        case "head": options.head = value
        default: options.module = value
        }
        do {
            _ = try PyTorchImporter.importStateDict(Self.dict(entries), options: options)
            Issue.record("\(option) \(value) was accepted")
        } catch {
            #expect(error.message.contains(hint), "\(error)")
        }
    }
}
