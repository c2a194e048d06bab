import Foundation
import LSTMModel

/// The source tensors a streaming import read last.
///
/// A streaming import describes every document tensor first (deferred tensors, ``LSTMModel/Tensor/isDeferred``)
/// and reads the source only when the writer asks for a tensor. The gate blocks of one fused source tensor
/// (Keras `kernel [I, 4H]`, PyTorch `weight_ih_l0 [4H, I]`) become four document tensors written one after
/// another: the cache keeps the few source tensors read last so each is read once, and drops the oldest, so
/// memory holds a layer's source tensors at most, never the model.
package final class SourceCache: @unchecked Sendable {
    /// How many source tensors are kept (a layer reads at most four: input, recurrent, two biases).
    package let capacity: Int
    private var entries: [(id: Int, bytes: Data)] = []
    private var nextID = 0
    private let lock = NSLock()

    package init(capacity: Int = 4) {
        self.capacity = max(capacity, 1)
    }

    /// A deferred source tensor whose bytes `read` returns, read at most once while it stays in the cache.
    ///
    /// `block`, when the source can read rows or columns of a rank-2 tensor directly: a gate block of a fused
    /// weight is then read alone (not cached), and the whole tensor is never read for it.
    package func tensor(
        dtype: DType, shape: [Int], read: @escaping () throws -> Data, block: ((_ axis: Int, _ range: Range<Int>) throws -> Data)? = nil
    ) throws(ModelError) -> Tensor {
        lock.lock()
        let id = nextID
        nextID += 1
        lock.unlock()
        return try Tensor(deferring: dtype, shape: shape, { [self] in try bytes(of: id, read) }, block: shape.count == 2 ? block : nil)
    }

    private func bytes(of id: Int, _ read: () throws -> Data) throws -> Data {
        lock.lock()
        if let index = entries.firstIndex(where: { $0.id == id }) {
            let entry = entries.remove(at: index)
            entries.append(entry)
            lock.unlock()
            return entry.bytes
        }
        lock.unlock()
        let data = try read()
        lock.lock()
        defer { lock.unlock() }
        if entries.count >= capacity { entries.removeFirst(entries.count - capacity + 1) }
        entries.append((id, data))
        return data
    }

    /// Forgets every cached tensor (the write is over).
    package func clear() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }
}
