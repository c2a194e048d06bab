import Foundation

extension FileSignature {
    /// Largest central directory this check walks (entries); readers apply their own, smaller caps afterwards.
    static let maxZipEntries = 1_000_000

    /// What is wrong with a zip archive's end records and central directory, judged against the file's size before
    /// a zip library trusts them; `nil` when every offset and size points inside the file (or the file has no end
    /// record at all, which the zip library then reports itself).
    ///
    /// ZIPFoundation converts the zip64 offsets it reads to `Int` without checking them, so a structurally valid
    /// archive with an offset of 2^63 or more traps the process; every zip reader calls this first.
    public static func zipStructureProblem(at url: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), let size = Int(exactly: end), size >= 22 else { return nil }
        func read(_ offset: Int, _ count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, offset <= size - count,
                  (try? handle.seek(toOffset: UInt64(offset))) != nil,
                  let data = try? handle.read(upToCount: count), data.count == count else { return nil }
            return [UInt8](data)
        }
        let tailLength = min(size, 22 + 65_535)
        guard let tail = read(size - tailLength, tailLength) else { return nil }
        guard let e = (0...(tail.count - 22)).reversed().first(where: { tail[$0..<($0 + 4)].elementsEqual(zipEndOfDirectory) }) else {
            return nil
        }
        let eocd = size - tailLength + e
        func u16(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(b[at]) | UInt64(b[at + 1]) << 8 }
        func u32(_ b: [UInt8], _ at: Int) -> UInt64 { u16(b, at) | u16(b, at + 2) << 16 }
        func u64(_ b: [UInt8], _ at: Int) -> UInt64 { u32(b, at) | u32(b, at + 4) << 32 }
        let record = Array(tail[e..<(e + 22)])
        var entries = u16(record, 10), directorySize = u32(record, 12), directoryOffset = u32(record, 16)
        var directoryEnd = UInt64(eocd)
        let locatorSignature: [UInt8] = [0x50, 0x4B, 0x06, 0x07]
        if eocd >= 20, let locator = read(eocd - 20, 20), locator.starts(with: locatorSignature) {
            let offset = u64(locator, 8)
            guard eocd >= 76, offset <= UInt64(eocd - 76), let zip64 = read(Int(offset), 56),
                  zip64.starts(with: [0x50, 0x4B, 0x06, 0x06]) else {
                return "the zip64 end-of-central-directory locator points to offset \(offset), outside the file (\(size) bytes) or not at a zip64 record"
            }
            entries = u64(zip64, 32)
            directorySize = u64(zip64, 40)
            directoryOffset = u64(zip64, 48)
            directoryEnd = offset
        }
        guard directoryOffset <= directoryEnd, directorySize <= directoryEnd - directoryOffset else {
            return "the central directory (offset \(directoryOffset), \(directorySize) bytes) does not lie inside the file (\(size) bytes)"
        }
        guard entries <= UInt64(maxZipEntries) else {
            return "the archive declares \(entries) entries, above the limit of \(maxZipEntries)"
        }
        guard let directory = read(Int(directoryOffset), Int(directorySize)) else { return nil }
        var at = 0
        for index in 0..<Int(entries) {
            guard at + 46 <= directory.count, directory[at..<(at + 4)].elementsEqual([0x50, 0x4B, 0x01, 0x02]) else {
                return "central directory entry \(index) at offset \(Int(directoryOffset) + at) is missing or truncated"
            }
            let nameLength = Int(u16(directory, at + 28)), extraLength = Int(u16(directory, at + 30))
            let commentLength = Int(u16(directory, at + 32))
            let headerEnd = at + 46 + nameLength + extraLength + commentLength
            guard headerEnd <= directory.count else {
                return "central directory entry \(index) at offset \(Int(directoryOffset) + at) runs past the directory"
            }
            var values: [UInt64] = []
            var field = at + 46 + nameLength
            let extraEnd = field + extraLength
            while field + 4 <= extraEnd {
                let id = u16(directory, field), length = Int(u16(directory, field + 2))
                guard field + 4 + length <= extraEnd else { break }
                if id == 0x0001 {
                    var value = field + 4
                    while value + 8 <= field + 4 + length {
                        values.append(u64(directory, value))
                        value += 8
                    }
                }
                field += 4 + length
            }
            let localOffset = u32(directory, at + 42)
            let limit = UInt64(Int.max / 2)
            if let huge = values.first(where: { $0 > limit }) {
                return "central directory entry \(index) has a zip64 size or offset of \(huge), beyond any file"
            }
            if localOffset != 0xFFFF_FFFF, localOffset >= UInt64(size) {
                return "central directory entry \(index) points to offset \(localOffset), past the end of the file (\(size) bytes)"
            }
            at = headerEnd
        }
        return nil
    }
}
