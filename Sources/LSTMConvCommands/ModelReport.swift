import Foundation
import LSTMConv

/// What `lstmconv inspect` prints: a Keras-`summary()`-like layer table, every layer's hyperparameters, every
/// tensor and the provenance, for a checkpoint or any importable source (imported in memory).
struct ModelReport: Sendable {
    var file: String
    /// The checkpoint's encoding; `nil` for a framework file imported in memory.
    var encoding: Encoding?
    var fileSize: Int
    var model: Model
    /// What the importer said about a framework file (`nil` for a checkpoint).
    var imported: ImportResult?
    /// `lstmconv`, or the framework format the file was imported from.
    var sourceFormat: String

    init(file: String, encoding: Encoding?, fileSize: Int, model: Model, imported: ImportResult? = nil, sourceFormat: String = "lstmconv") {
        self.file = file
        self.encoding = encoding
        self.fileSize = fileSize
        self.model = model
        self.imported = imported
        self.sourceFormat = sourceFormat
    }

    /// Loads a checkpoint, or imports any other model file in memory, and describes it.
    static func load(_ url: URL, options: ImportOptions = ImportOptions()) throws -> ModelReport {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        // A forced --from skips detection (the importer checks it against the content).
        let kind = options.from == nil ? try ModelSource.detect(url) : nil
        if case .checkpoint(let encoding)? = kind {
            let model = try Checkpoint.load(url, as: encoding)
            return ModelReport(file: url.path, encoding: encoding, fileSize: size, model: model)
        }
        let result = try ModelSource.importFile(url, options: options)
        let format: String = switch kind {
        case .keras?: SourceFormat.keras.rawValue
        case .pytorch?: SourceFormat.pytorch.rawValue
        case .safetensors?: SourceFormat.safetensors.rawValue
        case .onnx?: SourceFormat.onnx.rawValue
        case .checkpoint?, nil: options.from?.rawValue ?? ""
        }
        return ModelReport(file: url.path, encoding: nil, fileSize: size, model: result.model, imported: result, sourceFormat: format)
    }

    /// Human-readable text, at most about 100 columns wide except for long source names; headings in bold when
    /// `colour` is on (a terminal without `NO_COLOR`).
    func text(colour: Bool = false) -> String {
        func heading(_ title: String) -> String { colour ? "\u{1B}[1m\(title)\u{1B}[0m" : title }
        var lines: [String] = []
        let p = model.provenance
        if let encoding {
            lines.append("\(file): lstmconv \(encoding == .binary ? ".lstmw" : "HDF5") format \(FormatVersion.major).\(FormatVersion.minor), schema \(model.schemaVersion), \(fileSize) bytes")
        } else {
            lines.append("\(file): \(sourceFormat) file, \(fileSize) bytes, imported in memory (`lstmconv import` writes it as .lstmw); schema \(model.schemaVersion)")
        }
        lines.append(heading("layers:"))
        let summary = model.summary
        let names = layerNames
        let rows = summary.map { row in
            [String(row.index), names[row.index], row.kind, "[" + row.inputShape.joined(separator: ", ") + "]",
             "[" + row.outputShape.joined(separator: ", ") + "]", String(row.parameters)]
        }
        lines += Self.table(header: ["#", "name", "kind", "input", "output", "params"], rows: rows, rightAligned: [0, 5])
        lines.append("  total: \(model.parameterCount) parameters in \(model.storedTensors.count) tensors")
        for (index, layer) in model.layers.enumerated() {
            lines += Self.wrapped("layer \(index): " + Self.summary(of: layer))
        }
        lines.append(heading("tensors:"))
        let tensorRows = model.storedTensors.map { entry in
            [entry.slot.path, "\(entry.tensor.shape)", entry.tensor.dtype.rawValue,
             String(format: "%08x", entry.tensor.checksum), entry.source ?? ""]
        }
        lines += Self.table(header: ["path", "shape", "dtype", "crc32", "source"], rows: tensorRows, rightAligned: [])
        var provenance: [String] = []
        let version = p.sourceFrameworkVersion.isEmpty ? "" : " \(p.sourceFrameworkVersion)"
        provenance.append("source: \(p.sourceFramework)\(version), layout \(p.sourceLayout)")
        if !p.sourceSHA256.isEmpty { provenance.append("source sha256: \(p.sourceSHA256)") }
        provenance.append("converter: \(p.converter)")
        if !p.sourceComputeDType.isEmpty {
            provenance.append(
                "source computes in \(p.sourceComputeDType): the framework's outputs carry \(p.sourceComputeDType) rounding; lstmconv runs float32 (fast) or float64 (reference)")
        }
        if let imported {
            if !imported.ignoredKeys.isEmpty { provenance.append("ignored source keys: \(imported.ignoredKeys.joined(separator: ", "))") }
            for note in imported.notes { provenance.append("note: \(note)") }
            for warning in imported.warnings { provenance.append("warning: \(warning)") }
        }
        lines.append(heading("provenance:"))
        lines += provenance.flatMap { Self.wrapped($0) }
        return lines.joined(separator: "\n")
    }

