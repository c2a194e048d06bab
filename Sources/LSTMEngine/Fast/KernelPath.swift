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
    init(_ values: [Float], k: Int, n: Int, into storage: inout PackedStorage) {
        offset = storage.reserve(lstmk_packed_count(k, n))
        self.k = k
        self.n = n
        values.withUnsafeBufferPointer { source in
            storage.withFloats { target in
                guard let from = source.baseAddress, k > 0, n > 0 else { return }
                lstmk_pack(k, n, from, n, target + offset)
            }
        }
    }
}

extension PackedMatrix {
    /// A `[k, n]` packed matrix on the end of `storage` whose columns ``fillTransposed(_:start:column:rows:stride:in:)``
    /// writes, every one of them: only the zero padding of the last panel is written here.
    init(filledLater k: Int, n: Int, into storage: inout PackedStorage) {
        offset = storage.reserve(lstmk_packed_count(k, n))
        self.k = k
        self.n = n
        let (offset, width) = (offset, n % Int(LSTMK_PANEL))
        guard width > 0, k > 0 else { return }
        storage.withFloats { target in
            // The last panel's columns `width ..< 32` of every row.
            let panel = target + offset + (n / Int(LSTMK_PANEL)) * k * Int(LSTMK_PANEL)
            for row in 0..<k { (panel + row * Int(LSTMK_PANEL) + width).update(repeating: 0, count: Int(LSTMK_PANEL) - width) }
        }
    }

    /// Columns `column ..< column + rows` = the transpose of `rows` rows of `source` (row stride `stride`, first
    /// element at `start`).
    func fillTransposed(
        _ source: UnsafeBufferPointer<Float>, start: Int = 0, column: Int, rows: Int, stride: Int, in storage: inout PackedStorage
    ) {
        guard k > 0, rows > 0 else { return }
        precondition(start + (rows - 1) * stride + k <= source.count && column + rows <= n)
        storage.withFloats { to in
            guard let from = source.baseAddress else { return }
            lstmk_pack_transposed(k, column, rows, from + start, stride, to + offset)
        }
    }
}

/// The one float32 buffer a cell's packed weights live in, allocated once at its final size and not zero-filled:
/// each region is written in full by whoever reserves it (a 32 MiB model is packed straight from the file's bytes,
/// with no zeroing pass first).
struct PackedStorage {
    private var values: [Float]
    private var used = 0

    /// Room for `capacity` floats, uninitialised.
    init(capacity: Int) {
        values = [Float](unsafeUninitializedCapacity: capacity) { _, initialized in initialized = capacity }
    }

    /// The offset of `count` floats the caller writes in full.
    mutating func reserve(_ count: Int) -> Int {
        let offset = used
        if used + count > values.count {
            // More than the capacity planned: grow (zero-filled; the callers plan the exact size).
            values.append(contentsOf: repeatElement(0, count: used + count - values.count))
        }
        used += count
        return offset
    }

    /// Appends `source` and returns its offset.
    mutating func append(_ source: [Float]) -> Int {
        let offset = reserve(source.count)
        values.withUnsafeMutableBufferPointer { target in
            guard let base = target.baseAddress else { return }
            source.withUnsafeBufferPointer { from in
                if let from = from.baseAddress { (base + offset).update(from: from, count: source.count) }
            }
        }
        return offset
    }

    /// The whole buffer, for the packing kernels.
    mutating func withFloats(_ body: (UnsafeMutablePointer<Float>) -> Void) {
        values.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress { body(base) }
        }
    }

    /// Whether exactly the planned capacity was reserved (checked in debug builds: every variant plans its size).
    var isExact: Bool { used == values.count }

    /// The buffer. (Any capacity not reserved stays at its end, unused: trimming could copy the whole buffer.)
    consuming func finished() -> [Float] {
        values
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
