import Foundation
import LSTMModel

/// Byte-exact tensor surgery used to cut document tensors out of fused source tensors.
/// Every operation keeps the dtype and copies element bytes unchanged, so an export can
/// reproduce the source bit for bit.
///
/// The copies run over raw buffers (``RawCopy``, the only unsafe-pointer code of this module): row copies with
/// `memcpy`, transposes in cache-sized tiles. No element goes through `Data` one at a time.
extension Tensor {
    /// Elements `range` along `axis` of a rank-1 or rank-2 tensor.
    package func slice(axis: Int, range: Range<Int>) throws(ImportError) -> Tensor {
        guard shape.indices.contains(axis), range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw ImportError(.shapeMismatch, "cannot take \(range) along axis \(axis) of shape \(shape)")
        }
        if isDeferred {
            let outShape = shape.count == 1 ? [range.count] : axis == 0 ? [range.count, shape[1]] : [shape[0], range.count]
            guard shape.count <= 2 else { throw ImportError(.shapeMismatch, "expected a rank-1 or rank-2 tensor, found shape \(shape)") }
            return try Self.deferred(dtype, outShape) { try self.materialized().slice(axis: axis, range: range) }
        }
        let width = dtype.byteWidth
        switch shape.count {
        case 1:
            let out = bytes.subdata(in: bytes.startIndex + range.lowerBound * width ..< bytes.startIndex + range.upperBound * width)
            return try Self.make(dtype, [range.count], out)
        case 2:
            let (rows, cols) = (shape[0], shape[1])
            if axis == 0 {
                let out = bytes.subdata(in: bytes.startIndex + range.lowerBound * cols * width ..< bytes.startIndex + range.upperBound * cols * width)
                return try Self.make(dtype, [range.count, cols], out)
            }
            let out = RawCopy.strided(
                bytes, rows: rows, rowBytes: range.count * width, sourceStride: cols * width, sourceOffset: range.lowerBound * width)
            return try Self.make(dtype, [rows, range.count], out)
        default:
            throw ImportError(.shapeMismatch, "expected a rank-1 or rank-2 tensor, found shape \(shape)")
        }
    }

    /// The transpose of a rank-2 tensor.
    package func transposed() throws(ImportError) -> Tensor {
        guard shape.count == 2 else { throw ImportError(.shapeMismatch, "cannot transpose shape \(shape)") }
        if isDeferred { return try Self.deferred(dtype, [shape[1], shape[0]]) { try self.materialized().transposed() } }
        let out = RawCopy.transposed(bytes, rows: shape[0], cols: shape[1], width: dtype.byteWidth)
        return try Self.make(dtype, [shape[1], shape[0]], out)
    }

    /// The same bytes read with another shape of equal element count (C order).
    package func reshaped(_ newShape: [Int]) throws(ImportError) -> Tensor {
        guard Tensor.elementCount(of: newShape) == elementCount else {
            throw ImportError(.shapeMismatch, "cannot reshape \(shape) to \(newShape)")
        }
        if isDeferred { return try Self.deferred(dtype, newShape) { try self.materialized().reshaped(newShape) } }
        return try Self.make(dtype, newShape, bytes)
    }

    /// Rank-2 tensors side by side: `[H, a] ++ [H, b] → [H, a + b]`.
    package static func columns(_ left: Tensor, _ right: Tensor) throws(ImportError) -> Tensor {
        guard left.shape.count == 2, right.shape.count == 2, left.shape[0] == right.shape[0], left.dtype == right.dtype else {
            throw ImportError(.shapeMismatch, "cannot place \(left.shape) \(left.dtype) beside \(right.shape) \(right.dtype)")
        }
        if left.isDeferred || right.isDeferred {
            return try deferred(left.dtype, [left.shape[0], left.shape[1] + right.shape[1]]) {
                try columns(try left.materialized(), try right.materialized())
            }
        }
        let rows = left.shape[0]
        let (leftRow, rightRow) = (left.shape[1] * left.dtype.byteWidth, right.shape[1] * right.dtype.byteWidth)
        let out = RawCopy.interleavedRows([left.bytes, right.bytes], rows: rows, rowBytes: [leftRow, rightRow])
        return try make(left.dtype, [rows, left.shape[1] + right.shape[1]], out)
    }

    /// A deferred tensor of `dtype` and `shape` whose bytes are `operation`'s result over materialised inputs:
    /// a streaming import plans the document tensors with the same code that builds them in memory.
    static func deferred(_ dtype: DType, _ shape: [Int], _ operation: @escaping () throws -> Tensor) throws(ImportError) -> Tensor {
        do {
            return try Tensor(deferring: dtype, shape: shape) { try operation().bytes }
        } catch {
            throw ImportError(.shapeMismatch, error.description)
        }
    }

    static func make(_ dtype: DType, _ shape: [Int], _ bytes: Data) throws(ImportError) -> Tensor {
        do {
            return try Tensor(dtype: dtype, shape: shape, bytes: bytes)
        } catch {
            throw ImportError(.shapeMismatch, error.description)
        }
    }
}

extension Tensor {
    /// Rank-1 or rank-2 tensors of one dtype joined along `axis` (the inverse of cutting with ``slice(axis:range:)``):
    /// axis 0 stacks them (`[a, n] ++ [b, n] → [a + b, n]`), axis 1 places them side by side
    /// (`[m, a] ++ [m, b] → [m, a + b]`). Element bytes are copied unchanged.
    package static func concatenated(_ parts: [Tensor], axis: Int) throws(ImportError) -> Tensor {
        guard let first = parts.first else { throw ImportError(.shapeMismatch, "nothing to concatenate") }
        let rank = first.shape.count
        guard rank == 1 || rank == 2, axis >= 0, axis < rank else {
            throw ImportError(.shapeMismatch, "cannot concatenate shape \(first.shape) along axis \(axis)")
        }
        for part in parts {
            var kept = part.shape, wanted = first.shape
            guard kept.count == rank else {
                throw ImportError(.shapeMismatch, "cannot concatenate \(first.shape) and \(part.shape): ranks differ")
            }
            kept.remove(at: axis)
            wanted.remove(at: axis)
            guard kept == wanted, part.dtype == first.dtype else {
                throw ImportError(
                    .shapeMismatch,
                    "cannot concatenate \(first.shape) \(first.dtype.rawValue) and \(part.shape) \(part.dtype.rawValue) along axis \(axis)")
            }
        }
        var shape = first.shape
        shape[axis] = parts.reduce(0) { $0 + $1.shape[axis] }
        if parts.contains(where: \.isDeferred) {
            return try deferred(first.dtype, shape) { try concatenated(try parts.map { try $0.materialized() }, axis: axis) }
        }
        let out: Data
        if axis == 0 {
            out = RawCopy.joined(parts.map(\.bytes))
        } else {
            out = RawCopy.interleavedRows(parts.map(\.bytes), rows: shape[0], rowBytes: parts.map { $0.shape[1] * $0.dtype.byteWidth })
        }
        return try make(first.dtype, shape, out)
    }
}
