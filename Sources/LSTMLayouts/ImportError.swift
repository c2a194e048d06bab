import LSTMErrors
/// The error every importer throws: a stable ``Code`` plus the file, layer or dataset, and expected vs found.
public struct ImportError: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The file is not a kind any importer reads.
        public static let unrecognizedSource = Code(name: "unrecognized source")
        /// A container (zip, HDF5, pickle, safetensors header) is malformed or truncated.
        public static let malformedSource = Code(name: "malformed source")
        /// Architecture information is missing (e.g. no `model_config`, no `config.json`).
        public static let missingConfig = Code(name: "missing config")
        /// A layer or module kind the importer cannot represent.
        public static let unsupportedLayer = Code(name: "unsupported layer")
        /// The model is not a single chain (branches, several candidate modules, …).
        public static let unsupportedTopology = Code(name: "unsupported topology")
        /// A required weight is absent.
        public static let missingTensor = Code(name: "missing tensor")
        /// A weight's shape disagrees with the layer's configuration.
        public static let shapeMismatch = Code(name: "shape mismatch")
        /// A dtype the format cannot hold.
        public static let unsupportedDType = Code(name: "unsupported dtype")
        /// A pickle asked for a global or call outside the allow-list. Nothing was executed.
        public static let forbiddenPickle = Code(name: "forbidden pickle content")
        /// An archive entry would expand beyond the limit (zip bomb).
        public static let archiveLimit = Code(name: "archive limit exceeded")
        /// Several recurrent modules match and none was chosen.
        public static let ambiguousModule = Code(name: "ambiguous module")
        /// No recurrent weights were found.
        public static let noRecurrentWeights = Code(name: "no recurrent weights")
        /// The imported model failed semantic validation.
        public static let invalidModel = Code(name: "invalid model")
        /// `--from` names a format the file's content is not (a `.pt` read `--from safetensors`).
        public static let sourceFormatMismatch = Code(name: "source format mismatch")
        /// A temporary file (in `$TMPDIR`) could not be created or written: not a fault of the input.
        public static let temporaryStorage = Code(name: "temporary storage unavailable")
        public var description: String { name }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// The source file.
    public var file: String?
    /// The layer, module, dataset, key or tensor concerned.
    public var place: String?
    /// Byte offset, for container formats.
    public var offset: Int?

    /// Creates an error with its code, message and the context that locates it.
    public init(_ code: Code, _ message: String, file: String? = nil, location: String? = nil, offset: Int? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.place = location
        self.offset = offset
    }

    public static func == (lhs: ImportError, rhs: ImportError) -> Bool { lhs.code == rhs.code }

    /// The same error with the file filled in (if not already set).
    public func inFile(_ path: String) -> ImportError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

}

extension ImportError {
    public var codeName: String { code.description }
    /// A temporary folder that cannot be written is not the input's fault (CLI exit 73); everything else is.
    public var failureKind: FailureKind { code == .temporaryStorage ? .cannotWrite : .badInput }
    public var location: String? { renderLocation(("", place), ("offset", offset.map(String.init))) }
}
