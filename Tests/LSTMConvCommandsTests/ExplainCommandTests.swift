import Foundation
import LSTMConv
import Testing

/// `lstmconv explain` end to end: every fixture, the `.npz` against `run --states` and the notes' equations, the
/// report file, and the contract's refusals.
@Suite("explain command")
struct ExplainCommandTests {
    @Test("every fixture: explain writes the report and every activation; the .npz obeys the equations and ends where run --states does", arguments: FixtureIndex.shared.cases.map(\.path))
    func everyFixture(_ path: String) async throws {
        let fixture = try #require(FixtureIndex.case(path))
        let ours = fixture.url(try #require(fixture.files["ours"])).path
        let model = try HDF5Encoding.read(from: URL(fileURLWithPath: ours))
        try await withScratch { scratch in
            var fastSummary: [String] = []
            // The default engine on every case; the reference engine too on the document-variant (numpy) cases.
            for engine in path.hasPrefix("numpy/") ? ["fast", "reference"] : ["fast"] {
                let explain = try await CLI.run([
                    "explain", ours, "--input", fixture.inputURL.path, "-o", scratch.path("\(engine).html"),
                    "--gates", scratch.path("\(engine).npz"), "--engine", engine,
                ])
                #expect(explain.status == Exit.success, "\(explain)")
                #expect(explain.stderr.isEmpty, "\(explain)")
                #expect(explain.stdoutLines.first?.hasPrefix("\(ours): ") == true, "\(explain)")
                if engine == "fast" { fastSummary = explain.stdoutLines }
                let html = try String(contentsOfFile: scratch.path("\(engine).html"), encoding: .utf8)
                #expect(html.hasPrefix("<!DOCTYPE html>") && html.hasSuffix("</html>\n"))
                let run = try await CLI.run([
                    "run", ours, "--input", fixture.inputURL.path, "--output", scratch.path("\(engine).npy"),
                    "--states", scratch.path("\(engine)-states.npz"), "--engine", engine,
                ])
                #expect(run.status == Exit.success, "\(run)")
                let gates = try NPZArchive(contentsOf: URL(fileURLWithPath: scratch.path("\(engine).npz")))
                let states = try NPZArchive(contentsOf: URL(fileURLWithPath: scratch.path("\(engine)-states.npz")))
                try checkArchive(gates, states: states, model: model, label: "\(path) \(engine)")
            }
            // The framework's own file explains the same (imported in memory): same summary after the first line.
            if let source = ImportValidateTests.sources(of: fixture).first {
                let direct = try await CLI.run(["explain", fixture.url(source.file).path, "--input", fixture.inputURL.path] + source.flags)
                #expect(direct.status == Exit.success, "\(direct)")
                #expect(direct.stdoutLines.count > 1 && direct.stdoutLines.dropFirst() == fastSummary.dropFirst(), "\(direct)\n\(fastSummary)")
            }
        }
    }

    /// Keys, shapes, dtype; the final step equals run --states; LTM and STM follow the notes' equations.
    private func checkArchive(_ gates: NPZArchive, states: NPZArchive, model: Model, label: String) throws {
        var expectedKeys: [String] = []
        for (index, layer) in model.layers.enumerated() {
            guard case .recurrent(let recurrent) = layer else { continue }
            for (d, direction) in ["forward", "backward"].prefix(recurrent.directions.count).enumerated() {
                let names = TracedGate.gates(of: recurrent).map(\.rawValue)
                expectedKeys += names.map { "layer_\(index)/\(direction)/\($0)" }
                let prefix = "layer_\(index)/\(direction)/"
                let stm = try gates.array(prefix + "STM")
                #expect(stm.dtype == .float32)
                let (B, T) = (stm.shape[0], stm.shape[1])
                let H = recurrent.hiddenSize, R = recurrent.recurrentSize
                #expect(stm.shape == [B, T, R], "\(label) \(prefix)STM")
                for name in names where name != "STM" {
                    #expect(try gates.array(prefix + name).shape == [B, T, H], "\(label) \(prefix)\(name)")
                }
                guard T > 0 else { continue }
                // Which end the direction finishes at (spec/engine.md §5): reversed readers end at t = 0.
                let reversed = (d == 1) != recurrent.goBackwards
                let last = reversed ? 0 : T - 1
                let previous: (Int) -> Int? = { t in reversed ? (t + 1 < T ? t + 1 : nil) : (t > 0 ? t - 1 : nil) }
                let finalSTM = try states.array(prefix + "STM").doubles
                let stmValues = stm.doubles
                for b in 0..<B {
                    for k in 0..<R {
                        let traced = stmValues[(b * T + last) * R + k]
                        #expect(abs(traced - finalSTM[b * R + k]) <= 1e-6, "\(label) \(prefix)STM final [\(b), \(k)]")
                    }
                }
                switch recurrent.cell {
                case .rnn:
                    break  // STM only: its end state is checked above
                case .lstm:
                    let f = try gates.array(prefix + "f").doubles, i = try gates.array(prefix + "i").doubles
                    let N = try gates.array(prefix + "N").doubles, LTM = try gates.array(prefix + "LTM").doubles
                    let U = try gates.array(prefix + "U").doubles, V = try gates.array(prefix + "V").doubles
                    let product = recurrent.projectionSize == nil ? stmValues : try gates.array(prefix + "STM_unprojected").doubles
                    let finalLTM = try states.array(prefix + "LTM").doubles
                    for b in 0..<B {
                        for t in 0..<T {
                            for k in 0..<H {
                                let at = (b * T + t) * H + k
                                let before = previous(t).map { LTM[(b * T + $0) * H + k] } ?? 0
                                var remembered = before * f[at] + N[at] * i[at]
                                if let clip = recurrent.cellClip { remembered = min(max(remembered, -clip), clip) }
                                #expect(abs(LTM[at] - remembered) <= 2e-6 * max(1, abs(remembered)), "\(label) \(prefix) remember [\(b), \(t), \(k)]")
                                #expect(abs(product[at] - U[at] * V[at]) <= 2e-6, "\(label) \(prefix) STM = U·V [\(b), \(t), \(k)]")
                            }
                        }
                        for k in 0..<H {
                            #expect(abs(LTM[(b * T + last) * H + k] - finalLTM[b * H + k]) <= 1e-6 * max(1, abs(finalLTM[b * H + k])), "\(label) \(prefix)LTM final")
                        }
                    }
                case .gru:
                    let z = try gates.array(prefix + "z").doubles, N = try gates.array(prefix + "N").doubles
                    for b in 0..<B {
                        for t in 0..<T {
                            for k in 0..<H {
                                let at = (b * T + t) * H + k
                                let before = previous(t).map { stmValues[(b * T + $0) * H + k] } ?? 0
                                let combined = z[at] * before + (1 - z[at]) * N[at]
                                #expect(abs(stmValues[at] - combined) <= 2e-6 * max(1, abs(combined)), "\(label) \(prefix) combine [\(b), \(t), \(k)]")
                            }
                        }
                    }
                }
            }
        }
        #expect(gates.names == expectedKeys, "\(label)")
    }

    @Test("refusals: existing output (73, nothing written), --sample outside the batch and --layer on a dense layer (64), missing input (66)")
    func refusals() async throws {
        let fixture = try #require(FixtureIndex.case("keras/k3_stacked_lstm_dense"))
        let ours = fixture.url(try #require(fixture.files["ours"])).path
        try await withScratch { scratch in
            try Data("keep".utf8).write(to: URL(fileURLWithPath: scratch.path("report.html")))
            let exists = try await CLI.run([
                "explain", ours, "--input", fixture.inputURL.path, "-o", scratch.path("report.html"), "--gates", scratch.path("g.npz"),
            ])
            #expect(exists.status == Exit.cannotCreateOutput, "\(exists)")
            expectOneErrorLine(exists, naming: scratch.path("report.html"))
            #expect(try CLI.listing(scratch.url) == ["report.html"])
            #expect(try String(contentsOfFile: scratch.path("report.html"), encoding: .utf8) == "keep")

            let forced = try await CLI.run([
                "explain", ours, "--input", fixture.inputURL.path, "-o", scratch.path("report.html"), "--force",
                "--sample", "1", "--layer", "1",
            ])
            #expect(forced.status == Exit.success, "\(forced)")
            #expect(forced.stdoutLines.filter { $0.hasPrefix("layer_") }.allSatisfy { $0.hasPrefix("layer_1/") }, "\(forced)")
            #expect(try String(contentsOfFile: scratch.path("report.html"), encoding: .utf8).contains("pictures show sample 1"))

            let sample = try await CLI.run(["explain", ours, "--input", fixture.inputURL.path, "--sample", "99"])
            #expect(sample.status == Exit.usage, "\(sample)")
            expectOneErrorLine(sample, naming: ours)
            let layer = try await CLI.run(["explain", ours, "--input", fixture.inputURL.path, "--layer", "2"])
            #expect(layer.status == Exit.usage, "\(layer)")
            expectOneErrorLine(layer, naming: ours)
            let missing = try await CLI.run(["explain", ours, "--input", scratch.path("absent.npy")])
            #expect(missing.status == Exit.missingInput, "\(missing)")
            expectOneErrorLine(missing, naming: scratch.path("absent.npy"))
        }
    }
}
