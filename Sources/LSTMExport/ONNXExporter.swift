import AtomicFileIO
import Foundation
import LSTMLayouts
import LSTMImportONNX
import LSTMModel
import ONNXProto
import SwiftProtobuf

/// A model as one ONNX graph, ready to be written.
public struct ONNXExport: Sendable {
    /// The `ModelProto`.
    public var model: Onnx_ModelProto
    /// Remarks for the user (dtype widening, output form).
    public var notes: [String]
    /// Initializers (by index in `model.graph.initializer`) whose `raw_data` is left empty in `model` because
    /// their tensor is deferred (a streaming export): ``ONNXExporter/write(_:to:overwrite:)`` streams their bytes
    /// into place, ``serialized()`` reads them first.
    package var deferred: [Int: Tensor] = [:]

    /// An export of `model`.
    public init(model: Onnx_ModelProto, notes: [String]) {
        self.model = model
        self.notes = notes
    }

    /// The serialized file (deterministic: the same model gives the same bytes).
    public func serialized() throws(ExportError) -> Data {
        var complete = model
        for (index, tensor) in deferred { complete.graph.initializer[index].rawData = try tensor.loaded(complete.graph.initializer[index].name).bytes }
        return try Self.serialize(complete)
    }

    static func serialize(_ model: Onnx_ModelProto) throws(ExportError) -> Data {
        do {
            var options = BinaryEncodingOptions()
            options.useDeterministicOrdering = true
            return try model.serializedData(options: options)
        } catch {
            throw ExportError(.invalidModel, "cannot serialize the ONNX model: \(error)")
        }
    }
}

/// Exports a model as one ONNX graph (opset 17, IR 8): input `input` `[batch, time, features]` float (or int64
/// token ids `[batch, time]` after an embedding), output `output` exactly as `lstmconv run` returns it.
///
/// Recurrent layers become `LSTM` / `GRU` operators (layout 0, between `Transpose` nodes) whose `W`, `R`, `B`, `P`
/// are fused by `ONNXLayouts` through `FusedLayout.disassemble`, the
/// inverse of the importer's cut: a model imported from ONNX exports the same initializer bytes. Peepholes, gate
/// clips and HardSigmoid are expressible (`go_backwards` as direction reverse, its sequence reversed in time by a
/// `Slice` with step -1); the document use gate, full peepholes, projection, cell/projection clips, `forget_bias` and
/// `go_backwards` on a bidirectional layer are refused with ``ExportError/Code/notExpressible``.
public enum ONNXExporter {
    /// The opset the graph imports (≥ 14 for `layout`; 17 keeps `ReduceMean`/`ReduceProd` axes as attributes).
    public static let opset: Int64 = 17
    /// The IR version written (onnxruntime 1.32 and onnx 1.23 read it).
    public static let irVersion: Int64 = 8

