import Foundation
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

/// The committed HDF5 golden files: our writer reproduces them byte for byte, and they decode to the golden models.
///
/// Set `LSTMCONV_RECORD_GOLDEN=1` to rewrite them (after a deliberate format change only).
@Suite struct GoldenFileTests {
    static let record = ProcessInfo.processInfo.environment["LSTMCONV_RECORD_GOLDEN"] == "1"

    static func url(_ name: String, compressed: Bool) -> URL {
        Fixtures.hdf5("golden/\(name)\(compressed ? ".compressed" : "").h5")
    }

    @Test(arguments: goldenNames, [false, true])
    func writerReproducesGoldenFile(name: String, compressed: Bool) throws {
        let golden = Self.url(name, compressed: compressed)
        let directory = try TemporaryDirectory()
        let written = directory.file("out.h5")
        try HDF5Encoding.write(LSTMHDF5Tests.golden(name), to: written, options: HDF5WriteOptions(compress: compressed))
        if Self.record {
            try FileManager.default.createDirectory(at: golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? FileManager.default.removeItem(at: golden)
            try FileManager.default.copyItem(at: written, to: golden)
        }
        #expect(try Data(contentsOf: written) == Data(contentsOf: golden))
    }

    @Test(arguments: goldenNames, [false, true])
    func goldenFileDecodesToGoldenModel(name: String, compressed: Bool) throws {
        #expect(try HDF5Encoding.read(from: Self.url(name, compressed: compressed)) == LSTMHDF5Tests.golden(name))
    }
}
