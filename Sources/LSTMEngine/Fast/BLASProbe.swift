import CLSTMKernels
import Synchronization

/// Times the packed GEMM the fast engine issues, for the benchmark's throughput and efficiency figures. (The name
/// is historical: the engine called the system BLAS before it had its own kernels.)
@_spi(Benchmarks)
public enum BLASProbe {
    /// Median seconds of one `C[m, n] += A[m, k]·B[k, n]` (row-major; `B` packed once, as the engine packs its
    /// weights) on ``KernelPath/default`` with ``BLASThreads/count`` threads. Runs until both minimums are reached.
    public static func gemmSeconds(m: Int, n: Int, k: Int, minimumSeconds: Double = 0.5, minimumRepetitions: Int = 5) -> Double {
        let a = (0..<(m * k)).map { Float($0 % 13) * 0.01 - 0.06 }
        let b = (0..<(k * n)).map { Float($0 % 7) * 0.01 - 0.03 }
        var packing = PackedStorage(capacity: packedCount(k, n))
        let packed = PackedMatrix(b, k: k, n: n, into: &packing)
        let storage = packing.finished()
        let kernels = KernelSet(path: .default, threads: BLASThreads.count)
        var c = [Float](repeating: 0, count: m * n)
        let clock = ContinuousClock()
        var times: [Double] = []
        let started = clock.now
        a.withUnsafeBufferPointer { aBuffer in
            storage.withUnsafeBufferPointer { weights in
                c.withUnsafeMutableBufferPointer { cBuffer in
                    guard let a = aBuffer.baseAddress, let w = weights.baseAddress, let c = cBuffer.baseAddress else { return }
                    kernels.gemm(m, a, k, packed, in: w, c, n, accumulate: true)  // warm-up
                    while times.count < minimumRepetitions || (clock.now - started).seconds < minimumSeconds {
                        let start = clock.now
                        kernels.gemm(m, a, k, packed, in: w, c, n, accumulate: true)
                        times.append((clock.now - start).seconds)
                        if times.count >= 100_000 { break }
                    }
                }
            }
        }
        times.sort()
        return times.isEmpty ? .nan : times[times.count / 2]
    }
}

/// The thread count ``BLASProbe`` uses (engines take theirs from `FastEngine(threads:)` / `LSTMCONV_THREADS`).
@_spi(Benchmarks)
public enum BLASThreads {
    private static let threads = Atomic<Int>(1)

    /// Sets how many threads the probe's products may use (1…64).
    public static func set(_ count: Int) { threads.store(min(max(count, 1), 64), ordering: .relaxed) }

    /// How many threads the probe's products may use.
    public static var count: Int { threads.load(ordering: .relaxed) }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
