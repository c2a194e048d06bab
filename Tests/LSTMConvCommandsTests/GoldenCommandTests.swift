import Foundation
import LSTMConv
import Testing

/// `inspect`, `verify` and `convert` on the committed golden files, checked against the golden files'
/// `*.expected.json` (written by an independent Python decoder) and against each other byte for byte.
@Suite("golden files through the CLI")
struct GoldenCommandTests {
    static let names = ["small_lstm", "bidirectional_gru", "projected_peephole_lstm", "document_lstm"]

    /// Every golden file in both encodings (HDF5 plain and compressed), relative to `Fixtures/`.
    static let files: [String] = names.flatMap {
        ["golden/\($0).lstmw", "hdf5/golden/\($0).h5", "hdf5/golden/\($0).compressed.h5"]
    }

    static func goldenName(of file: String) -> String {
        String(URL(fileURLWithPath: file).lastPathComponent.split(separator: ".")[0])
    }

    @Test("every golden file is on disk")
    func goldenFilesExist() {
        for file in Self.files {
            #expect(FileManager.default.fileExists(atPath: CLI.fixture(file).path), "\(file)")
        }
    }

    @Test("inspect lists layers, provenance and every tensor with shape, dtype, crc32 and source", arguments: files)
    func inspectText(_ file: String) async throws {
        let expected = try GoldenExpectation.load(Self.goldenName(of: file))
        let result = try await CLI.run(["inspect", CLI.fixture(file).path])
        #expect(result.status == Exit.success, "\(result)")
        #expect(result.stderr.isEmpty, "\(result)")
        let lines = result.stdoutLines
        let layerCount = expected.metadata.first { $0.key == "layer_count" }?.value
        if case .int(let count) = layerCount {
            for index in 0..<count {
                #expect(lines.contains { $0.hasPrefix("layer \(index): ") }, "layer \(index) missing\n\(result)")
            }
            #expect(!lines.contains { $0.hasPrefix("layer \(count): ") })
        } else {
            Issue.record("expected.json has no integer layer_count")
        }
        #expect(lines.contains("source: lstmconv, layout document"), "\(result)")
        #expect(lines.contains("converter: lstmconv golden"), "\(result)")
        let rows = lines.filter { $0.hasPrefix("  layer_") }
        #expect(rows.count == expected.tensors.count, "\(result)")
        for (row, tensor) in zip(rows, expected.tensors) {
            let columns = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ", ") + "]"
            #expect(columns.first == tensor.path, "\(row)")
            #expect(row.contains("  \(shape)  "), "\(row) should show shape \(shape)")
            #expect(columns.contains(tensor.dtype), "\(row) should show dtype \(tensor.dtype)")
            #expect(columns.contains(String(format: "%08x", tensor.crc32)), "\(row) should show the crc32")
            if !tensor.source.isEmpty { #expect(columns.last == tensor.source, "\(row)") }
        }
    }

    @Test("inspect --json parses and matches the golden metadata and tensor directory", arguments: files)
    func inspectJSON(_ file: String) async throws {
        let expected = try GoldenExpectation.load(Self.goldenName(of: file))
        let result = try await CLI.run(["inspect", "--json", CLI.fixture(file).path])
        #expect(result.status == Exit.success, "\(result)")
        let report = try JSONDecoder().decode(InspectJSON.self, from: Data(result.stdout.utf8))
        #expect(report.encoding == (file.hasSuffix(".lstmw") ? "binary" : "hdf5"))
        #expect(report.file_size == (try FileManager.default.attributesOfItem(atPath: CLI.fixture(file).path)[.size] as? Int))
        #expect(report.tensors.map(\.path) == expected.tensors.map(\.path))
        for (tensor, want) in zip(report.tensors, expected.tensors) {
            #expect(tensor.shape == want.shape, "\(tensor.path)")
            #expect(tensor.dtype == want.dtype, "\(tensor.path)")
            #expect(tensor.crc32 == String(format: "%08x", want.crc32), "\(tensor.path)")
            #expect((tensor.source ?? "") == want.source, "\(tensor.path)")
            #expect(tensor.path.hasSuffix("/" + tensor.name), "\(tensor.path)")
            #expect(tensor.path.hasPrefix("layer_\(tensor.layer)/"), "\(tensor.path)")
        }
        // Root metadata → `attributes`; `layer.<k>.<name>` → `layers[k][name]`.
        for entry in expected.metadata {
            let parts = entry.key.split(separator: ".", maxSplits: 2).map(String.init)
            if parts.count == 3, parts[0] == "layer", let index = Int(parts[1]) {
                let value = index < report.layers.count ? report.layers[index][parts[2]] : nil
                #expect(value.map { $0.matches(entry.value) } == true, "\(entry.key): \(String(describing: value)) vs \(entry.value)")
            } else {
                #expect(report.attributes[entry.key].map { $0.matches(entry.value) } == true, "\(entry.key)")
            }
        }
    }

