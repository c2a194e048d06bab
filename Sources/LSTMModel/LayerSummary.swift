/// One row of a model summary in the manner of Keras' `model.summary()`: a layer's name in its source, its kind,
/// the shapes it reads and emits with a symbolic batch and time axis, and how many parameters it stores.
public struct LayerSummary: Sendable, Equatable {
    /// The layer's index in the model.
    public var index: Int
    /// The layer's name in its source (the module or layer its tensors came from, e.g. `encoder.rnn` or
    /// `lstm_1`), or `layer_<index>` when the tensors record no source.
    public var name: String
    /// `embedding`, `lstm`, `gru`, `rnn` or `dense`, with `bidirectional` for a two-direction layer.
    public var kind: String
    /// The input shape: `batch` and `time` are symbolic, features are numbers (`["batch", "time", "3"]`).
    public var inputShape: [String]
    /// The output shape, with the same symbols.
    public var outputShape: [String]
    /// Elements of every tensor the layer stores (a standard use gate stores no `W_u`).
    public var parameters: Int
}

extension Model {
    /// One ``LayerSummary`` per layer, in order. A time-major model (`time_major`) shows its sequences as
    /// `["time", "batch", …]`.
    public var summary: [LayerSummary] {
        let timeMajor = layers.contains { if case .recurrent(let layer) = $0 { layer.timeMajor } else { false } }
        func sequence(_ features: Int?) -> [String] {
            (timeMajor ? ["time", "batch"] : ["batch", "time"]) + (features.map { [String($0)] } ?? [])
        }
        var counts = [Int](repeating: 0, count: layers.count)
        var sources = [[String]](repeating: [], count: layers.count)
        for entry in storedTensors where entry.slot.layer < layers.count {
            counts[entry.slot.layer] += entry.tensor.elementCount
            if let source = entry.source { sources[entry.slot.layer].append(source) }
        }
        var rows: [LayerSummary] = []
        var isSequence = true
        for (index, layer) in layers.enumerated() {
            let input: [String]
            let output: [String]
            var kind = layer.kindName
            switch layer {
            case .embedding(let embedding):
                input = sequence(nil)
                output = sequence(embedding.embeddingSize)
                isSequence = true
            case .recurrent(let recurrent):
                input = sequence(recurrent.inputSize)
                if recurrent.directions.count == 2 { kind = "bidirectional \(kind)" }
                output = recurrent.returnSequences ? sequence(recurrent.outputSize) : ["batch", String(recurrent.outputSize)]
                isSequence = recurrent.returnSequences
            case .dense(let dense):
                input = index == 0 ? ["batch", String(dense.inputSize)] : (isSequence ? sequence(dense.inputSize) : ["batch", String(dense.inputSize)])
                output = input.dropLast() + [String(dense.units)]
            }
            let name = Self.commonSourceName(sources[index]) ?? "layer_\(index)"
            rows.append(LayerSummary(index: index, name: name, kind: kind, inputShape: input, outputShape: output, parameters: counts[index]))
        }
        return rows
    }

    /// Elements of every stored tensor.
    public var parameterCount: Int { storedTensors.reduce(0) { $0 + $1.tensor.elementCount } }

    /// The module or layer the source names share: `lstm.weight_ih_l0[0:8, :]` and `lstm.bias_hh_l0` → `lstm`;
    /// a Keras `model_weights/<layer>/…` or `layers/<layer>/…` → `<layer>`; otherwise the common path without its
    /// last part, or `nil`.
    static func commonSourceName(_ sources: [String]) -> String? {
        let cleaned = sources.map { source -> [Substring] in
            var text = Substring(source)
            while text.hasPrefix("[") { text = text.dropFirst() }
            if text.hasPrefix("zeros:") { text = text.dropFirst("zeros:".count) }
            // `hstack(a[…].T, b[…].T)`: the first operand.
            if let paren = text.firstIndex(of: "("), !text[..<paren].contains(where: { $0 == "/" || $0 == "." }) {
                text = text[text.index(after: paren)...]
            }
            if let end = text.firstIndex(where: { "[ |,)".contains($0) }) { text = text[..<end] }
            return text.split(whereSeparator: { $0 == "/" || $0 == "." || $0 == ":" })
        }
        if let first = cleaned.first, first.count > 2, first[0] == "model_weights" || first[0] == "layers",
           cleaned.allSatisfy({ $0.count > 1 && $0[0] == first[0] && $0[1] == first[1] }) {
            return String(first[1])
        }
        guard var common = cleaned.first else { return nil }
        for parts in cleaned.dropFirst() {
            var length = 0
            while length < min(common.count, parts.count), common[length] == parts[length] { length += 1 }
            common = Array(common.prefix(length))
        }
        // One tensor (or tensors that differ only below the module) still names a parameter last: drop it.
        if cleaned.count == 1 || cleaned.allSatisfy({ $0.count == common.count }) { common = Array(common.dropLast()) }
        guard !common.isEmpty else { return nil }
        let separator: Character = sources.first?.contains("/") == true ? "/" : "."
        return common.joined(separator: String(separator))
    }
}
