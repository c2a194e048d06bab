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
        public static let shapeMismatch = Code(kind: .shapeMismatch)
        public static let missingTensor = Code(kind: .missingTensor)
        public static let unexpectedTensor = Code(kind: .unexpectedTensor)
        public static let invalidHyperparameter = Code(kind: .invalidHyperparameter)
        public static let byteCountMismatch = Code(kind: .byteCountMismatch)
        public static let missingAttribute = Code(kind: .missingAttribute)
        public static let wrongAttributeType = Code(kind: .wrongAttributeType)
        public static let invalidAttributeValue = Code(kind: .invalidAttributeValue)
        public static let invalidName = Code(kind: .invalidName)
        public var description: String { kind.rawValue }
    }

    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// Where: a tensor path such as `layer_0/forward/W_n`, or an attribute key.
    public var keyPath: String?
    public var expectedShape: [Int]?
    public var actualShape: [Int]?

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
