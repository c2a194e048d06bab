import Foundation
import LSTMLayouts
import LSTMModel
import ONNXProto

extension ONNXGraphReader {
    // MARK: - LSTM / GRU

    /// An `LSTM` or `GRU` operator: one recurrent layer, cut by `ONNXLayouts`.
    mutating func recurrent(_ node: Onnx_NodeProto, _ data: Flow) throws(ImportError) -> [Value] {
        let isLSTM = node.opType == "LSTM"
        let cell: CellKind = isLSTM ? .lstm : node.opType == "GRU" ? .gru : .rnn
        guard !data.tokens else { throw fail(.unsupportedTopology, node, "reads token ids; an embedding must come first") }
        if let producer = data.producer { try settle(producer, data) }
        let layout = Int(clamping: node.int("layout") ?? 0)
        guard layout == 0 || layout == 1 else { throw fail(.malformedSource, node, "layout \(layout)") }
        let expected: (Axis, Axis) = layout == 0 ? (.time, .batch) : (.batch, .time)
        guard data.axes.count == 3, data.axes[0] == expected.0, data.axes[1] == expected.1, case .feature(let inputSize) = data.axes[2] else {
            throw fail(
                .unsupportedTopology, node,
                "X has axes [\(data.axes.map(\.description).joined(separator: ", "))]; layout \(layout) needs [\(expected.0), \(expected.1), features]")
        }
        let directionName = node.string("direction") ?? "forward"
        let directionCount: Int
        switch directionName {
        case "forward", "reverse": directionCount = 1
        case "bidirectional": directionCount = 2
        default: throw fail(.malformedSource, node, "direction `\(directionName)`")
        }
        let gateCount = isLSTM ? 4 : cell == .gru ? 3 : 1
        let W = try constant(node, 1, "W")
        let R = try constant(node, 2, "R")
        guard W.dims.count == 3, W.dims[0] == directionCount, W.dims[1] % gateCount == 0 else {
            throw fail(.shapeMismatch, node, "W has dims \(W.dims); expected [\(directionCount), \(gateCount)·hidden_size, \(inputSize)]")
        }
        let h = node.int("hidden_size").map { Int(clamping: $0) } ?? W.dims[1] / gateCount
        guard h > 0, W.dims == [directionCount, gateCount * h, inputSize] else {
            throw fail(.shapeMismatch, node, "W has dims \(W.dims); hidden_size \(h) and \(inputSize) input features need [\(directionCount), \(gateCount * h), \(inputSize)]")
        }
        guard R.dims == [directionCount, gateCount * h, h] else {
            throw fail(.shapeMismatch, node, "R has dims \(R.dims); expected [\(directionCount), \(gateCount * h), \(h)]")
        }
        let B = try value(node, 3) == nil ? nil : try constant(node, 3, "B")
        if let B, B.dims != [directionCount, 2 * gateCount * h] {
            throw fail(.shapeMismatch, node, "B has dims \(B.dims); expected [\(directionCount), \(2 * gateCount * h)]")
        }
        var variableLengths = false
        switch try value(node, 4) {
        case nil: break
        case .lengths(let name)?:
            // Per-sequence lengths given at run time (`lstmconv run --lengths`): steps past a sequence's length are
            // skipped and their outputs are zero, as onnxruntime does.
            usedLengths.insert(name)
            variableLengths = true
        default:
            throw fail(
                .unsupportedTopology, node,
                "sequence_lens is not a graph input of per-sequence lengths: lengths fixed in the graph are not part of the lstmconv format (pass them to `run --lengths`)")
        }
        for (index, name) in (isLSTM ? [(5, "initial_h"), (6, "initial_c")] : [(5, "initial_h")]) {
            switch try value(node, index) {
            case nil, .zeros?: break
            case .constant(let value)? where value.isAllZero: break
            default:
                throw fail(.unsupportedLayer, node, "\(name) is not all zeros: a model file holds weights, not a fixed initial state (pass it with `run --initial-states`)")
            }
        }
        let hasPeepholes = isLSTM ? try value(node, 7) != nil : false
        let P = hasPeepholes ? try constant(node, 7, "P") : nil
        if let P, P.dims != [directionCount, 3 * h] {
            throw fail(.shapeMismatch, node, "P has dims \(P.dims); expected [\(directionCount), \(3 * h)]")
        }
        guard let wTensor = W.tensor, let rTensor = R.tensor else {
            throw fail(.unsupportedDType, node, "W and R must be floating-point")
        }
        let dtype = wTensor.dtype
        for other in [R, B, P].compactMap({ $0 }) where other.tensor?.dtype != dtype {
            throw fail(.unsupportedDType, node, "`\(other.name)` is not \(dtype.rawValue) like W")
        }

        // Activations: f (gates), g (candidate), h (LSTM output), per direction.
        let perDirection = isLSTM ? 3 : cell == .gru ? 2 : 1
        let activations = try parseActivations(node, count: perDirection * directionCount)
        for d in 1..<directionCount where Array(activations[d * perDirection ..< (d + 1) * perDirection]) != Array(activations[0..<perDirection]) {
            throw fail(.unsupportedLayer, node, "the directions use different activations; the format has one set per layer")
        }
        let f = activations[0], g = cell == .rnn ? activations[0] : activations[1]
        if isLSTM, activations[2] != g {
            throw fail(.unsupportedLayer, node, "activations g (\(g)) and h (\(activations[2])) differ; the format has one `activation` for the candidate and the output")
        }
        let inputForget = isLSTM && (node.int("input_forget") ?? 0) != 0
        if inputForget {
            switch f {
            case .sigmoid, .hardSigmoid(_, 0.5): break
            default:
                throw fail(.unsupportedLayer, node, "input_forget=1 with gate activation \(f): only sigmoid (and HardSigmoid with beta 0.5) satisfy 1 − f(z) = f(−z)")
            }
        }
        let linearBeforeReset = cell == .gru && (node.int("linear_before_reset") ?? 0) != 0
        let clip = node.float("clip").map(Double.init)
        if let clip, !(clip > 0) { throw fail(.malformedSource, node, "clip \(clip) is not positive") }

        var layout_ = isLSTM ? ONNXLayouts.lstm : cell == .gru ? ONNXLayouts.gru : ONNXLayouts.rnn
        if P == nil { layout_.tensors.removeAll { $0.part == .peepholes } }
        let layerIndex = layers.count
        var sets: [ParameterSet] = []
        for d in 0..<directionCount {
            var found: [String: FoundTensor] = [:]
            let suffix = directionCount == 2 || directionName != "forward" ? "[\(d)]" : "[0]"
            found["W[d]"] = FoundTensor(try direction(wTensor, d, node), sourceName: W.name + suffix)
            found["R[d]"] = FoundTensor(try direction(rTensor, d, node), sourceName: R.name + suffix)
            if let bTensor = B?.tensor, let B {
                found["B[d]"] = FoundTensor(try direction(bTensor, d, node), sourceName: B.name + suffix)
            } else {
                let zero = Data(count: 2 * gateCount * h * dtype.byteWidth)
                guard let zeros = try? Tensor(dtype: dtype, shape: [2 * gateCount * h], bytes: zero) else {
                    throw fail(.shapeMismatch, node, "cannot make zero biases")
                }
                found["B[d]"] = FoundTensor(zeros, sourceName: "(no B: zeros)")
            }
            if let pTensor = P?.tensor, let P {
                found["P[d]"] = FoundTensor(try direction(pTensor, d, node), sourceName: P.name + suffix)
            }
            var set: ParameterSet
            do {
                set = try layout_.assemble(found, hiddenSize: h, inputSize: inputSize, recurrentSize: h)
            } catch {
                throw fail(error.code, node, error.message)
            }
            if inputForget {
                // ORT: f = 1 − i. With σ(−z) = 1 − σ(z), the forget gate is the input gate negated.
                var replaced: [TensorRole] = [.W_f, .b_f, .bh_f]
                if P != nil { replaced.append(.P_f) }
                for role in replaced {
                    let source: TensorRole = [.W_f: .W_i, .b_f: .b_i, .bh_f: .bh_i, .P_f: .P_i][role] ?? role
                    guard let tensor = set.tensors[source] else { continue }
                    ignored.append("\(set.sources[role] ?? role.rawValue) (input_forget=1: unused)")
                    set.tensors[role] = tensor.negated()
                    set.sources[role] = "-(\(set.sources[source] ?? source.rawValue))"
                }
            }
            sets.append(set)
        }
        if inputForget {
            notes.append("layer \(layerIndex): input_forget=1 is stored as W_f = −W_i, b_f = −b_i, bh_f = −bh_i\(P != nil ? ", P_f = −P_i" : "") (σ(−z) = 1 − σ(z))")
        }
        var layer = RecurrentLayer(
            cell: cell, inputSize: inputSize, hiddenSize: h, directions: sets,
            mergeMode: directionCount == 2 ? .concat : nil, returnSequences: true, goBackwards: directionName == "reverse",
            activation: g, recurrentActivation: cell == .rnn ? .sigmoid : f, peepholes: P == nil ? .none : .diagonal, bias: .double,
            resetMode: cell == .gru ? (linearBeforeReset ? .after : .before) : nil, gateClip: clip)
        if variableLengths {
            layer.maskedOutput = .zero
            notes.append("layer \(layerIndex): sequence_lens `\(node.input[4])` is a run-time input: pass the lengths to `lstmconv run --lengths` (outputs past a sequence's length are zero)")
        }
        layers.append(.recurrent(layer))
        let letters = isLSTM ? "i,o,f,c → W_i,W_v,W_f,W_n" : cell == .gru ? "z,r,h → W_z,W_r,W_c" : "i → W_s"
        summaries.append(
            "\(cell.rawValue) (onnx \(node.label)): I=\(inputSize) H=\(h), \(directionName), gates \(letters)"
                + (P == nil ? "" : ", peepholes P (i,o,f)") + (clip.map { ", clip \($0)" } ?? "")
                + (cell == .gru ? ", linear_before_reset=\(linearBeforeReset ? 1 : 0)" : "") + (cell == .rnn ? ", activation \(g)" : ""))

        let group = newGroup()
        let D = Axis.directions(directionCount)
        let sequenceAxes: [Axis] = layout == 0 ? [.time, D, .batch, .feature(h)] : [.batch, .time, D, .feature(h)]
        let stateAxes: [Axis] = layout == 0 ? [D, .batch, .feature(h)] : [.batch, D, .feature(h)]
        return [
            .flow(Flow(axes: sequenceAxes, producer: layerIndex, part: .sequence, group: group)),
            .flow(Flow(axes: stateAxes, producer: layerIndex, part: .finalState, group: group)),
            .flow(Flow(axes: stateAxes, producer: layerIndex, part: .cellState, group: group)),
        ]
    }

