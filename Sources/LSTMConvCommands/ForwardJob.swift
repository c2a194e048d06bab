import Foundation
import LSTMConv

/// A failure converting between `.npy` arrays and engine arrays.
struct ArrayConversionError: LSTMConvError {
    var file: String?
    var message: String
    var codeName: String { "unusable input array" }
    var location: String? { nil }
}

/// The `run` / `validate` plumbing: `.npy` in, forward pass, `.npy`/`.npz` out.
enum ForwardJob {
    /// Reads an input `.npy`: float32/float64 features `[B, T, F]` (or `[B, F]`), or int32/int64 token ids
    /// `[B, T]` when the model starts with an embedding.
    static func input(from url: URL, for model: Model) throws -> ForwardInput {
        let array = try NumPyArray(contentsOf: url)
        let startsWithEmbedding: Bool
        if case .embedding = model.layers.first { startsWithEmbedding = true } else { startsWithEmbedding = false }
        switch array.storage {
        case .float32(let values):
            if startsWithEmbedding, let ids = exactIntegers(values.map(Double.init)) {
                return .tokens(try NDArray(shape: array.shape, scalars: ids))
            }
            return .float32(try NDArray(shape: array.shape, scalars: values))
        case .float64(let values):
            if startsWithEmbedding, let ids = exactIntegers(values) {
                return .tokens(try NDArray(shape: array.shape, scalars: ids))
            }
            return .float64(try NDArray(shape: array.shape, scalars: values))
        case .int32(let values):
            guard startsWithEmbedding else {
                throw ArrayConversionError(file: url.path, message: "integer input (token ids): \(Hints.embeddingHint(model: model))")
            }
            return .tokens(try NDArray(shape: array.shape, scalars: values.map(Int.init)))
        case .int64(let values):
            guard startsWithEmbedding else {
                throw ArrayConversionError(file: url.path, message: "integer input (token ids): \(Hints.embeddingHint(model: model))")
            }
            var ids: [Int] = []
            ids.reserveCapacity(values.count)
            for value in values {
                guard let id = Int(exactly: value) else {
                    throw ArrayConversionError(file: url.path, message: "token id \(value) does not fit an Int")
                }
                ids.append(id)
            }
            return .tokens(try NDArray(shape: array.shape, scalars: ids))
        }
    }

    /// Reads `--lengths`: an integer `.npy` `[B]` (int32 or int64), one sequence length per batch element.
    static func lengths(from url: URL) throws -> [Int] {
        let array = try NumPyArray(contentsOf: url)
        guard array.shape.count == 1 else {
            throw ArrayConversionError(file: url.path, message: "lengths must be a 1-D integer array [batch], found shape \(array.shape)")
        }
        switch array.storage {
        case .int32(let values): return values.map(Int.init)
        case .int64(let values):
            var result: [Int] = []
            for value in values {
                guard let length = Int(exactly: value) else {
                    throw ArrayConversionError(file: url.path, message: "length \(value) does not fit an Int")
                }
                result.append(length)
            }
            return result
        case .float32, .float64:
            throw ArrayConversionError(file: url.path, message: "lengths must be integers (int32 or int64), found a float array")
        }
    }

    /// Reads an expected-output `.npy` as float64.
    static func expected(from url: URL) throws -> NDArray<Double> {
        let array = try NumPyArray(contentsOf: url)
        return try NDArray(shape: array.shape, scalars: array.doubles)
    }

    /// Reads initial states from a `.npz` whose entries are named `layer_<k>/<direction>/STM|LTM`.
    ///
    /// With `batch`, no entry may declare more bytes than the model's widest state needs for that batch (as
    /// float64): an entry that would inflate further is refused before it is inflated.
    static func states(from url: URL, model: Model? = nil, batch: Int? = nil) throws -> [StateKey: CellState] {
        var limit = NPZArchive.maxEntryBytes
        if let model, let batch {
            var width = 0
            for case .recurrent(let layer) in model.layers { width = max(width, layer.hiddenSize, layer.recurrentSize) }
            let (elements, overflow) = width.multipliedReportingOverflow(by: max(batch, 0))
            if !overflow, elements <= Int(NPZArchive.maxEntryBytes) / 8 { limit = UInt64(elements * 8 + 4096) }
        }
        let archive = try NPZArchive(contentsOf: url, maxEntryBytes: limit)
        var named: [(name: String, array: NDArray<Double>)] = []
        for (name, array) in archive.entries {
            named.append((name, try NDArray(shape: array.shape, scalars: array.doubles)))
        }
        return try CellState.states(named: named)
    }

    /// An engine result as a NumPy array in the engine's precision (float32 for fast, float64 for reference).
    static func numpy(_ array: NDArray<Double>, precision: DType) throws -> NumPyArray {
        precision == .f64
            ? try NumPyArray(shape: array.shape, float64: array.scalars)
            : try NumPyArray(shape: array.shape, float32: array.scalars.map { Float($0) })
    }

    /// An engine's output as a NumPy array in the precision it was computed in, without a round trip.
    static func numpy(_ values: ForwardResult.Values) throws -> NumPyArray {
        switch values {
        case .float32(let array): try NumPyArray(shape: array.shape, float32: array.scalars)
        case .float64(let array): try NumPyArray(shape: array.shape, float64: array.scalars)
        }
    }

    /// Writes the final states of every layer and direction as a `.npz`.
    static func writeStates(_ result: ForwardResult, to url: URL, overwrite: Bool) throws {
        try statesArchive(result).write(to: url, overwrite: overwrite)
    }

    /// The final states of every layer and direction as a `.npz` archive (in memory).
    static func statesArchive(_ result: ForwardResult) throws -> NPZArchive {
        var archive = NPZArchive()
        for (name, array) in result.namedStates {
            archive.set(name, try numpy(array, precision: result.precision))
        }
        return archive
    }

    private static func exactIntegers(_ values: [Double]) -> [Int]? {
        var ids: [Int] = []
        ids.reserveCapacity(values.count)
        for value in values {
            guard value.rounded() == value, let id = Int(exactly: value) else { return nil }
            ids.append(id)
        }
        return ids
    }
}
