import Foundation
import FuzzDriver
import LSTMImportPyTorch

/// safetensors: header JSON, offsets, dtypes, shapes.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    _ = Safetensors.looksLikeSafetensors(data)
    if let dict = try? Safetensors.read(data) {
        for entry in dict.entries { _ = dict.tensor(entry.key) }
    }
    return 0
}

runFuzzer(fuzzOne)
