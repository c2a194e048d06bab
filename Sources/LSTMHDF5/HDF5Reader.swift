import Foundation
import HDF5Bridge
import LSTMModel

/// The HDF5 encoding of the format (spec/hdf5.md): read, write, inspect and verify `.h5` model files.
///
/// The reader trusts nothing libhdf5 returns: datatypes (class, size, layout, byte order), shapes, the type
/// of every attribute, and every tensor's CRC-32 are checked; soft, external and user-defined links and
/// data stored outside the file are refused.
public enum HDF5Encoding {
    /// Reads and validates a model.
    public static func read(from url: URL) throws(LSTMHDF5Error) -> Model {
        let reader = try ModelFileReader(path: url.path)
        return try reader.model(checksums: .throwOnMismatch).model
    }

    /// Reads every attribute and describes every dataset without reading tensor data or validating the model.
    package static func inspect(_ url: URL) throws(LSTMHDF5Error) -> HDF5ModelSummary {
        let reader = try ModelFileReader(path: url.path)
        var tensors: [HDF5TensorSummary] = []
        for path in reader.datasetPaths {
            tensors.append(try reader.summary(of: path))
        }
        return HDF5ModelSummary(
            file: url.path, attributes: SchemaAttributes(root: reader.rootAttributes, layers: reader.layerAttributes),
            tensors: tensors)
    }

    /// Reads and validates the whole model, recomputing every tensor's CRC-32; checksum mismatches are
    /// reported per tensor instead of stopping the read. Structural problems still throw.
    public static func verify(_ url: URL) throws(LSTMHDF5Error) -> HDF5Verification {
        let reader = try ModelFileReader(path: url.path)
        let result = try reader.model(checksums: .collect)
        return HDF5Verification(file: url.path, tensors: result.checks)
    }
}

/// What `HDF5Encoding.inspect(_:)` reports.
package struct HDF5ModelSummary: Sendable {
    package var file: String
    /// Root and per-layer attributes, typed, in stored order (`about` included).
    package var attributes: SchemaAttributes
    /// Every dataset in the file, in stored order.
    package var tensors: [HDF5TensorSummary]
}

/// One dataset as stored, described without reading its data.
package struct HDF5TensorSummary: Sendable, Equatable {
    /// `layer_0/forward/W_n`.
    package var path: String
    /// The `dtype` attribute, when present and known.
    package var dtype: DType?
    package var shape: [Int]
    /// The `crc32` attribute, when present.
    package var storedChecksum: UInt32?
    /// The `source` attribute (`nil` when absent or empty).
    package var source: String?
    /// The HDF5 datatype, e.g. `IEEE f32 little-endian`.
    package var storedType: String
    /// `contiguous`, or `chunked [4, 7] shuffle+deflate`.
    package var storage: String
    /// Bytes the data occupies in the file.
    package var storedByteCount: Int
}

/// What ``HDF5Encoding/verify(_:)`` reports.
public struct HDF5Verification: Sendable, Equatable {
    /// One tensor's checksum check.
    public struct Check: Sendable, Equatable {
        /// The tensor's document path, e.g. `layer_0/forward/W_n`.
        public var path: String
        /// The element type the file stores.
        public var dtype: DType
        /// The tensor's shape.
        public var shape: [Int]
        /// The CRC-32 the file stores.
        public var storedChecksum: UInt32
        /// The CRC-32 recomputed from the tensor's bytes.
        public var computedChecksum: UInt32
        /// Whether the stored and recomputed checksums agree.
        public var isValid: Bool { storedChecksum == computedChecksum }
    }

    /// The file the report is about.
    public var file: String
    /// Every tensor of the model, in canonical order.
    public var tensors: [Check]
    /// Whether every checksum matches.
    public var isValid: Bool { tensors.allSatisfy(\.isValid) }
}

// MARK: - The reader

/// One open model file: the walked tree, the typed root and layer attributes, and tensor access.
final class ModelFileReader {
    enum ChecksumPolicy { case throwOnMismatch, collect }

