import CLSTMZlib
import Foundation

/// A palette (indexed-colour) PNG, written without any image library: IHDR, PLTE, one zlib IDAT, IEND.
///
/// Used for the heatmaps' pixels, which the report embeds inside an SVG `<image>` as a `data:` URL: one byte per
/// drawn cell instead of one SVG element per cell.
struct PNGImage {
    let width: Int
    let height: Int
    /// Row-major palette indices, `width × height`.
    let pixels: [UInt8]
    /// At most 256 colours.
    let palette: [RGB]

    /// The encoded file (deterministic: same pixels, same bytes).
    func encoded() -> Data {
        var file = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, 3, 0, 0, 0])  // 8-bit indices, palette colour, deflate, no filter, no interlace
        file.appendChunk("IHDR", header)
        file.appendChunk("PLTE", Data(palette.flatMap { [$0.red, $0.green, $0.blue] }))
        // Every row starts with filter type 0 (none).
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width + 1))
        for row in 0..<height {
            raw.append(0)
            raw.append(contentsOf: pixels[(row * width)..<((row + 1) * width)])
        }
        file.appendChunk("IDAT", zlibCompressed(raw))
        file.appendChunk("IEND", Data())
        return file
    }
}

/// An sRGB colour.
struct RGB: Equatable {
    let red: UInt8, green: UInt8, blue: UInt8

    /// `#rrggbb`.
    var hex: String {
        let digits = Array("0123456789abcdef")
        return "#" + [red, green, blue].map { "\(digits[Int($0 >> 4)])\(digits[Int($0 & 15)])" }.joined()
    }
}

/// zlib stream of `bytes` at the highest compression level.
private func zlibCompressed(_ bytes: [UInt8]) -> Data {
    var capacity = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = output.withUnsafeMutableBufferPointer { target in
        bytes.withUnsafeBufferPointer { source in
            guard let to = target.baseAddress, let from = source.baseAddress else { return Z_BUF_ERROR }
            return compress2(to, &capacity, from, uLong(bytes.count), Z_BEST_COMPRESSION)
        }
    }
    // compressBound guarantees room; an empty image (never drawn) still yields a valid empty stream below.
    guard status == Z_OK else { return Data([0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) }
    return Data(output[0..<Int(capacity)])
}

private func crc(_ bytes: Data) -> UInt32 {
    bytes.withUnsafeBytes { buffer in
        guard let base = buffer.bindMemory(to: Bytef.self).baseAddress else { return 0 }
        return UInt32(CLSTMZlib.crc32(0, base, uInt(buffer.count)))
    }
}

extension Data {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }

    fileprivate mutating func appendChunk(_ type: String, _ body: Data) {
        appendBigEndian(UInt32(body.count))
        let typed = Data(type.utf8) + body
        append(typed)
        appendBigEndian(crc(typed))
    }
}
