import Foundation
import FuzzDriver
import NumPyIO

/// `.npz`: the zip (ZIPFoundation, in memory) and every `.npy` member.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    if let archive = try? NPZArchive(npzData: data) {
        for name in archive.names { _ = archive[name]?.doubles }
    }
    return 0
}

runFuzzer(fuzzOne)
