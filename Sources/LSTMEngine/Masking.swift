import LSTMModel

// Masked (skipped) time steps, shared by both engines (spec/engine.md §5.1).
//
// A step is masked when the model's first layer says so (Keras `Embedding(mask_zero=True)`: token id 0; Keras
// `Masking(mask_value)`: every feature equal to the value), or when it lies at or past its sequence's length
// (`lengths`, PyTorch `pack_padded_sequence`). A recurrent layer skips a masked step: its memories are carried over
// unchanged, and it emits the carried STM (`masked_output = previous`) or zeros (`zero`; always with `lengths`).
// The mask follows a sequence through recurrent layers with `return_sequences` and dense layers; it ends where a
// layer returns vectors.

/// Which steps of a batch are active: `[B][T]` in the sequence's time order, and whether masked steps emit zeros.
struct StepMask {
    var active: [[Bool]]
    /// `true` with `lengths`: every recurrent layer emits zeros at masked steps (PyTorch `pad_packed_sequence`).
    var zeroOutputs: Bool

    /// Whether a layer emits zeros at masked steps.
    func zeros(for layer: RecurrentLayer) -> Bool { zeroOutputs || layer.maskedOutput == .zero }

    /// `[T][B]` (time-major) view for the fast engine.
    func timeMajor(steps: Int) -> [Bool] {
        var result = [Bool](repeating: true, count: steps * active.count)
        for (b, row) in active.enumerated() {
            for (t, value) in row.enumerated() { result[t * active.count + b] = value }
        }
        return result
    }
}

/// The mask of a checked input: from `lengths` when given, else from the model's first layer, else `nil`.
func inputMask(_ input: CheckedInput, model: Model, lengths: [Int]?) throws(EngineError) -> StepMask? {
    let batch = input.batch
    let time: Int
    switch input {
    case .tokens(_, _, let steps), .sequence(_, _, let steps, _): time = steps
    case .vectors:
        if lengths != nil {
            throw EngineError(.invalidInput, "lengths need a sequence input [batch, time, …]", keyPath: "lengths")
        }
        return nil
    }
    var mask: StepMask?
    if let lengths {
        guard lengths.count == batch else {
            throw EngineError(
                .invalidInput, "one length per batch element", keyPath: "lengths", expectedShape: [batch], actualShape: [lengths.count])
        }
        if let bad = lengths.firstIndex(where: { $0 < 0 || $0 > time }) {
            throw EngineError(.invalidInput, "length \(lengths[bad]) of batch element \(bad) is outside 0...\(time) (the input's time steps)", keyPath: "lengths")
        }
        mask = StepMask(active: lengths.map { length in (0..<time).map { $0 < length } }, zeroOutputs: true)
    } else {
        switch (model.layers.first, input) {
        case (.embedding(let embedding)?, .tokens(let ids, _, _)) where embedding.maskZero:
            mask = StepMask(active: (0..<batch).map { b in (0..<time).map { ids[b * time + $0] != 0 } }, zeroOutputs: false)
        case (.recurrent(let layer)?, .sequence(let values, _, _, let features)):
            guard let maskValue = layer.maskValue else { break }
            let x = values.doubles
            mask = StepMask(
                active: (0..<batch).map { b in
                    (0..<time).map { t in
                        let start = (b * time + t) * features
                        return x[start..<(start + features)].contains { $0 != maskValue }
                    }
                },
                zeroOutputs: false)
        default:
            break
        }
    }
    if let mask {
        for (index, layer) in model.layers.enumerated() {
            if case .recurrent(let recurrent) = layer, recurrent.goBackwards {
                throw EngineError(.invalidInput, "a masked or length-limited input cannot run through a go_backwards layer", keyPath: "layer_\(index)")
            }
            if case .recurrent(let recurrent) = layer, !recurrent.returnSequences { break }
        }
        return mask
    }
    return nil
}
