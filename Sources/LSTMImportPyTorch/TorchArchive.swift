import Foundation
import LSTMLayouts
import LSTMModel
import ZIPFoundation
import FileSignatures

/// Readers of the files `torch.save` writes: the zip archive (PyTorch ≥ 1.6) and the legacy stream (< 1.6).
///
/// Zip layout: `<name>/data.pkl` (the pickled object), `<name>/data/<key>` (one raw storage per key),
/// `<name>/byteorder` (`little` or `big`), `<name>/version`. Storages are referenced from the pickle by
/// persistent id `('storage', torch.<X>Storage, key, location, numel)`.
public enum TorchArchive {
    /// The magic number a legacy `torch.save` stream starts with (pickled as a 10-byte LONG1).
    static let legacyMagic = FileSignature.legacyTorchMagic

    /// Whether `prefix` starts like a zip file (local file header or empty-archive record).
    public static func looksLikeZip(_ prefix: Data) -> Bool {
        FileSignature.sniff(prefix) == .zip
    }

    /// Whether `prefix` starts like a legacy (non-zip) `torch.save` stream: its first pickle is the magic number
    /// `0x1950a86a20f9469cfc6c`, written as `LONG1` after `PROTO 2/3` (or after `PROTO 4/5` and a `FRAME`), or as
    /// a text `LONG` by protocols 0 and 1 (`torch.save(..., _use_new_zipfile_serialization=False, pickle_protocol=N)`).
    public static func looksLikeLegacy(_ prefix: Data) -> Bool {
        FileSignature.sniff(prefix) == .legacyTorch
    }

    /// Whether `prefix` starts like a bare pickle (protocol 2 or later).
    public static func looksLikePickle(_ prefix: Data) -> Bool {
        let signature = FileSignature.sniff(prefix)
        return signature == .pickle || signature == .legacyTorch
    }

    /// Whether the zip at `url` is a `torch.save` archive (has exactly one `<name>/data.pkl`).
    public static func isTorchArchive(at url: URL) -> Bool {
        guard FileSignature.zipStructureProblem(at: url) == nil,
              let archive = try? Archive(url: url, accessMode: .read, pathEncoding: nil) else { return false }
        return archive.contains { isPicklePath($0.path) }
    }