    /// Direction `d` of a `[D, …]` tensor, as a tensor of rank one less.
    func direction(_ tensor: Tensor, _ d: Int, _ node: Onnx_NodeProto) throws(ImportError) -> Tensor {
        let inner = Array(tensor.shape.dropFirst())
        let size = (Tensor.elementCount(of: inner) ?? 0) * tensor.dtype.byteWidth
        let start = tensor.bytes.startIndex + d * size
        do {
            return try Tensor(dtype: tensor.dtype, shape: inner, bytes: tensor.bytes.subdata(in: start ..< start + size))
        } catch {
            throw fail(.shapeMismatch, node, error.description)
        }
    }

    /// `activations` with `activation_alpha` / `activation_beta` consumed in order by the functions that take
    /// them (as onnxruntime does). Defaults: LSTM Sigmoid, Tanh, Tanh; GRU Sigmoid, Tanh.
    func parseActivations(_ node: Onnx_NodeProto, count: Int) throws(ImportError) -> [Activation] {
        let names = node.strings("activations") ?? []
        let defaults = node.opType == "LSTM" ? ["Sigmoid", "Tanh", "Tanh"] : node.opType == "GRU" ? ["Sigmoid", "Tanh"] : ["Tanh"]
        let list = names.isEmpty ? (0..<count).map { defaults[$0 % defaults.count] } : names
        guard list.count == count else {
            throw fail(.malformedSource, node, "\(list.count) activations; \(count) expected")
        }
        var alphas = (node.floats("activation_alpha") ?? []).makeIterator()
        var betas = (node.floats("activation_beta") ?? []).makeIterator()
        var result: [Activation] = []
        for name in list {
            switch name.lowercased() {
            case "sigmoid": result.append(.sigmoid)
            case "tanh": result.append(.tanh)
            case "relu": result.append(.relu)
            case "hardsigmoid":
                let alpha = alphas.next().map(Double.init) ?? 0.2
                let beta = betas.next().map(Double.init) ?? 0.5
                result.append(.hardSigmoid(slope: alpha, offset: beta))
            default:
                throw fail(.unsupportedLayer, node, "activation \(name) is not in the format (Sigmoid, Tanh, Relu, HardSigmoid are)")
            }
        }
        return result
    }