    static let maxDepth = 8
    static let maxObjects = 100_000

    let path: String
    let root: HDF5Group
    private(set) var rootAttributes: Attributes = []
    private(set) var layerAttributes: [Attributes] = []
    /// Every dataset in the file (file-relative paths), in stored order.
    private(set) var datasetPaths: [String] = []

    init(path: String) throws(LSTMHDF5Error) {
        self.path = path
        do throws(HDF5Error) {
            root = try HDF5File.openReadOnly(path).root()
        } catch {
            throw LSTMHDF5Error(error, file: path)
        }
        try checkFormatName()
        var count = 0
        try walk(root, prefix: "", depth: 0, count: &count)
        rootAttributes = try attributes(of: root, scope: "")
        try checkVersions()
        let layerCount = try layerCountValue()
        for index in 0..<layerCount {
            let name = "layer_\(index)"
            let root = self.root
            let exists = try bridge { () throws(HDF5Error) -> Bool in
                guard try root.contains(name) else { return false }
                return try root.linkKind(name) == .group
            }
            guard exists else {
                throw LSTMHDF5Error(.missingGroup, "layer_count is \(layerCount)", file: path, keyPath: name, expected: "a group")
            }
            let group = try bridge { () throws(HDF5Error) in try root.group(name) }
            layerAttributes.append(try attributes(of: group, scope: name + "/"))
        }
    }

    // MARK: Tree

    /// Lists every object, refusing soft, external and user-defined links anywhere in the file, and an object
    /// reached twice (a hard-link cycle or alias). The walk is HDF5Bridge's one walk routine.
    private func walk(_ group: HDF5Group, prefix: String, depth: Int, count: inout Int) throws(LSTMHDF5Error) {
        let entries = try bridge { () throws(HDF5Error) in
            try group.walk(maxDepth: Self.maxDepth + 1, maxEntries: Self.maxObjects + 1, stopAtLimit: true)
        }
        for entry in entries {
            count += 1
            let memberPath = prefix.isEmpty ? entry.path : prefix + "/" + entry.path
            guard count <= Self.maxObjects else {
                throw LSTMHDF5Error(.unexpectedTensor, "more than \(Self.maxObjects) objects", file: path, keyPath: memberPath)
            }
            guard !entry.isRepeat else {
                throw LSTMHDF5Error(
                    .unexpectedTensor, "an object reached through two paths (a hard-link cycle or alias)", file: path, keyPath: memberPath,
                    expected: "a tree", found: "a second hard link to an earlier object")
            }
            switch entry.link.kind {
            case .softLink(let target):
                throw LSTMHDF5Error(
                    .softLink, "soft links are not followed", file: path, keyPath: memberPath,
                    expected: "a dataset or group", found: "soft link to \(target)")
            case .externalLink(let file, let object):
                throw LSTMHDF5Error(
                    .externalLink, "links that leave the file are not followed", file: path, keyPath: memberPath,
                    expected: "a dataset or group", found: "external link to \(file):\(object)")
            case .userDefinedLink:
                throw LSTMHDF5Error(
                    .externalLink, "user-defined links are not followed", file: path, keyPath: memberPath,
                    expected: "a dataset or group", found: "user-defined link")
            case .group:
                guard depth + entry.depth + 1 < Self.maxDepth else {
                    throw LSTMHDF5Error(.unexpectedTensor, "groups nested deeper than \(Self.maxDepth)", file: path, keyPath: memberPath)
                }
            case .dataset:
                datasetPaths.append(memberPath)
            case .namedDatatype, .otherObject:
                continue
            }
        }
    }

    // MARK: Attributes

