import AtomicFileIO
import LSTMErrors
/// The error every NumPyIO reader and writer throws: a stable ``Code`` plus the context that locates the problem.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: NumPyError(.fortranOrder))`.
public struct NumPyError: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case badMagic = "not a .npy file"
            case unsupportedVersion = "unsupported .npy version"
            case badHeader = "bad .npy header"
            case fortranOrder = "Fortran-order array"
            case unsupportedDType = "unsupported dtype"
            case truncated = "truncated data"
            case shapeMismatch = "shape mismatch"
            case badArchive = "bad .npz archive"
            case missingEntry = "missing .npz entry"
            case fileExists = "file exists"
            case io = "I/O error"
            case noSuchFile = "no such file"
        }
        let kind: Kind
        /// The file does not start with `\x93NUMPY`.
        public static let badMagic = Code(kind: .badMagic)
        /// A format version other than 1.0, 2.0 or 3.0.
        public static let unsupportedVersion = Code(kind: .unsupportedVersion)
        /// The header dictionary is malformed, or lacks `descr`, `fortran_order` or `shape`.
        public static let badHeader = Code(kind: .badHeader)
        /// `fortran_order: True`: only C order is supported.
        public static let fortranOrder = Code(kind: .fortranOrder)
        /// A dtype other than f4, f8, i4, i8 (either byte order): object, structured, string, f2, …
        public static let unsupportedDType = Code(kind: .unsupportedDType)
        /// The data is shorter than the shape says.
        public static let truncated = Code(kind: .truncated)
        /// An array's element count disagrees with its shape.
        public static let shapeMismatch = Code(kind: .shapeMismatch)
        /// The `.npz` is not a readable zip, or an entry is not a `.npy`.
        public static let badArchive = Code(kind: .badArchive)
        /// A named array is not in the archive.
        public static let missingEntry = Code(kind: .missingEntry)
        /// The target exists and `overwrite` was false.
        public static let fileExists = Code(kind: .fileExists)
        /// Writing the file failed.
        public static let io = Code(kind: .io)
        /// The input file does not exist, is a folder or cannot be opened for reading.
        public static let noSuchFile = Code(kind: .noSuchFile)
        public var description: String { kind.rawValue }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// The file, or `archive.npz:entry.npy`.
    public var path: String?
    /// Byte offset of the problem inside the `.npy` data.
    public var offset: Int?
    /// The system or archive error behind an I/O or archive failure.
    public var underlying: (any Error & Sendable)?

    /// Creates an error with its code, message and the context that locates it.
    public init(
        _ code: Code, _ message: String = "", path: String? = nil, offset: Int? = nil,
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.offset = offset
        self.underlying = underlying
    }

    public static func == (lhs: NumPyError, rhs: NumPyError) -> Bool { lhs.code == rhs.code }

    /// The same error located in `path` (kept when already set).
    func located(_ path: String) -> NumPyError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }

}

extension NumPyError {
    /// Maps a failed atomic write onto `fileExists` or `io`.
    init(atomicWrite failure: AtomicFileError) {
        self.init(failure.kind == .exists ? .fileExists : .io, failure.message, path: failure.path)
    }
}

extension NumPyError {
    public var codeName: String { code.description }
    public var file: String? { path }
    public var location: String? { offset.map { "byte \($0)" } }
    public var found: String? { underlying.map { "\($0)" } }
    public var failureKind: FailureKind {
        switch code {
        case .fileExists, .io: .cannotWrite
        case .noSuchFile: .noSuchFile
        default: .badInput
        }
    }
}