    // MARK: - Embedding, dense head

    /// `Gather(W_e, token_ids)`: an embedding, which must be the first layer.
    mutating func embedding(_ node: Onnx_NodeProto, _ data: Flow) throws(ImportError) -> Flow {
        guard data.tokens, layers.isEmpty, (node.int("axis") ?? 0) == 0 else {
            throw fail(.unsupportedTopology, node, "gathers with the data path as indices; only an embedding lookup of the token ids at the start is recognised")
        }
        let table = try constant(node, 0, "the embedding table")
        guard let tensor = table.tensor, table.dims.count == 2 else {
            throw fail(.unsupportedTopology, node, "the embedding table `\(table.name)` must be a float [vocabulary, features] tensor")
        }
        var parameters = ParameterSet()
        parameters.tensors[.W_e] = tensor
        parameters.sources[.W_e] = table.name
        layers.append(.embedding(EmbeddingLayer(vocabularySize: table.dims[0], embeddingSize: table.dims[1], parameters: parameters)))
        summaries.append("embedding (onnx \(node.label)): vocabulary \(table.dims[0]), \(table.dims[1]) features ← \(table.name)")
        var out = data
        out.tokens = false
        out.axes = data.axes + [.feature(table.dims[1])]
        return out
    }

    /// `Gemm(x, W, b)` or `MatMul(x, W)`: a dense layer on the last axis.
    mutating func dense(_ node: Onnx_NodeProto, _ data: Flow) throws(ImportError) -> Flow {
        if let producer = data.producer { try settle(producer, data) }
        guard !data.tokens, case .feature(let inputSize)? = data.axes.last, data.axes.first == .batch || data.axes.first == .batchTime else {
            throw fail(.unsupportedTopology, node, "multiplies [\(data.axes.map(\.description).joined(separator: ", "))]; a dense head needs [batch, (time,) features]")
        }
        let weight = try constant(node, 1, "the weight")
        guard let raw = weight.tensor, weight.dims.count == 2 else {
            throw fail(.unsupportedTopology, node, "the weight `\(weight.name)` must be a float matrix")
        }
        var transposed = true
        var bias: ONNXConstant?
        if node.opType == "Gemm" {
            guard data.axes.count == 2 else { throw fail(.unsupportedTopology, node, "Gemm needs [batch, features]") }
            guard (node.int("transA") ?? 0) == 0, (node.float("alpha") ?? 1) == 1, (node.float("beta") ?? 1) == 1 else {
                throw fail(.unsupportedLayer, node, "transA, alpha or beta other than 0, 1, 1 would change the stored weights")
            }
            transposed = (node.int("transB") ?? 0) == 0
            if try value(node, 2) != nil { bias = try constant(node, 2, "the bias C") }
        }
        let W_d: Tensor
        do {
            W_d = transposed ? try raw.transposed() : raw
        } catch {
            throw fail(.shapeMismatch, node, error.message)
        }
        guard W_d.shape[1] == inputSize else {
            throw fail(.shapeMismatch, node, "the weight `\(weight.name)` has dims \(weight.dims); the data path has \(inputSize) features")
        }
        let units = W_d.shape[0]
        var parameters = ParameterSet()
        parameters.tensors[.W_d] = W_d
        parameters.sources[.W_d] = weight.name + (transposed ? ".T" : "")
        if let bias {
            guard let tensor = bias.tensor, bias.elementCount == units, let flat = bias.reshaped([units])?.tensor, tensor.dtype == W_d.dtype else {
                throw fail(.shapeMismatch, node, "the bias `\(bias.name)` has dims \(bias.dims); expected [\(units)] of \(W_d.dtype.rawValue)")
            }
            parameters.tensors[.b_d] = flat
            parameters.sources[.b_d] = bias.name
        }
        layers.append(.dense(DenseLayer(inputSize: inputSize, units: units, activation: .linear, useBias: bias != nil, parameters: parameters)))
        summaries.append("dense (onnx \(node.label)): \(inputSize) → \(units) ← \(weight.name)\(bias.map { ", \($0.name)" } ?? "")")
        openDense = node.opType == "MatMul" ? layers.count - 1 : nil
        var out = data
        out.producer = nil
        out.part = .other
        out.axes[out.axes.count - 1] = .feature(units)
        return out
    }