    @Test("verify recomputes every checksum: exit 0, one ok line per tensor", arguments: files)
    func verify(_ file: String) async throws {
        let expected = try GoldenExpectation.load(Self.goldenName(of: file))
        let result = try await CLI.run(["verify", CLI.fixture(file).path])
        #expect(result.status == Exit.success, "\(result)")
        let rows = result.stdoutLines.filter { $0.hasPrefix("layer_") }
        #expect(rows.count == expected.tensors.count, "\(result)")
        for (row, tensor) in zip(rows, expected.tensors) {
            #expect(row.hasPrefix(tensor.path + " "), "\(row)")
            #expect(row.contains(String(format: "%08x", tensor.crc32)) && row.hasSuffix(" ok"), "\(row)")
        }
        #expect(result.stdoutLines.last?.hasSuffix("all \(expected.tensors.count) checksums match") == true, "\(result)")
    }

    /// The uncompressed files, where a tensor's bytes sit in the file as stored.
    static let flippable: [String] = names.flatMap { ["golden/\($0).lstmw", "hdf5/golden/\($0).h5"] }

    @Test(
        "one flipped data byte: verify exits 2 naming the tensor; convert and run exit 65 and write nothing; header-only inspect shows the file",
        arguments: flippable)
    func flippedDataByte(_ file: String) async throws {
        try await withScratch { scratch in
            let original = try Data(contentsOf: CLI.fixture(file))
            // A tensor whose stored bytes occur exactly once in the file, found there by content. (The golden
            // values come from a formula, so some small tensors repeat each other.)
            let model = try Checkpoint.load(CLI.fixture(file))
            let unique = model.storedTensors.reversed().compactMap { entry -> (path: String, bytes: Data, range: Range<Int>)? in
                guard let range = original.range(of: entry.tensor.bytes),
                      original.range(of: entry.tensor.bytes, in: range.upperBound..<original.endIndex) == nil else { return nil }
                return (entry.slot.path, entry.tensor.bytes, range)
            }
            let victim = try #require(unique.first, "no tensor of \(file) has bytes that occur once in the file")
            let (range, bytes) = (victim.range, victim.bytes)
            var damaged = original
            damaged[range.lowerBound + bytes.count / 2] ^= 0x10
            let name = URL(fileURLWithPath: file).lastPathComponent
            let path = scratch.path(name)
            try damaged.write(to: URL(fileURLWithPath: path))
            let before = try CLI.listing(scratch.url)

            let verify = try await CLI.run(["verify", path])
            #expect(verify.status == Exit.mismatch, "\(verify)")
            let mismatches = verify.stdoutLines.filter { $0.contains("MISMATCH") }
            #expect(mismatches.count == 1 && mismatches.first?.hasPrefix(victim.path + " ") == true, "\(verify)")
            expectOneErrorLine(verify, naming: name)

            // inspect reads the header only (intact here): it shows the file and leaves the data to verify.
            let inspect = try await CLI.run(["inspect", path])
            #expect(inspect.status == Exit.success, "\(inspect)")
            #expect(inspect.stderr.isEmpty, "\(inspect)")
            #expect(inspect.stdoutLines.contains { $0.hasPrefix("  \(victim.path) ") }, "\(inspect)")

            let convert = try await CLI.run(["convert", path, "-o", scratch.path("out.lstmw")])
            #expect(convert.status == Exit.badInput, "\(convert)")
            expectOneErrorLine(convert, naming: name)
            let run = try await CLI.run([
                "run", path, "--input", CLI.fixture("pytorch/lstm_1layer/input.npy").path, "--output", scratch.path("y.npy"),
            ])
            #expect(run.status == Exit.badInput, "\(run)")
            expectOneErrorLine(run, naming: name)
            #expect(try CLI.listing(scratch.url) == before, "convert or run left a file behind")
        }
    }

