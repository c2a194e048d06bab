import Foundation
import LSTMConv

/// What `lstmconv inspect` prints: layers, hyperparameters, every tensor and the provenance.
struct ModelReport: Sendable {
    var file: String
    var encoding: Encoding
    var fileSize: Int
    var model: Model

    init(file: String, encoding: Encoding, fileSize: Int, model: Model) {
        self.file = file
        self.encoding = encoding
        self.fileSize = fileSize
        self.model = model
    }

    /// Loads a checkpoint and describes it.
    static func load(_ url: URL) throws -> ModelReport {
        let encoding = try Checkpoint.encoding(of: url)
        let model = try Checkpoint.load(url, as: encoding)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return ModelReport(file: url.path, encoding: encoding, fileSize: size, model: model)
    }

    /// Human-readable text.
    var text: String {
        var lines: [String] = []
        let p = model.provenance
        lines.append("\(file): lstmconv \(encoding == .binary ? ".lstmw" : "HDF5") format \(FormatVersion.major).\(FormatVersion.minor), schema \(model.schemaVersion), \(fileSize) bytes")
        let version = p.sourceFrameworkVersion.isEmpty ? "" : " \(p.sourceFrameworkVersion)"
        lines.append("source: \(p.sourceFramework)\(version), layout \(p.sourceLayout)")
        if !p.sourceSHA256.isEmpty { lines.append("source sha256: \(p.sourceSHA256)") }
        lines.append("converter: \(p.converter)")
        if !p.sourceComputeDType.isEmpty {
            lines.append(
                "source computes in \(p.sourceComputeDType): the framework's outputs carry \(p.sourceComputeDType) rounding; lstmconv runs float32 (fast) or float64 (reference)")
        }
        for (index, layer) in model.layers.enumerated() {
            lines.append("layer \(index): " + Self.summary(of: layer))
        }
        lines.append("tensors:")
        let rows = model.storedTensors.map { entry in
            [entry.slot.path, "\(entry.tensor.shape)", entry.tensor.dtype.rawValue,
             String(format: "%08x", entry.tensor.checksum), entry.source ?? ""]
        }
        let header = ["path", "shape", "dtype", "crc32", "source"]
        let widths = (0..<4).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            var line = "  "
            for column in 0..<4 { line += row[column].padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0) }
            lines.append(line + row[4])
        }
        return lines.joined(separator: "\n")
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
        let document: [String: Any] = [
            "file": file, "encoding": encoding.rawValue, "file_size": fileSize,
            "attributes": object(attributes.root),
            "layers": attributes.layers.map(object),
            "tensors": tensors,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }
}
