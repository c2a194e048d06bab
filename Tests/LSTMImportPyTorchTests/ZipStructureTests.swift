import FileSignatures
import Foundation
import LSTMImportPyTorch
import LSTMLayouts
import LSTMTestSupport
import Testing

/// Zip archives whose end records point outside the file: ZIPFoundation traps on a zip64 offset of 2^63 or more,
/// so every zip reader checks the end records and the central directory against the file size first.
@Suite("Zip end records are checked before ZIPFoundation reads them")
struct ZipStructureTests {
    static let traps = ["zip64_offset_trap_1.pt", "zip64_offset_trap_2.pt"]

    @Test("fuzz-found zip64 offset traps are refused with a typed error, not a crash", arguments: traps)
    func trapsAreRefused(name: String) throws {
        let url = FixturePaths.fixture("hostile/zipfoundation/\(name)")
        let problem = try #require(FileSignature.zipStructureProblem(at: url))
        #expect(problem.contains("zip64") || problem.contains("central directory"), "\(problem)")
        #expect(throws: ImportError(.malformedSource, "")) { try PyTorchImporter.importFile(at: url) }
        #expect(!TorchArchive.isTorchArchive(at: url))
    }

    @Test("every real zip fixture (.pt, .keras, .npz) passes the check")
    func realArchivesPass() throws {
        var checked = 0
        for folder in ["pytorch", "keras", "models", "numpy"] {
            let root = FixturePaths.fixture(folder)
            guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in walker where ["pt", "keras", "npz"].contains(url.pathExtension) {
                guard let head = try? FileHandle(forReadingFrom: url).read(upToCount: 4), FileSignature.sniff(head) == .zip,
                      !url.path.contains("/bad/") else { continue }
                #expect(FileSignature.zipStructureProblem(at: url) == nil, "\(url.path)")
                checked += 1
            }
        }
        #expect(checked >= 50, "zip fixtures checked: \(checked)")
    }

    @Test("a directory offset past the file (classic record, or zip64 record at 2^63) is refused, not trapped on")
    func directoryOffsetOutOfRange() throws {
        let source = FixturePaths.fixture("pytorch/lstm_1layer/model.pt")
        var bytes = [UInt8](try Data(contentsOf: source))
        func last(_ signature: [UInt8]) -> Int? {
            (0...(bytes.count - 4)).reversed().first { Array(bytes[$0..<($0 + 4)]) == signature }
        }
        let end = try #require(last([0x50, 0x4B, 0x05, 0x06]))
        if end >= 20, Array(bytes[(end - 20)..<(end - 16)]) == [0x50, 0x4B, 0x06, 0x07] {
            // zip64: the record's central-directory offset (8 bytes at +48) becomes 2^63 + 256.
            let record = try #require(last([0x50, 0x4B, 0x06, 0x06]))
            bytes.replaceSubrange((record + 48)..<(record + 56), with: [0x00, 0x01, 0, 0, 0, 0, 0, 0x80])
        } else {
            bytes.replaceSubrange((end + 16)..<(end + 20), with: [0xF0, 0xFF, 0xFF, 0x7F])
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-zip-\(UUID().uuidString).pt")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(bytes).write(to: url)
        #expect(FileSignature.zipStructureProblem(at: url) != nil)
        #expect(throws: ImportError(.malformedSource, "")) { try PyTorchImporter.importFile(at: url) }
    }
}
