import Foundation
import HDF5Bridge
import LSTMLayouts

/// One layer's source tensors, by part (`""` for a plain layer, `"forward"` / `"backward"` for Bidirectional)
/// and by Keras weight name (`kernel`, `recurrent_kernel`, `bias`, `embeddings`).
typealias KerasLayerWeights = [String: [String: FoundTensor]]

/// Where a Keras file keeps its weights.
protocol KerasWeightStore {
    /// Describes the storage for the layout string, e.g. `legacy .h5`.
    var formatLabel: String { get }
    /// Reads the weights of a layer that has some (Embedding, Dense, recurrent, Bidirectional).
    func weights(of layer: KerasLayerConfig, kind: KerasLayerKind) throws(ImportError) -> KerasLayerWeights
    /// Every dataset in the store that is not in `consumed` (optimizer state is summarized as one entry).
    func unusedDatasets(consumed: Set<String>) -> [String]
}

extension KerasWeightStore {
    /// Lists unused datasets under `root`, collapsing an `optimizer_weights` group into one line.
    func unused(in h5: KerasH5, root: String, consumed: Set<String>) -> [String] {
        var result: [String] = []
        var optimizerCount = 0
        for path in h5.datasetPaths(under: root) where !consumed.contains(path) {
            if path.hasPrefix("optimizer_weights/") || path.hasPrefix("optimizer/") {
                optimizerCount += 1
            } else {
                result.append(path)
            }
        }
        if optimizerCount > 0 { result.append("optimizer state (\(optimizerCount) datasets, training only)") }
        return result
    }
}

/// Legacy Keras HDF5 (`model.save('x.h5')` → group `model_weights`; `save_weights('x.h5')` → the root):
/// one group per layer named like the layer, with attribute `weight_names` listing its datasets in order.
struct KerasLegacyStore: KerasWeightStore {
    let h5: KerasH5
    /// `model_weights`, or `""` for a weights-only file.
    let rootPath: String
    let layerNames: [String]

    var formatLabel: String { rootPath.isEmpty ? "legacy weights-only .h5" : "legacy .h5" }

    init(h5: KerasH5, rootPath: String) throws(ImportError) {
        self.h5 = h5
        self.rootPath = rootPath
        let group = try h5.group(rootPath)
        guard let names = try h5.stringListAttribute("layer_names", of: group, at: rootPath.isEmpty ? "/" : rootPath) else {
            throw ImportError(
                .missingTensor, "the weights group has no `layer_names` attribute; this is not a Keras weights file",
                location: rootPath.isEmpty ? "/" : rootPath)
        }
        layerNames = names
    }

    func weights(of layer: KerasLayerConfig, kind: KerasLayerKind) throws(ImportError) -> KerasLayerWeights {
        let groupPath = rootPath.isEmpty ? layer.name : "\(rootPath)/\(layer.name)"
        guard layerNames.contains(layer.name), h5.isGroup(groupPath) else {
            throw ImportError(
                .missingTensor,
                "layer \(layer.label) has no weight group `\(groupPath)` (layer_names: \(layerNames.joined(separator: ", ")))",
                location: groupPath)
        }
        let group = try h5.group(groupPath)
        guard let names = try h5.stringListAttribute("weight_names", of: group, at: groupPath) else {
            throw ImportError(.missingTensor, "layer \(layer.label): the group has no `weight_names` attribute", location: groupPath)
        }
        var parts: [(String, ArraySlice<String>)] = [("", names[...])]
        if case .bidirectional = kind {
            // Keras stores the forward sublayer's weights, then the backward sublayer's.
            guard names.count % 2 == 0, !names.isEmpty else {
                throw ImportError(
                    .missingTensor,
                    "Bidirectional layer \(layer.label) lists \(names.count) weights; expected the same number for each direction",
                    location: groupPath)
            }
            parts = [("forward", names[..<(names.count / 2)]), ("backward", names[(names.count / 2)...])]
        }
        var result: KerasLayerWeights = [:]
        for (part, list) in parts {
            var found: [String: FoundTensor] = [:]
            for name in list {
                let role = Self.role(of: name)
                guard found[role] == nil else {
                    throw ImportError(.malformedSource, "layer \(layer.label) lists the weight `\(role)` twice", location: "\(groupPath)/\(name)")
                }
                do {
                    found[role] = try h5.tensor("\(groupPath)/\(name)")
                } catch where error.code == .missingTensor {
                    throw ImportError(
                        .missingTensor, "layer \(layer.label): weight_names lists `\(name)` but the file has no such dataset",
                        location: "\(groupPath)/\(name)")
                }
            }
            result[part] = found
        }
        return result
    }

    /// `lstm/lstm_cell/kernel:0` → `kernel`.
    static func role(of weightName: String) -> String {
        var last = weightName.split(separator: "/").last.map(String.init) ?? weightName
        if let colon = last.lastIndex(of: ":"), last[last.index(after: colon)...].allSatisfy(\.isNumber) {
            last = String(last[..<colon])
        }
        return last
    }

    func unusedDatasets(consumed: Set<String>) -> [String] {
        var result = unused(in: h5, root: rootPath.isEmpty ? "/" : rootPath, consumed: consumed)
        if !rootPath.isEmpty { result += unused(in: h5, root: "optimizer_weights", consumed: consumed) }
        return result
    }
}