    static func isPicklePath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1] == "data.pkl"
    }

    // MARK: - Zip archives

    /// Reads a `torch.save` zip archive.
    public static func readZip(at url: URL, limits: PyTorchReadLimits = PyTorchReadLimits()) throws(ImportError) -> StateDict {
        try readZip(at: url, limits: limits, cache: nil)
    }

    /// ``readZip(at:limits:)``; with `cache` (a streaming import) no storage is read here: each tensor is checked
    /// against its storage's declared size and reads its storage member when it is materialised.
    package static func readZip(at url: URL, limits: PyTorchReadLimits, cache: SourceCache?) throws(ImportError) -> StateDict {
        if let problem = FileSignature.zipStructureProblem(at: url) {
            throw ImportError(.malformedSource, "not a readable zip archive: \(problem)")
        }
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw ImportError(.malformedSource, "not a readable zip archive (truncated or damaged): \(error)")
        }
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? Int.max
        var entries: [String: Entry] = [:]
        var count = 0
        for entry in archive {
            count += 1
            guard count <= 1_000_000 else { throw ImportError(.archiveLimit, "more than 1,000,000 zip entries") }
            try checkDeclaredSize(entry, fileSize: fileSize, limits: limits)
            // Python's zipfile reads the last of two members with one name, a first-wins reader the first: refuse.
            guard entries.updateValue(entry, forKey: entry.path) == nil else {
                throw ImportError(.malformedSource, "the archive holds two members named `\(entry.path)`", location: entry.path)
            }
        }
        let pickles = entries.keys.filter(isPicklePath).sorted()
        guard let picklePath = pickles.first else {
            throw ImportError(.unrecognizedSource, "a zip without `<name>/data.pkl` is not a torch.save archive")
        }
        guard pickles.count == 1 else {
            throw ImportError(.malformedSource, "the archive has several pickles: \(pickles.joined(separator: ", "))")
        }
        let root = String(picklePath.dropLast("data.pkl".count))
        var reader = EntryReader(archive: archive, limits: limits)

        var metadata: [String: String] = [:]
        var bigEndian = false
        if let entry = entries[root + "byteorder"] {
            let text = String(decoding: try reader.read(entry, cap: 64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text == "little" || text == "big" else {
                throw ImportError(.malformedSource, "byteorder is \"\(text)\", expected little or big", location: entry.path)
            }
            bigEndian = text == "big"
            metadata["byteorder"] = text
        }
        if let entry = entries[root + "version"] {
            metadata["archive_version"] = String(decoding: try reader.read(entry, cap: 64), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let pickleEntry = entries[picklePath] else {
            throw ImportError(.malformedSource, "missing \(picklePath)")
        }
        let pickle = try reader.read(pickleEntry, cap: limits.maxPickleBytes)

        var storages: [String: StorageRef] = [:]
        var unpickler = Unpickler(pickle) { (id: PickleValue) throws(ImportError) -> PickleValue in
            let storage = try storageReference(id, legacy: false)
            if let known = storages[storage.key], known != storage {
                throw ImportError(.malformedSource, "storage \(storage.key) is declared twice with different types or sizes")
            }
            storages[storage.key] = storage
            return .storage(storage)
        }
        let root0: PickleValue
        do {
            root0 = try unpickler.load()
        } catch {
            throw error.at(picklePath)
        }

        if let cache {
            return try deferredZip(
                root0, storages: storages, entries: entries, root: root, archive: archive, url: url, bigEndian: bigEndian, limits: limits,
                cache: cache, metadata: metadata)
        }
        var storageBytes: [String: Data] = [:]
        for (key, storage) in storages.sorted(by: { $0.key < $1.key }) {
            let (_, entry, _) = try storageEntry(key, storage, root: root, entries: entries, limits: limits)
            storageBytes[key] = try reader.read(entry, cap: limits.maxEntryBytes)
        }
        // Tensors first, so that a short storage is reported with the tensor that needs the missing bytes.
        let flat = try flatten(root0)
        let materialised = try materialise(flat, storages: storageBytes, bigEndian: bigEndian, limits: limits)
        for (key, storage) in storages.sorted(by: { $0.key < $1.key }) {
            let size = storageBytes[key]?.count ?? 0
            guard size == storage.count * storage.elementType.width else {
                throw ImportError(
                    .malformedSource,
                    "storage \(key) holds \(size) bytes, its declaration says \(storage.count) \(storage.elementType.name) elements (\(storage.count * storage.elementType.width) bytes)",
                    location: root + "data/" + key)
            }
        }
        return StateDict(format: .torchZip, entries: materialised, metadata: metadata)
    }

    static func checkDeclaredSize(_ entry: Entry, fileSize: Int, limits: PyTorchReadLimits) throws(ImportError) {
        let declared = entry.uncompressedSize
        guard declared <= UInt64(limits.maxEntryBytes) else {
            throw ImportError(
                .archiveLimit, "entry declares \(declared) uncompressed bytes, over the limit of \(limits.maxEntryBytes)", location: entry.path)
        }
        guard entry.compressedSize <= UInt64(fileSize) else {
            throw ImportError(.malformedSource, "entry declares \(entry.compressedSize) compressed bytes in a \(fileSize)-byte file", location: entry.path)
        }
        if !entry.isCompressed, declared != entry.compressedSize {
            throw ImportError(
                .malformedSource, "stored entry declares \(declared) bytes uncompressed but \(entry.compressedSize) stored",
                location: entry.path)
        }
        if entry.isCompressed, declared > 1 << 20,
            declared / max(entry.compressedSize, 1) > UInt64(limits.maxCompressionRatio)
        {
            throw ImportError(
                .archiveLimit,
                "entry expands \(entry.compressedSize) → \(declared) bytes (ratio over \(limits.maxCompressionRatio)): a zip bomb",
                location: entry.path)
        }
    }

    /// Extracts entries under the size caps, checking sizes and CRC-32.
    struct EntryReader {
        let archive: Archive
        let limits: PyTorchReadLimits
        var total = 0

        /// Thrown from inside ZIPFoundation's consumer to stop extraction past a cap.
        struct Overflow: Error {}

        mutating func read(_ entry: Entry, cap: Int) throws(ImportError) -> Data {
            let declared = Int(clamping: entry.uncompressedSize)
            let limit = min(cap, declared, limits.maxTotalBytes - total)
            guard declared <= limit else {
                throw ImportError(.archiveLimit, "entry of \(declared) bytes is over the limit of \(min(cap, limits.maxTotalBytes - total))", location: entry.path)
            }
            // `declared` is within the limits just checked: reserve it all so the chunks land in one buffer.
            var output = Data()
            output.reserveCapacity(declared)
            let checksum: UInt32
            do {
                checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                    guard output.count + chunk.count <= limit else { throw Overflow() }
                    output.append(chunk)
                    WorkProgress.advance(chunk.count)
                }
            } catch is Overflow {
                throw ImportError(
                    .archiveLimit, "entry expands past its declared \(declared) bytes (limit \(limit)); extraction stopped",
                    location: entry.path)
            } catch {
                throw ImportError(.malformedSource, "cannot extract the entry (truncated or damaged archive): \(error)", location: entry.path)
            }
            guard output.count == declared else {
                throw ImportError(.malformedSource, "entry holds \(output.count) bytes, \(declared) declared (truncated archive)", location: entry.path)
            }
            guard checksum == entry.checksum else {
                throw ImportError(.malformedSource, "CRC-32 mismatch (damaged archive)", location: entry.path)
            }
            total += output.count
            return output
        }
    }

    /// The zip member of storage `key` (`<root>data/<key>`) and the byte count the pickle declares for it, checked
    /// against the entry limit.
    private static func storageEntry(
        _ key: String, _ storage: StorageRef, root: String, entries: [String: Entry], limits: PyTorchReadLimits
    ) throws(ImportError) -> (path: String, entry: Entry, byteCount: Int) {
        let path = root + "data/" + key
        guard let entry = entries[path] else {
            throw ImportError(.malformedSource, "the pickle references storage \(key) but the archive has no \(path)", location: path)
        }
        let needed = storage.count.multipliedReportingOverflow(by: storage.elementType.width)
        guard !needed.overflow, needed.partialValue <= limits.maxEntryBytes else {
            throw ImportError(.archiveLimit, "storage \(key) declares \(storage.count) elements, over the limit", location: path)
        }
        return (path, entry, needed.partialValue)
    }

    /// The tensors of a zip archive described from the pickle and the members' declared sizes, each reading its
    /// storage member (CRC-checked, size-checked) and cutting its view when materialised.
    private static func deferredZip(
        _ root0: PickleValue, storages: [String: StorageRef], entries: [String: Entry], root: String, archive: Archive, url: URL,
        bigEndian: Bool, limits: PyTorchReadLimits, cache: SourceCache, metadata: [String: String]
    ) throws(ImportError) -> StateDict {
        // torch.save stores its members uncompressed: such a storage is read by `pread` of its range and its CRC-32
        // checked with zlib, instead of through ZIPFoundation's extraction (a third of the import's time).
        let storedMembers = FileSignature.zipStoredMembers(at: url)
        let file = try SourceFile(url)
        var total = 0
        var declaredSizes: [String: Int] = [:]
        for (key, storage) in storages.sorted(by: { $0.key < $1.key }) {
            let (path, entry, needed) = try storageEntry(key, storage, root: root, entries: entries, limits: limits)
            let declared = Int(clamping: entry.uncompressedSize)
            guard declared <= limits.maxEntryBytes, declared <= limits.maxTotalBytes - total else {
                throw ImportError(.archiveLimit, "entry of \(declared) bytes is over the limit", location: path)
            }
            total += declared
            guard declared == needed else {
                throw ImportError(
                    .malformedSource,
                    "storage \(key) holds \(declared) bytes, its declaration says \(storage.count) \(storage.elementType.name) elements (\(needed) bytes)",
                    location: path)
            }
            declaredSizes[key] = declared
        }
        var seen = Set<String>()
        var result: [(key: String, value: StateTensor)] = []
        for (key, leaf) in try flatten(root0) {
            guard seen.insert(key).inserted else { throw ImportError(.malformedSource, "duplicate key", location: key) }
            guard case .tensor(let ref) = leaf else {
                if case .other(let kind) = leaf { result.append((key, .notATensor(kind))) }
                continue
            }
            guard let declared = declaredSizes[ref.storage.key], let entry = entries[root + "data/" + ref.storage.key] else {
                throw ImportError(.malformedSource, "storage \(ref.storage.key) was not loaded", location: key)
            }
            let stored = declared / max(ref.elementType.width, 1)
            if let count = Tensor.elementCount(of: ref.size), count > stored, let extent = StridedCopy.extent(ref), extent <= stored {
                result.append((key, .notATensor("stride-0 (expanded) view of \(count) elements over a storage of \(stored)")))
                continue
            }
            // The view checked against the declared storage now (an empty stand-in of that size is never read).
            _ = try StridedCopy.checkView(ref, storageBytes: declared, maxBytes: limits.maxEntryBytes, key: key)
            guard let dtype = ref.elementType.dtype else {
                result.append((key, .unsupported(dtype: ref.elementType.name, shape: ref.size)))
                continue
            }
            do {
                let member = storedMembers[entry.path].flatMap { member in
                    !entry.isCompressed && UInt64(member.size) == entry.uncompressedSize && member.crc32 == entry.checksum ? member : nil
                }
                let tensor = try cache.tensor(dtype: dtype, shape: ref.size) {
                    let storage: Data
                    if let member {
                        storage = try file.read(offset: member.offset, count: member.size, location: entry.path)
                        guard Checksum.crc32(of: storage) == member.crc32 else {
                            throw ImportError(.malformedSource, "CRC-32 mismatch (damaged archive)", location: entry.path)
                        }
                    } else {
                        var reader = EntryReader(archive: archive, limits: limits)
                        storage = try reader.read(entry, cap: limits.maxEntryBytes)
                    }
                    guard storage.count == declared else {
                        throw ImportError(.malformedSource, "storage \(ref.storage.key) changed size while being read", location: key)
                    }
                    let bytes = try StridedCopy.gather(ref, from: storage, maxBytes: limits.maxEntryBytes, key: key)
                    return bigEndian ? StridedCopy.swapped(bytes, width: dtype.byteWidth) : bytes
                }
                result.append((key, .tensor(tensor)))
            } catch {
                throw ImportError(.malformedSource, error.description, location: key)
            }
        }
        return StateDict(format: .torchZip, entries: result, metadata: metadata)
    }

    // MARK: - Legacy stream and bare pickles

    /// Reads a legacy (PyTorch < 1.6) `torch.save` stream, or a bare pickle with no storages.
    public static func readStream(_ data: Data, limits: PyTorchReadLimits = PyTorchReadLimits()) throws(ImportError) -> StateDict {
        guard looksLikeLegacy(data) else {
            // A bare pickle: allowed only if it references no storage (so it cannot hold tensors).
            var unpickler = Unpickler(data) { (_: PickleValue) throws(ImportError) -> PickleValue in
                throw ImportError(.malformedSource, "a bare pickle cannot reference tensor storages; expected a torch.save archive")
            }
            let value = try unpickler.load()
            return StateDict(format: .pickle, entries: try materialise(try flatten(value), storages: [:], bigEndian: false, limits: limits))
        }
        var storages: [String: StorageRef] = [:]
        var unpickler = Unpickler(data) { (id: PickleValue) throws(ImportError) -> PickleValue in
            let storage = try storageReference(id, legacy: true)
            if let known = storages[storage.key], known != storage {
                throw ImportError(.malformedSource, "storage \(storage.key) is declared twice with different types or sizes")
            }
            storages[storage.key] = storage
            return .storage(storage)
        }
        _ = try unpickler.load()  // magic number
        guard case .int(let protocolVersion) = try unpickler.load(), protocolVersion == 1001 else {
            throw ImportError(.malformedSource, "legacy torch.save stream with an unknown protocol version (expected 1001)", offset: unpickler.offset)
        }
        var bigEndian = false
        if case .dict(let info) = try unpickler.load() {
            for (key, value) in info.items {
                if case .string("little_endian") = key, case .bool(let little) = value { bigEndian = !little }
            }
        }
        let value = try unpickler.load()
        guard case .list(let keyList) = try unpickler.load() else {
            throw ImportError(.malformedSource, "legacy torch.save stream without its storage key list", offset: unpickler.offset)
        }
        var position = unpickler.position
        var storageBytes: [String: Data] = [:]
        for item in keyList.items {
            guard case .string(let key) = item, let storage = storages[key] else {
                throw ImportError(.malformedSource, "legacy storage list names a storage the pickle does not use", offset: position - data.startIndex)
            }
            guard data.endIndex - position >= 8 else {
                throw ImportError(.malformedSource, "storage \(key) is truncated", location: key, offset: position - data.startIndex)
            }
            var raw = [UInt8](data[position ..< position + 8])
            if bigEndian { raw.reverse() }
            let count = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            position += 8
            let (needed, overflow) = storage.count.multipliedReportingOverflow(by: storage.elementType.width)
            guard count == UInt64(storage.count), !overflow, needed <= limits.maxEntryBytes else {
                throw ImportError(.malformedSource, "storage \(key) holds \(count) elements, the pickle declares \(storage.count)", location: key)
            }
            guard data.endIndex - position >= needed else {
                throw ImportError(
                    .malformedSource, "storage \(key) is shorter than its declared \(storage.count) elements", location: key,
                    offset: position - data.startIndex)
            }
            storageBytes[key] = data.subdata(in: position ..< position + needed)
            position += needed
        }
        for key in storages.keys where storageBytes[key] == nil {
            throw ImportError(.malformedSource, "storage \(key) is used by the pickle but not stored", location: key)
        }
        let entries = try materialise(try flatten(value), storages: storageBytes, bigEndian: bigEndian, limits: limits)
        return StateDict(format: .torchLegacy, entries: entries, metadata: ["byteorder": bigEndian ? "big" : "little"])
    }

    /// Decodes a persistent id `('storage', torch.<X>Storage, key, location, numel[, view_metadata])`.
    static func storageReference(_ id: PickleValue, legacy: Bool) throws(ImportError) -> StorageRef {
        guard case .tuple(let items, _) = id, items.count == (legacy ? 6 : 5), case .string("storage") = items[0] else {
            throw ImportError(.malformedSource, "persistent id is not ('storage', type, key, location, numel)")
        }
        guard case .global(.storage(let elementType), _) = items[1] else {
            throw ImportError(.forbiddenPickle, "persistent id names a \(items[1].kind), not a torch storage class; nothing was executed")
        }
        guard case .string(let key) = items[2], !key.isEmpty, key.count <= 128,
            key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }), !key.contains("..")
        else {
            throw ImportError(.malformedSource, "persistent id has a bad storage key")
        }
        guard case .int(let count) = items[4], count >= 0 else {
            throw ImportError(.malformedSource, "persistent id has a bad element count", location: key)
        }
        if legacy, case .none = items[5] {} else if legacy {
            throw ImportError(.malformedSource, "legacy storage views are not supported; re-save with PyTorch ≥ 1.6", location: key)
        }
        return StorageRef(key: key, elementType: elementType, count: count)
    }

    // MARK: - From pickle values to tensors

    /// A leaf of the unpickled object with its dotted key.
    enum Leaf {
        case tensor(TensorRef)
        case other(String)
    }

    /// Most keys and dictionaries `flatten` visits. The memo lets a small pickle share one dict under many keys
    /// at every level (10 keys × 9 levels of one shared dict: a 1 KB file, 10⁹ keys), so the walk is capped.
    static let maxFlattenedEntries = 100_000

    /// Flattens nested dicts into dotted keys, in insertion order.
    static func flatten(_ root: PickleValue) throws(ImportError) -> [(key: String, leaf: Leaf)] {
        guard case .dict(let top) = root else {
            throw ImportError(
                .unrecognizedSource, "the file holds a pickled \(root.kind), not a state_dict; save `model.state_dict()`")
        }
        var result: [(String, Leaf)] = []
        var visited = 0
        func visit(_ prefix: String, _ dict: PickleDict, _ depth: Int) throws(ImportError) {
            guard depth < 16 else { throw ImportError(.malformedSource, "dictionaries nested deeper than 16", location: prefix) }
            visited += dict.items.count
            guard visited <= maxFlattenedEntries else {
                throw ImportError(
                    .archiveLimit, "the state_dict has more than \(maxFlattenedEntries) keys (nested dicts shared through the pickle memo?)",
                    location: prefix)
            }
            for (key, value) in dict.items {
                let name: String
                switch key {
                case .string(let text): name = text
                case .int(let number): name = String(number)
                default: throw ImportError(.malformedSource, "a state_dict key is a \(key.kind), not a string", location: prefix)
                }
                let full = prefix.isEmpty ? name : prefix + "." + name
                switch value {
                case .tensor(let tensor): result.append((full, .tensor(tensor)))
                case .dict(let child): try visit(full, child, depth + 1)
                default: result.append((full, .other(value.kind)))
                }
            }
        }
        try visit("", top, 0)
        return result
    }

    /// Cuts every tensor out of its storage (offset, sizes, strides), byte-swapping big-endian data.
    static func materialise(
        _ leaves: [(key: String, leaf: Leaf)], storages: [String: Data], bigEndian: Bool, limits: PyTorchReadLimits
    ) throws(ImportError) -> [(key: String, value: StateTensor)] {
        var seen = Set<String>()
        var result: [(key: String, value: StateTensor)] = []
        for (key, leaf) in leaves {
            guard seen.insert(key).inserted else { throw ImportError(.malformedSource, "duplicate key", location: key) }
            switch leaf {
            case .other(let kind):
                result.append((key, .notATensor(kind)))
            case .tensor(let ref):
                guard let storage = storages[ref.storage.key] else {
                    throw ImportError(.malformedSource, "storage \(ref.storage.key) was not loaded", location: key)
                }
                // A view with more elements than its storage repeats them (stride 0, `expand`): a few bytes can
                // declare gigabytes. Parameters are never such views, so it is kept unexpanded as a non-tensor:
                // listed if unused, refused by name if the mapping needs it.
                let stored = storage.count / max(ref.elementType.width, 1)
                if let count = Tensor.elementCount(of: ref.size), count > stored, let extent = StridedCopy.extent(ref), extent <= stored {
                    result.append((key, .notATensor("stride-0 (expanded) view of \(count) elements over a storage of \(stored)")))
                    continue
                }
                let bytes = try StridedCopy.gather(ref, from: storage, maxBytes: limits.maxEntryBytes, key: key)
                guard let dtype = ref.elementType.dtype else {
                    result.append((key, .unsupported(dtype: ref.elementType.name, shape: ref.size)))
                    continue
                }
                let ordered = bigEndian ? StridedCopy.swapped(bytes, width: dtype.byteWidth) : bytes
                do {
                    result.append((key, .tensor(try Tensor(dtype: dtype, shape: ref.size, bytes: ordered))))
                } catch {
                    throw ImportError(.malformedSource, error.description, location: key)
                }
            }
        }
        return result
    }
}