    /// Reads every attribute of a group as a schema value. Every attribute must have one of the four schema
    /// types (spec/hdf5.md), even under a key this reader does not know.
    private func attributes(of group: HDF5Group, scope: String) throws(LSTMHDF5Error) -> Attributes {
        let names = try bridge { () throws(HDF5Error) in try group.attributes.names() }
        var result: Attributes = []
        for name in names {
            let attribute = try bridge { () throws(HDF5Error) in try group.attributes.attribute(name) }
            result.append((name, try metaValue(attribute, keyPath: scope + name)))
        }
        return result
    }

    private func metaValue(_ attribute: HDF5Attribute, keyPath: String) throws(LSTMHDF5Error) -> MetaValue {
        let type = attribute.datatype
        let expected = "a scalar int64, float64, uint8 (bool) or string"
        guard attribute.shape.isEmpty else {
            throw LSTMHDF5Error(
                .wrongAttributeType, "attributes are scalars", file: path, keyPath: keyPath,
                expected: expected, found: "\(type) array of shape \(attribute.shape)")
        }
        switch type.typeClass {
        case .integer where type.isSigned && type.size == 8:
            return .int(try bridge { () throws(HDF5Error) in try attribute.int64() })
        case .integer where !type.isSigned && type.size == 1:
            let value = try bridge { () throws(HDF5Error) in try attribute.int64() }
            guard value <= 1 else {
                throw LSTMHDF5Error(.invalidAttributeValue, "a bool is stored as 0 or 1", file: path, keyPath: keyPath, found: "\(value)")
            }
            return .bool(value == 1)
        case .enumeration where type.isBooleanEnumeration:
            guard case .booleans(let values) = try bridge({ () throws(HDF5Error) in try attribute.read() }), let value = values.first else {
                throw LSTMHDF5Error(.wrongAttributeType, "", file: path, keyPath: keyPath, expected: expected, found: "\(type)")
            }
            return .bool(value)
        case .float where type.floatFormat == .f64:
            return .double(try bridge { () throws(HDF5Error) in try attribute.double() })
        case .string:
            return .string(try bridge { () throws(HDF5Error) in try attribute.string() })
        default:
            throw LSTMHDF5Error(.wrongAttributeType, "", file: path, keyPath: keyPath, expected: expected, found: "\(type)")
        }
    }

    /// Reads only the root `format` attribute, so that any other HDF5 file is told apart before anything else.
    private func checkFormatName() throws(LSTMHDF5Error) {
        let root = self.root
        guard try bridge({ () throws(HDF5Error) in try root.attributes.contains(RootKey.format) }) else {
            throw LSTMHDF5Error(
                .missingFormat, "the root has no `format` attribute, so this HDF5 file is not an lstmconv model",
                file: path, keyPath: RootKey.format, expected: "\"\(FormatVersion.formatName)\"")
        }
        let attribute = try bridge { () throws(HDF5Error) in try root.attributes.attribute(RootKey.format) }
        let format = try metaValue(attribute, keyPath: RootKey.format)
        guard case .string(let name) = format else {
            throw LSTMHDF5Error(.wrongAttributeType, "", file: path, keyPath: RootKey.format, expected: "string", found: format.typeName)
        }
        guard name == FormatVersion.formatName else {
            throw LSTMHDF5Error(
                .wrongFormat, "this HDF5 file holds another format", file: path, keyPath: RootKey.format,
                expected: "\"\(FormatVersion.formatName)\"", found: "\"\(name)\"")
        }
    }

    private func checkVersions() throws(LSTMHDF5Error) {
        let major = try intValue(RootKey.formatMajor)
        guard major >= 1, major <= Int64(FormatVersion.major) else {
            throw LSTMHDF5Error(
                .unsupportedVersion, "the file is format \(major).x; this reader supports \(FormatVersion.major).x",
                file: path, keyPath: RootKey.formatMajor, expected: "\(FormatVersion.major)", found: "\(major)")
        }
        let minor = try intValue(RootKey.formatMinor)
        guard minor >= 0 else {
            throw LSTMHDF5Error(.invalidAttributeValue, "negative minor version", file: path, keyPath: RootKey.formatMinor, found: "\(minor)")
        }
        let schema = try intValue(RootKey.schemaVersion)
        guard schema >= 1, schema <= FormatVersion.latestSchemaVersion else {
            throw LSTMHDF5Error(
                .unsupportedVersion, "the file uses schema \(schema); this reader supports schema 1...\(FormatVersion.latestSchemaVersion)",
                file: path, keyPath: RootKey.schemaVersion, expected: "1...\(FormatVersion.latestSchemaVersion)", found: "\(schema)")
        }
    }

