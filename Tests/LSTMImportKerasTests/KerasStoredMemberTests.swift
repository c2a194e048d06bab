import FileSignatures
import Foundation
import LSTMLayouts
import LSTMImportKeras
import LSTMTestSupport
import Testing

/// A `.keras` archive's `model.weights.h5` stored uncompressed (as Keras 3 writes it) is copied by the kernel
/// from its byte range and its CRC-32 checked; the range is found from the zip records.
@Suite("Stored .keras weights: located, copied, CRC-checked")
struct KerasStoredMemberTests {
    static let archives = KerasFixtures.sources.filter { $0.kind == .archive }.map(\.file)

    @Test("the located range holds exactly the member's bytes (compared with Python's zipfile)", arguments: archives.prefix(4))
    func locatedRangeMatchesZipfile(_ url: URL) throws {
        let stored = try #require(FileSignature.zipStoredMember(at: url, named: "model.weights.h5"))
        let file = try Data(contentsOf: url)
        let slice = file[stored.offset ..< stored.offset + stored.size]
        // An independent reader: Python's zipfile, when present.
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read('model.weights.h5'))", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let expected = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(Data(slice) == expected)
        #expect(FileSignature.zipStoredMember(at: url, named: "no-such-member") == nil)
    }

    @Test("a flipped byte inside the stored weights fails the CRC-32 check, naming the member")
    func damagedStoredMemberIsRefused() throws {
        let source = try #require(Self.archives.first)
        let stored = try #require(FileSignature.zipStoredMember(at: source, named: "model.weights.h5"))
        var bytes = try Data(contentsOf: source)
        bytes[stored.offset + stored.size / 2] ^= 0xFF
        let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-stored-\(UUID().uuidString).keras")
        defer { try? FileManager.default.removeItem(at: damaged) }
        try bytes.write(to: damaged)
        let error = #expect(throws: ImportError.self) { try KerasImporter.importFile(at: damaged) }
        #expect(error?.code == .malformedSource)
        #expect(error?.description.contains("CRC-32") == true)
        #expect(error?.description.contains("model.weights.h5") == true)
    }
}
