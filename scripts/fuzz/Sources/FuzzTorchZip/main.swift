import Foundation
import FuzzDriver
import LSTMImportPyTorch

/// The `torch.save` zip reader (ZIPFoundation needs a file: the input is written to a per-process temp file).
/// Mutations mostly hit the zip framing and CRCs; FuzzPickle covers what lies inside `data.pkl`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lstmconv-fuzz-torchzip-\(ProcessInfo.processInfo.processIdentifier).pt")
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard (try? data.write(to: url)) != nil else { return 0 }
    _ = TorchArchive.isTorchArchive(at: url)
    if let dict = try? TorchArchive.readZip(at: url) {
        for entry in dict.entries { _ = dict.tensor(entry.key) }
    }
    return 0
}

runFuzzer(fuzzOne)