/// Keras 3 weights (`model.weights.h5` inside a `.keras` zip, or a `.weights.h5`): groups named after the
/// layer *class* (`layers/lstm`, `layers/lstm_1`, … in model order), variables as datasets `vars/0`, `vars/1`, ….
struct KerasVarsStore: KerasWeightStore {
    let h5: KerasH5
    let formatLabel: String
    /// `layers` (Keras 3, tf-keras ≥ 2.14) or `_layer_checkpoint_dependencies` (tf-keras 2.13).
    let prefix: String
    /// Layer name → group path.
    let paths: [String: String]

    init(h5: KerasH5, layers: [KerasLayerConfig], formatLabel: String) throws(ImportError) {
        self.h5 = h5
        self.formatLabel = formatLabel
        if h5.isGroup("layers") {
            prefix = "layers"
        } else if h5.isGroup("_layer_checkpoint_dependencies") {
            prefix = "_layer_checkpoint_dependencies"
        } else {
            throw ImportError(.missingTensor, "the weights file has no `layers` group", location: "layers")
        }
        // Keras names each saved layer after its class in snake case, made unique with _1, _2, … in model order.
        var used: [String: Int] = [:]
        var paths: [String: String] = [:]
        var byAttribute: [String: String] = [:]
        if let members = try? h5.group(prefix).memberNames() {
            for member in members {
                let vars = "\(prefix)/\(member)/vars"
                if h5.isGroup(vars), let group = try? h5.group(vars),
                    let name = try? h5.stringAttribute("name", of: group, at: vars)
                {
                    byAttribute[name] = "\(prefix)/\(member)"
                }
            }
        }
        for layer in layers {
            let base = Self.snakeCase(layer.className)
            let unique: String
            if let count = used[base] {
                used[base] = count + 1
                unique = "\(base)_\(count + 1)"
            } else {
                used[base] = 0
                unique = base
            }
            // Newer Keras 3 files record the layer name on each `vars` group: trust it over the derived name.
            paths[layer.name] = byAttribute[layer.name] ?? "\(prefix)/\(unique)"
        }
        self.paths = paths
    }

    /// Keras' `naming.to_snake_case` of a class name: `LSTM` → `lstm`, `SpatialDropout1D` → `spatial_dropout1d`.
    static func snakeCase(_ name: String) -> String {
        var text = String(name.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) || $0 == "_" })
        text = text.replacingOccurrences(of: "(.)([A-Z][a-z]+)", with: "$1_$2", options: .regularExpression)
        text = text.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression)
        return text.lowercased()
    }

    func weights(of layer: KerasLayerConfig, kind: KerasLayerKind) throws(ImportError) -> KerasLayerWeights {
        guard let base = paths[layer.name], h5.isGroup(base) else {
            throw ImportError(
                .missingTensor, "layer \(layer.label) has no weight group `\(paths[layer.name] ?? layer.name)`",
                location: paths[layer.name] ?? layer.name)
        }
        func vars(_ group: String, _ names: [String]) throws(ImportError) -> [String: FoundTensor] {
            var found: [String: FoundTensor] = [:]
            for (index, name) in names.enumerated() {
                let path = "\(group)/vars/\(index)"
                do {
                    found[name] = try h5.tensor(path)
                } catch where error.code == .missingTensor {
                    throw ImportError(
                        .missingTensor, "layer \(layer.label): expected its `\(name)` as dataset `\(path)`, which the file does not have",
                        location: path)
                }
            }
            return found
        }
        let recurrent = ["kernel", "recurrent_kernel", "bias"]
        let useBias = layer.config["use_bias"]?.bool ?? layer.config["cell"]?["config"]?["use_bias"]?.bool ?? true
        switch kind {
        case .embedding:
            return ["": try vars(base, ["embeddings"])]
        case .dense:
            return ["": try vars(base, useBias ? ["kernel", "bias"] : ["kernel"])]
        case .timeDistributed:
            let innerBias = layer.config["layer"]?["config"]?["use_bias"]?.bool ?? true
            return ["": try vars("\(base)/layer", innerBias ? ["kernel", "bias"] : ["kernel"])]
        case .recurrent(let cell) where cell == .cudnnLSTM || cell == .cudnnGRU:
            return ["": try vars(base, recurrent)]
        case .recurrent, .rnnWrapper:
            return ["": try vars("\(base)/cell", useBias ? recurrent : ["kernel", "recurrent_kernel"])]
        case .bidirectional:
            let inner = try KerasBidirectional.innerLayers(of: layer)
            var result: KerasLayerWeights = [:]
            for (part, sublayer, group) in [("forward", inner[0], "forward_layer"), ("backward", inner[1], "backward_layer")] {
                let subBias = sublayer.config["use_bias"]?.bool ?? sublayer.config["cell"]?["config"]?["use_bias"]?.bool ?? true
                result[part] = try vars("\(base)/\(group)/cell", subBias ? recurrent : ["kernel", "recurrent_kernel"])
            }
            return result
        case .input, .passThrough, .activation, .masking:
            return [:]
        }
    }

    func unusedDatasets(consumed: Set<String>) -> [String] {
        unused(in: h5, root: "/", consumed: consumed)
    }
}
