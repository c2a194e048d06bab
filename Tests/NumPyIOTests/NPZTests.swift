import Foundation
import NumPyIO
import Testing

@Suite("NumPy .npz archives")
struct NPZTests {
    @Test(arguments: ["arrays.npz", "arrays_compressed.npz"])
    func readsNumpyArchives(_ file: String) throws {
        let archive = try NPZArchive(contentsOf: fixture(file))
        #expect(archive.names == ["first", "second"])
        let first = try archive.array("first")
        #expect(first.shape == [2, 3])
        #expect(first.storage == .float32(floatValues(6).map(Float.init)))
        #expect(try archive.array("second").storage == .int64(integerValues(4)))
        let error = #expect(throws: NumPyError.self) { try archive.array("third") }
        #expect(error?.code == .missingEntry)
    }

    @Test func writesDeterministically() throws {
        var archive = NPZArchive()
        archive.set("layer_0/forward/STM", try NumPyArray(shape: [2, 3], float64: floatValues(6)))
        archive.set("output", try NumPyArray(shape: [4], int64: integerValues(4)))
        for compressed in [false, true] {
            let first = try archive.npzData(compressed: compressed)
            let second = try archive.npzData(compressed: compressed)
            #expect(first == second)
            #expect(try NPZArchive(npzData: first) == archive)
        }
        archive.set("output", try NumPyArray(shape: [1], int64: [5]))
        #expect(archive.names == ["layer_0/forward/STM", "output"])
        #expect(archive["output"]?.count == 1)
    }

    @Test func badArchives() throws {
        let notZip = #expect(throws: NumPyError.self) { try NPZArchive(npzData: Data("not a zip".utf8)) }
        #expect(notZip?.code == .badArchive)
        let npy = try Data(contentsOf: fixture("f4_le.npy"))
        #expect(throws: NumPyError(.badArchive)) { try NPZArchive(npzData: npy) }
    }

    /// numpy reads what we write (CI has python3 with numpy; so does every developer machine that runs the tests).
    @Test func numpyReadsOurArchive() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("states.npz")
        var archive = NPZArchive()
        archive.set("layer_0/forward/STM", try NumPyArray(shape: [2, 3], float32: floatValues(6).map(Float.init)))
        archive.set("big", try NumPyArray(shape: [3], int64: [1, -2, 3]))
        try archive.write(to: url, compressed: true)
        #expect(throws: NumPyError(.fileExists)) { try archive.write(to: url) }
        let script = """
            import numpy as np, sys
            z = np.load(sys.argv[1])
            assert list(z.keys()) == ['layer_0/forward/STM', 'big'], list(z.keys())
            a = z['layer_0/forward/STM']
            assert a.dtype == np.float32 and a.shape == (2, 3)
            assert (a == (np.arange(6) * 0.75 - 2.5).reshape(2, 3)).all()
            assert (z['big'] == np.array([1, -2, 3])).all() and z['big'].dtype == np.int64
            print('ok')
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }
}

/// Inputs found by fuzzing (scripts/fuzz/, target FuzzNPZ): each must end in a typed error.
@Suite("NumPy .npz fuzz regressions")
struct NPZFuzzRegressionTests {
    /// A valid archive whose central directory sends the reader to `offset` for the entry's local header.
    static func archive(localHeaderOffset offset: UInt32) throws -> Data {
        var archive = NPZArchive()
        archive.set("x", try NumPyArray(shape: [2], float64: [1, 2]))
        var bytes = [UInt8](try archive.npzData())
        let signature: [UInt8] = [0x50, 0x4b, 0x01, 0x02]  // central directory file header
        let start = try #require((0...(bytes.count - 4)).first { Array(bytes[$0..<$0 + 4]) == signature })
        withUnsafeBytes(of: offset.littleEndian) { bytes.replaceSubrange(start + 42..<start + 46, with: $0) }
        return Data(bytes)
    }

    /// ZIPFoundation's in-memory reader trapped here (an inverted range in `MemoryFile.readData`). Its file-backed
    /// iterator, used now, stops at the unreadable entry instead, so the entry is missing: asking for it is a
    /// typed error. (The archive does not report that its directory promised more entries.)
    @Test("a local header offset past the end of the data is not a trap", arguments: [UInt32(10_000), 0x7fff_0000])
    func localHeaderPastTheEnd(offset: UInt32) throws {
        let data = try Self.archive(localHeaderOffset: offset)
        do {
            let archive = try NPZArchive(npzData: data)
            #expect(archive.names.isEmpty)
            let error = #expect(throws: NumPyError.self) { try archive.array("x") }
            #expect(error?.code == .missingEntry)
        } catch {
            #expect(error.code == .badArchive)
        }
    }

    @Test func theUnpatchedArchiveReads() throws {
        var archive = NPZArchive()
        archive.set("x", try NumPyArray(shape: [2], float64: [1, 2]))
        #expect(try NPZArchive(npzData: try Self.archive(localHeaderOffset: 0)) == archive)
    }

    @Test func aMissingFileIsNoSuchFile() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-no-such-\(UUID().uuidString).npz")
        let error = #expect(throws: NumPyError.self) { try NPZArchive(contentsOf: url) }
        #expect(error?.code == .noSuchFile)
        #expect(error?.failureKind == .noSuchFile)
    }
}