    /// Each layer's name in its source: the importer's (`lstm (keras LSTM "lstm_1")` → `lstm_1`; a stacked PyTorch
    /// module's layers as `rnn[0]`, `rnn[1]`) for a file imported in memory, else the one its tensors' sources share.
    var layerNames: [String] {
        let fallback = model.summary.map(\.name)
        guard let lines = imported?.layerSummaries, lines.count == model.layers.count else { return fallback }
        return zip(lines, fallback).map { line, fallback in
            let parts = line.split(separator: "\"", omittingEmptySubsequences: false)
            guard parts.count >= 3 else { return fallback }
            var name = String(parts[1])
            if let range = line.range(of: #", layer (\d+) of"#, options: .regularExpression) {
                let index = line[range].split(separator: " ")[2]
                name += "[\(index)]"
            }
            return name
        }
    }

    /// `line` broken at spaces into lines of at most `width` characters (a longer word stays whole), continuation
    /// lines indented by four spaces.
    static func wrapped(_ line: String, width: Int = 100) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if current.isEmpty {
                current = (lines.isEmpty ? "" : "    ") + word
            } else if current.count + 1 + word.count <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = "    " + word
            }
        }
        lines.append(current)
        return lines
    }

    /// Left-aligned columns (right-aligned where asked) two spaces apart, indented by two; the last column is not
    /// padded.
    static func table(header: [String], rows: [[String]], rightAligned: Set<Int>) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            var line = " "
            for (column, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                let last = column == row.count - 1
                line += " " + (rightAligned.contains(column) ? pad + cell : (last ? cell : cell + pad))
                if !last { line += " " }
            }
            return line
        }
    }

    /// One line describing a layer's kind and hyperparameters.
    static func summary(of layer: Layer) -> String {
        switch layer {
        case .embedding(let embedding):
            return "embedding vocabulary=\(embedding.vocabularySize) size=\(embedding.embeddingSize)" + (embedding.maskZero ? " mask_zero" : "")
        case .dense(let dense):
            return "dense \(dense.inputSize)→\(dense.units) activation=\(dense.activation)\(dense.useBias ? "" : " no-bias")"
        case .recurrent(let r):
            var parts = ["\(r.cell.rawValue)", "I=\(r.inputSize)", "H=\(r.hiddenSize)"]
            if let p = r.projectionSize { parts.append("P=\(p)") }
            parts.append(r.directions.count == 2 ? "bidirectional(\(r.mergeMode?.rawValue ?? "?"))" : "forward")
            if r.cell == .lstm { parts.append("use_gate=\(r.useGate.rawValue)") }
            if r.cell == .gru { parts.append("reset=\(r.resetMode?.rawValue ?? "?")") }
            if r.peepholes != .none { parts.append("peepholes=\(r.peepholes.rawValue)") }
            parts.append("bias=\(r.bias.rawValue)")
            parts.append("activation=\(r.activation)")
            parts.append("recurrent_activation=\(r.recurrentActivation)")
            if r.returnSequences { parts.append("return_sequences") }
            if !r.returnSequences, r.finalOutput == .lastStep { parts.append("final_output=last_step") }
            if r.goBackwards { parts.append("go_backwards") }
            if let clip = r.cellClip { parts.append("cell_clip=\(clip)") }
            if let clip = r.projectionClip { parts.append("projection_clip=\(clip)") }
            if let clip = r.gateClip { parts.append("gate_clip=\(clip)") }
            if r.forgetBias != 0 { parts.append("forget_bias=\(r.forgetBias)") }
            if let value = r.maskValue { parts.append("mask_value=\(value)") }
            if r.maskedOutput != .previous { parts.append("masked_output=\(r.maskedOutput.rawValue)") }
            if r.timeMajor { parts.append("time_major") }
            if r.stateful { parts.append("stateful") }
            return parts.joined(separator: " ")
        }
    }

    /// Deterministic JSON (sorted keys).
    func json() throws -> Data {
        let attributes = model.schemaAttributes
        func plain(_ value: MetaValue) -> Any {
            switch value {
            case .int(let v): v
            case .double(let v): v
            case .string(let v): v
            case .bool(let v): v
            }
        }
        func object(_ list: Attributes) -> [String: Any] {
            Dictionary(list.map { ($0.key, plain($0.value)) }, uniquingKeysWith: { first, _ in first })
        }
        let tensors: [[String: Any]] = model.storedTensors.map { entry in
            [
                "path": entry.slot.path, "layer": entry.slot.layer, "direction": entry.slot.direction?.rawValue ?? NSNull(),
                "name": entry.slot.role.rawValue, "shape": entry.tensor.shape, "dtype": entry.tensor.dtype.rawValue,
                "crc32": String(format: "%08x", entry.tensor.checksum), "source": entry.source ?? NSNull(),
            ]
        }
        let names = layerNames
        let summary: [[String: Any]] = model.summary.map { row in
            [
                "index": row.index, "name": names[row.index], "kind": row.kind, "input_shape": row.inputShape,
                "output_shape": row.outputShape, "parameters": row.parameters,
            ]
        }
        let importer: Any = imported.map { result -> [String: Any] in
            [
                "layers": result.layerSummaries, "ignored_keys": result.ignoredKeys, "notes": result.notes,
                "warnings": result.warnings,
            ]
        } ?? NSNull()
        let document: [String: Any] = [
            "command": "inspect", "schema_version": JSONOutput.schemaVersion,
            "file": file, "encoding": encoding?.rawValue ?? NSNull(), "file_size": fileSize, "source_format": sourceFormat,
            "attributes": object(attributes.root),
            "layers": attributes.layers.map(object),
            "summary": ["layers": summary, "total_parameters": model.parameterCount],
            "imported": importer,
            "tensors": tensors,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }
}
