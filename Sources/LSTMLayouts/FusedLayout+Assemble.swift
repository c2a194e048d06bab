import LSTMModel

/// A source tensor found in a file, with the name it had there.
package struct FoundTensor: Sendable {
    package var tensor: Tensor
    /// The name (or dataset path) in the source file.
    package var sourceName: String

    package init(_ tensor: Tensor, sourceName: String) {
        self.tensor = tensor
        self.sourceName = sourceName
    }
}

extension FusedLayout {
    /// Cuts the document tensors of one direction out of fused source tensors, by this table.
    ///
    /// - Parameters:
    ///   - found: source tensors keyed by ``SourceTensor/name`` (the pattern in this table).
    ///   - h: H, the hidden size (argument label `hiddenSize`).
    ///   - inputSize: I, the features per step of the layer's input.
    ///   - recurrentSize: R, the size of the fed-back STM (P with projection, else H).
    /// - Returns: the direction's tensors with the source slice each came from.
    package func assemble(
        _ found: [String: FoundTensor], hiddenSize h: Int, inputSize: Int, recurrentSize: Int
    ) throws(ImportError) -> ParameterSet {
        var set = ParameterSet()
        var inputBlocks: [DocumentGate: (GateBlock, String)] = [:]
        var recurrentBlocks: [DocumentGate: (GateBlock, String)] = [:]

        func expect(_ tensor: Tensor, _ shape: [Int], _ name: String) throws(ImportError) {
            guard tensor.shape == shape else {
                throw ImportError(.shapeMismatch, "expected shape \(shape), found \(tensor.shape)", location: name)
            }
        }
        func block(_ source: SourceTensor, _ value: FoundTensor, _ index: Int, columns: Int) throws(ImportError) -> (Tensor, String) {
            let range = index * h ..< (index + 1) * h
            let cut = try value.tensor.slice(axis: source.fusedAxis, range: range)
            let span = "\(range.lowerBound):\(range.upperBound)"
            let label = value.tensor.shape.count == 1 ? "\(value.sourceName)[\(span)]"
                : source.fusedAxis == 0 ? "\(value.sourceName)[\(span), :]" : "\(value.sourceName)[:, \(span)]"
            switch source.transform {
            case .copy: return (cut, label)
            case .transpose: return (try cut.transposed(), label + ".T")
            case .reshape: return (try cut.reshaped([h, columns]), label + ".reshape(\(h), \(columns))")
            }
        }

        /// A weight block left in the source (copied once, into the document tensor) where the transform allows.
        func weightBlock(_ source: SourceTensor, _ value: FoundTensor, _ index: Int, columns: Int) throws(ImportError) -> (GateBlock, String) {
            let tensor = value.tensor
            guard tensor.shape.count == 2, source.transform != .reshape else {
                let (cut, label) = try block(source, value, index, columns: columns)
                return (GateBlock(whole: cut), label)
            }
            let range = index * h ..< (index + 1) * h
            let span = "\(range.lowerBound):\(range.upperBound)"
            let label = source.fusedAxis == 0 ? "\(value.sourceName)[\(span), :]" : "\(value.sourceName)[:, \(span)]"
            let transposed = source.transform == .transpose
            return (GateBlock(tensor: tensor, axis: source.fusedAxis, range: range, transposed: transposed), label + (transposed ? ".T" : ""))
        }

        let gateCount = gates.count
        for source in tensors {
            guard let value = found[source.name] else {
                throw ImportError(.missingTensor, "the \(title) layout needs `\(source.name)` \(source.shape)", location: source.name)
            }
            let tensor = value.tensor
            switch source.part {
            case .inputColumns, .recurrentColumns:
                let columns = source.part == .inputColumns ? inputSize : recurrentSize
                let expected = source.fusedAxis == 0 ? [gateCount * h, columns] : [columns, gateCount * h]
                try expect(tensor, expected, value.sourceName)
                for (index, entry) in gates.enumerated() {
                    let piece = try weightBlock(source, value, index, columns: columns)
                    if source.part == .inputColumns { inputBlocks[entry.gate] = piece } else { recurrentBlocks[entry.gate] = piece }
                }
            case .inputThenRecurrentRows:
                try expect(tensor, [inputSize + recurrentSize, gateCount * h], value.sourceName)
                for (index, entry) in gates.enumerated() {
                    let (cut, label) = try block(SourceTensor(source.name, shape: source.shape, part: source.part, fusedAxis: 1), value, index, columns: 0)
                    inputBlocks[entry.gate] = (
                        GateBlock(tensor: cut, axis: 0, range: 0..<inputSize, transposed: true), label + "[:\(inputSize)].T")
                    recurrentBlocks[entry.gate] = (
                        GateBlock(tensor: cut, axis: 0, range: inputSize ..< inputSize + recurrentSize, transposed: true),
                        label + "[\(inputSize):].T")
                }
            case .bias, .secondBias:
                try expect(tensor, [gateCount * h], value.sourceName)
                for (index, entry) in gates.enumerated() {
                    let (cut, label) = try block(source, value, index, columns: 0)
                    let role = source.part == .bias ? entry.gate.bias : entry.gate.secondBias
                    set.tensors[role] = cut
                    set.sources[role] = label
                }
            case .biasThenSecondBias:
                try expect(tensor, [2 * gateCount * h], value.sourceName)
                for (index, entry) in gates.enumerated() {
                    for (offset, role) in [(0, entry.gate.bias), (gateCount, entry.gate.secondBias)] {
                        let (cut, label) = try block(source, value, offset + index, columns: 0)
                        set.tensors[role] = cut
                        set.sources[role] = label
                    }
                }
            case .biasRows:
                try expect(tensor, [2, gateCount * h], value.sourceName)
                for (row, isSecond) in [(0, false), (1, true)] {
                    let line = try tensor.slice(axis: 0, range: row ..< row + 1).reshaped([gateCount * h])
                    for (index, entry) in gates.enumerated() {
                        let cut = try line.slice(axis: 0, range: index * h ..< (index + 1) * h)
                        let role = isSecond ? entry.gate.secondBias : entry.gate.bias
                        set.tensors[role] = cut
                        set.sources[role] = "\(value.sourceName)[\(row), \(index * h):\((index + 1) * h)]"
                    }
                }
            case .peepholes:
                try expect(tensor, [source.peepholeOrder.count * h], value.sourceName)
                for (index, gate) in source.peepholeOrder.enumerated() {
                    guard let role = gate.peephole else { continue }
                    set.tensors[role] = try tensor.slice(axis: 0, range: index * h ..< (index + 1) * h)
                    set.sources[role] = "\(value.sourceName)[\(index * h):\((index + 1) * h)]"
                }
            case .projection:
                let projected = source.transform == .transpose ? try tensor.transposed() : tensor
                try expect(projected, [recurrentSize, h], value.sourceName)
                set.tensors[.W_p] = projected
                set.sources[.W_p] = value.sourceName + (source.transform == .transpose ? ".T" : "")
            }
        }
        for entry in gates {
            guard let (input, inputLabel) = inputBlocks[entry.gate], let (recurrent, recurrentLabel) = recurrentBlocks[entry.gate] else {
                throw ImportError(.missingTensor, "no weights for the \(entry.gate.title) gate in the \(title) layout")
            }
            set.tensors[entry.gate.weight] = try Tensor.sideBySide([recurrent, input])
            set.sources[entry.gate.weight] = "[\(recurrentLabel) | \(inputLabel)]"
        }
        return set
    }
}
