import LSTMModel

extension FusedLayout {
    /// Fuses the document tensors of one direction back into this table's source tensors: the exact inverse of
    /// ``assemble(_:hiddenSize:inputSize:recurrentSize:)``, driven by the same table.
    ///
    /// For every source tensor of the table, each gate's document block is turned back into the source
    /// orientation (the inverse of the table's per-block transform) and the blocks are joined along the fused
    /// axis in the table's gate order. Element bytes are copied unchanged, so the dtype is preserved and
    /// `assemble(disassemble(x)) == x`, `disassemble(assemble(y)) == y` bit for bit.
    ///
    /// Every tensor the table consumes must be present; a tensor the table has no place for (a peephole in a
    /// layout without peepholes, `W_u`, …) is refused with `unsupportedLayer` rather than dropped.
    ///
    /// - Parameters:
    ///   - set: one direction's document tensors.
    ///   - h: H, the hidden size (argument label `hiddenSize`).
    ///   - inputSize: I, the features per step of the layer's input.
    ///   - recurrentSize: R, the size of the fed-back STM (P with projection, else H).
    /// - Returns: source tensors keyed by ``SourceTensor/name`` (the pattern in this table).
    package func disassemble(
        _ set: ParameterSet, hiddenSize h: Int, inputSize: Int, recurrentSize: Int
    ) throws(ImportError) -> [String: Tensor] {
        var consumed = Set<TensorRole>()

        func take(_ role: TensorRole, _ shape: [Int]) throws(ImportError) -> Tensor {
            guard let tensor = set.tensors[role] else {
                throw ImportError(.missingTensor, "the \(title) layout needs `\(role.rawValue)` \(shape)", location: role.rawValue)
            }
            guard tensor.shape == shape else {
                throw ImportError(.shapeMismatch, "expected shape \(shape), found \(tensor.shape)", location: role.rawValue)
            }
            consumed.insert(role)
            return tensor
        }
        /// `W_g` split into its `[H, R]` recurrent block and `[H, I]` input block.
        func weightBlock(_ gate: DocumentGate, input: Bool) throws(ImportError) -> Tensor {
            let weight = try take(gate.weight, [h, recurrentSize + inputSize])
            return try weight.slice(axis: 1, range: input ? recurrentSize ..< recurrentSize + inputSize : 0 ..< recurrentSize)
        }
        /// The inverse of the table's per-block transform: a document `[H, columns]` block in source orientation.
        func sourceBlock(_ source: SourceTensor, _ block: Tensor, columns: Int) throws(ImportError) -> Tensor {
            switch source.transform {
            case .copy: return block
            case .transpose: return try block.transposed()
            case .reshape: return try block.reshaped(source.fusedAxis == 0 ? [h, columns] : [columns, h])
            }
        }
        func biases(second: Bool) throws(ImportError) -> Tensor {
            var blocks: [Tensor] = []
            for entry in gates { blocks.append(try take(second ? entry.gate.secondBias : entry.gate.bias, [h])) }
            return try Tensor.concatenated(blocks, axis: 0)
        }

        var out: [String: Tensor] = [:]
        for source in tensors {
            switch source.part {
            case .inputColumns, .recurrentColumns:
                let isInput = source.part == .inputColumns
                let columns = isInput ? inputSize : recurrentSize
                var blocks: [Tensor] = []
                for entry in gates {
                    blocks.append(try sourceBlock(source, try weightBlock(entry.gate, input: isInput), columns: columns))
                }
                out[source.name] = try Tensor.concatenated(blocks, axis: source.fusedAxis)
            case .inputThenRecurrentRows:
                var blocks: [Tensor] = []
                for entry in gates {
                    let input = try weightBlock(entry.gate, input: true).transposed()
                    let recurrent = try weightBlock(entry.gate, input: false).transposed()
                    blocks.append(try Tensor.concatenated([input, recurrent], axis: 0))
                }
                out[source.name] = try Tensor.concatenated(blocks, axis: 1)
            case .bias, .secondBias:
                out[source.name] = try biases(second: source.part == .secondBias)
            case .biasThenSecondBias:
                out[source.name] = try Tensor.concatenated([try biases(second: false), try biases(second: true)], axis: 0)
            case .biasRows:
                let width = gates.count * h
                let rows = [try biases(second: false).reshaped([1, width]), try biases(second: true).reshaped([1, width])]
                out[source.name] = try Tensor.concatenated(rows, axis: 0)
            case .peepholes:
                var blocks: [Tensor] = []
                for gate in source.peepholeOrder {
                    guard let role = gate.peephole else {
                        throw ImportError(.unsupportedLayer, "the \(title) layout lists a peephole for the \(gate.title) gate, which has none")
                    }
                    blocks.append(try take(role, [h]))
                }
                out[source.name] = try Tensor.concatenated(blocks, axis: 0)
            case .projection:
                let projection = try take(.W_p, [recurrentSize, h])
                out[source.name] = source.transform == .transpose ? try projection.transposed() : projection
            }
        }
        if let extra = set.tensors.keys.sorted().first(where: { !consumed.contains($0) }) {
            throw ImportError(.unsupportedLayer, "the \(title) layout has no place for `\(extra.rawValue)`", location: extra.rawValue)
        }
        return out
    }
}
