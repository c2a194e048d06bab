import LSTMModel

/// What an importer produced: the model plus everything the `import` summary prints.
public struct ImportResult: Sendable {
    /// The imported model, validated.
    public var model: Model
    /// One line per layer, e.g. `lstm (keras LSTM "lstm_1"): I=3 H=8, gates i,f,c,o → W_i,W_f,W_n,W_v`.
    public var layerSummaries: [String]
    /// Every source tensor (or slice) and the document tensor path it became.
    public var tensorMap: [(source: String, document: String)]
    /// Source keys that were not used (never silently dropped).
    public var ignoredKeys: [String]
    /// Non-fatal remarks.
    public var notes: [String]
    /// Source tensors the model's topology could have used (an embedding, a head) that were not imported, each
    /// saying which option keeps it.
    public var warnings: [String]

    /// A result from the model and what the importer reports about it.
    public init(
        model: Model, layerSummaries: [String] = [], tensorMap: [(source: String, document: String)] = [], ignoredKeys: [String] = [],
        notes: [String] = [], warnings: [String] = []
    ) {
        self.model = model
        self.layerSummaries = layerSummaries
        self.tensorMap = tensorMap
        self.ignoredKeys = ignoredKeys
        self.notes = notes
        self.warnings = warnings
    }

    /// Builds the tensor map from the model's recorded source names.
    public static func tensorMap(of model: Model) -> [(source: String, document: String)] {
        model.storedTensors.map { (source: $0.source ?? "", document: $0.slot.path) }
    }
}
