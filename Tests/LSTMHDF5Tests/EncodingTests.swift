import Foundation
import HDF5Bridge
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

/// Names of the golden models, the arguments of the parameterised tests.
let goldenNames = GoldenModels.all.map(\.name)

func golden(_ name: String) -> Model {
    GoldenModels.all.first { $0.name == name }!.model
}

/// The HDF5 encoding's writer and reader on the golden models.
@Suite struct EncodingTests {
    @Test(arguments: goldenNames, [false, true])
    func modelRoundTrip(name: String, compress: Bool) throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("\(name).h5")
        let model = golden(name)
        try HDF5Encoding.write(model, to: url, options: HDF5WriteOptions(compress: compress))
        let decoded = try HDF5Encoding.read(from: url)
        #expect(decoded == model)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
        #expect(leftovers == ["\(name).h5"], "the temporary file is renamed into place")
    }

    @Test(arguments: goldenNames, [false, true])
    func writerIsDeterministic(name: String, compress: Bool) throws {
        let directory = try TemporaryDirectory()
        let options = HDF5WriteOptions(compress: compress)
        try HDF5Encoding.write(golden(name), to: directory.file("a.h5"), options: options)
        try HDF5Encoding.write(golden(name), to: directory.file("b.h5"), options: options)
        let first = try Data(contentsOf: directory.file("a.h5"))
        let second = try Data(contentsOf: directory.file("b.h5"))
        #expect(first == second)
    }

    @Test func compressionChunksShufflesAndDeflates() throws {
        let directory = try TemporaryDirectory()
        let plain = directory.file("plain.h5")
        let packed = directory.file("packed.h5")
        try HDF5Encoding.write(GoldenModels.smallLSTM, to: plain)
        try HDF5Encoding.write(GoldenModels.smallLSTM, to: packed, options: HDF5WriteOptions(compress: true))
        let plainSummary = try HDF5Encoding.inspect(plain)
        let packedSummary = try HDF5Encoding.inspect(packed)
        #expect(plainSummary.tensors.allSatisfy { $0.storage == "contiguous" })
        for tensor in packedSummary.tensors {
            #expect(tensor.storage == "chunked \(tensor.shape) shuffle+deflate")
        }
    }

    @Test func refusesToOverwriteWithoutFlag() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("model.h5")
        try Data("keep me".utf8).write(to: url)
        #expect(throws: LSTMHDF5Error(.fileExists)) { try HDF5Encoding.write(GoldenModels.smallLSTM, to: url) }
        #expect(try Data(contentsOf: url) == Data("keep me".utf8))
        try HDF5Encoding.write(GoldenModels.smallLSTM, to: url, overwrite: true)
        #expect(try HDF5Encoding.read(from: url) == GoldenModels.smallLSTM)
    }

    @Test func writerRefusesAnInvalidModelAndLeavesNoFile() throws {
        let directory = try TemporaryDirectory()
        var model = GoldenModels.smallLSTM
        guard case .recurrent(var layer) = model.layers[0] else { return }
        layer.directions[0].tensors[.W_n] = nil
        model.layers[0] = .recurrent(layer)
        #expect(throws: LSTMHDF5Error(.missingTensor)) { try HDF5Encoding.write(model, to: directory.file("bad.h5")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty)
    }

    @Test func writingIntoAMissingFolderIsAnIOError() throws {
        let directory = try TemporaryDirectory()
        let url = directory.url.appendingPathComponent("absent/model.h5")
        #expect(throws: LSTMHDF5Error(.io)) { try HDF5Encoding.write(GoldenModels.smallLSTM, to: url) }
    }

    @Test func readingAMissingFileOrAFolderIsFileNotFound() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: LSTMHDF5Error(.fileNotFound)) { try HDF5Encoding.read(from: directory.file("absent.h5")) }
        #expect(throws: LSTMHDF5Error(.fileNotFound)) { try HDF5Encoding.read(from: directory.url) }
    }

    @Test(arguments: goldenNames)
    func inspectDescribesEveryTensor(name: String) throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("m.h5")
        let model = golden(name)
        try HDF5Encoding.write(model, to: url)
        let summary = try HDF5Encoding.inspect(url)
        let stored = model.storedTensors
        #expect(summary.tensors.map(\.path) == stored.map(\.slot.path))
        for (entry, expected) in zip(summary.tensors, stored) {
            #expect(entry.dtype == expected.tensor.dtype)
            #expect(entry.shape == expected.tensor.shape)
            #expect(entry.storedChecksum == expected.tensor.checksum)
            #expect(entry.source == expected.source)
            #expect(entry.storedByteCount == expected.tensor.bytes.count)
        }
        let rootKeys = summary.attributes.root.map(\.key)
        #expect(rootKeys == ["about"] + model.schemaAttributes.root.map(\.key))
        #expect(summary.attributes.layers.map { $0.map(\.key) } == model.schemaAttributes.layers.map { $0.map(\.key) })
    }

    @Test(arguments: goldenNames)
    func verifyRecomputesEveryChecksum(name: String) throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("m.h5")
        let model = golden(name)
        try HDF5Encoding.write(model, to: url)
        let report = try HDF5Encoding.verify(url)
        #expect(report.isValid)
        #expect(report.tensors.map(\.path) == model.storedTensors.map(\.slot.path))
        #expect(report.tensors.map(\.computedChecksum) == model.storedTensors.map(\.tensor.checksum))
    }

    /// The layout a reader of spec/hdf5.md sees, checked through the bridge rather than our own reader.
    @Test func storedLayoutFollowsTheSpec() throws {
        let directory = try TemporaryDirectory()
        let url = directory.file("m.h5")
        try HDF5Encoding.write(GoldenModels.bidirectionalGRU, to: url)
        let root = try HDF5File.openReadOnly(url.path).root()
        #expect(try root.memberNames() == ["layer_0", "layer_1"])
        #expect(try root.group("layer_0").memberNames() == ["forward", "backward"])
        #expect(try root.group("layer_0/forward").memberNames() == ["W_z", "b_z", "W_r", "b_r", "W_c", "b_c", "bh_z", "bh_r", "bh_c"])
        #expect(try root.group("layer_1").memberNames() == ["W_d", "b_d"])
        let format = try root.attributes.attribute("format")
        #expect(format.datatype.isVariableLengthString && format.datatype.characterSet == .utf8 && format.shape == [])
        #expect(try format.string() == "lstmconv")
        let major = try root.attributes.attribute("format_major")
        #expect(major.datatype.typeClass == .integer && major.datatype.size == 8 && major.datatype.isSigned)
        #expect(major.datatype.byteOrder == .littleEndian)
        let returnSequences = try root.group("layer_0").attributes.attribute("return_sequences")
        #expect(returnSequences.datatype.typeClass == .integer && returnSequences.datatype.size == 1 && !returnSequences.datatype.isSigned)
        let dataset = try root.dataset("layer_0/backward/W_z")
        #expect(dataset.shape == [3, 5])
        #expect(dataset.datatype.floatFormat == .f32 && dataset.datatype.byteOrder == .littleEndian)
        let crc = try dataset.attributes.attribute("crc32")
        #expect(crc.datatype.typeClass == .integer && crc.datatype.size == 4 && !crc.datatype.isSigned)
        #expect(try dataset.attributes.names() == ["dtype", "crc32", "source"])
        #expect(try dataset.attributes.attribute("source").string() == "golden/W_z")
        #expect(try dataset.storage().layout == .contiguous)
    }
}
