import Foundation
import ProgressReporting
import Testing

/// The progress bar's text, and that it stays silent when disabled (`--quiet`, or stderr not a terminal) —
/// which is also what every CLI test relies on: their stderr is a pipe, and commands print nothing extra there.
@Suite("Progress bar")
struct ProgressBarTests {
    final class Sink: @unchecked Sendable {
        private let lock = NSLock()
        private var texts: [String] = []
        func append(_ text: String) { lock.withLock { texts.append(text) } }
        var all: [String] { lock.withLock { texts } }
    }

    struct Case: Sendable {
        var done: Int
        var total: Int
        var elapsed: Double
        var expected: String
    }

    static let cases: [Case] = [
        Case(done: 0, total: 100_000_000, elapsed: 1, expected: "[------------------------]    0.0/100.0 MB  0 MB/s  ETA 0:00"),
        Case(done: 50_000_000, total: 100_000_000, elapsed: 1, expected: "[############------------]   50.0/100.0 MB  50 MB/s  ETA 0:01"),
        Case(
            done: 2_000_000_000, total: 4_000_000_000, elapsed: 1,
            expected: "[############------------] 2000.0/4000.0 MB  2.00 GB/s  ETA 0:01"),
        Case(done: 150_000_000, total: 100_000_000, elapsed: 2, expected: "[########################]  100.0/100.0 MB  75 MB/s  ETA 0:00"),
    ]

    @Test("the line shows the bar, megabytes done of the total, the rate and the time left", arguments: cases.indices)
    func line(_ index: Int) {
        let c = Self.cases[index]
        #expect(ProgressBar.line(label: "verify m.lstmw", done: c.done, total: c.total, elapsed: c.elapsed) == "verify m.lstmw " + c.expected)
    }

    @Test("a disabled bar writes nothing, however much work is reported")
    func disabled() {
        let sink = Sink()
        let bar = ProgressBar(label: "import", total: 10, enabled: false, write: { sink.append($0) })
        for _ in 0..<1000 { bar.advance(1 << 20) }
        bar.finish()
        #expect(sink.all.isEmpty)
    }

    @Test("the CLI's progress goes nowhere when stderr is a pipe: verify of a golden file prints nothing on stderr")
    func silentWhenPiped() async throws {
        let result = try await CLI.run(["verify", CLI.fixture("golden/small_lstm.lstmw").path])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "\(result)")
    }
}
