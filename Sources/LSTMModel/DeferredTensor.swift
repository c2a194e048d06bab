import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to read the bytes of a tensor that a streaming import described before reading it: a source dataset, a
/// byte range of a file, or an operation (slice, transpose, side by side) over other deferred tensors.
///
/// Read on one thread at a time (the streaming writer asks for one tensor after another); the lock only makes
/// that assumption safe.
package final class DeferredBytes: @unchecked Sendable {
    private let produce: () throws -> Data
    private let block: ((_ axis: Int, _ range: Range<Int>) throws -> Data)?
    private let lock = NSLock()

    /// `block`, when the source can read part of a rank-2 tensor directly (a dataset hyperslab, a file range):
    /// rows (`axis` 0) or columns (`axis` 1) `range`, C-ordered.
    package init(_ produce: @escaping () throws -> Data, block: ((_ axis: Int, _ range: Range<Int>) throws -> Data)? = nil) {
        self.produce = produce
        self.block = block
    }

    /// Whether ``read(axis:range:)`` reads a part without the whole.
    package var readsBlocks: Bool { block != nil }

    /// Rows or columns `range` only (``readsBlocks``), else `nil`.
    package func read(axis: Int, range: Range<Int>) throws -> Data? {
        guard let block else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return try block(axis, range)
    }

    /// Reads (or computes) the bytes now.
    package func read() throws -> Data {
        lock.lock()
        defer { lock.unlock() }
        return try produce()
    }
}

/// A failure to read a deferred tensor's bytes that is not the reader's own typed error.
package struct DeferredReadError: Error, CustomStringConvertible {
    package var description: String
}

extension Tensor {
    /// A tensor of `dtype` and `shape` whose bytes `produce` reads when ``materialized()`` is called.
    ///
    /// Its ``bytes`` are an address-space reservation of the right length that cannot be read (`PROT_NONE`; under
    /// 4 KiB, zeros): shape and byte-count checks work as for any tensor, and a path that forgot to materialise a
    /// large one faults at once instead of writing zeros. No memory is committed for it.
    package init(
        deferring dtype: DType, shape: [Int], _ produce: @escaping () throws -> Data,
        block: ((_ axis: Int, _ range: Range<Int>) throws -> Data)? = nil
    ) throws(ModelError) {
        guard let count = Tensor.elementCount(of: shape) else {
            throw ModelError(.invalidHyperparameter, "shape has a negative or overflowing dimension", actualShape: shape)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow else {
            throw ModelError(.byteCountMismatch, "\(dtype.rawValue) tensor of shape \(shape) needs too many bytes", actualShape: shape)
        }
        var tensor = try Tensor(dtype: dtype, shape: shape, bytes: Self.reservation(byteCount))
        tensor.deferred = DeferredBytes(produce, block: block)
        self = tensor
    }

    /// Whether the bytes are still to be read (``init(deferring:shape:_:)``).
    package var isDeferred: Bool { deferred != nil }

    /// This tensor with its bytes in memory: itself when it is not deferred, else the bytes read now (their count
    /// checked against the shape).
    package func materialized() throws -> Tensor {
        guard let deferred else { return self }
        let data = try deferred.read()
        guard data.count == bytes.count else {
            throw ModelError(
                .byteCountMismatch, "\(dtype.rawValue) tensor of shape \(shape) needs \(bytes.count) bytes, its source gave \(data.count)")
        }
        return try Tensor(dtype: dtype, shape: shape, bytes: data)
    }

    /// Rows (`axis` 0) or columns (`axis` 1) `range` of a deferred rank-2 tensor read straight from its source,
    /// when the source can (``DeferredBytes/readsBlocks``); `nil` otherwise (materialise the whole instead).
    package func materializedBlock(axis: Int, range: Range<Int>) throws -> Tensor? {
        guard let deferred, deferred.readsBlocks, shape.count == 2, axis == 0 || axis == 1, range.lowerBound >= 0,
            range.upperBound <= shape[axis]
        else { return nil }
        guard let data = try deferred.read(axis: axis, range: range) else { return nil }
        let blockShape = axis == 0 ? [range.count, shape[1]] : [shape[0], range.count]
        let tensor = try Tensor(dtype: dtype, shape: blockShape, bytes: data)
        return tensor
    }

    /// `count` bytes of address space no one may touch, released with the tensor.
    private static func reservation(_ count: Int) -> Data {
        // Foundation copies a few bytes handed to `Data(bytesNoCopy:)` into its inline storage (reading them): a
        // small tensor gets an ordinary zeroed buffer instead; it is still only read through `materialized()`.
        guard count >= 4096 else { return Data(count: count) }
        guard let mapped = mmap(nil, count, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), mapped != MAP_FAILED else {
            // No address space for a reservation: zeros (untouched, so not resident either).
            return Data(count: count)
        }
        return Data(bytesNoCopy: mapped, count: count, deallocator: .custom { pointer, _ in munmap(pointer, count) })
    }
}

extension Model {
    /// The model with every deferred tensor read now (for a writer that needs the whole model in memory anyway,
    /// such as the ONNX exporter's protobuf).
    package func materialized() throws -> Model {
        var model = self
        for entry in storedTensors where entry.tensor.isDeferred {
            model.layers[entry.slot.layer].setTensor(
                try entry.tensor.materialized(), source: entry.source, role: entry.slot.role, direction: entry.slot.direction)
        }
        return model
    }
}
