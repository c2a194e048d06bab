import CCBLAS
import Foundation
import LSTMModel

// The fast engine's pointer code, in one place: the BLAS calls and the fused, vectorised time loops.
// Every buffer is allocated by the caller before a loop starts; nothing inside a time loop allocates.

/// Row-major BLAS calls on float32.
enum BLAS {
    /// `C[m, n] = A[m, k]·B[k, n] + beta·C` (no transposes; GEMV when `m == 1`).
    @inline(__always)
    static func gemm(
        _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ lda: Int,
        _ b: UnsafePointer<Float>, _ ldb: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int, beta: Float
    ) {
        guard m > 0, n > 0 else { return }
        if m == 1 {
            // y[n] = B^T·x: row-major `Trans` GEMV walks B [k, n] row by row, the fast direction.
            if beta == 0 { c.update(repeating: 0, count: n) }
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(k), Int32(n), 1, b, Int32(ldb), a, 1, beta == 0 ? 1 : beta, c, 1)
        } else {
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        }
    }
}

/// The BLAS library's thread count (OpenBLAS; a no-op on Accelerate, which manages its own threads).
public enum BLASThreads {
    /// Sets how many threads BLAS calls may use.
    public static func set(_ count: Int) {
        #if !canImport(Accelerate)
        openblas_set_num_threads(Int32(max(1, min(count, 1024))))
        #endif
    }

    /// How many threads BLAS calls may use (1 where unknown).
    public static var count: Int {
        #if canImport(Accelerate)
        return 1
        #else
        return Int(openblas_get_num_threads())
        #endif
    }
}

@inline(__always)
private func load(_ pointer: UnsafePointer<Float>, _ count: Int) -> Lanes {
    if count >= 8 { return UnsafeRawPointer(pointer).loadUnaligned(as: Lanes.self) }
    var lanes = Lanes(repeating: 0)
    for k in 0..<count { lanes[k] = pointer[k] }
    return lanes
}

@inline(__always)
private func store(_ lanes: Lanes, _ pointer: UnsafeMutablePointer<Float>, _ count: Int) {
    if count >= 8 {
        UnsafeMutableRawPointer(pointer).storeBytes(of: lanes, as: Lanes.self)
    } else {
        for k in 0..<count { pointer[k] = lanes[k] }
    }
}

@inline(__always)
private func clip(_ lanes: Lanes, _ limit: Float?) -> Lanes {
    guard let limit else { return lanes }
    return VectorMath.clamp(lanes, -limit, limit)
}

/// Which input row a step reads and which output slot it writes (spec/engine.md §5).
struct StepOrder {
    let steps: Int
    let readsReversed: Bool
    let writesReversed: Bool

    init(steps: Int, direction: Int, goBackwards: Bool) {
        self.steps = steps
        // The backward direction reads the layer's input reversed; go_backwards reverses that input once more.
        readsReversed = (direction == 1) != goBackwards
        // The backward direction's outputs are re-reversed; go_backwards keeps its reversed order.
        writesReversed = direction == 1
    }

    @inline(__always) func read(_ step: Int) -> Int { readsReversed ? steps - 1 - step : step }
    @inline(__always) func write(_ step: Int) -> Int { writesReversed ? steps - 1 - step : step }
}

/// One recurrent direction's run over a whole batch.
struct DirectionRun {
    let cell: FastCell
    let settings: FastSettings
    let order: StepOrder
    let batch: Int

    /// Runs the direction.
    ///
    /// - Parameters:
    ///   - input: the layer's input, time-major `[T, B, I]`.
    ///   - output: receives every step's STM, time-major `[T, B, R]` (slot = aligned time).
    ///   - stm: initial STM `[B, R]` in, final STM out.
    ///   - ltm: initial LTM `[B, H]` in, final LTM out (LSTM; ignored for GRU).
    /// - Returns: the time spent on the input projection and in the time loop.
    @discardableResult
    func run(
        input: [Float], output: inout [Float], stm: inout [Float], ltm: inout [Float]
    ) -> (inputProjection: Duration, recurrence: Duration) {
        let T = order.steps, B = batch, H = cell.H, R = cell.R, I = cell.I
        let width = cell.gates * H
        // The input part of every gate for every step: one GEMM, starting from the stacked biases.
        var gx = [Float](repeating: 0, count: T * B * width)
        // Scratch for the loop, allocated here, once.
        var workspace = [Float](repeating: 0, count: 6 * B * max(width, R))
        guard T > 0, B > 0 else { return (.zero, .zero) }
        let clock = ContinuousClock()
        var phases: (inputProjection: Duration, recurrence: Duration) = (.zero, .zero)
        cell.storage.withUnsafeBufferPointer { weightBuffer in
            input.withUnsafeBufferPointer { inputBuffer in
                gx.withUnsafeMutableBufferPointer { gxBuffer in
                    output.withUnsafeMutableBufferPointer { outputBuffer in
                        stm.withUnsafeMutableBufferPointer { stmBuffer in
                            ltm.withUnsafeMutableBufferPointer { ltmBuffer in
                                workspace.withUnsafeMutableBufferPointer { workBuffer in
                                    guard let w = weightBuffer.baseAddress, let x = inputBuffer.baseAddress,
                                        let gx = gxBuffer.baseAddress, let y = outputBuffer.baseAddress,
                                        let h0 = stmBuffer.baseAddress, let work = workBuffer.baseAddress
                                    else { return }
                                    let start = clock.now
                                    let rows = T * B
                                    for row in 0..<rows { (gx + row * width).update(from: w + cell.bias, count: width) }
                                    BLAS.gemm(rows, width, I, x, I, w + cell.wxT, width, gx, width, beta: 1)
                                    let projected = clock.now
                                    switch cell.gates {
                                    case 4:
                                        lstmLoop(w: w, gx: gx, y: y, h0: h0, c: ltmBuffer.baseAddress, work: work, H: H, R: R)
                                    default:
                                        gruLoop(w: w, gx: gx, y: y, h0: h0, work: work, H: H)
                                    }
                                    // Final STM: the last step's output slot.
                                    h0.update(from: y + order.write(T - 1) * B * R, count: B * R)
                                    phases = (projected - start, clock.now - projected)
                                }
                            }
                        }
                    }
                }
            }
        }
        return phases
    }

