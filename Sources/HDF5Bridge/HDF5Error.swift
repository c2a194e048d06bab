/// The error every HDF5Bridge operation throws: a stable ``Code`` plus the context that locates the problem
/// (file, object path, the libhdf5 call) and the HDF5 error stack as text.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: HDF5Error(.softLink))`.
package struct HDF5Error: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, comparable error kind.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Kind: String, Sendable {
            case fileNotFound = "file not found"
            case notHDF5 = "not an HDF5 file"
            case truncated = "truncated HDF5 file"
            case fileExists = "file exists"
            case callFailed = "libhdf5 call failed"
            case notFound = "object not found"
            case wrongObjectType = "wrong object type"
            case softLink = "soft link"
            case externalLink = "external link"
            case userDefinedLink = "user-defined link"
            case externalStorage = "external storage"
            case virtualDataset = "virtual dataset"
            case unavailableFilter = "unavailable filter"
            case missingData = "dataset has no stored data"
            case wrongType = "wrong datatype"
            case wrongShape = "wrong shape"
            case invalidString = "invalid string"
            case invalidArgument = "invalid argument"
            case objectsStillOpen = "objects still open"
        }
        let kind: Kind
        /// The path does not exist or cannot be read.
        package static let fileNotFound = Code(kind: .fileNotFound)
        /// The file exists but has no HDF5 superblock.
        package static let notHDF5 = Code(kind: .notHDF5)
        /// The file ends before the end its superblock records, or a read ran past the end of the file.
        package static let truncated = Code(kind: .truncated)
        /// A file was to be created exclusively but the path exists.
        package static let fileExists = Code(kind: .fileExists)
        /// A libhdf5 call returned an error; ``HDF5Error/stack`` holds HDF5's own explanation.
        package static let callFailed = Code(kind: .callFailed)
        /// A group member, dataset or attribute is absent.
        package static let notFound = Code(kind: .notFound)
        /// A group was expected and a dataset found, or the other way round.
        package static let wrongObjectType = Code(kind: .wrongObjectType)
        /// A soft link: refused, since it can point anywhere (and may dangle).
        package static let softLink = Code(kind: .softLink)
        /// An external link: refused, since it leaves the file.
        package static let externalLink = Code(kind: .externalLink)
        /// A user-defined link class: refused.
        package static let userDefinedLink = Code(kind: .userDefinedLink)
        /// A dataset whose raw data is stored in other files: refused.
        package static let externalStorage = Code(kind: .externalStorage)
        /// A virtual dataset (its data is mapped from other datasets, possibly other files): refused.
        package static let virtualDataset = Code(kind: .virtualDataset)
        /// A chunked dataset needs a filter this libhdf5 does not have.
        package static let unavailableFilter = Code(kind: .unavailableFilter)
        /// A dataset's stored bytes do not match its shape (never written, or inconsistent storage).
        package static let missingData = Code(kind: .missingData)
        /// A datatype does not fit the requested read (integer, compound or vlen where floats are expected, …).
        package static let wrongType = Code(kind: .wrongType)
        /// A dataspace does not fit the requested read or write.
        package static let wrongShape = Code(kind: .wrongShape)
        /// A stored string is not valid UTF-8.
        package static let invalidString = Code(kind: .invalidString)
        /// A name or value handed to a write call is not acceptable.
        package static let invalidArgument = Code(kind: .invalidArgument)
        /// ``HDF5File/close()`` was called while groups, datasets or attributes of the file were still open.
        package static let objectsStillOpen = Code(kind: .objectsStillOpen)

        package var description: String { kind.rawValue }
    }

    package var code: Code
    /// A one-line explanation for the user.
    package var message: String
    /// The HDF5 file concerned.
    package var file: String?
    /// The object inside the file: `/layer_0/forward/W_n`, or `/layer_0@kind` for an attribute.
    package var objectPath: String?
    /// The libhdf5 function that failed, when one did.
    package var call: String?
    /// HDF5's error stack, innermost last, one line per entry (`H5Fopen(): unable to open file [File accessibility / …]`).
    package var stack: [String]

    package init(
        _ code: Code, _ message: String = "", file: String? = nil, objectPath: String? = nil,
        call: String? = nil, stack: [String] = []
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.objectPath = objectPath
        self.call = call
        self.stack = stack
    }

    package static func == (lhs: HDF5Error, rhs: HDF5Error) -> Bool { lhs.code == rhs.code }

    package var description: String {
        var text = "\(code)"
        if let objectPath { text += " at \(objectPath)" }
        if let file { text += " in \(file)" }
        if !message.isEmpty { text += ": \(message)" }
        if let call { text += " (\(call) failed)" }
        return text
    }

    /// ``description`` followed by the HDF5 error stack, one indented line per entry.
    package var detailedDescription: String {
        ([description] + stack.map { "  " + $0 }).joined(separator: "\n")
    }
}
