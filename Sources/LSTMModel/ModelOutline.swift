/// What a checkpoint's header alone says about its model: the layers' hyperparameters and the provenance read
/// from the attributes, checked against the stored tensor directory (paths, shapes, dtypes) without reading any
/// tensor data. Problems are collected as findings instead of being thrown, so that a damaged or inconsistent
/// header can still be shown.
package struct ModelOutline: Sendable {
    /// One stored tensor as the header describes it.
    package struct StoredTensor: Sendable {
        package var path: String
        package var shape: [Int]
        package var dtype: DType?

        package init(path: String, shape: [Int], dtype: DType?) {
            self.path = path
            self.shape = shape
            self.dtype = dtype
        }
    }

    /// The layers (hyperparameters only: no tensors), or empty when the attributes do not describe a model.
    package var layers: [Layer]
    /// The provenance, when the root attributes carry it.
    package var provenance: Provenance?
    /// Everything that would make loading the model fail, one line each, in the order a load would meet them
    /// (the first one is what `Checkpoint.load` reports).
    package var findings: [String]

    /// Outlines the model `attributes` describe and checks `stored` (in file order) against it.
    /// - Parameter canonicalOrder: whether the encoding requires the tensors in canonical order (`.lstmw`).
    package init(attributes: SchemaAttributes, stored: [StoredTensor], canonicalOrder: Bool) {
        layers = []
        provenance = nil
        findings = []
        let reader = AttributeReader(attributes.root, scope: "")
        do throws(ModelError) {
            var found = Provenance(
                sourceFramework: try reader.string(RootKey.sourceFramework),
                sourceFrameworkVersion: try reader.string(RootKey.sourceFrameworkVersion),
                sourceLayout: try reader.string(RootKey.sourceLayout),
                sourceSHA256: try reader.string(RootKey.sourceSHA256),
                converter: try reader.string(RootKey.converter))
            if reader.has(RootKey.sourceComputeDType) { found.sourceComputeDType = try reader.string(RootKey.sourceComputeDType) }
            provenance = found
        } catch {
            findings.append(error.description)
        }
        let layerCount: Int
        do throws(ModelError) {
            layerCount = try reader.int(RootKey.layerCount)
        } catch {
            findings.append(error.description)
            return
        }
        guard layerCount >= 1, layerCount <= ModelLimits.maxLayers, layerCount == attributes.layers.count else {
            findings.append(
                ModelError(
                    .invalidAttributeValue,
                    "layer_count \(layerCount) is outside 1...\(ModelLimits.maxLayers) or disagrees with the layer groups (\(attributes.layers.count))",
                    keyPath: RootKey.layerCount
                ).description)
            return
        }
        for index in 0..<layerCount {
            do throws(ModelError) {
                layers.append(try Layer(attributes: attributes.layers[index], index: index))
            } catch {
                findings.append(error.description)
            }
        }
        guard layers.count == layerCount else {
            layers = []
            return
        }
        let model = Model(layers: layers, provenance: provenance ?? Provenance())
        do throws(ModelError) {
            try model.validate(tensors: false)
        } catch {
            findings.append(error.description)
        }
        let expected = model.expectedSlots
        let expectedByPath = Dictionary(expected.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        let storedByPath = Dictionary(stored.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        for tensor in stored where expectedByPath[tensor.path] == nil {
            findings.append(ModelError(.unexpectedTensor, "the hyperparameters do not use this tensor", keyPath: tensor.path).description)
        }
        for slot in expected {
            guard let tensor = storedByPath[slot.path] else {
                findings.append(
                    ModelError(.missingTensor, "required by the layer's hyperparameters", keyPath: slot.path, expectedShape: slot.shape).description)
                continue
            }
            if tensor.shape != slot.shape {
                findings.append(
                    ModelError(.shapeMismatch, "", keyPath: slot.path, expectedShape: slot.shape, actualShape: tensor.shape).description)
            }
        }
        if canonicalOrder {
            let order = stored.map(\.path).filter { expectedByPath[$0] != nil }
            let canonical = expected.map(\.path).filter { storedByPath[$0] != nil }
            if let index = order.indices.first(where: { $0 < canonical.count && order[$0] != canonical[$0] }) {
                findings.append("tensor entry \(index) (\(order[index])) is out of canonical order; expected \(canonical[index])")
            }
        }
    }
}
