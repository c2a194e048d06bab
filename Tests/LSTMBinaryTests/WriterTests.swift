import Foundation
@testable import LSTMBinary
import LSTMModel
import LSTMTestSupport
import Testing

/// A fresh empty folder under the system temporary directory, removed by `cleanup()`.
struct ScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmbinary-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func cleanup() { try? FileManager.default.removeItem(at: url) }
}

@Suite("Writer and reader on disk")
struct WriterTests {
    let model = GoldenModels.documentLSTM

    @Test("write then read back from disk")
    func writeAndRead() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        let target = folder.file("model.lstmw")
        try BinaryWriter.write(model, to: target)
        #expect(try folder.contents() == ["model.lstmw"])
        #expect(try Data(contentsOf: target) == (try BinaryWriter.encode(model)))
        #expect(try BinaryFile.readModel(contentsOf: target) == model)
    }

    @Test("refuses to replace an existing file without overwrite, and leaves it untouched")
    func refusesOverwrite() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        let target = folder.file("model.lstmw")
        let existing = Data("precious".utf8)
        try existing.write(to: target)
        #expect(throws: BinaryFormatError(.fileExists)) { try BinaryWriter.write(model, to: target) }
        #expect(try Data(contentsOf: target) == existing)
        #expect(try folder.contents() == ["model.lstmw"])

        try BinaryWriter.write(model, to: target, overwrite: true)
        #expect(try BinaryFile.readModel(contentsOf: target) == model)
        #expect(try folder.contents() == ["model.lstmw"])
    }

    @Test("a failure while streaming leaves no partial file and the existing file untouched", arguments: [0, 1, 3, 6])
    func failureMidStream(chunks: Int) throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        let target = folder.file("model.lstmw")

        #expect(throws: BinaryFormatError(.cannotWrite)) {
            try BinaryWriter.write(model, to: target, overwrite: false, failAfterChunks: chunks)
        }
        #expect(try folder.contents() == [])

        let existing = try BinaryWriter.encode(GoldenModels.smallLSTM)
        try existing.write(to: target)
        #expect(throws: BinaryFormatError(.cannotWrite)) {
            try BinaryWriter.write(model, to: target, overwrite: true, failAfterChunks: chunks)
        }
        #expect(try Data(contentsOf: target) == existing)
        #expect(try folder.contents() == ["model.lstmw"])
    }

    @Test("an invalid model is refused before any file is created")
    func invalidModelNotWritten() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        guard case .recurrent(var layer) = model.layers[1] else { Issue.record("expected a recurrent layer"); return }
        layer.directions[0].tensors[.W_n] = Tensor([0, 0], shape: [2])
        var broken = model
        broken.layers[1] = .recurrent(layer)
        #expect(throws: BinaryFormatError(.shapeMismatch)) { try BinaryWriter.write(broken, to: folder.file("x.lstmw")) }
        #expect(try folder.contents() == [])
    }

    @Test("a missing target folder is a write error")
    func missingFolder() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        #expect(throws: BinaryFormatError(.cannotWrite)) {
            try BinaryWriter.write(model, to: folder.file("no/such/folder/x.lstmw"))
        }
    }

    @Test("the writer is deterministic: same model, same bytes")
    func deterministic() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        for (name, model) in GoldenModels.all {
            try BinaryWriter.write(model, to: folder.file("\(name)-a.lstmw"))
            try BinaryWriter.write(model, to: folder.file("\(name)-b.lstmw"))
            #expect(try Data(contentsOf: folder.file("\(name)-a.lstmw")) == (try Data(contentsOf: folder.file("\(name)-b.lstmw"))))
        }
    }

    @Test("the reader reads the file into aligned memory and hands out tensors without copying")
    func zeroCopy() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        let target = folder.file("model.lstmw")
        try BinaryWriter.write(model, to: target)
        let file = try BinaryFile(contentsOf: target)
        let loaded = try file.model()
        let region = file.bytes.withUnsafeBytes { raw in
            let start = UInt(bitPattern: raw.baseAddress)
            return start..<(start + UInt(raw.count))
        }
        for (slot, tensor, _) in loaded.storedTensors {
            let entry = try #require(file.header.tensors.first { $0.path == slot.path })
            let address = tensor.bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
            #expect(region.contains(address), "\(slot.path) was copied")
            #expect(address == region.lowerBound + UInt(file.header.fileOffset(of: entry)))
            #expect(address % UInt(BinaryFormat.alignment) == 0, "\(slot.path) is not 64-byte aligned in memory")
        }
    }

    @Test("inspect without building the model")
    func inspect() throws {
        let data = try BinaryWriter.encode(GoldenModels.bidirectionalGRU)
        var raw = RawFile(model: GoldenModels.bidirectionalGRU)
        raw.set("layer.0.hidden_size", .int(99))  // semantically broken, structurally fine
        for bytes in [data, raw.encode()] {
            let header = try BinaryFile(bytes: bytes).header
            #expect(header.major == FormatVersion.major)
            #expect(header.value(forKey: RootKey.layerCount) == .int(2))
            #expect(header.tensors.count == GoldenModels.bidirectionalGRU.storedTensors.count)
            #expect(header.tensors.first?.path == "layer_0/forward/W_z")
            #expect(header.tensors.first?.source == "golden/W_z")
        }
    }

    @Test("the header checksum covers the preamble")
    func headerChecksumCoversPreamble() throws {
        let data = try BinaryWriter.encode(GoldenModels.smallLSTM)
        let header = try BinaryFile(bytes: data).header
        let covered = Array(data[0..<24]) + Array(data[28..<(32 + header.headerLength)])
        #expect(Checksum.crc32(of: covered) == header.headerChecksum)
        #expect(Array(data[0..<8]) == [0x89, 0x4C, 0x53, 0x54, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(data[12..<16]) == [0x04, 0x03, 0x02, 0x01])
    }

    @Test("bytes that are a slice of a larger buffer read the same")
    func sliceInput() throws {
        let encoded = try BinaryWriter.encode(model)
        let buffer = Data([0xAA, 0xBB, 0xCC]) + encoded + Data([0xDD])
        let slice = buffer[3..<(3 + encoded.count)]
        #expect(slice.startIndex == 3)
        #expect(try BinaryFile.readModel(from: slice) == model)
        #expect(throws: BinaryFormatError(.trailingBytes)) { try BinaryFile.readModel(from: buffer[3...]) }
    }

    @Test("empty, missing and directory paths are typed errors")
    func unreadablePaths() throws {
        let folder = try ScratchFolder()
        defer { folder.cleanup() }
        let empty = folder.file("empty.lstmw")
        try Data().write(to: empty)
        #expect(throws: BinaryFormatError(.truncated)) { try BinaryFile(contentsOf: empty) }
        #expect(throws: BinaryFormatError(.cannotRead)) { try BinaryFile(contentsOf: folder.file("missing.lstmw")) }
        #expect(throws: BinaryFormatError(.cannotRead)) { try BinaryFile(contentsOf: folder.url) }
    }
}
