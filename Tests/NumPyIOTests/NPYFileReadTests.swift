import AtomicFileIO
import Foundation
import Testing

@testable import NumPyIO

/// `NumPyArray(contentsOf:)` reads the header, then the data straight into the array with `pread`; anything it
/// does not take as it is goes through `init(npyData:)`. Either way a file gives exactly what its bytes give.
@Suite("NumPy .npy direct file reader and writer")
struct NPYFileReadTests {
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return names.filter { $0.hasSuffix(".npy") }.sorted()
    }()

    /// The array, or the error code, of decoding `url`'s bytes in memory.
    static func decoded(_ url: URL) throws -> Result<NumPyArray, NumPyError> {
        let data = try Data(contentsOf: url)
        return Result { () throws(NumPyError) in try NumPyArray(npyData: data) }
    }

    static func read(_ url: URL) -> Result<NumPyArray, NumPyError> {
        Result { () throws(NumPyError) in try NumPyArray(contentsOf: url) }
    }

    static func same(_ a: Result<NumPyArray, NumPyError>, _ b: Result<NumPyArray, NumPyError>) -> Bool {
        switch (a, b) {
        case (.success(let x), .success(let y)): x.shape == y.shape && x.npyData() == y.npyData()
        case (.failure(let x), .failure(let y)): x.code == y.code
        default: false
        }
    }

    @Test(arguments: files)
    func everyFixtureReadsAsItsBytesDecode(_ name: String) throws {
        let url = fixture(name)
        #expect(Self.same(Self.read(url), try Self.decoded(url)), "\(name)")
    }

    @Test func truncatedLongHeaderAndTrailingBytesFilesReadAsTheirBytesDecode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-direct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("x.npy")
        var cases: [[UInt8]] = []
        for file in ["f4_le.npy", "f8_be.npy", "i8_le.npy", "f8_v3.npy"] {
            let bytes = [UInt8](try Data(contentsOf: fixture(file)))
            // Every prefix: the header, the data, one byte short.
            for length in stride(from: 0, to: bytes.count, by: 5) { cases.append(Array(bytes[0..<length])) }
            cases.append(Array(bytes.dropLast()))
            cases.append(bytes + [1, 2, 3])  // trailing bytes are ignored
        }
        // A header longer than the first read (rank-2000 shape: about 6 KB), intact and cut inside the header.
        let long = [UInt8](try NumPyArray(shape: [Int](repeating: 1, count: 2000) + [3], float64: [1, 2, 3]).npyData())
        #expect(long.count > NPYFileRead.firstRead)
        cases.append(long)
        cases.append(Array(long[0..<5000]))
        for (index, bytes) in cases.enumerated() {
            try Data(bytes).write(to: url)
            #expect(Self.same(Self.read(url), try Self.decoded(url)), "case \(index) (\(bytes.count) bytes)")
        }
    }

    @Test func theDirectReaderTakesWellFormedFilesItself() throws {
        for name in ["f4_le.npy", "f8_be.npy", "i4_be.npy", "f4_empty.npy", "f4_scalar.npy", "f8_v2.npy"] {
            let direct = try #require(NPYFileRead.array(at: fixture(name).path), "\(name)")
            #expect(Self.same(.success(direct), try Self.decoded(fixture(name))), "\(name)")
        }
        #expect(NPYFileRead.array(at: fixture("f4_truncated.npy").path) == nil)
        #expect(NPYFileRead.array(at: fixture("object.npy").path) == nil)
        #expect(NPYFileRead.array(at: fixtures.path) == nil)  // a folder
    }

    @Test func stagedOutputHasTheBytesOfNpyData() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("npy-stage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("y.npy")
        let arrays = [
            try NumPyArray(shape: [2, 3, 2], float32: (0..<12).map { Float($0) * 0.5 - 1 }),
            try NumPyArray(shape: [3], float64: [1e-300, -0.0, .nan]),
            try NumPyArray(shape: [0, 4], float32: []),
            try NumPyArray(shape: [2], int64: [.min, .max]),
        ]
        for array in arrays {
            let staged = try array.stage(to: url, overwrite: true) { NumPyError(atomicWrite: $0) }
            try AtomicFile.commit([staged])
            #expect(try Data(contentsOf: url) == array.npyData())
        }
        // Without overwrite an existing output is refused and nothing is left behind.
        let error = #expect(throws: NumPyError.self) { try arrays[0].stage(to: url, overwrite: false) { NumPyError(atomicWrite: $0) } }
        #expect(error?.code == .fileExists)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["y.npy"])
    }
}
