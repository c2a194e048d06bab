/// A typed metadata value: the attribute types both encodings store (spec §2).
package enum MetaValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int64)
    case double(Double)
    case string(String)
    case bool(Bool)

    package var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .bool(let value): "\(value)"
        }
    }

    /// The type name used in error messages and the spec.
    package var typeName: String {
        switch self {
        case .int: "int"
        case .double: "double"
        case .string: "string"
        case .bool: "bool"
        }
    }
}

/// An ordered list of attributes. Order is part of the determinism contract: writers emit them as listed.
package typealias Attributes = [(key: String, value: MetaValue)]

/// The model's attributes, split by where the HDF5 encoding stores them: the file root, and one group per layer.
/// The binary encoding flattens layer attributes to `layer.<k>.<key>`.
package struct SchemaAttributes: Sendable {
    package var root: Attributes
    package var layers: [Attributes]

    package init(root: Attributes, layers: [Attributes]) {
        self.root = root
        self.layers = layers
    }

    /// Root attributes then `layer.<k>.<key>` for every layer: the binary encoding's metadata.
    package var flattened: Attributes {
        root + layers.enumerated().flatMap { index, attributes in
            attributes.map { (key: "layer.\(index).\($0.key)", value: $0.value) }
        }
    }

    /// Splits flattened metadata back into root and per-layer attributes. Keys `layer.<k>.<key>` with
    /// `k` outside `0..<layerCount` are ignored (unknown optional keys).
    package init(flattened: Attributes, layerCount: Int) {
        var root: Attributes = []
        var layers = [Attributes](repeating: [], count: layerCount)
        for entry in flattened {
            let parts = entry.key.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
            if parts.count == 3, parts[0] == "layer", let index = Int(parts[1]) {
                if index >= 0, index < layerCount { layers[index].append((String(parts[2]), entry.value)) }
            } else {
                root.append(entry)
            }
        }
        self.init(root: root, layers: layers)
    }
}

/// Root attribute keys (spec §2.1).
package enum RootKey {
    package static let format = "format"
    package static let formatMajor = "format_major"
    package static let formatMinor = "format_minor"
    package static let schemaVersion = "schema_version"
    package static let layerCount = "layer_count"
    package static let sourceFramework = "provenance.source_framework"
    package static let sourceFrameworkVersion = "provenance.source_framework_version"
    package static let sourceLayout = "provenance.source_layout"
    package static let sourceSHA256 = "provenance.source_sha256"
    package static let converter = "provenance.converter"
    /// Optional: written only when the source computes in another precision than float32.
    package static let sourceComputeDType = "provenance.source_compute_dtype"
}

extension Model {
    /// The model's hyperparameters and provenance as typed attributes (spec §2). Tensors are not included.
    package var schemaAttributes: SchemaAttributes {
        let root: Attributes = [
            (RootKey.format, .string(FormatVersion.formatName)),
            (RootKey.formatMajor, .int(Int64(FormatVersion.major))),
            (RootKey.formatMinor, .int(Int64(FormatVersion.minor))),
            (RootKey.schemaVersion, .int(schemaVersion)),
            (RootKey.layerCount, .int(Int64(layers.count))),
            (RootKey.sourceFramework, .string(provenance.sourceFramework)),
            (RootKey.sourceFrameworkVersion, .string(provenance.sourceFrameworkVersion)),
            (RootKey.sourceLayout, .string(provenance.sourceLayout)),
            (RootKey.sourceSHA256, .string(provenance.sourceSHA256)),
            (RootKey.converter, .string(provenance.converter)),
        ]
        var attributesRoot = root
        if !provenance.sourceComputeDType.isEmpty {
            attributesRoot.append((RootKey.sourceComputeDType, .string(provenance.sourceComputeDType)))
        }
        return SchemaAttributes(root: attributesRoot, layers: layers.map(\.attributes))
    }

