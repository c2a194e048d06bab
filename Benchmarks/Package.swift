// swift-tools-version: 6.1
// The lstmconv benchmarks (issue 4 §6): a nested package, so the main package never depends on package-benchmark.
//
//   swift run -c release lstm-bench --threads 1          # grid timings, sgemm throughput, recurrent-step efficiency
//   python3 compare.py --threads 1                       # the same grid in PyTorch and onnxruntime, and the ratios
//   swift package benchmark                              # package-benchmark harness (wall clock, mallocs)
import PackageDescription

let package = Package(
    name: "lstmconv-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "lstmconv", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        /// The workload both executables time: a one-layer LSTM with I = H, two biases, random weights.
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "LSTMConv", package: "lstmconv")],
            path: "Sources/BenchmarkSupport"),
        .executableTarget(name: "lstm-bench", dependencies: ["BenchmarkSupport"], path: "Sources/lstm-bench"),
        .executableTarget(
            name: "LSTMEngineBenchmarks",
            dependencies: ["BenchmarkSupport", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/LSTMEngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ],
    swiftLanguageModes: [.v6]
)
