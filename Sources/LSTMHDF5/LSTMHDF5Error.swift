import HDF5Bridge
import LSTMModel
import LSTMErrors

/// The error the HDF5 encoding's reader and writer throw: a stable ``Code`` plus the context that
/// locates the problem (file, key path, expected vs found, HDF5's error stack).
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: LSTMHDF5Error(.checksumMismatch))`.
public struct LSTMHDF5Error: LSTMConvError, Equatable {
    /// A stable, comparable error kind.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case fileNotFound = "file not found"
            case fileExists = "file exists"
            case notHDF5 = "not an HDF5 file"
            case truncated = "truncated file"
            case hdf5Failure = "HDF5 error"
            case missingFormat = "not an lstmconv file"
            case wrongFormat = "wrong format"
            case unsupportedVersion = "unsupported version"
            case missingAttribute = "missing attribute"
            case wrongAttributeType = "wrong attribute type"
            case invalidAttributeValue = "invalid attribute value"
            case missingGroup = "missing group"
            case wrongDatatype = "wrong datatype"
            case shapeMismatch = "shape mismatch"
            case missingTensor = "missing tensor"
            case unexpectedTensor = "unexpected tensor"
            case checksumMismatch = "checksum mismatch"
            case softLink = "soft link"
            case externalLink = "external link"
            case externalStorage = "external storage"
            case unsupportedStorage = "unsupported storage"
            case invalidModel = "invalid model"
            case io = "I/O error"
        }
        let kind: Kind
        /// No readable file at the path.
        public static let fileNotFound = Code(kind: .fileNotFound)
        /// The output exists and `overwrite` was not given.
        public static let fileExists = Code(kind: .fileExists)
        /// The file has no HDF5 signature.
        public static let notHDF5 = Code(kind: .notHDF5)
        /// The file is shorter than its HDF5 superblock says.
        public static let truncated = Code(kind: .truncated)
        /// libhdf5 failed; ``LSTMHDF5Error/hdf5Stack`` holds its explanation.
        public static let hdf5Failure = Code(kind: .hdf5Failure)
        /// The root has no `format` attribute: an HDF5 file, but not one of ours.
        public static let missingFormat = Code(kind: .missingFormat)
        /// The `format` attribute names another format.
        public static let wrongFormat = Code(kind: .wrongFormat)
        /// A newer `format_major` or `schema_version` than this reader supports.
        public static let unsupportedVersion = Code(kind: .unsupportedVersion)
        /// A required attribute is absent.
        public static let missingAttribute = Code(kind: .missingAttribute)
        /// An attribute stored with an HDF5 type other than the schema type's (spec/hdf5.md, attribute types).
        public static let wrongAttributeType = Code(kind: .wrongAttributeType)
        /// An attribute has the right type but a value the schema does not allow.
        public static let invalidAttributeValue = Code(kind: .invalidAttributeValue)
        /// A `layer_<k>` group (or a direction group) is absent.
        public static let missingGroup = Code(kind: .missingGroup)
        /// A dataset's HDF5 type is not the IEEE float of its `dtype` (integer, compound, vlen, other size or layout).
        public static let wrongDatatype = Code(kind: .wrongDatatype)
        /// A dataset's shape disagrees with the hyperparameters.
        public static let shapeMismatch = Code(kind: .shapeMismatch)
        /// A dataset the hyperparameters require is absent.
        public static let missingTensor = Code(kind: .missingTensor)
        /// A dataset the hyperparameters do not use is present.
        public static let unexpectedTensor = Code(kind: .unexpectedTensor)
        /// A dataset's data does not match its stored `crc32`.
        public static let checksumMismatch = Code(kind: .checksumMismatch)
        /// A soft link (refused: it can point anywhere, or nowhere).
        public static let softLink = Code(kind: .softLink)
        /// An external or user-defined link (refused: it leaves the file).
        public static let externalLink = Code(kind: .externalLink)
        /// A dataset whose raw data lives in other files (refused).
        public static let externalStorage = Code(kind: .externalStorage)
        /// A virtual dataset, a filter this libhdf5 lacks, or stored bytes that cannot hold the shape.
        public static let unsupportedStorage = Code(kind: .unsupportedStorage)
        /// The decoded model fails validation (``LSTMHDF5Error/modelError`` says why).
        public static let invalidModel = Code(kind: .invalidModel)
        /// Creating, renaming or removing a file failed.
        public static let io = Code(kind: .io)

        public var description: String { kind.rawValue }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// The HDF5 file concerned.
    public var file: String?
    /// Where in the file: a tensor path (`layer_0/forward/W_n`), an attribute (`layer_0/hidden_size`,
    /// `layer_0/forward/W_n@crc32`) or a group.
    public var keyPath: String?
    public var expected: String?
    public var found: String?
    /// HDF5's error stack, when libhdf5 reported the problem.
    public var hdf5Stack: [String]
    /// The model-level error this one wraps, if any.
    public var modelError: ModelError?

    /// Creates an error with its code, message and the context that locates it.
    public init(
        _ code: Code, _ message: String = "", file: String? = nil, keyPath: String? = nil,
        expected: String? = nil, found: String? = nil, hdf5Stack: [String] = [], modelError: ModelError? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.keyPath = keyPath
        self.expected = expected
        self.found = found
        self.hdf5Stack = hdf5Stack
        self.modelError = modelError
    }

    public static func == (lhs: LSTMHDF5Error, rhs: LSTMHDF5Error) -> Bool { lhs.code == rhs.code }

    /// ``description`` followed by HDF5's error stack, one indented line per entry.
    public var detailedDescription: String {
        ([description] + hdf5Stack.map { "  " + $0 }).joined(separator: "\n")
    }
}

extension LSTMHDF5Error {
    /// Translates a bridge error, keeping its stack; `keyPath` is the file-relative object path.
    init(_ error: HDF5Error, file: String) {
        let code: Code =
            switch error.code {
            case .fileNotFound: .fileNotFound
            case .fileExists: .fileExists
            case .notHDF5: .notHDF5
            case .truncated: .truncated
            case .softLink: .softLink
            case .externalLink, .userDefinedLink: .externalLink
            case .externalStorage: .externalStorage
            case .virtualDataset, .unavailableFilter, .missingData: .unsupportedStorage
            case .wrongType: .wrongDatatype
            case .wrongShape: .shapeMismatch
            case .invalidString: .invalidAttributeValue
            case .notFound: .missingTensor
            case .wrongObjectType: .unexpectedTensor
            default: .hdf5Failure
            }
        let keyPath = error.objectPath.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
        var message = error.message
        if let call = error.call { message += message.isEmpty ? "\(call) failed" : " (\(call) failed)" }
        self.init(code, message, file: file, keyPath: keyPath, hdf5Stack: error.stack)
    }

    /// Translates a model-level error, keeping its code where both modules have one.
    package init(_ error: ModelError, file: String?) {
        let code: Code =
            switch error.code {
            case .missingAttribute: .missingAttribute
            case .wrongAttributeType: .wrongAttributeType
            case .invalidAttributeValue: .invalidAttributeValue
            case .shapeMismatch: .shapeMismatch
            case .missingTensor: .missingTensor
            case .unexpectedTensor: .unexpectedTensor
            default: .invalidModel
            }
        self.init(
            code, error.message, file: file, keyPath: error.keyPath,
            expected: error.expectedShape.map { "shape \($0)" }, found: error.actualShape.map { "shape \($0)" },
            modelError: error)
    }
}

extension LSTMHDF5Error {
    public var codeName: String { code.description }
    public var location: String? { keyPath }
    public var failureKind: FailureKind {
        switch code {
        case .fileExists, .io: .cannotWrite
        case .fileNotFound: .noSuchFile
        default: .badInput
        }
    }
}
