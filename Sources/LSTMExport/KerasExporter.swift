import AtomicFileIO
import Foundation
import HDF5Bridge
import LSTMLayouts
import LSTMImportKeras
import LSTMModel
import ZIPFoundation

/// A model as a Keras 3 `Sequential`, ready to be written as a `.keras` archive.
public struct KerasExport: Sendable {
    /// `config.json`: the Sequential's serialized config (sorted keys).
    public var config: Data
    /// Every weight: the `model.weights.h5` path (e.g. `layers/lstm_0/cell/vars/0`) and the tensor, in file order.
    public var weights: [(path: String, tensor: Tensor)]
    /// Groups written empty (Keras 3 writes a `vars` group for every layer), in file order.
    public var groups: [String]
    /// Remarks for the user (folded biases, widened dtypes).
    public var notes: [String]
    /// The legacy HDF5 form: `model_config` (no `module` keys, `batch_input_shape`) and, per layer that Keras lists
    /// in `layer_names`, its weights in Keras' order with their `weight_names`.
    public var legacyConfig: Data
    public var legacyLayers: [(name: String, weights: [(name: String, tensor: Tensor)])]
    /// A layer uses `hard_sigmoid`, which Keras 3 (`x/6 + 0.5`) and tf-keras (`0.2x + 0.5`) read differently.
    public var usesHardSigmoid: Bool
}

/// Exports a model as a Keras 3 `.keras` archive (`config.json`, `metadata.json`, `model.weights.h5`) that
/// `keras.saving.load_model` rebuilds as a `Sequential`: `InputLayer`, optional `Masking`/`Embedding`, `LSTM` / `GRU`
/// / `SimpleRNN` (in `Bidirectional` when two directions), and a `Dense` head.
///
/// Recurrent tensors are fused by `KerasLayouts` through `FusedLayout.disassemble`:
/// a model imported from Keras exports the same weight bytes. Keras' LSTM, SimpleRNN and reset-before GRU have one
/// bias per gate, so a two-bias source is folded (`b_g + bh_g`, rounded once to the dtype) and the notes say so; a
/// reset-after GRU keeps both rows. What Keras cannot compute (document use gate, peepholes, projection, clips,
/// `forget_bias`, a HardSigmoid other than Keras 3's `x/6 + 0.5`, the last step of a bidirectional layer, time-major
/// input) is refused with ``ExportError/Code/notExpressible``.
public enum KerasExporter {
    /// The Keras version written into `metadata.json` (the version the export check loads it with).
    public static let kerasVersion = "3.15.1"

