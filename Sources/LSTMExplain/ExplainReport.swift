import AtomicFileIO
import Foundation
import LSTMEngine
import LSTMErrors
import LSTMModel
import NumPyIO

/// A failure building or writing an explanation: a sample or layer the trace does not have, or an unwritable report.
///
/// Errors compare equal by ``code`` only, so tests can write `#expect(throws: ExplainError(.sampleOutOfRange))`.
public struct ExplainError: LSTMConvError, Equatable {
    public enum Code: String, Sendable {
        /// The requested sample is outside `0 ..< B`.
        case sampleOutOfRange = "sample out of range"
        /// The requested layer is not a recurrent layer of the model.
        case notARecurrentLayer = "not a recurrent layer"
        /// The model has no recurrent layer: nothing to explain.
        case noRecurrentLayer = "no recurrent layer"
        /// The input has no sample (`B = 0`): nothing to draw.
        case emptyInput = "empty input"
        /// The report exists and replacing it was not allowed.
        case fileExists = "file exists"
        /// The report cannot be written.
        case cannotWrite = "cannot write"
    }

    public var code: Code
    public var message: String
    /// The report being written, for the two write errors.
    public var file: String?
    public var location: String?
    public var expected: String?
    public var found: String?

    public init(
        _ code: Code, _ message: String = "", file: String? = nil, location: String? = nil,
        expected: String? = nil, found: String? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.location = location
        self.expected = expected
        self.found = found
    }

    public var codeName: String { code.rawValue }
    public var failureKind: FailureKind { code == .fileExists || code == .cannotWrite ? .cannotWrite : .badInput }

    public static func == (lhs: ExplainError, rhs: ExplainError) -> Bool { lhs.code == rhs.code }
}

/// What `lstmconv explain` shows: a gate trace, its statistics, a text summary and a self-contained HTML report.
///
/// ```swift
/// let trace = try Engine.fast.trace(model, input: .float32(x))
/// let report = try ExplainReport(model: model, trace: trace, source: "model.lstmw")
/// print(report.summary)
/// try report.html.write(to: url, atomically: true, encoding: .utf8)
/// ```
public struct ExplainReport: Sendable {
    /// Drawing bounds: whatever `H` and `T`, a heatmap has at most this many rows (unit bins) and columns (time
    /// bins), a line at most `maxPoints` points; values are averaged into the bins. The `.npz` is never binned.
    public enum Limits {
        public static let maxRows = 128
        public static let maxColumns = 480
        public static let maxPoints = 480
        /// LTM (GRU: STM) trajectories drawn per direction.
        public static let trajectories = 5
        /// Upper bound of the HTML size for one layer and direction, whatever `H` and `T` (tested).
        public static let bytesPerDirection = 1_200_000
    }

    public let model: Model
    public let trace: GateTrace
    /// What the report names as the model's source (as given on the command line).
    public let source: String
    /// The engine that computed the trace.
    public let engine: String
    /// The batch element the pictures show.
    public let sample: Int
    /// The directions shown (every recurrent layer, or the one `layer` picks).
    public let shown: [DirectionTrace]
    /// Statistics of every shown direction, over every sample and step.
    public let statistics: [GateStatistics]

    /// - Parameters:
    ///   - model: the model the trace ran.
    ///   - trace: every gate activation (`Engine.trace(_:input:initialStates:)`).
    ///   - source: how the report names the model (the path given on the command line).
    ///   - engine: the engine's name, for the report.
    ///   - sample: the batch element the pictures show.
    ///   - layer: show only this layer (its index counts every layer of the model); `nil` shows every recurrent one.
    public init(
        model: Model, trace: GateTrace, source: String, engine: String = "fast", sample: Int = 0, layer: Int? = nil
    ) throws(ExplainError) {
        guard !trace.directions.isEmpty else {
            throw ExplainError(.noRecurrentLayer, "the model has no recurrent layer to explain")
        }
        let batch = trace.directions[0].batch
        guard batch > 0 else {
            throw ExplainError(.emptyInput, "the input has no sample to explain", expected: "B ≥ 1", found: "B = 0")
        }
        guard sample >= 0, sample < batch else {
            throw ExplainError(.sampleOutOfRange, "the input has \(batch) sample(s)", location: "sample \(sample)", expected: "0 ..< \(batch)", found: "\(sample)")
        }
        let shown = trace.directions.filter { layer == nil || $0.key.layer == layer }
        if let layer, shown.isEmpty {
            let recurrent = Array(Set(trace.directions.map(\.key.layer))).sorted().map(String.init).joined(separator: ", ")
            throw ExplainError(.notARecurrentLayer, "the layer to explain must be recurrent", location: "layer_\(layer)", expected: "one of \(recurrent)", found: "\(layer)")
        }
        self.model = model
        self.trace = trace
        self.source = source
        self.engine = engine
        self.sample = sample
        self.shown = shown
        self.statistics = shown.map(GateStatistics.init)
    }

