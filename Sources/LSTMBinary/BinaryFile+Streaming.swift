import Dispatch
import Foundation
import LSTMModel

extension BinaryHeader {
    /// Reads and checks only the preamble and header of the file at `path` (spec/binary.md §7 steps 1–5 without
    /// the padding between tensors): at most `32 + header_length + 63` bytes are read, whatever the file's size.
    /// Tensor extents are checked against the file's size; no tensor byte is read.
    package static func read(path: String) throws(BinaryFormatError) -> BinaryHeader {
        let head: Data
        let size: Int
        do throws(PositionalRead.Failure) {
            let file = try PositionalRead(path: path)
            size = file.size
            let preamble = try file.bytes(at: 0, count: min(file.size, BinaryFormat.preambleSize))
            var wanted = preamble.count
            if preamble.count == BinaryFormat.preambleSize {
                let length = ByteCursor.littleEndian(UInt64.self, in: preamble, at: BinaryFormat.Field.headerLength)
                let bounded = Int(min(length, UInt64(BinaryFormat.maxHeaderLength)))
                wanted = min(file.size, BinaryFormat.preambleSize + bounded + BinaryFormat.alignment)
            }
            head = wanted == preamble.count ? preamble : try file.bytes(at: 0, count: wanted)
        } catch {
            throw BinaryFormatError(.cannotRead, error.message, file: path)
        }
        return try parse(head, fileSize: size, file: path)
    }

    /// The semantic problems the header shows (format keys, layer keys, hyperparameters against the tensor
    /// directory, canonical order) without reading tensor data, and the outline of the model.
    package func outline(file path: String?) -> ModelOutline {
        var keyProblem: String?
        do {
            try checkKeys(file: path)
        } catch {
            keyProblem = error.description
        }
        let layerCount: Int
        if case .int(let count) = value(forKey: RootKey.layerCount), count >= 1, count <= ModelLimits.maxLayers {
            layerCount = Int(count)
        } else {
            layerCount = 0
        }
        var outline = ModelOutline(
            attributes: SchemaAttributes(flattened: metadata, layerCount: layerCount),
            stored: tensors.map { ModelOutline.StoredTensor(path: $0.path, shape: $0.shape, dtype: $0.dtype) },
            canonicalOrder: true)
        if let keyProblem { outline.findings.insert(keyProblem, at: 0) }
        return outline
    }
}

extension BinaryFile {
    /// Verifies the file at `url` without holding it in memory: the header is read and checked, then every
    /// tensor's CRC-32 and the zero padding between tensors are recomputed with `pread` in 1 MiB pieces, the
    /// tensors split over `threads` threads (default: the active processor count, at most 4). Memory stays at
    /// the header plus 1 MiB per thread whatever the file's size.
    ///
    /// When every checksum matches, the model's semantics are checked from the header (``BinaryHeader/outline(file:)``);
    /// when the header shows a problem, the file is read whole once more to report exactly the error a load gives
    /// (``BinaryVerification/modelError``).
    package static func verifyStreaming(_ url: URL, threads: Int? = nil) throws(BinaryFormatError) -> BinaryVerification {
        let path = url.path
        let header = try BinaryHeader.read(path: path)
        let file: PositionalRead
        do throws(PositionalRead.Failure) {
            file = try PositionalRead(path: path)
        } catch {
            throw BinaryFormatError(.cannotRead, error.message, file: path)
        }
        guard file.size == header.fileSize else {
            throw BinaryFormatError(.truncated, "the file changed size while it was verified", file: path, offset: file.size,
                                    expected: "\(header.fileSize) bytes", found: "\(file.size) bytes")
        }
        // Padding between tensors (at most 63 bytes each): read and checked up front.
        var previousEnd = 0
        for entry in header.tensors {
            let gap = entry.offset - previousEnd
            if gap > 0 {
                let start = header.dataOffset + previousEnd
                let zero: Bool?
                do throws(PositionalRead.Failure) {
                    zero = try file.isZero(at: start, count: gap)
                } catch {
                    throw BinaryFormatError(.cannotRead, error.message, file: path)
                }
                guard let zero else {
                    throw BinaryFormatError(.truncated, "the file ends inside the padding before \(entry.path)", file: path, offset: start)
                }
                guard zero else {
                    throw BinaryFormatError(.nonZeroPadding, "padding before \(entry.path) must be zero", file: path, offset: start)
                }
            }
            previousEnd = entry.offset + entry.byteCount
        }

        let entries = header.tensors
        let workers = max(1, min(threads ?? min(ProcessInfo.processInfo.activeProcessorCount, 4), entries.count))
        // Balance bytes: each tensor goes to the worker with the least work so far, largest tensors first.
        var load = [Int](repeating: 0, count: workers)
        var assignment = [[Int]](repeating: [], count: workers)
        for index in entries.indices.sorted(by: { entries[$0].byteCount > entries[$1].byteCount }) {
            let worker = load.indices.min { load[$0] < load[$1] } ?? 0
            assignment[worker].append(index)
            load[worker] += entries[index].byteCount
        }
        let results = ChecksumSlots(count: entries.count)
        let observer = WorkProgress.observer  // task-locals do not reach the Dispatch workers
        let plan = assignment
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: PositionalRead.chunk, alignment: 64)
            defer { scratch.deallocate() }
            for index in plan[worker] {
                let entry = entries[index]
                results.set(index, Result { () throws(PositionalRead.Failure) in
                    try file.crc32(at: header.fileOffset(of: entry), count: entry.byteCount, scratch: scratch, progress: observer)
                })
            }
        }
        var checks: [BinaryVerification.TensorCheck] = []
        for (index, entry) in entries.enumerated() {
            let computed: UInt32
            switch results.get(index) {
            case .success(let value?): computed = value
            case .success(nil):
                throw BinaryFormatError(.truncated, "the file ends inside the tensor", file: path, offset: header.fileOffset(of: entry), tensor: entry.path)
            case .failure(let failure):
                throw BinaryFormatError(.cannotRead, failure.message, file: path, tensor: entry.path)
            }
            checks.append(BinaryVerification.TensorCheck(
                path: entry.path, dtype: entry.dtype, shape: entry.shape, offset: header.fileOffset(of: entry),
                stored: entry.checksum, computed: computed))
        }
        var modelError: BinaryFormatError?
        if checks.allSatisfy(\.isValid), let finding = header.outline(file: path).findings.first {
            // A file that will not load: the precise error a load gives (its code and message) comes from
            // rebuilding the model, which reads the file whole — only ever for a file whose header is wrong.
            do {
                _ = try BinaryFile(contentsOf: url).model(verifyChecksums: false)
                modelError = BinaryFormatError(.invalidModel, finding, file: path)
            } catch {
                modelError = error
            }
        }
        return BinaryVerification(headerChecksum: header.headerChecksum, tensors: checks, modelError: modelError)
    }
}

