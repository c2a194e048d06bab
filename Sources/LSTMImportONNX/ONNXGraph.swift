import LSTMLayouts
import LSTMModel
import ONNXProto

/// The role of one axis of a tensor on the data path.
enum Axis: Equatable, CustomStringConvertible {
    case batch
    case time
    /// Features of the given size.
    case feature(Int)
    /// The `num_directions` axis of an RNN operator's output.
    case directions(Int)
    /// A size-1 axis.
    case one
    /// Batch and time flattened into one axis (tf2onnx's `Tensordot`: `Reshape [-1, F]`, `MatMul`, `Reshape` back).
    case batchTime

    /// The concrete size, `nil` for batch and time.
    var size: Int? {
        switch self {
        case .batch, .time, .batchTime: nil
        case .feature(let n), .directions(let n): n
        case .one: 1
        }
    }

    var description: String {
        switch self {
        case .batch: "batch"
        case .time: "time"
        case .feature(let n): "features(\(n))"
        case .directions(let n): "directions(\(n))"
        case .one: "1"
        case .batchTime: "batch·time"
        }
    }
}

/// A value on the data path: the input and everything computed from it.
struct Flow {
    var axes: [Axis]
    /// Token ids (integer input before the embedding).
    var tokens = false
    /// The recurrent layer whose output this is, while nothing but reshaping happened since.
    var producer: Int?
    /// What of the producer's output this is.
    var part: Part = .other
    /// The time axis was reversed (`Slice` with step -1): a reverse layer's outputs in reading order (`go_backwards`).
    var timeReversed = false
    /// Branch group: the outputs of one node share it; a group may be consumed once.
    var group: Int

    enum Part {
        /// `Y`: every step.
        case sequence
        /// `Y_h`: the final state.
        case finalState
        /// `Y[T - 1]`: the sequence's last time step.
        case lastStep
        /// `Y_c`: the final cell state (no layer output in the format).
        case cellState
        case other
    }
}

/// What the interpreter knows about a value.
enum Value {
    case constant(ONNXConstant)
    /// Computed from shapes or constants only (no data): plumbing whose value is not needed.
    case dataIndependent
    /// All zeros, of a shape computed from shapes (`ConstantOfShape`, `Expand` of zero, slices of those).
    case zeros
    case flow(Flow)
    /// A graph input of per-sequence lengths (int32/int64 `[batch]`), for `sequence_lens`.
    case lengths(String)
}

/// Walks an ONNX graph in node order, following the data path from the graph input to the graph output, and
/// builds the layer chain it forms. Anything off that chain must be data-independent plumbing
/// (`Shape`, `Constant`, `Gather`/`Concat`/`Unsqueeze` of shapes, `ConstantOfShape` zeros).
struct ONNXGraphReader {
    let file: ONNXFile
    var values: [String: Value] = [:]
    var layers: [Layer] = []
    var tensorMap: [(source: String, document: String)] = []
    var ignored: [String] = []
    var notes: [String] = []
    var summaries: [String] = []
    var consumedGroups: [Int: String] = [:]
    var nextGroup = 0
    /// The dense layer a following `Add` may give its bias to.
    var openDense: Int?
    /// Inputs of per-sequence lengths that a recurrent operator took as `sequence_lens`.
    var usedLengths = Set<String>()

    init(file: ONNXFile) { self.file = file }

    func fail(_ code: ImportError.Code, _ node: Onnx_NodeProto, _ message: String) -> ImportError {
        ImportError(code, "\(node.label): \(message)", file: file.url.path, location: node.name.isEmpty ? node.opType : node.name)
    }

    mutating func newGroup() -> Int {
        nextGroup += 1
        return nextGroup
    }

    // MARK: - Driver

