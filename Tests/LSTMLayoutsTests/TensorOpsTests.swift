import Foundation
import LSTMLayouts
import LSTMModel
import Testing

/// The raw-buffer tensor surgery (`RawCopy`) against an element-by-element definition, over shapes that are
/// smaller than, equal to and not multiples of the transpose tile, every dtype width, and sources that are
/// slices at odd byte offsets (a safetensors payload need not be aligned).
@Suite("Tensor surgery over raw buffers")
struct TensorOpsTests {
    static let shapes: [(Int, Int)] = [(1, 1), (1, 7), (7, 1), (3, 5), (32, 32), (33, 31), (64, 96), (65, 130), (257, 3)]

    /// Bytes 0, 1, 2, … (mod 251) of a `rows × cols` tensor, optionally behind `shift` leading bytes (a slice).
    static func tensor(_ rows: Int, _ cols: Int, _ dtype: DType, shift: Int = 0) throws -> Tensor {
        let count = rows * cols * dtype.byteWidth
        let backing = Data((0..<(count + shift)).map { UInt8(truncatingIfNeeded: ($0 * 7 + 3) % 251) })
        return try Tensor(dtype: dtype, shape: [rows, cols], bytes: backing[(backing.startIndex + shift)...])
    }

    /// Element `(row, col)` of a rank-2 tensor as bytes.
    static func element(_ tensor: Tensor, _ row: Int, _ col: Int) -> [UInt8] {
        let width = tensor.dtype.byteWidth
        let start = tensor.bytes.startIndex + (row * tensor.shape[1] + col) * width
        return Array(tensor.bytes[start..<start + width])
    }

    static let cases: [(rows: Int, cols: Int, dtype: DType, shift: Int)] = shapes.flatMap { shape in
        DType.allCases.flatMap { dtype in [0, 1, 3].map { (shape.0, shape.1, dtype, $0) } }
    }

    @Test("transposed() moves every element (r, c) to (c, r)", arguments: cases.indices)
    func transpose(_ index: Int) throws {
        let (rows, cols, dtype, shift) = Self.cases[index]
        let source = try Self.tensor(rows, cols, dtype, shift: shift)
        let result = try source.transposed()
        #expect(result.shape == [cols, rows])
        #expect(result.dtype == dtype)
        for row in 0..<rows {
            for col in 0..<cols where Self.element(result, col, row) != Self.element(source, row, col) {
                Issue.record("(\(row), \(col)) of \(rows)×\(cols) \(dtype) shift \(shift)")
                return
            }
        }
        #expect(try result.transposed() == (try Tensor(dtype: dtype, shape: [rows, cols], bytes: Data(source.bytes))))
    }

    @Test("slice(axis: 1) keeps the chosen columns of every row", arguments: cases.indices)
    func columnSlice(_ index: Int) throws {
        let (rows, cols, dtype, shift) = Self.cases[index]
        let source = try Self.tensor(rows, cols, dtype, shift: shift)
        let range = (cols / 3)..<max(cols / 3 + 1, cols - cols / 4)
        let result = try source.slice(axis: 1, range: range)
        #expect(result.shape == [rows, range.count])
        for row in 0..<rows {
            for (offset, col) in range.enumerated() {
                #expect(Self.element(result, row, offset) == Self.element(source, row, col))
            }
        }
    }

    @Test("concatenated along axis 1 and columns(_:_:) place rows side by side; along axis 0 stack them", arguments: cases.indices)
    func joins(_ index: Int) throws {
        let (rows, cols, dtype, shift) = Self.cases[index]
        let left = try Self.tensor(rows, cols, dtype, shift: shift)
        let right = try Self.tensor(rows, cols + 2, dtype)
        let side = try Tensor.concatenated([left, right], axis: 1)
        #expect(side == (try Tensor.columns(left, right)))
        #expect(side.shape == [rows, 2 * cols + 2])
        for row in 0..<rows {
            for col in 0..<(2 * cols + 2) {
                let want = col < cols ? Self.element(left, row, col) : Self.element(right, row, col - cols)
                #expect(Self.element(side, row, col) == want)
            }
        }
        let below = try Self.tensor(2, rows, dtype)
        let stacked = try Tensor.concatenated([try left.transposed(), below], axis: 0)
        #expect(stacked.bytes == (try left.transposed()).bytes + below.bytes)
    }
}
