import LSTMModel

/// Which part of the document tensors a source tensor supplies.
package enum DocumentPart: String, Sendable {
    /// The `E_t` column block `W_g[:, R:]` of every gate matrix.
    case inputColumns
    /// The `STM_{t-1}` column block `W_g[:, :R]` of every gate matrix.
    case recurrentColumns
    /// The first `I` rows are the input part, the rest the recurrent part (TF1's `[I + R, 4H]` kernel).
    case inputThenRecurrentRows
    /// `b_g` (input-side bias).
    case bias
    /// `bh_g` (recurrent-side bias).
    case secondBias
    /// `b_g` then `bh_g` concatenated along the fused axis (cuDNN `[8H]`, ONNX `B [8H]`).
    case biasThenSecondBias
    /// Row 0 is `b_g`, row 1 `bh_g` (Keras GRU `reset_after=True`, shape `(2, 3H)`).
    case biasRows
    /// Diagonal peepholes `P_g`, in ``SourceTensor/peepholeOrder``.
    case peepholes
    /// The projection `W_p`.
    case projection
}

/// How each gate block of a source tensor becomes the document's `[H, ·]` orientation.
package enum BlockTransform: String, Sendable {
    /// The block is already `[H, ·]` (PyTorch, ONNX, cuDNN recurrent blocks in PyTorch order).
    case copy
    /// The block is `[·, H]` and is transposed (Keras, TF1).
    case transpose
    /// The block is raw cuDNN memory `[I, H]` reinterpreted in C order as `[H, I]` (Keras CuDNNLSTM input kernel).
    case reshape
}

/// One source tensor of a fused layout and what it supplies.
package struct SourceTensor: Sendable {
    /// The tensor's name pattern in the source, e.g. `weight_ih_l{k}{_reverse}`.
    package var name: String
    /// The source shape, for the spec, e.g. `[4H, I]`.
    package var shape: String
    package var part: DocumentPart
    /// The axis along which the gate blocks are laid out.
    package var fusedAxis: Int
    package var transform: BlockTransform
    /// For `.peepholes` only: the gate order of the peephole blocks (ONNX: i, o, f).
    package var peepholeOrder: [DocumentGate]

    package init(
        _ name: String, shape: String, part: DocumentPart, fusedAxis: Int, transform: BlockTransform = .copy,
        peepholeOrder: [DocumentGate] = []
    ) {
        self.name = name
        self.shape = shape
        self.part = part
        self.fusedAxis = fusedAxis
        self.transform = transform
        self.peepholeOrder = peepholeOrder
    }
}

/// A framework's fused layout for one cell kind: the gate order along the fused axis and what each
/// source tensor supplies. This table is the single source of truth: importers slice with it and
/// `spec/mappings.md` is rendered from it (a test checks the two agree).
package struct FusedLayout: Sendable {
    /// Stable identifier recorded as `provenance.source_layout`, e.g. `pytorch.lstm`.
    package var id: String
    /// Human title, e.g. `PyTorch nn.LSTM`.
    package var title: String
    package var cell: CellKind
    /// Gate blocks in source order: the framework's letter and the document gate it becomes.
    package var gates: [(letter: String, gate: DocumentGate)]
    package var tensors: [SourceTensor]
    /// Anything the table cannot say (run-time constants, equations that differ).
    package var notes: [String]

    package init(
        id: String, title: String, cell: CellKind, gates: [(letter: String, gate: DocumentGate)],
        tensors: [SourceTensor], notes: [String] = []
    ) {
        self.id = id
        self.title = title
        self.cell = cell
        self.gates = gates
        self.tensors = tensors
        self.notes = notes
    }

    /// Block index of a document gate along the fused axis.
    package func block(of gate: DocumentGate) -> Int? { gates.firstIndex { $0.gate == gate } }

    /// The layout as a Markdown section (rendered into `spec/mappings.md`).
    package var markdown: String {
        var lines = ["### \(title) (`\(id)`)", ""]
        lines.append("| block | source gate | document gate | document tensors |")
        lines.append("|---|---|---|---|")
        for (index, entry) in gates.enumerated() {
            var roles = [entry.gate.weight.rawValue, entry.gate.bias.rawValue]
            if tensors.contains(where: { [.secondBias, .biasThenSecondBias, .biasRows].contains($0.part) }) {
                roles.append(entry.gate.secondBias.rawValue)
            }
            lines.append("| \(index) | \(entry.letter) | \(entry.gate.title) | \(roles.map { "`\($0)`" }.joined(separator: ", ")) |")
        }
        lines.append("")
        lines.append("| source tensor | shape | fused axis | supplies | per-block transform |")
        lines.append("|---|---|---|---|---|")
        for tensor in tensors {
            var supplies = tensor.part.rawValue
            if tensor.part == .peepholes {
                supplies += " (order " + tensor.peepholeOrder.map(\.rawValue).joined(separator: ", ") + ")"
            }
            lines.append("| `\(tensor.name)` | \(tensor.shape) | \(tensor.fusedAxis) | \(supplies) | \(tensor.transform.rawValue) |")
        }
        if !notes.isEmpty {
            lines.append("")
            lines += notes.map { "- \($0)" }
        }
        return lines.joined(separator: "\n")
    }
}
