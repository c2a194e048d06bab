import LSTMModel

/// The float32 engine on the packed kernels of `CLSTMKernels` (spec/engine.md §7). Same semantics and API as
/// ``ReferenceEngine``; agrees with it to 1e-5.
///
/// Internally every sequence is time-major (`[T, B, F]`), so that one time step of a batch is one contiguous
/// block: the input projection of all steps is one GEMM and each step's recurrent product is one more.
public struct FastEngine: ForwardPass {
    /// The model this pass runs.
    public let model: Model
    /// The instruction-set path its kernels run.
    public let kernelPath: KernelPath
    /// How many threads one product may use.
    public let threads: Int
    /// Steps per input-projection chunk (tests force small chunks); `nil`: sized by ``DirectionRun/chunkSteps(steps:batch:width:)``.
    var chunkSteps: Int?
    private let layers: [FastLayer]
    private var kernels: KernelSet { KernelSet(path: kernelPath, threads: threads) }

    /// Validates `model`, then stacks, transposes and packs its weights once.
    ///
    /// - Parameters:
    ///   - model: the model to run.
    ///   - kernels: the instruction-set path; an unsupported one runs ``KernelPath/best``.
    ///   - threads: threads per product (1…64), split over 32-column panels of large products only.
    public init(_ model: Model, kernels: KernelPath = .default, threads: Int = KernelPath.defaultThreads) throws(EngineError) {
        self.model = try validatedModel(model)
        kernelPath = kernels.isSupported ? kernels : .best
        self.threads = min(max(threads, 1), 64)
        var layers: [FastLayer] = []
        for (index, layer) in model.layers.enumerated() {
            do {
                layers.append(try FastLayer(layer))
            } catch {
                throw EngineError(.invalidModel, "cannot read the layer's tensors", keyPath: "layer_\(index)", underlying: error)
            }
        }
        self.layers = layers
    }

    /// Runs the prepared model on a batch in float32; missing initial states are zeros, `lengths` limit sequences.
    public func run(
        _ input: ForwardInput, initialStates: [StateKey: CellState], lengths: [Int]?
    ) throws(EngineError) -> ForwardResult {
        var timings = FastEngineTimings()
        var unused: [DirectionTrace]?
        return try forward(input, initialStates: initialStates, lengths: lengths, timings: &timings, trace: &unused)
    }

    /// Runs the model and records every gate value of every recurrent layer and direction (spec/engine.md §9),
    /// as the fused loops compute them.
    public func trace(
        _ input: ForwardInput, initialStates: [StateKey: CellState] = [:], lengths: [Int]? = nil
    ) throws(EngineError) -> GateTrace {
        var timings = FastEngineTimings()
        var directions: [DirectionTrace]? = []
        let result = try forward(input, initialStates: initialStates, lengths: lengths, timings: &timings, trace: &directions)
        return GateTrace(result: result, directions: directions ?? [])
    }

    /// Runs the model and reports where the time went (for the benchmark; the result is the same as ``run(_:initialStates:)``).
    @_spi(Benchmarks)
    public func runTimed(
        _ input: ForwardInput, initialStates: [StateKey: CellState] = [:]
    ) throws(EngineError) -> (result: ForwardResult, timings: FastEngineTimings) {
        var timings = FastEngineTimings()
        let clock = ContinuousClock()
        let start = clock.now
        var unused: [DirectionTrace]?
        let result = try forward(input, initialStates: initialStates, lengths: nil, timings: &timings, trace: &unused)
        timings.total = clock.now - start
        return (result, timings)
    }

