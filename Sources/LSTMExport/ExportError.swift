import LSTMErrors
/// The error every exporter throws: a stable ``Code`` plus the layer, tensor or key and the file concerned.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: ExportError(.notExpressible))`.
public struct ExportError: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case notExpressible = "not expressible"
            case invalidName = "invalid name"
            case invalidModel = "invalid model"
            case outputExists = "output exists"
            case cannotWrite = "cannot write"
        }
        let kind: Kind
        /// The model uses something the target framework cannot represent (a peephole, a clip, `go_backwards`, …).
        public static let notExpressible = Code(kind: .notExpressible)
        /// A key or module prefix is empty, malformed or used twice.
        public static let invalidName = Code(kind: .invalidName)
        /// The model fails validation or a tensor disagrees with its layer.
        public static let invalidModel = Code(kind: .invalidModel)
        /// The output exists and overwriting was not allowed.
        public static let outputExists = Code(kind: .outputExists)
        /// The output (or its temporary file) cannot be created, written or moved into place.
        public static let cannotWrite = Code(kind: .cannotWrite)
        public var description: String { kind.rawValue }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation: what the model has and why the target cannot hold it.
    public var message: String
    /// The output file.
    public var file: String?
    /// The model layer concerned (`layer_<k>` in the schema).
    public var layer: Int?
    /// The attribute, tensor or key concerned, e.g. `merge_mode`, `W_u`, `rnn.weight_ih_l0`.
    public var place: String?

    /// Creates an error with its code, message and the context that locates it.
    public init(_ code: Code, _ message: String = "", file: String? = nil, layer: Int? = nil, location: String? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.layer = layer
        self.place = location
    }

    public static func == (lhs: ExportError, rhs: ExportError) -> Bool { lhs.code == rhs.code }

    /// The same error with the file filled in (if not already set).
    public func inFile(_ path: String) -> ExportError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

}

extension ExportError {
    public var codeName: String { code.description }
    public var location: String? {
        let joined = [layer.map { "layer_\($0)" }, place].compactMap { $0 }.joined(separator: "/")
        return joined.isEmpty ? nil : joined
    }
}
