import Foundation
import LSTMModel
import FileSignatures

/// One tensor directory entry (spec/binary.md §5).
package struct TensorEntry: Sendable, Equatable {
    /// The tensor path, e.g. `layer_0/forward/W_n`.
    package var path: String
    package var dtype: DType
    package var shape: [Int]
    /// Start of the tensor's bytes, relative to the data section (a multiple of 64).
    package var offset: Int
    /// Exactly `shape.product * dtype.byteWidth`.
    package var byteCount: Int
    /// CRC-32 of the tensor's bytes as stored in the directory.
    package var checksum: UInt32
    /// The source tensor name (provenance), `nil` when the file stores an empty name.
    package var source: String?
    /// Absolute file offset of this entry inside the header, for error messages.
    package var entryOffset: Int

    package init(
        path: String, dtype: DType, shape: [Int], offset: Int, byteCount: Int, checksum: UInt32, source: String?,
        entryOffset: Int = 0
    ) {
        self.path = path
        self.dtype = dtype
        self.shape = shape
        self.offset = offset
        self.byteCount = byteCount
        self.checksum = checksum
        self.source = source
        self.entryOffset = entryOffset
    }
}

/// Everything a `.lstmw` file says about itself except the tensor bytes: preamble fields, metadata and the
/// tensor directory. Parsing it checks the whole container framing (spec/binary.md §7, steps 1–5).
package struct BinaryHeader: Sendable {
    package var major: UInt16
    package var minor: UInt16
    /// Required-feature flags (0 in every format-1.0 file).
    package var flags: UInt32
    /// `header_length`: bytes from offset 32 to the end of the tensor directory.
    package var headerLength: Int
    /// The header CRC-32 (already verified).
    package var headerChecksum: UInt32
    /// Absolute offset of the data section: `32 + headerLength` rounded up to 64.
    package var dataOffset: Int
    /// Total file size in bytes.
    package var fileSize: Int
    /// Metadata entries in file order, unknown keys included.
    package var metadata: Attributes
    /// Directory entries in file order.
    package var tensors: [TensorEntry]

    /// The metadata value stored under `key`.
    package func value(forKey key: String) -> MetaValue? {
        metadata.first { $0.key == key }?.value
    }

    /// Absolute file offset of a tensor's first byte.
    package func fileOffset(of entry: TensorEntry) -> Int { dataOffset + entry.offset }
}

/// A bounds-checked little-endian cursor over the header region of a file.
struct ByteCursor {
    let data: Data
    /// Absolute file offset of the next byte.
    var offset: Int
    /// Absolute file offset just past the header.
    let end: Int
    let file: String?

    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws(BinaryFormatError) -> Data {
        guard count <= end - offset else {
            throw BinaryFormatError(
                .truncatedHeader, "\(what()) runs past the end of the header", file: file, offset: offset,
                expected: "\(count) bytes", found: "\(end - offset) bytes left")
        }
        let start = data.startIndex + offset
        offset += count
        return data[start..<start + count]
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(BinaryFormatError) -> UInt8 {
        let bytes = try take(1, what())
        return bytes[bytes.startIndex]
    }

    mutating func integer<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, _ what: @autoclosure () -> String
    ) throws(BinaryFormatError) -> T {
        ByteCursor.littleEndian(T.self, try take(MemoryLayout<T>.size, what()))
    }

    static func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, _ bytes: Data) -> T {
        var value: T = 0
        for (index, byte) in bytes.enumerated() { value |= T(byte) << (8 * index) }
        return value
    }

    static func littleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, in data: Data, at offset: Int) -> T {
        let start = data.startIndex + offset
        return littleEndian(T.self, data[start..<start + MemoryLayout<T>.size])
    }
}

