import Foundation
import LSTMModel

/// A `.lstmw` file whose framing has been checked: the bytes (read into 64-byte-aligned memory, never mapped,
/// when read from disk) plus the parsed header.
///
/// Tensors are handed out as slices of ``bytes`` without copying. A slice keeps its file offsets as indices,
/// so `startIndex` is usually not 0.
public struct BinaryFile: Sendable {
    /// The whole file.
    public let bytes: Data
    /// Preamble fields, metadata and tensor directory.
    package let header: BinaryHeader
    /// The path the file was read from, for error messages.
    public let path: String?

    /// Reads `url` into 64-byte-aligned memory and checks the container framing (spec/binary.md §7 steps 1–5).
    ///
    /// The file is read, never memory-mapped: a mapped file that another process truncates kills the reader with
    /// SIGBUS. Tensors are slices of the aligned buffer (no copy, 64-byte aligned as in the file).
    public init(contentsOf url: URL) throws(BinaryFormatError) {
        let data: Data
        do throws(AlignedRead.Failure) {
            data = try AlignedRead.contents(of: url.path, alignment: BinaryFormat.alignment)
        } catch {
            throw BinaryFormatError(.cannotRead, error.message, file: url.path)
        }
        try self.init(bytes: data, path: url.path)
    }

    /// Checks the container framing of in-memory bytes.
    public init(bytes: Data, path: String? = nil) throws(BinaryFormatError) {
        self.bytes = bytes
        self.path = path
        self.header = try BinaryHeader.parse(bytes, file: path)
    }

    /// The bytes of one tensor: a slice of ``bytes``, not a copy.
    package func tensorBytes(_ entry: TensorEntry) -> Data {
        let start = bytes.startIndex + header.fileOffset(of: entry)
        return bytes[start..<(start + entry.byteCount)]
    }

    /// Rebuilds the model: checks every tensor checksum (unless `verifyChecksums` is false), the format keys of
    /// the metadata, the model semantics and the canonical tensor order (spec/binary.md §7 steps 6–9).
    public func model(verifyChecksums: Bool = true) throws(BinaryFormatError) -> Model {
        if verifyChecksums {
            for entry in header.tensors {
                let computed = Checksum.crc32(of: tensorBytes(entry))
                guard computed == entry.checksum else {
                    throw BinaryFormatError(
                        .tensorChecksumMismatch, "the tensor's bytes are damaged", file: path,
                        offset: header.fileOffset(of: entry), tensor: entry.path,
                        expected: BinaryFormat.hex(entry.checksum), found: BinaryFormat.hex(computed))
                }
            }
        }
        try header.checkKeys(file: path)

        let layerCount: Int
        if case .int(let count) = header.value(forKey: RootKey.layerCount), count >= 1, count <= ModelLimits.maxLayers {
            layerCount = Int(count)
        } else {
            layerCount = 0  // Model(attributes:) reports the missing, mistyped or out-of-range layer_count.
        }
        let attributes = SchemaAttributes(flattened: header.metadata, layerCount: layerCount)
        var entries: [String: TensorEntry] = [:]
        for entry in header.tensors { entries[entry.path] = entry }

        let model: Model
        do {
            model = try Model(
                attributes: attributes,
                tensor: { path in
                    guard let entry = entries[path] else { return nil }
                    return (try Tensor(dtype: entry.dtype, shape: entry.shape, bytes: tensorBytes(entry)), entry.source)
                },
                storedPaths: header.tensors.map(\.path))
        } catch let error as ModelError {
            throw BinaryFormatError(model: error, file: path)
        } catch {
            throw BinaryFormatError(.invalidModel, "\(error)", file: path)
        }

        let canonical = model.storedTensors.map(\.slot.path)
        guard canonical.count == header.tensors.count else {
            throw BinaryFormatError(
                .unexpectedTensor, "the directory lists \(header.tensors.count) tensors; the model stores \(canonical.count)",
                file: path, expected: "\(canonical.count)", found: "\(header.tensors.count)")
        }
        for (index, entry) in header.tensors.enumerated() where canonical[index] != entry.path {
            throw BinaryFormatError(
                .nonCanonicalOrder, "tensor entry \(index) is out of canonical order", file: path, offset: entry.entryOffset,
                tensor: entry.path, expected: canonical[index], found: entry.path)
        }
        return model
    }

    /// Recomputes every tensor checksum and reports each one, then reports whether the model validates.
    ///
    /// The header checksum and framing were already checked when the file was opened.
    public func verify() -> BinaryVerification {
        let checks = header.tensors.map { entry in
            BinaryVerification.TensorCheck(
                path: entry.path, dtype: entry.dtype, shape: entry.shape, offset: header.fileOffset(of: entry),
                stored: entry.checksum, computed: Checksum.crc32(of: tensorBytes(entry)))
        }
        var modelError: BinaryFormatError?
        if checks.allSatisfy(\.isValid) {
            do {
                _ = try model(verifyChecksums: false)
            } catch {
                modelError = error
            }
        }
        return BinaryVerification(headerChecksum: header.headerChecksum, tensors: checks, modelError: modelError)
    }
}

