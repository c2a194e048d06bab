import LSTMLayouts
import LSTMModel

/// A recurrent parameter name: `weight_ih_l2_reverse` → (`weight_ih`, layer 2, reverse); `bias_hh` (cell) →
/// (`bias_hh`, no layer).
struct RecurrentName: Hashable, Sendable {
    enum Kind: String, CaseIterable, Sendable {
        case weightIH = "weight_ih", weightHH = "weight_hh", biasIH = "bias_ih", biasHH = "bias_hh", weightHR = "weight_hr"
    }

    var kind: Kind
    /// `nil` for `nn.LSTMCell` / `nn.GRUCell` names.
    var layer: Int?
    var reverse: Bool

    /// Parses a parameter name (the part after the module prefix); `nil` if it is not a recurrent name.
    static func parse(_ name: String) -> RecurrentName? {
        for kind in Kind.allCases {
            if name == kind.rawValue { return RecurrentName(kind: kind, layer: nil, reverse: false) }
            guard name.hasPrefix(kind.rawValue + "_l") else { continue }
            var rest = name.dropFirst(kind.rawValue.count + 2)
            let reverse = rest.hasSuffix("_reverse")
            if reverse { rest = rest.dropLast("_reverse".count) }
            // Canonical decimal only (`l0`, `l12`, never `l01`), and a sane layer count.
            guard !rest.isEmpty, rest.count <= 4, rest.allSatisfy(\.isASCII), rest.allSatisfy(\.isNumber),
                let layer = Int(rest), String(layer) == rest
            else { return nil }
            return RecurrentName(kind: kind, layer: layer, reverse: reverse)
        }
        return nil
    }

    /// The name for layer `k` and a direction, in the same style (`_l{k}[_reverse]` or bare for cells).
    static func name(_ kind: Kind, layer: Int?, reverse: Bool) -> String {
        guard let layer else { return kind.rawValue }
        return "\(kind.rawValue)_l\(layer)" + (reverse ? "_reverse" : "")
    }

    /// The layout table's pattern for this kind (`weight_ih_l{k}{_reverse}`).
    static func pattern(_ kind: Kind) -> String { "\(kind.rawValue)_l{k}{_reverse}" }
}

/// Splits a key into module prefix and parameter name at the last `.`.
func splitKey(_ key: String) -> (prefix: String, name: String) {
    guard let dot = key.lastIndex(of: ".") else { return ("", key) }
    return (String(key[..<dot]), String(key[key.index(after: dot)...]))
}

/// How a module prefix reads in messages.
func moduleLabel(_ prefix: String) -> String { prefix.isEmpty ? "(top level)" : prefix }

/// A recurrent module found in a state_dict, with everything inferred from it and cross-checked.
struct RecurrentModule: Sendable {
    var prefix: String
    var cell: CellKind
    /// `nn.LSTMCell` / `nn.GRUCell` naming (no `_l{k}`).
    var isCell: Bool
    var layerCount: Int
    var directionCount: Int
    var inputSize: Int
    var hiddenSize: Int
    var projectionSize: Int?
    var hasBias: Bool
    var dtype: DType
    /// Every key this module uses, in layer, direction, table order.
    var keys: [String]
    /// The module's tensors by key, each checked against the configuration.
    var tensors: [String: Tensor]

    /// R: the recurrent (STM) size.
    var recurrentSize: Int { projectionSize ?? hiddenSize }
    /// Features per time step the last layer emits.
    var outputSize: Int { directionCount * recurrentSize }
    var layout: FusedLayout {
        switch cell {
        case .lstm: PyTorchLayouts.lstm
        case .gru: PyTorchLayouts.gru
        case .rnn: PyTorchLayouts.rnn
        }
    }

    func key(_ kind: RecurrentName.Kind, layer: Int, reverse: Bool) -> String {
        let name = RecurrentName.name(kind, layer: isCell ? nil : layer, reverse: reverse)
        return prefix.isEmpty ? name : prefix + "." + name
    }

