import LSTMErrors
/// The error every model-level check throws: a stable ``Code`` plus the context that locates the problem.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: ModelError(.shapeMismatch))`.
public struct ModelError: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case shapeMismatch = "shape mismatch"
            case missingTensor = "missing tensor"
            case unexpectedTensor = "unexpected tensor"
            case invalidHyperparameter = "invalid hyperparameter"
            case byteCountMismatch = "byte count mismatch"
            case missingAttribute = "missing attribute"
            case wrongAttributeType = "wrong attribute type"
            case invalidAttributeValue = "invalid attribute value"
            case invalidName = "invalid tensor name"
        }
        let kind: Kind
        /// A tensor's shape disagrees with the hyperparameters.
        public static let shapeMismatch = Code(kind: .shapeMismatch)
        /// A tensor the hyperparameters require is absent.
        public static let missingTensor = Code(kind: .missingTensor)
        /// A tensor the hyperparameters do not use is present.
        public static let unexpectedTensor = Code(kind: .unexpectedTensor)
        /// A size, count or option is out of range or inconsistent.
        public static let invalidHyperparameter = Code(kind: .invalidHyperparameter)
        /// A tensor's byte count disagrees with its shape and dtype.
        public static let byteCountMismatch = Code(kind: .byteCountMismatch)
        /// A required attribute is absent.
        public static let missingAttribute = Code(kind: .missingAttribute)
        /// An attribute has the wrong type.
        public static let wrongAttributeType = Code(kind: .wrongAttributeType)
        /// An attribute's value is not allowed.
        public static let invalidAttributeValue = Code(kind: .invalidAttributeValue)
        /// A tensor name is not a document path.
        public static let invalidName = Code(kind: .invalidName)
        public var description: String { kind.rawValue }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// Where: a tensor path such as `layer_0/forward/W_n`, or an attribute key.
    public var keyPath: String?
    /// The shape the model requires, for shape errors.
    public var expectedShape: [Int]?
    /// The shape found, for shape errors.
    public var actualShape: [Int]?

    /// Creates an error with its code, message and location.
    public init(
        _ code: Code, _ message: String = "", keyPath: String? = nil,
        expectedShape: [Int]? = nil, actualShape: [Int]? = nil
    ) {
        self.code = code
        self.message = message
        self.keyPath = keyPath
        self.expectedShape = expectedShape
        self.actualShape = actualShape
    }

    public static func == (lhs: ModelError, rhs: ModelError) -> Bool { lhs.code == rhs.code }

}

extension ModelError {
    public var codeName: String { code.description }
    /// Model errors concern a model in memory; the caller that read it names the file.
    public var file: String? { nil }
    public var location: String? { keyPath }
    public var expected: String? { expectedShape.map { "shape \($0)" } }
    public var found: String? { actualShape.map { "shape \($0)" } }
}
