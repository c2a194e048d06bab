import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import LSTMModel

/// How to name the exported PyTorch `state_dict`.
public struct PyTorchExportOptions: Sendable {
    /// Module prefix of the recurrent module (`""`: bare `weight_ih_l0`, loadable into an `nn.LSTM` itself).
    /// A model whose recurrent layers need several modules gets `<prefix>.<m>.` for module `m` (an `nn.ModuleList`).
    public var prefix: String
    /// Module prefix of the `nn.Linear` head made from a trailing dense layer.
    public var headPrefix: String
    /// Module prefix of the `nn.Embedding` made from a leading embedding layer.
    public var embeddingPrefix: String
    /// Write `nn.LSTMCell` / `nn.GRUCell` names (`weight_ih`, no `_l0`); needs one one-direction layer.
    public var cellNames: Bool
    /// `false` writes no recurrent bias tensors (`bias=False` modules); every recurrent bias must then be zero.
    public var includeBias: Bool

    /// Export options; the defaults match `lstmconv export --to pytorch`.
    public init(
        prefix: String = "", headPrefix: String = "head", embeddingPrefix: String = "embedding", cellNames: Bool = false,
        includeBias: Bool = true
    ) {
        self.prefix = prefix
        self.headPrefix = headPrefix
        self.embeddingPrefix = embeddingPrefix
        self.cellNames = cellNames
        self.includeBias = includeBias
    }
}

/// One PyTorch module of an export: what to construct so that `load_state_dict` accepts the file.
public struct ExportedModule: Sendable, Equatable {
    /// A constructor argument's value.
    public enum Value: Sendable, Equatable {
        case int(Int)
        case bool(Bool)
        /// A fixed identifier such as `"relu"` (never user text).
        case string(String)

        var python: String {
            switch self {
            case .int(let value): String(value)
            case .bool(let value): value ? "True" : "False"
            case .string(let value): "'\(value)'"
            }
        }

        var json: String {
            switch self {
            case .int(let value): String(value)
            case .bool(let value): value ? "true" : "false"
            case .string(let value): SafetensorsWriter.jsonString(value)
            }
        }
    }

    /// The module prefix in the state_dict (`""` for the top level).
    public var prefix: String
    /// The `torch.nn` class: `LSTM`, `GRU`, `LSTMCell`, `GRUCell`, `Linear` or `Embedding`.
    public var className: String
    /// Constructor keyword arguments, in the constructor's order.
    public var arguments: [(name: String, value: Value)]
    /// The dtype of its parameters.
    public var dtype: DType
    /// The model layers it holds.
    public var layers: [Int]
    /// Recurrent modules: `sequence` (PyTorch's `output`, every step) or `final_state` (the last layer's `h_n`,
    /// directions concatenated). `nn.Linear`: `every_step` or `final_state`, what it is applied to. `nil` otherwise.
    public var output: String?
    /// `nn.Linear` only: the activation to apply to its output (a state_dict cannot hold it), `nil` for none.
    public var activation: Activation? = nil

    public static func == (lhs: ExportedModule, rhs: ExportedModule) -> Bool {
        lhs.prefix == rhs.prefix && lhs.className == rhs.className && lhs.dtype == rhs.dtype && lhs.layers == rhs.layers
            && lhs.output == rhs.output && lhs.activation == rhs.activation && lhs.arguments.map(\.name) == rhs.arguments.map(\.name)
            && lhs.arguments.map(\.value) == rhs.arguments.map(\.value)
    }

    /// The Python constructor call, e.g. `nn.LSTM(input_size=4, hidden_size=5, batch_first=True)`.
    public var constructor: String {
        "nn.\(className)(" + arguments.map { "\($0.name)=\($0.value.python)" }.joined(separator: ", ") + ")"
    }

    /// The PyTorch name of ``dtype``.
    public var torchDType: String { Self.torchName(dtype) }

    static func torchName(_ dtype: DType) -> String {
        switch dtype {
        case .f32: "float32"
        case .f16: "float16"
        case .bf16: "bfloat16"
        case .f64: "float64"
        }
    }