    /// Rebuilds a model from attributes plus a tensor lookup, then validates it.
    ///
    /// - Parameters:
    ///   - attributes: root and per-layer attributes. Unknown keys are ignored.
    ///   - tensor: returns the tensor and its source name stored at a path such as `layer_0/forward/W_n`, or `nil`.
    ///   - storedPaths: every tensor path the file holds, so that extra tensors are reported.
    package init(
        attributes: SchemaAttributes,
        tensor: (String) throws -> (Tensor, String?)?,
        storedPaths: [String]
    ) throws {
        let reader = AttributeReader(attributes.root, scope: "")
        let layerCount = try reader.int(RootKey.layerCount)
        guard layerCount >= 1, layerCount <= ModelLimits.maxLayers, layerCount == attributes.layers.count else {
            throw ModelError(.invalidAttributeValue, "layer_count \(layerCount) is outside 1...\(ModelLimits.maxLayers) or disagrees with the layer groups (\(attributes.layers.count))", keyPath: RootKey.layerCount)
        }
        var provenance = Provenance(
            sourceFramework: try reader.string(RootKey.sourceFramework),
            sourceFrameworkVersion: try reader.string(RootKey.sourceFrameworkVersion),
            sourceLayout: try reader.string(RootKey.sourceLayout),
            sourceSHA256: try reader.string(RootKey.sourceSHA256),
            converter: try reader.string(RootKey.converter))
        if reader.has(RootKey.sourceComputeDType) {
            provenance.sourceComputeDType = try reader.string(RootKey.sourceComputeDType)
        }
        var layers: [Layer] = []
        for index in 0..<layerCount {
            layers.append(try Layer(attributes: attributes.layers[index], index: index))
        }
        var model = Model(layers: layers, provenance: provenance)
        let expected = model.expectedSlots
        let expectedPaths = Set(expected.map(\.path))
        for path in storedPaths where !expectedPaths.contains(path) {
            throw ModelError(.unexpectedTensor, "the hyperparameters do not use this tensor", keyPath: path)
        }
        for slot in expected {
            guard let (value, source) = try tensor(slot.path) else {
                throw ModelError(.missingTensor, "required by the layer's hyperparameters", keyPath: slot.path, expectedShape: slot.shape)
            }
            guard value.shape == slot.shape else {
                throw ModelError(.shapeMismatch, "", keyPath: slot.path, expectedShape: slot.shape, actualShape: value.shape)
            }
            model.layers[slot.layer].setTensor(value, source: source, role: slot.role, direction: slot.direction)
        }
        try model.validate()
        self = model
    }
}

extension Layer {
    /// The layer's attributes in canonical order (spec §2.2).
    package var attributes: Attributes {
        var result: Attributes = [("kind", .string(kindName))]
        func activation(_ value: Activation, _ key: String) {
            result.append((key, .string(value.name)))
            if case let .hardSigmoid(slope, offset) = value {
                result.append(("\(key)_slope", .double(slope)))
                result.append(("\(key)_offset", .double(offset)))
            }
        }
        switch self {
        case .embedding(let layer):
            result += [("vocabulary_size", .int(Int64(layer.vocabularySize))), ("embedding_size", .int(Int64(layer.embeddingSize)))]
            if layer.maskZero { result.append(("mask_zero", .bool(true))) }
        case .dense(let layer):
            result += [("input_size", .int(Int64(layer.inputSize))), ("units", .int(Int64(layer.units)))]
            activation(layer.activation, "activation")
            result.append(("use_bias", .bool(layer.useBias)))
        case .recurrent(let layer):
            result += [
                ("input_size", .int(Int64(layer.inputSize))),
                ("hidden_size", .int(Int64(layer.hiddenSize))),
                ("projection_size", .int(Int64(layer.projectionSize ?? 0))),
                ("directions", .int(Int64(layer.directions.count))),
                ("merge_mode", .string(layer.mergeMode?.rawValue ?? "none")),
                ("return_sequences", .bool(layer.returnSequences)),
                ("go_backwards", .bool(layer.goBackwards)),
            ]
            // Optional, written only when it differs from the default `final_state` (spec §2.2).
            if !layer.returnSequences, layer.finalOutput != .finalState {
                result.append(("final_output", .string(layer.finalOutput.rawValue)))
            }
            activation(layer.activation, "activation")
            // A plain RNN has no gates: no recurrent activation is stored.
            if layer.cell != .rnn { activation(layer.recurrentActivation, "recurrent_activation") }
            result.append(("bias", .string(layer.bias.rawValue)))
            switch layer.cell {
            case .lstm:
                result.append(("use_gate", .string(layer.useGate.rawValue)))
                result.append(("peepholes", .string(layer.peepholes.rawValue)))
                if let clip = layer.cellClip { result.append(("cell_clip", .double(clip))) }
                if let clip = layer.projectionClip { result.append(("projection_clip", .double(clip))) }
                result.append(("forget_bias", .double(layer.forgetBias)))
            case .gru:
                result.append(("reset", .string((layer.resetMode ?? .after).rawValue)))
            case .rnn:
                break
            }
            if let clip = layer.gateClip { result.append(("gate_clip", .double(clip))) }
            // Optional masking keys, written only when they differ from "no mask" (spec §2.2).
            if let value = layer.maskValue { result.append(("mask_value", .double(value))) }
            if layer.maskedOutput != .previous { result.append(("masked_output", .string(layer.maskedOutput.rawValue))) }
            if layer.timeMajor { result.append(("time_major", .bool(true))) }
            if layer.stateful { result.append(("stateful", .bool(true))) }
        }
        return result
    }

