import LSTMModel
import LSTMErrors

/// The error every `.lstmw` read or write throws: a stable ``Code`` plus the context that locates the problem.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: BinaryFormatError(.badMagic))`.
public struct BinaryFormatError: LSTMConvError, Equatable {
    /// A stable, comparable error kind. spec/binary.md §8 lists every code with the rule that raises it.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case cannotRead = "cannot read file"
            case cannotWrite = "cannot write file"
            case fileExists = "file exists"
            case truncated = "truncated file"
            case badMagic = "bad magic"
            case bigEndian = "big-endian file"
            case badByteOrderMark = "bad byte-order mark"
            case unsupportedVersion = "unsupported format version"
            case unknownRequiredFeature = "unknown required feature"
            case invalidHeaderLength = "invalid header length"
            case headerChecksumMismatch = "header checksum mismatch"
            case truncatedHeader = "truncated header"
            case headerTrailingBytes = "trailing bytes in header"
            case invalidEntryCount = "invalid metadata entry count"
            case invalidKey = "invalid metadata key"
            case duplicateKey = "duplicate metadata key"
            case unknownValueType = "unknown metadata value type"
            case invalidValue = "invalid metadata value"
            case invalidTensorCount = "invalid tensor count"
            case invalidTensorName = "invalid tensor name"
            case duplicateTensor = "duplicate tensor"
            case unknownDType = "unknown dtype"
            case invalidRank = "invalid rank"
            case invalidShape = "invalid shape"
            case shapeOverflow = "shape overflow"
            case byteCountMismatch = "byte count mismatch"
            case invalidSourceName = "invalid source name"
            case misalignedOffset = "misaligned tensor offset"
            case tensorOverlap = "overlapping tensors"
            case tensorGap = "gap between tensors"
            case trailingBytes = "trailing bytes"
            case nonZeroPadding = "non-zero padding"
            case tensorChecksumMismatch = "tensor checksum mismatch"
            case formatMismatch = "format metadata mismatch"
            case unsupportedSchemaVersion = "unsupported schema version"
            case missingTensor = "missing tensor"
            case unexpectedTensor = "unexpected tensor"
            case shapeMismatch = "shape mismatch"
            case invalidModel = "invalid model"
            case nonCanonicalOrder = "non-canonical tensor order"
        }
        let kind: Kind

        /// The file could not be opened or mapped.
        public static let cannotRead = Code(kind: .cannotRead)
        /// Creating, writing or renaming the output file failed.
        public static let cannotWrite = Code(kind: .cannotWrite)
        /// The target exists and `overwrite` was not set.
        public static let fileExists = Code(kind: .fileExists)
        /// The file ends before the preamble, header, data section or a tensor does.
        public static let truncated = Code(kind: .truncated)
        /// The first 8 bytes are not the `.lstmw` signature (the message names 7-bit and line-ending damage).
        public static let badMagic = Code(kind: .badMagic)
        /// The byte-order mark reads `01 02 03 04`: a big-endian file, which format 1 does not define.
        public static let bigEndian = Code(kind: .bigEndian)
        /// The byte-order mark is neither little- nor big-endian.
        public static let badByteOrderMark = Code(kind: .badByteOrderMark)
        /// Major version 0 or newer than this reader supports.
        public static let unsupportedVersion = Code(kind: .unsupportedVersion)
        /// A required-feature flag bit this reader does not know is set.
        public static let unknownRequiredFeature = Code(kind: .unknownRequiredFeature)
        /// Header length 0 or above the cap.
        public static let invalidHeaderLength = Code(kind: .invalidHeaderLength)
        /// The header CRC-32 does not match.
        public static let headerChecksumMismatch = Code(kind: .headerChecksumMismatch)
        /// A metadata entry or directory entry runs past the end of the header.
        public static let truncatedHeader = Code(kind: .truncatedHeader)
        /// Bytes remain in the header after the tensor directory.
        public static let headerTrailingBytes = Code(kind: .headerTrailingBytes)
        /// The metadata entry count exceeds the cap.
        public static let invalidEntryCount = Code(kind: .invalidEntryCount)
        /// A metadata key is empty, too long or uses a character outside `[A-Za-z0-9._-]`.
        public static let invalidKey = Code(kind: .invalidKey)
        /// Two metadata entries share a key.
        public static let duplicateKey = Code(kind: .duplicateKey)
        /// A metadata value type code is not 1–4.
        public static let unknownValueType = Code(kind: .unknownValueType)
        /// A bool byte other than 0/1, or a string that is not UTF-8 or is too long.
        public static let invalidValue = Code(kind: .invalidValue)
        /// Tensor count 0 or above the cap.
        public static let invalidTensorCount = Code(kind: .invalidTensorCount)
        /// A tensor path is empty, too long or uses a character outside `[A-Za-z0-9_/]`.
        public static let invalidTensorName = Code(kind: .invalidTensorName)
        /// Two directory entries share a path.
        public static let duplicateTensor = Code(kind: .duplicateTensor)
        /// A dtype code outside f32 (1), f16 (2), bf16 (3), f64 (4).
        public static let unknownDType = Code(kind: .unknownDType)
        /// Rank 0 or above the cap.
        public static let invalidRank = Code(kind: .invalidRank)
        /// A dimension of 0.
        public static let invalidShape = Code(kind: .invalidShape)
        /// A dimension, the element count or the byte size does not fit a signed 64-bit integer.
        public static let shapeOverflow = Code(kind: .shapeOverflow)
        /// `nbytes` differs from the element count times the dtype width.
        public static let byteCountMismatch = Code(kind: .byteCountMismatch)
        /// A source name that is too long or not UTF-8.
        public static let invalidSourceName = Code(kind: .invalidSourceName)
        /// A tensor offset that is not a multiple of 64.
        public static let misalignedOffset = Code(kind: .misalignedOffset)
        /// A tensor starts before the previous one (plus its padding) ends.
        public static let tensorOverlap = Code(kind: .tensorOverlap)
        /// A tensor starts after the padding that follows the previous one.
        public static let tensorGap = Code(kind: .tensorGap)
        /// Bytes after the last tensor.
        public static let trailingBytes = Code(kind: .trailingBytes)
        /// A padding byte that is not zero.
        public static let nonZeroPadding = Code(kind: .nonZeroPadding)
        /// A tensor's CRC-32 does not match its bytes.
        public static let tensorChecksumMismatch = Code(kind: .tensorChecksumMismatch)
        /// `format`, `format_major` or `format_minor` is absent, mistyped or disagrees with the preamble.
        public static let formatMismatch = Code(kind: .formatMismatch)
        /// `schema_version` is absent, mistyped, below 1 or newer than this reader's cell semantics.
        public static let unsupportedSchemaVersion = Code(kind: .unsupportedSchemaVersion)
        /// The hyperparameters require a tensor the directory lacks.
        public static let missingTensor = Code(kind: .missingTensor)
        /// The directory holds a tensor the hyperparameters do not use.
        public static let unexpectedTensor = Code(kind: .unexpectedTensor)
        /// A tensor's shape disagrees with the hyperparameters.
        public static let shapeMismatch = Code(kind: .shapeMismatch)
        /// Any other semantic failure (missing or mistyped attribute, bad hyperparameter); see `underlying`.
        public static let invalidModel = Code(kind: .invalidModel)
        /// The directory does not list the tensors in canonical order.
        public static let nonCanonicalOrder = Code(kind: .nonCanonicalOrder)

        public var description: String { kind.rawValue }
    }

    /// The error's stable kind; errors compare equal by code.
    public var code: Code
    /// A one-line explanation for the user.
    public var message: String
    /// The file being read or written, when known.
    public var file: String?
    /// Absolute byte offset in the file where the problem was found.
    public var offset: Int?
    /// The metadata key involved.
    public var key: String?
    /// The tensor path involved, e.g. `layer_0/forward/W_n`.
    public var tensor: String?
    /// What the format requires.
    public var expected: String?
    /// What the file holds.
    public var found: String?
    /// The semantic error, when the model rebuilt from the file did not validate.
    public var underlying: ModelError?

    /// Creates an error with its code, message and the context that locates it.
    public init(
        _ code: Code, _ message: String = "", file: String? = nil, offset: Int? = nil, key: String? = nil,
        tensor: String? = nil, expected: String? = nil, found: String? = nil, underlying: ModelError? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.key = key
        self.tensor = tensor
        self.expected = expected
        self.found = found
        self.underlying = underlying
    }

    public static func == (lhs: BinaryFormatError, rhs: BinaryFormatError) -> Bool { lhs.code == rhs.code }

    /// The same error with `file` set, unless it already names one.
    func with(file path: String?) -> BinaryFormatError {
        var copy = self
        if copy.file == nil { copy.file = path }
        return copy
    }

    /// Wraps a semantic error, keeping its kind where the binary format has a matching code.
    package init(model error: ModelError, file: String?) {
        let code: Code
        switch error.code {
        case .missingTensor: code = .missingTensor
        case .unexpectedTensor: code = .unexpectedTensor
        case .shapeMismatch: code = .shapeMismatch
        default: code = .invalidModel
        }
        let isTensor = code != .invalidModel
        self.init(
            code, error.message.isEmpty ? "\(error.code)" : error.message, file: file,
            key: isTensor ? nil : error.keyPath, tensor: isTensor ? error.keyPath : nil,
            expected: error.expectedShape.map { "shape \($0)" }, found: error.actualShape.map { "shape \($0)" },
            underlying: error)
    }
}

extension BinaryFormatError {
    public var codeName: String { code.description }
    public var location: String? {
        renderLocation(("offset", offset.map(String.init)), ("key", key), ("tensor", tensor))
    }
    public var failureKind: FailureKind {
        switch code {
        case .fileExists, .cannotWrite: .cannotWrite
        case .cannotRead: .noSuchFile
        default: .badInput
        }
    }
}
