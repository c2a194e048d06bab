import LSTMModel

/// Layout tables of frameworks lstmconv documents but does not import yet (TF1).
/// Importable frameworks keep their table next to their reader (`LSTMImportPyTorch`, `LSTMImportKeras`,
/// `LSTMImportONNX`).
package enum DocumentedLayouts {
    /// TensorFlow 1 `LSTMCell` / `BasicLSTMCell` / `LSTMBlockCell`.
    package static let tf1LSTM = FusedLayout(
        id: "tf1.lstm", title: "TensorFlow 1 LSTMCell", cell: .lstm,
        gates: [("i", .i), ("j", .n), ("f", .f), ("o", .v)],
        tensors: [
            SourceTensor("lstm_cell/kernel", shape: "[I + R, 4H]", part: .inputThenRecurrentRows, fusedAxis: 1, transform: .transpose),
            SourceTensor("lstm_cell/bias", shape: "[4H]", part: .bias, fusedAxis: 0),
            SourceTensor("lstm_cell/w_i_diag", shape: "[H]", part: .peepholes, fusedAxis: 0, peepholeOrder: [.i]),
            SourceTensor("lstm_cell/w_f_diag", shape: "[H]", part: .peepholes, fusedAxis: 0, peepholeOrder: [.f]),
            SourceTensor("lstm_cell/w_o_diag", shape: "[H]", part: .peepholes, fusedAxis: 0, peepholeOrder: [.v]),
            SourceTensor("lstm_cell/projection/kernel", shape: "[H, P]", part: .projection, fusedAxis: 0, transform: .transpose),
        ],
        notes: [
            "`forget_bias` (default 1.0) is added at run time and is not in the checkpoint: it is stored as the layer attribute `forget_bias`, never folded into `b_f`.",
            "`cell_clip` → `cell_clip`, `proj_clip` → `projection_clip`. Peepholes and projection are optional.",
        ])

    /// Every documented-only table, in spec order.
    package static let all: [FusedLayout] = [tf1LSTM]
}
