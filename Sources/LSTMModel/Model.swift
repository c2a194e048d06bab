import CLSTMBuildInfo
/// Where a model came from. Written into every file; never includes a timestamp.
public struct Provenance: Sendable, Equatable {
    /// `keras`, `pytorch`, `onnx`, `tf1`, `lstmconv` (built in code), …
    public var sourceFramework: String
    /// The framework's version as the source file states it, e.g. `3.15.1`.
    public var sourceFrameworkVersion: String
    /// The source layout, e.g. `keras.lstm.kernel_in_x_4h.ifco`, `pytorch.lstm.ifgo.two_bias`.
    public var sourceLayout: String
    /// Lowercase hex SHA-256 of the source file, empty when there was none.
    public var sourceSHA256: String
    /// The converter that wrote the first document file, e.g. `lstmconv 0.1.0`.
    public var converter: String
    /// The precision the source framework computes in when it is not float32 (`float16` for a Keras
    /// `float16`/`mixed_float16` dtype policy), else empty. lstmconv always runs float32/float64.
    public var sourceComputeDType: String = ""

    /// Provenance of a model; the defaults describe a model built in code.
    public init(
        sourceFramework: String = "lstmconv", sourceFrameworkVersion: String = "",
        sourceLayout: String = "document", sourceSHA256: String = "", converter: String = FormatVersion.converter
    ) {
        self.sourceFramework = sourceFramework
        self.sourceFrameworkVersion = sourceFrameworkVersion
        self.sourceLayout = sourceLayout
        self.sourceSHA256 = sourceSHA256
        self.converter = converter
    }
}

/// Versions of the format and of the cell semantics (spec/README.md §1).
public enum FormatVersion {
    /// The format name stored in both encodings.
    public static let formatName = "lstmconv"
    /// Container major: a reader refuses a newer major.
    public static let major: UInt16 = 1
    /// Container minor: additions an older reader of the same major may ignore.
    public static let minor: UInt16 = 0
    /// Version of the cell semantics (equations, tensor roles, attribute meanings) of a model that uses none of
    /// schema 2's additions; such a model is written as schema 1, byte for byte as before.
    public static let schemaVersion: Int64 = 1
    /// The newest schema this reader understands. Schema 2 adds the `rnn` kind, `final_output`, the masking keys
    /// (`mask_zero`, `mask_value`, `masked_output`), `time_major` and `stateful` (spec/README.md §1).
    public static let latestSchemaVersion: Int64 = 2
    /// This converter's name and version, recorded in provenance: `lstmconv <VERSION>` (the repository's `VERSION` file).
    public static let converter = "lstmconv " + version
    /// The repository's `VERSION` file, compiled in by the `CLSTMBuildInfo` target.
    public static let version = String(cString: lstmconv_version_file()).split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
}

extension Model {
    /// The schema a file of this model declares: 2 when it uses an addition of schema 2 that an older reader must
    /// not ignore (it would compute something else), else 1.
    public var schemaVersion: Int64 {
        for layer in layers {
            switch layer {
            case .embedding(let embedding) where embedding.maskZero: return 2
            case .recurrent(let r)
            where r.cell == .rnn || (!r.returnSequences && r.finalOutput != .finalState) || r.maskValue != nil
                || r.maskedOutput != .previous || r.timeMajor || r.stateful:
                return 2
            default: continue
            }
        }
        return FormatVersion.schemaVersion
    }
}

/// A recurrent model: an ordered chain of layers plus provenance.
public struct Model: Sendable, Equatable {
    /// The layers, input first.
    public var layers: [Layer]
    /// Where the model came from.
    public var provenance: Provenance

    /// A model from its layers.
    public init(layers: [Layer], provenance: Provenance = Provenance()) {
        self.layers = layers
        self.provenance = provenance
    }

    /// Every tensor the schema requires, in canonical (file) order.
    public var expectedSlots: [TensorSlot] {
        layers.enumerated().flatMap { index, layer in layer.expectedSlots(layerIndex: index) }
    }

    /// Every stored tensor with its slot and source name, in canonical (file) order.
    public var storedTensors: [(slot: TensorSlot, tensor: Tensor, source: String?)] {
        var result: [(TensorSlot, Tensor, String?)] = []
        for (index, layer) in layers.enumerated() {
            let sets = layer.parameterSets
            for slot in layer.expectedSlots(layerIndex: index) {
                let setIndex = slot.direction == .backward ? 1 : 0
                guard setIndex < sets.count, let tensor = sets[setIndex].parameters.tensors[slot.role] else { continue }
                result.append((slot, tensor, sets[setIndex].parameters.sources[slot.role]))
            }
        }
        return result
    }
}

extension Model {
    /// The same model with every tensor stored as `dtype` (rounding to nearest even when narrowing).
    public func converted(to dtype: DType) -> Model {
        var copy = self
        for index in copy.layers.indices {
            switch copy.layers[index] {
            case .embedding(var layer):
                layer.parameters.tensors = layer.parameters.tensors.mapValues { $0.converted(to: dtype) }
                copy.layers[index] = .embedding(layer)
            case .dense(var layer):
                layer.parameters.tensors = layer.parameters.tensors.mapValues { $0.converted(to: dtype) }
                copy.layers[index] = .dense(layer)
            case .recurrent(var layer):
                layer.directions = layer.directions.map { set in
                    var set = set
                    set.tensors = set.tensors.mapValues { $0.converted(to: dtype) }
                    return set
                }
                copy.layers[index] = .recurrent(layer)
            }
        }
        return copy
    }
}
