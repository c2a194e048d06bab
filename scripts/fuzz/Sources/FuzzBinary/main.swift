import Foundation
import FuzzDriver
@testable import LSTMBinary

/// `.lstmw`: framing, then the full model rebuild (checksums, format keys, semantics, canonical order).
///
/// The header CRC-32 rejects almost every mutation, so each input is also read a second time with its header
/// checksum recomputed: that lets the mutations reach the metadata, directory and model checks.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    read(data)
    read(withHeaderChecksumFixed(data))
    return 0
}

private func read(_ data: Data) {
    guard let file = try? BinaryFile(bytes: data) else { return }
    _ = try? file.model()
    _ = try? file.model(verifyChecksums: false)
    _ = file.verify()
}

private func withHeaderChecksumFixed(_ data: Data) -> Data {
    guard data.count >= BinaryFormat.preambleSize else { return data }
    let length = ByteCursor.littleEndian(UInt64.self, in: data, at: BinaryFormat.Field.headerLength)
    guard length >= 1, length <= UInt64(data.count - BinaryFormat.preambleSize) else { return data }
    var fixed = data
    let crc = BinaryHeader.headerChecksum(of: data, headerEnd: BinaryFormat.preambleSize + Int(length))
    for index in 0..<4 { fixed[BinaryFormat.Field.headerChecksum + index] = UInt8(truncatingIfNeeded: crc >> (8 * index)) }
    return fixed
}

runFuzzer(fuzzOne)
