import CLSTMKernels
import Foundation
import LSTMModel

// The fast engine's pointer code, in one place: the packed kernels' calls and the fused, vectorised time loops.
// Every buffer is allocated by the caller before a loop starts; nothing inside a time loop allocates.

/// A float32 array of `count` elements that `fill` initialises completely (saves zeroing large buffers).
func uninitializedArray(count: Int, _ fill: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        // Every caller writes every element (the fast-vs-reference tests would see a missed one).
        if let base = buffer.baseAddress, count > 0 { fill(base) }
        initialized = count
    }
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
    /// The step that reads input time `t` (the inverse of ``read(_:)``).
    @inline(__always) func readStep(_ time: Int) -> Int { readsReversed ? steps - 1 - time : time }
}

/// A sequence's rows: time-major `[T, B, F]`, or batch-first `[B, T, F]` (the caller's input, read in place).
struct SequenceRows {
    let values: [Float]
    let batchFirst: Bool
}

/// Buffers one forward pass reuses across its layers and directions: a chunk of input-projected gates, the input
/// rows of a chunk gathered time-major, and the Swift loops' workspace. Grown on demand, never zero-filled (every
/// user writes before it reads), 64-byte aligned, freed with the pass.
final class FastScratch {
    enum Slot: Int, CaseIterable {
        case gates, staging, work
    }

    private var buffers: [(pointer: UnsafeMutableRawPointer?, count: Int)] = Array(repeating: (nil, 0), count: Slot.allCases.count)

    /// At least `count` floats of `slot` (the previous contents are not kept).
    func floats(_ slot: Slot, _ count: Int) -> UnsafeMutablePointer<Float> {
        let current = buffers[slot.rawValue]
        if let pointer = current.pointer, current.count >= count { return pointer.assumingMemoryBound(to: Float.self) }
        current.pointer?.deallocate()
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        buffers[slot.rawValue] = (pointer, count)
        return pointer.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit {
        for buffer in buffers { buffer.pointer?.deallocate() }
    }
}

/// One recurrent direction's run over a whole batch.
struct DirectionRun {
    let cell: FastCell
    let settings: FastSettings
    let order: StepOrder
    let batch: Int
    /// The kernel path and thread budget.
    let kernels: KernelSet
    /// Time-major `[T·B]` (input time order): `false` masks a step (spec/engine.md §5.1). `nil`: every step runs.
    var active: [Bool]? = nil
    /// Masked steps emit zeros instead of the carried STM.
    var zeroMasked = false
    /// Steps per input-projection chunk; `nil`: ``chunkSteps(steps:batch:width:)``.
    var chunk: Int? = nil

    /// Bytes of input-projected gates one chunk aims at: small enough to stay in L2 between its projection and its
    /// steps, and to be page-faulted once per pass instead of `[T, B, G·H]` at once.
    static let chunkBytes = 1 << 20
    /// Fewest rows (steps × batch) one chunk's projection GEMM gets, so that it keeps the large-GEMM efficiency.
    static let chunkMinimumRows = 256

    /// Steps per chunk of the input projection (spec/engine.md §7): about ``chunkBytes`` of gates, at least
    /// ``chunkMinimumRows`` rows, at most the whole direction.
    static func chunkSteps(steps: Int, batch: Int, width: Int) -> Int {
        let perStep = max(batch * width * MemoryLayout<Float>.stride, 1)
        let bySize = chunkBytes / perStep
        let byRows = (chunkMinimumRows + max(batch, 1) - 1) / max(batch, 1)
        return max(1, min(steps, max(bySize, byRows)))
    }

