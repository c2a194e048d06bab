import Foundation
import HDF5Bridge
import LSTMHDF5
import LSTMTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Captures what the process writes to file descriptor 2 while `body` runs.
func capturingStandardError(_ body: () throws -> Void) throws -> String {
    let directory = try TemporaryDirectory()
    let path = directory.path("stderr.txt")
    let capture = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    try #require(capture >= 0)
    fflush(nil)
    let saved = dup(2)
    dup2(capture, 2)
    defer {
        fflush(nil)
        dup2(saved, 2)
        close(saved)
        close(capture)
    }
    try body()
    fflush(nil)
    return try String(contentsOfFile: path, encoding: .utf8)
}

/// HDF5 never prints its own error stack: every failure is in our typed errors only, whichever thread fails.
@Suite(.serialized) struct StderrTests {
    @Test func failuresOnManyThreadsPrintNothing() throws {
        let files = malformedCases.map { Fixtures.hdf5("malformed/\($0.file)") }
        let keras = Fixtures.hdf5("bridge/keras_like.h5").path
        let text = try capturingStandardError {
            FileHandle.standardError.write(Data("capture-probe\n".utf8))
            DispatchQueue.concurrentPerform(iterations: 4 * files.count) { index in
                _ = try? HDF5Encoding.read(from: files[index % files.count])
                if let root = try? HDF5File.openReadOnly(keras).root() {
                    _ = try? root.group("model_weights/alias")
                    _ = try? root.dataset("nothing/here")
                    _ = try? root.group("model_weights/lstm/lstm").dataset("ints:0").readFloats()
                }
            }
        }
        #expect(text.contains("capture-probe"), "the capture itself works")
        // Only HDF5's own lines are looked for: Swift Testing may write progress to stderr meanwhile.
        #expect(!text.contains("HDF5-DIAG"), "\(text)")
        #expect(!text.contains("major: "), "\(text)")
    }

    /// Many threads reading and writing at once through the one lock give the same results as one thread.
    @Test func concurrentReadsAndWritesAgree() throws {
        let directory = try TemporaryDirectory()
        let folder = directory.url
        let models = GoldenModels.all
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 16) { index in
            let (name, model) = models[index % models.count]
            let url = folder.appendingPathComponent("\(name)-\(index).h5")
            do {
                try HDF5Encoding.write(model, to: url, options: HDF5WriteOptions(compress: index % 2 == 0))
                let decoded = try HDF5Encoding.read(from: url)
                let golden = try HDF5Encoding.read(from: GoldenFileTests.url(name, compressed: false))
                if decoded != model || golden != model { failures.increment() }
            } catch {
                failures.increment()
            }
        }
        #expect(failures.value == 0)
    }
}

/// A thread-safe counter for the concurrency test.
final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
