import Foundation
import LSTMEngine
import LSTMExplain
import LSTMModel
import NumPyIO
import Testing

@Suite("explain: statistics, summary, .npz and HTML")
struct ExplainReportTests {
    @Test("every fixture: the report has a picture per gate and direction, the summary a block per direction; same input, same bytes", arguments: ExplainFixture.all)
    func everyFixture(_ fixture: ExplainFixture) throws {
        let (model, input) = try fixture.load()
        for engine in Engine.allCases {
            let trace = try engine.trace(model, input: input)
            let report = try ExplainReport(model: model, trace: trace, source: fixture.path, engine: engine.rawValue)
            let html = report.html
            // Deterministic: a second trace and report give the same bytes.
            let again = try ExplainReport(model: model, trace: try engine.trace(model, input: input), source: fixture.path, engine: engine.rawValue)
            #expect(again.html == html)
            #expect(again.summary == report.summary)
            // One heatmap per gate, plus memory trajectories, a histogram and one scatter per [0, 1] gate.
            let gatePictures = trace.directions.reduce(0) { $0 + $1.gates.count }
            let extras = trace.directions.reduce(0) { $0 + 2 + ($1.layer.cell == .lstm ? 3 : 2) }
            #expect(html.components(separatedBy: "<svg ").count - 1 == gatePictures + extras)
            #expect(html.components(separatedBy: "data:image/png;base64,").count - 1 == gatePictures)
            #expect(!html.contains("http://") || html.components(separatedBy: "http://").count - 1 == gatePictures + extras,
                    "the only URLs are the SVG namespaces")
            for direction in trace.directions {
                #expect(html.contains("<h2>\(direction.key) · "))
                #expect(report.summary.contains("\n\(direction.key): "))
            }
        }
    }

    @Test("the .npz holds every traced array as float32 under layer_<k>/<direction>/<gate>")
    func archive() throws {
        let fixture = try #require(ExplainFixture.named("numpy/doc_lstm_bidirectional_projection_clip"))
        let (model, input) = try fixture.load()
        let trace = try Engine.reference.trace(model, input: input)
        let archive = try ExplainReport.archive(trace)
        let expected = ["N", "i", "f", "LTM", "U", "V", "STM_unprojected", "STM"]
        #expect(archive.names == ["forward", "backward"].flatMap { d in expected.map { "layer_0/\(d)/\($0)" } })
        let reread = try NPZArchive(npzData: try archive.npzData())
        for (name, array) in trace.namedArrays {
            let stored = try reread.array(name)
            #expect(stored.dtype == .float32)
            #expect(stored.shape == array.shape)
            #expect(stored.floats == array.scalars)
        }
        #expect(try reread.array("layer_0/forward/STM").shape == [2, 6, 2])
        #expect(try reread.array("layer_0/forward/LTM").shape == [2, 6, 5])
    }

    @Test("statistics: half-life ln 0.5 / ln f̄, saturation shares and flags, counted by hand")
    func statistics() throws {
        // One sample, 20 steps, 3 units. Unit 0: f = 0.5 always (half-life 1), unit 1: f = 0.99 on 19 of 20
        // steps (stuck open: always remember), unit 2: f = 0.01 on every step (dead: always forget).
        let T = 20, H = 3
        var f = [Float](repeating: 0, count: T * H)
        for t in 0..<T {
            f[t * H] = 0.5
            f[t * H + 1] = t == 0 ? 0.5 : 0.99
            f[t * H + 2] = 0.01
        }
        let trace = syntheticLSTM(H: H, T: T, f: f)
        let stats = GateStatistics(trace)
        #expect(stats.memoryGate == .f)
        #expect(abs(stats.halfLives[0] - 1) < 1e-9)
        let mean1 = (0.5 + 19 * Double(Float(0.99))) / 20
        #expect(abs(stats.halfLives[1] - log(0.5) / log(mean1)) < 1e-9)
        #expect(abs(stats.halfLives[2] - log(0.5) / log(Double(Float(0.01)))) < 1e-9)
        let saturation = try #require(stats.saturation[.f])
        #expect(saturation[0] == Saturation(low: 0, high: 0))
        #expect(saturation[1] == Saturation(low: 0, high: 0.95))
        #expect(saturation[2] == Saturation(low: 1, high: 0))
        #expect(stats.alwaysRemember == [1])
        #expect(stats.alwaysForget == [2])
        #expect(GateStatistics.halfLife(1) == .infinity)
        #expect(GateStatistics.halfLife(0) == 0)
        let report = try ExplainReport(model: Model(layers: [.recurrent(trace.layer)]), trace: GateTrace(result: try emptyResult(), directions: [trace]), source: "synthetic")
        #expect(report.summary.contains("always remember (f > 0.95 on ≥95% of steps): 1 (1); always forget (f < 0.05 on ≥95%): 1 (2)"), "\(report.summary)")
        #expect(report.html.contains("f: 2 of 3 units flagged"))
    }

    @Test("--sample and --layer outside the trace are refused with their own codes")
    func refusals() throws {
        let fixture = try #require(ExplainFixture.named("keras/k3_stacked_lstm_dense"))
        let (model, input) = try fixture.load()
        let trace = try Engine.fast.trace(model, input: input)
        #expect(throws: ExplainError(.sampleOutOfRange)) {
            try ExplainReport(model: model, trace: trace, source: "m", sample: 2)
        }
        let dense = try #require(model.layers.indices.last)
        #expect(throws: ExplainError(.notARecurrentLayer)) {
            try ExplainReport(model: model, trace: trace, source: "m", layer: dense)
        }
        let one = try ExplainReport(model: model, trace: trace, source: "m", layer: 1)
        #expect(one.shown.map(\.key.layer) == [1])
        #expect(throws: ExplainError(.noRecurrentLayer)) {
            try ExplainReport(model: model, trace: GateTrace(result: trace.result, directions: []), source: "m")
        }
    }

    @Test("an input without steps explains to dashes; one without samples is refused as empty")
    func emptyInputs() throws {
        let fixture = try #require(ExplainFixture.named("numpy/doc_lstm_bidirectional_projection_clip"))
        let (model, _) = try fixture.load()
        let noSteps = try Engine.fast.trace(model, input: .float32(try NDArray(shape: [2, 0, 3], scalars: [])))
        let report = try ExplainReport(model: model, trace: noSteps, source: "m")
        #expect(report.summary.contains("mean: N —  i —  f —  LTM —  U —  V —  STM —"), "\(report.summary)")
        #expect(report.html.hasSuffix("</html>\n"))
        // An empty batch is refused by the engines themselves (spec/limits.md), before any report is built.
        #expect(throws: EngineError(.invalidInput)) {
            try Engine.fast.trace(model, input: .float32(try NDArray(shape: [0, 4, 3], scalars: [])))
        }
    }

    @Test("large H and T: the drawing is binned to at most 128 × 480 cells and the page stays under the stated bound", arguments: [(2048, 1000), (256, 10_000)])
    func largeTraces(_ size: (H: Int, T: Int)) throws {
        var generator = SplitMix(seed: UInt64(size.H * size.T))
        let count = size.T * size.H
        let f = (0..<count).map { _ in Float(generator.unit()) }
        let trace = syntheticLSTM(H: size.H, T: size.T, f: f, noise: &generator)
        let report = try ExplainReport(model: Model(layers: [.recurrent(trace.layer)]), trace: GateTrace(result: try emptyResult(), directions: [trace]), source: "synthetic")
        let html = report.html
        #expect(html.utf8.count <= ExplainReport.Limits.bytesPerDirection, "\(html.utf8.count) bytes")
        // Every embedded heatmap is at most maxColumns × maxRows pixels.
        let images = html.components(separatedBy: "data:image/png;base64,").dropFirst()
        #expect(images.count == trace.gates.count)
        for image in images {
            let base64 = String(image.prefix { $0 != "\"" })
            let png = try #require(Data(base64Encoded: base64))
            let bytes = [UInt8](png)
            let width = bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = bytes[20..<24].reduce(0) { $0 << 8 | Int($1) }
            #expect(width == min(size.T, ExplainReport.Limits.maxColumns))
            #expect(height == min(size.H, ExplainReport.Limits.maxRows))
        }
        // Lines are binned too: no polyline has more than maxPoints points.
        for line in html.components(separatedBy: "<polyline points=\"").dropFirst() {
            let points = line.prefix { $0 != "\"" }.split(separator: " ").count
            #expect(points <= ExplainReport.Limits.maxPoints)
        }
    }
}