    /// Every traced array as float32 under its key `layer_<k>/<direction>/<gate>` (every layer, whatever `layer`).
    public static func archive(_ trace: GateTrace) throws(NumPyError) -> NPZArchive {
        var archive = NPZArchive()
        for (name, array) in trace.namedArrays {
            archive.set(name, try NumPyArray(shape: array.shape, float32: array.scalars))
        }
        return archive
    }

    /// Writes ``html`` to `url` atomically (temporary file, then rename); never replaces a file unless `overwrite`.
    public func writeHTML(to url: URL, overwrite: Bool) throws(ExplainError) {
        try AtomicFile.write(Data(html.utf8), to: url, overwrite: overwrite) { error in
            ExplainError(error.kind == .exists ? .fileExists : .cannotWrite, error.message, file: error.path)
        }
    }

    // MARK: - Text summary

    /// A few lines per layer and direction: mean gates, memory half-lives, saturation and flagged units.
    public var summary: String {
        var lines: [String] = []
        let T = shown.first?.time ?? 0, B = shown.first?.batch ?? 0
        lines.append("\(source): \(trace.directions.count) recurrent direction(s), input B=\(B) T=\(T), \(engine) engine")
        for (direction, stats) in zip(shown, statistics) {
            let layer = direction.layer
            lines.append("\(direction.key): \(describe(layer))")
            let means = direction.gates.filter { $0 != .STM_unprojected }
                .map { "\($0.rawValue) \(stats.means[$0].map(readable) ?? "—")" }.joined(separator: "  ")
            lines.append("  mean: \(means)")
            if let gate = stats.memoryGate {
                let finite = stats.halfLives.filter(\.isFinite).sorted()
                let infinite = stats.halfLives.filter { $0 == .infinity }.count
                var memory = "  memory (\(memoryName(gate))): half-life in steps ln0.5/ln(mean)"
                if finite.isEmpty {
                    memory += " —"
                } else {
                    memory += " min \(readable(finite[0])) median \(readable(finite[finite.count / 2])) max \(readable(finite[finite.count - 1]))"
                }
                if infinite > 0 { memory += ", \(infinite) unit(s) never forget" }
                lines.append(memory)
                lines.append("  always remember (\(gate.rawValue) > 0.95 on ≥95% of steps): \(unitList(stats.alwaysRemember)); always forget (\(gate.rawValue) < 0.05 on ≥95%): \(unitList(stats.alwaysForget))")
            }
            let saturation = stats.bounded.map { gate -> String in
                let units = stats.saturation[gate] ?? []
                let low = units.isEmpty ? 0 : units.map(\.low).reduce(0, +) / Double(units.count)
                let high = units.isEmpty ? 0 : units.map(\.high).reduce(0, +) / Double(units.count)
                let flagged = units.filter { $0.isDead || $0.isStuck }.count
                return "\(gate.rawValue) \(fixed(100 * low))%/\(fixed(100 * high))% (\(flagged) flagged)"
            }.joined(separator: "  ")
            if !stats.bounded.isEmpty { lines.append("  saturation (steps < 0.05 / > 0.95): \(saturation)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - HTML

    /// The report: one self-contained HTML page (inline CSS and SVG, no script, no network), deterministic.
    public var html: String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>lstmconv explain: \(escaped(source))</title>
            <style>
            body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1180px;color:#222;line-height:1.4}
            h1{font-size:22px;margin-bottom:4px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}
            h3{font-size:15px;margin:18px 0 4px}table{border-collapse:collapse;font-size:13px;margin:8px 0}
            td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#f4f4f4}
            pre{background:#f7f7f7;padding:10px;font-size:13px;overflow-x:auto}.row{display:flex;flex-wrap:wrap;gap:12px}
            .note{font-size:13px;color:#555}svg text{font-family:inherit;fill:#222}figure{margin:6px 0}
            </style></head><body>
            <h1>What the gates do: \(escaped(source))</h1>
            <p class="note">lstmconv \(escaped(FormatVersion.converter.replacingOccurrences(of: "lstmconv ", with: ""))) · \(escaped(engine)) engine · pictures for sample \(sample) of the input; statistics over every sample and step.</p>

            """
        page += modelCard
        page += equations
        var gradient = 0
        for (direction, stats) in zip(shown, statistics) {
            page += section(direction, stats, gradient: &gradient)
        }
        page += "</body></html>\n"
        return page
    }

    private var modelCard: String {
        let p = model.provenance
        let B = shown.first?.batch ?? 0, T = shown.first?.time ?? 0
        var card = "<h2>Model card</h2><table>"
        let rows: [(String, String)] = [
            ("source", source),
            ("provenance", [p.sourceFramework, p.sourceFrameworkVersion].filter { !$0.isEmpty }.joined(separator: " ") + ", layout \(p.sourceLayout)"),
            ("source SHA-256", p.sourceSHA256.isEmpty ? "—" : p.sourceSHA256),
            ("converter", p.converter),
            ("input", "batch B = \(B), time steps T = \(T); pictures show sample \(sample)"),
        ]
        for (name, value) in rows { card += "<tr><th>\(escaped(name))</th><td>\(escaped(value))</td></tr>" }
        card += "</table><table><tr><th>layer</th><th>kind</th><th>details</th></tr>"
        for (index, layer) in model.layers.enumerated() {
            let details: String
            switch layer {
            case .recurrent(let recurrent): details = describe(recurrent)
            case .embedding(let embedding): details = "vocabulary \(embedding.vocabularySize), size \(embedding.embeddingSize)"
            case .dense(let dense): details = "\(dense.inputSize) → \(dense.units), \(dense.activation)"
            }
            card += "<tr><td>layer_\(index)</td><td>\(escaped(layer.kindName))</td><td>\(escaped(details))</td></tr>"
        }
        return card + "</table>\n"
    }

    private var equations: String {
        let cells = Set(shown.map(\.layer.cell))
        var text = "<h2>The gates, as the notes name them</h2><pre>"
        if cells.contains(.lstm) {
            text += """
                LSTM    learn:    N_t = tanh(W_n[STM_{t-1}, E_t] + b_n)        i_t = σ(W_i[STM_{t-1}, E_t] + b_i)
                        forget:   f_t = σ(W_f[STM_{t-1}, E_t] + b_f)
                        remember: LTM_t = LTM_{t-1}·f_t + N_t·i_t
                        use:      V_t = σ(W_v[STM_{t-1}, E_t] + b_v)          STM_t = U_t·V_t
                                  U_t = tanh(LTM_t)                           (standard variant: every framework)
                                  U_t = tanh(W_u·(LTM_{t-1}·f_t) + b_u)       (document variant: the notes)
                        peepholes add P·LTM to the σ gates; projection: STM_t = W_p·(U_t·V_t)

                """
        }
        if cells.contains(.gru) {
            text += """
                GRU     update:   z = σ(W_z[STM_{t-1}, E_t] + b_z)             reset: r = σ(W_r[STM_{t-1}, E_t] + b_r)
                        candidate N = tanh(W_c[r·STM_{t-1}, E_t] + b_c)        (reset after: r multiplies W_c's STM part)
                        combine:  STM_t = z·STM_{t-1} + (1 − z)·N

                """
        }
        if cells.contains(.rnn) {
            text += """
                RNN     state:    STM_t = tanh(W_s[STM_{t-1}, E_t] + b_s)       (no gate: one squashing per step)

                """
        }
        text += "</pre><p class=\"note\">Each picture below is titled with the name on the left. σ and tanh stand for the layer's recurrent_activation and activation. "
        text += "Heatmaps: one row per unit (or the mean of a few units), one column per time step (or the mean of a few steps), colour = value. "
        text += "The line under each heatmap is the mean over units at each step. Half-life: a unit whose forget gate averages f̄ keeps f̄^k of its memory after k steps, half of it after ln 0.5 / ln f̄ steps.</p>\n"
        return text
    }

    private func section(_ direction: DirectionTrace, _ stats: GateStatistics, gradient: inout Int) -> String {
        let layer = direction.layer
        var html = "<h2>\(direction.key) · \(escaped(describe(layer)))</h2>\n"
        if let gate = stats.memoryGate {
            html += "<p class=\"note\">mean \(memoryName(gate)): \(stats.means[gate].map(readable) ?? "—"); "
            html += "always remember (\(gate.rawValue) > 0.95 on ≥ 95% of steps): \(unitList(stats.alwaysRemember)); "
            html += "always forget (\(gate.rawValue) < 0.05 on ≥ 95% of steps): \(unitList(stats.alwaysForget)); of \(layer.hiddenSize) units.</p>\n"
        }
        html += "<table><tr><th>value</th><th>mean</th><th>steps &lt; 0.05</th><th>steps &gt; 0.95</th><th>flagged units</th></tr>"
        for gate in direction.gates {
            var row = "<tr><td>\(gate.rawValue)</td><td>\(stats.means[gate].map(readable) ?? "—")</td>"
            if let units = stats.saturation[gate], !units.isEmpty {
                let low = units.map(\.low).reduce(0, +) / Double(units.count)
                let high = units.map(\.high).reduce(0, +) / Double(units.count)
                row += "<td>\(fixed(100 * low))%</td><td>\(fixed(100 * high))%</td><td>\(units.filter { $0.isDead || $0.isStuck }.count)</td>"
            } else {
                row += "<td>—</td><td>—</td><td>—</td>"
            }
            html += row + "</tr>"
        }
        html += "</table>\n"
        for gate in direction.gates {
            guard let array = direction[gate] else { continue }
            html += "<figure>" + gatePanel(gate, array, layer: layer, readsReversed: direction.readsReversed, id: &gradient) + "</figure>\n"
        }
        html += "<h3>Memory</h3><div class=\"row\">"
        let memory: TracedGate
        switch layer.cell {
        case .lstm: memory = .LTM
        case .gru, .rnn: memory = .STM
        }
        if let array = direction[memory] {
            html += trajectories(array, name: memory.rawValue, readsReversed: direction.readsReversed)
        }
        if let gate = stats.memoryGate { html += halfLifeHistogram(stats, gate: gate, T: direction.time) }
        html += "</div>\n"
        guard !stats.bounded.isEmpty else { return html }
        html += "<h3>Saturation</h3><div class=\"row\">"
        for gate in stats.bounded { html += saturationScatter(gate, stats.saturation[gate] ?? []) }
        html += "</div><p class=\"note\">"
        html += stats.bounded.map { gate -> String in
            let units = stats.saturation[gate] ?? []
            let dead = units.indices.filter { units[$0].isDead }, stuck = units.indices.filter { units[$0].isStuck }
            return "\(gate.rawValue): closed (< 0.05 on ≥ 95% of steps) \(unitList(dead)), open (> 0.95 on ≥ 95%) \(unitList(stuck))"
        }.joined(separator: "<br>")
        html += "</p>\n"
        return html
    }

    /// One gate: heatmap (units × time) with its colour bar, and the mean over units at each step below it.
    private func gatePanel(_ gate: TracedGate, _ array: NDArray<Float>, layer: RecurrentLayer, readsReversed: Bool, id: inout Int) -> String {
        let T = array.shape[1], W = array.shape[2]
        let binned = Binned(array, sample: sample, maxRows: Limits.maxRows, maxColumns: Limits.maxColumns)
        let bounded: Bool = [.i, .f, .V, .z, .r].contains(gate)
        let scale: ColourScale
        if bounded {
            scale = ColourScale(kind: .sequential, lower: 0, upper: 1)
        } else {
            let start = sample * T * W
            let largest = array.scalars[start..<(start + T * W)].reduce(0) { max($0, abs(Double($1)).isFinite ? abs(Double($1)) : 0) }
            let m = max(largest, 1e-6)
            scale = ColourScale(kind: .diverging, lower: -m, upper: m)
        }
        let mapHeight = Double(min(max(binned.rows * 8, 48), 192))
        let lineTop = 24 + mapHeight + 14, lineHeight = 56.0
        var svg = SVG(width: Frame.total, height: lineTop + lineHeight + 36)
        svg.text(Frame.left, 16, title(gate, layer: layer), size: 13, weight: "bold")
        if binned.rows > 0 && binned.columns > 0 {
            svg.raw(heatmapImage(binned, scale: scale, x: Frame.left, y: 24, width: Frame.width, height: mapHeight))
        }
        svg.rect(Frame.left, 24, Frame.width, mapHeight, fill: "none", stroke: "#444")
        svg.text(Frame.left - 6, 34, "0", anchor: "end", size: 10)
        svg.text(Frame.left - 6, 24 + mapHeight, "\(max(W - 1, 0))", anchor: "end", size: 10)
        let unitTitle = binned.units > 1 ? "unit (\(binned.units) per row)" : "unit"
        svg.text(Frame.left - 30, 24 + mapHeight / 2, unitTitle, anchor: "middle", size: 10, rotate: true)
        id += 1
        colourBar(&svg, id: "scale\(id)", scale: scale, x: Frame.left + Frame.width + 14, y: 24, height: mapHeight)
        // Mean over units.
        let means = meanOverUnits(array, sample: sample, maxPoints: Limits.maxPoints)
        let (lower, upper) = bounded ? (0.0, 1.0) : (scale.lower, scale.upper)
        valueAxis(&svg, top: lineTop, bottom: lineTop + lineHeight, lower: lower, upper: upper)
        let points = means.enumerated().map { index, value in
            (Frame.left + (Double(index) + 0.5) * Frame.width / Double(max(means.count, 1)),
             value.isNaN ? .nan : lineTop + lineHeight - (min(max(value, lower), upper) - lower) / max(upper - lower, 1e-12) * lineHeight)
        }
        svg.polyline(points, stroke: "#d62728")
        svg.text(Frame.left + Frame.width + 14, lineTop + lineHeight / 2 + 4, "mean over units", size: 10)
        timeAxis(&svg, y: lineTop + lineHeight, T: T, columns: min(T, Limits.maxPoints), steps: binned.steps, reversed: readsReversed)
        return svg.rendered(label: "\(gate.rawValue) heatmap")
    }

    private func title(_ gate: TracedGate, layer: RecurrentLayer) -> String {
        switch (layer.cell, gate) {
        case (.lstm, .N): "learn · N_t, the candidate (what could be learned)"
        case (.lstm, .i): "learn · i_t, the learn gate (how much of N_t is taken in)"
        case (.lstm, .f): "forget · f_t, the forget gate (how much of LTM is kept)"
        case (.lstm, .LTM): "remember · LTM_t = LTM_{t-1}·f_t + N_t·i_t (long-term memory)"
        case (.lstm, .U): layer.useGate == .document ? "use · U_t = tanh(W_u·(LTM_{t-1}·f_t) + b_u)" : "use · U_t = tanh(LTM_t)"
        case (.lstm, .V): "use · V_t, the use gate (how much of U_t is output)"
        case (_, .STM_unprojected): "use · U_t·V_t before the projection"
        case (.lstm, .STM): layer.projectionSize == nil ? "STM_t = U_t·V_t (short-term memory, the output)" : "STM_t = W_p·(U_t·V_t) (short-term memory, the output)"
        case (.gru, .z): "update · z, the update gate (how much of STM is kept)"
        case (.gru, .r): "reset · r, the reset gate (how much of STM feeds the candidate)"
        case (.gru, .N): "candidate · N (what could replace STM)"
        case (.gru, .STM): "combine · STM_t = z·STM_{t-1} + (1 − z)·N"
        case (.rnn, .STM): "STM_t = tanh(W_s[STM_{t-1}, E_t] + b_s) (the plain RNN's only memory)"
        default: gate.rawValue
        }
    }

    /// The most active units' memory over time.
    private func trajectories(_ array: NDArray<Float>, name: String, readsReversed: Bool) -> String {
        let T = array.shape[1]
        let units = mostActiveUnits(array, sample: sample, count: Limits.trajectories)
        let lines = units.map { unitOverTime(array, sample: sample, unit: $0, maxPoints: Limits.maxPoints) }
        let largest = max(lines.flatMap { $0 }.map { abs($0) }.filter(\.isFinite).max() ?? 0, 1e-6)
        let top = 24.0, height = 150.0
        var svg = SVG(width: Frame.total, height: top + height + 36)
        svg.text(Frame.left, 16, "\(name) trajectories of the \(units.count) most active units (largest standard deviation over time)", size: 13, weight: "bold")
        valueAxis(&svg, top: top, bottom: top + height, lower: -largest, upper: largest)
        svg.line(Frame.left, top + height / 2, Frame.left + Frame.width, top + height / 2, stroke: "#bbb", dash: true)
        for (index, line) in lines.enumerated() {
            let colour = lineColours[index % lineColours.count]
            let points = line.enumerated().map { step, value in
                (Frame.left + (Double(step) + 0.5) * Frame.width / Double(max(line.count, 1)),
                 value.isNaN ? .nan : top + height / 2 - min(max(value / largest, -1), 1) * height / 2)
            }
            svg.polyline(points, stroke: colour)
            svg.rect(Frame.left + Frame.width + 12, top + Double(index) * 16, 10, 10, fill: colour)
            svg.text(Frame.left + Frame.width + 26, top + Double(index) * 16 + 9, "unit \(units[index])", size: 10)
        }
        let steps = T > Limits.maxPoints ? (T + Limits.maxPoints - 1) / Limits.maxPoints : 1
        timeAxis(&svg, y: top + height, T: T, columns: min(T, Limits.maxPoints), steps: steps, reversed: readsReversed)
        return svg.rendered(label: "\(name) trajectories")
    }

    /// Histogram of per-unit half-lives on doubling bins.
    private func halfLifeHistogram(_ stats: GateStatistics, gate memoryGate: TracedGate, T: Int) -> String {
        // Bins: < 1, 1–2, 2–4, …, 512–1024, ≥ 1024 (∞ included).
        let edges = (0...10).map { Double(1 << $0) }
        var counts = [Int](repeating: 0, count: edges.count + 1)
        for life in stats.halfLives where !life.isNaN {
            let bin = edges.firstIndex { life < $0 } ?? edges.count
            counts[bin] += 1
        }
        let labels = ["<1"] + (0..<(edges.count - 1)).map { "\(1 << $0)–\(1 << ($0 + 1))" } + ["≥1024"]
        let left = 48.0, top = 28.0, height = 140.0, barWidth = 30.0
        let width = left + Double(counts.count) * barWidth + 20
        var svg = SVG(width: width, height: top + height + 60)
        svg.text(left, 16, "half-life of memory per unit (ln 0.5 / ln mean \(memoryGate.rawValue))", size: 13, weight: "bold")
        let highest = max(counts.max() ?? 0, 1)
        svg.line(left, top, left, top + height)
        svg.text(left - 6, top + 8, "\(highest)", anchor: "end", size: 10)
        svg.text(left - 6, top + height, "0", anchor: "end", size: 10)
        svg.text(14, top + height / 2, "units", anchor: "middle", size: 10, rotate: true)
        for (index, count) in counts.enumerated() {
            let h = Double(count) / Double(highest) * height
            let x = left + Double(index) * barWidth
            svg.rect(x + 2, top + height - h, barWidth - 4, h, fill: "#4c78a8")
            if count > 0 { svg.text(x + barWidth / 2, top + height - h - 3, "\(count)", anchor: "middle", size: 9) }
            svg.text(x + barWidth / 2, top + height + 12, labels[index], anchor: "end", size: 9, rotate: true)
        }
        svg.line(left, top + height, left + Double(counts.count) * barWidth, top + height)
        // The input's length, for scale.
        if T > 0 {
            let bin = edges.firstIndex { Double(T) < $0 } ?? edges.count
            let x = left + (Double(bin) + 0.5) * barWidth
            svg.line(x, top, x, top + height, stroke: "#d62728", dash: true)
            svg.text(x + 3, top + 8, "T = \(T)", size: 10)
        }
        svg.text(left + Double(counts.count) * barWidth / 2, top + height + 54, "half-life in steps", anchor: "middle", size: 10)
        return svg.rendered(label: "half-life histogram")
    }

    /// Units of a `[0, 1]` gate placed by how often they are closed (x) and open (y), on a 20 × 20 grid.
    private func saturationScatter(_ gate: TracedGate, _ units: [Saturation]) -> String {
        let left = 44.0, top = 28.0, side = 180.0, cells = 20
        var svg = SVG(width: left + side + 20, height: top + side + 44)
        let flagged = units.filter { $0.isDead || $0.isStuck }.count
        svg.text(left, 16, "\(gate.rawValue): \(flagged) of \(units.count) units flagged", size: 13, weight: "bold")
        // Flag zones: closed or open on ≥ 95% of steps.
        let zone = (1 - GateStatistics.flagShare) * side
        svg.rect(left + side - zone, top, zone, side, fill: "#d62728", opacity: 0.12)
        svg.rect(left, top, side, zone, fill: "#d62728", opacity: 0.12)
        svg.rect(left, top, side, side, fill: "none", stroke: "#444")
        var grid = [Int](repeating: 0, count: (cells + 1) * (cells + 1))
        for unit in units {
            let x = Int((unit.low * Double(cells)).rounded()), y = Int((unit.high * Double(cells)).rounded())
            grid[y * (cells + 1) + x] += 1
        }
        let most = max(grid.max() ?? 1, 1)
        for y in 0...cells {
            for x in 0...cells where grid[y * (cells + 1) + x] > 0 {
                let count = grid[y * (cells + 1) + x]
                let radius = 2 + 5 * (Double(count) / Double(most)).squareRoot()
                svg.circle(left + Double(x) / Double(cells) * side, top + side - Double(y) / Double(cells) * side, radius, fill: "#1f4e79", opacity: 0.7)
            }
        }
        for (value, label) in [(0.0, "0"), (0.5, "0.5"), (1.0, "1")] {
            svg.text(left + value * side, top + side + 14, label, anchor: "middle", size: 10)
            svg.text(left - 6, top + side - value * side + 4, label, anchor: "end", size: 10)
        }
        svg.text(left + side / 2, top + side + 30, "share of steps < 0.05 (closed)", anchor: "middle", size: 10)
        svg.text(12, top + side / 2, "share of steps > 0.95 (open)", anchor: "middle", size: 10, rotate: true)
        return svg.rendered(label: "\(gate.rawValue) saturation")
    }
}

/// A recurrent layer in one line: cell, variant, sizes, directions, activations, options.
func describe(_ layer: RecurrentLayer) -> String {
    var parts: [String]
    switch layer.cell {
    case .lstm: parts = ["LSTM", "\(layer.useGate.rawValue) use gate"]
    case .gru: parts = ["GRU"] + (layer.resetMode.map { ["reset \($0.rawValue)"] } ?? [])
    case .rnn: parts = ["SimpleRNN"]
    }
    var sizes = "I=\(layer.inputSize) H=\(layer.hiddenSize)"
    if let P = layer.projectionSize { sizes += " P=\(P)" }
    parts.append(sizes)
    parts.append(layer.directions.count == 2 ? "bidirectional (\((layer.mergeMode ?? .concat).rawValue))" : "one direction")
    if layer.goBackwards { parts.append("go_backwards") }
    parts.append("activation \(layer.activation), recurrent_activation \(layer.recurrentActivation)")
    if layer.cell == .lstm && layer.peepholes != .none { parts.append("\(layer.peepholes.rawValue) peepholes") }
    if let clip = layer.gateClip { parts.append("gate clip ±\(readable(clip))") }
    if let clip = layer.cellClip { parts.append("cell clip ±\(readable(clip))") }
    if let clip = layer.projectionClip { parts.append("projection clip ±\(readable(clip))") }
    if layer.forgetBias != 0 { parts.append("forget bias \(readable(layer.forgetBias))") }
    return parts.joined(separator: ", ")
}

/// The memory gate's name in words.
private func memoryName(_ gate: TracedGate) -> String { gate == .f ? "forget gate f" : "update gate z" }

private func unitList(_ units: [Int]) -> String {
    if units.isEmpty { return "none" }
    let shown = units.prefix(8).map(String.init).joined(separator: ", ")
    return units.count > 8 ? "\(units.count) units (\(shown), …)" : "\(units.count) (\(shown))"
}
