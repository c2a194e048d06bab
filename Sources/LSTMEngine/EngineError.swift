import LSTMModel
import LSTMErrors

/// The error every engine entry point throws: a stable ``Code`` plus the context that locates the problem.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: EngineError(.tokenOutOfRange))`.
public struct EngineError: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case invalidModel = "invalid model"
            case invalidInput = "invalid input"
            case tokenOutOfRange = "token id out of range"
            case invalidState = "invalid initial state"
            case shapeMismatch = "shape mismatch"
        }
        let kind: Kind
        /// The model failed validation (missing tensor, wrong shape, bad hyperparameter).
        public static let invalidModel = Code(kind: .invalidModel)
        /// The input array does not fit the model (rank, feature count, dtype).
        public static let invalidInput = Code(kind: .invalidInput)
        /// An embedding received a token id outside `0 ..< vocabularySize`.
        public static let tokenOutOfRange = Code(kind: .tokenOutOfRange)
        /// An initial state has the wrong shape or names a layer or direction the model lacks.
        public static let invalidState = Code(kind: .invalidState)
        /// An array's element count disagrees with its shape.
        public static let shapeMismatch = Code(kind: .shapeMismatch)
        public var description: String { kind.rawValue }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// Where: a layer (`layer_1`), a state name (`layer_0/backward/LTM`) or a tensor path.
    public var keyPath: String?
    /// The shape the model requires, for shape errors.
    public var expectedShape: [Int]?
    /// The shape found, for shape errors.
    public var actualShape: [Int]?
    /// The model error behind an ``Code/invalidModel`` error.
    public var underlying: ModelError?

    /// Creates an error with its code, message and the context that locates it.
    public init(
        _ code: Code, _ message: String = "", keyPath: String? = nil,
        expectedShape: [Int]? = nil, actualShape: [Int]? = nil, underlying: ModelError? = nil
    ) {
        self.code = code
        self.message = message
        self.keyPath = keyPath
        self.expectedShape = expectedShape
        self.actualShape = actualShape
        self.underlying = underlying
    }

    public static func == (lhs: EngineError, rhs: EngineError) -> Bool { lhs.code == rhs.code }

}

extension EngineError {
    public var codeName: String { code.description }
    /// Engine errors concern arrays in memory; the caller that read them names the file.
    public var file: String? { nil }
    public var location: String? { keyPath }
    public var expected: String? { expectedShape.map { "shape \($0)" } }
    public var found: String? { actualShape.map { "shape \($0)" } }
}
