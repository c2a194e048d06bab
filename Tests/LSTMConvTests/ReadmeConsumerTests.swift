import Foundation
import LSTMTestSupport
import Testing

/// The README's "From Swift" section, taken from README.md itself (not a copy), compiled and run as a fresh
/// consumer package that depends on a clean copy of this repository, exactly as a user would follow it.
@Suite("README: a fresh consumer package builds and runs the library example verbatim", .serialized)
struct ReadmeConsumerTests {
    /// The fenced block that follows `<!-- consumer: <file> -->` in README.md.
    static func block(after marker: String, in readme: String) throws -> String {
        let tag = "<!-- consumer: \(marker) -->"
        let start = try #require(readme.range(of: tag), "README.md has no \(tag)")
        let rest = readme[start.upperBound...]
        let open = try #require(rest.range(of: "```swift\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```"))
        return String(rest[open.upperBound..<close.lowerBound]) + "\n"
    }

    @Test("README blocks compile in a new package and print the golden model's tensors and output",
          .timeLimit(.minutes(20)))
    func consumerPackage() throws {
        let root = FixturePaths.repositoryRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let manifest = try Self.block(after: "Package.swift", in: readme)
        let main = try Self.block(after: "Sources/Example/main.swift", in: readme)
        #expect(manifest.contains(".package(path: \"../lstmconv\")"))
        #expect(main.contains("import LSTMConv"))

        let workspace = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-readme-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: workspace) }
        // A clean copy of the project: the files git tracks, in a folder named `lstmconv` (the package identity).
        let copy = workspace.appendingPathComponent("lstmconv")
        let listed = try Subprocess.run(["git", "-C", root.path, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], in: root)
        try #require(listed.status == 0, "git ls-files: \(listed.output)")
        let files = listed.output.split(separator: "\0").map(String.init).filter { !$0.hasPrefix("Fixtures/") }
        #expect(files.count >= 100, "git listed \(files.count) files")
        for file in files {
            let source = root.appendingPathComponent(file)
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            let target = copy.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: source, to: target)
        }

        let consumer = workspace.appendingPathComponent("consumer")
        let sources = consumer.appendingPathComponent("Sources/Example")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        try manifest.write(to: consumer.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try main.write(to: sources.appendingPathComponent("main.swift"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: FixturePaths.golden("small_lstm.lstmw"), to: consumer.appendingPathComponent("model.lstmw"))

        let result = try Subprocess.run(["swift", "run", "--quiet", "Example"], in: consumer)
        try #require(result.status == 0, "swift run failed:\n\(result.output.suffix(4000))")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("layer_0/forward/W_n [4, 7] f32") }, "\(result.output.suffix(2000))")
        #expect(lines.contains { $0.hasPrefix("W_f mean ") })
        #expect(lines.contains("[4, 7]"))
        #expect(lines.contains { $0.hasPrefix("[1, 5, 4] [layer_0/forward]") }, "\(result.output.suffix(2000))")
        #expect(lines.contains("forget gate [1, 5, 4]"), "\(result.output.suffix(2000))")
    }
}
