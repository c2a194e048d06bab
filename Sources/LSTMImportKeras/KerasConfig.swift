import LSTMLayouts

/// One layer of a Keras model config.
struct KerasLayerConfig: Sendable {
    /// `LSTM`, `Bidirectional`, `Dense`, …
    var className: String
    /// The user-visible layer name (`config.name`).
    var name: String
    /// The layer's `config` object.
    var config: JSONValue
    /// Which of the layer's outputs the next layer of the chain reads (Functional `return_state`: 0 the output,
    /// 1 the final `h`, 2 `c`, …). 0 for Sequential models.
    var consumedOutput = 0

    /// `'name' (Class)`, for messages.
    var label: String { "'\(name)' (\(className))" }
}

/// A Keras model config reduced to the single chain of layers lstmconv can express.
struct KerasModelConfig: Sendable {
    /// `Sequential`, `Functional` or `Model`.
    var className: String
    /// The layers in execution order, `InputLayer` included when the config lists it.
    var layers: [KerasLayerConfig]
    /// `keras_version` stated inside the JSON (Keras 2 `to_json()` writes it), if any.
    var kerasVersion: String?
    /// `backend` stated inside the JSON, if any.
    var backend: String?
    /// Whether the JSON uses Keras 3 serialization (`module` / `registered_name` keys).
    var isKeras3Style: Bool

    /// Parses a `model_config` attribute, a `config.json` or a `model.to_json()` document.
    static func parse(_ json: JSONValue) throws(ImportError) -> KerasModelConfig {
        guard let className = json["class_name"]?.string else {
            throw ImportError(.missingConfig, "the model config has no `class_name`; expected a Keras model config (`model.to_json()`)")
        }
        let body = json["config"]
        let keras3 = json["module"] != nil || json["registered_name"] != nil
        let layers: [KerasLayerConfig]
        switch className {
        case "Sequential":
            // Keras ≤ 2.2 wrote the layer list itself as `config`; later versions `config.layers`.
            guard let list = body?.array ?? body?["layers"]?.array else {
                throw ImportError(.missingConfig, "the Sequential config has no layer list", location: "config.layers")
            }
            layers = try list.enumerated().map { index, entry throws(ImportError) in try layer(entry, index: index) }
        case "Functional", "Model":
            guard let body, let list = body["layers"]?.array else {
                throw ImportError(.missingConfig, "the \(className) config has no layer list", location: "config.layers")
            }
            layers = try chain(of: body, list)
        default:
            throw ImportError(
                .unsupportedTopology,
                "the model class `\(className)` is not Sequential or Functional (subclassed models carry no architecture)",
                location: "class_name")
        }
        return KerasModelConfig(
            className: className, layers: layers, kerasVersion: json["keras_version"]?.string,
            backend: json["backend"]?.string, isKeras3Style: keras3)
    }

    static func layer(_ entry: JSONValue, index: Int) throws(ImportError) -> KerasLayerConfig {
        guard let className = entry["class_name"]?.string, let config = entry["config"], config.object != nil else {
            throw ImportError(.missingConfig, "layer entry \(index) has no `class_name` or `config`", location: "config.layers[\(index)]")
        }
        let name = config["name"]?.string ?? entry["name"]?.string ?? "\(className.lowercased())_\(index)"
        return KerasLayerConfig(className: className, name: name, config: config)
    }

    /// Keras layers whose only purpose is to join several branches.
    static let mergeClasses: Set<String> = ["Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Dot"]

