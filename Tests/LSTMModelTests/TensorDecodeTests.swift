import Foundation
import LSTMModel
import Testing

/// `Tensor.floats()`, `doubles()` and `withFloats(_:)` read hand-written little-endian bit patterns (IEEE 754
/// encodings written out here, not produced by `Tensor`), from aligned storage and from an odd-offset slice.
@Suite("Tensor element decoding")
struct TensorDecodeTests {
    /// 1.5, -2, 0.25, 3 in each dtype, as little-endian bytes.
    static let encodings: [(dtype: DType, bytes: [UInt8])] = [
        (.f32, [0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x80, 0x3E, 0x00, 0x00, 0x40, 0x40]),
        (.f64, [0, 0, 0, 0, 0, 0, 0xF8, 0x3F, 0, 0, 0, 0, 0, 0, 0x00, 0xC0,
                0, 0, 0, 0, 0, 0, 0xD0, 0x3F, 0, 0, 0, 0, 0, 0, 0x08, 0x40]),
        (.f16, [0x00, 0x3E, 0x00, 0xC0, 0x00, 0x34, 0x00, 0x42]),
        (.bf16, [0xC0, 0x3F, 0x00, 0xC0, 0x80, 0x3E, 0x40, 0x40]),
    ]
    static let expected: [Float] = [1.5, -2, 0.25, 3]

    @Test("floats, doubles and withFloats decode every dtype", arguments: encodings.map(\.dtype))
    func decodes(dtype: DType) throws {
        let bytes = try #require(Self.encodings.first { $0.dtype == dtype }?.bytes)
        let tensor = try Tensor(dtype: dtype, shape: [2, 2], bytes: Data(bytes))
        #expect(tensor.floats() == Self.expected)
        #expect(tensor.doubles() == Self.expected.map(Double.init))
        #expect(tensor.withFloats { Array($0) } == Self.expected)
    }

    @Test("withFloats reads a tensor whose bytes start at an odd offset (a slice of a file)", arguments: encodings.map(\.dtype))
    func unalignedSlice(dtype: DType) throws {
        let bytes = try #require(Self.encodings.first { $0.dtype == dtype }?.bytes)
        let file = Data([0xAA] + bytes + [0xBB])
        let slice = file[1..<(1 + bytes.count)]
        let tensor = try Tensor(dtype: dtype, shape: [4], bytes: slice)
        #expect(tensor.withFloats { Array($0) } == Self.expected)
        #expect(tensor.floats() == Self.expected)
    }
}
