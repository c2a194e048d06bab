import LSTMLayouts
import LSTMModel

/// What a Keras config's declared hyperparameters justify reading, computed before any weight is extracted or
/// read: a `.keras` member or dataset larger than this is refused, so a small file cannot make lstmconv allocate
/// (or fill `$TMPDIR` with) gigabytes its model does not need.
enum KerasDeclaredSize {
    /// Bytes per element at most (float64).
    static let maxElementBytes = 8
    /// Weights plus optimizer state (Adam keeps two slots per weight; one more for slack).
    static let optimizerFactor = 4
    /// HDF5 structure (superblock, groups, attributes, chunk indexes) allowed on top of the data.
    static let overheadBytes = 1 << 20

    /// The largest element count any one tensor of `layer` may have, given the features it receives (or
    /// ``ModelLimits/maxSize`` when the config does not say). `nil` when the layer declares no sizes.
    static func maxTensorElements(of layer: KerasLayerConfig, inputFeatures: Int?) -> Int? {
        let input = min(inputFeatures ?? ModelLimits.maxSize, ModelLimits.maxSize)
        switch try? KerasLayerKind.classify(layer) {
        case .embedding?:
            guard let vocabulary = layer.config["input_dim"]?.int, let width = layer.config["output_dim"]?.int,
                vocabulary >= 0, width >= 0
            else { return nil }
            return product(vocabulary, width)
        case .dense?:
            guard let units = units(of: layer) else { return nil }
            return product(units, input + 1)
        case .recurrent?, .rnnWrapper?:
            guard let units = units(of: layer) else { return nil }
            return product(4 * units, max(input, units, 2))
        case .bidirectional?:
            guard let inner = try? KerasBidirectional.innerLayers(of: layer) else { return nil }
            let sizes = inner.map { maxTensorElements(of: $0, inputFeatures: inputFeatures) }
            return sizes.contains(nil) ? nil : sizes.compactMap { $0 }.max()
        case .input?, .passThrough?, .activation?:
            return 0
        default:
            // A kind without a declared-size rule here (TimeDistributed, …): no bound beyond the global caps.
            return nil
        }
    }

    /// The largest `model.weights.h5` the config justifies: every weight of every layer at float64, times
    /// ``optimizerFactor``, plus ``overheadBytes``. `Int.max` when some layer declares no sizes.
    static func maxWeightFileBytes(_ config: KerasModelConfig) -> Int {
        var features = declaredInputFeatures(config)
        var total = 0
        for layer in config.layers {
            guard let largest = maxTensorElements(of: layer, inputFeatures: features) else { return Int.max }
            // A recurrent layer has three tensors (kernel, recurrent kernel, bias), bidirectional twice that.
            total = sum(total, product(largest, 6))
            if let output = outputFeatures(of: layer) { features = output }
        }
        return sum(product(product(total, maxElementBytes), optimizerFactor), overheadBytes)
    }

    /// The features each layer receives, by layer name, where the config says (the first layer's declared input
    /// shape, then each layer's declared output size); layers after one that does not say are absent.
    static func inputFeatures(_ config: KerasModelConfig) -> [String: Int] {
        var features = declaredInputFeatures(config)
        var result: [String: Int] = [:]
        for layer in config.layers {
            if let features { result[layer.name] = features }
            switch try? KerasLayerKind.classify(layer) {
            case .input?, .passThrough?, .activation?: continue
            default: features = outputFeatures(of: layer)
            }
        }
        return result
    }

    /// `units` of a layer or of its cell (`RNN(LSTMCell(…))`).
    static func units(of layer: KerasLayerConfig) -> Int? {
        let value = layer.config["units"]?.int ?? layer.config["cell"]?["config"]?["units"]?.int
        guard let value, value > 0, value <= ModelLimits.maxSize else { return nil }
        return value
    }

    /// The features a layer emits, when its config says.
    static func outputFeatures(of layer: KerasLayerConfig) -> Int? {
        switch try? KerasLayerKind.classify(layer) {
        case .embedding?: return layer.config["output_dim"]?.int
        case .dense?, .recurrent?, .rnnWrapper?: return units(of: layer)
        case .bidirectional?:
            guard let inner = try? KerasBidirectional.innerLayers(of: layer), let units = inner.compactMap(units(of:)).max() else { return nil }
            return 2 * units
        default: return nil
        }
    }

    /// The feature count of the model input, from the first layer's `batch_shape` / `batch_input_shape` /
    /// `input_shape` (last entry) or `input_dim`.
    static func declaredInputFeatures(_ config: KerasModelConfig) -> Int? {
        guard let first = config.layers.first else { return nil }
        for key in ["batch_shape", "batch_input_shape", "input_shape"] {
            if let last = first.config[key]?.array?.last?.int, last > 0 { return last }
        }
        if let dim = first.config["input_dim"]?.int, dim > 0 { return dim }
        return nil
    }

    private static func product(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow || value < 0 ? Int.max : value
    }

    private static func sum(_ a: Int, _ b: Int) -> Int {
        let (value, overflow) = a.addingReportingOverflow(b)
        return overflow ? Int.max : value
    }
}
