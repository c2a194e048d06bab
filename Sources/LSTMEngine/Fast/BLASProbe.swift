/// Times the BLAS calls the fast engine makes, for the benchmark's throughput and efficiency figures.
@_spi(Benchmarks)
public enum BLASProbe {
    /// Median seconds of one `C[m, n] += A[m, k]·B[k, n]` (row-major, GEMV when `m == 1`), exactly as the fast
    /// engine issues its recurrent and input GEMMs. Runs until both minimums are reached.
    public static func gemmSeconds(m: Int, n: Int, k: Int, minimumSeconds: Double = 0.5, minimumRepetitions: Int = 5) -> Double {
        let a = (0..<(m * k)).map { Float($0 % 13) * 0.01 - 0.06 }
        let b = (0..<(k * n)).map { Float($0 % 7) * 0.01 - 0.03 }
        var c = [Float](repeating: 0, count: m * n)
        let clock = ContinuousClock()
        var times: [Double] = []
        let started = clock.now
        a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                c.withUnsafeMutableBufferPointer { cBuffer in
                    guard let a = aBuffer.baseAddress, let b = bBuffer.baseAddress, let c = cBuffer.baseAddress else { return }
                    BLAS.gemm(m, n, k, a, k, b, n, c, n, beta: 1)  // warm-up
                    while times.count < minimumRepetitions || (clock.now - started).seconds < minimumSeconds {
                        let start = clock.now
                        BLAS.gemm(m, n, k, a, k, b, n, c, n, beta: 1)
                        times.append((clock.now - start).seconds)
                        if times.count >= 100_000 { break }
                    }
                }
            }
        }
        times.sort()
        return times[times.count / 2]
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
