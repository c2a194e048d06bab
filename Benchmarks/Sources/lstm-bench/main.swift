// lstm-bench: the Swift side of the benchmark (issue 4 §6).
//
//   swift run -c release lstm-bench [--threads 1] [--hidden 64 256 1024] [--batch 1 32] [--steps 100]
//                                   [--min-seconds 1] [--repeats 20] [--engine fast|reference]
//                                   [--sgemm-size 2048 (0: skip)] [--sgemm-only] [--profile-runs N]
//
// Prints JSON: per grid cell the median seconds of one forward pass (FastEngine.run on a prepared model) with
// its split into input projection and time loop; this machine's sgemm throughput (square GEMM, --sgemm-size);
// and, per cell, the recurrent-step GEMM alone and the whole recurrent step, each against a square 2048 sgemm
// measured right after them (paired, so that both see the same machine load).
import BenchmarkSupport
import Foundation
import LSTMConv
@_spi(Benchmarks) import LSTMEngine

struct Options {
    var threads = 1
    var hiddens = [64, 256, 1024]
    var batches = [1, 32]
    var steps = 100
    var minimumSeconds = 1.0
    var repeats = 20
    var engine = Engine.fast
    var sgemmSize = 2048
    /// Only run each cell this many times, untimed (for callgrind / perf).
    var profileRuns: Int?

    init(_ commandLine: [String]) {
        var arguments = commandLine
        func values(_ name: String) -> [String] {
            var result: [String] = []
            while let next = arguments.first, !next.hasPrefix("--") {
                result.append(next)
                arguments.removeFirst()
            }
            if result.isEmpty { fail("\(name) needs a value") }
            return result
        }
        func integers(_ name: String) -> [Int] {
            values(name).map { text in
                guard let value = Int(text) else { fail("\(name): \(text) is not an integer") }
                return value
            }
        }
        while let flag = arguments.first {
            arguments.removeFirst()
            switch flag {
            case "--threads": threads = integers(flag)[0]
            case "--hidden": hiddens = integers(flag)
            case "--batch": batches = integers(flag)
            case "--steps": steps = integers(flag)[0]
            case "--repeats": repeats = integers(flag)[0]
            case "--sgemm-size": sgemmSize = integers(flag)[0]  // 0: skip the sgemm probe
            case "--profile-runs": profileRuns = integers(flag)[0]
            case "--sgemm-only": hiddens = []
            case "--min-seconds":
                guard let value = Double(values(flag)[0]) else { fail("--min-seconds needs a number") }
                minimumSeconds = value
            case "--engine":
                guard let value = Engine(rawValue: values(flag)[0]) else { fail("--engine is fast or reference") }
                engine = value
            default: fail("unknown flag \(flag)")
            }
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lstm-bench: \(message)\n".utf8))
    exit(64)
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let (threads, hiddens, batches, steps) = (options.threads, options.hiddens, options.batches, options.steps)
let (minimumSeconds, repeats, engine, sgemmSize) = (options.minimumSeconds, options.repeats, options.engine, options.sgemmSize)

BLASThreads.set(threads)
if let runs = options.profileRuns {
    for hidden in hiddens {
        for batch in batches {
            let workload = Workload(hidden: hidden, batch: batch, steps: steps)
            let prepared: any ForwardPass = engine == .fast ? try FastEngine(workload.model, threads: threads) : try engine.prepare(workload.model)
            for _ in 0..<runs { _ = try prepared.run(workload.input) }
        }
    }
    exit(0)
}
let n = sgemmSize
let sgemmSeconds = n > 0 ? BLASProbe.gemmSeconds(m: n, n: n, k: n, minimumSeconds: minimumSeconds) : .nan
let sgemmGFLOPS = 2.0 * Double(n * n * n) / sgemmSeconds / 1e9
if n > 0 {
    FileHandle.standardError.write(Data(String(format: "sgemm %d³: %.1f GFLOP/s (%d threads)\n", n, sgemmGFLOPS, BLASThreads.count).utf8))
}

var rows: [[String: Any]] = []
for hidden in hiddens {
    for batch in batches {
        let workload = Workload(hidden: hidden, batch: batch, steps: steps)
        let prepared: any ForwardPass = engine == .fast ? try FastEngine(workload.model, threads: threads) : try engine.prepare(workload.model)
        var inputSeconds: [Double] = []
        var loopSeconds: [Double] = []
        let (median, runs) = try medianSeconds(repeats: repeats, minimumSeconds: minimumSeconds) {
            if let fast = prepared as? FastEngine {
                let (_, timings) = try fast.runTimed(workload.input)
                inputSeconds.append(seconds(timings.inputProjection))
                loopSeconds.append(seconds(timings.recurrence))
            } else {
                _ = try prepared.run(workload.input)
            }
        }
        inputSeconds.sort()
        loopSeconds.sort()
        var row: [String: Any] = [
            "framework": "lstmconv-\(engine.rawValue)", "hidden": hidden, "batch": batch, "steps": steps, "input": hidden,
            "threads": threads, "median_seconds": median, "runs": runs, "gflops": workload.flops / median / 1e9,
        ]
        if !loopSeconds.isEmpty {
            let loop = loopSeconds[loopSeconds.count / 2]
            let stepGEMM = BLASProbe.gemmSeconds(m: batch, n: 4 * hidden, k: hidden, minimumSeconds: min(minimumSeconds, 0.5))
            row["input_projection_seconds"] = inputSeconds[inputSeconds.count / 2]
            row["recurrence_seconds"] = loop
            // The whole recurrent step (GEMM + fused gates) and its GEMM alone, against the square sgemm.
            row["step_seconds"] = loop / Double(steps)
            row["step_gflops"] = workload.recurrentStepFlops / (loop / Double(steps)) / 1e9
            row["step_gemm_seconds"] = stepGEMM
            row["step_gemm_gflops"] = workload.recurrentStepFlops / stepGEMM / 1e9
            // This machine's sgemm throughput measured right after, so that both see the same load.
            let square = 2048
            let pairedSeconds = BLASProbe.gemmSeconds(m: square, n: square, k: square, minimumSeconds: min(minimumSeconds, 0.5))
            let paired = 2.0 * Double(square * square * square) / pairedSeconds / 1e9
            row["paired_sgemm_gflops"] = paired
            row["step_efficiency"] = workload.recurrentStepFlops / (loop / Double(steps)) / 1e9 / paired
            row["step_gemm_efficiency"] = workload.recurrentStepFlops / stepGEMM / 1e9 / paired
        }
        rows.append(row)
        FileHandle.standardError.write(Data(String(
            format: "H=%5d B=%3d: %@ %9.3f ms%@\n", hidden, batch, engine.rawValue, median * 1e3,
            (row["step_efficiency"] as? Double).map { String(format: " (recurrent step %.0f%% of sgemm)", $0 * 100) } ?? ""
        ).utf8))
    }
}

let report: [String: Any] = [
    "meta": [
        "threads": threads, "blas_threads": BLASThreads.count, "engine": engine.rawValue, "dtype": "float32",
        "kernel_path": KernelPath.default.description, "cpu": KernelPath.cpuName, "cpu_features": KernelPath.cpuFeatures,
        "workload": "one-layer LSTM, I = H, zero initial states, return_sequences",
        "timed": "median seconds per full forward over T steps (prepared model)",
        "processors": ProcessInfo.processInfo.activeProcessorCount,
    ],
    "sgemm": n > 0 ? ["m": n, "n": n, "k": n, "median_seconds": sgemmSeconds, "gflops": sgemmGFLOPS] : [:],
    "results": rows,
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
print(String(decoding: json, as: UTF8.self))
