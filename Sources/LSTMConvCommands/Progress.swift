import Foundation
import LSTMConv
import ProgressReporting

/// Feeds the bytes the library reports (``WorkProgress``) into a terminal progress bar.
private final class BarObserver: ProgressObserver {
    let bar: ProgressBar
    init(_ bar: ProgressBar) { self.bar = bar }
    func advance(_ bytes: Int) { bar.advance(bytes) }
}

/// Runs `body` with a progress bar on stderr (``ProgressBar``: only when stderr is a terminal, the work takes
/// over 0.5 s and `quiet` is off), erased when `body` returns or throws.
///
/// - Parameters:
///   - label: the command and its file, e.g. `import model.h5`.
///   - files: the inputs; the total is their size times `passes` (a read plus a write is 2 passes).
func withProgress<T>(_ label: String, files: [String], passes: Int, quiet: Bool, _ body: () throws -> T) throws -> T {
    let size = files.reduce(0) { total, path in
        total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    }
    let bar = ProgressBar(label: label, total: size * passes, enabled: !quiet && ProgressBar.stderrIsTerminal)
    defer { bar.finish() }
    return try WorkProgress.$observer.withValue(BarObserver(bar)) { try body() }
}
