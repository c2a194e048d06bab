import Foundation
import LSTMConv
import Testing

/// `import` then `validate` (both engines) of every framework fixture, and `run`/`validate` of the cases that
/// are already in our format. The expected outputs are the frameworks' own (`model.predict`, `module(x)`) or
/// the independent NumPy implementation; the bound is absolute (`--rtol 0`), from each case's tolerance.
@Suite("import and validate every fixture through the CLI")
struct ImportValidateTests {
    @Test("index.json lists the fixture cases and bad files")
    func indexIsComplete() {
        #expect(FixtureIndex.cases("keras").count >= 12)
        #expect(FixtureIndex.cases("pytorch").count >= 10)
        #expect(FixtureIndex.cases("numpy").count >= 5)
        #expect(FixtureIndex.badFiles.count >= 20)
        for fixture in FixtureIndex.shared.cases {
            for file in fixture.files.values {
                #expect(FileManager.default.fileExists(atPath: fixture.url(file).path), "\(fixture.path)/\(file)")
            }
        }
    }

    /// Validates `model` against a case's input and expected output with both engines, each at its bound.
    static func validateBothEngines(_ model: String, _ fixture: FixtureIndex.Case, extra: [String] = []) async throws {
        let common = ["validate", model, "--input", fixture.inputURL.path, "--expected", fixture.expectedURL.path, "--rtol", "0"] + extra
        async let fast = CLI.run(common + ["--engine", "fast", "--atol", "\(fixture.tolerance.atol)"])
        async let reference = CLI.run(common + ["--engine", "reference", "--atol", "\(fixture.tolerance.reference_atol)"])
        for result in try await [fast, reference] {
            #expect(result.status == Exit.success, "\(result)")
            let count = fixture.expected.shape.reduce(1, *)
            #expect(result.stdoutLines.contains("elements: \(count)"), "\(result)")
            #expect(result.stdoutLines.contains { $0.hasPrefix("max abs error: ") }, "\(result)")
            #expect(result.stdoutLines.contains { $0.hasPrefix("worst element: [") }, "\(result)")
            #expect(result.stdoutLines.last?.hasPrefix("OK: within atol") == true, "\(result)")
        }
    }

    /// One source of a case: the file, the flags it needs, and where to write it.
    struct Source {
        var file: String
        var flags: [String]
        var output: String
    }

    static func sources(of fixture: FixtureIndex.Case) -> [Source] {
        var sources: [Source] = []
        let files = fixture.files
        // HDF5-born sources go to .lstmw and archives/safetensors to .h5, so both encodings are written.
        if let h5 = files["h5"], fixture.framework == "keras" { sources.append(Source(file: h5, flags: [], output: "from_h5.lstmw")) }
        if let keras = files["keras"] { sources.append(Source(file: keras, flags: [], output: "from_keras.h5")) }
        if let weights = files["weights_h5"], let config = files["config_json"] {
            sources.append(Source(file: weights, flags: ["--config", fixture.url(config).path], output: "from_weights.lstmw"))
        }
        if let pt = files["pt"] { sources.append(Source(file: pt, flags: fixture.importFlags, output: "from_pt.lstmw")) }
        if let safetensors = files["safetensors"] {
            sources.append(Source(file: safetensors, flags: fixture.importFlags, output: "from_safetensors.h5"))
        }
        return sources
    }