    @Test("convert .lstmw → .h5 → .lstmw is byte-identical, and matches the committed HDF5 golden files", arguments: names)
    func convertRoundTrip(_ name: String) async throws {
        try await withScratch { scratch in
            let lstmw = CLI.fixture("golden/\(name).lstmw")
            let h5 = scratch.path("\(name).h5")
            let compressed = scratch.path("\(name).compressed.hdf5")
            async let toH5 = CLI.run(["convert", lstmw.path, "-o", h5])
            async let toCompressed = CLI.run(["convert", lstmw.path, "-o", compressed, "--compress"])
            for result in try await [toH5, toCompressed] {
                #expect(result.status == Exit.success, "\(result)")
                #expect(result.stderr.isEmpty, "\(result)")
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: h5)) == Data(contentsOf: CLI.fixture("hdf5/golden/\(name).h5")))
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: compressed))
                    == Data(contentsOf: CLI.fixture("hdf5/golden/\(name).compressed.h5")))

            let back = scratch.path("back.lstmw")
            let backFromCompressed = scratch.path("back2.lstmw")
            async let fromH5 = CLI.run(["convert", h5, "-o", back])
            async let fromCompressed = CLI.run(["convert", compressed, "-o", backFromCompressed])
            for result in try await [fromH5, fromCompressed] { #expect(result.status == Exit.success, "\(result)") }
            let golden = try Data(contentsOf: lstmw)
            #expect(try Data(contentsOf: URL(fileURLWithPath: back)) == golden, "h5 → lstmw differs from the golden file")
            #expect(try Data(contentsOf: URL(fileURLWithPath: backFromCompressed)) == golden)
            #expect(try CLI.listing(scratch.url) == ["\(name).h5", "\(name).compressed.hdf5", "back.lstmw", "back2.lstmw"])
        }
    }

    @Test("--encoding overrides the extension; an unknown extension without it is a usage error")
    func encodingFlag() async throws {
        try await withScratch { scratch in
            let lstmw = CLI.fixture("golden/small_lstm.lstmw").path
            let unknown = try await CLI.run(["convert", lstmw, "-o", scratch.path("model.weights")])
            #expect(unknown.status == Exit.usage, "\(unknown)")
            #expect(try CLI.listing(scratch.url).isEmpty)
            let binary = try await CLI.run(["convert", lstmw, "-o", scratch.path("model.weights"), "--encoding", "binary"])
            #expect(binary.status == Exit.success, "\(binary)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("model.weights"))) == Data(contentsOf: URL(fileURLWithPath: lstmw)))
            let hdf5 = try await CLI.run(["convert", lstmw, "-o", scratch.path("model.bin"), "--encoding", "hdf5"])
            #expect(hdf5.status == Exit.success, "\(hdf5)")
            #expect(
                try Data(contentsOf: URL(fileURLWithPath: scratch.path("model.bin")))
                    == Data(contentsOf: CLI.fixture("hdf5/golden/small_lstm.h5")))
        }
    }

    struct DTypeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var dtype: String
        var encoding: String
        var testDescription: String { "\(name) → \(dtype) (\(encoding))" }
    }

    static let dtypeCases: [DTypeCase] = names.enumerated().flatMap { index, name in
        ["f32", "f16", "bf16", "f64"].map { DTypeCase(name: name, dtype: $0, encoding: index % 2 == 0 ? "lstmw" : "h5") }
    }

    @Test("convert --dtype stores every tensor in the new dtype, rounded to nearest even from the golden values", arguments: dtypeCases)
    func convertDType(_ item: DTypeCase) async throws {
        try await withScratch { scratch in
            let expected = try GoldenExpectation.load(item.name)
            let output = scratch.path("out.\(item.encoding)")
            let convert = try await CLI.run(["convert", CLI.fixture("golden/\(item.name).lstmw").path, "-o", output, "--dtype", item.dtype])
            #expect(convert.status == Exit.success, "\(convert)")
            async let verify = CLI.run(["verify", output])
            async let inspect = CLI.run(["inspect", "--json", output])
            let (verified, inspected) = try await (verify, inspect)
            #expect(verified.status == Exit.success, "\(verified)")
            let report = try JSONDecoder().decode(InspectJSON.self, from: Data(inspected.stdout.utf8))
            #expect(report.tensors.map(\.dtype) == Array(repeating: item.dtype, count: expected.tensors.count))
            #expect(report.tensors.map(\.path) == expected.tensors.map(\.path))

            let model = try Checkpoint.load(URL(fileURLWithPath: output))
            for (entry, want) in zip(model.storedTensors, expected.tensors) {
                let rounded = want.values.map { Self.round($0, to: item.dtype) }
                #expect(entry.tensor.doubles() == rounded, "\(want.path) as \(item.dtype)")
            }
        }
    }

    /// Rounds to a dtype with the standard library's conversions (bfloat16 by hand: the upper 16 bits of the
    /// float32, rounded to nearest even). The golden values are all exact float32 values, so going through
    /// `Float` rounds once.
    static func round(_ value: Double, to dtype: String) -> Double {
        switch dtype {
        case "f64": return value
        case "f32": return Double(Float(value))
        case "f16": return Double(Float(Float16(value)))
        default:
            let bits = Float(value).bitPattern
            let lower = bits & 0xFFFF
            var upper = bits >> 16
            if lower > 0x8000 || (lower == 0x8000 && upper & 1 == 1) { upper += 1 }
            return Double(Float(bitPattern: upper << 16))
        }
    }
}
