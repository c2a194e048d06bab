import LSTMLayouts
import LSTMModel

/// The PyTorch fused layouts: the only tables the PyTorch importer slices with, and the source of the
/// PyTorch section of `spec/mappings.md`.
///
/// Source tensor names are the `state_dict` parameter names without the module prefix; a file's key is
/// `<module>.<name>` (e.g. `encoder.rnn.weight_ih_l0_reverse`) and that full key is what provenance records.
/// `nn.LSTMCell` / `nn.GRUCell` use the same tables with the names `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
package enum PyTorchLayouts {
    /// PyTorch `nn.LSTM` (and `nn.LSTMCell`).
    package static let lstm = FusedLayout(
        id: "pytorch.lstm", title: "PyTorch nn.LSTM", cell: .lstm,
        gates: [("i", .i), ("f", .f), ("g", .n), ("o", .v)],
        tensors: [
            SourceTensor("weight_ih_l{k}{_reverse}", shape: "[4H, I]", part: .inputColumns, fusedAxis: 0),
            SourceTensor("weight_hh_l{k}{_reverse}", shape: "[4H, R]", part: .recurrentColumns, fusedAxis: 0),
            SourceTensor("bias_ih_l{k}{_reverse}", shape: "[4H]", part: .bias, fusedAxis: 0),
            SourceTensor("bias_hh_l{k}{_reverse}", shape: "[4H]", part: .secondBias, fusedAxis: 0),
            SourceTensor("weight_hr_l{k}{_reverse}", shape: "[P, H]", part: .projection, fusedAxis: 0),
        ],
        notes: [
            "PyTorch computes `gates = W_ih·x + b_ih + W_hh·h + b_hh`, split into i, f, g, o; the document's `W_g = [weight_hh[g] | weight_ih[g]]` (recurrent columns first), `b_g = bias_ih[g]`, `bh_g = bias_hh[g]`. Both biases are kept (`bias = double`).",
            "`c_t = f·c_{t-1} + i·g`, `h_t = o·tanh(c_t)`: the `standard` use gate, activations tanh and sigmoid. PyTorch has no peepholes and no clipping.",
            "`proj_size = P > 0` adds `weight_hr_l{k}` `[P, H]`, copied to `W_p`; then `R = P` and `weight_hh` is `[4H, P]`. Without it `R = H` and there is no `W_p`.",
            "Layer `k > 0` reads `D·R` features; `_reverse` is the backward direction; directions are merged by `concat` (forward first). Output `batch_first` `[B, T, D·R]` (`return_sequences`).",
            "`bias=False` modules have no bias tensors: `b_g` and `bh_g` are stored as zeros of the weights' dtype (the summary says so).",
            "`nn.LSTMCell` (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`, no `_l{k}`) becomes one one-direction layer run over the sequence.",
        ])

    /// PyTorch `nn.GRU` (and `nn.GRUCell`).
    package static let gru = FusedLayout(
        id: "pytorch.gru", title: "PyTorch nn.GRU", cell: .gru,
        gates: [("r", .r), ("z", .z), ("n", .c)],
        tensors: [
            SourceTensor("weight_ih_l{k}{_reverse}", shape: "[3H, I]", part: .inputColumns, fusedAxis: 0),
            SourceTensor("weight_hh_l{k}{_reverse}", shape: "[3H, H]", part: .recurrentColumns, fusedAxis: 0),
            SourceTensor("bias_ih_l{k}{_reverse}", shape: "[3H]", part: .bias, fusedAxis: 0),
            SourceTensor("bias_hh_l{k}{_reverse}", shape: "[3H]", part: .secondBias, fusedAxis: 0),
        ],
        notes: [
            "PyTorch: `n_t = tanh(W_in·x + b_in + r·(W_hn·h + b_hn))`, `h_t = (1 − z)·n_t + z·h_{t-1}`: the reset gate is applied after the recurrent product, so the layer is stored with `reset = after` and two biases.",
            "Layer `k > 0` reads `D·H` features; `_reverse` is the backward direction, merged by `concat`. `nn.GRUCell` becomes one one-direction layer.",
        ])

    /// PyTorch `nn.RNN` (and `nn.RNNCell`), `nonlinearity` tanh or relu.
    package static let rnn = FusedLayout(
        id: "pytorch.rnn", title: "PyTorch nn.RNN", cell: .rnn,
        gates: [("h", .s)],
        tensors: [
            SourceTensor("weight_ih_l{k}{_reverse}", shape: "[H, I]", part: .inputColumns, fusedAxis: 0),
            SourceTensor("weight_hh_l{k}{_reverse}", shape: "[H, H]", part: .recurrentColumns, fusedAxis: 0),
            SourceTensor("bias_ih_l{k}{_reverse}", shape: "[H]", part: .bias, fusedAxis: 0),
            SourceTensor("bias_hh_l{k}{_reverse}", shape: "[H]", part: .secondBias, fusedAxis: 0),
        ],
        notes: [
            "PyTorch: `h_t = act(W_ih·x + b_ih + W_hh·h_{t-1} + b_hh)`; the document's `W_s = [weight_hh | weight_ih]`, `b_s = bias_ih`, `bh_s = bias_hh` (`bias = double`).",
            "`nonlinearity` (`tanh`, the default, or `relu`) is a constructor argument that a state_dict does not hold: it is the layer's `activation`, given by `--nonlinearity` (default tanh).",
            "A module is an `nn.RNN` when `weight_ih` has `H` rows (one block) for `H` = the columns of `weight_hh`. Layer `k > 0` reads `D·H` features; `_reverse` is the backward direction, merged by `concat`.",
        ])

    /// Every PyTorch table, in spec order.
    package static let all: [FusedLayout] = [lstm, gru, rnn]

    /// The PyTorch tables as Markdown (the generated part of `spec/mappings-pytorch.md`), plus the head rule.
    package static var markdown: String {
        var sections = all.map(\.markdown)
        sections.append(
            "### PyTorch nn.Linear head (`--head PREFIX`)\n\n"
                + "| source tensor | shape | document tensor | transform |\n|---|---|---|---|\n"
                + "| `<prefix>.weight` | [out, in] | `W_d` [units, input_size] | copy |\n"
                + "| `<prefix>.bias` (optional) | [out] | `b_d` | copy |\n\n"
                + "- Activation `linear`; `in` must equal the recurrent module's output width `D·R`.")
        sections.append(
            "### PyTorch nn.Embedding (`--embedding PREFIX`)\n\n"
                + "| source tensor | shape | document tensor | transform |\n|---|---|---|---|\n"
                + "| `<prefix>.weight` | [num_embeddings, embedding_dim] | `W_e` [vocabulary_size, embedding_size] (layer 0) | copy |\n\n"
                + "- `embedding_dim` must equal the recurrent module's input size `I`; the model then takes token ids `[B, T]`.\n"
                + "- Without `--embedding` the importer takes the single bias-less `<prefix>.weight` `[V, I]` whose prefix contains `embed`, "
                + "if there is exactly one; `--embedding \"\"` imports none (the key is then listed as ignored).")
        return sections.joined(separator: "\n\n")
    }
}