    public static func export(_ model: Model) throws(ExportError) -> ONNXExport {
        do {
            try model.validate()
        } catch {
            throw ExportError(.invalidModel, error.description, location: error.keyPath)
        }
        var builder = GraphBuilder()
        var notes: [String] = []

        // Element type of the whole graph: f64 if any tensor is f64, else f32 (f16/bf16 widened exactly).
        let dtypes = Set(model.storedTensors.map(\.tensor.dtype))
        let graphType: DType = dtypes.contains(.f64) ? .f64 : .f32
        if dtypes.contains(where: { $0 != graphType }) {
            notes.append(
                "weights stored as \(dtypes.map(\.rawValue).sorted().joined(separator: ", ")) are widened exactly to \(graphType.rawValue) (onnxruntime's LSTM/GRU run float and double)")
        }
        let elementType = graphType == .f64 ? Int32(Onnx_TensorProto.DataType.double.rawValue) : Int32(Onnx_TensorProto.DataType.float.rawValue)

        enum Form { case batchMajor, timeMajor, vectors }
        var current = "input"
        var form = Form.batchMajor
        let startsWithEmbedding: Bool
        if case .embedding = model.layers.first { startsWithEmbedding = true } else { startsWithEmbedding = false }
        if startsWithEmbedding {
            builder.graph.input.append(valueInfo("input", Int32(Onnx_TensorProto.DataType.int64.rawValue), ["batch", "time"]))
        } else {
            let features: Int
            switch model.layers.first {
            case .recurrent(let layer)?: features = layer.inputSize
            case .dense(let layer)?: features = layer.inputSize
            default: features = 0
            }
            builder.graph.input.append(valueInfo("input", elementType, ["batch", "time", "\(features)"]))
        }

        func toBatchMajor() {
            if form == .timeMajor {
                current = builder.node("Transpose", [current], name: "to_batch_major_\(builder.counter)", attributes: [.ints("perm", [1, 0, 2])])
                form = .batchMajor
            }
        }

        for (index, layer) in model.layers.enumerated() {
            let prefix = "layer_\(index)"
            switch layer {
            case .embedding(let embedding):
                let table = try tensor(embedding.parameters, .W_e, layer: index).converted(to: graphType)
                let name = builder.initializer("\(prefix).W_e", table)
                current = builder.node("Gather", [name, current], name: "\(prefix)/Gather", attributes: [.int("axis", 0)])
                form = .batchMajor
            case .recurrent(let recurrent):
                try checkExpressible(recurrent, index: index)
                if form == .vectors {
                    throw ExportError(.notExpressible, "a recurrent layer after a layer that returns vectors", layer: index)
                }
                if form == .batchMajor {
                    current = builder.node("Transpose", [current], name: "\(prefix)/to_time_major", attributes: [.ints("perm", [1, 0, 2])])
                }
                let (Y, Y_h) = try recurrentNode(recurrent, index: index, input: current, graphType: graphType, builder: &builder)
                let D = recurrent.directions.count
                if recurrent.returnSequences {
                    // Y [T, D, B, H] → [T, B, D·H] (concat) or [T, B, H] (sum, mul, ave).
                    if D == 1 {
                        current = builder.node("Squeeze", [Y, builder.ints("\(prefix).axes_1", [1])], name: "\(prefix)/Squeeze")
                        if recurrent.goBackwards {
                            // go_backwards returns the outputs in reading order: the reverse direction's Y reversed in time.
                            current = builder.node(
                                "Slice",
                                [current, builder.ints("\(prefix).reverse_starts", [-1]), builder.ints("\(prefix).reverse_ends", [Int64.min]),
                                 builder.ints("\(prefix).reverse_axes", [0]), builder.ints("\(prefix).reverse_steps", [-1])],
                                name: "\(prefix)/reverse_time")
                        }
                    } else if let reduce = reduceNode(recurrent.mergeMode) {
                        current = try reduce(&builder, Y, 1, prefix)
                    } else {
                        let moved = builder.node("Transpose", [Y], name: "\(prefix)/Transpose", attributes: [.ints("perm", [0, 2, 1, 3])])
                        current = builder.node("Reshape", [moved, builder.ints("\(prefix).shape", [0, 0, -1])], name: "\(prefix)/Reshape")
                    }
                    form = .timeMajor
                } else if recurrent.finalOutput == .lastStep, !recurrent.goBackwards {
                    // Y [T, D, B, H] → merged [T, B, F] → its last time step [B, F].
                    var merged: String
                    if D == 1 {
                        merged = builder.node("Squeeze", [Y, builder.ints("\(prefix).axes_1", [1])], name: "\(prefix)/Squeeze")
                    } else if let reduce = reduceNode(recurrent.mergeMode) {
                        merged = try reduce(&builder, Y, 1, prefix)
                    } else {
                        let moved = builder.node("Transpose", [Y], name: "\(prefix)/Transpose", attributes: [.ints("perm", [0, 2, 1, 3])])
                        merged = builder.node("Reshape", [moved, builder.ints("\(prefix).shape", [0, 0, -1])], name: "\(prefix)/Reshape")
                    }
                    current = builder.node("Gather", [merged, builder.scalar("\(prefix).last", -1)], name: "\(prefix)/last_step", attributes: [.int("axis", 0)])
                    form = .vectors
                } else {
                    // Y_h [D, B, H] → [B, D·H] (concat, forward first) or [B, H].
                    // (go_backwards: its last step is the final state of the reversed read, which Y_h is.)
                    if D == 1 {
                        current = builder.node("Squeeze", [Y_h, builder.ints("\(prefix).axes_0", [0])], name: "\(prefix)/Squeeze")
                    } else if let reduce = reduceNode(recurrent.mergeMode) {
                        current = try reduce(&builder, Y_h, 0, prefix)
                    } else {
                        let moved = builder.node("Transpose", [Y_h], name: "\(prefix)/Transpose", attributes: [.ints("perm", [1, 0, 2])])
                        current = builder.node("Reshape", [moved, builder.ints("\(prefix).shape", [0, -1])], name: "\(prefix)/Reshape")
                    }
                    form = .vectors
                }
            case .dense(let dense):
                toBatchMajor()
                let weight = try tensor(dense.parameters, .W_d, layer: index).converted(to: graphType)
                let bias = dense.useBias ? try tensor(dense.parameters, .b_d, layer: index).converted(to: graphType) : nil
                if form == .vectors {
                    var inputs = [current, builder.initializer("\(prefix).W_d", weight)]
                    if let bias { inputs.append(builder.initializer("\(prefix).b_d", bias)) }
                    current = builder.node("Gemm", inputs, name: "\(prefix)/Gemm", attributes: [.int("transB", 1)])
                } else {
                    let transposed: Tensor
                    do {
                        transposed = try weight.transposed()
                    } catch {
                        throw ExportError(.invalidModel, error.message, layer: index, location: "W_d")
                    }
                    current = builder.node("MatMul", [current, builder.initializer("\(prefix).W_d_T", transposed)], name: "\(prefix)/MatMul")
                    if let bias { current = builder.node("Add", [current, builder.initializer("\(prefix).b_d", bias)], name: "\(prefix)/Add") }
                }
                switch dense.activation {
                case .linear: break
                case .softmax: current = builder.node("Softmax", [current], name: "\(prefix)/Softmax", attributes: [.int("axis", -1)])
                case .sigmoid: current = builder.node("Sigmoid", [current], name: "\(prefix)/Sigmoid")
                case .tanh: current = builder.node("Tanh", [current], name: "\(prefix)/Tanh")
                case .relu: current = builder.node("Relu", [current], name: "\(prefix)/Relu")
                case .hardSigmoid(let slope, let offset):
                    current = builder.node(
                        "HardSigmoid", [current], name: "\(prefix)/HardSigmoid", attributes: [.float("alpha", Float(slope)), .float("beta", Float(offset))])
                }
            }
        }
        toBatchMajor()
        // The last node's output becomes the graph output `output`.
        if let last = builder.graph.node.indices.last, builder.graph.node[last].output == [current] {
            builder.graph.node[last].output = ["output"]
        } else {
            builder.node("Identity", [current], name: "output", output: "output")
        }
        let outputFeatures = model.layers.last?.outputSize ?? 0
        let sequences = form != .vectors
        builder.graph.output.append(
            valueInfo("output", elementType, sequences ? ["batch", "time", "\(outputFeatures)"] : ["batch", "\(outputFeatures)"]))
        builder.graph.name = "lstmconv"
        builder.graph.docString = "Exported by \(FormatVersion.converter) from \(model.provenance.sourceFramework) (\(model.provenance.sourceLayout))."

        var proto = Onnx_ModelProto()
        proto.irVersion = irVersion
        proto.producerName = "lstmconv"
        proto.producerVersion = String(FormatVersion.converter.split(separator: " ").last ?? "")
        var set = Onnx_OperatorSetIdProto()
        set.domain = ""
        set.version = opset
        proto.opsetImport = [set]
        proto.graph = builder.graph
        let provenance = model.provenance
        for (key, value) in [
            ("lstmconv.converter", FormatVersion.converter), ("lstmconv.source_framework", provenance.sourceFramework),
            ("lstmconv.source_framework_version", provenance.sourceFrameworkVersion), ("lstmconv.source_layout", provenance.sourceLayout),
            ("lstmconv.source_sha256", provenance.sourceSHA256),
        ] {
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            proto.metadataProps.append(entry)
        }
        var export = ONNXExport(model: proto, notes: notes)
        export.deferred = builder.deferred
        return export
    }