    /// The forward pass; appends to `trace` when it is not `nil`.
    private func forward(
        _ input: ForwardInput, initialStates: [StateKey: CellState], lengths: [Int]?, timings: inout FastEngineTimings,
        trace: inout [DirectionTrace]?
    ) throws(EngineError) -> ForwardResult {
        let checked = try checkInput(input, model: model)
        let B = checked.batch
        try checkInitialStates(initialStates, model: model, batch: B)
        // Masked steps (spec/engine.md §5.1), time-major `[T·B]`, carried while the flow is a sequence.
        let stepMask = try inputMask(checked, model: model, lengths: lengths)
        var active: [Bool]?
        switch checked {
        case .tokens(_, _, let T), .sequence(_, _, let T, _): active = stepMask?.timeMajor(steps: T)
        case .vectors: active = nil
        }

        var flow: Flow
        switch checked {
        case .tokens(let ids, _, let T):
            flow = .tokens(ids: ids, T: T)
        case .sequence(let input, _, let T, let F):
            guard T.multipliedReportingOverflow(by: B).partialValue <= Int(Int32.max) else {
                throw EngineError(.invalidInput, "batch × time is too large for BLAS", keyPath: "input", actualShape: input.shape)
            }
            // Read batch-first in place: each projection chunk gathers its rows time-major (B = 1: the same layout).
            flow = .sequence(input.floats, T: T, F: F, batchFirst: B > 1)
        case .vectors(let input, _, let F):
            flow = .vectors(input.floats, F: F)
        }

        var finalStates: [StateKey: CellState] = [:]
        let scratch = FastScratch()
        for (index, layer) in layers.enumerated() {
            switch (layer, flow) {
            case (.embedding(let table, let size), .tokens(let ids, let T)):
                // Time-major rows of W_e.
                var values = [Float](repeating: 0, count: T * B * size)
                for t in 0..<T {
                    for b in 0..<B {
                        let id = ids[b * T + t]
                        values.replaceSubrange(((t * B + b) * size)..<((t * B + b + 1) * size), with: table[(id * size)..<((id + 1) * size)])
                    }
                }
                flow = .sequence(values, T: T, F: size, batchFirst: false)
            case (.dense(let dense), .sequence(let values, let T, _, let batchFirst)):
                // Row by row: the layout is kept.
                flow = .sequence(denseRows(dense, input: values, rows: T * B, kernels: kernels), T: T, F: dense.units, batchFirst: batchFirst)
            case (.dense(let dense), .vectors(let values, _)):
                active = nil
                flow = .vectors(denseRows(dense, input: values, rows: B, kernels: kernels), F: dense.units)
            case (.recurrent(let layer, let settings, let cells), .sequence(let values, let T, _, let batchFirst)):
                var outputs: [[Float]] = []
                var finals: [[Float]] = []
                for (d, cell) in cells.enumerated() {
                    let key = StateKey(layer: index, direction: Direction.allCases[d])
                    var stm = initialStates[key].map { $0.STM.scalars.map(Float.init) }
                        ?? [Float](repeating: 0, count: B * layer.recurrentSize)
                    var ltm = layer.cell != .lstm
                        ? []
                        : initialStates[key]?.LTM.map { $0.scalars.map(Float.init) }
                            ?? [Float](repeating: 0, count: B * layer.hiddenSize)
                    let order = StepOrder(steps: T, direction: d, goBackwards: layer.goBackwards)
                    let run = DirectionRun(
                        cell: cell, settings: settings, order: order, batch: B, kernels: kernels,
                        active: active, zeroMasked: stepMask?.zeros(for: layer) ?? false, chunk: chunkSteps)
                    var record: DirectionRecord? = trace == nil ? nil : DirectionRecord(gates: [], width: 0, traced: [])
                    let phases = run.run(
                        input: SequenceRows(values: values, batchFirst: batchFirst), stm: &stm, ltm: &ltm, scratch: scratch,
                        record: &record)
                    if let record {
                        trace?.append(traced(record, layer: layer, key: key, order: order, B: B))
                    }
                    let output = phases.output
                    timings.inputProjection += phases.inputProjection
                    timings.recurrence += phases.recurrence
                    finalStates[key] = CellState(
                        STM: NDArray(unchecked: [B, layer.recurrentSize], widened(stm)),
                        LTM: layer.cell != .lstm ? nil : NDArray(unchecked: [B, layer.hiddenSize], widened(ltm)))
                    outputs.append(output)
                    finals.append(stm)
                }
                let R = layer.recurrentSize
                if layer.returnSequences {
                    flow = .sequence(
                        merge(outputs, rows: T * B, width: R, mode: layer.mergeMode), T: T, F: layer.outputSize, batchFirst: false)
                } else if layer.finalOutput == .lastStep {
                    // PyTorch `output[:, -1]`: the merged output's last time-major block (zeros when T = 0).
                    let F = layer.outputSize
                    let merged = merge(outputs, rows: T * B, width: R, mode: layer.mergeMode)
                    flow = .vectors(T == 0 ? [Float](repeating: 0, count: B * F) : Array(merged[((T - 1) * B * F)...]), F: F)
                } else {
                    flow = .vectors(merge(finals, rows: B, width: R, mode: layer.mergeMode), F: layer.outputSize)
                }
                if !layer.returnSequences { active = nil }
            case (.recurrent, _):
                throw EngineError(.invalidInput, "a recurrent layer needs a sequence; the previous layer returns vectors", keyPath: "layer_\(index)")
            default:
                throw EngineError(.invalidInput, "the layer cannot take the previous layer's output", keyPath: "layer_\(index)")
            }
        }

        let output: ForwardResult.Values
        switch flow {
        case .sequence(let values, let T, let F, let batchFirst):
            output = .float32(NDArray(unchecked: [B, T, F], batchFirst ? values : swapLeadingAxes(values, T, B, F)))
        case .vectors(let values, let F):
            output = .float32(NDArray(unchecked: [B, F], values))
        case .tokens(let ids, let T):
            output = .float64(NDArray(unchecked: [B, T], ids.map(Double.init)))
        }
        return ForwardResult(values: output, finalStates: finalStates)
    }
}

