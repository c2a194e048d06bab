import LSTMLayouts
import LSTMModel

/// The ONNX fused layouts: the only tables the ONNX importer slices with and the ONNX exporter fuses with, and
/// the source of `spec/mappings-onnx.md` (a test checks the two agree).
///
/// Source tensor names are the operator's input names; `[d]` is direction `d` of the `[num_directions, …]`
/// initializer (0 forward, 1 reverse).
package enum ONNXLayouts {
    /// ONNX `LSTM` (one direction's slice `[d]` of each input).
    package static let lstm = FusedLayout(
        id: "onnx.lstm", title: "ONNX LSTM", cell: .lstm,
        gates: [("i", .i), ("o", .v), ("f", .f), ("c", .n)],
        tensors: [
            SourceTensor("W[d]", shape: "[4H, I]", part: .inputColumns, fusedAxis: 0),
            SourceTensor("R[d]", shape: "[4H, H]", part: .recurrentColumns, fusedAxis: 0),
            SourceTensor("B[d]", shape: "[8H]", part: .biasThenSecondBias, fusedAxis: 0),
            SourceTensor("P[d]", shape: "[3H]", part: .peepholes, fusedAxis: 0, peepholeOrder: [.i, .v, .f]),
        ],
        notes: [
            "`B` absent: `b_g` and `bh_g` are stored as zeros of `W`'s dtype. `P` absent: no peepholes.",
            "Peepholes are diagonal; `P[d]` is ordered i, o, f (not the gate order). `P_i`, `P_f` read `LTM_{t-1}`, `P_v` reads `LTM_t`.",
            "ONNX `clip` is stored as `gate_clip` (pre-activation clip of i, f, c, o); there is no projection.",
            "`activations` f, g, h: f → `recurrent_activation`, g → `activation`; h must equal g (the format has one `activation`). Sigmoid, Tanh, Relu and HardSigmoid (alpha, beta → slope, offset) are read; others are refused.",
            "`input_forget=1` (ORT: `f = 1 − i`) is imported as `W_f = −W_i`, `b_f = −b_i`, `bh_f = −bh_i`, `P_f = −P_i`, exact because `σ(−z) = 1 − σ(z)` (HardSigmoid only with beta 0.5); the file's own f rows are unused and listed as ignored.",
            "`direction` forward → one direction; reverse → one direction with `go_backwards` (then the layer's output is re-reversed, see the importer notes); bidirectional → `[forward, backward]`, merge `concat`.",
        ])

    /// ONNX `GRU`.
    package static let gru = FusedLayout(
        id: "onnx.gru", title: "ONNX GRU", cell: .gru,
        gates: [("z", .z), ("r", .r), ("h", .c)],
        tensors: [
            SourceTensor("W[d]", shape: "[3H, I]", part: .inputColumns, fusedAxis: 0),
            SourceTensor("R[d]", shape: "[3H, H]", part: .recurrentColumns, fusedAxis: 0),
            SourceTensor("B[d]", shape: "[6H]", part: .biasThenSecondBias, fusedAxis: 0),
        ],
        notes: [
            "`linear_before_reset=1` is `reset = after`; `0` (the default) is `reset = before` (ONNX adds `Rbh` outside the reset product, as the engine does).",
            "`activations` f, g: f → `recurrent_activation`, g → `activation`.",
        ])

    /// ONNX `RNN` (the plain recurrent cell of issue 13's `rnn` layer kind).
    package static let rnn = FusedLayout(
        id: "onnx.rnn", title: "ONNX RNN", cell: .rnn,
        gates: [("i", .s)],
        tensors: [
            SourceTensor("W[d]", shape: "[H, I]", part: .inputColumns, fusedAxis: 0),
            SourceTensor("R[d]", shape: "[H, H]", part: .recurrentColumns, fusedAxis: 0),
            SourceTensor("B[d]", shape: "[2H]", part: .biasThenSecondBias, fusedAxis: 0),
        ],
        notes: [
            "`H_t = f(X_t·W^T + H_{t-1}·R^T + Wb + Rb)`; `activations` f (default Tanh) → `activation`; `clip` → `gate_clip`.",
        ])

    /// Every ONNX table, in spec order.
    package static let all: [FusedLayout] = [lstm, gru, rnn]

    /// The tables as Markdown (the generated block of `spec/mappings-onnx.md`).
    package static var markdown: String { all.map(\.markdown).joined(separator: "\n\n") }
}
