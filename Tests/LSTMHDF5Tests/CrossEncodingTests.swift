import Foundation
import LSTMBinary
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

/// The two encodings convert into each other bit-exactly.
@Suite struct CrossEncodingTests {
    static func binaryGolden(_ name: String) -> URL {
        Fixtures.root.appendingPathComponent("Fixtures/golden/\(name).lstmw")
    }

    /// `.lstmw → .h5 → .lstmw` gives back the very same bytes (what `cmp` checks), with and without compression.
    @Test(arguments: goldenNames, [false, true])
    func binaryToHDF5ToBinaryIsByteIdentical(name: String, compressed: Bool) throws {
        let directory = try TemporaryDirectory()
        let original = Self.binaryGolden(name)
        let h5 = directory.file("\(name).h5")
        let back = directory.file("\(name).lstmw")
        try HDF5Encoding.write(try BinaryFile.readModel(contentsOf: original), to: h5, options: HDF5WriteOptions(compress: compressed))
        try BinaryWriter.write(try HDF5Encoding.read(from: h5), to: back)
        #expect(try Data(contentsOf: back) == Data(contentsOf: original))
    }

    /// The committed goldens of both encodings hold the same model: each converts into the other's bytes.
    @Test(arguments: goldenNames, [false, true])
    func committedGoldensConvertIntoEachOther(name: String, compressed: Bool) throws {
        let h5Golden = GoldenFileTests.url(name, compressed: compressed)
        let binaryBytes = try Data(contentsOf: Self.binaryGolden(name))
        #expect(try BinaryWriter.encode(HDF5Encoding.read(from: h5Golden)) == binaryBytes)
        let directory = try TemporaryDirectory()
        let h5 = directory.file("\(name).h5")
        try HDF5Encoding.write(
            try BinaryFile.readModel(from: binaryBytes), to: h5, options: HDF5WriteOptions(compress: compressed))
        #expect(try Data(contentsOf: h5) == Data(contentsOf: h5Golden))
    }

    /// h5py-written files convert to the same `.lstmw` bytes as ours.
    @Test(arguments: goldenNames)
    func h5pyWrittenFileConvertsToTheBinaryGolden(name: String) throws {
        let model = try HDF5Encoding.read(from: Fixtures.hdf5("h5py/\(name).h5"))
        #expect(try BinaryWriter.encode(model) == Data(contentsOf: Self.binaryGolden(name)))
    }

    /// Every `ours.h5` of the framework fixtures (written by Fixtures/fixturegen/ours_h5.py, an independent h5py
    /// writer of this encoding) reads, verifies, and round-trips through `.lstmw`.
    @Test func independentlyWrittenFixturesRead() throws {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.root.appendingPathComponent("Fixtures/index.json")))
        let cases = try #require((index as? [String: Any])?["cases"] as? [[String: Any]])
        var read = 0
        for entry in cases {
            guard let folder = entry["path"] as? String, let files = entry["files"] as? [String: Any],
                let ours = files["ours"] as? String
            else { continue }
            let url = Fixtures.root.appendingPathComponent("Fixtures/\(folder)/\(ours)")
            let model = try HDF5Encoding.read(from: url)
            #expect(try HDF5Encoding.verify(url).isValid, "\(folder)")
            #expect(try BinaryFile.readModel(from: BinaryWriter.encode(model)) == model, "\(folder)")
            read += 1
        }
        #expect(read >= 40, "the fixture index lists the ours.h5 files")
    }
}