    var json: String {
        var fields = [
            "\"prefix\":\(SafetensorsWriter.jsonString(prefix))", "\"class\":\"\(className)\"",
            "\"args\":{" + arguments.map { "\"\($0.name)\":\($0.value.json)" }.joined(separator: ",") + "}",
            "\"dtype\":\"\(torchDType)\"", "\"layers\":[" + layers.map(String.init).joined(separator: ",") + "]",
        ]
        if let output { fields.append("\"output\":\"\(output)\"") }
        if let activation { fields.append("\"activation\":" + PyTorchExporter.activationJSON(activation)) }
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// A model laid out as a PyTorch `state_dict`, ready to be written.
public struct PyTorchExport: Sendable {
    /// Keys and tensors in `state_dict` order (module, layer, direction, then the layout table's order).
    public var tensors: [(key: String, tensor: Tensor)]
    /// The safetensors `__metadata__`: `format: pt` plus provenance and the module list (spec/export.md).
    public var metadata: [String: String]
    /// The modules to construct, in model order.
    public var modules: [ExportedModule]
    /// Keys written as zeros because the source layer has one bias per gate.
    public var zeroBiasKeys: [String]
    /// Remarks for the user (zero biases, module split, output semantics).
    public var notes: [String]
    /// The head's activation, which the caller must apply after the `nn.Linear` (`nil`: none or no head).
    public var headActivation: Activation? = nil

    /// The tensors keyed by name.
    public var tensorsByKey: [String: Tensor] {
        Dictionary(tensors.map { ($0.key, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }
}

/// Exports a model as a PyTorch `state_dict` in a `.safetensors` file that
/// `module.load_state_dict(safetensors.torch.load_file(path))` accepts for the equivalent `nn.LSTM` / `nn.GRU`
/// (`batch_first=True`), plus an `nn.Linear` for a trailing linear dense layer and an `nn.Embedding` for a
/// leading embedding.
///
/// Recurrent tensors are fused by `PyTorchLayouts` through `FusedLayout.disassemble(_:hiddenSize:inputSize:recurrentSize:)`,
/// the inverse of the importer's cut, so a model imported from PyTorch exports to the same bytes. Anything
/// PyTorch cannot compute (peepholes, clips, the document use gate, `go_backwards`, …) is refused with
/// ``ExportError/Code/notExpressible`` naming the layer; nothing is dropped or approximated. A head's activation
/// (softmax, sigmoid, …), which no state_dict holds, is stated in the metadata (`lstmconv.head_activation`, and
/// in the Linear module's entry of `lstmconv.modules`) and in ``PyTorchExport/notes``.
///
/// ```swift
/// let export = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "rnn"))
/// try PyTorchExporter.write(export, to: URL(fileURLWithPath: "out.safetensors"))
/// ```
public enum PyTorchExporter {
    /// Lays `model` out as a state_dict, refusing what PyTorch cannot express.
    public static func export(_ model: Model, options: PyTorchExportOptions = PyTorchExportOptions()) throws(ExportError) -> PyTorchExport {
        do {
            try model.validate()
        } catch {
            throw ExportError(.invalidModel, error.description, location: error.keyPath)
        }
        try checkPrefix(options.prefix, "prefix", allowEmpty: true)
        try checkPrefix(options.headPrefix, "head prefix", allowEmpty: false)
        try checkPrefix(options.embeddingPrefix, "embedding prefix", allowEmpty: false)

        // The chain: [embedding] recurrent+ [dense], each recurrent layer expressible, stacked into modules.
        var embedding: (index: Int, layer: EmbeddingLayer)?
        var head: (index: Int, layer: DenseLayer)?
        var runs: [[(index: Int, layer: RecurrentLayer)]] = []
        for (index, layer) in model.layers.enumerated() {
            switch layer {
            case .embedding(let value):
                guard index == 0 else {
                    throw ExportError(.notExpressible, "an embedding that is not the first layer has no place in the exported chain", layer: index)
                }
                if value.maskZero {
                    throw ExportError(
                        .notExpressible,
                        "mask_zero: nn.Embedding does not mask; padding must be handled with pack_padded_sequence (lengths), which a state_dict cannot hold",
                        layer: index, location: "mask_zero")
                }
                embedding = (index, value)
            case .recurrent(let value):
                guard head == nil else {
                    throw ExportError(.notExpressible, "a recurrent layer after a dense layer has no place in the exported chain", layer: index)
                }
                try checkExpressible(value, index: index)
                if let previous = runs.last?.last {
                    guard previous.layer.returnSequences else {
                        throw ExportError(
                            .notExpressible,
                            "return_sequences is false but another recurrent layer follows: PyTorch feeds every step of a layer's output to the next",
                            layer: previous.index, location: "return_sequences")
                    }
                    if stacks(previous.layer, value) {
                        runs[runs.count - 1].append((index, value))
                        continue
                    }
                }
                runs.append([(index, value)])
            case .dense(let value):
                guard head == nil else {
                    throw ExportError(.notExpressible, "a second dense layer: lstmconv exports one trailing nn.Linear", layer: index)
                }
                head = (index, value)
            }
        }
        guard let lastRun = runs.last, let lastRecurrent = lastRun.last else {
            throw ExportError(.notExpressible, "the model has no recurrent layer: there is no nn.LSTM or nn.GRU to export")
        }
        if options.cellNames {
            guard runs.count == 1, lastRun.count == 1, lastRecurrent.layer.directions.count == 1, lastRecurrent.layer.projectionSize == nil else {
                throw ExportError(
                    .notExpressible,
                    "cell names need one one-direction recurrent layer without projection (nn.LSTMCell / nn.GRUCell); the model has "
                        + "\(runs.reduce(0) { $0 + $1.count }) recurrent layer(s)",
                    layer: lastRecurrent.index)
            }
        }
        if !options.includeBias {
            for run in runs {
                for (index, layer) in run { try checkZeroBiases(layer, index: index) }
            }
        }

        var tensors: [(key: String, tensor: Tensor)] = []
        var modules: [ExportedModule] = []
        var zeroBiasKeys: [String] = []
        var notes: [String] = []
        var headActivation: Activation?

        if let embedding {
            let weight = try tensor(embedding.layer.parameters, .W_e, layer: embedding.index)
            tensors.append((join(options.embeddingPrefix, "weight"), weight))
            modules.append(
                ExportedModule(
                    prefix: options.embeddingPrefix, className: "Embedding",
                    arguments: [("num_embeddings", .int(embedding.layer.vocabularySize)), ("embedding_dim", .int(embedding.layer.embeddingSize))],
                    dtype: weight.dtype, layers: [embedding.index], output: nil))
        }
        for (number, run) in runs.enumerated() {
            let modulePrefix = runs.count == 1 ? options.prefix : join(options.prefix, String(number))
            let isLast = number == runs.count - 1
            let (module, keys, zeros) = try emit(run, prefix: modulePrefix, options: options, isLast: isLast)
            tensors += keys
            zeroBiasKeys += zeros
            modules.append(module)
        }
        if runs.count > 1 {
            notes.append(
                "the recurrent layers need \(runs.count) modules (their cell, sizes, directions or dtype differ): "
                    + "`\(join(options.prefix, "0"))`… form an nn.ModuleList, each fed the previous one's output")
        }
        if let head {
            let weight = try tensor(head.layer.parameters, .W_d, layer: head.index)
            tensors.append((join(options.headPrefix, "weight"), weight))
            if head.layer.useBias {
                tensors.append((join(options.headPrefix, "bias"), try tensor(head.layer.parameters, .b_d, layer: head.index)))
            }
            modules.append(
                ExportedModule(
                    prefix: options.headPrefix, className: "Linear",
                    arguments: [("in_features", .int(head.layer.inputSize)), ("out_features", .int(head.layer.units)), ("bias", .bool(head.layer.useBias))],
                    dtype: weight.dtype, layers: [head.index],
                    output: lastRecurrent.layer.returnSequences
                        ? "every_step" : (lastRecurrent.layer.finalOutput == .lastStep ? "last_step" : "final_state"),
                    activation: head.layer.activation == .linear ? nil : head.layer.activation))
            if head.layer.activation != .linear {
                headActivation = head.layer.activation
                notes.append(
                    "the head's activation \(head.layer.activation) is not part of a state_dict: apply \(Self.torchCall(head.layer.activation)) "
                        + "to the nn.Linear output `\(options.headPrefix)` (stated in the metadata as lstmconv.head_activation)")
            }
        }
        if !zeroBiasKeys.isEmpty {
            notes.append(
                "\(zeroBiasKeys.joined(separator: ", ")) written as zeros: the source layer has one bias per gate, exported as bias_ih")
        }
        if !lastRecurrent.layer.returnSequences, lastRecurrent.layer.finalOutput == .lastStep {
            notes.append("the last recurrent layer returns its last time step: in PyTorch use output[:, -1]")
        } else if !lastRecurrent.layer.returnSequences {
            notes.append(
                "the last recurrent layer returns its final state: in PyTorch use h_n of the last layer"
                    + (lastRecurrent.layer.directions.count == 2 ? " (both directions, forward first)" : "") + ", not the whole output")
        }

        var seen = Set<String>()
        for (key, _) in tensors where !seen.insert(key).inserted {
            throw ExportError(.invalidName, "two tensors would be named `\(key)`; choose different prefixes", location: key)
        }
        let prefixes = modules.map(\.prefix).filter { !$0.isEmpty }
        if let clash = prefixes.first(where: { name in prefixes.filter { $0 == name }.count > 1 }) {
            throw ExportError(.invalidName, "two modules would share the prefix `\(clash)`; choose different prefixes", location: clash)
        }

        let provenance = model.provenance
        var metadata = [
            "format": "pt",
            "lstmconv.converter": FormatVersion.converter,
            "lstmconv.source_framework": provenance.sourceFramework,
            "lstmconv.source_framework_version": provenance.sourceFrameworkVersion,
            "lstmconv.source_layout": provenance.sourceLayout,
            "lstmconv.source_sha256": provenance.sourceSHA256,
            "lstmconv.modules": "[" + modules.map(\.json).joined(separator: ",") + "]",
        ]
        if let headActivation {
            metadata["lstmconv.head_activation"] = Self.activationJSON(headActivation)
        }
        if !zeroBiasKeys.isEmpty {
            metadata["lstmconv.zero_bias_hh"] = zeroBiasKeys.joined(separator: ",")
        }
        if !notes.isEmpty {
            metadata["lstmconv.notes"] = notes.joined(separator: "\n")
        }
        return PyTorchExport(
            tensors: tensors, metadata: metadata, modules: modules, zeroBiasKeys: zeroBiasKeys, notes: notes, headActivation: headActivation)
    }

    /// The torch call that applies `activation` to the head's output.
    static func torchCall(_ activation: Activation) -> String {
        switch activation {
        case .softmax: "torch.softmax(y, dim=-1)"
        case .sigmoid: "torch.sigmoid(y)"
        case .tanh: "torch.tanh(y)"
        case .relu: "torch.relu(y)"
        case .linear: "nothing"
        case .hardSigmoid(let slope, let offset): "torch.clamp(\(slope) * y + \(offset), 0, 1)"
        }
    }

    /// `{"name":"hard_sigmoid","slope":…,"offset":…}` or `{"name":"softmax"}`.
    static func activationJSON(_ activation: Activation) -> String {
        if case .hardSigmoid(let slope, let offset) = activation {
            return "{\"name\":\"hard_sigmoid\",\"slope\":\(slope),\"offset\":\(offset)}"
        }
        return "{\"name\":\"\(activation.name)\"}"
    }

    /// Writes an export as `.safetensors` (atomically; an existing file only with `overwrite: true`).
    public static func write(_ export: PyTorchExport, to url: URL, overwrite: Bool = false) throws(ExportError) {
        try SafetensorsWriter.write(export.tensorsByKey, metadata: export.metadata, to: url, overwrite: overwrite)
    }

    // MARK: - Checks

    /// Refuses every feature `nn.LSTM` / `nn.GRU` cannot compute.
    static func checkExpressible(_ layer: RecurrentLayer, index: Int) throws(ExportError) {
        func refuse(_ location: String, _ message: String) -> ExportError {
            ExportError(.notExpressible, message, layer: index, location: location)
        }
        let kind = "nn." + torchClass(layer.cell)
        if layer.useGate == .document {
            throw refuse("use_gate", "the document use gate (U_t = tanh(W_u·LTM_{t-1}f_t + b_u)) has no PyTorch form; nn.LSTM computes h = o·tanh(c)")
        }
        if layer.peepholes != .none {
            throw refuse("peepholes", "\(layer.peepholes.rawValue) peepholes: \(kind) has none")
        }
        for (name, value) in [("cell_clip", layer.cellClip), ("gate_clip", layer.gateClip), ("projection_clip", layer.projectionClip)] {
            if let value { throw refuse(name, "\(name) \(value): \(kind) does not clip") }
        }
        if layer.forgetBias != 0 {
            throw refuse("forget_bias", "forget_bias \(layer.forgetBias) is added at run time; \(kind) has no such constant")
        }
        if layer.cell == .rnn {
            if layer.activation != .tanh && layer.activation != .relu {
                throw refuse("activation", "activation \(layer.activation): nn.RNN's nonlinearity is tanh or relu")
            }
        } else if layer.activation != .tanh {
            throw refuse("activation", "activation \(layer.activation): \(kind) uses tanh")
        }
        if layer.cell != .rnn, layer.recurrentActivation != .sigmoid {
            throw refuse("recurrent_activation", "recurrent activation \(layer.recurrentActivation): \(kind) uses sigmoid")
        }
        if layer.cell == .gru, layer.resetMode != .after {
            throw refuse("reset", "reset before (r multiplies h before the recurrent product); nn.GRU applies r after it (reset_after)")
        }
        if layer.maskValue != nil {
            throw refuse("mask_value", "a Keras Masking layer masks steps anywhere in the sequence; \(kind) has no mask (pack_padded_sequence only trims trailing steps)")
        }
        if layer.timeMajor {
            throw refuse("time_major", "the exported modules are batch_first=True; run the time-major model with lstmconv, or transpose its input")
        }
        if layer.goBackwards {
            throw refuse("go_backwards", "go_backwards reads the sequence reversed and returns it reversed; \(kind) has no such option")
        }
        if layer.directions.count == 2, let merge = layer.mergeMode, merge != .concat {
            throw refuse("merge_mode", "merge mode \(merge.rawValue): a bidirectional \(kind) concatenates its directions")
        }
        let dtypes = Set(layer.directions.flatMap { $0.tensors.values.map(\.dtype) })
        if dtypes.count > 1 {
            throw refuse("dtype", "mixed dtypes \(dtypes.map(\.rawValue).sorted()) in one layer: a fused PyTorch tensor has one dtype")
        }
    }

    /// The PyTorch class name of a cell kind: `LSTM`, `GRU`, `RNN`.
    static func torchClass(_ cell: CellKind) -> String {
        switch cell {
        case .lstm: "LSTM"
        case .gru: "GRU"
        case .rnn: "RNN"
        }
    }

    /// Whether `next` can be layer `k + 1` of the same `nn.LSTM` / `nn.GRU` / `nn.RNN` as `previous`.
    static func stacks(_ previous: RecurrentLayer, _ next: RecurrentLayer) -> Bool {
        previous.cell == next.cell && previous.activation == next.activation && previous.hiddenSize == next.hiddenSize && previous.projectionSize == next.projectionSize
            && previous.directions.count == next.directions.count && dtype(of: previous) == dtype(of: next)
            && next.inputSize == previous.outputSize
    }

    static func dtype(of layer: RecurrentLayer) -> DType? {
        let role: TensorRole = switch layer.cell {
        case .lstm: .W_i
        case .gru: .W_z
        case .rnn: .W_s
        }
        return layer.directions.first?.tensors[role]?.dtype
    }

    static func checkZeroBiases(_ layer: RecurrentLayer, index: Int) throws(ExportError) {
        for (direction, set) in layer.directions.enumerated() {
            for (role, tensor) in set.tensors.sorted(by: { $0.key < $1.key }) where isBias(role) {
                if try tensor.loaded(role.rawValue).doubles().contains(where: { $0 != 0 }) {
                    throw ExportError(
                        .notExpressible,
                        "bias=False needs every recurrent bias to be zero; \(role.rawValue) (\(Direction.allCases[min(direction, 1)].rawValue)) is not",
                        layer: index, location: role.rawValue)
                }
            }
        }
    }

    static func isBias(_ role: TensorRole) -> Bool { role.rawValue.hasPrefix("b_") || role.rawValue.hasPrefix("bh_") }

    /// Module prefixes: dot-separated non-empty names without whitespace or control characters.
    static func checkPrefix(_ prefix: String, _ what: String, allowEmpty: Bool) throws(ExportError) {
        if prefix.isEmpty {
            guard allowEmpty else { throw ExportError(.invalidName, "the \(what) may not be empty") }
            return
        }
        let components = prefix.split(separator: ".", omittingEmptySubsequences: false)
        guard components.allSatisfy({ !$0.isEmpty }),
              !prefix.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) else {
            throw ExportError(
                .invalidName, "the \(what) `\(prefix)` is not a module path (dot-separated names, no spaces)", location: prefix)
        }
    }

    // MARK: - Tensors

    static func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

    static func tensor(_ set: ParameterSet, _ role: TensorRole, layer: Int) throws(ExportError) -> Tensor {
        guard let tensor = set.tensors[role] else {
            throw ExportError(.invalidModel, "no \(role.rawValue) tensor", layer: layer, location: role.rawValue)
        }
        return tensor
    }

    /// The keys and fused tensors of one `nn.LSTM` / `nn.GRU` (every layer and direction), by the PyTorch table.
    static func emit(
        _ run: [(index: Int, layer: RecurrentLayer)], prefix: String, options: PyTorchExportOptions, isLast: Bool
    ) throws(ExportError) -> (ExportedModule, [(key: String, tensor: Tensor)], [String]) {
        guard let first = run.first?.layer, let last = run.last?.layer else {
            throw ExportError(.invalidModel, "an empty module")
        }
        var layout = switch first.cell {
        case .lstm: PyTorchLayouts.lstm
        case .gru: PyTorchLayouts.gru
        case .rnn: PyTorchLayouts.rnn
        }
        if first.projectionSize == nil { layout.tensors.removeAll { $0.part == .projection } }
        if !options.includeBias { layout.tensors.removeAll { $0.part == .bias || $0.part == .secondBias } }
        let elementType = dtype(of: first) ?? .f32

        var keys: [(key: String, tensor: Tensor)] = []
        var zeros: [String] = []
        for (k, entry) in run.enumerated() {
            let layer = entry.layer
            for (direction, original) in layer.directions.enumerated() {
                var set = ParameterSet(tensors: original.tensors)
                let filled = layer.bias == .single && options.includeBias
                if filled {
                    for gate in layout.gates {
                        let zero = Data(count: layer.hiddenSize * elementType.byteWidth)
                        do {
                            set.tensors[gate.gate.secondBias] = try Tensor(dtype: elementType, shape: [layer.hiddenSize], bytes: zero)
                        } catch {
                            throw ExportError(.invalidModel, error.description, layer: entry.index)
                        }
                    }
                }
                if !options.includeBias {
                    for role in set.tensors.keys where isBias(role) { set.tensors[role] = nil }
                }
                let fused: [String: Tensor]
                do {
                    fused = try layout.disassemble(
                        set, hiddenSize: layer.hiddenSize, inputSize: layer.inputSize, recurrentSize: layer.recurrentSize)
                } catch {
                    let code: ExportError.Code = error.code == .unsupportedLayer ? .notExpressible : .invalidModel
                    throw ExportError(code, error.message, layer: entry.index, location: error.location)
                }
                for source in layout.tensors {
                    guard let tensor = fused[source.name] else { continue }
                    let name = source.name
                        .replacingOccurrences(of: "_l{k}", with: options.cellNames ? "" : "_l\(k)")
                        .replacingOccurrences(of: "{_reverse}", with: direction == 1 ? "_reverse" : "")
                    let key = join(prefix, name)
                    keys.append((key, tensor))
                    if filled, source.part == .secondBias { zeros.append(key) }
                }
            }
        }

        let className = torchClass(first.cell) + (options.cellNames ? "Cell" : "")
        var arguments: [(name: String, value: ExportedModule.Value)] = [("input_size", .int(first.inputSize)), ("hidden_size", .int(first.hiddenSize))]
        if options.cellNames {
            arguments.append(("bias", .bool(options.includeBias)))
        } else {
            arguments += [
                ("num_layers", .int(run.count)), ("bias", .bool(options.includeBias)), ("batch_first", .bool(true)),
                ("bidirectional", .bool(first.directions.count == 2)),
            ]
            if first.cell == .lstm { arguments.append(("proj_size", .int(first.projectionSize ?? 0))) }
        }
        if first.cell == .rnn { arguments.append(("nonlinearity", .string(first.activation == .relu ? "relu" : "tanh"))) }
        let output = isLast && !last.returnSequences ? (last.finalOutput == .lastStep ? "last_step" : "final_state") : "sequence"
        let module = ExportedModule(
            prefix: prefix, className: className, arguments: arguments, dtype: elementType, layers: run.map(\.index), output: output)
        return (module, keys, zeros)
    }
}