    /// Writes an export as `.onnx` (atomically; an existing file only with `overwrite: true`).
    ///
    /// Streamed when initializers are deferred (a streaming export): the protobuf is serialized without their
    /// `raw_data`, re-framed with the lengths they will have, and each initializer's bytes are read and written in
    /// place — the same bytes as ``ONNXExport/serialized()``, with one tensor in memory at a time.
    public static func write(_ export: ONNXExport, to url: URL, overwrite: Bool = false) throws(ExportError) {
        let mapError = { (failure: AtomicFileError) in
            ExportError(failure.kind == .exists ? .outputExists : .cannotWrite, failure.message, file: failure.path)
        }
        guard !export.deferred.isEmpty else {
            try AtomicFile.write(try export.serialized(), to: url, overwrite: overwrite, mapError: mapError)
            return
        }
        let pieces = try ONNXStreaming.pieces(of: try ONNXExport.serialize(export.model), deferred: export.deferred)
        try AtomicFile.stream(to: url, overwrite: overwrite, mapError: mapError) { (sink: (Data) throws(ExportError) -> Void) throws(ExportError) in
            for piece in pieces {
                switch piece {
                case .bytes(let bytes): try sink(bytes)
                case .tensor(let tensor, let name): try sink(try tensor.loaded(name).bytes)
                }
            }
        }
    }