    private func layerCountValue() throws(LSTMHDF5Error) -> Int {
        let count = try intValue(RootKey.layerCount)
        guard count >= 1, count <= Int64(ModelLimits.maxLayers) else {
            throw LSTMHDF5Error(
                .invalidAttributeValue, "layer_count is outside 1...\(ModelLimits.maxLayers)", file: path,
                keyPath: RootKey.layerCount, found: "\(count)")
        }
        return Int(count)
    }

    private func value(_ key: String) -> MetaValue? {
        rootAttributes.first { $0.key == key }?.value
    }

    private func intValue(_ key: String) throws(LSTMHDF5Error) -> Int64 {
        guard let found = value(key) else {
            throw LSTMHDF5Error(.missingAttribute, "required attribute is absent", file: path, keyPath: key, expected: "int")
        }
        guard case .int(let number) = found else {
            throw LSTMHDF5Error(.wrongAttributeType, "", file: path, keyPath: key, expected: "int", found: "\(found.typeName) \(found)")
        }
        return number
    }

    // MARK: Tensors

    struct TensorRecord {
        var tensor: Tensor
        var source: String?
        var storedChecksum: UInt32
        var computedChecksum: UInt32
    }

    /// Builds the model, asking for each tensor the hyperparameters require.
    func model(checksums: ChecksumPolicy) throws(LSTMHDF5Error) -> (model: Model, checks: [HDF5Verification.Check]) {
        var checks: [HDF5Verification.Check] = []
        let stored = Set(datasetPaths)
        do {
            let model = try Model(
                attributes: SchemaAttributes(root: rootAttributes, layers: layerAttributes),
                tensor: { (tensorPath: String, expectedShape: [Int]) in
                    guard stored.contains(tensorPath) else { return nil }
                    let record = try self.tensor(at: tensorPath, expectedShape: expectedShape)
                    if record.storedChecksum != record.computedChecksum, checksums == .throwOnMismatch {
                        throw LSTMHDF5Error(
                            .checksumMismatch, "the data does not match its stored CRC-32", file: self.path, keyPath: tensorPath,
                            expected: hex(record.storedChecksum), found: hex(record.computedChecksum))
                    }
                    checks.append(HDF5Verification.Check(
                        path: tensorPath, dtype: record.tensor.dtype, shape: record.tensor.shape,
                        storedChecksum: record.storedChecksum, computedChecksum: record.computedChecksum))
                    return (record.tensor, record.source)
                },
                storedPaths: datasetPaths)
            return (model, checks)
        } catch let error as LSTMHDF5Error {
            throw error
        } catch let error as ModelError {
            throw LSTMHDF5Error(error, file: path)
        } catch {
            throw LSTMHDF5Error(.invalidModel, "\(error)", file: path)
        }
    }