    mutating func read() throws(ImportError) -> [Layer] {
        let graph = file.model.graph
        guard let opset = file.opset else {
            throw ImportError(.malformedSource, "no default-domain opset import", file: file.url.path)
        }
        guard opset >= 7 else {
            throw ImportError(.unsupportedLayer, "opset \(opset): the importer reads opset 7 and later", file: file.url.path)
        }
        for initializer in graph.initializer {
            values[initializer.name] = .constant(try file.constant(initializer, name: initializer.name))
        }
        var inputs = graph.input.filter { values[$0.name] == nil }
        // Per-sequence lengths: an integer [batch] input beside the data input (ONNX `sequence_lens`).
        let lengthInputs = inputs.count > 1 ? inputs.filter { input in
            let type = input.type.tensorType
            let elem = Onnx_TensorProto.DataType(rawValue: Int(type.elemType))
            return (elem == .int32 || elem == .int64) && type.shape.dim.count == 1
        } : []
        for input in lengthInputs { values[input.name] = .lengths(input.name) }
        inputs.removeAll { input in lengthInputs.contains { $0.name == input.name } }
        guard inputs.count == 1, let input = inputs.first else {
            throw ImportError(
                .unsupportedTopology, "the graph has \(inputs.count) non-initializer inputs (\(inputs.map(\.name).joined(separator: ", "))); lstmconv reads one input",
                file: file.url.path)
        }
        values[input.name] = .flow(try inputFlow(input))
        for node in graph.node {
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw fail(.unsupportedLayer, node, "operator domain `\(node.domain)` is not the default ONNX domain")
            }
            let outputs = try evaluate(node)
            for (name, value) in zip(node.output, outputs) where !name.isEmpty { values[name] = value }
        }
        if let unused = lengthInputs.first(where: { !usedLengths.contains($0.name) }) {
            throw ImportError(
                .unsupportedTopology, "the input `\(unused.name)` is not the sequence_lens of a recurrent operator; lstmconv reads one data input",
                file: file.url.path, location: unused.name)
        }
        guard graph.output.count == 1, let output = graph.output.first else {
            throw ImportError(
                .unsupportedTopology,
                "the graph has \(graph.output.count) outputs (\(graph.output.map(\.name).joined(separator: ", "))); lstmconv imports single-output chains",
                file: file.url.path)
        }
        guard case .flow(let flow)? = values[output.name] else {
            throw ImportError(.unsupportedTopology, "the graph output `\(output.name)` does not depend on the input", file: file.url.path)
        }
        try finish(flow, outputName: output.name)
        return layers
    }

    func inputFlow(_ input: Onnx_ValueInfoProto) throws(ImportError) -> Flow {
        let type = input.type.tensorType
        let dims = type.shape.dim
        let elem = Onnx_TensorProto.DataType(rawValue: Int(type.elemType))
        switch elem {
        case .float?, .double?, .float16?:
            guard dims.count == 3, dims[2].dimValue > 0, let features = Int(exactly: dims[2].dimValue) else {
                throw ImportError(
                    .unsupportedTopology, "the input `\(input.name)` must be [batch, time, features] with a fixed feature count", file: file.url.path,
                    location: input.name)
            }
            return Flow(axes: [.batch, .time, .feature(features)], group: 0)
        case .int64?, .int32?:
            guard dims.count == 2 else {
                throw ImportError(.unsupportedTopology, "integer input `\(input.name)` must be token ids [batch, time]", file: file.url.path, location: input.name)
            }
            return Flow(axes: [.batch, .time], tokens: true, group: 0)
        default:
            throw ImportError(.unsupportedTopology, "the input `\(input.name)` has element type \(type.elemType)", file: file.url.path, location: input.name)
        }
    }

    /// Checks the graph output is what `lstmconv run` returns and fixes the last recurrent layer's output mode.
    mutating func finish(_ flow: Flow, outputName: String) throws(ImportError) {
        if let producer = flow.producer { try settle(producer, flow) }
        let lastIsFeature = if case .feature? = flow.axes.last { true } else { false }
        let runShaped = lastIsFeature && (flow.axes.count == 3 ? Array(flow.axes.prefix(2)) == [.batch, .time] : flow.axes.count == 2 && flow.axes[0] == .batch)
        guard runShaped, !flow.tokens else {
            throw ImportError(
                .unsupportedTopology,
                "the graph output `\(outputName)` has axes [\(flow.axes.map(\.description).joined(separator: ", "))]; lstmconv run returns [batch, time, features] or [batch, features]",
                file: file.url.path, location: outputName)
        }
        guard !layers.isEmpty, layers.contains(where: { if case .recurrent = $0 { true } else { false } }) else {
            throw ImportError(.noRecurrentWeights, "the graph has no LSTM or GRU operator on its data path", file: file.url.path)
        }
    }

    /// Fixes whether recurrent layer `index` returns its sequence, from how its output is used.
    mutating func settle(_ index: Int, _ flow: Flow) throws(ImportError) {
        guard case .recurrent(var layer) = layers[index] else { return }
        layer.returnSequences = flow.part == .sequence && (flow.axes.contains(.time) || flow.axes.contains(.batchTime))
        layer.finalOutput = flow.part == .lastStep ? .lastStep : .finalState
        if layer.returnSequences, layer.goBackwards != flow.timeReversed {
            throw ImportError(
                .unsupportedTopology,
                layer.goBackwards
                    ? "layer \(index) (direction reverse) returns its output sequence aligned with the input's time steps; lstmconv's go_backwards returns it in reading order (reversed by a Slice with step -1); Y_h or the reversed sequence is imported"
                    : "layer \(index) returns its output sequence reversed in time, which only a reverse (go_backwards) layer does in the format",
                file: file.url.path, location: "layer_\(index)")
        }
        layers[index] = .recurrent(layer)
    }

    // MARK: - Values

    func value(_ node: Onnx_NodeProto, _ index: Int) throws(ImportError) -> Value? {
        guard index < node.input.count, !node.input[index].isEmpty else { return nil }
        let name = node.input[index]
        guard let value = values[name] else {
            throw fail(.malformedSource, node, "input `\(name)` is not produced by an earlier node (nodes must be in topological order)")
        }
        return value
    }

    func constant(_ node: Onnx_NodeProto, _ index: Int, _ what: String) throws(ImportError) -> ONNXConstant {
        guard case .constant(let value)? = try value(node, index) else {
            throw fail(.unsupportedTopology, node, "\(what) (input \(index)) must be a constant (initializer or Constant node)")
        }
        return value
    }

    func ints(_ node: Onnx_NodeProto, _ index: Int, _ what: String) throws(ImportError) -> [Int]? {
        guard try value(node, index) != nil else { return nil }
        guard let values = try constant(node, index, what).ints else {
            throw fail(.unsupportedTopology, node, "\(what) must be integers")
        }
        return values.map { Int(clamping: $0) }
    }

    /// Marks the flow's branch group as used by `node`; a second data use is a branch.
    mutating func consume(_ flow: Flow, by node: Onnx_NodeProto) throws(ImportError) {
        if let previous = consumedGroups[flow.group] {
            throw fail(.unsupportedTopology, node, "the data path branches: this value is already used by \(previous); lstmconv imports single chains")
        }
        consumedGroups[flow.group] = node.label
    }

    // MARK: - Nodes

    mutating func evaluate(_ node: Onnx_NodeProto) throws(ImportError) -> [Value] {
        var inputs: [Value?] = []
        for index in node.input.indices { inputs.append(try value(node, index)) }
        let flows = inputs.compactMap { value -> Flow? in if case .flow(let flow)? = value { flow } else { nil } }

        if flows.isEmpty {
            return try plumbing(node, inputs)
        }
        if node.opType == "Shape" || node.opType == "Size" {
            return [.dataIndependent]
        }
        let flowIndex = inputs.firstIndex { if case .flow? = $0 { true } else { false } } ?? 0
        let swappable = (node.opType == "Gather" && flowIndex == 1) || (node.opType == "Add" && flowIndex == 1)
        guard let data = flows.first, flows.count == 1, flowIndex == 0 || swappable else {
            throw fail(.unsupportedTopology, node, "combines the data path with itself or takes it as a non-first input; lstmconv imports single chains")
        }
        if data.part == .cellState {
            throw fail(.unsupportedTopology, node, "uses the cell state Y_c, which the format has no output for")
        }
        try consume(data, by: node)
        var out = data
        out.group = newGroup()
        switch node.opType {
        case "Identity", "Dropout":
            return [.flow(out), .dataIndependent]
        case "Cast":
            guard !data.tokens else { return [.flow(out)] }
            let to = Onnx_TensorProto.DataType(rawValue: Int(node.int("to") ?? 0))
            guard [.float, .double, .float16].contains(to) else {
                throw fail(.unsupportedTopology, node, "casts the data path to a non-float type")
            }
            return [.flow(out)]
        case "Transpose":
            let perm = (node.ints("perm") ?? []).map { Int(clamping: $0) }
            let rank = data.axes.count
            let order = perm.isEmpty ? Array((0..<rank).reversed()) : perm
            guard order.sorted() == Array(0..<rank) else { throw fail(.malformedSource, node, "perm \(perm) for rank \(rank)") }
            out.axes = order.map { data.axes[$0] }
            return [.flow(out)]
        case "Squeeze":
            let axes = try ints(node, 1, "axes") ?? (node.ints("axes") ?? []).map { Int(clamping: $0) }
            let targets = axes.isEmpty ? data.axes.indices.filter { data.axes[$0].size == 1 } : axes.map { $0 < 0 ? $0 + data.axes.count : $0 }
            for axis in targets {
                guard data.axes.indices.contains(axis), data.axes[axis].size == 1 else {
                    throw fail(.unsupportedTopology, node, "squeezes axis \(axis) of [\(data.axes.map(\.description).joined(separator: ", "))], which is not of size 1")
                }
            }
            out.axes = data.axes.enumerated().filter { !targets.contains($0.offset) }.map(\.element)
            return [.flow(out)]
        case "Unsqueeze":
            let axes = try ints(node, 1, "axes") ?? (node.ints("axes") ?? []).map { Int(clamping: $0) }
            let rank = data.axes.count + axes.count
            var result = data.axes
            for axis in axes.map({ $0 < 0 ? $0 + rank : $0 }).sorted() {
                guard axis >= 0, axis <= result.count else { throw fail(.malformedSource, node, "axes \(axes)") }
                result.insert(.one, at: axis)
            }
            out.axes = result
            return [.flow(out)]
        case "Flatten":
            let axis = Int(clamping: node.int("axis") ?? 1)
            guard axis == 1, data.axes.first == .batch, let merged = merge(Array(data.axes.dropFirst())) else {
                throw fail(.unsupportedTopology, node, "flattens [\(data.axes.map(\.description).joined(separator: ", "))] at axis \(axis)")
            }
            out.axes = [.batch, merged]
            return [.flow(out)]
        case "Reshape":
            if case .dataIndependent? = try value(node, 1), data.axes.first == .batchTime, data.axes.count == 2 {
                // tf2onnx's Tensordot: [batch·time, F] back to [batch, time, F] with a shape computed from Shape().
                out.axes = [.batch, .time, data.axes[1]]
                return [.flow(out)]
            }
            guard let shape = try ints(node, 1, "shape") else { throw fail(.malformedSource, node, "no shape") }
            out.axes = try reshape(data.axes, shape, node)
            return [.flow(out)]
        case "Gather" where flowIndex == 1:
            return [.flow(try embedding(node, out))]
        case "Gather":
            return [.flow(try gather(out, node))]
        case "Slice":
            return [.flow(try slice(out, node))]
        case "LSTM", "GRU", "RNN":
            return try recurrent(node, out)
        case "ReduceSum", "ReduceMean", "ReduceProd":
            return [.flow(try mergeDirections(node, out))]
        case "Gemm", "MatMul":
            return [.flow(try dense(node, out))]
        case "Add":
            return [.flow(try addBias(node, out, constantIndex: 1 - flowIndex))]
        case "Softmax", "Sigmoid", "Tanh", "Relu":
            return [.flow(try activation(node, out))]
        default:
            throw fail(.unsupportedTopology, node, "is on the data path; lstmconv recognises the chains torch.onnx.export and tf2onnx emit around LSTM/GRU")
        }
    }

    /// Nodes that do not touch the data path: constants, shape plumbing and zero initial states.
    func plumbing(_ node: Onnx_NodeProto, _ inputs: [Value?]) throws(ImportError) -> [Value] {
        switch node.opType {
        case "Constant":
            guard let attribute = node.attribute.first else { throw fail(.malformedSource, node, "no value") }
            switch attribute.name {
            case "value": return [.constant(try file.constant(attribute.t, name: node.output.first ?? ""))]
            case "value_int": return [.constant(ONNXConstant(name: "", dims: [], values: .int([attribute.i])))]
            case "value_ints": return [.constant(ONNXConstant(name: "", dims: [attribute.ints.count], values: .int(attribute.ints)))]
            default: return [.dataIndependent]
            }
        case "ConstantOfShape":
            if let attribute = node.attribute("value") {
                let fill = try file.constant(attribute.t, name: node.output.first ?? "")
                return [fill.isAllZero ? .zeros : .dataIndependent]
            }
            return [.zeros]
        case "Concat" where !inputs.isEmpty && inputs.allSatisfy({ value in
            if case .zeros? = value { return true }
            if case .constant(let constant)? = value { return constant.isAllZero }
            return false
        }):
            return [.zeros]
        case "Expand", "Tile", "Slice", "Gather", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Cast", "Identity":
            if case .zeros? = inputs.first ?? nil { return [.zeros] }
            if case .constant(let value)? = inputs.first ?? nil {
                if value.isAllZero, ["Expand", "Tile"].contains(node.opType) { return [.zeros] }
                if ["Identity", "Cast"].contains(node.opType) { return [.constant(value)] }
                if ["Unsqueeze", "Squeeze", "Reshape"].contains(node.opType), value.elementCount <= 16 {
                    // Small constants (axes, indices) keep their values; only the dims change.
                    if node.opType == "Reshape" { return [value.isAllZero ? .zeros : .dataIndependent] }
                    let dims = node.opType == "Squeeze" ? value.dims.filter { $0 != 1 } : [value.elementCount]
                    if let reshaped = value.reshaped(dims.isEmpty ? [] : dims) { return [.constant(reshaped)] }
                }
                if value.isAllZero { return [.zeros] }
            }
            return [.dataIndependent]
        default:
            return Array(repeating: .dataIndependent, count: max(node.output.count, 1))
        }
    }

    // MARK: - Reshaping

    /// Merges axes into one feature axis: `[directions(D), features(H)]` → `features(D·H)` (directions
    /// concatenated, forward first), size-1 axes dropped. `nil` if batch or time would be merged.
    func merge(_ axes: [Axis]) -> Axis? {
        let kept = axes.filter { $0.size != 1 }
        if kept == [.batch, .time] { return .batchTime }
        switch kept.count {
        case 0: return .one
        case 1: return kept[0] == .batch || kept[0] == .time ? kept[0] : (kept[0].size.map { .feature($0) })
        case 2:
            if case .directions(let d) = kept[0], case .feature(let h) = kept[1] { return .feature(d * h) }
            return nil
        default: return nil
        }
    }

    /// Resolves a Reshape target (0 = copy, -1 = infer) against the axis roles.
    func reshape(_ axes: [Axis], _ shape: [Int], _ node: Onnx_NodeProto) throws(ImportError) -> [Axis] {
        let described = "[\(axes.map(\.description).joined(separator: ", "))] to \(shape)"
        let allowZero = node.int("allowzero") ?? 0
        guard allowZero == 0 || !shape.contains(0), shape.filter({ $0 == -1 }).count <= 1 else {
            throw fail(.unsupportedTopology, node, "reshapes \(described)")
        }
        // Left of -1 and right of -1 are matched from their ends; -1 takes what is left in the middle.
        let split = shape.firstIndex(of: -1) ?? shape.count
        var left: [Axis] = [], right: [Axis] = []
        var position = 0
        func take(_ target: Int, index: Int, from start: Int, step: Int) throws(ImportError) -> (Axis, Int) {
            if target == 0 {
                guard axes.indices.contains(index) else { throw fail(.unsupportedTopology, node, "reshapes \(described)") }
                return (axes[index], 1)
            }
            // Consume concrete axes until their product is `target`.
            var product = 1, used: [Axis] = [], cursor = start
            while product < target, axes.indices.contains(cursor), let size = axes[cursor].size {
                product *= size
                used.append(axes[cursor])
                cursor += step
            }
            if target == 1, used.isEmpty { return (.one, 0) }
            guard product == target, let merged = merge(step > 0 ? used : used.reversed()) else {
                throw fail(.unsupportedTopology, node, "reshapes \(described): a fixed size that mixes batch or time with features")
            }
            return (merged == .one ? .one : merged, used.count)
        }
        for (index, target) in shape[..<split].enumerated() {
            let (axis, used) = try take(target, index: index, from: position, step: 1)
            left.append(axis)
            position += target == 0 ? (position == index ? 1 : 0) : used
        }
        var end = axes.count - 1
        if split < shape.count {
            for (offset, target) in shape[(split + 1)...].reversed().enumerated() {
                let index = shape.count - 1 - offset
                let (axis, used) = try take(target, index: index - shape.count + axes.count, from: end, step: -1)
                right.insert(axis, at: 0)
                end -= target == 0 ? 1 : used
            }
            let middle = position <= end ? Array(axes[position...end]) : []
            guard let merged = merge(middle) else {
                throw fail(.unsupportedTopology, node, "reshapes \(described): -1 would merge [\(middle.map(\.description).joined(separator: ", "))]")
            }
            return left + [merged] + right
        }
        guard position == axes.count || axes[position...].allSatisfy({ $0.size == 1 }) else {
            throw fail(.unsupportedTopology, node, "reshapes \(described)")
        }
        return left
    }

    /// `Gather` of the last step (index -1 on the time axis) or of the only direction / a size-1 axis.
    mutating func gather(_ data: Flow, _ node: Onnx_NodeProto) throws(ImportError) -> Flow {
        var out = data
        let axis = Int(clamping: node.int("axis") ?? 0)
        let resolved = axis < 0 ? axis + data.axes.count : axis
        guard data.axes.indices.contains(resolved), let indices = try ints(node, 1, "indices"), indices.count == 1,
              case .constant(let constant)? = try value(node, 1) else {
            throw fail(.unsupportedTopology, node, "gathers from the data path with non-constant or several indices")
        }
        let index = indices[0]
        let keepAxis = !constant.dims.isEmpty
        switch data.axes[resolved] {
        case .time:
            guard index == -1 else {
                throw fail(.unsupportedTopology, node, "takes time step \(index); only the last step (-1) has a meaning independent of the sequence length")
            }
            try selectLastStep(&out, node)
        case .one, .directions(1):
            guard index == 0 || index == -1 else { throw fail(.malformedSource, node, "index \(index) of a size-1 axis") }
        default:
            throw fail(.unsupportedTopology, node, "gathers along the \(data.axes[resolved]) axis")
        }
        if keepAxis { out.axes[resolved] = .one } else { out.axes.remove(at: resolved) }
        return out
    }

    /// `Slice` of the last step along time (starts -1, ends past the end).
    mutating func slice(_ data: Flow, _ node: Onnx_NodeProto) throws(ImportError) -> Flow {
        var out = data
        guard let starts = try ints(node, 1, "starts"), let ends = try ints(node, 2, "ends") else {
            throw fail(.unsupportedTopology, node, "slices the data path without constant starts/ends (opset 10+ form)")
        }
        let axes = try ints(node, 3, "axes") ?? Array(0..<starts.count)
        let steps = try ints(node, 4, "steps") ?? Array(repeating: 1, count: starts.count)
        guard starts.count == 1, ends.count == 1, axes.count == 1, steps.count == 1 else {
            throw fail(.unsupportedTopology, node, "slices several axes of the data path")
        }
        let axis = axes[0] < 0 ? axes[0] + data.axes.count : axes[0]
        if steps == [-1], data.axes.indices.contains(axis), data.axes[axis] == .time, starts[0] == -1, ends[0] <= -Int(Int32.max) {
            // The whole time axis reversed.
            guard data.producer != nil, data.part == .sequence, !data.timeReversed else {
                throw fail(.unsupportedTopology, node, "reverses the time axis of something that is not a recurrent layer's output sequence")
            }
            out.timeReversed = true
            return out
        }
        guard steps == [1] else {
            throw fail(.unsupportedTopology, node, "slices the data path with step \(steps[0])")
        }
        guard data.axes.indices.contains(axis), data.axes[axis] == .time, starts[0] == -1, ends[0] >= Int(Int32.max) else {
            throw fail(.unsupportedTopology, node, "slices [\(starts[0]), \(ends[0])) of axis \(axes[0]); only the last time step is recognised")
        }
        try selectLastStep(&out, node)
        out.axes[axis] = .one
        return out
    }

    /// `ReduceSum` / `ReduceMean` / `ReduceProd` over the directions axis of a bidirectional layer's output (keepdims 0):
    /// merge mode sum / ave / mul.
    mutating func mergeDirections(_ node: Onnx_NodeProto, _ data: Flow) throws(ImportError) -> Flow {
        var out = data
        let axes = try ints(node, 1, "axes") ?? (node.ints("axes") ?? []).map { Int(clamping: $0) }
        let resolved = axes.map { $0 < 0 ? $0 + data.axes.count : $0 }
        guard resolved.count == 1, let axis = resolved.first, data.axes.indices.contains(axis), data.axes[axis] == .directions(2),
              (node.int("keepdims") ?? 1) == 0, let producer = data.producer, case .recurrent(var layer) = layers[producer],
              layer.directions.count == 2, (layer.mergeMode ?? .concat) == .concat else {
            throw fail(.unsupportedTopology, node, "reduces the data path; only merging the two directions of a bidirectional layer (keepdims 0) is recognised")
        }
        layer.mergeMode = node.opType == "ReduceSum" ? .sum : node.opType == "ReduceMean" ? .ave : .mul
        layers[producer] = .recurrent(layer)
        out.axes.remove(at: axis)
        return out
    }

    /// The last step of a recurrent layer's sequence: its final state when that is the same thing.
    mutating func selectLastStep(_ flow: inout Flow, _ node: Onnx_NodeProto) throws(ImportError) {
        guard let producer = flow.producer, flow.part == .sequence, case .recurrent(let layer) = layers[producer] else {
            throw fail(.unsupportedTopology, node, "takes the last step of something that is not an LSTM/GRU output sequence")
        }
        guard !layer.goBackwards else {
            throw fail(
                .unsupportedTopology, node,
                "takes the last step of a reverse layer's sequence: that direction has then read one step only, and lstmconv's go_backwards keeps no such output (use Y_h)")
        }
        flow.part = .lastStep
        try settle(producer, flow)
        flow.producer = nil
    }
}
