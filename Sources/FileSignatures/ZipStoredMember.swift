import Foundation

extension FileSignature {
    /// Where the bytes of a member stored without compression lie in a zip archive.
    public struct ZipStoredMember: Sendable, Equatable {
        /// The first byte of the member's data in the archive file.
        public var offset: Int
        /// The member's size (stored: compressed size = uncompressed size).
        public var size: Int
        /// The CRC-32 the central directory records.
        public var crc32: UInt32
    }

    /// The data range of member `name` when it is stored uncompressed (method 0), from its central-directory entry
    /// and its local header (whose name and extra-field lengths decide where the data starts); `nil` when the
    /// member is compressed, absent, encrypted, or any offset or size does not lie inside the file. Call
    /// ``zipStructureProblem(at:)`` first; this walks the same records.
    public static func zipStoredMember(at url: URL, named name: String) -> ZipStoredMember? {
        zipStoredMembers(at: url, named: name)[name]
    }

    /// ``zipStoredMember(at:named:)`` of every member stored uncompressed, by name, in one walk of the central
    /// directory (a member whose records do not agree is left out; a damaged directory gives an empty result).
    public static func zipStoredMembers(at url: URL) -> [String: ZipStoredMember] {
        zipStoredMembers(at: url, named: nil)
    }

    private static func zipStoredMembers(at url: URL, named name: String?) -> [String: ZipStoredMember] {
        var found: [String: ZipStoredMember] = [:]
        guard let handle = try? FileHandle(forReadingFrom: url) else { return [:] }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), let size = Int(exactly: end), size >= 22 else { return [:] }
        func read(_ offset: Int, _ count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, offset <= size - count,
                  (try? handle.seek(toOffset: UInt64(offset))) != nil,
                  let data = try? handle.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        func u16(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(b[at]) | UInt64(b[at + 1]) << 8 }
        func u32(_ b: [UInt8], _ at: Int) -> UInt64 { u16(b, at) | u16(b, at + 2) << 16 }
        func u64(_ b: [UInt8], _ at: Int) -> UInt64 { u32(b, at) | u32(b, at + 4) << 32 }
        let tailLength = min(size, 22 + 65_535)
        guard let tail = read(size - tailLength, tailLength),
              let e = (0...(tail.count - 22)).reversed().first(where: { tail[$0..<($0 + 4)].elementsEqual(zipEndOfDirectory) })
        else { return [:] }
        let eocd = size - tailLength + e
        let record = Array(tail[e..<(e + 22)])
        var entries = u16(record, 10), directorySize = u32(record, 12), directoryOffset = u32(record, 16)
        if eocd >= 20, let locator = read(eocd - 20, 20), locator.starts(with: [0x50, 0x4B, 0x06, 0x07]) {
            let offset = u64(locator, 8)
            guard offset <= UInt64(Int.max / 2), let zip64 = read(Int(offset), 56), zip64.starts(with: [0x50, 0x4B, 0x06, 0x06]) else { return [:] }
            entries = u64(zip64, 32)
            directorySize = u64(zip64, 40)
            directoryOffset = u64(zip64, 48)
        }
        guard entries <= UInt64(maxZipEntries), directoryOffset <= UInt64(size), directorySize <= UInt64(size),
              let directory = read(Int(directoryOffset), Int(directorySize))
        else { return [:] }
        let wanted = name.map { Array($0.utf8) }
        var at = 0
        for _ in 0..<Int(entries) {
            guard at + 46 <= directory.count, directory[at..<(at + 4)].elementsEqual([0x50, 0x4B, 0x01, 0x02]) else { return found }
            let nameLength = Int(u16(directory, at + 28)), extraLength = Int(u16(directory, at + 30))
            let headerEnd = at + 46 + nameLength + extraLength + Int(u16(directory, at + 32))
            guard headerEnd <= directory.count else { return found }
            defer { at = headerEnd }
            let nameBytes = directory[(at + 46)..<(at + 46 + nameLength)]
            if let wanted, !nameBytes.elementsEqual(wanted) { continue }
            let flags = u16(directory, at + 8), method = u16(directory, at + 10)
            guard method == 0, flags & 1 == 0 else { continue }  // stored, not encrypted
            var compressed = u32(directory, at + 20), uncompressed = u32(directory, at + 24), local = u32(directory, at + 42)
            // zip64: the extra field holds, in this order, each of these that is 0xFFFFFFFF in the entry.
            var field = at + 46 + nameLength
            let extraEnd = field + extraLength
            while field + 4 <= extraEnd {
                let id = u16(directory, field), length = Int(u16(directory, field + 2))
                guard field + 4 + length <= extraEnd else { break }
                if id == 0x0001 {
                    var value = field + 4
                    for keyPath in [0, 1, 2] {
                        let isWide = keyPath == 0 ? uncompressed == 0xFFFF_FFFF : keyPath == 1 ? compressed == 0xFFFF_FFFF : local == 0xFFFF_FFFF
                        guard isWide else { continue }
                        guard value + 8 <= field + 4 + length else { break }
                        switch keyPath {
                        case 0: uncompressed = u64(directory, value)
                        case 1: compressed = u64(directory, value)
                        default: local = u64(directory, value)
                        }
                        value += 8
                    }
                }
                field += 4 + length
            }
            guard compressed == uncompressed, local < UInt64(size), let header = read(Int(local), 30),
                  header.starts(with: [0x50, 0x4B, 0x03, 0x04])
            else { continue }
            let start = Int(local) + 30 + Int(u16(header, 26)) + Int(u16(header, 28))
            guard uncompressed <= UInt64(size), start <= size - Int(uncompressed) else { continue }
            let member = String(decoding: nameBytes, as: UTF8.self)
            if found[member] == nil {
                found[member] = ZipStoredMember(offset: start, size: Int(uncompressed), crc32: UInt32(u32(directory, at + 16)))
            }
            if wanted != nil { return found }
        }
        return found
    }
}