    /// Reads and checks one dataset: its attributes, its datatype against `dtype`, its storage, its data and CRC.
    ///
    /// With `expectedShape` (what the hyperparameters require) the stored shape is checked first: a tensor that
    /// does not fit is refused before its data is read or decompressed.
    func tensor(at tensorPath: String, expectedShape: [Int]? = nil) throws(LSTMHDF5Error) -> TensorRecord {
        let dataset = try bridge { () throws(HDF5Error) in try root.dataset(tensorPath) }
        let (dtype, storedChecksum, source) = try datasetAttributes(dataset, tensorPath)
        try checkDatatype(dataset, dtype: dtype, tensorPath)
        if let expectedShape, dataset.shape != expectedShape {
            throw LSTMHDF5Error(
                .shapeMismatch, "the layer's hyperparameters require another shape; the data was not read", file: path,
                keyPath: tensorPath, expected: "\(expectedShape)", found: "\(dataset.shape)")
        }
        let bytes = try bridge { () throws(HDF5Error) in try dataset.readLittleEndianBytes(as: dtype.hdf5Format) }
        WorkProgress.advance(bytes.count)
        let tensor: Tensor
        do throws(ModelError) {
            tensor = try Tensor(dtype: dtype, shape: dataset.shape, bytes: bytes)
        } catch {
            var wrapped = LSTMHDF5Error(error, file: path)
            wrapped.keyPath = tensorPath
            throw wrapped
        }
        return TensorRecord(
            tensor: tensor, source: source.isEmpty ? nil : source, storedChecksum: storedChecksum,
            computedChecksum: Checksum.crc32(of: bytes))
    }

    /// Describes one dataset without reading its data.
    func summary(of tensorPath: String) throws(LSTMHDF5Error) -> HDF5TensorSummary {
        let dataset = try bridge { () throws(HDF5Error) in try root.dataset(tensorPath) }
        let storage = try bridge { () throws(HDF5Error) in try dataset.storage() }
        var description = storage.layout.rawValue
        if let chunk = storage.chunkShape { description += " \(chunk)" }
        if !storage.filters.isEmpty { description += " " + storage.filters.map(\.name).joined(separator: "+") }
        var summary = HDF5TensorSummary(
            path: tensorPath, dtype: nil, shape: dataset.shape, storedChecksum: nil, source: nil,
            storedType: dataset.datatype.description, storage: description, storedByteCount: storage.storedByteCount)
        let attributes = dataset.attributes
        if try bridge({ () throws(HDF5Error) in try attributes.contains("dtype") }),
            case .string(let name) = try metaValue(try bridge { () throws(HDF5Error) in try attributes.attribute("dtype") }, keyPath: tensorPath + "@dtype")
        {
            summary.dtype = DType(rawValue: name)
        }
        if try bridge({ () throws(HDF5Error) in try attributes.contains("crc32") }) {
            summary.storedChecksum = try checksumAttribute(dataset, tensorPath)
        }
        if try bridge({ () throws(HDF5Error) in try attributes.contains("source") }),
            case .string(let text) = try metaValue(try bridge { () throws(HDF5Error) in try attributes.attribute("source") }, keyPath: tensorPath + "@source"),
            !text.isEmpty
        {
            summary.source = text
        }
        return summary
    }

    private func datasetAttributes(_ dataset: HDF5Dataset, _ tensorPath: String) throws(LSTMHDF5Error) -> (DType, UInt32, String) {
        let dtypeName = try stringAttribute(dataset, "dtype", tensorPath)
        guard let dtype = DType(rawValue: dtypeName) else {
            throw LSTMHDF5Error(
                .invalidAttributeValue, "unknown dtype", file: path, keyPath: tensorPath + "@dtype",
                expected: DType.allCases.map(\.rawValue).joined(separator: " | "), found: "\"\(dtypeName)\"")
        }
        let checksum = try checksumAttribute(dataset, tensorPath)
        let source = try stringAttribute(dataset, "source", tensorPath)
        return (dtype, checksum, source)
    }

    private func requiredAttribute(_ dataset: HDF5Dataset, _ name: String, _ tensorPath: String) throws(LSTMHDF5Error) -> HDF5Attribute {
        let keyPath = tensorPath + "@" + name
        guard try bridge({ () throws(HDF5Error) in try dataset.attributes.contains(name) }) else {
            throw LSTMHDF5Error(.missingAttribute, "every dataset carries dtype, crc32 and source", file: path, keyPath: keyPath)
        }
        return try bridge { () throws(HDF5Error) in try dataset.attributes.attribute(name) }
    }

