import Foundation
import FuzzDriver
import LSTMBinary

/// `.lstmw`: framing, then the full model rebuild (checksums, format keys, semantics, canonical order).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let file = try? BinaryFile(bytes: data) {
        _ = try? file.model()
        _ = try? file.model(verifyChecksums: false)
        _ = file.verify()
    }
    return 0
}

runFuzzer(fuzzOne)