    /// Imports every source of a case into a scratch folder and checks the summaries; validates the first import
    /// with both engines, and checks that every other source imports to the same model (same layer attributes,
    /// same tensors bit for bit), so that it would validate alike.
    static func importAndValidate(_ path: String) async throws {
        let fixture = try #require(FixtureIndex.case(path))
        let sources = sources(of: fixture)
        #expect(!sources.isEmpty, "\(path) has no importable source")
        try await withScratch { scratch in
            let imported = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for (index, source) in sources.enumerated() {
                    group.addTask {
                        let output = scratch.path(source.output)
                        let result = try await CLI.run(["import", fixture.url(source.file).path, "-o", output] + source.flags)
                        #expect(result.status == Exit.success, "\(result)")
                        #expect(result.stdoutLines.first?.hasPrefix("imported ") == true, "\(result)")
                        #expect(result.stdoutLines.contains { $0.hasSuffix(" document tensors mapped") }, "\(result)")
                        #expect(result.stderr.isEmpty, "\(result)")
                        return (index, result.status == Exit.success)
                    }
                }
                return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(try CLI.listing(scratch.url) == Set(sources.map(\.output)), "only the outputs, no temporary files")
            guard imported.values.allSatisfy({ $0 }), let first = sources.first else { return }

            try await validateBothEngines(scratch.path(first.output), fixture)
            let reference = try Checkpoint.load(URL(fileURLWithPath: scratch.path(first.output)))
            for source in sources {
                let url = URL(fileURLWithPath: scratch.path(source.output))
                #expect(try Checkpoint.encoding(of: url) == (source.output.hasSuffix(".h5") ? .hdf5 : .binary))
                let model = try Checkpoint.load(url)
                #expect(
                    model.schemaAttributes.layers.map { $0.map { "\($0.key)=\($0.value)" } }
                        == reference.schemaAttributes.layers.map { $0.map { "\($0.key)=\($0.value)" } },
                    "\(source.file) and \(first.file) import to different layers")
                #expect(
                    model.storedTensors.map { "\($0.slot.path) \($0.tensor.dtype) \($0.tensor.shape)" }
                        == reference.storedTensors.map { "\($0.slot.path) \($0.tensor.dtype) \($0.tensor.shape)" })
                #expect(
                    model.storedTensors.map(\.tensor.bytes) == reference.storedTensors.map(\.tensor.bytes),
                    "\(source.file) and \(first.file) import to different tensor values")
            }
        }
    }

    @Test("Keras: import every source (.h5, .keras, weights + --config) to the same model; it validates with both engines", arguments: FixtureIndex.cases("keras"))
    func keras(_ path: String) async throws {
        try await Self.importAndValidate(path)
    }

    @Test("PyTorch: .pt and .safetensors import to the same model; it validates with both engines", arguments: FixtureIndex.cases("pytorch"))
    func pytorch(_ path: String) async throws {
        try await Self.importAndValidate(path)
    }

    @Test("numpy cases (our HDF5 encoding): validate with both engines, run writes the expected output", arguments: FixtureIndex.cases("numpy"))
    func numpy(_ path: String) async throws {
        let fixture = try #require(FixtureIndex.case(path))
        let model = fixture.url(try #require(fixture.files["ours"])).path
        try await Self.validateBothEngines(model, fixture)
        try await withScratch { scratch in
            async let fast = CLI.run(["run", model, "--input", fixture.inputURL.path, "--output", scratch.path("fast.npy")])
            async let reference = CLI.run(
                ["run", model, "--input", fixture.inputURL.path, "--output", scratch.path("reference.npy"), "--engine", "reference"])
            let (fastResult, referenceResult) = try await (fast, reference)
            let expected = try NumPyArray(contentsOf: fixture.expectedURL)
            for (result, name, dtype, bound) in [
                (fastResult, "fast.npy", NumPyDType.float32, fixture.tolerance.atol),
                (referenceResult, "reference.npy", NumPyDType.float64, fixture.tolerance.reference_atol),
            ] {
                #expect(result.status == Exit.success, "\(result)")
                #expect(result.stdout.isEmpty, "run prints its summary to stderr, nothing to stdout\n\(result)")
                let output = try NumPyArray(contentsOf: URL(fileURLWithPath: scratch.path(name)))
                #expect(output.dtype == dtype)
                #expect(output.shape == expected.shape)
                let error = zip(output.doubles, expected.doubles).map { abs($0 - $1) }.max() ?? .infinity
                #expect(error <= bound, "\(name): max abs error \(error) > \(bound)")
            }
        }
    }

    @Test("a framework source validates directly (imported in memory), like its imported checkpoint")
    func inMemoryImport() async throws {
        for path in ["keras/k3_text_embedding_lstm_softmax", "pytorch/prefixed_head_last"] {
            let fixture = try #require(FixtureIndex.case(path))
            let source = fixture.url(fixture.files["h5"] ?? fixture.files["pt"] ?? "")
            try await Self.validateBothEngines(source.path, fixture, extra: fixture.importFlags)
        }
    }

    @Test("legacy (non-zip) torch.save is supported and reproduces pytorch/lstm_1layer")
    func legacyTorchSave() async throws {
        let fixture = try #require(FixtureIndex.case("pytorch/lstm_1layer"))
        try await withScratch { scratch in
            let output = scratch.path("legacy.lstmw")
            let result = try await CLI.run(["import", CLI.fixture("pytorch/bad/legacy_nonzip.pt").path, "-o", output])
            #expect(result.status == Exit.success, "\(result)")
            try await Self.validateBothEngines(output, fixture)
        }
    }

    @Test("two recurrent modules: refused without --module, imported with --module enc")
    func twoModules() async throws {
        try await withScratch { scratch in
            let source = CLI.fixture("pytorch/bad/two_modules.pt").path
            let refused = try await CLI.run(["import", source, "-o", scratch.path("out.lstmw")])
            #expect(refused.status == Exit.badInput, "\(refused)")
            expectOneErrorLine(refused, naming: "two_modules.pt")
            #expect(refused.stderr.contains("enc") && refused.stderr.contains("dec"), "\(refused)")
            #expect(try CLI.listing(scratch.url).isEmpty)
            let chosen = try await CLI.run(["import", source, "-o", scratch.path("out.lstmw"), "--module", "enc"])
            #expect(chosen.status == Exit.success, "\(chosen)")
            #expect(chosen.stdout.contains("ignored source keys: dec."), "\(chosen)")
        }
    }

    @Test("import --verbose prints the source → document tensor map; the default output is SOURCE.lstmw")
    func verboseAndDefaultOutput() async throws {
        try await withScratch { scratch in
            try scratch.copy(CLI.fixture("keras/k3_stacked_lstm_dense/model.weights.h5"), as: "model.weights.h5")
            let config = CLI.fixture("keras/k3_stacked_lstm_dense/model.json").path
            let result = try await CLI.run(["import", "model.weights.h5", "--config", config, "--verbose"], in: scratch.url)
            #expect(result.status == Exit.success, "\(result)")
            #expect(try CLI.listing(scratch.url) == ["model.weights.h5", "model.lstmw"], "default output strips .weights")
            let map = result.stdoutLines.drop { $0 != "tensor map (source → document):" }.dropFirst()
            let inspect = try await CLI.run(["inspect", "--json", scratch.path("model.lstmw")])
            let report = try JSONDecoder().decode(InspectJSON.self, from: Data(inspect.stdout.utf8))
            // Every document tensor appears in the map, and the map's documents name real tensors.
            for tensor in report.tensors {
                #expect(map.contains { $0.hasSuffix(" → \(tensor.path)") }, "\(tensor.path) missing from the tensor map")
            }
            #expect(!map.isEmpty)
        }
    }
}