    public static func export(_ model: Model) throws(ExportError) -> KerasExport {
        do {
            try model.validate()
        } catch {
            throw ExportError(.invalidModel, error.description, location: error.keyPath)
        }
        let dtypes = Set(model.storedTensors.map(\.tensor.dtype))
        let type: DType = dtypes.contains(.f64) ? .f64 : .f32
        let dtypeName = type == .f64 ? "float64" : "float32"
        var notes: [String] = []
        if dtypes.contains(where: { $0 != type }) {
            notes.append("weights stored as \(dtypes.map(\.rawValue).sorted().joined(separator: ", ")) are widened exactly to \(dtypeName)")
        }
        var layers: [[String: Any]] = []
        var weights: [(path: String, tensor: Tensor)] = []
        var legacyLayers: [(name: String, weights: [(name: String, tensor: Tensor)])] = []
        var groups = ["layers", "vars"]
        // Keras 3 addresses a Sequential's layers by their snake-case class name, made unique with `_1`, `_2`, …
        var used: [String: Int] = [:]
        func storePath(_ snakeCase: String) -> String {
            if let count = used[snakeCase] {
                used[snakeCase] = count + 1
                return "layers/\(snakeCase)_\(count + 1)"
            }
            used[snakeCase] = 0
            return "layers/\(snakeCase)"
        }

        let startsWithEmbedding: Bool
        if case .embedding = model.layers.first { startsWithEmbedding = true } else { startsWithEmbedding = false }
        var inputShape: [Any] = [NSNull(), NSNull()]
        if !startsWithEmbedding {
            let features: Int
            switch model.layers.first {
            case .recurrent(let layer)?: features = layer.inputSize
            case .dense(let layer)?: features = layer.inputSize
            default: features = 0
            }
            inputShape.append(features)
        }
        layers.append(entry("InputLayer", [
            "batch_shape": inputShape, "dtype": startsWithEmbedding ? "int32" : dtypeName, "sparse": false, "ragged": false,
            "name": "input_layer", "optional": false,
        ]))

        for (index, layer) in model.layers.enumerated() {
            switch layer {
            case .embedding(let embedding):
                let name = "embedding_\(index)"
                let table = try tensor(embedding.parameters, .W_e, layer: index).converted(to: type)
                layers.append(entry("Embedding", [
                    "name": name, "trainable": true, "dtype": dtypeName, "input_dim": embedding.vocabularySize,
                    "output_dim": embedding.embeddingSize, "mask_zero": embedding.maskZero,
                ]))
                let path = storePath("embedding")
                groups += [path, "\(path)/vars"]
                weights.append(("\(path)/vars/0", table))
                legacyLayers.append((name, [("\(name)/embeddings:0", table)]))
            case .recurrent(let recurrent):
                try checkExpressible(recurrent, index: index)
                if index == 0, let mask = recurrent.maskValue {
                    layers.append(entry("Masking", ["name": "masking", "trainable": true, "dtype": dtypeName, "mask_value": mask]))
                    let path = storePath("masking")
                    groups += [path, "\(path)/vars"]
                    legacyLayers.append(("masking", []))
                }
                let (kind, table) = try kerasTable(recurrent, index: index)
                let base = kind == "SimpleRNN" ? "simple_rnn" : kind.lowercased()
                var config: [String: Any] = [
                    "trainable": true, "dtype": dtypeName, "return_sequences": recurrent.returnSequences, "return_state": false,
                    "go_backwards": recurrent.goBackwards, "stateful": false, "unroll": false, "zero_output_for_mask": recurrent.maskedOutput == .zero,
                    "units": recurrent.hiddenSize, "activation": try activationName(recurrent.activation, index: index, location: "activation"),
                    "use_bias": true, "dropout": 0.0, "recurrent_dropout": 0.0,
                ]
                if recurrent.cell != .rnn {
                    config["recurrent_activation"] = try activationName(recurrent.recurrentActivation, index: index, location: "recurrent_activation")
                }
                if recurrent.cell == .gru { config["reset_after"] = recurrent.resetMode == .after }
                var fused: [[String: Tensor]] = []
                for (direction, set) in recurrent.directions.enumerated() {
                    let (parts, folded) = try fuse(set, recurrent, table: table, type: type, index: index)
                    fused.append(parts)
                    if folded, direction == 0 {
                        notes.append("layer \(index): the two biases b_g + bh_g are folded into Keras' single bias (rounded once to \(dtypeName))")
                    }
                }
                let cellPaths: [String]
                if recurrent.directions.count == 2 {
                    let name = "bidirectional_\(index)"
                    var forward = config, backward = config
                    forward["name"] = "forward_\(base)_\(index)"
                    backward["name"] = "backward_\(base)_\(index)"
                    backward["go_backwards"] = !recurrent.goBackwards
                    layers.append(entry("Bidirectional", [
                        "name": name, "trainable": true, "dtype": dtypeName, "merge_mode": (recurrent.mergeMode ?? .concat).rawValue,
                        "layer": entry(kind, forward), "backward_layer": entry(kind, backward),
                    ]))
                    let path = storePath("bidirectional")
                    groups += [path, "\(path)/vars"]
                    for side in ["forward_layer", "backward_layer"] {
                        groups += ["\(path)/\(side)", "\(path)/\(side)/vars", "\(path)/\(side)/cell"]
                    }
                    cellPaths = ["\(path)/forward_layer/cell/vars", "\(path)/backward_layer/cell/vars"]
                } else {
                    let name = "\(base)_\(index)"
                    config["name"] = name
                    layers.append(entry(kind, config))
                    let path = storePath(base)
                    groups += [path, "\(path)/vars", "\(path)/cell"]
                    cellPaths = ["\(path)/cell/vars"]
                }
                let cellName = "\(base)_cell"
                let layerName = recurrent.directions.count == 2 ? "bidirectional_\(index)" : "\(base)_\(index)"
                let innerNames = recurrent.directions.count == 2 ? ["\(layerName)/forward_\(base)_\(index)", "\(layerName)/backward_\(base)_\(index)"] : [layerName]
                var legacyWeights: [(name: String, tensor: Tensor)] = []
                for ((path, parts), inner) in zip(zip(cellPaths, fused), innerNames) {
                    for (number, source) in table.tensors.enumerated() {
                        guard let value = parts[source.name] else { throw ExportError(.invalidModel, "no \(source.name)", layer: index) }
                        weights.append(("\(path)/\(number)", value))
                        legacyWeights.append(("\(inner)/\(cellName)/\(source.name):0", value))
                    }
                }
                legacyLayers.append((layerName, legacyWeights))
            case .dense(let dense):
                let name = "dense_\(index)"
                let kernel: Tensor
                do {
                    kernel = try tensor(dense.parameters, .W_d, layer: index).converted(to: type).transposed()
                } catch let error as ExportError {
                    throw error
                } catch {
                    throw ExportError(.invalidModel, "\(error)", layer: index, location: "W_d")
                }
                layers.append(entry("Dense", [
                    "name": name, "trainable": true, "dtype": dtypeName, "units": dense.units,
                    "activation": try activationName(dense.activation, index: index, location: "activation"), "use_bias": dense.useBias,
                ]))
                let path = storePath("dense")
                groups += [path, "\(path)/vars"]
                weights.append(("\(path)/vars/0", kernel))
                var legacyWeights = [(name: "\(name)/kernel:0", tensor: kernel)]
                if dense.useBias {
                    let bias = try tensor(dense.parameters, .b_d, layer: index).converted(to: type)
                    weights.append(("\(path)/vars/1", bias))
                    legacyWeights.append(("\(name)/bias:0", bias))
                }
                legacyLayers.append((name, legacyWeights))
            }
        }
        if let layer = model.layers.first, case .recurrent(let recurrent) = layer, recurrent.timeMajor {
            throw ExportError(.notExpressible, "a time-major model: Keras 3 layers take [batch, time, features]", layer: 0, location: "time_major")
        }
        for (path, _) in weights {
            var parts = path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                let group = parts.joined(separator: "/")
                if !groups.contains(group) { groups.append(group) }
                parts = parts.dropLast()
            }
        }
        let sequential: [String: Any] = [
            "module": "keras", "class_name": "Sequential", "registered_name": NSNull(),
            "config": ["name": "sequential", "trainable": true, "dtype": dtypeName, "layers": layers],
            "build_config": ["input_shape": inputShape],
        ]
        var legacyLayerConfigs: [[String: Any]] = []
        for layer in layers {
            legacyLayerConfigs.append(legacy(layer))
        }
        let legacySequential: [String: Any] = [
            "class_name": "Sequential", "config": ["name": "sequential", "layers": legacyLayerConfigs],
        ]
        let config: Data, legacyConfig: Data
        do {
            config = try JSONSerialization.data(withJSONObject: sequential, options: [.sortedKeys])
            legacyConfig = try JSONSerialization.data(withJSONObject: legacySequential, options: [.sortedKeys])
        } catch {
            throw ExportError(.invalidModel, "cannot encode config.json: \(error)")
        }
        let usesHardSigmoid = String(decoding: config, as: UTF8.self).contains("\"hard_sigmoid\"")
        return KerasExport(
            config: config, weights: weights, groups: groups, notes: notes, legacyConfig: legacyConfig, legacyLayers: legacyLayers,
            usesHardSigmoid: usesHardSigmoid)
    }

    /// A Keras 3 layer entry in the legacy (tf-keras) form: `class_name` + `config`, `batch_input_shape`.
    static func legacy(_ entry: [String: Any]) -> [String: Any] {
        var config = entry["config"] as? [String: Any] ?? [:]
        if let shape = config.removeValue(forKey: "batch_shape") {
            config["batch_input_shape"] = shape
            config.removeValue(forKey: "optional")
        }
        // The wrapped layers keep `module`: Keras 3's Bidirectional deserializes them with the new loader, and
        // tf-keras reads that form too.
        return ["class_name": entry["class_name"] ?? "", "config": config]
    }

    /// Writes a legacy Keras HDF5 model file (`model.save("x.h5")` layout: `model_config`, `model_weights` with
    /// `layer_names` / `weight_names`) that Keras 3 and tf-keras load. `hard_sigmoid` is refused: the two read it
    /// differently.
    public static func writeLegacyH5(_ export: KerasExport, to url: URL, overwrite: Bool = false) throws(ExportError) {
        if export.usesHardSigmoid {
            throw ExportError(
                .notExpressible, "hard_sigmoid means x/6 + 0.5 in Keras 3 and 0.2x + 0.5 in tf-keras, which both read .h5 files; write a .keras archive",
                file: url.path, location: "activation")
        }
        try AtomicFile.write(to: url, overwrite: overwrite, mapError: { failure in
            ExportError(failure.kind == .exists ? .outputExists : .cannotWrite, failure.message, file: failure.path)
        }) { (temporary: String) throws(ExportError) in
            var readFailure: ExportError?
            do throws(HDF5Error) {
                let file = try HDF5File.create(temporary)
                let root = try file.root()
                try root.attributes.write("backend", .string("tensorflow"))
                try root.attributes.write("keras_version", .string(kerasVersion))
                try root.attributes.write("model_config", .string(String(decoding: export.legacyConfig, as: UTF8.self)))
                let weights = try root.createGroup("model_weights")
                try weights.attributes.write("backend", .string("tensorflow"))
                try weights.attributes.write("keras_version", .string(kerasVersion))
                try weights.attributes.write("layer_names", .strings(export.legacyLayers.map(\.name)))
                for layer in export.legacyLayers {
                    let group = try weights.createGroup(layer.name)
                    try group.attributes.write("weight_names", .strings(layer.weights.map(\.name)))
                    var opened: [String: HDF5Group] = ["": group]
                    func subgroup(_ path: String) throws(HDF5Error) -> HDF5Group {
                        if let existing = opened[path] { return existing }
                        let parent = path.split(separator: "/").dropLast().joined(separator: "/")
                        let created = try subgroup(parent).createGroup(String(path.split(separator: "/").last ?? ""))
                        opened[path] = created
                        return created
                    }
                    for (name, tensor) in layer.weights {
                        let parent = name.split(separator: "/").dropLast().joined(separator: "/")
                        _ = try subgroup(parent).createDataset(
                            String(name.split(separator: "/").last ?? ""), format: tensor.dtype == .f64 ? .f64 : .f32, shape: tensor.shape,
                            littleEndianBytes: try loadedBytes(tensor, name, &readFailure))
                    }
                }
                try file.close()
            } catch {
                if let readFailure { throw readFailure }
                throw ExportError(.cannotWrite, "cannot write the HDF5 file: \(error)", file: url.path)
            }
        }
    }

    /// Writes a `.keras` archive atomically (fixed timestamps: the same model gives the same bytes).
    ///
    /// Streamed: `model.weights.h5` is written by libhdf5 to a private temporary file (one weight at a time; a
    /// streaming export's weights are read from the model file only then) and deflated from it into the archive,
    /// which is written straight to its temporary file: memory holds a chunk, not the model.
    public static func write(_ export: KerasExport, to url: URL, overwrite: Bool = false) throws(ExportError) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-keras-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ExportError(.cannotWrite, "cannot create a temporary folder for model.weights.h5: \(error.localizedDescription)")
        }
        let weightsURL = folder.appendingPathComponent("model.weights.h5")
        try writeWeightsFile(export, to: weightsURL)
        let metadata = Data("{\"keras_version\": \"\(kerasVersion)\", \"date_saved\": \"1980-01-01@00:00:00\"}".utf8)
        try AtomicFile.write(to: url, overwrite: overwrite, mapError: { failure in
            ExportError(failure.kind == .exists ? .outputExists : .cannotWrite, failure.message, file: failure.path)
        }) { (temporary: String) throws(ExportError) in
            do {
                let weights = try FileHandle(forReadingFrom: weightsURL)
                defer { try? weights.close() }
                let weightsSize = try weights.seekToEnd()
                let archive = try Archive(url: URL(fileURLWithPath: temporary), accessMode: .create)
                let fixedDate = Date(timeIntervalSince1970: 315_532_800)
                for (name, bytes) in [("metadata.json", metadata), ("config.json", export.config)] {
                    try archive.addEntry(
                        with: name, type: .file, uncompressedSize: Int64(bytes.count), modificationDate: fixedDate, permissions: 0o644,
                        compressionMethod: .deflate
                    ) { position, size in bytes.subdata(in: Int(position)..<(Int(position) + size)) }
                }
                try archive.addEntry(
                    with: "model.weights.h5", type: .file, uncompressedSize: Int64(weightsSize), modificationDate: fixedDate,
                    permissions: 0o644, compressionMethod: .deflate
                ) { position, size in
                    try weights.seek(toOffset: UInt64(position))
                    return try weights.read(upToCount: size) ?? Data()
                }
            } catch let error as ExportError {
                throw error
            } catch {
                throw ExportError(.cannotWrite, "cannot build the .keras archive: \(error)", file: url.path)
            }
        }
    }

    /// A weight's bytes for an HDF5 dataset, read now if the tensor is deferred; a read failure is kept in `failure`
    /// (and rethrown by the caller) and ends the HDF5 write.
    private static func loadedBytes(_ tensor: Tensor, _ name: String, _ failure: inout ExportError?) throws(HDF5Error) -> Data {
        do throws(ExportError) {
            return try tensor.loaded(name).bytes
        } catch {
            failure = error
            throw HDF5Error(.invalidArgument, "the weight \(name) could not be read")
        }
    }

    /// `model.weights.h5`: the groups and datasets Keras 3's `H5IOStore` reads, written with libhdf5.
    static func writeWeightsFile(_ export: KerasExport, to temporary: URL) throws(ExportError) {
        var readFailure: ExportError?
        do throws(HDF5Error) {
            let file = try HDF5File.create(temporary.path)
            let root = try file.root()
            var opened: [String: HDF5Group] = ["": root]
            func group(_ path: String) throws(HDF5Error) -> HDF5Group {
                if let existing = opened[path] { return existing }
                let parent = path.split(separator: "/").dropLast().joined(separator: "/")
                let created = try group(parent).createGroup(String(path.split(separator: "/").last ?? ""))
                opened[path] = created
                return created
            }
            for path in export.groups { _ = try group(path) }
            for (path, tensor) in export.weights {
                let parent = path.split(separator: "/").dropLast().joined(separator: "/")
                let format: HDF5FloatFormat = tensor.dtype == .f64 ? .f64 : .f32
                _ = try group(parent).createDataset(
                    String(path.split(separator: "/").last ?? ""), format: format, shape: tensor.shape,
                    littleEndianBytes: try loadedBytes(tensor, path, &readFailure))
            }
            opened.removeAll()
            try file.close()
        } catch {
            if let readFailure { throw readFailure }
            throw ExportError(.cannotWrite, "cannot write model.weights.h5: \(error)")
        }
    }

    // MARK: - Layers

    static func entry(_ className: String, _ config: [String: Any]) -> [String: Any] {
        ["module": "keras.layers", "class_name": className, "config": config, "registered_name": NSNull()]
    }

    static func kerasTable(_ layer: RecurrentLayer, index: Int) throws(ExportError) -> (String, FusedLayout) {
        switch layer.cell {
        case .lstm: return ("LSTM", KerasLayouts.lstm)
        case .gru: return ("GRU", layer.resetMode == .after ? KerasLayouts.gruResetAfter : KerasLayouts.gruResetBefore)
        case .rnn: return ("SimpleRNN", KerasLayouts.simpleRNN)
        }
    }

    /// One direction fused into Keras tensors; `true` when two biases were folded into one.
    static func fuse(
        _ original: ParameterSet, _ layer: RecurrentLayer, table: FusedLayout, type: DType, index: Int
    ) throws(ExportError) -> ([String: Tensor], Bool) {
        var set = ParameterSet(tensors: original.tensors.mapValues { $0.converted(to: type) })
        let h = layer.hiddenSize
        let keepsTwo = table.tensors.contains { $0.part == .biasRows }
        var folded = false
        for entry in table.gates {
            let second = entry.gate.secondBias
            if keepsTwo {
                if set.tensors[second] == nil {
                    do {
                        set.tensors[second] = try Tensor(dtype: type, shape: [h], bytes: Data(count: h * type.byteWidth))
                    } catch {
                        throw ExportError(.invalidModel, error.description, layer: index)
                    }
                }
            } else if let bh = set.tensors.removeValue(forKey: second), let b = set.tensors[entry.gate.bias] {
                let (sum, other) = (try b.loaded(entry.gate.bias.rawValue), try bh.loaded(second.rawValue))
                set.tensors[entry.gate.bias] = Tensor(doubles: zip(sum.doubles(), other.doubles()).map { $0 + $1 }, shape: [h], dtype: type)
                folded = true
            }
        }
        do {
            return (try table.disassemble(set, hiddenSize: h, inputSize: layer.inputSize, recurrentSize: layer.recurrentSize), folded)
        } catch {
            throw ExportError(error.code == .unsupportedLayer ? .notExpressible : .invalidModel, error.message, layer: index, location: error.location)
        }
    }

    /// Refuses what Keras' recurrent layers cannot compute.
    static func checkExpressible(_ layer: RecurrentLayer, index: Int) throws(ExportError) {
        func refuse(_ location: String, _ message: String) -> ExportError {
            ExportError(.notExpressible, message, layer: index, location: location)
        }
        let kind = layer.cell == .lstm ? "Keras LSTM" : layer.cell == .gru ? "Keras GRU" : "Keras SimpleRNN"
        if layer.useGate == .document {
            throw refuse("use_gate", "the document use gate (U_t = tanh(W_u·LTM_{t-1}f_t + b_u)) has no Keras form; \(kind) computes h = o·tanh(c)")
        }
        if layer.peepholes != .none { throw refuse("peepholes", "\(layer.peepholes.rawValue) peepholes: \(kind) has none") }
        if layer.projectionSize != nil { throw refuse("projection_size", "a projection W_p: \(kind) has none") }
        for (name, value) in [("cell_clip", layer.cellClip), ("gate_clip", layer.gateClip), ("projection_clip", layer.projectionClip)] {
            if let value { throw refuse(name, "\(name) \(value): \(kind) does not clip") }
        }
        if layer.forgetBias != 0 {
            throw refuse("forget_bias", "forget_bias \(layer.forgetBias) is added at run time; \(kind) has no such constant (unit_forget_bias only initializes)")
        }
        if layer.directions.count == 2, !layer.returnSequences, layer.finalOutput == .lastStep {
            throw refuse("final_output", "the last time step of a bidirectional layer: Keras' return_sequences=False returns both directions' final states")
        }
        if layer.timeMajor { throw refuse("time_major", "a time-major layer: Keras 3 layers take [batch, time, features]") }
    }

    /// The Keras 3 activation name; a HardSigmoid must be Keras 3's `x/6 + 0.5` (in float32).
    static func activationName(_ activation: Activation, index: Int, location: String) throws(ExportError) -> String {
        switch activation {
        case .hardSigmoid(let slope, let offset):
            guard Float(slope) == Float(1.0 / 6.0), Float(offset) == 0.5 else {
                throw ExportError(
                    .notExpressible, "hard_sigmoid(\(slope)x+\(offset)): Keras 3's hard_sigmoid is x/6 + 0.5 (tf-keras' 0.2x + 0.5 is not written)",
                    layer: index, location: location)
            }
            return "hard_sigmoid"
        default:
            return activation.name
        }
    }

    static func tensor(_ set: ParameterSet, _ role: TensorRole, layer: Int) throws(ExportError) -> Tensor {
        guard let tensor = set.tensors[role] else {
            throw ExportError(.invalidModel, "no \(role.rawValue) tensor", layer: layer, location: role.rawValue)
        }
        return tensor
    }
}
