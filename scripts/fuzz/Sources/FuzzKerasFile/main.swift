import Foundation
import FuzzDriver
import LSTMImportKeras

/// The Keras file readers through libhdf5 and ZIPFoundation: a legacy `.h5` (model_config + model_weights), a
/// `.weights.h5`, or a `.keras` zip (config.json + model.weights.h5), whichever the bytes' signature says. The
/// input goes to a per-process temp file (libhdf5 and the zip reader need one).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    let suffix = KerasImporter.hasZipSignature(data.prefix(8)) ? "keras" : "h5"
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("lstmconv-fuzz-kerasfile-\(ProcessInfo.processInfo.processIdentifier).\(suffix)")
    guard (try? data.write(to: url)) != nil else { return 0 }
    _ = try? KerasImporter.importFile(at: url)
    return 0
}

runFuzzer(fuzzOne)
