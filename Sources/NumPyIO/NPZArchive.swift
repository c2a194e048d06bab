import AtomicFileIO
import Foundation
import ZIPFoundation
import FileSignatures

/// A `.npz` file: a zip of `.npy` entries, as `numpy.savez` and `numpy.savez_compressed` write them.
///
/// Entry `name.npy` holds the array named `name`; entries keep their archive order.
public struct NPZArchive: Sendable, Equatable {
    /// The arrays with their names, in archive order.
    public private(set) var entries: [(name: String, array: NumPyArray)]

    /// An archive holding `entries`, in order.
    public init(_ entries: [(name: String, array: NumPyArray)] = []) {
        self.entries = entries
    }

    public static func == (lhs: NPZArchive, rhs: NPZArchive) -> Bool {
        lhs.entries.map(\.name) == rhs.entries.map(\.name) && lhs.entries.map(\.array) == rhs.entries.map(\.array)
    }

    /// The names, in archive order.
    public var names: [String] { entries.map(\.name) }

    /// The array called `name`, or `nil`.
    public subscript(name: String) -> NumPyArray? {
        entries.first(where: { $0.name == name })?.array
    }

    /// The array called `name`, or a ``NumPyError/Code/missingEntry`` error listing what the archive holds.
    public func array(_ name: String) throws(NumPyError) -> NumPyArray {
        guard let array = self[name] else {
            throw NumPyError(.missingEntry, "no array \"\(name)\"; the archive holds \(names.joined(separator: ", "))")
        }
        return array
    }

    /// Adds or replaces the array called `name`.
    public mutating func set(_ name: String, _ array: NumPyArray) {
        if let index = entries.firstIndex(where: { $0.name == name }) {
            entries[index].array = array
        } else {
            entries.append((name, array))
        }
    }

    /// Largest `.npy` entry, declared or produced while inflating (a zip bomb stops here).
    public static let maxEntryBytes: UInt64 = 4 << 30

    /// Decodes `.npz` bytes (stored or deflated entries).
    ///
    /// The bytes go through a temporary file: ZIPFoundation's in-memory archive traps when an entry's local
    /// header offset points past the end of the data (it builds an inverted range), its file-backed reader
    /// reports end of file instead.
    public init(npzData data: Data) throws(NumPyError) {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-\(UUID().uuidString).npz")
        do {
            try data.write(to: url)
        } catch {
            throw NumPyError(.io, "cannot write a temporary copy of the archive", path: url.path, underlying: error as NSError)
        }
        defer { try? FileManager.default.removeItem(at: url) }
        try self.init(archiveAt: url)
    }

    /// Reads a `.npz` file.
    ///
    /// - Parameters:
    ///   - url: the archive.
    ///   - maxEntryBytes: the most any entry may declare (and inflate to), when the caller knows what it expects
    ///     (e.g. states of a known batch and width); an entry declaring more is refused before it is inflated.
    ///     Never more than the type's own limit of 4 GiB.
    public init(contentsOf url: URL, maxEntryBytes: UInt64 = NPZArchive.maxEntryBytes) throws(NumPyError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isReadableFile(atPath: url.path)
        else {
            throw NumPyError(.noSuchFile, "cannot read the file", path: url.path)
        }
        do {
            try self.init(archiveAt: url, entryLimit: min(maxEntryBytes, Self.maxEntryBytes))
        } catch {
            var located = error
            located.path = url.path + (error.path.map { ":" + $0 } ?? "")
            throw located
        }
    }

    private init(archiveAt url: URL, entryLimit: UInt64 = NPZArchive.maxEntryBytes) throws(NumPyError) {
        if let problem = FileSignature.zipStructureProblem(at: url) {
            throw NumPyError(.badArchive, "not a readable zip archive: \(problem)")
        }
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw NumPyError(.badArchive, "not a readable zip archive", underlying: error as NSError)
        }
        struct Overflow: Error {}
        var entries: [(name: String, array: NumPyArray)] = []
        var names: Set<String> = []
        for entry in archive where entry.type == .file {
            let path = entry.path
            // numpy.load reads the last of two members with one name: refuse the ambiguity.
            guard names.insert(path).inserted else {
                throw NumPyError(.badArchive, "the archive holds two entries named \"\(path)\"")
            }
            guard path.hasSuffix(".npy") else {
                throw NumPyError(.badArchive, "entry \"\(path)\" is not a .npy file")
            }
            let declared = entry.uncompressedSize
            guard declared <= Self.maxEntryBytes else {
                throw NumPyError(.badArchive, "entry \"\(path)\" declares \(declared) bytes, over the limit of \(Self.maxEntryBytes)")
            }
            guard declared <= entryLimit else {
                throw NumPyError(
                    .badArchive, "entry \"\(path)\" declares \(declared) bytes; what is expected here needs at most \(entryLimit)")
            }
            var bytes = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    guard UInt64(bytes.count + chunk.count) <= declared else { throw Overflow() }
                    bytes.append(chunk)
                }
            } catch is Overflow {
                throw NumPyError(.badArchive, "entry \"\(path)\" inflates past its declared \(declared) bytes; extraction stopped")
            } catch {
                throw NumPyError(.badArchive, "cannot extract entry \"\(path)\"", underlying: error as NSError)
            }
            do {
                entries.append((String(path.dropLast(4)), try NumPyArray(npyData: bytes)))
            } catch {
                throw error.located(path)
            }
        }
        self.entries = entries
    }

    /// Encodes the archive deterministically: entries in order, fixed timestamps (1980-01-01 00:00:00 UTC) and
    /// permissions (0644); stored (as `numpy.savez`) or deflated (as `numpy.savez_compressed`).
    public func npzData(compressed: Bool = false) throws(NumPyError) -> Data {
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            let fixedDate = Date(timeIntervalSince1970: 315_532_800)
            for (name, array) in entries {
                let bytes = array.npyData()
                try archive.addEntry(
                    with: name + ".npy", type: .file, uncompressedSize: Int64(bytes.count), modificationDate: fixedDate,
                    permissions: 0o644, compressionMethod: compressed ? .deflate : .none
                ) { position, size in
                    bytes.subdata(in: Int(position)..<(Int(position) + size))
                }
            }
            guard let data = archive.data else { throw NumPyError(.io, "the in-memory archive has no data") }
            return data
        } catch let error as NumPyError {
            throw error
        } catch {
            throw NumPyError(.io, "cannot build the archive", underlying: error as NSError)
        }
    }

    /// Writes the archive: to a temporary file beside `url`, then renamed into place.
    ///
    /// - Throws: ``NumPyError/Code/fileExists`` when `url` exists and `overwrite` is false.
    public func write(to url: URL, overwrite: Bool = false, compressed: Bool = false) throws(NumPyError) {
        try AtomicFile.write(try npzData(compressed: compressed), to: url, overwrite: overwrite, mapError: NumPyError.init(atomicWrite:))
    }
}
