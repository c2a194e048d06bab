import Foundation
import Testing
import LSTMTestSupport

/// Runs the built `lstmconv` executable and captures what it prints.
///
/// The binary is the one next to the test bundle in the build products folder (`swift test` builds every
/// product), else `.build/debug/lstmconv`; `LSTMCONV_BIN` overrides both. `scripts/test.sh` builds it first.
enum CLI {
    /// The package root, three levels above this file.
    static let packageRoot = FixturePaths.repositoryRoot

    static let fixtures = packageRoot.appendingPathComponent("Fixtures")

    /// A fixture file by its path relative to `Fixtures/`.
    static func fixture(_ relativePath: String) -> URL { fixtures.appendingPathComponent(relativePath) }

    /// Where the executable is, or `nil` when it has not been built.
    static let executable: URL? = {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["LSTMCONV_BIN"], !override.isEmpty {
            candidates.append(URL(fileURLWithPath: override))
        }
        for bundle in [Bundle.main] + Bundle.allBundles {
            if let executable = bundle.executableURL {
                candidates.append(executable.deletingLastPathComponent().appendingPathComponent("lstmconv"))
            }
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("lstmconv"))
        }
        candidates.append(packageRoot.appendingPathComponent(".build/debug/lstmconv"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Why the executable cannot be trusted to be built from the current sources, or `nil` when it can:
    /// `swift test` does not rebuild executables, so an edit to `Sources/` needs `swift build --product lstmconv`.
    static let staleness: String? = {
        guard let executable else {
            return "the lstmconv executable is not built: run `swift build --product lstmconv` (scripts/test.sh does)"
        }
        let manager = FileManager.default
        func modified(_ url: URL) -> Date {
            (try? manager.attributesOfItem(atPath: url.path)[.modificationDate] as? Date) ?? .distantPast
        }
        let built = modified(executable)
        var newest: (url: URL, date: Date)?
        let sources = packageRoot.appendingPathComponent("Sources")
        for case let url as URL in manager.enumerator(at: sources, includingPropertiesForKeys: [.contentModificationDateKey]) ?? .init() {
            let date = modified(url)
            if date > (newest?.date ?? .distantPast) { newest = (url, date) }
        }
        if let newest, newest.date > built {
            return "\(executable.path) is older than \(newest.url.path): run `swift build --product lstmconv` (scripts/test.sh does)"
        }
        return nil
    }()

    /// What one run of the executable did.
    struct Result: Sendable, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var stdout: String
        var stderr: String

        /// stderr without its trailing newline, split into lines.
        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastIfEmpty() }
        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).dropLastIfEmpty() }

        var description: String {
            "lstmconv \(arguments.joined(separator: " ")) → exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
        }
    }

    /// Runs `lstmconv arguments…` in `directory` (default: the package root) and waits for it to exit.
    static func run(_ arguments: [String], in directory: URL? = nil) async throws -> Result {
        if let staleness { throw StaleExecutable(message: staleness) }
        let binary = try #require(executable)
        await ProcessGate.shared.enter()
        defer { Task { await ProcessGate.shared.leave() } }

        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = "80"
        let run = try await Subprocess.capture(executable: binary, arguments, in: directory ?? packageRoot, environment: environment)
        return Result(arguments: arguments, status: run.status, stdout: run.stdout, stderr: run.stderr)
    }

    /// The names in a folder (hidden ones included), to prove a failed command left nothing behind.
    static func listing(_ folder: URL) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
    }
}

/// The executable is missing or older than the sources it is built from.
struct StaleExecutable: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension Array where Element == String {
    fileprivate func dropLastIfEmpty() -> [String] { last == "" ? Array(dropLast()) : self }
}

/// Caps the number of `lstmconv` processes alive at once, so parallel tests do not swamp a small machine.
actor ProcessGate {
    static let shared = ProcessGate(limit: max(2, ProcessInfo.processInfo.activeProcessorCount * 2))

    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    func enter() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// A fresh folder for one test, removed afterwards.
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Copies a file into the folder under `name`.
    @discardableResult
    func copy(_ source: URL, as name: String) throws -> String {
        let target = url.appendingPathComponent(name)
        try FileManager.default.copyItem(at: source, to: target)
        return target.path
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Runs `body` with a fresh scratch folder that is removed afterwards.
func withScratch<T>(_ body: (Scratch) async throws -> T) async throws -> T {
    let scratch = try Scratch()
    defer { scratch.remove() }
    return try await body(scratch)
}

/// The exit codes of spec/cli.md, written out here so that a change to the code alone fails the tests.
enum Exit {
    static let success: Int32 = 0
    static let mismatch: Int32 = 2
    static let usage: Int32 = 64
    static let badInput: Int32 = 65
    static let missingInput: Int32 = 66
    static let cannotCreateOutput: Int32 = 73
}

/// Checks the contract's error line: one line on stderr, `lstmconv: error: …`, naming `subject`.
func expectOneErrorLine(_ result: CLI.Result, naming subject: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.stderrLines.count == 1, "expected one stderr line\n\(result)", sourceLocation: sourceLocation)
    let line = result.stderrLines.first ?? ""
    #expect(line.hasPrefix("lstmconv: error: "), "\(result)", sourceLocation: sourceLocation)
    #expect(line.contains(subject), "the error line should name \(subject)\n\(result)", sourceLocation: sourceLocation)
}
