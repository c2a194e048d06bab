import Foundation
import FuzzDriver
@testable import LSTMHDF5

/// The HDF5 encoding of the schema (libhdf5 needs a file: the input is written to a per-process temp file):
/// `inspect`, `verify` and `read`, each on the same bytes, as the CLI's `inspect`, `verify` and `convert` do.
/// (`@testable`: `inspect` is package-level.)
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lstmconv-fuzz-hdf5-\(ProcessInfo.processInfo.processIdentifier).h5")
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard (try? data.write(to: url)) != nil else { return 0 }
    _ = try? HDF5Encoding.inspect(url)
    _ = try? HDF5Encoding.verify(url)
    _ = try? HDF5Encoding.read(from: url)
    return 0
}

runFuzzer(fuzzOne)
