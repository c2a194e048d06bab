import Foundation
import LSTMLayouts
import LSTMModel

/// What to import from a PyTorch file.
public struct PyTorchImportOptions: Sendable {
    /// The module prefix of the recurrent module to import (`encoder.rnn`; `""` for a bare `nn.LSTM`
    /// state_dict). Required when the file holds several recurrent modules.
    public var module: String?
    /// The prefix of an `nn.Linear` appended as a dense layer (`<head>.weight [out, in]`, optional `<head>.bias`).
    public var head: String?
    /// Whether the last recurrent layer returns the whole sequence `[B, T, D·R]` (PyTorch's `output`, the
    /// default) or only its final state `[B, D·R]` (`h_n` of the last layer, directions concatenated).
    public var returnSequences: Bool
    /// Without `returnSequences`, what the last layer emits: `output[:, -1]` (`FinalOutput.lastStep`, the
    /// default) or `h_n` (`FinalOutput.finalState`). They differ for a bidirectional module.
    public var finalOutput: FinalOutput
    /// The prefix of an `nn.Embedding` in front of the recurrent module (`<prefix>.weight [V, I]`). `nil`: found
    /// automatically when exactly one bias-less `[V, I]` `.weight` key named like an embedding (`embed` in its
    /// prefix) fits the module's input size; `""` turns the search off.
    public var embedding: String?
    /// `nn.RNN` only: its `nonlinearity` (`.tanh`, the default, or `.relu`), which a state_dict does not hold.
    public var nonlinearity: Activation
    /// Size, depth and ratio caps for reading the file.
    public var limits: PyTorchReadLimits
    /// Set for a streaming import: safetensors tensors and `torch.save` zip storages are described first and each
    /// is read (its byte range, its member) only when it is materialised.
    package var sourceCache: SourceCache?

    /// Options; every `nil` means: find it when unambiguous.
    public init(
        module: String? = nil, head: String? = nil, returnSequences: Bool = true, finalOutput: FinalOutput = .lastStep,
        nonlinearity: Activation = .tanh, limits: PyTorchReadLimits = PyTorchReadLimits()
    ) {
        self.nonlinearity = nonlinearity
        self.embedding = nil
        self.module = module
        self.head = head
        self.returnSequences = returnSequences
        self.finalOutput = finalOutput
        self.limits = limits
    }
}

/// Imports PyTorch `nn.LSTM`, `nn.GRU`, `nn.LSTMCell` and `nn.GRUCell` weights from `torch.save` archives
/// (`.pt`, `.pth`) and `.safetensors` files, without Python: pickles are read by a restricted unpickler that
/// executes nothing.
///
/// ```swift
/// let result = try PyTorchImporter.importFile(at: url, options: PyTorchImportOptions(module: "encoder.rnn"))
/// print(result.layerSummaries, result.ignoredKeys)
/// ```
public enum PyTorchImporter {
    /// Whether the first bytes of a file look like safetensors.
    public static func looksLikeSafetensors(_ prefix: Data) -> Bool { Safetensors.looksLikeSafetensors(prefix) }

    /// Whether the first bytes of a file look like a zip (a `torch.save` archive is one; confirm with
    /// ``TorchArchive/isTorchArchive(at:)``, since `.keras` files are zips too).
    public static func looksLikeZip(_ prefix: Data) -> Bool { TorchArchive.looksLikeZip(prefix) }

