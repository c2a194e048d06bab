import LSTMLayouts
import Testing

/// The "did you mean" of `--module`, `--head` and `--embedding`.
@Suite("name suggestions")
struct NameSuggestionTests {
    @Test("the candidate a shortened, lengthened or mistyped prefix means ranks first", arguments: [
        ("fc", ["encoder.rnn", "model.fc", "fc2"], "model.fc"),
        ("rnn", ["model.embed", "model.rnn"], "model.rnn"),
        ("model", ["model.fc"], "model.fc"),
        ("encoder.rnn", ["model.encoder.rnn", "model.decoder.rnn"], "model.encoder.rnn"),
        ("haed", ["head", "encoder.rnn"], "head"),
        ("classifer", ["features", "classifier"], "classifier"),
    ])
    func bestCandidate(_ name: String, _ candidates: [String], _ best: String) {
        #expect(NameSuggestion.closest(to: name, among: candidates).first == best)
        #expect(NameSuggestion.hint(flag: "--head", name: name, candidates: candidates, noun: "heads")
            .hasPrefix("did you mean `--head \(best)`? heads found: "))
    }

    @Test("nothing close: the list alone; nothing at all: none")
    func noSuggestion() {
        #expect(NameSuggestion.closest(to: "fc", among: ["encoder.rnn", "embedding"]).isEmpty)
        #expect(NameSuggestion.hint(flag: "--head", name: "fc", candidates: ["encoder.rnn", "head"], noun: "heads") == "heads found: encoder.rnn, head")
        #expect(NameSuggestion.hint(flag: "--embedding", name: "emb", candidates: [], noun: "embeddings") == "embeddings found: none")
        // A name never suggests itself, and the top-level module reads as such.
        #expect(NameSuggestion.closest(to: "fc", among: ["fc"]).isEmpty)
        #expect(NameSuggestion.hint(flag: "--module", name: "x", candidates: [""], noun: "recurrent modules") == "recurrent modules found: (top level)")
    }
}
