import Foundation
import LSTMModel

/// The raw-buffer copies behind ``Tensor``'s slices, joins and transposes: the only unsafe-pointer code of
/// LSTMLayouts. Each function allocates its result once (`LargeBuffer`: 64-byte aligned, mapped when large,
/// never copied again) and fills it with `memcpy` rows or cache-sized transpose tiles.
enum RawCopy {
    /// Rows and columns per transpose tile: 32 × 32 elements of ≤ 8 bytes stay within L1 on both sides.
    static let tile = 32

    /// A fresh buffer of `count` bytes filled by `body`, handed out as `Data` without a copy.
    static func filled(_ count: Int, _ body: (UnsafeMutableRawPointer) -> Void) -> Data {
        LargeBuffer.data(count: count) { buffer in
            body(buffer)
            return count
        }
    }

    /// `rows` runs of `rowBytes` bytes taken every `sourceStride` bytes from `sourceOffset` on (a column slice).
    static func strided(_ source: Data, rows: Int, rowBytes: Int, sourceStride: Int, sourceOffset: Int) -> Data {
        filled(rows * rowBytes) { out in
            source.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
                guard let base = input.baseAddress else { return }
                for row in 0..<rows {
                    memcpy(out + row * rowBytes, base + sourceOffset + row * sourceStride, rowBytes)
                }
            }
        }
    }

    /// The parts one after the other.
    static func joined(_ parts: [Data]) -> Data {
        filled(parts.reduce(0) { $0 + $1.count }) { out in
            var offset = 0
            for part in parts {
                part.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
                    if let base = input.baseAddress { memcpy(out + offset, base, input.count) }
                }
                offset += part.count
            }
        }
    }

    /// Row `r` of the result is row `r` of each part in turn (parts side by side); `rowBytes[k]` is part k's row.
    static func interleavedRows(_ parts: [Data], rows: Int, rowBytes: [Int]) -> Data {
        let outRow = rowBytes.reduce(0, +)
        return filled(rows * outRow) { out in
            var column = 0
            for (part, width) in zip(parts, rowBytes) {
                part.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
                    guard let base = input.baseAddress else { return }
                    for row in 0..<rows {
                        memcpy(out + row * outRow + column, base + row * width, width)
                    }
                }
                column += width
            }
        }
    }

    /// The transpose of a C-ordered `rows × cols` matrix of `width`-byte elements, copied tile by tile.
    static func transposed(_ source: Data, rows: Int, cols: Int, width: Int) -> Data {
        filled(rows * cols * width) { out in
            place(source, offset: 0, rows: rows, cols: cols, stride: cols, transpose: true, width: width, into: out, outStride: rows, column: 0)
        }
    }
}

extension RawCopy {
    /// Copies the `rows × cols` sub-matrix of `source` that starts `offset` bytes in (rows `stride` elements
    /// apart) — or its transpose when `transpose` is set — into `out` at column `column` of rows `outStride`
    /// elements apart. One pass over the bytes: a gate block goes from the fused source straight to its place
    /// in the document tensor.
    static func place(
        _ source: Data, offset: Int, rows: Int, cols: Int, stride: Int, transpose: Bool, width: Int,
        into out: UnsafeMutableRawPointer, outStride: Int, column: Int
    ) {
        source.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            guard let start = input.baseAddress.map({ $0 + offset }) else { return }
            let target = out + column * width
            if !transpose {
                for row in 0..<rows { memcpy(target + row * outStride * width, start + row * stride * width, cols * width) }
                return
            }
            switch width {
            case 2: transposeTiles(start, target, rows: rows, cols: cols, stride: stride, outStride: outStride, as: UInt16.self)
            case 4: transposeTiles(start, target, rows: rows, cols: cols, stride: stride, outStride: outStride, as: UInt32.self)
            case 8: transposeTiles(start, target, rows: rows, cols: cols, stride: stride, outStride: outStride, as: UInt64.self)
            default:
                for row in 0..<rows {
                    for col in 0..<cols {
                        memcpy(target + (col * outStride + row) * width, start + (row * stride + col) * width, width)
                    }
                }
            }
        }
    }

    /// `out[c * outStride + r] = in[r * stride + c]` for the `rows × cols` input, tile by tile.
    private static func transposeTiles<Element: FixedWidthInteger>(
        _ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer, rows: Int, cols: Int, stride: Int, outStride: Int,
        as _: Element.Type
    ) {
        let width = MemoryLayout<Element>.size
        var rowBlock = 0
        while rowBlock < rows {
            let rowEnd = min(rowBlock + tile, rows)
            var colBlock = 0
            while colBlock < cols {
                let colEnd = min(colBlock + tile, cols)
                for row in rowBlock..<rowEnd {
                    let from = input + row * stride * width
                    for col in colBlock..<colEnd {
                        (output + (col * outStride + row) * width).storeBytes(
                            of: from.loadUnaligned(fromByteOffset: col * width, as: Element.self), as: Element.self)
                    }
                }
                colBlock = colEnd
            }
            rowBlock = rowEnd
        }
    }
}