extension BinaryFile {
    /// Reads a model from a file: maps it, checks everything, rebuilds and validates the model.
    public static func readModel(contentsOf url: URL, verifyChecksums: Bool = true) throws(BinaryFormatError) -> Model {
        try BinaryFile(contentsOf: url).model(verifyChecksums: verifyChecksums)
    }

    /// Reads a model from in-memory bytes.
    public static func readModel(from bytes: Data, verifyChecksums: Bool = true) throws(BinaryFormatError) -> Model {
        try BinaryFile(bytes: bytes).model(verifyChecksums: verifyChecksums)
    }
}

/// The result of ``BinaryFile/verify()``: one line per tensor plus the semantic verdict.
public struct BinaryVerification: Sendable {
    /// A recomputed tensor checksum.
    public struct TensorCheck: Sendable, Equatable {
        /// The tensor's document path, e.g. `layer_0/forward/W_n`.
        public var path: String
        /// The element type the file stores.
        public var dtype: DType
        /// The tensor's shape.
        public var shape: [Int]
        /// Absolute file offset of the tensor's bytes.
        public var offset: Int
        /// The CRC-32 the directory records.
        public var stored: UInt32
        /// The CRC-32 of the bytes as read.
        public var computed: UInt32
        /// Whether the stored and recomputed checksums agree.
        public var isValid: Bool { stored == computed }
    }

    /// The header CRC-32 (verified when the file was opened).
    public var headerChecksum: UInt32
    /// One check per tensor, in directory order.
    public var tensors: [TensorCheck]
    /// Why the model does not validate, when every checksum matched but the semantics did not; `nil` otherwise.
    public var modelError: BinaryFormatError?

    /// Every checksum matches and the model validates.
    public var isValid: Bool { modelError == nil && tensors.allSatisfy(\.isValid) }
}

extension BinaryFile {
    /// One tensor by document path, its CRC-32 verified; the bytes are a slice of the mapped file, not a copy.
    public func tensor(named path: String) throws(BinaryFormatError) -> Tensor {
        guard let entry = header.tensors.first(where: { $0.path == path }) else {
            throw BinaryFormatError(.missingTensor, "no tensor of that name in the directory", file: self.path, tensor: path)
        }
        let data = tensorBytes(entry)
        let computed = Checksum.crc32(of: data)
        guard computed == entry.checksum else {
            throw BinaryFormatError(
                .tensorChecksumMismatch, "the tensor's bytes are damaged", file: self.path,
                offset: header.fileOffset(of: entry), tensor: entry.path,
                expected: BinaryFormat.hex(entry.checksum), found: BinaryFormat.hex(computed))
        }
        do throws(ModelError) {
            return try Tensor(dtype: entry.dtype, shape: entry.shape, bytes: data)
        } catch {
            throw BinaryFormatError(model: error, file: self.path)
        }
    }
}

extension BinaryHeader {
    /// The format keys of the metadata and the spelling of layer keys (spec/binary.md §7 step 7): `format`,
    /// `format_major`, `format_minor` agree with the preamble, `schema_version` is known, and `layer.<k>.<key>`
    /// uses a canonical decimal k (`layer.00.x` or `layer.+0.x` would alias `layer.0.x`).
    package func checkKeys(file path: String?) throws(BinaryFormatError) {
        func fail(_ code: BinaryFormatError.Code, _ key: String, expected: String, found: MetaValue?) -> BinaryFormatError {
            BinaryFormatError(
                code, found == nil ? "required key is absent" : "the value disagrees with the format", file: path,
                key: key, expected: expected, found: found.map { "\($0.typeName) \($0)" } ?? "nothing")
        }
        let format = value(forKey: RootKey.format)
        guard format == .string(FormatVersion.formatName) else {
            throw fail(.formatMismatch, RootKey.format, expected: "string \"\(FormatVersion.formatName)\"", found: format)
        }
        let storedMajor = value(forKey: RootKey.formatMajor)
        guard storedMajor == .int(Int64(major)) else {
            throw fail(.formatMismatch, RootKey.formatMajor, expected: "int \(major) (the preamble's major)", found: storedMajor)
        }
        let storedMinor = value(forKey: RootKey.formatMinor)
        guard storedMinor == .int(Int64(minor)) else {
            throw fail(.formatMismatch, RootKey.formatMinor, expected: "int \(minor) (the preamble's minor)", found: storedMinor)
        }
        let schema = value(forKey: RootKey.schemaVersion)
        guard case .int(let version) = schema, version >= 1, version <= FormatVersion.latestSchemaVersion else {
            throw fail(.unsupportedSchemaVersion, RootKey.schemaVersion, expected: "int 1…\(FormatVersion.latestSchemaVersion)", found: schema)
        }
        for entry in metadata where entry.key.hasPrefix("layer.") {
            let index = entry.key.dropFirst("layer.".count).prefix { $0 != "." }
            guard let number = Int(index), String(number) == index else {
                throw BinaryFormatError(
                    .invalidKey, "`\(entry.key)`: a layer index must be a canonical decimal (layer.0, layer.12), not `\(index)`", file: path)
            }
        }
    }
}