    /// Decodes a layer's hyperparameters; its tensors are filled in afterwards.
    init(attributes: Attributes, index: Int) throws(ModelError) {
        let reader = AttributeReader(attributes, scope: "layer_\(index)/")
        func activation(_ key: String) throws(ModelError) -> Activation {
            let name = try reader.string(key)
            switch name {
            case "sigmoid": return .sigmoid
            case "tanh": return .tanh
            case "relu": return .relu
            case "linear": return .linear
            case "softmax": return .softmax
            case "hard_sigmoid":
                return .hardSigmoid(slope: try reader.double("\(key)_slope"), offset: try reader.double("\(key)_offset"))
            default:
                throw ModelError(.invalidAttributeValue, "unknown activation \"\(name)\"", keyPath: reader.scope + key)
            }
        }
        func size(_ key: String) throws(ModelError) -> Int {
            let value = try reader.int(key)
            guard value >= 0, value <= ModelLimits.maxSize else {
                throw ModelError(.invalidAttributeValue, "\(value) is outside 0...\(ModelLimits.maxSize)", keyPath: reader.scope + key)
            }
            return value
        }
        let kind = try reader.string("kind")
        switch kind {
        case "embedding":
            self = .embedding(EmbeddingLayer(
                vocabularySize: try size("vocabulary_size"), embeddingSize: try size("embedding_size"), parameters: ParameterSet(),
                maskZero: reader.has("mask_zero") ? try reader.bool("mask_zero") : false))
        case "dense":
            self = .dense(DenseLayer(
                inputSize: try size("input_size"), units: try size("units"), activation: try activation("activation"),
                useBias: try reader.bool("use_bias"), parameters: ParameterSet()))
        case "lstm", "gru", "rnn":
            let cell = CellKind(rawValue: kind) ?? .lstm
            let directions = try reader.int("directions")
            guard directions == 1 || directions == 2 else {
                throw ModelError(.invalidAttributeValue, "directions must be 1 or 2, found \(directions)", keyPath: reader.scope + "directions")
            }
            let mergeName = try reader.string("merge_mode")
            let merge: MergeMode? = mergeName == "none" ? nil : try reader.enumValue("merge_mode", MergeMode.self)
            let projection = try size("projection_size")
            var layer = RecurrentLayer(
                cell: cell, inputSize: try size("input_size"), hiddenSize: try size("hidden_size"),
                projectionSize: projection == 0 ? nil : projection,
                directions: Array(repeating: ParameterSet(), count: directions), mergeMode: merge,
                returnSequences: try reader.bool("return_sequences"), goBackwards: try reader.bool("go_backwards"),
                activation: try activation("activation"),
                recurrentActivation: cell == .rnn ? .sigmoid : try activation("recurrent_activation"),
                bias: try reader.enumValue("bias", BiasKind.self),
                gateClip: try reader.optionalDouble("gate_clip"))
            layer.maskValue = try reader.optionalDouble("mask_value")
            layer.timeMajor = reader.has("time_major") ? try reader.bool("time_major") : false
            layer.stateful = reader.has("stateful") ? try reader.bool("stateful") : false
            if reader.has("masked_output") {
                layer.maskedOutput = try reader.enumValue("masked_output", MaskedOutput.self)
            }
            if reader.has("final_output") {
                layer.finalOutput = try reader.enumValue("final_output", FinalOutput.self)
            }
            switch cell {
            case .lstm:
                layer.useGate = try reader.enumValue("use_gate", UseGateVariant.self)
                layer.peepholes = try reader.enumValue("peepholes", PeepholeForm.self)
                layer.cellClip = try reader.optionalDouble("cell_clip")
                layer.projectionClip = try reader.optionalDouble("projection_clip")
                layer.forgetBias = try reader.double("forget_bias")
            case .gru:
                layer.resetMode = try reader.enumValue("reset", ResetMode.self)
            case .rnn:
                break
            }
            self = .recurrent(layer)
        default:
            throw ModelError(.invalidAttributeValue, "unknown layer kind \"\(kind)\"", keyPath: reader.scope + "kind")
        }
    }

