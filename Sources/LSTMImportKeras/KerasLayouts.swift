import LSTMLayouts
import LSTMModel

/// The Keras fused layouts: the only tables the Keras importer slices with, and the source of the
/// Keras section of `spec/mappings.md`.
///
/// Source tensor names are the Keras weight names (`kernel`, `recurrent_kernel`, `bias`); in a file they
/// are datasets such as `model_weights/lstm/lstm/lstm_cell/kernel:0` (legacy `.h5`) or
/// `layers/lstm/cell/vars/0` (Keras 3), and that dataset path is what provenance records.
package enum KerasLayouts {
    /// Keras `LSTM` (Keras 2, tf.keras, tf-keras, Keras 3; also `RNN(LSTMCell)`).
    package static let lstm = FusedLayout(
        id: "keras.lstm", title: "Keras LSTM", cell: .lstm,
        gates: [("i", .i), ("f", .f), ("c", .n), ("o", .v)],
        tensors: [
            SourceTensor("kernel", shape: "[I, 4H]", part: .inputColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("recurrent_kernel", shape: "[H, 4H]", part: .recurrentColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("bias", shape: "[4H]", part: .bias, fusedAxis: 0),
        ],
        notes: [
            "Keras computes `z = x·kernel + h·recurrent_kernel + bias` and splits `z` into i, f, c, o; the document's `W_g = [recurrent_kernel[:, g].T | kernel[:, g].T]`.",
            "`unit_forget_bias` only initializes the f block; nothing is added at run time. With `use_bias=False` the biases are zero.",
            "`activation` (candidate and output squashing) and `recurrent_activation` (i, f, o) are copied from the config. `hard_sigmoid` means `clip(0.2x + 0.5)` for Keras ≤ 2.x and tf-keras, `clip(x/6 + 0.5)` for Keras 3 (read from `keras_version`).",
        ])

    /// Keras `GRU` with `reset_after=True` (the default since tf.keras 2.0 and in Keras 3).
    package static let gruResetAfter = FusedLayout(
        id: "keras.gru.reset_after", title: "Keras GRU, reset_after=True", cell: .gru,
        gates: [("z", .z), ("r", .r), ("h", .c)],
        tensors: [
            SourceTensor("kernel", shape: "[I, 3H]", part: .inputColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("recurrent_kernel", shape: "[H, 3H]", part: .recurrentColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("bias", shape: "[2, 3H]", part: .biasRows, fusedAxis: 1),
        ],
        notes: [
            "Row 0 of `bias` is the input bias (`b_g`), row 1 the recurrent bias (`bh_g`); the layer is stored with `reset = after` and two biases.",
            "Keras: `h_t = z·h_{t-1} + (1 − z)·c_t`, `c_t = act(x W_xc + b_c + r·(h_{t-1} W_hc + bh_c))`.",
        ])

    /// Keras `GRU` with `reset_after=False` (multi-backend Keras 2 default, `tf.compat.v1`).
    package static let gruResetBefore = FusedLayout(
        id: "keras.gru.reset_before", title: "Keras GRU, reset_after=False", cell: .gru,
        gates: [("z", .z), ("r", .r), ("h", .c)],
        tensors: [
            SourceTensor("kernel", shape: "[I, 3H]", part: .inputColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("recurrent_kernel", shape: "[H, 3H]", part: .recurrentColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("bias", shape: "[3H]", part: .bias, fusedAxis: 0),
        ],
        notes: ["One bias; the layer is stored with `reset = before`: `c_t = act(x W_xc + (r·h_{t-1}) W_hc + b_c)`."])

    /// Keras 2 `CuDNNLSTM` (and `tf.compat.v1.keras.layers.CuDNNLSTM`).
    package static let cudnnLSTM = FusedLayout(
        id: "keras.cudnn_lstm", title: "Keras 2 CuDNNLSTM", cell: .lstm,
        gates: [("i", .i), ("f", .f), ("c", .n), ("o", .v)],
        tensors: [
            SourceTensor("kernel", shape: "[I, 4H]", part: .inputColumns, fusedAxis: 1, transform: .reshape),
            SourceTensor("recurrent_kernel", shape: "[H, 4H]", part: .recurrentColumns, fusedAxis: 1, transform: .copy),
            SourceTensor("bias", shape: "[8H]", part: .biasThenSecondBias, fusedAxis: 0),
        ],
        notes: [
            "Each `[·, H]` gate block is raw cuDNN memory: Keras hands it to cuDNN flattened in C order without a transpose, and cuDNN reads it as a row-major `[H, ·]` matrix. So `W_x = kernel[:, block].reshape(H, I)` (a reinterpretation, not a transpose) and `W_h = recurrent_kernel[:, block]` as stored.",
            "`bias[0:4H]` is the input bias (`b_g`), `bias[4H:8H]` the recurrent bias (`bh_g`), both in i, f, c, o order; the layer keeps two biases.",
            "CuDNNLSTM has no activation options: tanh and sigmoid.",
        ])

    /// Keras 2 `CuDNNGRU`.
    package static let cudnnGRU = FusedLayout(
        id: "keras.cudnn_gru", title: "Keras 2 CuDNNGRU", cell: .gru,
        gates: [("z", .z), ("r", .r), ("h", .c)],
        tensors: [
            SourceTensor("kernel", shape: "[I, 3H]", part: .inputColumns, fusedAxis: 1, transform: .reshape),
            SourceTensor("recurrent_kernel", shape: "[H, 3H]", part: .recurrentColumns, fusedAxis: 1, transform: .copy),
            SourceTensor("bias", shape: "[6H]", part: .biasThenSecondBias, fusedAxis: 0),
        ],
        notes: [
            "Blocks are stored z, r, h (Keras reorders them to cuDNN's r, z, h at run time); each block is raw cuDNN memory, as for CuDNNLSTM.",
            "`bias[0:3H]` input biases, `bias[3H:6H]` recurrent biases; reset is applied after the recurrent product (`reset = after`, two biases). tanh and sigmoid.",
        ])

    /// Keras `SimpleRNN` (also `RNN(SimpleRNNCell)`).
    package static let simpleRNN = FusedLayout(
        id: "keras.simple_rnn", title: "Keras SimpleRNN", cell: .rnn,
        gates: [("h", .s)],
        tensors: [
            SourceTensor("kernel", shape: "[I, H]", part: .inputColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("recurrent_kernel", shape: "[H, H]", part: .recurrentColumns, fusedAxis: 1, transform: .transpose),
            SourceTensor("bias", shape: "[H]", part: .bias, fusedAxis: 0),
        ],
        notes: [
            "Keras: `h_t = activation(x·kernel + h_{t-1}·recurrent_kernel + bias)`; the document's `W_s = [recurrent_kernel.T | kernel.T]`, `b_s = bias` (`bias = single`). `activation` (default tanh) is copied from the config.",
        ])

    /// Every Keras table, in spec order.
    package static let all: [FusedLayout] = [lstm, gruResetAfter, gruResetBefore, cudnnLSTM, cudnnGRU, simpleRNN]

    /// The Keras section of `spec/mappings.md`, rendered from ``all``.
    package static var markdown: String {
        (["## Keras", ""] + all.map { $0.markdown + "\n" }).joined(separator: "\n")
    }
}
