import AtomicFileIO
import Foundation
import LSTMModel

/// Writes models as `.lstmw` files (spec/binary.md). Deterministic: the same model always gives the same bytes.
public enum BinaryWriter {
    /// The whole file in memory.
    public static func encode(_ model: Model) throws(BinaryFormatError) -> Data {
        let plan = try FilePlan(model, file: nil)
        let stored = model.storedTensors
        var output = Data(capacity: plan.fileSize)
        plan.emit(bytes: { stored[$0].tensor.bytes }) { (chunk: Data) in output.append(chunk) }
        return output
    }

    /// Streams the file to a temporary file in the target folder, then renames it into place.
    ///
    /// A failure leaves no partial file and leaves an existing file at `url` untouched.
    /// - Parameters:
    ///   - model: the model to write.
    ///   - url: the output file.
    ///   - overwrite: replace an existing file; without it an existing file is a ``BinaryFormatError/Code/fileExists`` error.
    public static func write(_ model: Model, to url: URL, overwrite: Bool = false) throws(BinaryFormatError) {
        try write(model, to: url, overwrite: overwrite, failAfterChunks: nil)
    }

    /// `failAfterChunks` makes the stream fail after that many chunks (tests of the failure path).
    static func write(_ model: Model, to url: URL, overwrite: Bool, failAfterChunks: Int?) throws(BinaryFormatError) {
        let plan = try FilePlan(model, file: url.path)
        let stored = model.storedTensors
        try write(plan, to: url, overwrite: overwrite, failAfterChunks: failAfterChunks) { (index: Int) throws(BinaryFormatError) in
            stored[index].tensor.bytes
        }
    }

    /// Streams a file of `tensors` (canonical order, checksums known) described by `attributes` to `url`, asking
    /// `bytes` for each tensor's bytes only when it is written: memory holds one tensor at a time.
    package static func write(
        attributes: SchemaAttributes, tensors: [StoredTensorPlan], to url: URL, overwrite: Bool,
        bytes: (Int) throws(BinaryFormatError) -> Data
    ) throws(BinaryFormatError) {
        let plan = try FilePlan(attributes: attributes, tensors: tensors, file: url.path)
        // The bytes come from another file read while this one is written: a length other than planned (the source
        // changed under us) is refused here, before `emit` would treat it as a programming error.
        try write(plan, to: url, overwrite: overwrite, failAfterChunks: nil) { (index: Int) throws(BinaryFormatError) in
            let data = try bytes(index)
            let planned = tensors[index]
            guard data.count == planned.byteCount else {
                throw BinaryFormatError(
                    .byteCountMismatch, "the source gave another byte count than its header planned", file: url.path,
                    tensor: planned.path, expected: "\(planned.byteCount) bytes", found: "\(data.count) bytes")
            }
            return data
        }
    }

    /// Streams a file of `tensors` whose checksums are not known yet (a streaming import: each tensor is read from
    /// the source when it is due): the header is written with the checksums computed on the way and put over the
    /// first bytes at the end. The bytes equal those of ``write(attributes:tensors:to:overwrite:bytes:)`` given
    /// the checksums.
    package static func write(
        attributes: SchemaAttributes, unchecksummed tensors: [StoredTensorPlan], to url: URL, overwrite: Bool,
        bytes: (Int) throws(BinaryFormatError) -> Data
    ) throws(BinaryFormatError) {
        let target = url.path
        let draft = try FilePlan(attributes: attributes, tensors: tensors, file: target)
        try AtomicFile.streamPatchingStart(to: url, overwrite: overwrite, mapError: { failure in
            BinaryFormatError(failure.kind == .exists ? .fileExists : .cannotWrite, failure.message, file: target)
        }, body: { (sink: (Data) throws(BinaryFormatError) -> Void) throws(BinaryFormatError) -> Data in
            var final = tensors
            try draft.emit(bytes: { (index: Int) throws(BinaryFormatError) -> Data in
                let data = try bytes(index)
                guard data.count == tensors[index].byteCount else {
                    throw BinaryFormatError(
                        .byteCountMismatch, "the source gave another byte count than planned", file: target,
                        tensor: tensors[index].path, expected: "\(tensors[index].byteCount) bytes", found: "\(data.count) bytes")
                }
                final[index].checksum = Checksum.crc32(of: data)
                return data
            }) { (chunk: Data) throws(BinaryFormatError) in
                try sink(chunk)
                WorkProgress.advance(chunk.count)
            }
            let head = try FilePlan(attributes: attributes, tensors: final, file: target).head
            guard head.count == draft.head.count else {
                throw BinaryFormatError(.cannotWrite, "the header changed length when its checksums were filled in", file: target)
            }
            return head
        })
    }