    /// Orders the layers of a Functional config from its input to its output, refusing anything that is
    /// not one chain (several inputs or outputs, branches, merges, shared layers, unreachable layers).
    static func chain(of body: JSONValue, _ list: [JSONValue]) throws(ImportError) -> [KerasLayerConfig] {
        var layers: [KerasLayerConfig] = []
        var inbound: [String: [[String]]] = [:]
        var tensorIndex: [String: Int] = [:]
        for (index, entry) in list.enumerated() {
            let layer = try layer(entry, index: index)
            layers.append(layer)
            let nodes = entry["inbound_nodes"]?.array ?? []
            inbound[layer.name] = nodes.map { node in
                var names: [String] = []
                collectReferences(node, into: &names)
                return names
            }
            var indices: [Int] = []
            for node in nodes { collectTensorIndices(node, into: &indices) }
            tensorIndex[layer.name] = indices.first ?? 0
        }
        // A merge layer is the place a graph stops being a chain: say so, naming it and its inputs.
        for layer in layers where mergeClasses.contains(layer.className) {
            let sources = (inbound[layer.name] ?? []).flatMap { $0 }
            throw ImportError(
                .unsupportedTopology,
                "layer \(layer.label) merges \(sources.count) tensors (from \(sources.joined(separator: ", "))): the model is not a single chain",
                location: layer.name)
        }
        // Otherwise an unsupported layer is the more useful message when it is also what breaks the chain.
        for layer in layers { try KerasLayerKind.check(layer) }

        // A recurrent layer fed more than its input is started from other layers' states (encoder–decoder).
        for layer in layers where (inbound[layer.name] ?? []).contains(where: { $0.count > 1 }) {
            if case .recurrent? = try? KerasLayerKind.classify(layer) {} else if case .bidirectional? = try? KerasLayerKind.classify(layer) {} else { continue }
            let sources = (inbound[layer.name] ?? []).flatMap { $0 }
            throw ImportError(
                .unsupportedTopology,
                "layer \(layer.label) is called with initial_state from \(sources.dropFirst().joined(separator: ", ")) (encoder–decoder wiring): the model is not a single chain",
                location: layer.name)
        }
        var inputs: [String] = []
        var outputs: [String] = []
        if let value = body["input_layers"] { collectReferences(value, into: &inputs) }
        if let value = body["output_layers"] { collectReferences(value, into: &outputs) }
        guard inputs.count == 1, outputs.count == 1 else {
            throw ImportError(
                .unsupportedTopology,
                "the model has \(inputs.count) inputs (\(inputs.joined(separator: ", "))) and \(outputs.count) outputs (\(outputs.joined(separator: ", "))); only a single chain (one input, one output) is supported",
                location: "config.input_layers")
        }
        var byName: [String: KerasLayerConfig] = [:]
        for layer in layers {
            guard byName[layer.name] == nil else {
                throw ImportError(.unsupportedTopology, "two layers are named '\(layer.name)'", location: layer.name)
            }
            byName[layer.name] = layer
        }
        var consumers: [String: [String]] = [:]
        for layer in layers {
            let nodes = inbound[layer.name] ?? []
            if layer.className == "InputLayer" { continue }
            guard nodes.count == 1 else {
                throw ImportError(
                    .unsupportedTopology,
                    nodes.isEmpty
                        ? "layer \(layer.label) is never called"
                        : "layer \(layer.label) is called \(nodes.count) times (shared layers are not a single chain)",
                    location: layer.name)
            }
            guard nodes[0].count == 1 else {
                throw ImportError(
                    .unsupportedTopology,
                    "layer \(layer.label) takes \(nodes[0].count) input tensors (\(nodes[0].joined(separator: ", "))); only single-input chains are supported",
                    location: layer.name)
            }
            consumers[nodes[0][0], default: []].append(layer.name)
        }
        guard let first = byName[inputs[0]] else {
            throw ImportError(.missingConfig, "the input layer '\(inputs[0])' is not in the layer list", location: "config.input_layers")
        }
        var ordered = [first]
        var current = first.name
        while current != outputs[0] {
            let next = consumers[current] ?? []
            guard next.count == 1, let layer = byName[next[0]] else {
                throw ImportError(
                    .unsupportedTopology,
                    next.isEmpty
                        ? "the chain ends at '\(current)' before reaching the output '\(outputs[0])'"
                        : "the output of '\(current)' feeds \(next.count) layers (\(next.joined(separator: ", "))); branches are not supported",
                    location: current)
            }
            guard !ordered.contains(where: { $0.name == layer.name }) else {
                throw ImportError(.unsupportedTopology, "the layer graph has a cycle at '\(layer.name)'", location: layer.name)
            }
            // The output of `current` this layer reads (return_state layers have several).
            ordered[ordered.count - 1].consumedOutput = tensorIndex[layer.name] ?? 0
            ordered.append(layer)
            current = layer.name
        }
        if (consumers[current] ?? []).count > 0 || ordered.count != layers.count {
            let extra = layers.filter { layer in !ordered.contains { $0.name == layer.name } }.map(\.label)
            throw ImportError(
                .unsupportedTopology,
                "layers outside the input→output chain: \(extra.isEmpty ? "the output also feeds other layers" : extra.joined(separator: ", "))",
                location: extra.first)
        }
        return ordered
    }

    /// Collects the tensor indices (which output of the inbound layer) a Functional node refers to.
    static func collectTensorIndices(_ value: JSONValue, into indices: inout [Int]) {
        switch value {
        case .object(let object):
            if let history = object["keras_history"]?.array, history.count >= 3, let index = history[2].int {
                indices.append(index)
                return
            }
            for key in object.keys.sorted() { collectTensorIndices(object[key] ?? .null, into: &indices) }
        case .array(let items):
            if (3...4).contains(items.count), items[0].string != nil, items[1].int != nil, let index = items[2].int {
                indices.append(index)
                return
            }
            for item in items { collectTensorIndices(item, into: &indices) }
        default:
            return
        }
    }

    /// Collects the layer names a Functional node refers to: Keras 3 `keras_history: [name, node, tensor]`
    /// objects and Keras 2 `[name, node, tensor, kwargs]` arrays, anywhere in args and kwargs.
    static func collectReferences(_ value: JSONValue, into names: inout [String]) {
        switch value {
        case .object(let object):
            if let history = object["keras_history"]?.array, let name = history.first?.string {
                names.append(name)
                return
            }
            for key in object.keys.sorted() { collectReferences(object[key] ?? .null, into: &names) }
        case .array(let items):
            if (3...4).contains(items.count), let name = items[0].string, items[1].int != nil, items[2].int != nil {
                names.append(name)
                if items.count == 4 { collectReferences(items[3], into: &names) }
                return
            }
            for item in items { collectReferences(item, into: &names) }
        default:
            return
        }
    }
}