    mutating func setTensor(_ tensor: Tensor, source: String?, role: TensorRole, direction: Direction?) {
        switch self {
        case .embedding(var layer):
            layer.parameters.tensors[role] = tensor
            layer.parameters.sources[role] = source
            self = .embedding(layer)
        case .dense(var layer):
            layer.parameters.tensors[role] = tensor
            layer.parameters.sources[role] = source
            self = .dense(layer)
        case .recurrent(var layer):
            let index = direction == .backward ? 1 : 0
            layer.directions[index].tensors[role] = tensor
            layer.directions[index].sources[role] = source
            self = .recurrent(layer)
        }
    }
}

/// Typed lookups into an attribute list, throwing errors that name the key.
struct AttributeReader {
    let attributes: Attributes
    let scope: String

    init(_ attributes: Attributes, scope: String) {
        self.attributes = attributes
        self.scope = scope
    }

    func value(_ key: String) throws(ModelError) -> MetaValue {
        guard let entry = attributes.first(where: { $0.key == key }) else {
            throw ModelError(.missingAttribute, "required attribute is absent", keyPath: scope + key)
        }
        return entry.value
    }

    func wrongType(_ key: String, _ expected: String, _ found: MetaValue) -> ModelError {
        ModelError(.wrongAttributeType, "expected \(expected), found \(found.typeName) \(found)", keyPath: scope + key)
    }

    func int(_ key: String) throws(ModelError) -> Int {
        let found = try value(key)
        guard case .int(let raw) = found, let value = Int(exactly: raw) else { throw wrongType(key, "int", found) }
        return value
    }

    func double(_ key: String) throws(ModelError) -> Double {
        let found = try value(key)
        guard case .double(let value) = found else { throw wrongType(key, "double", found) }
        return value
    }

    func has(_ key: String) -> Bool { attributes.contains { $0.key == key } }

    func optionalDouble(_ key: String) throws(ModelError) -> Double? {
        guard attributes.contains(where: { $0.key == key }) else { return nil }
        return try double(key)
    }

    func string(_ key: String) throws(ModelError) -> String {
        let found = try value(key)
        guard case .string(let value) = found else { throw wrongType(key, "string", found) }
        return value
    }

    func bool(_ key: String) throws(ModelError) -> Bool {
        let found = try value(key)
        guard case .bool(let value) = found else { throw wrongType(key, "bool", found) }
        return value
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(ModelError) -> E where E.RawValue == String {
        let name = try string(key)
        guard let value = E(rawValue: name) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw ModelError(.invalidAttributeValue, "\"\(name)\" is not one of \(allowed)", keyPath: scope + key)
        }
        return value
    }
}
