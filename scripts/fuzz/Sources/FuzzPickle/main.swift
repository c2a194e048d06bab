import Foundation
import FuzzDriver
import LSTMLayouts
@testable import LSTMImportPyTorch

/// The restricted unpickler, driven two ways by one input:
/// 1. as `data.pkl` of a zip archive: persistent ids resolved as the zip reader does, each storage then filled
///    with zeros of its declared size (capped), and the state_dict flattened and cut out of the storages
///    (offsets, sizes, strides);
/// 2. through the public legacy-stream / bare-pickle reader `TorchArchive.readStream`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    let limits = PyTorchReadLimits()
    _ = try? zipStyle(data, limits: limits)
    if let dict = try? TorchArchive.readStream(data, limits: limits) {
        for entry in dict.entries { _ = dict.tensor(entry.key) }
    }
    return 0
}

private func zipStyle(_ pickle: Data, limits: PyTorchReadLimits) throws(ImportError) {
    var storages: [String: StorageRef] = [:]
    var unpickler = Unpickler(pickle) { (id: PickleValue) throws(ImportError) -> PickleValue in
        let storage = try TorchArchive.storageReference(id, legacy: false)
        if let known = storages[storage.key], known != storage {
            throw ImportError(.malformedSource, "storage declared twice")
        }
        storages[storage.key] = storage
        return .storage(storage)
    }
    let root = try unpickler.load()
    var bytes: [String: Data] = [:]
    for (key, storage) in storages {
        let (needed, overflow) = storage.count.multipliedReportingOverflow(by: storage.elementType.width)
        guard !overflow, needed >= 0, needed <= 1 << 20 else { return }
        bytes[key] = Data(count: needed)
    }
    _ = try TorchArchive.materialise(TorchArchive.flatten(root), storages: bytes, bigEndian: pickle.count % 2 == 1, limits: limits)
}

runFuzzer(fuzzOne)
