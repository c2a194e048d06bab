import AtomicFileIO
import Foundation
import HDF5Bridge
import LSTMConv

extension LSTMConvRoot {
    /// What the `lstmconv` process sets up before parsing its arguments: SIGINT / SIGTERM / SIGHUP remove the
    /// temporary file being written and exit 130 / 143 / 129; SIGXFSZ is ignored so a write past the file-size
    /// limit is a clean error (exit 73), not a kill; a libhdf5 call that crashes or hangs on a hostile file ends
    /// in a one-line error naming the file (exit 65, `HDF5CrashGuard`).
    public static func prepareProcess() {
        TemporaryFiles.shared.cleanUpOnSignals()
        HDF5CrashGuard.install()
    }
}

/// Warns on stderr when `array` holds NaN or infinite values: their count and the first one's index. The run
/// goes on (a NaN is a value), but it never passes silently.
func warnNonFinite(_ array: NDArray<Double>, in label: String) {
    var count = 0
    var first: Int?
    for (offset, value) in array.scalars.enumerated() where !value.isFinite {
        count += 1
        if first == nil { first = offset }
    }
    guard let first else { return }
    var index: [Int] = []
    var rest = first
    for size in array.shape.reversed() {
        index.append(size > 0 ? rest % size : 0)
        rest = size > 0 ? rest / size : 0
    }
    let value = array.scalars[first]
    printError(
        "lstmconv: warning: \(label): \(count) of \(array.scalars.count) values are not finite (NaN or infinity); the first, \(value), at \(Array(index.reversed()))")
}

/// The same warning for a model input (features or token ids).
func warnNonFinite(_ input: ForwardInput, in label: String) {
    switch input {
    case .float64(let array): warnNonFinite(array, in: label)
    case .float32(let array):
        guard array.scalars.contains(where: { !$0.isFinite }) else { return }
        if let doubles = try? NDArray(shape: array.shape, scalars: array.scalars.map(Double.init)) { warnNonFinite(doubles, in: label) }
    case .tokens: return
    }
}