extension BinaryHeader {
    /// Parses and checks the preamble, header and data-section layout of a whole file.
    ///
    /// Tensor checksums and model semantics are not checked here; ``BinaryFile`` does that.
    static func parse(_ data: Data, file: String?) throws(BinaryFormatError) -> BinaryHeader {
        try parse(data, fileSize: data.count, file: file)
    }

    /// Parses the preamble and header from `data`, which holds the first bytes of a file of `fileSize` bytes:
    /// the whole file, or (header-only reads) at least up to the data section. When `data` is shorter than the
    /// file, tensor extents and the trailing-bytes rule are checked against `fileSize`, and the zero padding
    /// between tensors — which lies in the data section — is not read.
    static func parse(_ data: Data, fileSize size: Int, file: String?) throws(BinaryFormatError) -> BinaryHeader {
        let wholeFile = data.count == size
        func fail(_ code: BinaryFormatError.Code, _ message: String, offset: Int?, expected: String? = nil, found: String? = nil) -> BinaryFormatError {
            BinaryFormatError(code, message, file: file, offset: offset, expected: expected, found: found)
        }
        func bytes(_ range: Range<Int>) -> [UInt8] {
            Array(data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)])
        }

        // 1. Signature and size.
        let prefix = bytes(0..<min(size, data.count, 10))
        if !prefix.prefix(8).elementsEqual(BinaryFormat.magic.prefix(min(size, 8))) {
            throw fail(.badMagic, diagnoseMagic(prefix), offset: 0,
                       expected: hexBytes(BinaryFormat.magic), found: hexBytes(Array(prefix.prefix(8))))
        }
        guard size >= BinaryFormat.preambleSize, data.count >= BinaryFormat.preambleSize else {
            let found = min(size, data.count)
            throw fail(.truncated, "the file has \(found) bytes; the preamble alone takes \(BinaryFormat.preambleSize)", offset: found)
        }

        // 2. Byte order, version, flags.
        let mark = bytes(BinaryFormat.Field.byteOrderMark..<BinaryFormat.Field.byteOrderMark + 4)
        if mark != BinaryFormat.byteOrderMark {
            if mark == BinaryFormat.byteOrderMark.reversed() {
                throw fail(.bigEndian, "the byte-order mark says big-endian; format 1 files are little-endian",
                           offset: BinaryFormat.Field.byteOrderMark, expected: hexBytes(BinaryFormat.byteOrderMark), found: hexBytes(mark))
            }
            throw fail(.badByteOrderMark, "the byte-order mark is neither little- nor big-endian",
                       offset: BinaryFormat.Field.byteOrderMark, expected: hexBytes(BinaryFormat.byteOrderMark), found: hexBytes(mark))
        }
        let major = ByteCursor.littleEndian(UInt16.self, in: data, at: BinaryFormat.Field.major)
        let minor = ByteCursor.littleEndian(UInt16.self, in: data, at: BinaryFormat.Field.minor)
        guard major >= 1, major <= BinaryFormat.supportedMajor else {
            let supported = "\(BinaryFormat.supportedMajor).x (up to \(BinaryFormat.supportedMajor).\(BinaryFormat.writtenMinor))"
            let message = major == 0
                ? "format 0.\(minor) is not a released version; this reader supports \(supported)"
                : "the file is format \(major).\(minor); this reader supports \(supported)"
            throw fail(.unsupportedVersion, message, offset: BinaryFormat.Field.major, expected: supported, found: "\(major).\(minor)")
        }
        let flags = ByteCursor.littleEndian(UInt32.self, in: data, at: BinaryFormat.Field.flags)
        let unknown = flags & ~BinaryFormat.knownRequiredFeatures
        guard unknown == 0 else {
            throw fail(.unknownRequiredFeature, "the file needs feature bits this reader does not implement",
                       offset: BinaryFormat.Field.flags, expected: BinaryFormat.hex(BinaryFormat.knownRequiredFeatures), found: BinaryFormat.hex(flags))
        }

        // 3. Header length and checksum.
        let rawLength = ByteCursor.littleEndian(UInt64.self, in: data, at: BinaryFormat.Field.headerLength)
        guard rawLength >= 1, rawLength <= UInt64(BinaryFormat.maxHeaderLength) else {
            throw fail(.invalidHeaderLength, "header_length must be 1…\(BinaryFormat.maxHeaderLength)",
                       offset: BinaryFormat.Field.headerLength, found: "\(rawLength)")
        }
        let headerLength = Int(rawLength)
        let headerEnd = BinaryFormat.preambleSize + headerLength
        guard headerEnd <= size, headerEnd <= data.count else {
            throw fail(.truncated, "the header ends at byte \(headerEnd) but the file has \(min(size, data.count)) bytes", offset: min(size, data.count))
        }
        let storedChecksum = ByteCursor.littleEndian(UInt32.self, in: data, at: BinaryFormat.Field.headerChecksum)
        let computedChecksum = headerChecksum(of: data, headerEnd: headerEnd)
        guard storedChecksum == computedChecksum else {
            throw fail(.headerChecksumMismatch, "the preamble or header is damaged",
                       offset: BinaryFormat.Field.headerChecksum, expected: BinaryFormat.hex(computedChecksum), found: BinaryFormat.hex(storedChecksum))
        }

        // 4. Metadata and directory.
        var cursor = ByteCursor(data: data, offset: BinaryFormat.preambleSize, end: headerEnd, file: file)
        let metadata = try parseMetadata(&cursor)
        let tensors = try parseDirectory(&cursor)
        guard cursor.offset == headerEnd else {
            throw fail(.headerTrailingBytes, "\(headerEnd - cursor.offset) bytes follow the tensor directory inside the header",
                       offset: cursor.offset, expected: "0", found: "\(headerEnd - cursor.offset)")
        }

        // 5. Data section: padding, extents, trailing bytes.
        guard let dataOffset = BinaryFormat.aligned(headerEnd), dataOffset <= size else {
            throw fail(.truncated, "the data section starts at byte \(BinaryFormat.aligned(headerEnd) ?? headerEnd) but the file has \(size) bytes", offset: size)
        }
        guard dataOffset <= data.count else {
            throw fail(.truncated, "the header was read only up to byte \(data.count)", offset: data.count)
        }
        try checkZero(data, headerEnd..<dataOffset, file: file, what: "padding before the data section")
        let dataSize = size - dataOffset
        var previousEnd = 0
        for entry in tensors {
            let end = entry.offset + entry.byteCount
            guard end <= dataSize else {
                throw BinaryFormatError(
                    .truncated, "the tensor ends at byte \(dataOffset + end) but the file has \(size) bytes",
                    file: file, offset: size, tensor: entry.path)
            }
            if wholeFile {
                try checkZero(data, (dataOffset + previousEnd)..<(dataOffset + entry.offset), file: file, what: "padding before \(entry.path)")
            }
            previousEnd = end
        }
        guard previousEnd == dataSize else {
            throw fail(.trailingBytes, "\(dataSize - previousEnd) bytes follow the last tensor",
                       offset: dataOffset + previousEnd, expected: "end of file at byte \(dataOffset + previousEnd)", found: "\(size) bytes")
        }

        return BinaryHeader(
            major: major, minor: minor, flags: flags, headerLength: headerLength, headerChecksum: storedChecksum,
            dataOffset: dataOffset, fileSize: size, metadata: metadata, tensors: tensors)
    }

    /// CRC-32 over bytes `0..<24` and `28..<headerEnd`: the whole preamble and header except the checksum field.
    static func headerChecksum(of data: Data, headerEnd: Int) -> UInt32 {
        let base = data.startIndex
        var covered = Data(capacity: headerEnd - 4)
        covered.append(data[base..<(base + BinaryFormat.Field.headerChecksum)])
        covered.append(data[(base + BinaryFormat.Field.flags)..<(base + headerEnd)])
        return Checksum.crc32(of: covered)
    }

    private static func parseMetadata(_ cursor: inout ByteCursor) throws(BinaryFormatError) -> Attributes {
        let file = cursor.file
        let countOffset = cursor.offset
        let count = try cursor.integer(UInt32.self, "the metadata count")
        guard count <= BinaryFormat.maxMetadataEntries else {
            throw BinaryFormatError(.invalidEntryCount, "too many metadata entries", file: file, offset: countOffset,
                                    expected: "at most \(BinaryFormat.maxMetadataEntries)", found: "\(count)")
        }
        var result: Attributes = []
        var seen = Set<String>()
        for index in 0..<Int(count) {
            let entryOffset = cursor.offset
            let keyLength = Int(try cursor.integer(UInt16.self, "the key length of metadata entry \(index)"))
            guard keyLength >= 1, keyLength <= BinaryFormat.maxKeyLength else {
                throw BinaryFormatError(.invalidKey, "metadata entry \(index) has a key of \(keyLength) bytes", file: file,
                                        offset: entryOffset, expected: "1…\(BinaryFormat.maxKeyLength) bytes", found: "\(keyLength)")
            }
            let keyBytes = try cursor.take(keyLength, "the key of metadata entry \(index)")
            guard BinaryFormat.isValidKey(keyBytes) else {
                throw BinaryFormatError(.invalidKey, "metadata entry \(index) has a key outside [A-Za-z0-9._-]", file: file,
                                        offset: entryOffset + 2, found: hexBytes(Array(keyBytes.prefix(32))))
            }
            let key = String(decoding: keyBytes, as: UTF8.self)
            guard seen.insert(key).inserted else {
                throw BinaryFormatError(.duplicateKey, "the key appears twice", file: file, offset: entryOffset, key: key)
            }
            let typeOffset = cursor.offset
            let typeCode = try cursor.u8("the value type of \(key)")
            guard let type = BinaryFormat.ValueType(rawValue: typeCode) else {
                throw BinaryFormatError(.unknownValueType, "value type code \(typeCode) is not 1 (int), 2 (double), 3 (string) or 4 (bool)",
                                        file: file, offset: typeOffset, key: key, found: "\(typeCode)")
            }
            let valueOffset = cursor.offset
            let value: MetaValue
            switch type {
            case .int:
                value = .int(Int64(bitPattern: try cursor.integer(UInt64.self, "the value of \(key)")))
            case .double:
                value = .double(Double(bitPattern: try cursor.integer(UInt64.self, "the value of \(key)")))
            case .string:
                let length = Int(try cursor.integer(UInt32.self, "the string length of \(key)"))
                guard length <= BinaryFormat.maxStringLength else {
                    throw BinaryFormatError(.invalidValue, "the string is too long", file: file, offset: valueOffset, key: key,
                                            expected: "at most \(BinaryFormat.maxStringLength) bytes", found: "\(length)")
                }
                let bytes = try cursor.take(length, "the string value of \(key)")
                guard let string = String(validating: bytes, as: UTF8.self) else {
                    throw BinaryFormatError(.invalidValue, "the string is not valid UTF-8", file: file, offset: valueOffset + 4, key: key)
                }
                value = .string(string)
            case .bool:
                let byte = try cursor.u8("the value of \(key)")
                guard byte <= 1 else {
                    throw BinaryFormatError(.invalidValue, "a bool is stored as 0 or 1", file: file, offset: valueOffset, key: key,
                                            expected: "0 or 1", found: "\(byte)")
                }
                value = .bool(byte == 1)
            }
            result.append((key, value))
        }
        return result
    }

    private static func parseDirectory(_ cursor: inout ByteCursor) throws(BinaryFormatError) -> [TensorEntry] {
        let file = cursor.file
        let countOffset = cursor.offset
        let count = try cursor.integer(UInt32.self, "the tensor count")
        guard count >= 1, count <= BinaryFormat.maxTensors else {
            throw BinaryFormatError(.invalidTensorCount, "the tensor count must be 1…\(BinaryFormat.maxTensors)", file: file,
                                    offset: countOffset, found: "\(count)")
        }
        var entries: [TensorEntry] = []
        var seen = Set<String>()
        var expectedOffset = 0
        for index in 0..<Int(count) {
            let entryOffset = cursor.offset
            let pathLength = Int(try cursor.integer(UInt16.self, "the path length of tensor entry \(index)"))
            guard pathLength >= 1, pathLength <= BinaryFormat.maxPathLength else {
                throw BinaryFormatError(.invalidTensorName, "tensor entry \(index) has a path of \(pathLength) bytes", file: file,
                                        offset: entryOffset, expected: "1…\(BinaryFormat.maxPathLength) bytes", found: "\(pathLength)")
            }
            let pathBytes = try cursor.take(pathLength, "the path of tensor entry \(index)")
            guard BinaryFormat.isValidPath(pathBytes) else {
                throw BinaryFormatError(.invalidTensorName, "tensor entry \(index) has a path outside [A-Za-z0-9_/]", file: file,
                                        offset: entryOffset + 2, found: hexBytes(Array(pathBytes.prefix(32))))
            }
            let path = String(decoding: pathBytes, as: UTF8.self)
            func fail(_ code: BinaryFormatError.Code, _ message: String, _ offset: Int, expected: String? = nil, found: String? = nil) -> BinaryFormatError {
                BinaryFormatError(code, message, file: file, offset: offset, tensor: path, expected: expected, found: found)
            }
            guard seen.insert(path).inserted else { throw fail(.duplicateTensor, "the path appears twice", entryOffset) }

            let dtypeOffset = cursor.offset
            let dtypeCode = try cursor.u8("the dtype of \(path)")
            guard let dtype = DType(code: dtypeCode) else {
                throw fail(.unknownDType, "dtype code \(dtypeCode) is not 1 (f32), 2 (f16), 3 (bf16) or 4 (f64)", dtypeOffset, found: "\(dtypeCode)")
            }
            let rankOffset = cursor.offset
            let rank = Int(try cursor.u8("the rank of \(path)"))
            guard rank >= 1, rank <= BinaryFormat.maxRank else {
                throw fail(.invalidRank, "rank must be 1…\(BinaryFormat.maxRank)", rankOffset, found: "\(rank)")
            }
            var shape: [Int] = []
            for axis in 0..<rank {
                let dimensionOffset = cursor.offset
                let raw = try cursor.integer(UInt64.self, "dimension \(axis) of \(path)")
                guard raw >= 1 else { throw fail(.invalidShape, "dimension \(axis) is 0", dimensionOffset, found: "0") }
                guard let dimension = Int(exactly: raw) else {
                    throw fail(.shapeOverflow, "dimension \(axis) does not fit a signed 64-bit integer", dimensionOffset, found: "\(raw)")
                }
                shape.append(dimension)
            }
            guard let elements = Tensor.elementCount(of: shape) else {
                throw fail(.shapeOverflow, "the element count of shape \(shape) overflows", rankOffset + 1)
            }
            let (byteSize, sizeOverflow) = elements.multipliedReportingOverflow(by: dtype.byteWidth)
            guard !sizeOverflow else {
                throw fail(.shapeOverflow, "the byte size of \(dtype.rawValue) shape \(shape) overflows", rankOffset + 1)
            }

            let offsetOffset = cursor.offset
            let rawOffset = try cursor.integer(UInt64.self, "the offset of \(path)")
            guard rawOffset % UInt64(BinaryFormat.alignment) == 0 else {
                throw fail(.misalignedOffset, "tensor offsets are multiples of \(BinaryFormat.alignment)", offsetOffset,
                           expected: "\(expectedOffset)", found: "\(rawOffset)")
            }
            guard rawOffset >= UInt64(expectedOffset) else {
                throw fail(.tensorOverlap, "the tensor starts before the previous tensor and its padding end", offsetOffset,
                           expected: "\(expectedOffset)", found: "\(rawOffset)")
            }
            guard rawOffset == UInt64(expectedOffset) else {
                throw fail(.tensorGap, "the tensor starts after the padding that follows the previous tensor", offsetOffset,
                           expected: "\(expectedOffset)", found: "\(rawOffset)")
            }
            let nbytesOffset = cursor.offset
            let nbytes = try cursor.integer(UInt64.self, "the byte count of \(path)")
            guard nbytes == UInt64(byteSize) else {
                throw fail(.byteCountMismatch, "nbytes must be the element count times \(dtype.byteWidth)", nbytesOffset,
                           expected: "\(byteSize)", found: "\(nbytes)")
            }
            let (end, endOverflow) = expectedOffset.addingReportingOverflow(byteSize)
            guard !endOverflow, let next = BinaryFormat.aligned(end) else {
                throw fail(.shapeOverflow, "the tensor's end offset overflows", nbytesOffset)
            }
            let checksum = try cursor.integer(UInt32.self, "the checksum of \(path)")
            let sourceOffset = cursor.offset
            let sourceLength = Int(try cursor.integer(UInt16.self, "the source-name length of \(path)"))
            guard sourceLength <= BinaryFormat.maxSourceLength else {
                throw fail(.invalidSourceName, "the source name is too long", sourceOffset,
                           expected: "at most \(BinaryFormat.maxSourceLength) bytes", found: "\(sourceLength)")
            }
            let sourceBytes = try cursor.take(sourceLength, "the source name of \(path)")
            guard let source = String(validating: sourceBytes, as: UTF8.self) else {
                throw fail(.invalidSourceName, "the source name is not valid UTF-8", sourceOffset + 2)
            }
            entries.append(TensorEntry(
                path: path, dtype: dtype, shape: shape, offset: expectedOffset, byteCount: byteSize, checksum: checksum,
                source: source.isEmpty ? nil : source, entryOffset: entryOffset))
            expectedOffset = next
        }
        return entries
    }

    private static func checkZero(_ data: Data, _ range: Range<Int>, file: String?, what: String) throws(BinaryFormatError) {
        let base = data.startIndex
        for offset in range where data[base + offset] != 0 {
            throw BinaryFormatError(.nonZeroPadding, "\(what) must be zero", file: file, offset: offset,
                                    expected: "00", found: hexBytes([data[base + offset]]))
        }
    }

    /// Names the damage when the signature is close to ours.
    static func diagnoseMagic(_ prefix: [UInt8]) -> String {
        let magic = BinaryFormat.magic
        let hdf5 = FileSignature.hdf5Magic
        if prefix.starts(with: hdf5) { return "this is an HDF5 file, not a .lstmw file" }
        if prefix.count >= 8, prefix[0] == magic[0] & 0x7F, prefix[1..<8].elementsEqual(magic[1..<8]) {
            return "bit 7 of the first byte is cleared: the file went through a 7-bit channel"
        }
        if prefix.starts(with: [0x89, 0x4C, 0x53, 0x54, 0x0A, 0x1A, 0x0A]) {
            return "CR LF became LF: the file was transferred in text mode"
        }
        if prefix.starts(with: [0x89, 0x4C, 0x53, 0x54, 0x0D, 0x0D, 0x0A, 0x1A, 0x0D, 0x0A])
            || prefix.starts(with: [0x89, 0x4C, 0x53, 0x54, 0x0D, 0x0A, 0x1A, 0x0D, 0x0A]) {
            return "LF became CR LF: the file was transferred in text mode"
        }
        return "not a .lstmw file"
    }

    static func hexBytes(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}