    private static func write(
        _ plan: FilePlan, to url: URL, overwrite: Bool, failAfterChunks: Int?, bytes: (Int) throws(BinaryFormatError) -> Data
    ) throws(BinaryFormatError) {
        let target = url.path
        try AtomicFile.stream(to: url, overwrite: overwrite, mapError: { failure in
            BinaryFormatError(failure.kind == .exists ? .fileExists : .cannotWrite, failure.message, file: target)
        }) { (sink: (Data) throws(BinaryFormatError) -> Void) throws(BinaryFormatError) in
            var chunks = 0
            try plan.emit(bytes: bytes) { (chunk: Data) throws(BinaryFormatError) in
                if let failAfterChunks, chunks >= failAfterChunks {
                    throw BinaryFormatError(.cannotWrite, "simulated write failure after \(chunks) chunks", file: target)
                }
                try sink(chunk)
                WorkProgress.advance(chunk.count)
                chunks += 1
            }
        }
    }
}

/// One tensor of a file being written, described before its bytes are at hand.
package struct StoredTensorPlan: Sendable {
    package var path: String
    package var dtype: DType
    package var shape: [Int]
    package var byteCount: Int
    /// CRC-32 of the bytes that will be written.
    package var checksum: UInt32
    package var source: String?

    package init(path: String, dtype: DType, shape: [Int], byteCount: Int, checksum: UInt32, source: String?) {
        self.path = path
        self.dtype = dtype
        self.shape = shape
        self.byteCount = byteCount
        self.checksum = checksum
        self.source = source
    }
}

/// The bytes of one file, laid out: preamble and header, then each tensor behind its zero padding.
struct FilePlan {
    /// The 32-byte preamble followed by the header.
    let head: Data
    /// Zero bytes between the header and the data section.
    let headPadding: Int
    /// Each tensor's byte count with the zero padding that precedes it.
    let tensors: [(padding: Int, byteCount: Int)]
    let fileSize: Int

    init(_ model: Model, file: String?) throws(BinaryFormatError) {
        do {
            try model.validate()
        } catch {
            throw BinaryFormatError(model: error, file: file)
        }
        let stored = model.storedTensors.map { entry in
            StoredTensorPlan(
                path: entry.slot.path, dtype: entry.tensor.dtype, shape: entry.tensor.shape, byteCount: entry.tensor.bytes.count,
                checksum: entry.tensor.checksum, source: entry.source)
        }
        try self.init(attributes: model.schemaAttributes, tensors: stored, file: file)
    }

