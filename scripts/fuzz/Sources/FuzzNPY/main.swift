import Foundation
import FuzzDriver
import NumPyIO

/// `.npy`: magic, version, header dict, shape, dtype, payload.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let array = try? NumPyArray(npyData: data) {
        _ = array.doubles
        _ = array.integers
    }
    return 0
}

runFuzzer(fuzzOne)
