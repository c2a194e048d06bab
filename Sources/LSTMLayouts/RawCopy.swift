import Foundation

/// The raw-buffer copies behind ``Tensor``'s slices, joins and transposes: the only unsafe-pointer code of
/// LSTMLayouts. Each function allocates its result once (64-byte aligned, never zero-filled first) and fills it
/// with `memcpy` rows or cache-sized transpose tiles.
enum RawCopy {
    /// Rows and columns per transpose tile: 32 × 32 elements of ≤ 8 bytes stay within L1 on both sides.
    static let tile = 32

    /// A fresh buffer of `count` bytes filled by `body`, handed out as `Data` without a copy.
    static func filled(_ count: Int, _ body: (UnsafeMutableRawPointer) -> Void) -> Data {
        guard count > 0 else { return Data() }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        body(buffer)
        return Data(bytesNoCopy: buffer, count: count, deallocator: .custom { pointer, _ in pointer.deallocate() })
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
            source.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
                guard let base = input.baseAddress else { return }
                switch width {
                case 2: transpose(base, out, rows: rows, cols: cols, as: UInt16.self)
                case 4: transpose(base, out, rows: rows, cols: cols, as: UInt32.self)
                case 8: transpose(base, out, rows: rows, cols: cols, as: UInt64.self)
                default:
                    for row in 0..<rows {
                        for col in 0..<cols { memcpy(out + (col * rows + row) * width, base + (row * cols + col) * width, width) }
                    }
                }
            }
        }
    }

    private static func transpose<Element: FixedWidthInteger>(
        _ input: UnsafeRawPointer, _ output: UnsafeMutableRawPointer, rows: Int, cols: Int, as _: Element.Type
    ) {
        // The source may be a slice at any byte offset (a safetensors payload), so it is read with unaligned
        // loads; the output is the 64-byte-aligned buffer of ``filled(_:_:)``.
        let width = MemoryLayout<Element>.size
        let target = output.bindMemory(to: Element.self, capacity: rows * cols)
        var rowBlock = 0
        while rowBlock < rows {
            let rowEnd = min(rowBlock + tile, rows)
            var colBlock = 0
            while colBlock < cols {
                let colEnd = min(colBlock + tile, cols)
                for row in rowBlock..<rowEnd {
                    let from = input + row * cols * width
                    for col in colBlock..<colEnd {
                        target[col * rows + row] = from.loadUnaligned(fromByteOffset: col * width, as: Element.self)
                    }
                }
                colBlock = colEnd
            }
            rowBlock = rowEnd
        }
    }
}
