import Foundation
import HDF5Bridge
import LSTMLayouts
import LSTMModel
import FileSignatures

/// Options of the Keras importer.
public struct KerasImportOptions: Sendable {
    /// The architecture for weights-only files: a `model.to_json()` document or a `.keras` `config.json`.
    /// When given for a full model file it replaces the file's own config.
    public var config: URL?
    /// Set for a streaming import: the model's tensors are described (deferred) and each is read from the file
    /// only when it is materialised; the file stays open as long as the result's tensors are alive.
    package var sourceCache: SourceCache?

    /// Options; `config` is the architecture JSON for a weights-only file.
    public init(config: URL? = nil) {
        self.config = config
    }
}

/// The Keras containers the importer reads.
public enum KerasSourceKind: String, Sendable {
    /// An HDF5 file with Keras content: a legacy `model.save('x.h5')`, `save_weights('x.h5')`, or a Keras 3 `.weights.h5`.
    case hdf5
    /// A Keras 3 (or tf-keras ≥ 2.13) `.keras` zip archive with `config.json`.
    case archive
}

/// Imports Keras models (legacy `.h5`, weights-only `.h5` + config, `.keras` archives, `.weights.h5` + config).
public enum KerasImporter {
    /// Largest member the importer extracts from a `.keras` archive.
    public static let maxArchiveMemberBytes: Int64 = 4 << 30
    /// Largest config / metadata JSON the importer reads.
    public static let maxJSONBytes = 64 << 20

    // MARK: - Sniffing

    /// The 8-byte HDF5 superblock signature.
    static let hdf5Signature = Data(FileSignature.hdf5Magic)

    /// Whether `data` (the start of a file) carries the HDF5 signature at offset 0.
    public static func hasHDF5Signature(_ data: Data) -> Bool {
        data.count >= 8 && data.prefix(8) == hdf5Signature
    }

    /// Whether `data` (the start of a file) is a zip archive (local file header or empty-archive record).
    public static func hasZipSignature(_ data: Data) -> Bool {
        FileSignature.sniff(data) == .zip
    }