    // swiftlint:disable:next function_body_length
    private func lstmLoop(
        w: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
        h0: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?, work: UnsafeMutablePointer<Float>,
        H: Int, R: Int
    ) {
        guard let c else { return }
        let T = order.steps, B = batch, width = 4 * H
        let s = settings
        let act = s.activation, ract = s.recurrentActivation
        // Workspace: LTM ping-pong partner, unprojected STM, LTM_{t-1}·f_t, the U pre-activation.
        let cOther = work
        let hRaw = work + B * width
        let cf = work + 2 * B * width
        let u = work + 3 * B * width
        var cPrev = c
        var cNext = cOther
        let diag = cell.peepholeDiagonal.map { w + $0 }
        let fullIF = cell.peepholeInputForgetT.map { w + $0 }
        let fullV = cell.peepholeUseT.map { w + $0 }
        let wuT = cell.wuT.map { w + $0 }
        let bu = cell.bu.map { w + $0 }
        let wpT = cell.wpT.map { w + $0 }
        let P = cell.P ?? H
        // V and STM can be computed in the first pass unless they need a GEMM first (full P_v, document U).
        let fusedUse = fullV == nil && !s.document
        // Where the unprojected STM goes, and its row stride.
        let projected = wpT != nil

        var hPrev = UnsafePointer(h0)
        for step in 0..<T {
            let g = gx + order.read(step) * B * width
            let slot = y + order.write(step) * B * R
            let hOut = projected ? hRaw : slot
            BLAS.gemm(B, width, R, hPrev, R, w + cell.whT, width, g, width, beta: 1)
            if let fullIF { BLAS.gemm(B, 2 * H, H, cPrev, H, fullIF, 2 * H, g, width, beta: 1) }
            for b in 0..<B {
                let gRow = g + b * width
                let cRow = cPrev + b * H
                let nextRow = cNext + b * H
                var j = 0
                while j < H {
                    let n = min(8, H - j)
                    let cp = load(cRow + j, n)
                    var zi = load(gRow + j, n)
                    var zf = load(gRow + H + j, n)
                    let zn = load(gRow + 2 * H + j, n)
                    if let diag {
                        zi += load(diag + j, n) * cp
                        zf += load(diag + H + j, n) * cp
                    }
                    let i = ract(clip(zi, s.gateClip))
                    let f = ract(clip(zf, s.gateClip))
                    let N = act(clip(zn, s.gateClip))
                    let cNew = clip(cp * f + N * i, s.cellClip)
                    store(cNew, nextRow + j, n)
                    if s.document { store(cp * f, cf + b * H + j, n) }
                    if fusedUse {
                        var zv = load(gRow + 3 * H + j, n)
                        if let diag { zv += load(diag + 2 * H + j, n) * cNew }
                        let v = ract(clip(zv, s.gateClip))
                        store(v * act(cNew), hOut + b * H + j, n)
                    }
                    j += 8
                }
            }
            if !fusedUse {
                if let fullV { BLAS.gemm(B, H, H, cNext, H, fullV, H, g + 3 * H, width, beta: 1) }
                if let wuT, let bu {
                    for b in 0..<B { (u + b * H).update(from: bu, count: H) }
                    BLAS.gemm(B, H, H, cf, H, wuT, H, u, H, beta: 1)
                }
                for b in 0..<B {
                    let gRow = g + b * width
                    let nextRow = cNext + b * H
                    var j = 0
                    while j < H {
                        let n = min(8, H - j)
                        let cNew = load(nextRow + j, n)
                        var zv = load(gRow + 3 * H + j, n)
                        if let diag { zv += load(diag + 2 * H + j, n) * cNew }
                        let v = ract(clip(zv, s.gateClip))
                        if s.document {
                            store(act(load(u + b * H + j, n)) * v, hOut + b * H + j, n)
                        } else {
                            store(v * act(cNew), hOut + b * H + j, n)
                        }
                        j += 8
                    }
                }
            }
            if let wpT {
                BLAS.gemm(B, P, H, hRaw, H, wpT, P, slot, P, beta: 0)
                if let limit = s.projectionClip {
                    for k in 0..<(B * P) { slot[k] = min(max(slot[k], -limit), limit) }
                }
            }
            hPrev = UnsafePointer(slot)
            swap(&cPrev, &cNext)
        }
        // Final LTM back into the caller's buffer.
        if cPrev != c { c.update(from: cPrev, count: B * H) }
    }

