import CLSTMKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The instruction-set path of the fast engine's kernels (spec/engine.md §7.1), chosen at run time from the CPU's
/// features (CPUID and XGETBV on x86-64), never from its model name.
public enum KernelPath: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Portable C vectors: SSE2 on x86-64, NEON on arm64.
    case generic
    /// AVX2 + FMA.
    case avx2
    /// AVX-512 F + VL + FMA.
    case avx512

    /// Whether this CPU and operating system can run the path.
    public var isSupported: Bool { lstmk_path_supported(code) != 0 }

    /// The fastest path this CPU supports.
    public static var best: KernelPath { KernelPath(code: lstmk_best_path()) }

    /// Every path this CPU supports, slowest first.
    public static var supported: [KernelPath] { allCases.filter(\.isSupported) }

    /// The path engines use unless told otherwise: `LSTMCONV_KERNEL=generic|avx2|avx512` when it names a supported
    /// path, else ``best``. Read once per process.
    public static let `default`: KernelPath = {
        if let name = getenv("LSTMCONV_KERNEL").map({ String(cString: $0) }), let path = KernelPath(rawValue: name),
            path.isSupported
        {
            return path
        }
        return best
    }()

    /// How many threads a fast engine may use: `LSTMCONV_THREADS` (1…64) when set, else the online processors, at
    /// most 2 (the configuration measured in Benchmarks/RESULTS.md). Read once per process.
    public static let defaultThreads: Int = {
        if let text = getenv("LSTMCONV_THREADS").map({ String(cString: $0) }), let count = Int(text), (1...64).contains(count) {
            return count
        }
        return min(max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1), 2)
    }()

    /// The name printed by `lstmconv run --verbose` ("neon" for the generic path on arm64).
    public var description: String { String(cString: lstmk_path_name(code)) }

    /// The CPU features the dispatch looked at, e.g. `sse2 avx avx2 fma avx512f avx512bw avx512vl`.
    public static var cpuFeatures: String { String(cString: lstmk_cpu_features()) }

    /// The CPU's brand string, or an empty string where the CPU does not report one.
    public static var cpuName: String { String(cString: lstmk_cpu_brand()) }

    var code: Int32 {
        switch self {
        case .generic: Int32(LSTMK_GENERIC)
        case .avx2: Int32(LSTMK_AVX2)
        case .avx512: Int32(LSTMK_AVX512)
        }
    }

    init(code: Int32) {
        self = switch code {
        case Int32(LSTMK_AVX512): .avx512
        case Int32(LSTMK_AVX2): .avx2
        default: .generic
        }
    }
}

/// A row-major `[k, n]` matrix packed once into 32-column panels, located in a cell's storage.
struct PackedMatrix: Sendable {
    let offset: Int
    let k: Int, n: Int

    /// Packs `values [k, n]` (row-major) onto the end of `storage`.
    init(_ values: [Float], k: Int, n: Int, into storage: inout [Float]) {
        offset = storage.count
        self.k = k
        self.n = n
        let count = lstmk_packed_count(k, n)
        storage.append(contentsOf: repeatElement(0, count: count))
        values.withUnsafeBufferPointer { source in
            storage.withUnsafeMutableBufferPointer { target in
                guard let from = source.baseAddress, let to = target.baseAddress, count > 0 else { return }
                lstmk_pack(k, n, from, n, to + offset)
            }
        }
    }
}

extension PackedMatrix {
    /// A zero `[k, n]` packed matrix on the end of `storage`, filled by ``fillTransposed(_:column:rows:stride:in:)``.
    init(zeros k: Int, n: Int, into storage: inout [Float]) {
        offset = storage.count
        self.k = k
        self.n = n
        storage.append(contentsOf: repeatElement(0, count: lstmk_packed_count(k, n)))
    }

    /// Columns `column ..< column + rows` = the transpose of `rows` rows of `source` (row stride `stride`, first
    /// element at `start`).
    func fillTransposed(
        _ source: UnsafeBufferPointer<Float>, start: Int = 0, column: Int, rows: Int, stride: Int, in storage: inout [Float]
    ) {
        guard k > 0, rows > 0 else { return }
        precondition(start + (rows - 1) * stride + k <= source.count && column + rows <= n)
        storage.withUnsafeMutableBufferPointer { to in
            guard let from = source.baseAddress, let to = to.baseAddress else { return }
            lstmk_pack_transposed(k, column, rows, from + start, stride, to + offset)
        }
    }
}

/// Floats a packed `[k, n]` matrix takes.
func packedCount(_ k: Int, _ n: Int) -> Int { lstmk_packed_count(k, n) }

/// The kernels a prepared fast engine calls: one path, one thread budget.
struct KernelSet: Sendable {
    let path: KernelPath
    let threads: Int

    /// `c[m, n] (+)= a[m, k] · B` with `B` packed in `weights`.
    @inline(__always)
    func gemm(
        _ m: Int, _ a: UnsafePointer<Float>, _ lda: Int, _ b: PackedMatrix, in weights: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, accumulate: Bool
    ) {
        guard m > 0, b.n > 0 else { return }
        lstmk_gemm(path.code, Int32(threads), m, b.n, b.k, a, lda, weights + b.offset, c, ldc, accumulate ? 1 : 0)
    }
}