/// One result slot per tensor, each written by exactly one worker of ``BinaryFile/verifyStreaming(_:threads:)``
/// and read after they all finished.
private final class ChecksumSlots: @unchecked Sendable {
    private var slots: [Result<UInt32?, PositionalRead.Failure>]
    private let lock = NSLock()

    init(count: Int) {
        slots = Array(repeating: .success(nil), count: count)
    }

    func set(_ index: Int, _ value: Result<UInt32?, PositionalRead.Failure>) {
        lock.withLock { slots[index] = value }
    }

    func get(_ index: Int) -> Result<UInt32?, PositionalRead.Failure> {
        lock.withLock { slots[index] }
    }
}

extension BinaryHeader {
    /// How many `layer.<k>.` groups the metadata holds (k = 0, 1, … up to the largest canonical index + 1),
    /// capped at ``ModelLimits/maxLayers``: the layer attributes shown even when `layer_count` is wrong.
    package var layerGroupCount: Int {
        var count = 0
        for entry in metadata where entry.key.hasPrefix("layer.") {
            let index = entry.key.dropFirst("layer.".count).prefix { $0 != "." }
            if let number = Int(index), String(number) == index, number < ModelLimits.maxLayers { count = max(count, number + 1) }
        }
        return count
    }
}

/// Reads single tensors of a `.lstmw` file with `pread`, each into its own 64-byte-aligned buffer, its CRC-32
/// checked against the directory: the source side of a streaming conversion (one tensor in memory at a time).
package final class BinaryTensorReader: Sendable {
    package let header: BinaryHeader
    private let file: PositionalRead
    private let path: String

    /// Reads and checks the header of `url` (``BinaryHeader/read(path:)``).
    package init(_ url: URL) throws(BinaryFormatError) {
        path = url.path
        header = try BinaryHeader.read(path: path)
        do throws(PositionalRead.Failure) {
            file = try PositionalRead(path: path)
        } catch {
            throw BinaryFormatError(.cannotRead, error.message, file: path)
        }
    }

    /// The bytes of `entry`, read whole and checked against its CRC-32.
    package func bytes(of entry: TensorEntry) throws(BinaryFormatError) -> Data {
        let offset = header.fileOffset(of: entry)
        let data: Data
        do throws(PositionalRead.Failure) {
            data = try file.bytes(at: offset, count: entry.byteCount)
        } catch {
            throw BinaryFormatError(.cannotRead, error.message, file: path, tensor: entry.path)
        }
        guard data.count == entry.byteCount else {
            throw BinaryFormatError(.truncated, "the file ends inside the tensor", file: path, offset: offset + data.count, tensor: entry.path)
        }
        WorkProgress.advance(data.count)
        let computed = Checksum.crc32(of: data)
        guard computed == entry.checksum else {
            throw BinaryFormatError(
                .tensorChecksumMismatch, "the tensor's bytes are damaged", file: path, offset: offset, tensor: entry.path,
                expected: BinaryFormat.hex(entry.checksum), found: BinaryFormat.hex(computed))
        }
        return data
    }
}