    // MARK: - Recurrent layers

    /// Refuses what the ONNX `LSTM` / `GRU` operators cannot compute.
    static func checkExpressible(_ layer: RecurrentLayer, index: Int) throws(ExportError) {
        func refuse(_ location: String, _ message: String) -> ExportError {
            ExportError(.notExpressible, message, layer: index, location: location)
        }
        let op = "the ONNX \(layer.cell.rawValue.uppercased()) operator"
        if layer.useGate == .document {
            throw refuse("use_gate", "the document use gate (U_t = tanh(W_u·LTM_{t-1}f_t + b_u)) has no ONNX form; \(op) computes h = o·h(c)")
        }
        if layer.peepholes == .full {
            throw refuse("peepholes", "full [H, H] peepholes: \(op) has diagonal peepholes P only")
        }
        if layer.projectionSize != nil {
            throw refuse("projection_size", "a projection W_p: \(op) has none")
        }
        for (name, value) in [("cell_clip", layer.cellClip), ("projection_clip", layer.projectionClip)] {
            if let value { throw refuse(name, "\(name) \(value): \(op) clips gate pre-activations only (clip)") }
        }
        if layer.forgetBias != 0 {
            throw refuse("forget_bias", "forget_bias \(layer.forgetBias) is added at run time; \(op) has no such constant (folding it into B would change the stored bias)")
        }
        let used = layer.cell == .rnn ? [("activation", layer.activation)] : [("activation", layer.activation), ("recurrent_activation", layer.recurrentActivation)]
        for (name, activation) in used where activation == .softmax {
            throw refuse(name, "softmax is not an element-wise activation of \(op)")
        }
        if layer.goBackwards {
            if layer.directions.count == 2 {
                throw refuse("go_backwards", "go_backwards on a bidirectional layer: \(op) has no such direction pair")
            }
        }
    }

