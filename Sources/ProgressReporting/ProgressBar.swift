import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress bar on stderr: `label [#####-----]  212.0/537.0 MB  1.9 GB/s  ETA 0:01`.
///
/// It draws only when stderr is a terminal and only once the work has taken longer than ``delay`` (short jobs
/// print nothing), at most ten times a second, and erases itself when ``finish()`` is called. Thread-safe:
/// workers on several threads may call ``advance(_:)``.
public final class ProgressBar: @unchecked Sendable {
    /// Seconds of work before the bar first appears.
    public static let delay = 0.5

    /// Whether stderr is a terminal (a progress bar is drawn only then).
    public static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    private let label: String
    private let total: Int
    private let enabled: Bool
    private let start = DispatchTime.now().uptimeNanoseconds
    private let lock = NSLock()
    private var done = 0
    private var lastDraw: UInt64 = 0
    private var drawn = false
    private let write: @Sendable (String) -> Void

    /// - Parameters:
    ///   - label: what is being done, e.g. `import model.h5`.
    ///   - total: the bytes the whole job will report (the bar is capped at 100%).
    ///   - enabled: draw at all (`false` for `--quiet`); defaults to whether stderr is a terminal.
    ///   - write: where the text goes (tests); defaults to stderr.
    public init(
        label: String, total: Int, enabled: Bool = ProgressBar.stderrIsTerminal,
        write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }
    ) {
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
        self.write = write
    }

    /// `bytes` more are done.
    public func advance(_ bytes: Int) {
        guard enabled else { return }
        lock.withLock {
            done += bytes
            let now = DispatchTime.now().uptimeNanoseconds
            let elapsed = Double(now - start) / 1e9
            guard elapsed >= Self.delay, now - lastDraw >= 100_000_000 else { return }
            lastDraw = now
            drawn = true
            write("\r" + Self.line(label: label, done: done, total: total, elapsed: elapsed) + "\u{1B}[K")
        }
    }

    /// Erases the bar if it was drawn.
    public func finish() {
        lock.withLock {
            if drawn { write("\r\u{1B}[K") }
            drawn = false
        }
    }

    /// The text of the bar (no control characters): label, bar, megabytes done/total, rate, time left.
    public static func line(label: String, done: Int, total: Int, elapsed: Double) -> String {
        let fraction = min(1, Double(done) / Double(max(total, 1)))
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let left = rate > 0 ? Double(max(total - done, 0)) / rate : 0
        let eta = String(format: "%d:%02d", Int(left) / 60, Int(left) % 60)
        return String(
            format: "%@ [%@] %6.1f/%.1f MB  %@  ETA %@", label, bar, Double(min(done, total)) / 1e6, Double(total) / 1e6,
            rateText(rate), eta)
    }

    static func rateText(_ bytesPerSecond: Double) -> String {
        bytesPerSecond >= 1e9 ? String(format: "%.2f GB/s", bytesPerSecond / 1e9) : String(format: "%.0f MB/s", bytesPerSecond / 1e6)
    }
}
