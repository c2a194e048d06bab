import Foundation
import LSTMBinary
import LSTMCheckpoint
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

/// Header-only inspect, streaming verify and streaming convert against the whole-model paths they replace,
/// on the committed golden files of both encodings.
@Suite("Checkpoint: header-only inspect, streaming verify and convert")
struct StreamingTests {
    static let files: [String] = CheckpointFileTests.goldenNames.flatMap {
        ["golden/\($0).lstmw", "hdf5/golden/\($0).h5", "hdf5/golden/\($0).compressed.h5"]
    }

    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-streaming-\(UUID().uuidString)-\(name)")
    }

    @Test("inspectHeader describes exactly what load builds: layers, provenance, every tensor; no findings", arguments: files)
    func headerMatchesModel(_ file: String) throws {
        let url = FixturePaths.fixture(file)
        let model = try Checkpoint.load(url)
        let header = try Checkpoint.inspectHeader(url)
        #expect(header.findings.isEmpty, "\(header.findings)")
        #expect(header.encoding == (file.hasSuffix(".lstmw") ? .binary : .hdf5))
        #expect(header.provenance == model.provenance)
        #expect(header.layers.map(\.attributes.description) == model.layers.map(\.attributes.description))
        #expect(header.formatVersion == "\(FormatVersion.major).\(FormatVersion.minor)")
        let stored = model.storedTensors
        #expect(Set(header.tensors.map(\.path)) == Set(stored.map(\.slot.path)))
        for entry in stored {
            let info = try #require(header.tensors.first { $0.path == entry.slot.path })
            #expect(info.shape == entry.tensor.shape, "\(info.path)")
            #expect(info.dtype == entry.tensor.dtype, "\(info.path)")
            #expect(info.checksum == entry.tensor.checksum, "\(info.path)")
            #expect(info.source == entry.source, "\(info.path)")
        }
    }

    /// A `.lstmw` whose header (valid framing, valid checksum) declares `hidden_size` 5 where the tensors say 4.
    static func lyingHeader() throws -> URL {
        let model = try Checkpoint.load(FixturePaths.golden("small_lstm.lstmw"))
        var attributes = model.schemaAttributes
        let index = try #require(attributes.layers[0].firstIndex { $0.key == "hidden_size" })
        attributes.layers[0][index].value = .int(5)
        let stored = model.storedTensors
        let url = scratch("lying.lstmw")
        try BinaryWriter.write(
            attributes: attributes,
            tensors: stored.map {
                StoredTensorPlan(
                    path: $0.slot.path, dtype: $0.tensor.dtype, shape: $0.tensor.shape, byteCount: $0.tensor.bytes.count,
                    checksum: $0.tensor.checksum, source: $0.source)
            },
            to: url, overwrite: false
        ) { (index: Int) throws(BinaryFormatError) -> Data in stored[index].tensor.bytes }
        return url
    }

    @Test("a header that contradicts its tensors is still shown, its problems listed as findings; load refuses it")
    func findings() throws {
        let url = try Self.lyingHeader()
        defer { try? FileManager.default.removeItem(at: url) }
        let header = try Checkpoint.inspectHeader(url)
        #expect(!header.isValid)
        #expect(header.tensors.count == (try Checkpoint.load(FixturePaths.golden("small_lstm.lstmw"))).storedTensors.count)
        #expect(header.findings.contains { $0.contains("layer_0/forward/W_f") && $0.contains("[5,") }, "\(header.findings)")
        #expect(throws: (any Error).self) { try Checkpoint.load(url) }
        // Streaming verify: the checksums match, the semantics do not.
        let report = try Checkpoint.verify(url)
        #expect(report.tensors.allSatisfy { $0.isValid })
        #expect(report.problem != nil)
    }

    @Test("streaming verify (2 threads, pread) reports what the in-memory verify reports, damage included")
    func verifyMatchesInMemory() throws {
        for name in CheckpointFileTests.goldenNames {
            let source = FixturePaths.golden("\(name).lstmw")
            var bytes = try Data(contentsOf: source)
            let file = try BinaryFile(bytes: bytes)
            let victim = try #require(file.header.tensors.last)
            bytes[bytes.startIndex + file.header.fileOffset(of: victim) + victim.byteCount / 2] ^= 0x01
            let damaged = Self.scratch("\(name).lstmw")
            defer { try? FileManager.default.removeItem(at: damaged) }
            try bytes.write(to: damaged)
            for threads in [1, 2, 3] {
                let streamed = try BinaryFile.verifyStreaming(damaged, threads: threads)
                let inMemory = try BinaryFile(bytes: bytes).verify()
                #expect(streamed.tensors == inMemory.tensors, "\(name), \(threads) threads")
                #expect(streamed.tensors.filter { !$0.isValid }.map(\.path) == [victim.path])
            }
            #expect(try BinaryFile.verifyStreaming(source).isValid)
        }
    }

    @Test("streaming verify refuses a truncated file and non-zero padding between tensors")
    func verifyFraming() throws {
        let source = FixturePaths.golden("small_lstm.lstmw")
        let bytes = try Data(contentsOf: source)
        let truncated = Self.scratch("truncated.lstmw")
        defer { try? FileManager.default.removeItem(at: truncated) }
        try bytes.prefix(bytes.count - 3).write(to: truncated)
        #expect(throws: BinaryFormatError(.truncated)) { try BinaryFile.verifyStreaming(truncated) }
        let file = try BinaryFile(bytes: bytes)
        // The first gap between two tensors, if the layout has one.
        var previousEnd = 0
        for entry in file.header.tensors {
            if entry.offset > previousEnd {
                var padded = bytes
                padded[padded.startIndex + file.header.dataOffset + previousEnd] = 0xFF
                try padded.write(to: truncated)
                #expect(throws: BinaryFormatError(.nonZeroPadding)) { try BinaryFile.verifyStreaming(truncated) }
                return
            }
            previousEnd = entry.offset + entry.byteCount
        }
    }

    static let conversions: [(file: String, encoding: Encoding, dtype: DType?)] = files.flatMap { file in
        [Encoding.binary, .hdf5].flatMap { encoding in [nil, DType.f16, .f64].map { (file, encoding, $0) } }
    }

    @Test("streaming convert writes byte for byte what save(load(input)) writes", arguments: conversions.indices)
    func convertIsDeterministic(_ index: Int) throws {
        let (file, encoding, dtype) = Self.conversions[index]
        let input = FixturePaths.fixture(file)
        let streamed = Self.scratch("streamed." + (encoding == .binary ? "lstmw" : "h5"))
        let whole = Self.scratch("whole." + (encoding == .binary ? "lstmw" : "h5"))
        defer {
            try? FileManager.default.removeItem(at: streamed)
            try? FileManager.default.removeItem(at: whole)
        }
        try Checkpoint.convert(input, to: streamed, encoding: encoding, dtype: dtype)
        var model = try Checkpoint.load(input)
        if let dtype { model = model.converted(to: dtype) }
        try Checkpoint.save(model, to: whole, encoding: encoding)
        if encoding == .binary {
            #expect(try Data(contentsOf: streamed) == Data(contentsOf: whole))
        } else {
            // libhdf5 files carry no timestamps here, but compare what matters: the model read back.
            #expect(try Checkpoint.load(streamed) == Checkpoint.load(whole))
            #expect(try Data(contentsOf: streamed) == Data(contentsOf: whole))
        }
    }

    @Test("streaming convert of a damaged source stops with the checksum error and leaves no output")
    func convertDamaged() throws {
        let source = FixturePaths.golden("bidirectional_gru.lstmw")
        var bytes = try Data(contentsOf: source)
        let file = try BinaryFile(bytes: bytes)
        let victim = try #require(file.header.tensors.last)
        bytes[bytes.startIndex + file.header.fileOffset(of: victim)] ^= 0x40
        let folder = Self.scratch("folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let damaged = folder.appendingPathComponent("damaged.lstmw")
        try bytes.write(to: damaged)
        for output in ["out.lstmw", "out.h5"] {
            #expect(throws: (any Error).self) { try Checkpoint.convert(damaged, to: folder.appendingPathComponent(output)) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["damaged.lstmw"])
    }
}