/// A forward result with nothing in it, for hand-built traces.
func emptyResult() throws -> ForwardResult {
    ForwardResult(values: .float32(try NDArray(shape: [0], scalars: [])), finalStates: [:])
}

/// A one-direction LSTM trace with the given forget gate `[1, T, H]`; the other gates are constants.
func syntheticLSTM(H: Int, T: Int, f: [Float]) -> DirectionTrace {
    var generator = SplitMix(seed: 1)
    return syntheticLSTM(H: H, T: T, f: f, noise: &generator)
}

/// A one-direction LSTM trace with the given forget gate `[1, T, H]` and pseudo-random other gates (worst case
/// for the PNG compression).
func syntheticLSTM(H: Int, T: Int, f: [Float], noise: inout SplitMix) -> DirectionTrace {
    let layer = RecurrentLayer(
        cell: .lstm, inputSize: 1, hiddenSize: H, directions: [ParameterSet()], returnSequences: true)
    var arrays: [TracedGate: NDArray<Float>] = [:]
    for gate in TracedGate.gates(of: layer) {
        let values = gate == .f ? f : (0..<(T * H)).map { _ in Float(noise.unit() * 2 - 1) }
        arrays[gate] = try? NDArray(shape: [1, T, H], scalars: values)
    }
    return DirectionTrace(key: StateKey(layer: 0, direction: .forward), layer: layer, readsReversed: false, arrays: arrays)
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

@Suite("explain: values the engine did not compute (NaN)")
struct ExplainNaNTests {
    @Test("NaN steps are left out of every statistic, drawn grey, and never reach the SVG as numbers")
    func nanSteps() throws {
        // Steps 2 and 3 are not computed (NaN, as at masked steps); the forget gate is 0.5 elsewhere.
        let T = 6, H = 2
        var f = [Float](repeating: 0.5, count: T * H)
        for t in 2...3 { for k in 0..<H { f[t * H + k] = .nan } }
        let trace = syntheticLSTM(H: H, T: T, f: f)
        let stats = GateStatistics(trace)
        #expect(stats.means[.f] == 0.5)
        #expect(stats.halfLives.allSatisfy { abs($0 - 1) < 1e-12 })
        #expect(stats.saturation[.f]?.allSatisfy { $0 == Saturation(low: 0, high: 0) } == true)
        let html = try ExplainReport(
            model: Model(layers: [.recurrent(trace.layer)]), trace: GateTrace(result: try emptyResult(), directions: [trace]),
            source: "synthetic"
        ).html
        #expect(!html.lowercased().contains("nan\""), "a NaN reached an SVG attribute")
        #expect(!html.contains(",nan") && !html.contains("nan,"))
        // The f line is broken around the missing steps: two pieces.
        let fPanel = try #require(html.components(separatedBy: "forget · f_t").dropFirst().first?.components(separatedBy: "</svg>").first)
        #expect(fPanel.components(separatedBy: "<polyline").count - 1 == 2)
    }
}
