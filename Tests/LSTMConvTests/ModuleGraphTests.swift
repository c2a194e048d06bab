import Foundation
import LSTMTestSupport
import Testing

/// The README's module table is the module graph: every row's "may import" column names exactly the
/// package's own targets that `Package.swift` lets the module depend on.
@Suite("README module graph matches Package.swift")
struct ModuleGraphTests {
    /// Target name → the package's own targets it depends on (products and C system libraries left out).
    static func packageGraph() throws -> [String: Set<String>] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Its own scratch folder: the default .build is locked by the `swift test` running this test.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-dump-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        process.arguments = ["swift", "package", "--scratch-path", scratch.path, "dump-package"]
        process.currentDirectoryURL = FixturePaths.repositoryRoot
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let targets = try #require(json["targets"] as? [[String: Any]])
        var graph: [String: Set<String>] = [:]
        for target in targets {
            guard let name = target["name"] as? String, (target["type"] as? String) != "test" else { continue }
            var dependencies = Set<String>()
            for dependency in target["dependencies"] as? [[String: Any]] ?? [] {
                if let byName = dependency["byName"] as? [Any], let first = byName.first as? String { dependencies.insert(first) }
                if let target = dependency["target"] as? [Any], let first = target.first as? String { dependencies.insert(first) }
            }
            graph[name] = dependencies
        }
        let ownTargets = Set(graph.keys)
        return graph.mapValues { $0.intersection(ownTargets).filter { !$0.hasPrefix("C") } }
    }

    /// Rows of the README table under "## Repository": module → backticked names in "may import".
    static func readmeGraph() throws -> [String: Set<String>] {
        let readme = try String(contentsOf: FixturePaths.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.range(of: "## Repository"))
        var graph: [String: Set<String>] = [:]
        for line in readme[section.upperBound...].split(separator: "\n") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 5, cells[1].hasPrefix("`"), !cells[1].contains("/") else { continue }
            func names(_ cell: String) -> Set<String> {
                Set(cell.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) })
            }
            for module in names(cells[1]) { graph[module] = names(cells[3]) }
        }
        return graph
    }

    @Test("every library and CLI target has a README row, and each row lists exactly its Package.swift dependencies")
    func graphsAgree() throws {
        let package = try Self.packageGraph()
        let readme = try Self.readmeGraph()
        #expect(readme.count >= 15, "README rows found: \(readme.keys.sorted())")
        let documented = Set(package.keys).subtracting(["LSTMTestSupport"]).filter { !$0.hasPrefix("C") }
        #expect(Set(readme.keys) == documented, "README rows vs targets")
        for (module, dependencies) in readme {
            #expect(package[module] == dependencies, "\(module): README says \(dependencies.sorted()), Package.swift has \(package[module]?.sorted() ?? [])")
        }
    }

    @Test("LSTMConv is the top: no target below the CLI depends on it")
    func umbrellaIsTop() throws {
        let package = try Self.packageGraph()
        let dependents = package.filter { $0.value.contains("LSTMConv") }.map(\.key).sorted()
        #expect(dependents == ["LSTMConvCommands"], "targets that import LSTMConv: \(dependents)")
    }
}
