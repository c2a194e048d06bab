import Foundation
import LSTMBinary
import LSTMModel
import LSTMTestSupport
import Testing

/// Exhaustive mutation of the small golden file: with the header CRC over every preamble and header byte, a
/// CRC per tensor and zero padding, every single-bit flip and every truncation must be rejected — or, if some
/// flip were ever benign, read back as the same model.
@Suite("Exhaustive mutation")
struct MutationTests {
    static let name = "small_lstm"

    static func original() throws -> Data {
        try Data(contentsOf: GoldenFiles.url(name, ".lstmw"))
    }

    @Test("every single-bit flip is rejected or reads back equal")
    func everyBitFlip() throws {
        let original = try Self.original()
        let model = try GoldenFiles.model(Self.name)
        #expect(original.count < 4096, "keep the mutated file small")
        var bytes = Array(original)
        var rejected = 0
        var benign = 0
        var codes: [String: Int] = [:]
        for index in bytes.indices {
            for bit in 0..<8 {
                bytes[index] ^= 1 << bit
                do throws(BinaryFormatError) {
                    let read = try BinaryFile.readModel(from: Data(bytes))
                    #expect(read == model, "flip of bit \(bit) at byte \(index) was accepted with a different model")
                    benign += 1
                } catch {
                    rejected += 1
                    codes["\(error.code)", default: 0] += 1
                }
                bytes[index] ^= 1 << bit
            }
        }
        #expect(rejected + benign == original.count * 8)
        // Every byte of a format-1.0 file is covered by the magic, a CRC, or the zero-padding rule.
        #expect(benign == 0, "benign flips: \(benign); rejections by code: \(codes)")
    }

    @Test("every truncation is rejected")
    func everyTruncation() throws {
        let original = try Self.original()
        for length in 0..<original.count {
            #expect(throws: BinaryFormatError.self, "truncated to \(length) bytes") {
                try BinaryFile.readModel(from: original.prefix(length))
            }
        }
        #expect(try BinaryFile.readModel(from: original) == (try GoldenFiles.model(Self.name)))
    }

    @Test("every appended byte is rejected")
    func everyExtension() throws {
        let original = try Self.original()
        for byte in [UInt8(0), 0x0A, 0xFF] {
            #expect(throws: BinaryFormatError(.trailingBytes)) { try BinaryFile.readModel(from: original + [byte]) }
        }
    }
}
