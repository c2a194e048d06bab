import Foundation
import LSTMLayouts
import LSTMModel

/// Imports `.onnx` models: the single chain `torch.onnx.export` and tf2onnx emit around `LSTM` / `GRU` operators
/// (spec/mappings-onnx.md), initializers inline or in external data files next to the model.
///
/// The graph is walked in node order from its one input to its one output. Data-independent plumbing (`Shape`,
/// `Constant`, `ConstantOfShape` zero states, …) is allowed anywhere; on the data path only the operators of the
/// spec are recognised, and anything else is refused with `unsupportedTopology` / `unsupportedLayer` naming the
/// node and its operator.
///
/// ```swift
/// let result = try ONNXImporter.importFile(at: URL(fileURLWithPath: "model.onnx"))
/// ```
public enum ONNXImporter {
    /// Whether the first bytes look like an ONNX `ModelProto`: field 1 (`ir_version`, varint) first.
    public static func looksLikeONNX(_ prefix: Data) -> Bool {
        guard prefix.count >= 4, prefix[prefix.startIndex] == 0x08 else { return false }
        let version = prefix[prefix.startIndex + 1]
        guard version >= 1, version <= 32 else { return false }
        // The next field: producer_name (2), producer_version (3), domain (4), model_version (5), doc (6), graph (7), opset (8).
        let tag = prefix[prefix.startIndex + 2]
        return [0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42].contains(tag)
    }

    /// Reads `url` and maps its chain onto document layers.
    public static func importFile(at url: URL) throws(ImportError) -> ImportResult {
        let file = try ONNXFile(url: url)
        var reader = ONNXGraphReader(file: file)
        let layers = try reader.read()
        let producer = file.model.producerName.isEmpty ? "onnx" : file.model.producerName
        let version = "ir \(file.model.irVersion), opset \(file.opset ?? 0)"
            + (file.model.producerVersion.isEmpty ? "" : ", \(producer) \(file.model.producerVersion)")
        let cells = Set(layers.compactMap { layer -> String? in
            if case .recurrent(let value) = layer { return value.cell.rawValue } else { return nil }
        })
        let provenance = Provenance(
            sourceFramework: "onnx", sourceFrameworkVersion: version,
            sourceLayout: cells.sorted().map { "onnx.\($0)" }.joined(separator: "+"), sourceSHA256: file.sha256)
        let model = Model(layers: layers, provenance: provenance)
        do {
            try model.validate()
        } catch {
            throw ImportError(.invalidModel, error.description, file: url.path, location: error.keyPath)
        }
        return ImportResult(
            model: model, layerSummaries: reader.summaries, tensorMap: ImportResult.tensorMap(of: model),
            ignoredKeys: reader.ignored, notes: reader.notes)
    }
}