    /// `Y`, `Y_h` of the layer's `LSTM` / `GRU` node.
    static func recurrentNode(
        _ layer: RecurrentLayer, index: Int, input: String, graphType: DType, builder: inout GraphBuilder
    ) throws(ExportError) -> (String, String) {
        let prefix = "layer_\(index)"
        var table = switch layer.cell {
        case .lstm: ONNXLayouts.lstm
        case .gru: ONNXLayouts.gru
        case .rnn: ONNXLayouts.rnn
        }
        if layer.peepholes == .none { table.tensors.removeAll { $0.part == .peepholes } }
        let h = layer.hiddenSize
        var fused: [String: [Tensor]] = [:]
        for original in layer.directions {
            var set = ParameterSet(tensors: original.tensors.mapValues { $0.converted(to: graphType) })
            if layer.bias == .single {
                for entry in table.gates {
                    do {
                        set.tensors[entry.gate.secondBias] = try Tensor(dtype: graphType, shape: [h], bytes: Data(count: h * graphType.byteWidth))
                    } catch {
                        throw ExportError(.invalidModel, error.description, layer: index)
                    }
                }
            }
            let parts: [String: Tensor]
            do {
                parts = try table.disassemble(set, hiddenSize: h, inputSize: layer.inputSize, recurrentSize: layer.recurrentSize)
            } catch {
                throw ExportError(error.code == .unsupportedLayer ? .notExpressible : .invalidModel, error.message, layer: index, location: error.location)
            }
            for (name, tensor) in parts { fused[name, default: []].append(tensor) }
        }
        func stacked(_ name: String) throws(ExportError) -> Tensor {
            guard let parts = fused[name], let first = parts.first else {
                throw ExportError(.invalidModel, "no \(name)", layer: index)
            }
            do {
                if parts.contains(where: \.isDeferred) {
                    return try Tensor(deferring: first.dtype, shape: [parts.count] + first.shape) {
                        var bytes = Data()
                        for part in parts { bytes.append(try part.materialized().bytes) }
                        return bytes
                    }
                }
                var bytes = Data()
                for part in parts { bytes.append(part.bytes) }
                return try Tensor(dtype: first.dtype, shape: [parts.count] + first.shape, bytes: bytes)
            } catch {
                throw ExportError(.invalidModel, error.description, layer: index)
            }
        }
        var inputs = [
            input, builder.initializer("\(prefix).W", try stacked("W[d]")), builder.initializer("\(prefix).R", try stacked("R[d]")),
            builder.initializer("\(prefix).B", try stacked("B[d]")),
        ]
        if layer.peepholes == .diagonal {
            inputs += ["", "", "", builder.initializer("\(prefix).P", try stacked("P[d]"))]
        }
        let direction = layer.directions.count == 2 ? "bidirectional" : layer.goBackwards ? "reverse" : "forward"
        var attributes: [Attribute] = [.int("hidden_size", Int64(h)), .string("direction", direction)]
        let (perDirection, defaults): ([Activation], [Activation]) = switch layer.cell {
        case .lstm: ([layer.recurrentActivation, layer.activation, layer.activation], [.sigmoid, .tanh, .tanh])
        case .gru: ([layer.recurrentActivation, layer.activation], [.sigmoid, .tanh])
        case .rnn: ([layer.activation], [.tanh])
        }
        if perDirection != defaults {
            var names: [String] = [], alphas: [Float] = [], betas: [Float] = []
            for _ in layer.directions {
                for activation in perDirection {
                    switch activation {
                    case .sigmoid: names.append("Sigmoid")
                    case .tanh: names.append("Tanh")
                    case .relu: names.append("Relu")
                    case .linear:
                        names.append("Affine")
                        alphas.append(1)
                        betas.append(0)
                    case .hardSigmoid(let slope, let offset):
                        names.append("HardSigmoid")
                        alphas.append(Float(slope))
                        betas.append(Float(offset))
                    case .softmax: break
                    }
                }
            }
            attributes.append(.strings("activations", names))
            if !alphas.isEmpty { attributes += [.floats("activation_alpha", alphas), .floats("activation_beta", betas)] }
        }
        if let clip = layer.gateClip { attributes.append(.float("clip", Float(clip))) }
        if layer.cell == .gru { attributes.append(.int("linear_before_reset", (layer.resetMode ?? .after) == .after ? 1 : 0)) }
        let op = switch layer.cell {
        case .lstm: "LSTM"
        case .gru: "GRU"
        case .rnn: "RNN"
        }
        let Y = "\(prefix)/Y", Y_h = "\(prefix)/Y_h"
        builder.graph.node.append(makeNode(op, inputs, [Y, Y_h], name: "\(prefix)/\(op)", attributes: attributes))
        return (Y, Y_h)
    }