    /// The module's kind as PyTorch names it.
    var torchName: String {
        switch (cell, isCell) {
        case (.lstm, false): "nn.LSTM"
        case (.gru, false): "nn.GRU"
        case (.lstm, true): "nn.LSTMCell"
        case (.gru, true): "nn.GRUCell"
        case (.rnn, false): "nn.RNN"
        case (.rnn, true): "nn.RNNCell"
        }
    }

    /// Infers the module's configuration from its parameter names and shapes and checks every tensor against it.
    static func infer(prefix: String, names: [(name: RecurrentName, key: String)], in dict: StateDict) throws(ImportError) -> RecurrentModule {
        let label = moduleLabel(prefix)
        let stacked = names.contains { $0.name.layer != nil }
        let bare = names.contains { $0.name.layer == nil }
        guard !(stacked && bare) else {
            throw ImportError(
                .unsupportedTopology, "module mixes nn.LSTM/nn.GRU names (`weight_ih_l0`) with cell names (`weight_ih`)", location: label)
        }
        var byName: [RecurrentName: String] = [:]
        for (name, key) in names { byName[name] = key }

        let layers = Set(names.compactMap(\.name.layer))
        let layerCount = stacked ? (layers.max() ?? 0) + 1 : 1
        guard layerCount <= ModelLimits.maxLayers else {
            throw ImportError(.unsupportedTopology, "\(layerCount) layers exceeds the limit of \(ModelLimits.maxLayers)", location: label)
        }
        let directionCount = names.contains { $0.name.reverse } ? 2 : 1
        func name(_ kind: RecurrentName.Kind, _ layer: Int, _ reverse: Bool) -> RecurrentName {
            RecurrentName(kind: kind, layer: stacked ? layer : nil, reverse: reverse)
        }
        func fullKey(_ recurrentName: RecurrentName) -> String {
            let short = RecurrentName.name(recurrentName.kind, layer: recurrentName.layer, reverse: recurrentName.reverse)
            return prefix.isEmpty ? short : prefix + "." + short
        }
        func tensor(_ recurrentName: RecurrentName) throws(ImportError) -> Tensor {
            let key = fullKey(recurrentName)
            guard byName[recurrentName] != nil, let value = dict[key] else {
                throw ImportError(.missingTensor, "the \(label) module needs `\(key)`", location: key)
            }
            switch value {
            case .tensor(let tensor): return tensor
            case .unsupported(let dtype, _):
                throw ImportError(.unsupportedDType, "\(dtype) weights cannot be stored (f32, f16, bf16, f64 only)", location: key)
            case .notATensor(let kind):
                throw ImportError(.malformedSource, "`\(key)` is a \(kind), not a tensor", location: key)
            }
        }
        func present(_ kind: RecurrentName.Kind) -> Bool { names.contains { $0.name.kind == kind } }

        // Sizes from layer 0, forward.
        let weightIH = try tensor(name(.weightIH, 0, false))
        let weightHH = try tensor(name(.weightHH, 0, false))
        let firstIH = fullKey(name(.weightIH, 0, false))
        let firstHH = fullKey(name(.weightHH, 0, false))
        guard weightIH.shape.count == 2, weightIH.shape[0] > 0, weightIH.shape[1] > 0 else {
            throw ImportError(.shapeMismatch, "expected a matrix [gates·H, I], found \(weightIH.shape)", location: firstIH)
        }
        guard weightHH.shape.count == 2, weightHH.shape[1] > 0 else {
            throw ImportError(.shapeMismatch, "expected a matrix [gates·H, R], found \(weightHH.shape)", location: firstHH)
        }
        let gateRows = weightIH.shape[0]
        let inputSize = weightIH.shape[1]
        let recurrentSize = weightHH.shape[1]
        let hasProjection = present(.weightHR)
        let cell: CellKind
        let hiddenSize: Int
        var projectionSize: Int?
        if hasProjection {
            let weightHR = try tensor(name(.weightHR, 0, false))
            guard weightHR.shape.count == 2, weightHR.shape[0] > 0, weightHR.shape[1] > 0 else {
                throw ImportError(.shapeMismatch, "expected a projection [P, H], found \(weightHR.shape)", location: fullKey(name(.weightHR, 0, false)))
            }
            cell = .lstm
            hiddenSize = weightHR.shape[1]
            projectionSize = weightHR.shape[0]
            guard gateRows == 4 * hiddenSize else {
                throw ImportError(
                    .shapeMismatch,
                    "a projected LSTM has 4H = \(4 * hiddenSize) gate rows (H = \(hiddenSize) from weight_hr), found \(gateRows)",
                    location: firstIH)
            }
        } else if gateRows == 4 * recurrentSize {
            (cell, hiddenSize) = (.lstm, recurrentSize)
        } else if gateRows == 3 * recurrentSize {
            (cell, hiddenSize) = (.gru, recurrentSize)
        } else if gateRows == recurrentSize {
            (cell, hiddenSize) = (.rnn, recurrentSize)
        } else {
            throw ImportError(
                .shapeMismatch,
                "\(gateRows) gate rows are neither 4H (LSTM), 3H (GRU) nor H (RNN) for H = \(recurrentSize) (the columns of `\(firstHH)`)",
                location: firstIH)
        }
        let realRecurrent = projectionSize ?? hiddenSize
        let hasBias = present(.biasIH) || present(.biasHH)
        let dtype = weightIH.dtype

        // Cross-check every tensor of every layer and direction against the inferred configuration.
        var keys: [String] = []
        var tensors: [String: Tensor] = [:]
        for layer in 0..<layerCount {
            let layerInput = layer == 0 ? inputSize : directionCount * realRecurrent
            for direction in 0..<directionCount {
                let reverse = direction == 1
                var expected: [(RecurrentName.Kind, [Int], String)] = [
                    (.weightIH, [gateRows, layerInput], layer == 0 ? "[gates·H, I]" : "[gates·H, D·R]"),
                    (.weightHH, [gateRows, realRecurrent], "[gates·H, R]"),
                ]
                if hasBias { expected += [(.biasIH, [gateRows], "[gates·H]"), (.biasHH, [gateRows], "[gates·H]")] }
                if hasProjection { expected.append((.weightHR, [realRecurrent, hiddenSize], "[P, H]")) }
                for (kind, shape, formula) in expected {
                    let recurrentName = name(kind, layer, reverse)
                    let key = fullKey(recurrentName)
                    let value = try tensor(recurrentName)
                    guard value.shape == shape else {
                        throw ImportError(
                            .shapeMismatch,
                            "expected \(formula) = \(shape) for an \(cell.rawValue.uppercased()) with I=\(inputSize) H=\(hiddenSize)"
                                + (projectionSize.map { " P=\($0)" } ?? "") + " D=\(directionCount), found \(value.shape)",
                            location: key)
                    }
                    guard value.dtype == dtype else {
                        throw ImportError(
                            .unsupportedDType, "mixed dtypes in one module: \(value.dtype.rawValue) here, \(dtype.rawValue) in `\(firstIH)`",
                            location: key)
                    }
                    keys.append(key)
                    tensors[key] = value
                }
            }
        }
        // Nothing left over: every recurrent name must belong to the inferred layers and directions.
        let used = Set(keys)
        for (_, key) in names where !used.contains(key) {
            throw ImportError(
                .shapeMismatch, "`\(key)` does not fit the inferred \(layerCount)-layer, \(directionCount)-direction module", location: key)
        }
        return RecurrentModule(
            prefix: prefix, cell: cell, isCell: !stacked, layerCount: layerCount, directionCount: directionCount,
            inputSize: inputSize, hiddenSize: hiddenSize, projectionSize: projectionSize, hasBias: hasBias, dtype: dtype,
            keys: keys, tensors: tensors)
    }
}