/// A direction's trace from the fused loops' buffers: every array `[T, B, ·]` → `[B, T, ·]`.
private func traced(_ record: DirectionRecord, layer: RecurrentLayer, key: StateKey, order: StepOrder, B: Int) -> DirectionTrace {
    let T = order.steps, H = layer.hiddenSize, R = layer.recurrentSize
    /// Columns `offset ..< offset + size` of a time-major `[T, B, width]` buffer slice, as `[B, T, size]`.
    func columns(_ values: ArraySlice<Float>, width: Int, offset: Int, size: Int) -> NDArray<Float> {
        var result = [Float](repeating: 0, count: B * T * size)
        let base = values.startIndex
        for t in 0..<T {
            for b in 0..<B {
                let from = base + (t * B + b) * width + offset
                result.replaceSubrange(((b * T + t) * size)..<((b * T + t + 1) * size), with: values[from..<(from + size)])
            }
        }
        return NDArray(unchecked: [B, T, size], result)
    }
    var arrays: [TracedGate: NDArray<Float>] = [:]
    // The stacked gate order of FastCell.
    let stacked: [TracedGate]
    switch layer.cell {
    case .lstm: stacked = [.i, .f, .N, .V]
    case .gru: stacked = [.z, .r, .N]
    case .rnn: stacked = []
    }
    for (g, gate) in stacked.enumerated() {
        arrays[gate] = columns(record.gates[...], width: record.width, offset: g * H, size: H)
    }
    let rows = T * B
    arrays[.STM] = columns(record.traced[0..<(rows * R)], width: R, offset: 0, size: R)
    if layer.cell == .lstm {
        let start = rows * R, block = rows * H
        arrays[.LTM] = columns(record.traced[start..<(start + block)], width: H, offset: 0, size: H)
        arrays[.U] = columns(record.traced[(start + block)..<(start + 2 * block)], width: H, offset: 0, size: H)
        if layer.projectionSize != nil {
            arrays[.STM_unprojected] = columns(record.traced[(start + 2 * block)..<(start + 3 * block)], width: H, offset: 0, size: H)
        }
    }
    return DirectionTrace(key: key, layer: layer, readsReversed: order.readsReversed, arrays: arrays)
}

/// Where a fast forward pass spent its time, summed over layers and directions.
@_spi(Benchmarks)
public struct FastEngineTimings: Sendable, Equatable {
    /// Bias broadcast plus the one input GEMM per layer and direction.
    public var inputProjection: Duration = .zero
    /// The time loops: recurrent GEMMs and fused gate math.
    public var recurrence: Duration = .zero
    /// The whole forward pass, including input checks, layout changes and merges.
    public var total: Duration = .zero

    /// Zero durations.
    public init() {}
}

/// What flows between layers: sequences (time-major `[T, B, F]`, or batch-first `[B, T, F]` as the caller's input
/// came) or vectors `[B, F]`.
private enum Flow {
    case tokens(ids: [Int], T: Int)
    case sequence([Float], T: Int, F: Int, batchFirst: Bool)
    case vectors([Float], F: Int)
}

/// `[T, B, F]` → `[B, T, F]`, widened to float64.
/// Merges one or two directions' `[rows, width]` arrays (spec/engine.md §5).
private func merge(_ parts: [[Float]], rows: Int, width: Int, mode: MergeMode?) -> [Float] {
    guard parts.count == 2 else { return parts.first ?? [] }
    let forward = parts[0], backward = parts[1]
    switch mode ?? .concat {
    case .concat:
        var result = [Float](repeating: 0, count: 2 * rows * width)
        for row in 0..<rows {
            result.replaceSubrange((2 * row * width)..<((2 * row + 1) * width), with: forward[(row * width)..<((row + 1) * width)])
            result.replaceSubrange(((2 * row + 1) * width)..<((2 * row + 2) * width), with: backward[(row * width)..<((row + 1) * width)])
        }
        return result
    case .sum: return zip(forward, backward).map { $0 + $1 }
    case .mul: return zip(forward, backward).map { $0 * $1 }
    case .ave: return zip(forward, backward).map { ($0 + $1) * 0.5 }
    }
}