    /// The Keras container `url` holds, judged by content: an HDF5 file with Keras attributes or groups, or a
    /// zip with `config.json`. `nil` for anything else (including HDF5 files that are not Keras files).
    public static func sourceKind(of url: URL) -> KerasSourceKind? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 8)) ?? Data()
        if hasHDF5Signature(header) || hdf5SignatureAtUserBlock(handle) {
            guard let h5 = try? KerasH5(path: url.path) else { return nil }
            return KerasFileKind.detect(h5) == nil ? nil : .hdf5
        }
        if hasZipSignature(header) {
            guard let archive = try? KerasArchive(url: url) else { return nil }
            return archive.hasConfig ? .archive : nil
        }
        return nil
    }

    /// HDF5 allows a user block: the signature may sit at 512, 1024, 2048, … bytes.
    private static func hdf5SignatureAtUserBlock(_ handle: FileHandle) -> Bool {
        var offset: UInt64 = 512
        while offset <= 1 << 20 {
            guard (try? handle.seek(toOffset: offset)) != nil, let bytes = try? handle.read(upToCount: 8), bytes.count == 8 else { return false }
            if bytes == hdf5Signature { return true }
            offset *= 2
        }
        return false
    }

    // MARK: - Import

    /// Imports a Keras file.
    ///
    /// - Throws: `ImportError` naming the file, the layer or dataset, and what was expected versus found.
    public static func importFile(at url: URL, options: KerasImportOptions = KerasImportOptions()) throws(ImportError) -> ImportResult {
        let label = url.path
        do {
            return try importUnlabeled(url, options: options)
        } catch {
            throw error.inFile(label)
        }
    }

    private static func importUnlabeled(_ url: URL, options: KerasImportOptions) throws(ImportError) -> ImportResult {
        let digest: String
        let data: Data
        let fileSize: Int
        do {
            // Streamed through SHA-256 in pieces (never mapped: a file truncated while mapped would kill the
            // process with SIGBUS); only the first MiB — where an HDF5 signature may sit — is kept for sniffing.
            (digest, data, fileSize) = try FileDigest.sha256Hex(ofFileAt: url, prefixBytes: (1 << 20) + 8)
        } catch {
            throw ImportError(.unrecognizedSource, "cannot read the file (\(error.localizedDescription))")
        }
        let header = data.prefix(8)
        let external = try options.config.map { configURL throws(ImportError) in try loadExternalConfig(configURL) }

        if hasZipSignature(header) {
            let archive = try KerasArchive(url: url)
            guard archive.hasConfig else { throw archive.noConfig }
            let config: KerasModelConfig
            if let external { config = external } else { config = try archive.config() }
            let bound = KerasDeclaredSize.maxWeightFileBytes(config)
            return try archive.withWeights(declaredBytesBound: bound, keepOpen: options.sourceCache != nil) {
                (h5: KerasH5) throws(ImportError) -> ImportResult in
                h5.sourceCache = options.sourceCache
                let version = archive.kerasVersion ?? config.kerasVersion
                var store = try KerasVarsStore(h5: h5, layers: config.layers, formatLabel: ".keras archive")
                store.inputFeatures = KerasDeclaredSize.inputFeatures(config)
                return try finish(config: config, store: store, version: version, backend: config.backend, digest: digest)
            }
        }
        guard fileSize > 0 else {
            throw ImportError(.unrecognizedSource, "the file is empty (0 bytes); expected a Keras .h5 or .keras file", offset: 0)
        }
        guard hasHDF5Signature(header) || (data.count > 520 && hdf5AtUserBlock(data)) else {
            throw ImportError(
                .unrecognizedSource,
                "not a Keras file: expected an HDF5 signature (.h5) or a zip archive (.keras), found the bytes \(header.map { String(format: "%02x", $0) }.joined(separator: " "))",
                offset: 0)
        }
        let h5 = try KerasH5(path: url.path)
        h5.sourceCache = options.sourceCache
        guard let kind = KerasFileKind.detect(h5) else {
            throw ImportError(
                .unrecognizedSource,
                "an HDF5 file without Keras content: expected a root `model_config` / `keras_version` / `layer_names` attribute or a `model_weights` / `layers` group, found members [\((try? h5.root.memberNames())?.joined(separator: ", ") ?? "")]",
                location: "/")
        }
        let rootVersion = try h5.stringAttribute("keras_version", of: h5.root, at: "/")
        let rootBackend = try h5.stringAttribute("backend", of: h5.root, at: "/")
        switch kind {
        case .legacyModel:
            let config: KerasModelConfig
            if let external {
                config = external
            } else {
                guard let text = try h5.stringAttribute("model_config", of: h5.root, at: "/") else {
                    throw ImportError(
                        .missingConfig,
                        "the .h5 has `model_weights` but no root `model_config` attribute; pass the architecture with --config model.json (model.to_json())",
                        location: "/@model_config")
                }
                config = try KerasModelConfig.parse(JSONValue.parse(Data(text.utf8), what: "the `model_config` attribute"))
            }
            let weightsGroup = try h5.group("model_weights")
            let groupVersion = try h5.stringAttribute("keras_version", of: weightsGroup, at: "model_weights")
            let groupBackend = try h5.stringAttribute("backend", of: weightsGroup, at: "model_weights")
            let version = rootVersion ?? groupVersion ?? config.kerasVersion
            let backend = rootBackend ?? groupBackend ?? config.backend
            try refuseKeras1(version)
            var store = try KerasLegacyStore(h5: h5, rootPath: "model_weights")
            store.inputFeatures = KerasDeclaredSize.inputFeatures(config)
            return try finish(config: config, store: store, version: version, backend: backend, digest: digest)
        case .legacyWeights:
            guard let external else {
                throw ImportError(
                    .missingConfig,
                    "this is a weights-only Keras .h5 (save_weights) with no architecture; pass it with --config model.json (the output of model.to_json())",
                    location: "/")
            }
            try refuseKeras1(rootVersion ?? external.kerasVersion)
            var store = try KerasLegacyStore(h5: h5, rootPath: "")
            store.inputFeatures = KerasDeclaredSize.inputFeatures(external)
            return try finish(
                config: external, store: store, version: rootVersion ?? external.kerasVersion, backend: rootBackend ?? external.backend,
                digest: digest)
        case .varsWeights:
            guard let external else {
                throw ImportError(
                    .missingConfig,
                    "this is a Keras 3 .weights.h5 (save_weights) with no architecture; pass it with --config config.json (model.to_json() or the config.json of a .keras archive)",
                    location: "/")
            }
            var store = try KerasVarsStore(h5: h5, layers: external.layers, formatLabel: "Keras 3 .weights.h5")
            store.inputFeatures = KerasDeclaredSize.inputFeatures(external)
            return try finish(config: external, store: store, version: external.kerasVersion, backend: external.backend, digest: digest)
        }
    }

    private static func hdf5AtUserBlock(_ data: Data) -> Bool {
        var offset = 512
        while offset + 8 <= data.count, offset <= 1 << 20 {
            if data[data.startIndex + offset ..< data.startIndex + offset + 8] == hdf5Signature { return true }
            offset *= 2
        }
        return false
    }

    private static func refuseKeras1(_ version: String?) throws(ImportError) {
        if let version, version.hasPrefix("1.") {
            throw ImportError(
                .unrecognizedSource,
                "keras_version \(version): Keras 1 stores twelve per-gate arrays per LSTM; lstmconv reads Keras 2 and later",
                location: "/@keras_version")
        }
    }

    /// Reads a `--config` file: `model.to_json()` output or a `.keras` archive's `config.json`.
    static func loadExternalConfig(_ url: URL) throws(ImportError) -> KerasModelConfig {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            if let size = attributes[.size] as? NSNumber, size.intValue > maxJSONBytes {
                throw ImportError(.archiveLimit, "the config is \(size.intValue) bytes; the limit is \(maxJSONBytes)", file: url.path)
            }
            data = try Data(contentsOf: url)
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError(.missingConfig, "cannot read the config file (\(error.localizedDescription))", file: url.path)
        }
        do {
            return try KerasModelConfig.parse(JSONValue.parse(data, what: "the config file"))
        } catch {
            throw error.inFile(url.path)
        }
    }

    /// Builds the model, validates it and assembles the result.
    static func finish(
        config: KerasModelConfig, store: any KerasWeightStore, version: String?, backend: String?, digest: String
    ) throws(ImportError) -> ImportResult {
        var generation = KerasGeneration(version: version)
        var versionText = version ?? ""
        if generation == .unknown, config.isKeras3Style {
            // Only Keras 3 writes `module` / `registered_name` keys into its configs.
            generation = .keras3
            versionText = "3 (from the config format; the file states no version)"
        }
        var builder = KerasModelBuilder(config: config, store: store, generation: generation)
        try builder.build()
        let framework = generation == .keras3 ? "keras" : KerasGeneration.framework(version: version)
        var layout = builder.layoutIDs.joined(separator: "+")
        layout += " (\(store.formatLabel), backend \(backend ?? "not recorded"))"
        var model = Model(
            layers: builder.layers,
            provenance: Provenance(
                sourceFramework: framework, sourceFrameworkVersion: versionText, sourceLayout: layout, sourceSHA256: digest))
        do {
            try model.validate()
        } catch {
            throw ImportError(.invalidModel, error.description, location: error.keyPath)
        }
        var notes = builder.notes
        if versionText.isEmpty { notes.append("the file states no keras_version") }
        if !builder.halfPrecisionLayers.isEmpty {
            model.provenance.sourceComputeDType = "float16"
            notes.append(
                "Keras computes \(builder.halfPrecisionLayers.joined(separator: ", ")) in float16 (dtype policy); lstmconv runs float32 (fast) or float64 (reference), so outputs differ from Keras' by float16 rounding: validate with --atol 1e-2")
        }
        return ImportResult(
            model: model, layerSummaries: builder.summaries, tensorMap: ImportResult.tensorMap(of: model),
            ignoredKeys: store.unusedDatasets(consumed: builder.consumed), notes: notes)
    }
}

/// What kind of Keras HDF5 file this is.
enum KerasFileKind {
    /// `model.save('x.h5')`: root `model_config`, group `model_weights`.
    case legacyModel
    /// `save_weights('x.h5')` in the legacy format: `layer_names` at the root.
    case legacyWeights
    /// Keras 3 `.weights.h5`: groups `layers/…/vars`.
    case varsWeights

    static func detect(_ h5: KerasH5) -> KerasFileKind? {
        let attributes = h5.root.attributes
        if (try? attributes.contains("model_config")) == true || h5.isGroup("model_weights") { return .legacyModel }
        if (try? attributes.contains("layer_names")) == true || (try? attributes.contains("layer_names0")) == true { return .legacyWeights }
        if h5.isGroup("layers") || h5.isGroup("_layer_checkpoint_dependencies") { return .varsWeights }
        return nil
    }
}
