import Foundation
import LSTMModel

/// One gate's `[H, columns]` block of a fused rank-2 source tensor, not yet copied: rows (`axis` 0) or columns
/// (`axis` 1) `range` of `tensor`, transposed or not. ``Tensor/sideBySide(_:)`` copies the blocks of a document
/// gate weight straight from the source into their places, one pass over the bytes.
struct GateBlock {
    var tensor: Tensor
    var axis: Int
    var range: Range<Int>
    var transposed: Bool

    /// A tensor already in document orientation (a rank-2 tensor used whole).
    init(whole tensor: Tensor) {
        self.init(tensor: tensor, axis: 0, range: 0..<(tensor.shape.first ?? 0), transposed: false)
    }

    init(tensor: Tensor, axis: Int, range: Range<Int>, transposed: Bool) {
        self.tensor = tensor
        self.axis = axis
        self.range = range
        self.transposed = transposed
    }

    /// The source sub-matrix: rows, columns, and its first byte.
    private var sub: (rows: Int, cols: Int, offset: Int) {
        let (rows, cols, width) = (tensor.shape[0], tensor.shape[1], tensor.dtype.byteWidth)
        return axis == 0 ? (range.count, cols, range.lowerBound * cols * width) : (rows, range.count, range.lowerBound * width)
    }

    /// The block's shape in document orientation.
    var shape: [Int] { transposed ? [sub.cols, sub.rows] : [sub.rows, sub.cols] }

    /// Copies the block into `out` (rows `outStride` elements apart) from column `column` on.
    func place(into out: UnsafeMutableRawPointer, outStride: Int, column: Int) {
        let sub = self.sub
        RawCopy.place(
            tensor.bytes, offset: sub.offset, rows: sub.rows, cols: sub.cols, stride: tensor.shape[1], transpose: transposed,
            width: tensor.dtype.byteWidth, into: out, outStride: outStride, column: column)
    }
}

extension Tensor {
    /// Rank-2 blocks of one dtype and row count side by side (`[H, a] ++ [H, b] → [H, a + b]`), each copied once
    /// from its source.
    static func sideBySide(_ blocks: [GateBlock]) throws(ImportError) -> Tensor {
        guard let first = blocks.first, blocks.allSatisfy({ $0.tensor.shape.count == 2 }) else {
            throw ImportError(.shapeMismatch, "nothing to place side by side")
        }
        let rows = first.shape[0]
        let dtype = first.tensor.dtype
        for block in blocks where block.shape[0] != rows || block.tensor.dtype != dtype {
            throw ImportError(.shapeMismatch, "cannot place \(block.shape) \(block.tensor.dtype) beside \(first.shape) \(dtype)")
        }
        let cols = blocks.reduce(0) { $0 + $1.shape[1] }
        if blocks.contains(where: { $0.tensor.isDeferred }) {
            return try deferred(dtype, [rows, cols]) {
                // Each block read alone from its source when the source can (a hyperslab, a byte range), else cut
                // from the whole source tensor.
                var loaded = blocks
                for (index, block) in blocks.enumerated() {
                    if let part = try block.tensor.materializedBlock(axis: block.axis, range: block.range) {
                        loaded[index] = GateBlock(tensor: part, axis: block.axis, range: 0..<block.range.count, transposed: block.transposed)
                    } else {
                        loaded[index].tensor = try block.tensor.materialized()
                    }
                }
                return try sideBySide(loaded)
            }
        }
        let out = RawCopy.filled(rows * cols * dtype.byteWidth) { pointer in
            var column = 0
            for block in blocks {
                block.place(into: pointer, outStride: cols, column: column)
                column += block.shape[1]
            }
        }
        return try make(dtype, [rows, cols], out)
    }
}
