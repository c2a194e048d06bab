import Foundation
import LSTMModel

/// Byte-exact tensor surgery used to cut document tensors out of fused source tensors.
/// Every operation keeps the dtype and copies element bytes unchanged, so an export can
/// reproduce the source bit for bit.
extension Tensor {
    /// Elements `range` along `axis` of a rank-1 or rank-2 tensor.
    package func slice(axis: Int, range: Range<Int>) throws(ImportError) -> Tensor {
        guard shape.indices.contains(axis), range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw ImportError(.shapeMismatch, "cannot take \(range) along axis \(axis) of shape \(shape)")
        }
        let width = dtype.byteWidth
        var out = Data()
        switch shape.count {
        case 1:
            out = bytes.subdata(in: bytes.startIndex + range.lowerBound * width ..< bytes.startIndex + range.upperBound * width)
            return try Self.make(dtype, [range.count], out)
        case 2:
            let (rows, cols) = (shape[0], shape[1])
            if axis == 0 {
                out = bytes.subdata(in: bytes.startIndex + range.lowerBound * cols * width ..< bytes.startIndex + range.upperBound * cols * width)
                return try Self.make(dtype, [range.count, cols], out)
            }
            out.reserveCapacity(rows * range.count * width)
            for row in 0..<rows {
                let start = bytes.startIndex + (row * cols + range.lowerBound) * width
                out.append(bytes[start ..< start + range.count * width])
            }
            return try Self.make(dtype, [rows, range.count], out)
        default:
            throw ImportError(.shapeMismatch, "expected a rank-1 or rank-2 tensor, found shape \(shape)")
        }
    }

    /// The transpose of a rank-2 tensor.
    package func transposed() throws(ImportError) -> Tensor {
        guard shape.count == 2 else { throw ImportError(.shapeMismatch, "cannot transpose shape \(shape)") }
        let (rows, cols, width) = (shape[0], shape[1], dtype.byteWidth)
        var out = Data(count: bytes.count)
        let base = bytes.startIndex
        for row in 0..<rows {
            for col in 0..<cols {
                let source = base + (row * cols + col) * width
                let target = (col * rows + row) * width
                out.replaceSubrange(target ..< target + width, with: bytes[source ..< source + width])
            }
        }
        return try Self.make(dtype, [cols, rows], out)
    }

    /// The same bytes read with another shape of equal element count (C order).
    package func reshaped(_ newShape: [Int]) throws(ImportError) -> Tensor {
        guard Tensor.elementCount(of: newShape) == elementCount else {
            throw ImportError(.shapeMismatch, "cannot reshape \(shape) to \(newShape)")
        }
        return try Self.make(dtype, newShape, bytes)
    }

    /// Rank-2 tensors side by side: `[H, a] ++ [H, b] → [H, a + b]`.
    package static func columns(_ left: Tensor, _ right: Tensor) throws(ImportError) -> Tensor {
        guard left.shape.count == 2, right.shape.count == 2, left.shape[0] == right.shape[0], left.dtype == right.dtype else {
            throw ImportError(.shapeMismatch, "cannot place \(left.shape) \(left.dtype) beside \(right.shape) \(right.dtype)")
        }
        let rows = left.shape[0]
        let (leftRow, rightRow) = (left.shape[1] * left.dtype.byteWidth, right.shape[1] * right.dtype.byteWidth)
        var out = Data()
        out.reserveCapacity(left.bytes.count + right.bytes.count)
        for row in 0..<rows {
            let l = left.bytes.startIndex + row * leftRow
            let r = right.bytes.startIndex + row * rightRow
            out.append(left.bytes[l ..< l + leftRow])
            out.append(right.bytes[r ..< r + rightRow])
        }
        return try make(left.dtype, [rows, left.shape[1] + right.shape[1]], out)
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
        var out = Data()
        out.reserveCapacity(parts.reduce(0) { $0 + $1.bytes.count })
        if axis == 0 {
            for part in parts { out.append(part.bytes) }
        } else {
            for row in 0..<shape[0] {
                for part in parts {
                    let width = part.shape[1] * part.dtype.byteWidth
                    let start = part.bytes.startIndex + row * width
                    out.append(part.bytes[start ..< start + width])
                }
            }
        }
        return try make(first.dtype, shape, out)
    }
}