    private func gruLoop(
        w: UnsafePointer<Float>, gx: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
        h0: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>, H: Int
    ) {
        let T = order.steps, B = batch, width = 3 * H
        let s = settings
        let act = s.activation, ract = s.recurrentActivation
        let gh = work  // reset after: W_h·STM_{t-1} for all three gates
        let rh = work + B * width  // reset before: r·STM_{t-1}
        let whT = w + cell.whT
        let bhc = cell.bhCandidate.map { w + $0 }
        var hPrev = UnsafePointer(h0)
        for step in 0..<T {
            let g = gx + order.read(step) * B * width
            let slot = y + order.write(step) * B * H
            switch s.resetMode {
            case .after:
                BLAS.gemm(B, width, H, hPrev, H, whT, width, gh, width, beta: 0)
                for b in 0..<B {
                    let gRow = g + b * width, hRow = gh + b * width
                    var j = 0
                    while j < H {
                        let n = min(8, H - j)
                        let z = ract(clip(load(gRow + j, n) + load(hRow + j, n), s.gateClip))
                        let r = ract(clip(load(gRow + H + j, n) + load(hRow + H + j, n), s.gateClip))
                        var recurrent = load(hRow + 2 * H + j, n)
                        if let bhc { recurrent += load(bhc + j, n) }
                        let candidate = act(clip(load(gRow + 2 * H + j, n) + r * recurrent, s.gateClip))
                        let previous = load(hPrev + b * H + j, n)
                        store(z * previous + (1 - z) * candidate, slot + b * H + j, n)
                        j += 8
                    }
                }
            case .before:
                BLAS.gemm(B, 2 * H, H, hPrev, H, whT, width, g, width, beta: 1)
                for b in 0..<B {
                    let gRow = g + b * width
                    var j = 0
                    while j < H {
                        let n = min(8, H - j)
                        store(ract(clip(load(gRow + j, n), s.gateClip)), gRow + j, n)  // z, kept for below
                        let r = ract(clip(load(gRow + H + j, n), s.gateClip))
                        store(r * load(hPrev + b * H + j, n), rh + b * H + j, n)
                        j += 8
                    }
                }
                BLAS.gemm(B, H, H, rh, H, whT + 2 * H, width, g + 2 * H, width, beta: 1)
                for b in 0..<B {
                    let gRow = g + b * width
                    var j = 0
                    while j < H {
                        let n = min(8, H - j)
                        let z = load(gRow + j, n)
                        let candidate = act(clip(load(gRow + 2 * H + j, n), s.gateClip))
                        let previous = load(hPrev + b * H + j, n)
                        store(z * previous + (1 - z) * candidate, slot + b * H + j, n)
                        j += 8
                    }
                }
            }
            hPrev = UnsafePointer(slot)
        }
    }
}

/// Dense layer rows: `out[rows, units] = activation(x[rows, F]·W_d^T + b_d)`.
func denseRows(_ dense: FastDense, input: [Float], rows: Int) -> [Float] {
    var output = [Float](repeating: 0, count: rows * dense.units)
    guard rows > 0 else { return output }
    let units = dense.units
    output.withUnsafeMutableBufferPointer { outputBuffer in
        input.withUnsafeBufferPointer { inputBuffer in
            dense.wdT.withUnsafeBufferPointer { weightBuffer in
                dense.bias.withUnsafeBufferPointer { biasBuffer in
                    guard let out = outputBuffer.baseAddress, let x = inputBuffer.baseAddress,
                        let wdT = weightBuffer.baseAddress, let bias = biasBuffer.baseAddress
                    else { return }
                    for row in 0..<rows { (out + row * units).update(from: bias, count: units) }
                    BLAS.gemm(rows, units, dense.inputs, x, dense.inputs, wdT, units, out, units, beta: 1)
                }
            }
        }
    }
    switch dense.activation {
    case .linear:
        break
    case .softmax:
        for row in 0..<rows {
            let range = (row * units)..<((row + 1) * units)
            let largest = output[range].max() ?? 0
            var total: Float = 0
            for k in range {
                output[k] = Float(Foundation.exp(Double(output[k] - largest)))
                total += output[k]
            }
            for k in range { output[k] /= total }
        }
    default:
        let activation = LaneActivation(dense.activation)
        output.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var k = 0
            while k < buffer.count {
                let n = min(8, buffer.count - k)
                store(activation(load(base + k, n)), base + k, n)
                k += 8
            }
        }
    }
    return output
}