    /// `Add(MatMul(x, W), b)`: the bias of the dense layer just made.
    mutating func addBias(_ node: Onnx_NodeProto, _ data: Flow, constantIndex: Int) throws(ImportError) -> Flow {
        guard let index = openDense, index == layers.count - 1, case .dense(var layer) = layers[index], !layer.useBias else {
            throw fail(.unsupportedTopology, node, "adds to the data path where no MatMul bias is expected")
        }
        let bias = try constant(node, constantIndex, "the bias")
        guard bias.elementCount == layer.units, bias.dims.last == layer.units, let flat = bias.reshaped([layer.units])?.tensor,
              flat.dtype == layer.parameters.tensors[.W_d]?.dtype else {
            throw fail(.shapeMismatch, node, "the bias `\(bias.name)` has dims \(bias.dims); expected [\(layer.units)]")
        }
        layer.useBias = true
        layer.parameters.tensors[.b_d] = flat
        layer.parameters.sources[.b_d] = bias.name
        layers[index] = .dense(layer)
        summaries[summaries.count - 1] += ", \(bias.name)"
        openDense = nil
        return data
    }

    /// `Softmax` (over the last axis), `Sigmoid`, `Tanh`, `Relu` right after a dense layer: its activation.
    mutating func activation(_ node: Onnx_NodeProto, _ data: Flow) throws(ImportError) -> Flow {
        openDense = nil
        guard case .dense(var layer)? = layers.last, layer.activation == .linear, data.producer == nil else {
            throw fail(.unsupportedTopology, node, "an activation that does not follow a dense layer has no place in the format")
        }
        switch node.opType {
        case "Softmax":
            let defaultAxis = (file.opset ?? 13) >= 13 ? -1 : 1
            let axis = Int(clamping: node.int("axis") ?? Int64(defaultAxis))
            guard axis == -1 || axis == data.axes.count - 1 else {
                throw fail(.unsupportedLayer, node, "softmax over axis \(axis) of [\(data.axes.map(\.description).joined(separator: ", "))]; only the feature axis is recognised")
            }
            layer.activation = .softmax
        case "Sigmoid": layer.activation = .sigmoid
        case "Tanh": layer.activation = .tanh
        default: layer.activation = .relu
        }
        layers[layers.count - 1] = .dense(layer)
        summaries[summaries.count - 1] += ", activation \(layer.activation)"
        return data
    }
}

extension Tensor {
    /// Every element with its sign flipped (the sign bit of each little-endian element): exact for every dtype.
    func negated() -> Tensor {
        var bytes = Data(self.bytes)
        let width = dtype.byteWidth
        var index = width - 1
        while index < bytes.count {
            bytes[index] ^= 0x80
            index += width
        }
        return (try? Tensor(dtype: dtype, shape: shape, bytes: bytes)) ?? self
    }
}