/// Strided views of storages, copied element by element into C order.
enum StridedCopy {
    /// One past the last storage element the view touches (`nil` on overflow, a negative stride or rank mismatch).
    static func extent(_ ref: TensorRef) -> Int? {
        guard ref.size.count == ref.stride.count, ref.offset >= 0 else { return nil }
        var extent = ref.offset
        for (size, stride) in zip(ref.size, ref.stride) where size > 0 {
            guard stride >= 0 else { return nil }
            let (step, overflowStep) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflowSum) = extent.addingReportingOverflow(step)
            guard !overflowStep, !overflowSum else { return nil }
            extent = sum
        }
        return extent + 1
    }

    /// The bytes of `ref` in C order. The view must lie inside the storage.
    static func gather(_ ref: TensorRef, from storage: Data, maxBytes: Int, key: String) throws(ImportError) -> Data {
        guard let (count, byteCount, extent) = try checkView(ref, storageBytes: storage.count, maxBytes: maxBytes, key: key) else { return Data() }
        let width = ref.elementType.width
        let base = storage.startIndex + ref.offset * width
        var contiguous = true
        var expected = 1
        for (size, stride) in zip(ref.size, ref.stride).reversed() where size != 1 {
            if stride != expected { contiguous = false }
            expected *= size
        }
        if contiguous { return storage[base ..< base + byteCount] }  // a view on the storage, not a copy
        return gatherStrided(ref, storage: storage, base: base, count: count, byteCount: byteCount, extent: extent)
    }

    /// Checks that the view `ref` lies inside a storage of `storageBytes` bytes and is under `maxBytes`: its element
    /// count, byte count and last element index (`nil` for an empty view).
    static func checkView(_ ref: TensorRef, storageBytes: Int, maxBytes: Int, key: String) throws(ImportError) -> (Int, Int, Int)? {
        let width = ref.elementType.width
        guard ref.size.count == ref.stride.count else {
            throw ImportError(.malformedSource, "size \(ref.size) and stride \(ref.stride) differ in rank", location: key)
        }
        guard let count = Tensor.elementCount(of: ref.size) else {
            throw ImportError(.malformedSource, "size \(ref.size) overflows", location: key)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, byteCount <= maxBytes else {
            throw ImportError(.archiveLimit, "tensor of size \(ref.size) is over the \(maxBytes)-byte limit", location: key)
        }
        if count == 0 { return nil }
        // Last element index + 1, with overflow checks.
        var extent = ref.offset
        for (size, stride) in zip(ref.size, ref.stride) {
            let (step, overflowStep) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflowSum) = extent.addingReportingOverflow(step)
            guard !overflowStep, !overflowSum else { throw ImportError(.malformedSource, "strides overflow", location: key) }
            extent = sum
        }
        let available = storageBytes / width
        guard extent < available else {
            throw ImportError(
                .malformedSource,
                "the storage holds \(available) \(ref.elementType.name) elements but the tensor (offset \(ref.offset), size \(ref.size), stride \(ref.stride)) needs \(extent + 1)",
                location: key)
        }
        return (count, byteCount, extent)
    }

    private static func gatherStrided(_ ref: TensorRef, storage: Data, base: Int, count: Int, byteCount: Int, extent: Int) -> Data {
        let width = ref.elementType.width
        let source = [UInt8](storage[base ..< storage.startIndex + (extent + 1) * width])
        var output = [UInt8](repeating: 0, count: byteCount)
        var index = [Int](repeating: 0, count: ref.size.count)
        var sourceElement = 0
        for element in 0..<count {
            let from = sourceElement * width
            let to = element * width
            for byte in 0..<width { output[to + byte] = source[from + byte] }
            // Advance the multi-index (last axis fastest).
            var axis = ref.size.count - 1
            while axis >= 0 {
                index[axis] += 1
                sourceElement += ref.stride[axis]
                if index[axis] < ref.size[axis] { break }
                sourceElement -= ref.stride[axis] * index[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return Data(output)
    }

    /// Reverses the bytes of every `width`-byte element.
    static func swapped(_ bytes: Data, width: Int) -> Data {
        var raw = [UInt8](bytes)
        var start = 0
        while start + width <= raw.count {
            raw[start ..< start + width].reverse()
            start += width
        }
        return Data(raw)
    }
}

extension ImportError {
    /// The same error located at `path` when it has no location yet.
    func at(_ path: String) -> ImportError {
        var copy = self
        if copy.place == nil { copy.place = path }
        return copy
    }
}