    init(attributes: SchemaAttributes, tensors stored: [StoredTensorPlan], file: String?) throws(BinaryFormatError) {
        guard stored.count >= 1, stored.count <= BinaryFormat.maxTensors else {
            throw BinaryFormatError(.invalidTensorCount, "the model stores \(stored.count) tensors; the format allows 1…\(BinaryFormat.maxTensors)", file: file)
        }

        var header = Data()
        let metadata = attributes.flattened
        guard metadata.count <= BinaryFormat.maxMetadataEntries else {
            throw BinaryFormatError(.invalidEntryCount, "\(metadata.count) metadata entries exceed the cap", file: file)
        }
        header.appendLittleEndian(UInt32(metadata.count))
        var keys = Set<String>()
        for (key, value) in metadata {
            let keyBytes = Array(key.utf8)
            guard BinaryFormat.isValidKey(keyBytes) else {
                throw BinaryFormatError(.invalidKey, "metadata keys are 1…\(BinaryFormat.maxKeyLength) bytes of [A-Za-z0-9._-]", file: file, key: key)
            }
            guard keys.insert(key).inserted else {
                throw BinaryFormatError(.duplicateKey, "the model's attributes repeat a key", file: file, key: key)
            }
            header.appendLittleEndian(UInt16(keyBytes.count))
            header.append(contentsOf: keyBytes)
            switch value {
            case .int(let number):
                header.append(BinaryFormat.ValueType.int.rawValue)
                header.appendLittleEndian(UInt64(bitPattern: number))
            case .double(let number):
                header.append(BinaryFormat.ValueType.double.rawValue)
                header.appendLittleEndian(number.bitPattern)
            case .string(let string):
                let bytes = Array(string.utf8)
                guard bytes.count <= BinaryFormat.maxStringLength else {
                    throw BinaryFormatError(.invalidValue, "the string is too long", file: file, key: key,
                                            expected: "at most \(BinaryFormat.maxStringLength) bytes", found: "\(bytes.count)")
                }
                header.append(BinaryFormat.ValueType.string.rawValue)
                header.appendLittleEndian(UInt32(bytes.count))
                header.append(contentsOf: bytes)
            case .bool(let flag):
                header.append(BinaryFormat.ValueType.bool.rawValue)
                header.append(flag ? 1 : 0)
            }
        }

        header.appendLittleEndian(UInt32(stored.count))
        var offset = 0
        var tensors: [(padding: Int, byteCount: Int)] = []
        for tensor in stored {
            let (path, source) = (tensor.path, tensor.source)
            guard BinaryFormat.isValidPath(Array(path.utf8)) else {
                throw BinaryFormatError(.invalidTensorName, "tensor paths are 1…\(BinaryFormat.maxPathLength) bytes of [A-Za-z0-9_/]", file: file, tensor: path)
            }
            guard tensor.shape.count >= 1, tensor.shape.count <= BinaryFormat.maxRank else {
                throw BinaryFormatError(.invalidRank, "rank must be 1…\(BinaryFormat.maxRank)", file: file, tensor: path, found: "\(tensor.shape.count)")
            }
            let sourceBytes = Array((source ?? "").utf8)
            guard sourceBytes.count <= BinaryFormat.maxSourceLength else {
                throw BinaryFormatError(.invalidSourceName, "the source name is too long", file: file, tensor: path,
                                        expected: "at most \(BinaryFormat.maxSourceLength) bytes", found: "\(sourceBytes.count)")
            }
            let start = BinaryFormat.aligned(offset) ?? offset
            header.appendLittleEndian(UInt16(path.utf8.count))
            header.append(contentsOf: Array(path.utf8))
            header.append(tensor.dtype.code)
            header.append(UInt8(tensor.shape.count))
            for dimension in tensor.shape { header.appendLittleEndian(UInt64(dimension)) }
            header.appendLittleEndian(UInt64(start))
            header.appendLittleEndian(UInt64(tensor.byteCount))
            header.appendLittleEndian(tensor.checksum)
            header.appendLittleEndian(UInt16(sourceBytes.count))
            header.append(contentsOf: sourceBytes)
            tensors.append((start - offset, tensor.byteCount))
            offset = start + tensor.byteCount
        }
        guard header.count <= BinaryFormat.maxHeaderLength else {
            throw BinaryFormatError(.invalidHeaderLength, "the header would take \(header.count) bytes", file: file,
                                    expected: "at most \(BinaryFormat.maxHeaderLength)", found: "\(header.count)")
        }

        var head = Data(BinaryFormat.magic)
        head.appendLittleEndian(FormatVersion.major)
        head.appendLittleEndian(BinaryFormat.writtenMinor)
        head.append(contentsOf: BinaryFormat.byteOrderMark)
        head.appendLittleEndian(UInt64(header.count))
        head.appendLittleEndian(UInt32(0))  // header checksum, filled in below
        head.appendLittleEndian(UInt32(0))  // required-feature flags
        head.append(header)
        let checksum = BinaryHeader.headerChecksum(of: head, headerEnd: head.count)
        head.replaceSubrange(BinaryFormat.Field.headerChecksum..<BinaryFormat.Field.flags, with: checksum.littleEndianBytes)

        let dataOffset = BinaryFormat.aligned(head.count) ?? head.count
        self.head = head
        self.headPadding = dataOffset - head.count
        self.tensors = tensors
        self.fileSize = dataOffset + offset
    }

    /// Hands the file to `sink` chunk by chunk, in order, asking `bytes` for tensor `index` when it is due.
    /// Bytes of another length than planned are a programming error here: the in-memory callers hand out a validated
    /// model's tensors, and the streaming path checks each provided tensor's length before it reaches this.
    func emit<E: Error>(bytes: (Int) throws(E) -> Data, _ sink: (Data) throws(E) -> Void) throws(E) {
        try sink(head)
        if headPadding > 0 { try sink(Data(count: headPadding)) }
        for (index, (padding, byteCount)) in tensors.enumerated() {
            if padding > 0 { try sink(Data(count: padding)) }
            let data = try bytes(index)
            precondition(data.count == byteCount, "tensor \(index) has \(data.count) bytes; the directory says \(byteCount)")
            try sink(data)
        }
    }
}

extension FixedWidthInteger {
    var littleEndianBytes: [UInt8] {
        (0..<MemoryLayout<Self>.size).map { UInt8(truncatingIfNeeded: self >> (8 * $0)) }
    }
}

extension Data {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        append(contentsOf: value.littleEndianBytes)
    }
}