    private func stringAttribute(_ dataset: HDF5Dataset, _ name: String, _ tensorPath: String) throws(LSTMHDF5Error) -> String {
        let keyPath = tensorPath + "@" + name
        let value = try metaValue(try requiredAttribute(dataset, name, tensorPath), keyPath: keyPath)
        guard case .string(let text) = value else {
            throw LSTMHDF5Error(.wrongAttributeType, "", file: path, keyPath: keyPath, expected: "string", found: "\(value.typeName) \(value)")
        }
        return text
    }

    private func checksumAttribute(_ dataset: HDF5Dataset, _ tensorPath: String) throws(LSTMHDF5Error) -> UInt32 {
        let keyPath = tensorPath + "@crc32"
        let attribute = try requiredAttribute(dataset, "crc32", tensorPath)
        let type = attribute.datatype
        guard attribute.shape.isEmpty, type.typeClass == .integer, !type.isSigned, type.size == 4 else {
            throw LSTMHDF5Error(
                .wrongAttributeType, "", file: path, keyPath: keyPath, expected: "scalar uint32",
                found: attribute.shape.isEmpty ? "\(type)" : "\(type) array of shape \(attribute.shape)")
        }
        let value = try bridge { () throws(HDF5Error) in try attribute.int64() }
        guard let checksum = UInt32(exactly: value) else {
            throw LSTMHDF5Error(.invalidAttributeValue, "", file: path, keyPath: keyPath, found: "\(value)")
        }
        return checksum
    }

    private func checkDatatype(_ dataset: HDF5Dataset, dtype: DType, _ tensorPath: String) throws(LSTMHDF5Error) {
        let type = dataset.datatype
        let orderOK = type.byteOrder == .littleEndian || type.byteOrder == .bigEndian
        guard type.typeClass == .float, orderOK, type.floatFormat == dtype.hdf5Format else {
            throw LSTMHDF5Error(
                .wrongDatatype, "the dataset's HDF5 type does not match its dtype attribute", file: path, keyPath: tensorPath,
                expected: "IEEE \(dtype.rawValue) (little- or big-endian)", found: "\(type)")
        }
    }

    private func bridge<T>(_ body: () throws(HDF5Error) -> T) throws(LSTMHDF5Error) -> T {
        do {
            return try body()
        } catch {
            throw LSTMHDF5Error(error, file: path)
        }
    }
}

private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

// MARK: - One tensor at a time

/// An open `.h5` model file that reads one tensor at a time: the tree and the attributes are checked on open,
/// a tensor's data and CRC-32 only when it is asked for. Built by ``HDF5Encoding/open(_:)``.
public final class HDF5TensorFile: @unchecked Sendable {
    private let reader: ModelFileReader
    private let lock = NSLock()

    init(reader: ModelFileReader) { self.reader = reader }

    /// The path the file was opened from.
    public var file: String { reader.path }

    /// Every dataset's document path, in stored order.
    public var tensorNames: [String] { reader.datasetPaths }

    /// Reads one tensor and checks its CRC-32 against the stored `crc32` attribute.
    public func tensor(named path: String) throws(LSTMHDF5Error) -> Tensor {
        guard reader.datasetPaths.contains(path) else {
            throw LSTMHDF5Error(.missingTensor, "no dataset of that name", file: reader.path, keyPath: path)
        }
        lock.lock()
        defer { lock.unlock() }
        let record = try reader.tensor(at: path)
        guard record.storedChecksum == record.computedChecksum else {
            throw LSTMHDF5Error(
                .checksumMismatch, "the tensor's bytes are damaged", file: reader.path, keyPath: path,
                expected: hex(record.storedChecksum), found: hex(record.computedChecksum))
        }
        return record.tensor
    }
}

extension HDF5Encoding {
    /// Opens a model file for reading single tensors (``HDF5TensorFile``) without reading the others.
    public static func open(_ url: URL) throws(LSTMHDF5Error) -> HDF5TensorFile {
        HDF5TensorFile(reader: try ModelFileReader(path: url.path))
    }
}