    /// Runs the direction.
    ///
    /// - Parameters:
    ///   - input: the layer's input, `[T, B, I]` or `[B, T, I]`.
    ///   - stm: initial STM `[B, R]` in, final STM out.
    ///   - ltm: initial LTM `[B, H]` in, final LTM out (LSTM; ignored for GRU).
    /// - Returns: every step's STM, time-major `[T, B, R]` (slot = aligned time), and the time spent on the input
    ///   projection and in the time loop.
    func run(
        input: SequenceRows, stm: inout [Float], ltm: inout [Float], scratch: FastScratch
    ) -> (output: [Float], inputProjection: Duration, recurrence: Duration) {
        var unused: DirectionRecord?
        return run(input: input, stm: &stm, ltm: &ltm, scratch: scratch, record: &unused)
    }

    /// Runs the direction; when `record` is not `nil` on entry, it receives every step's gate values.
    ///
    /// The steps run in chunks: per chunk, the input part of every gate of its steps is one GEMM (starting from the
    /// stacked biases) into a reused buffer, then the time loop runs those steps. A trace keeps every gate, so a
    /// traced direction is one chunk.
    func run(
        input: SequenceRows, stm: inout [Float], ltm: inout [Float], scratch: FastScratch, record: inout DirectionRecord?
    ) -> (output: [Float], inputProjection: Duration, recurrence: Duration) {
        let T = order.steps, B = batch, H = cell.H, R = cell.R, I = cell.I
        let width = cell.gates * H
        let rows = T * B
        let clock = ContinuousClock()
        let tracing = record != nil
        let steps = tracing ? max(T, 1) : max(1, min(chunk ?? Self.chunkSteps(steps: T, batch: B, width: width), max(T, 1)))
        // Tracing: every gate `[T, B, G·H]`, every step's STM `[T, B, R]` and (LSTM) LTM, U and unprojected STM
        // `[T, B, H]`, at `read(step)`.
        var tracedGates = [Float](repeating: 0, count: tracing ? rows * width : 0)
        var traced = [Float](repeating: 0, count: tracing ? rows * (R + (cell.gates == 4 ? 3 * H : 0)) : 0)
        let chunkGates = tracing ? nil : scratch.floats(.gates, steps * B * width)
        let staging = input.batchFirst && B > 1 ? scratch.floats(.staging, steps * B * I) : nil
        let standard = isStandardLSTM
        let work = standard ? nil : scratch.floats(.work, 4 * B * max(width, R))
        var projection = Duration.zero, recurrence = Duration.zero
        let output = uninitializedArray(count: rows * R) { y in
            guard T > 0, B > 0 else { return }
            cell.storage.withUnsafeBufferPointer { weightBuffer in
                input.values.withUnsafeBufferPointer { inputBuffer in
                    stm.withUnsafeMutableBufferPointer { stmBuffer in
                        ltm.withUnsafeMutableBufferPointer { ltmBuffer in
                            tracedGates.withUnsafeMutableBufferPointer { tracedGateBuffer in
                                traced.withUnsafeMutableBufferPointer { tracedBuffer in
                                    guard let w = weightBuffer.baseAddress, let x = inputBuffer.baseAddress,
                                        let gx = chunkGates ?? tracedGateBuffer.baseAddress, let h0 = stmBuffer.baseAddress
                                    else { return }
                                    let lstm = cell.gates == 4
                                    let trace = tracedBuffer.isEmpty ? nil : tracedBuffer.baseAddress.map { base in
                                        StepTrace(
                                            STM: base, LTM: lstm ? base + rows * R : nil, U: lstm ? base + rows * (R + H) : nil,
                                            unprojected: lstm ? base + rows * (R + 2 * H) : nil)
                                    }
                                    var first = 0
                                    while first < T {
                                        let last = min(T, first + steps)
                                        // The input times these steps read: one contiguous range from `row0`.
                                        let row0 = order.readsReversed ? T - last : first
                                        let count = (last - first) * B
                                        let started = clock.now
                                        for row in 0..<count { (gx + row * width).update(from: w + cell.bias, count: width) }
                                        var a = UnsafePointer(x + row0 * B * I)
                                        if let staging {
                                            // Batch-first input: this chunk's rows gathered time-major (cache-sized).
                                            for t in 0..<(last - first) {
                                                for b in 0..<B {
                                                    (staging + (t * B + b) * I).update(from: x + (b * T + row0 + t) * I, count: I)
                                                }
                                            }
                                            a = UnsafePointer(staging)
                                        }
                                        kernels.gemm(count, a, I, cell.wxT, in: w, gx, width, accumulate: true)
                                        let projected = clock.now
                                        let previous = first == 0 ? UnsafePointer(h0) : UnsafePointer(y + order.write(first - 1) * B * R)
                                        let span = Chunk(gates: gx, row0: row0, steps: first..<last, previous: previous)
                                        switch cell.gates {
                                        case 4 where standard:
                                            // The common LSTM: the time loop in the C kernels (traced there too, so
                                            // a trace is the run itself).
                                            var arguments = lstmk_lstm_args(
                                                steps: T, batch: B, hidden: H, first: first, last: last, gates: gx, gatesRow: row0,
                                                recurrent: w + cell.whT.offset, stm0: previous, ltm: ltmBuffer.baseAddress, output: y,
                                                traceLTM: trace?.LTM, traceU: trace?.U,
                                                readsReversed: order.readsReversed ? 1 : 0, writesReversed: order.writesReversed ? 1 : 0)
                                            lstmk_lstm_standard(kernels.path.code, Int32(kernels.threads), &arguments)
                                            if let trace {
                                                for step in first..<last {
                                                    trace.STM.advanced(by: order.read(step) * B * R)
                                                        .update(from: y + order.write(step) * B * R, count: B * R)
                                                }
                                            }
                                        case 4:
                                            if let work {
                                                lstmLoop(w: w, span, y: y, c: ltmBuffer.baseAddress, work: work, H: H, R: R, trace: trace)
                                            }
                                        case 1:
                                            rnnLoop(w: w, span, y: y, H: H, trace: trace)
                                        default:
                                            if let work { gruLoop(w: w, span, y: y, work: work, H: H, trace: trace) }
                                        }
                                        projection += projected - started
                                        recurrence += clock.now - projected
                                        first = last
                                    }
                                    // Final STM: the last step's output slot.
                                    h0.update(from: y + order.write(T - 1) * B * R, count: B * R)
                                    if let trace, let active {
                                        // Masked steps computed nothing: their gates are traced as NaN.
                                        for t in 0..<T {
                                            for b in 0..<B where !active[t * B + b] {
                                                (gx + (t * B + b) * width).update(repeating: .nan, count: width)
                                                trace.U?.advanced(by: (t * B + b) * H).update(repeating: .nan, count: H)
                                                trace.unprojected?.advanced(by: (t * B + b) * H).update(repeating: .nan, count: H)
                                            }
                                        }
                                    }
                                    if zeroMasked, let active {
                                        // The slots of masked steps held the carried state for the next step; now zeros.
                                        for t in 0..<T {
                                            for b in 0..<B where !active[t * B + b] {
                                                (y + order.write(order.readStep(t)) * B * R + b * R).update(repeating: 0, count: R)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if tracing { record = DirectionRecord(gates: tracedGates, width: width, traced: traced) }
        return (output, projection, recurrence)
    }

    /// The steps one loop call runs and where their projected gates are.
    struct Chunk {
        /// Gate rows `[B, G·H]` of input times `row0, row0 + 1, …`.
        let gates: UnsafeMutablePointer<Float>
        let row0: Int
        let steps: Range<Int>
        /// STM before `steps.lowerBound`.
        let previous: UnsafePointer<Float>

        /// The gate block step `step` reads.
        @inline(__always) func gates(_ order: StepOrder, _ step: Int, _ rowWidth: Int) -> UnsafeMutablePointer<Float> {
            gates + (order.read(step) - row0) * rowWidth
        }
    }

    /// Sigmoid gates, tanh activations, none of peepholes, clips, projection, masking or the document use gate:
    /// what ``lstmk_lstm_standard`` runs.
    private var isStandardLSTM: Bool {
        let s = settings
        guard cell.gates == 4, active == nil, cell.P == nil, !s.document, s.peepholes == .none, s.gateClip == nil,
            s.cellClip == nil
        else { return false }
        guard case .sigmoid = s.recurrentActivation, case .tanh = s.activation else { return false }
        return true
    }

    private func lstmLoop(
        w: UnsafePointer<Float>, _ chunk: Chunk, y: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>?,
        work: UnsafeMutablePointer<Float>, H: Int, R: Int, trace: StepTrace?
    ) {
        guard let c else { return }
        let B = batch, width = 4 * H
        let s = settings
        let act = s.activation, ract = s.recurrentActivation
        // Workspace: LTM ping-pong partner, unprojected STM, LTM_{t-1}·f_t, the U pre-activations, activation(LTM_t)
        // (each `[B, H]` at most, in blocks of `B·4H`; the last two share one).
        let cOther = work
        let hRaw = work + B * width
        let cf = work + 2 * B * width
        let u = work + 3 * B * width
        let squashed = work + 3 * B * width + B * H
        var cPrev = c
        var cNext = cOther
        let diag = cell.peepholeDiagonal.map { w + $0 }
        let fullIF = cell.peepholeInputForgetT
        let fullV = cell.peepholeUseT
        let wuT = cell.wuT
        let bu = cell.bu.map { w + $0 }
        let wpT = cell.wpT
        let P = cell.P ?? H
        let projected = wpT != nil

        var hPrev = chunk.previous
        for step in chunk.steps {
            let g = chunk.gates(order, step, B * width)
            let slot = y + order.write(step) * B * R
            // Where the unprojected STM goes (row stride H).
            let hOut = projected ? hRaw : slot
            // Recurrent part of every gate: g += STM_{t-1}·W_h^T (+ LTM_{t-1}·[P_i; P_f]^T).
            kernels.gemm(B, hPrev, R, cell.whT, in: w, g, width, accumulate: true)
            if let fullIF { kernels.gemm(B, cPrev, H, fullIF, in: w, g, width, accumulate: true) }
            // learn, forget, remember (rows: i | f | N | V), in the C kernels.
            var remember = lstmk_lstm_remember_args(
                batch: B, hidden: H, gates: g, ltmPrevious: cPrev, ltmNext: cNext, peepholes: diag,
                hasGateClip: s.gateClip == nil ? 0 : 1, hasCellClip: s.cellClip == nil ? 0 : 1, gateClip: s.gateClip ?? 0,
                cellClip: s.cellClip ?? 0, activation: act.kernel, recurrentActivation: ract.kernel,
                forgotten: s.document ? cf : nil)
            lstmk_lstm_remember(kernels.path.code, &remember)
            let traced = order.read(step) * B * H  // this step's rows in the `[T, B, H]` trace buffers
            // use: V_t reads LTM_t (full peepholes need their GEMM first), then STM_t.
            if let fullV { kernels.gemm(B, cNext, H, fullV, in: w, g + 3 * H, width, accumulate: true) }
            if let wuT, let bu {
                for b in 0..<B { (u + b * H).update(from: bu, count: H) }
                kernels.gemm(B, cf, H, wuT, in: w, u, H, accumulate: true)
            }
            var use = lstmk_lstm_use_args(
                batch: B, hidden: H, gates: g, ltm: cNext, peepholes: diag, hasGateClip: s.gateClip == nil ? 0 : 1,
                gateClip: s.gateClip ?? 0, activation: act.kernel, recurrentActivation: ract.kernel, use: s.document ? u : nil,
                squashed: squashed, out: hOut, outStride: H)
            lstmk_lstm_use(kernels.path.code, &use)
            trace?.U?.advanced(by: traced).update(from: s.document ? u : squashed, count: B * H)
            if projected { trace?.unprojected?.advanced(by: traced).update(from: hRaw, count: B * H) }
            if let wpT {
                kernels.gemm(B, hRaw, H, wpT, in: w, slot, P, accumulate: false)
                if let limit = s.projectionClip { lstmk_clip(kernels.path.code, slot, B * P, limit) }
            }
            carryMasked(step: step, hPrev: hPrev, slot: slot, R: R, cPrev: cPrev, cNext: cNext, H: H)
            // The memories after the step (carried over where it is masked).
            trace?.STM.advanced(by: order.read(step) * B * R).update(from: slot, count: B * R)
            trace?.LTM?.advanced(by: traced).update(from: cNext, count: B * H)
            hPrev = UnsafePointer(slot)
            swap(&cPrev, &cNext)
        }
        // Final LTM back into the caller's buffer.
        if cPrev != c { c.update(from: cPrev, count: B * H) }
    }

    /// Masked rows of one step: the state is carried over (the slot gets `STM_{t-1}`, `LTM_t` gets `LTM_{t-1}`).
    @inline(__always) private func carryMasked(
        step: Int, hPrev: UnsafePointer<Float>, slot: UnsafeMutablePointer<Float>, R: Int,
        cPrev: UnsafeMutablePointer<Float>? = nil, cNext: UnsafeMutablePointer<Float>? = nil, H: Int = 0
    ) {
        guard let active else { return }
        let t = order.read(step)
        for b in 0..<batch where !active[t * batch + b] {
            (slot + b * R).update(from: hPrev + b * R, count: R)
            if let cPrev, let cNext { (cNext + b * H).update(from: cPrev + b * H, count: H) }
        }
    }

    /// Plain RNN: `STM_t = activation(gx_t + STM_{t-1}·W_h^T)`, computed in the output slot.
    private func rnnLoop(
        w: UnsafePointer<Float>, _ chunk: Chunk, y: UnsafeMutablePointer<Float>, H: Int, trace: StepTrace?
    ) {
        let B = batch
        let s = settings
        var hPrev = chunk.previous
        for step in chunk.steps {
            let g = chunk.gates(order, step, B * H)
            let slot = y + order.write(step) * B * H
            kernels.gemm(B, hPrev, H, cell.whT, in: w, g, H, accumulate: true)
            if let limit = s.gateClip { lstmk_clip(kernels.path.code, g, B * H, limit) }
            lstmk_activate(kernels.path.code, s.activation.kernel, g, B * H)
            slot.update(from: g, count: B * H)
            carryMasked(step: step, hPrev: hPrev, slot: slot, R: H)
            trace?.STM.advanced(by: order.read(step) * B * H).update(from: slot, count: B * H)
            hPrev = UnsafePointer(slot)
        }
    }

    private func gruLoop(
        w: UnsafePointer<Float>, _ chunk: Chunk, y: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>,
        H: Int, trace: StepTrace?
    ) {
        let B = batch, width = 3 * H
        let s = settings
        let gh = work  // reset after: W_h·STM_{t-1} for all three gates
        let rh = work + B * width  // reset before: r·STM_{t-1}
        guard let whC = cell.whCandidateT else { return }
        let bhc = cell.bhCandidate.map { w + $0 }
        var hPrev = chunk.previous
        for step in chunk.steps {
            let g = chunk.gates(order, step, B * width)
            let slot = y + order.write(step) * B * H
            // The gate math in the C kernels (update gate, reset gate, candidate, combine).
            var gates = lstmk_gru_args(
                batch: B, hidden: H, gates: g, recurrent: gh, candidateBias: bhc, previous: hPrev, out: slot,
                resetPrevious: rh, hasGateClip: s.gateClip == nil ? 0 : 1, gateClip: s.gateClip ?? 0,
                activation: s.activation.kernel, recurrentActivation: s.recurrentActivation.kernel)
            switch s.resetMode {
            case .after:
                kernels.gemm(B, hPrev, H, cell.whT, in: w, gh, width, accumulate: false)
                kernels.gemm(B, hPrev, H, whC, in: w, gh + 2 * H, width, accumulate: false)
                lstmk_gru_after(kernels.path.code, &gates)
            case .before:
                kernels.gemm(B, hPrev, H, cell.whT, in: w, g, width, accumulate: true)
                lstmk_gru_gates(kernels.path.code, &gates)  // z, r activated; rh = r·STM_{t-1}
                kernels.gemm(B, rh, H, whC, in: w, g + 2 * H, width, accumulate: true)
                lstmk_gru_output(kernels.path.code, &gates)
            }
            carryMasked(step: step, hPrev: hPrev, slot: slot, R: H)
            trace?.STM.advanced(by: order.read(step) * B * H).update(from: slot, count: B * H)
            hPrev = UnsafePointer(slot)
        }
    }
}

/// What a traced direction run keeps: every gate activation and the per-step memories.
struct DirectionRecord {
    /// Time-major `[T, B, G·H]` at `read(step)`: the activated gates (LSTM `i, f, N, V`; GRU `z, r, c`); NaN at
    /// masked steps.
    let gates: [Float]
    /// `G·H`, the row width of `gates`.
    let width: Int
    /// Time-major at `read(step)`: STM `[T, B, R]`, then for an LSTM `LTM`, `U` and the unprojected STM `[T, B, H]`.
    let traced: [Float]
}

/// Where the loops copy each step's traced values (time-major rows at `read(step)`).
struct StepTrace {
    let STM: UnsafeMutablePointer<Float>
    let LTM: UnsafeMutablePointer<Float>?
    let U: UnsafeMutablePointer<Float>?
    let unprojected: UnsafeMutablePointer<Float>?
}

/// Dense layer rows: `out[rows, units] = activation(x[rows, F]·W_d^T + b_d)`.
func denseRows(_ dense: FastDense, input: [Float], rows: Int, kernels: KernelSet) -> [Float] {
    var output = [Float](repeating: 0, count: rows * dense.units)
    guard rows > 0 else { return output }
    let units = dense.units
    output.withUnsafeMutableBufferPointer { outputBuffer in
        input.withUnsafeBufferPointer { inputBuffer in
            dense.storage.withUnsafeBufferPointer { weightBuffer in
                dense.bias.withUnsafeBufferPointer { biasBuffer in
                    guard let out = outputBuffer.baseAddress, let x = inputBuffer.baseAddress,
                        let weights = weightBuffer.baseAddress, let bias = biasBuffer.baseAddress
                    else { return }
                    for row in 0..<rows { (out + row * units).update(from: bias, count: units) }
                    kernels.gemm(rows, x, dense.inputs, dense.wdT, in: weights, out, units, accumulate: true)
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
            if let base = buffer.baseAddress { activation.apply(base, buffer.count, path: kernels.path) }
        }
    }
    return output
}

/// `[B, T, F]` → `[T, B, F]` (`[T, B, F]` → `[B, T, F]` with `B` and `T` swapped).
func swapLeadingAxes(_ values: [Float], _ first: Int, _ second: Int, _ features: Int) -> [Float] {
    if first == 1 || second == 1 { return values }
    return values.withUnsafeBufferPointer { source in
        uninitializedArray(count: values.count) { target in
            guard let source = source.baseAddress else { return }
            for i in 0..<first {
                for j in 0..<second {
                    (target + (j * first + i) * features).initialize(from: source + (i * second + j) * features, count: features)
                }
            }
        }
    }
}

/// The values widened to float64 (exactly), in a vectorisable loop.
func widened(_ values: [Float]) -> [Double] {
    values.withUnsafeBufferPointer { source in
        [Double](unsafeUninitializedCapacity: values.count) { target, initialized in
            if let from = source.baseAddress, let to = target.baseAddress {
                for k in 0..<values.count { (to + k).initialize(to: Double(from[k])) }
            }
            initialized = values.count
        }
    }
}
