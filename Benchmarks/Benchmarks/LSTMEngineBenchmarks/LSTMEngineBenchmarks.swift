// package-benchmark harness: `swift package benchmark` in Benchmarks/.
// Wall clock per forward pass for the issue-4 grid, and malloc counts: the fast engine allocates a fixed number of
// buffers per layer and direction, never inside the time loop, so T = 100 and T = 200 show the same malloc count.
import Benchmark
import BenchmarkSupport
@_spi(Benchmarks) import LSTMEngine

let benchmarks: @Sendable () -> Void = {
    BLASThreads.set(1)
    for hidden in [64, 256, 1024] {
        for batch in [1, 32] {
            for steps in hidden == 64 ? [100, 200] : [100] {
                let workload = Workload(hidden: hidden, batch: batch, steps: steps)
                Benchmark(
                    "fast H=\(hidden) B=\(batch) T=\(steps)",
                    configuration: .init(
                        metrics: [.wallClock, .mallocCountTotal, .throughput], scalingFactor: .one,
                        maxDuration: .seconds(3), maxIterations: hidden == 1024 ? 10 : 1_000)
                ) { benchmark, engine in
                    for _ in benchmark.scaledIterations {
                        blackHole(try engine.run(workload.input))
                    }
                } setup: {
                    try FastEngine(workload.model)
                }
            }
        }
    }
}
