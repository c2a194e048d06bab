import Foundation
import Testing

/// Every bad and hostile file of `Fixtures/keras/bad` and `Fixtures/pytorch/bad`: exit 65, one stderr line
/// naming the file, no output and no temporary file, and nothing executed.
@Suite("bad and hostile inputs through the CLI")
struct BadInputTests {
    /// Files the bad folders hold that an importer may support instead of refusing (their README says which):
    /// `legacy_nonzip.pt` is supported and checked in ``ImportValidateTests/legacyTorchSave()``.
    static let supported: Set<String> = ["pytorch/bad/legacy_nonzip.pt"]

    static let refused: [String] = FixtureIndex.badFiles.filter { !supported.contains($0) }

    @Test("the bad folders hold exactly the files index.json lists")
    func indexListsEveryBadFile() throws {
        for folder in ["keras/bad", "pytorch/bad"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: CLI.fixture(folder).path)
                .filter { !$0.hasSuffix(".md") && !$0.hasSuffix(".json") }
            let listed = FixtureIndex.badFiles.filter { $0.hasPrefix(folder + "/") }.map { String($0.dropFirst(folder.count + 1)) }
            #expect(Set(names) == Set(listed), "\(folder)")
        }
    }

    @Test(
        "import (default output, next to the source) and run (imported in memory): exit 65, one line naming the file, nothing written",
        arguments: refused)
    func refusedByImportAndRun(_ file: String) async throws {
        let name = URL(fileURLWithPath: file).lastPathComponent
        let input = CLI.fixture(file.hasPrefix("keras/") ? "keras/k3_stacked_lstm_dense/input.npy" : "pytorch/lstm_1layer/input.npy")
        try await withScratch { scratch in
            try scratch.copy(CLI.fixture(file), as: name)
            let before = try CLI.listing(scratch.url)
            async let imported = CLI.run(["import", name], in: scratch.url)
            async let ran = CLI.run(["run", name, "--input", input.path, "--output", "y.npy"], in: scratch.url)
            for result in try await [imported, ran] {
                #expect(result.status == Exit.badInput, "\(result)")
                expectOneErrorLine(result, naming: name)
                #expect(result.stdout.isEmpty, "\(result)")
            }
            #expect(try CLI.listing(scratch.url) == before, "import or run left a file behind")
        }
    }

    @Test("hostile pickles never execute: no /tmp/lstmconv_pwned_* after importing each of them")
    func hostilePicklesNeverRun() async throws {
        let hostile = FixtureIndex.badFiles.filter { $0.hasPrefix("pytorch/bad/") && $0.hasSuffix(".pt") }
        #expect(hostile.count >= 7)
        try await withScratch { scratch in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, file) in hostile.enumerated() {
                    group.addTask {
                        for forced in [[], ["--from", "pytorch"]] {
                            let output = scratch.path("out\(index).lstmw")
                            let result = try await CLI.run(["import", CLI.fixture(file).path, "-o", output, "--force"] + forced)
                            #expect(result.status == Exit.badInput || file.hasSuffix("legacy_nonzip.pt"), "\(result)")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let pwned = try FileManager.default.contentsOfDirectory(atPath: "/tmp").filter { $0.hasPrefix("lstmconv_pwned_") }
        #expect(pwned.isEmpty, "a hostile pickle ran: \(pwned)")
    }
}
