import Foundation
import HDF5Bridge
import LSTMLayouts
import LSTMModel

/// Read access to a Keras HDF5 file through HDF5Bridge, with every failure as an ``ImportError``.
final class KerasH5 {
    /// Largest single weight the importer reads (bytes).
    static let maxTensorBytes = 1 << 31

    let file: HDF5File
    let root: HDF5Group
    /// The path shown in messages.
    let path: String
    /// Set for a streaming import: ``tensor(_:maxElements:)`` checks the dataset and describes it, and its data is
    /// read only when the writer asks for it.
    var sourceCache: SourceCache?
    /// Kept alive as long as this file is (a `.keras` archive's extracted weights, removed when released).
    var retained: AnyObject?

    init(path: String) throws(ImportError) {
        self.path = path
        do {
            file = try HDF5File.openReadOnly(path)
            root = try file.root()
        } catch {
            throw Self.translate(error, location: nil)
        }
    }

    /// Maps an HDF5Bridge error to the import error a user should see.
    static func translate(_ error: HDF5Error, location: String?, missing: ImportError.Code = .missingTensor) -> ImportError {
        let code: ImportError.Code
        switch error.code {
        case .notHDF5, .fileNotFound: code = .unrecognizedSource
        case .notFound: code = missing
        case .wrongType: code = .unsupportedDType
        default: code = .malformedSource
        }
        return ImportError(code, error.message, location: location ?? error.objectPath)
    }

    /// Runs an HDF5Bridge call, translating its error.
    func run<T>(_ location: String?, missing: ImportError.Code = .missingTensor, _ body: () throws(HDF5Error) -> T) throws(ImportError) -> T {
        do {
            return try body()
        } catch {
            throw Self.translate(error, location: location, missing: missing)
        }
    }

    /// Whether `path` (relative to the root) is a group.
    func isGroup(_ path: String) -> Bool {
        var group = root
        for component in path.split(separator: "/").map(String.init) {
            guard (try? group.linkKind(component)) == .group, let next = try? group.group(component) else { return false }
            group = next
        }
        return true
    }

    func group(_ path: String) throws(ImportError) -> HDF5Group {
        if path.isEmpty || path == "/" { return root }
        return try run(path, missing: .missingTensor) { () throws(HDF5Error) in try root.group(path) }
    }

    /// A scalar string attribute of `group`, or `nil` when absent.
    func stringAttribute(_ name: String, of group: HDF5Group, at path: String) throws(ImportError) -> String? {
        try run("\(path)@\(name)", missing: .missingConfig) { () throws(HDF5Error) -> String? in
            guard try group.attributes.contains(name) else { return nil }
            return try group.attributes.attribute(name).string()
        }
    }

    /// A string-list attribute of `group` (Keras' split `name0`, `name1`, … joined), or `nil` when absent.
    func stringListAttribute(_ name: String, of group: HDF5Group, at path: String) throws(ImportError) -> [String]? {
        try run("\(path)@\(name)", missing: .missingConfig) { () throws(HDF5Error) -> [String]? in
            let attributes = group.attributes
            let plain = try attributes.contains(name)
            let split = try attributes.contains("\(name)0")
            guard plain || split else { return nil }
            // h5py writes an empty list as a float64 array of length 0.
            if plain {
                let attribute = try attributes.attribute(name)
                if attribute.datatype.typeClass != .string { return attribute.shape.reduce(1, *) == 0 ? [] : nil }
            }
            return try attributes.joinedStrings(name)
        }
    }

    /// Reads a float dataset at `path` (relative to the root) as a tensor, keeping its stored dtype.
    ///
    /// `maxElements` is what the layer's declared hyperparameters justify (``KerasDeclaredSize``): the dataset's
    /// shape is checked against it before its data is read.
    func tensor(_ path: String, maxElements: Int? = nil) throws(ImportError) -> FoundTensor {
        let dataset = try run(path) { () throws(HDF5Error) in try root.dataset(path) }
        guard let format = dataset.datatype.floatFormat else {
            throw ImportError(.unsupportedDType, "dataset has type \(dataset.datatype); expected a float dataset", location: path)
        }
        let dtype: DType
        switch format {
        case .f16: dtype = .f16
        case .bf16: dtype = .bf16
        case .f32: dtype = .f32
        case .f64: dtype = .f64
        }
        guard let count = Tensor.elementCount(of: dataset.shape), count <= Self.maxTensorBytes / dtype.byteWidth else {
            throw ImportError(.malformedSource, "dataset shape \(dataset.shape) exceeds the \(Self.maxTensorBytes >> 20) MiB limit", location: path)
        }
        if let maxElements, count > maxElements {
            throw ImportError(
                .shapeMismatch,
                "dataset shape \(dataset.shape) holds \(count) elements, more than the layer's declared sizes allow (\(maxElements)); nothing was read",
                location: path)
        }
        if let sourceCache {
            do {
                let tensor = try sourceCache.tensor(
                    dtype: dtype, shape: dataset.shape,
                    read: { [self] () throws(ImportError) -> Data in
                        let bytes = try run(path) { () throws(HDF5Error) in try root.dataset(path).readLittleEndianBytes(as: format) }
                        WorkProgress.advance(bytes.count)
                        return bytes
                    },
                    block: { [self] (axis: Int, range: Range<Int>) throws(ImportError) -> Data in
                        let bytes = try run(path) { () throws(HDF5Error) in
                            try root.dataset(path).readLittleEndianBytes(as: format, axis: axis, range: range)
                        }
                        WorkProgress.advance(bytes.count)
                        return bytes
                    })
                return FoundTensor(tensor, sourceName: path)
            } catch {
                throw ImportError(.malformedSource, error.description, location: path)
            }
        }
        let bytes = try run(path) { () throws(HDF5Error) in try dataset.readLittleEndianBytes(as: format) }
        WorkProgress.advance(bytes.count)
        do {
            return FoundTensor(try Tensor(dtype: dtype, shape: dataset.shape, bytes: bytes), sourceName: path)
        } catch {
            throw ImportError(.malformedSource, error.description, location: path)
        }
    }

    /// Paths of every dataset under `path` (depth-first, member order), for the ignored-keys report. HDF5Bridge's
    /// one walk routine: an object reached twice (hard-link cycle or alias) is listed once, never re-entered.
    func datasetPaths(under path: String, limit: Int = 10_000) -> [String] {
        guard let start = try? group(path),
            let entries = try? start.walk(maxDepth: 32, maxEntries: limit, stopAtLimit: true)
        else { return [] }
        let prefix = path == "/" ? "" : path
        var result: [String] = []
        for entry in entries where !entry.isRepeat {
            let full = prefix.isEmpty ? entry.path : "\(prefix)/\(entry.path)"
            switch entry.link.kind {
            case .group: continue
            default: result.append(full)
            }
        }
        return result
    }
}