    /// Whether the file at `url` is for this importer: safetensors content, a `torch.save` zip, a legacy
    /// `torch.save` stream, or a pickle or zip named `.pt`/`.pth`/`.bin`/`.ckpt`, or any `.safetensors` file
    /// (so that a damaged header or a truncated archive is reported with its precise error rather than as an
    /// unknown file).
    public static func canRead(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: 64)) ?? Data()
        let fileExtension = url.pathExtension.lowercased()
        if Safetensors.looksLikeSafetensors(prefix) || TorchArchive.looksLikeLegacy(prefix) || fileExtension == "safetensors" {
            return true
        }
        if TorchArchive.looksLikePickle(prefix) { return ["pt", "pth", "bin", "ckpt", "pkl"].contains(fileExtension) }
        guard TorchArchive.looksLikeZip(prefix) else { return false }
        return ["pt", "pth", "bin", "ckpt"].contains(fileExtension) || TorchArchive.isTorchArchive(at: url)
    }

    /// Reads the flat state_dict of a file, choosing the reader by content (then by extension), and the
    /// file's SHA-256.
    public static func readStateDict(
        at url: URL, limits: PyTorchReadLimits = PyTorchReadLimits()
    ) throws(ImportError) -> (stateDict: StateDict, sha256: String) {
        try readStateDict(at: url, limits: limits, cache: nil)
    }

    /// ``readStateDict(at:limits:)``; with `cache`, tensors are deferred (read when materialised).
    package static func readStateDict(
        at url: URL, limits: PyTorchReadLimits, cache: SourceCache?
    ) throws(ImportError) -> (stateDict: StateDict, sha256: String) {
        // Read, never mapped: a file truncated while mapped would kill the process with SIGBUS. A zip archive is
        // only hashed here (ZIPFoundation reads its members); other files are read whole, hashed on the way.
        let fileExtension = url.pathExtension.lowercased()
        let digest: String
        let prefix: Data
        let data: Data
        var streamedSize: Int?
        do {
            let handle = try FileHandle(forReadingFrom: url)
            let start = try handle.read(upToCount: 64) ?? Data()
            try? handle.close()
            let isSafetensors = Safetensors.looksLikeSafetensors(start) || fileExtension == "safetensors"
            if cache != nil, isSafetensors || TorchArchive.looksLikeZip(start) {
                // Streaming: hashed in pieces; only the safetensors header is kept (its tensors are read by range).
                let size: Int
                (digest, prefix, size) = try FileDigest.sha256Hex(ofFileAt: url, prefixBytes: 64)
                if isSafetensors {
                    let handle = try FileHandle(forReadingFrom: url)
                    defer { try? handle.close() }
                    let lengthBytes = try handle.read(upToCount: 8) ?? Data()
                    var length: UInt64 = 0
                    for byte in lengthBytes.reversed() { length = length << 8 | UInt64(byte) }
                    let wanted = lengthBytes.count == 8 && length <= UInt64(limits.maxHeaderBytes) && Int(length) <= size - 8 ? Int(length) : 0
                    data = lengthBytes + (try handle.read(upToCount: wanted) ?? Data())
                    streamedSize = size
                } else {
                    data = Data()
                }
            } else if !isSafetensors, TorchArchive.looksLikeZip(start) {
                (digest, prefix, _) = try FileDigest.sha256Hex(ofFileAt: url, prefixBytes: 64)
                data = Data()
            } else {
                (data, digest) = try FileDigest.contentsAndSHA256Hex(ofFileAt: url)
                prefix = data.prefix(64)
            }
        } catch {
            throw ImportError(.unrecognizedSource, "cannot read the file: \(error.localizedDescription)", file: url.path)
        }
        do throws(ImportError) {
            let dict: StateDict
            if Safetensors.looksLikeSafetensors(prefix) || fileExtension == "safetensors" {
                if let cache, let streamedSize {
                    dict = try Safetensors.read(data, fileSize: streamedSize, limits: limits, deferred: (try SourceFile(url), cache))
                } else {
                    dict = try Safetensors.read(data, limits: limits)
                }
            } else if TorchArchive.looksLikeZip(prefix) {
                dict = try TorchArchive.readZip(at: url, limits: limits, cache: cache)
            } else if TorchArchive.looksLikeLegacy(prefix) || TorchArchive.looksLikePickle(prefix) {
                dict = try TorchArchive.readStream(data, limits: limits)
            } else if ["pt", "pth", "bin", "ckpt"].contains(fileExtension) {
                throw ImportError(.unrecognizedSource, "not a torch.save archive (no zip header, no pickle)")
            } else {
                throw ImportError(.unrecognizedSource, "neither safetensors nor a torch.save archive")
            }
            return (dict, digest)
        } catch {
            throw error.inFile(url.path)
        }
    }

    /// Imports the recurrent module (and optional head) of a PyTorch file.
    public static func importFile(at url: URL, options: PyTorchImportOptions = PyTorchImportOptions()) throws(ImportError) -> ImportResult {
        let (dict, digest) = try readStateDict(at: url, limits: options.limits, cache: options.sourceCache)
        do throws(ImportError) {
            return try importStateDict(dict, options: options, sourceSHA256: digest)
        } catch {
            throw error.inFile(url.path)
        }
    }

    /// The recurrent modules of a state_dict, by prefix, in file order.
    public static func recurrentModules(in dict: StateDict) -> [String] {
        groupRecurrentKeys(dict).map(\.prefix)
    }

    static func groupRecurrentKeys(_ dict: StateDict) -> [(prefix: String, names: [(name: RecurrentName, key: String)])] {
        var order: [String] = []
        var groups: [String: [(name: RecurrentName, key: String)]] = [:]
        for (key, _) in dict.entries {
            let (prefix, last) = splitKey(key)
            guard let name = RecurrentName.parse(last) else { continue }
            if groups[prefix] == nil { order.append(prefix) }
            groups[prefix, default: []].append((name, key))
        }
        // A module is recurrent when it has input weights; stray `bias_ih` keys alone do not make one.
        return order.compactMap { prefix in
            guard let names = groups[prefix], names.contains(where: { $0.name.kind == .weightIH }) else { return nil }
            return (prefix, names)
        }
    }

    /// Builds the model from an already-read state_dict.
    public static func importStateDict(
        _ dict: StateDict, options: PyTorchImportOptions = PyTorchImportOptions(), sourceSHA256: String = ""
    ) throws(ImportError) -> ImportResult {
        let groups = groupRecurrentKeys(dict)
        guard !groups.isEmpty else {
            let sample = dict.entries.prefix(8).map(\.key).joined(separator: ", ")
            throw ImportError(
                .noRecurrentWeights,
                "no `weight_ih_l0` / `weight_ih` key: the file has no nn.LSTM, nn.GRU, nn.LSTMCell or nn.GRUCell weights"
                    + (dict.entries.isEmpty ? " (it is empty)" : " (keys: \(sample)\(dict.entries.count > 8 ? ", …" : ""))"))
        }
        let chosen: (prefix: String, names: [(name: RecurrentName, key: String)])
        if let wanted = options.module {
            guard let match = groups.first(where: { $0.prefix == wanted }) else {
                throw ImportError(
                    .noRecurrentWeights,
                    "no recurrent module `\(wanted)`; "
                        + NameSuggestion.hint(flag: "--module", name: wanted, candidates: groups.map(\.prefix), noun: "recurrent modules"),
                    location: wanted)
            }
            chosen = match
        } else {
            guard groups.count == 1, let only = groups.first else {
                var listing: [String] = []
                for group in groups {
                    if let module = try? RecurrentModule.infer(prefix: group.prefix, names: group.names, in: dict) {
                        listing.append("\(moduleLabel(group.prefix)) (\(module.torchName), \(module.layerCount) layer(s), H=\(module.hiddenSize))")
                    } else {
                        listing.append(moduleLabel(group.prefix))
                    }
                }
                throw ImportError(
                    .ambiguousModule,
                    "the file has \(groups.count) recurrent modules: \(listing.joined(separator: "; ")); choose one with --module PREFIX")
            }
            chosen = only
        }

        let module = try RecurrentModule.infer(prefix: chosen.prefix, names: chosen.names, in: dict)
        if module.cell != .rnn, options.nonlinearity != .tanh {
            throw ImportError(
                .unsupportedLayer, "--nonlinearity applies to nn.RNN only; `\(moduleLabel(module.prefix))` is an \(module.torchName)",
                location: module.prefix)
        }
        var layers: [Layer] = []
        var summaries: [String] = []
        var notes: [String] = []
        for index in 0..<module.layerCount {
            var layer = try buildLayer(module, index: index, returnSequences: options.returnSequences || index + 1 < module.layerCount)
            if !layer.returnSequences { layer.finalOutput = options.finalOutput }
            if module.cell == .rnn {
                guard options.nonlinearity == .tanh || options.nonlinearity == .relu else {
                    throw ImportError(.unsupportedLayer, "nn.RNN's nonlinearity is tanh or relu, not \(options.nonlinearity)")
                }
                layer.activation = options.nonlinearity
            }
            layers.append(.recurrent(layer))
            var summary = "\(module.cell.rawValue) (pytorch \(module.torchName) \"\(moduleLabel(module.prefix))\""
            if module.layerCount > 1 { summary += ", layer \(index) of \(module.layerCount)" }
            if module.directionCount == 2 { summary += ", bidirectional" }
            summary += "): I=\(layer.inputSize) H=\(layer.hiddenSize)"
            if let p = layer.projectionSize { summary += " P=\(p)" }
            let letters = module.layout.gates.map(\.letter).joined(separator: ",")
            let roles = module.layout.gates.map(\.gate.weight.rawValue).joined(separator: ",")
            summary += ", gates \(letters) → \(roles)"
            if module.cell == .rnn { summary += ", nonlinearity \(layer.activation)" }
            summary += ", \(module.hasBias ? "two biases" : "no biases (stored as zeros)"), \(module.dtype.rawValue)"
            summaries.append(summary)
        }
        if !module.hasBias {
            notes.append(
                "`\(moduleLabel(module.prefix))` has no bias tensors (bias=False): b_* and bh_* are stored as zeros (source `zeros:<absent key>`)")
        }
        if module.isCell {
            notes.append("\(module.torchName) `\(moduleLabel(module.prefix))` is stored as a one-layer recurrent layer run over the sequence")
        }
        var used = Set(module.keys)
        var warnings: [String] = []

        if let (embedding, key) = try findEmbedding(options.embedding, in: dict, inputSize: module.inputSize, excluding: used, head: options.head) {
            layers.insert(.embedding(embedding), at: 0)
            used.insert(key)
            summaries.insert(
                "embedding (pytorch nn.Embedding \"\(String(key.dropLast(".weight".count)))\"): vocabulary \(embedding.vocabularySize), size \(embedding.embeddingSize) → W_e; input is token ids [B, T]",
                at: 0)
        } else if options.embedding == nil {
            // Not taken automatically (none, or several candidates): a table that could feed the module is not
            // silently dropped.
            for candidate in embeddingCandidates(in: dict, inputSize: module.inputSize, excluding: used, head: options.head) {
                warnings.append(
                    "`\(candidate).weight` looks like an nn.Embedding feeding `\(moduleLabel(module.prefix))` and was not imported; pass --embedding \(candidate) to keep it (the input is then token ids [B, T])")
            }
        }

        if let head = options.head {
            let (dense, keys) = try buildHead(head, in: dict, inputSize: module.outputSize)
            layers.append(.dense(dense))
            used.formUnion(keys)
            summaries.append(
                "dense (pytorch nn.Linear \"\(head)\"): in=\(dense.inputSize) out=\(dense.units), \(dense.useBias ? "with" : "no") bias, activation linear")
        } else {
            for candidate in linearCandidates(in: dict, inputSize: module.outputSize, excluding: used)
            where !warnings.contains(where: { $0.hasPrefix("`\(candidate).weight`") }) {
                warnings.append(
                    "`\(candidate)` looks like an nn.Linear on the recurrent output and was not imported; pass --head \(candidate) to keep it (with --last-step or --final-states when it reads one step)")
            }
        }

        let version = ["torch_version", "pytorch_version"].lazy.compactMap { dict.metadata[$0] }.first ?? ""
        let model = Model(
            layers: layers,
            provenance: Provenance(
                sourceFramework: "pytorch", sourceFrameworkVersion: version, sourceLayout: module.layout.id,
                sourceSHA256: sourceSHA256))
        do {
            try model.validate()
        } catch {
            throw ImportError(.invalidModel, error.description, location: error.keyPath)
        }
        let ignored = dict.entries.map(\.key).filter { !used.contains($0) }
        return ImportResult(
            model: model, layerSummaries: summaries, tensorMap: ImportResult.tensorMap(of: model), ignoredKeys: ignored, notes: notes,
            warnings: warnings)
    }

    /// Cuts layer `index` of a module out of its tensors through the layout table.
    static func buildLayer(_ module: RecurrentModule, index: Int, returnSequences: Bool) throws(ImportError) -> RecurrentLayer {
        var layout = module.layout
        if module.projectionSize == nil { layout.tensors.removeAll { $0.part == .projection } }
        let inputSize = index == 0 ? module.inputSize : module.outputSize
        let gateRows = layout.gates.count * module.hiddenSize
        var directions: [ParameterSet] = []
        for direction in 0..<module.directionCount {
            var found: [String: FoundTensor] = [:]
            for kind in RecurrentName.Kind.allCases {
                let key = module.key(kind, layer: index, reverse: direction == 1)
                let pattern = RecurrentName.pattern(kind)
                guard layout.tensors.contains(where: { $0.name == pattern }) else { continue }
                if let tensor = module.tensors[key] {
                    found[pattern] = FoundTensor(tensor, sourceName: key)
                } else if !module.hasBias, kind == .biasIH || kind == .biasHH {
                    let zeros = Data(count: gateRows * module.dtype.byteWidth)
                    guard let tensor = try? Tensor(dtype: module.dtype, shape: [gateRows], bytes: zeros) else { continue }
                    found[pattern] = FoundTensor(tensor, sourceName: "zeros:\(key)")
                }
            }
            directions.append(
                try layout.assemble(found, hiddenSize: module.hiddenSize, inputSize: inputSize, recurrentSize: module.recurrentSize))
        }
        return RecurrentLayer(
            cell: module.cell, inputSize: inputSize, hiddenSize: module.hiddenSize, projectionSize: module.projectionSize,
            directions: directions, mergeMode: module.directionCount == 2 ? .concat : nil, returnSequences: returnSequences,
            activation: .tanh, recurrentActivation: .sigmoid, useGate: .standard, peepholes: .none, bias: .double,
            resetMode: module.cell == .gru ? .after : nil)
    }

    /// An `nn.Linear` head: `<prefix>.weight [out, in]`, optional `<prefix>.bias [out]`.
    static func buildHead(_ prefix: String, in dict: StateDict, inputSize: Int) throws(ImportError) -> (DenseLayer, [String]) {
        let weightKey = prefix + ".weight"
        let biasKey = prefix + ".bias"
        func floatTensor(_ key: String) throws(ImportError) -> Tensor? {
            switch dict[key] {
            case nil: return nil
            case .tensor(let tensor): return tensor
            case .unsupported(let dtype, _):
                throw ImportError(.unsupportedDType, "\(dtype) weights cannot be stored (f32, f16, bf16, f64 only)", location: key)
            case .notATensor(let kind):
                throw ImportError(.malformedSource, "`\(key)` is a \(kind), not a tensor", location: key)
            }
        }
        guard let weight = try floatTensor(weightKey) else {
            let heads = linearCandidates(in: dict, inputSize: inputSize, excluding: [])
            let matrices = dict.entries.compactMap { key, value -> String? in
                guard key.hasSuffix(".weight"), value.shape?.count == 2 else { return nil }
                return String(key.dropLast(".weight".count))
            }
            throw ImportError(
                .missingTensor,
                "the head `\(prefix)` needs `\(weightKey)` [out, in]; "
                    + NameSuggestion.hint(flag: "--head", name: prefix, candidates: heads.isEmpty ? matrices : heads, noun: "heads"),
                location: weightKey)
        }
        guard weight.shape.count == 2, weight.shape[0] > 0 else {
            throw ImportError(.shapeMismatch, "an nn.Linear weight is [out, in], found \(weight.shape)", location: weightKey)
        }
        guard weight.shape[1] == inputSize else {
            throw ImportError(
                .shapeMismatch, "the head reads \(weight.shape[1]) features but the recurrent module emits \(inputSize)", location: weightKey)
        }
        var parameters = ParameterSet(tensors: [.W_d: weight], sources: [.W_d: weightKey])
        var keys = [weightKey]
        if let bias = try floatTensor(biasKey) {
            guard bias.shape == [weight.shape[0]] else {
                throw ImportError(.shapeMismatch, "expected bias [\(weight.shape[0])], found \(bias.shape)", location: biasKey)
            }
            parameters.tensors[.b_d] = bias
            parameters.sources[.b_d] = biasKey
            keys.append(biasKey)
        }
        let dense = DenseLayer(
            inputSize: inputSize, units: weight.shape[0], activation: .linear, useBias: parameters.tensors[.b_d] != nil,
            parameters: parameters)
        return (dense, keys)
    }

    /// The `nn.Embedding` feeding the module: the named prefix, or the single automatic candidate.
    static func findEmbedding(
        _ wanted: String?, in dict: StateDict, inputSize: Int, excluding used: Set<String>, head: String?
    ) throws(ImportError) -> (EmbeddingLayer, String)? {
        if wanted == "" { return nil }
        let key: String
        if let wanted {
            key = wanted + ".weight"
            guard dict[key] != nil else {
                let tables = dict.entries.compactMap { entry -> String? in
                    guard entry.key.hasSuffix(".weight"), let shape = entry.value.shape, shape.count == 2, shape[1] == inputSize else { return nil }
                    return String(entry.key.dropLast(".weight".count))
                }
                throw ImportError(
                    .missingTensor,
                    "the embedding `\(wanted)` needs `\(key)` [num_embeddings, embedding_dim]; "
                        + NameSuggestion.hint(flag: "--embedding", name: wanted, candidates: tables, noun: "embeddings"),
                    location: key)
            }
        } else {
            let candidates = embeddingCandidates(in: dict, inputSize: inputSize, excluding: used, head: head)
            guard candidates.count == 1, let only = candidates.first else { return nil }
            key = only + ".weight"
        }
        let tensor: Tensor
        switch dict[key] {
        case .tensor(let value)?: tensor = value
        case .unsupported(let dtype, _)?:
            throw ImportError(.unsupportedDType, "\(dtype) weights cannot be stored (f32, f16, bf16, f64 only)", location: key)
        case .notATensor(let kind)?:
            throw ImportError(.malformedSource, "`\(key)` is a \(kind), not a tensor", location: key)
        case nil:
            return nil
        }
        guard tensor.shape.count == 2, tensor.shape[0] >= 1 else {
            throw ImportError(.shapeMismatch, "an nn.Embedding weight is [num_embeddings, embedding_dim], found \(tensor.shape)", location: key)
        }
        guard tensor.shape[1] == inputSize else {
            throw ImportError(
                .shapeMismatch, "the embedding emits \(tensor.shape[1]) features but the recurrent module reads \(inputSize)", location: key)
        }
        let layer = EmbeddingLayer(
            vocabularySize: tensor.shape[0], embeddingSize: tensor.shape[1],
            parameters: ParameterSet(tensors: [.W_e: tensor], sources: [.W_e: key]))
        return (layer, key)
    }

    /// Prefixes whose bias-less `.weight` is a `[V, inputSize]` table under a name containing `embed`: the
    /// embeddings that could feed the recurrent module.
    static func embeddingCandidates(in dict: StateDict, inputSize: Int, excluding used: Set<String>, head: String?) -> [String] {
        dict.entries.compactMap { entry -> String? in
            let (prefix, name) = splitKey(entry.key)
            guard name == "weight", !used.contains(entry.key), prefix != head, prefix.lowercased().contains("embed"),
                dict[prefix + ".bias"] == nil, let shape = entry.value.shape, shape.count == 2, shape[1] == inputSize
            else { return nil }
            return prefix
        }
    }

    /// Prefixes whose `.weight` is a matrix reading `inputSize` features: likely heads, for a hint.
    static func linearCandidates(in dict: StateDict, inputSize: Int, excluding used: Set<String>) -> [String] {
        dict.entries.compactMap { key, value in
            guard !used.contains(key), key.hasSuffix(".weight"), let shape = value.shape, shape.count == 2, shape[1] == inputSize else {
                return nil
            }
            return String(key.dropLast(".weight".count))
        }
    }
}