    /// sum / mul / ave of the directions axis; `nil` for concat.
    static func reduceNode(_ mode: MergeMode?) -> ((inout GraphBuilder, String, Int, String) throws(ExportError) -> String)? {
        switch mode ?? .concat {
        case .concat: return nil
        case .sum:
            return { (builder: inout GraphBuilder, value: String, axis: Int, prefix: String) throws(ExportError) -> String in
                builder.node("ReduceSum", [value, builder.ints("\(prefix).merge_axes", [Int64(axis)])], name: "\(prefix)/ReduceSum", attributes: [.int("keepdims", 0)])
            }
        case .mul, .ave:
            let op = mode == .mul ? "ReduceProd" : "ReduceMean"
            return { (builder: inout GraphBuilder, value: String, axis: Int, prefix: String) throws(ExportError) -> String in
                builder.node(op, [value], name: "\(prefix)/\(op)", attributes: [.ints("axes", [Int64(axis)]), .int("keepdims", 0)])
            }
        }
    }

    static func tensor(_ set: ParameterSet, _ role: TensorRole, layer: Int) throws(ExportError) -> Tensor {
        guard let tensor = set.tensors[role] else {
            throw ExportError(.invalidModel, "no \(role.rawValue) tensor", layer: layer, location: role.rawValue)
        }
        return tensor
    }

    // MARK: - Protobuf helpers

    static func valueInfo(_ name: String, _ elementType: Int32, _ dims: [String]) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        for dim in dims {
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let value = Int64(dim) { dimension.dimValue = value } else { dimension.dimParam = dim }
            shape.dim.append(dimension)
        }
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elementType
        tensorType.shape = shape
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }

    static func makeNode(_ op: String, _ inputs: [String], _ outputs: [String], name: String, attributes: [Attribute]) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name
        node.input = inputs
        node.output = outputs
        node.attribute = attributes.map(\.proto)
        return node
    }
}

/// A node attribute.
enum Attribute {
    case int(String, Int64)
    case ints(String, [Int64])
    case float(String, Float)
    case floats(String, [Float])
    case string(String, String)
    case strings(String, [String])

    var proto: Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        switch self {
        case .int(let name, let value):
            attribute.name = name
            attribute.type = .int
            attribute.i = value
        case .ints(let name, let values):
            attribute.name = name
            attribute.type = .ints
            attribute.ints = values
        case .float(let name, let value):
            attribute.name = name
            attribute.type = .float
            attribute.f = value
        case .floats(let name, let values):
            attribute.name = name
            attribute.type = .floats
            attribute.floats = values
        case .string(let name, let value):
            attribute.name = name
            attribute.type = .string
            attribute.s = Data(value.utf8)
        case .strings(let name, let values):
            attribute.name = name
            attribute.type = .strings
            attribute.strings = values.map { Data($0.utf8) }
        }
        return attribute
    }
}

/// Accumulates nodes and initializers of one graph.
struct GraphBuilder {
    var graph = Onnx_GraphProto()
    var counter = 0
    /// Initializers whose tensor is deferred (their `raw_data` written when the file is streamed), by index.
    var deferred: [Int: Tensor] = [:]

    /// Adds an initializer holding `tensor`'s bytes unchanged; returns its name.
    mutating func initializer(_ name: String, _ tensor: Tensor) -> String {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        let type: Onnx_TensorProto.DataType = switch tensor.dtype {
        case .f32: .float
        case .f64: .double
        case .f16: .float16
        case .bf16: .bfloat16
        }
        proto.dataType = Int32(type.rawValue)
        if tensor.isDeferred {
            deferred[graph.initializer.count] = tensor
        } else {
            proto.rawData = tensor.bytes
        }
        graph.initializer.append(proto)
        return name
    }

    /// Adds an int64 initializer (shapes, axes).
    mutating func ints(_ name: String, _ values: [Int64]) -> String {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = [Int64(values.count)]
        proto.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        proto.rawData = values.map { $0.littleEndian }.withUnsafeBytes { Data($0) }
        graph.initializer.append(proto)
        return name
    }

    /// Adds an int64 scalar initializer (a `Gather` index).
    mutating func scalar(_ name: String, _ value: Int64) -> String {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        proto.rawData = withUnsafeBytes(of: value.littleEndian) { Data($0) }
        graph.initializer.append(proto)
        return name
    }

    /// Adds a one-output node; returns its output name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], name: String, output: String? = nil, attributes: [Attribute] = []) -> String {
        counter += 1
        let out = output ?? "\(name):0"
        graph.node.append(ONNXExporter.makeNode(op, inputs, [out], name: name, attributes: attributes))
        return out
    }
}
