import Foundation
import LSTMConv

/// What `lstmconv inspect` prints: layers, hyperparameters, every tensor and the provenance — read from the
/// checkpoint's header alone (``CheckpointHeader``): no tensor data is read and no model is built.
struct ModelReport: Sendable {
    var header: CheckpointHeader

    /// Reads a checkpoint's header and describes it.
    static func load(_ url: URL) throws -> ModelReport {
        ModelReport(header: try Checkpoint.inspectHeader(url))
    }

    /// The problems the header shows, as the one error `inspect` exits with after printing the report.
    var problem: CheckpointError? {
        guard let first = header.findings.first else { return nil }
        let more = header.findings.count > 1 ? " (and \(header.findings.count - 1) more problems listed above)" : ""
        return CheckpointError(.invalidModel, first + more, file: header.file)
    }

    /// Human-readable text.
    var text: String {
        var lines: [String] = []
        let schema = header.attributes.root.first { $0.key == "schema_version" }.map { "\($0.value)" } ?? "?"
        lines.append("\(header.file): lstmconv \(header.encoding == .binary ? ".lstmw" : "HDF5") format \(header.formatVersion), schema \(schema), \(header.fileSize) bytes")
        if let p = header.provenance {
            let version = p.sourceFrameworkVersion.isEmpty ? "" : " \(p.sourceFrameworkVersion)"
            lines.append("source: \(p.sourceFramework)\(version), layout \(p.sourceLayout)")
            if !p.sourceSHA256.isEmpty { lines.append("source sha256: \(p.sourceSHA256)") }
            lines.append("converter: \(p.converter)")
            if !p.sourceComputeDType.isEmpty {
                lines.append(
                    "source computes in \(p.sourceComputeDType): the framework's outputs carry \(p.sourceComputeDType) rounding; lstmconv runs float32 (fast) or float64 (reference)")
            }
        }
        for (index, layer) in header.layers.enumerated() {
            lines.append("layer \(index): " + Self.summary(of: layer))
        }
        lines.append("tensors:")
        let rows = header.tensors.map { tensor in
            [tensor.path, "\(tensor.shape)", tensor.dtype?.rawValue ?? "?",
             tensor.checksum.map { String(format: "%08x", $0) } ?? "?", tensor.source ?? ""]
        }
        let columns = ["path", "shape", "dtype", "crc32", "source"]
        let widths = (0..<4).map { column in ([columns] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [columns] + rows {
            var line = "  "
            for column in 0..<4 { line += row[column].padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0) }
            lines.append(line + row[4])
        }
        if !header.findings.isEmpty {
            lines.append("problems (the file would not load):")
            for finding in header.findings { lines.append("  \(finding)") }
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
        let attributes = header.attributes
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
        let tensors: [[String: Any]] = header.tensors.map { tensor in
            let parts = tensor.path.split(separator: "/").map(String.init)
            let layer = parts.first.flatMap { Int($0.dropFirst("layer_".count)) }
            return [
                "path": tensor.path, "layer": layer ?? NSNull(), "direction": parts.count == 3 ? parts[1] : NSNull(),
                "name": parts.last ?? tensor.path, "shape": tensor.shape, "dtype": tensor.dtype?.rawValue ?? NSNull(),
                "crc32": tensor.checksum.map { String(format: "%08x", $0) } ?? NSNull(), "source": tensor.source ?? NSNull(),
            ]
        }
        let document: [String: Any] = [
            "file": header.file, "encoding": header.encoding.rawValue, "file_size": header.fileSize,
            "attributes": object(attributes.root),
            "layers": attributes.layers.map(object),
            "tensors": tensors,
            "problems": header.findings,
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
    }
}
