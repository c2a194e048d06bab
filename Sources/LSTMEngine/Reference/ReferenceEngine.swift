import LSTMModel

/// The float64 oracle: runs each batch element on its own through the gate functions of `Gates.swift`.
///
/// Slow by design (naive loops, no BLAS); use it to check conversions and the fast engine.
public struct ReferenceEngine: ForwardPass {
    /// The model this pass runs.
    public let model: Model
    private let layers: [ReferenceLayer]

    /// Validates `model` and widens its weights to float64.
    public init(_ model: Model) throws(EngineError) {
        self.model = try validatedModel(model)
        var layers: [ReferenceLayer] = []
        for (index, layer) in model.layers.enumerated() {
            do {
                layers.append(try ReferenceLayer(layer))
            } catch {
                throw EngineError(.invalidModel, "cannot read the layer's tensors", keyPath: "layer_\(index)", underlying: error)
            }
        }
        self.layers = layers
    }

    /// Runs the model on a batch in float64, gate by gate; missing initial states are zeros, `lengths` limit sequences.
    public func run(
        _ input: ForwardInput, initialStates: [StateKey: CellState], lengths: [Int]?
    ) throws(EngineError) -> ForwardResult {
        var unused: [DirectionTrace]?
        return try forward(input, initialStates: initialStates, lengths: lengths, trace: &unused)
    }

    /// Runs the model and records every gate value of every recurrent layer and direction (spec/engine.md §9):
    /// the gate functions of `Gates.swift`, rounded once to float32.
    public func trace(
        _ input: ForwardInput, initialStates: [StateKey: CellState] = [:], lengths: [Int]? = nil
    ) throws(EngineError) -> GateTrace {
        var directions: [DirectionTrace]? = []
        let result = try forward(input, initialStates: initialStates, lengths: lengths, trace: &directions)
        return GateTrace(result: result, directions: directions ?? [])
    }

    /// The forward pass; appends to `trace` when it is not `nil`.
    private func forward(
        _ input: ForwardInput, initialStates: [StateKey: CellState], lengths: [Int]?, trace: inout [DirectionTrace]?
    ) throws(EngineError) -> ForwardResult {
        let checked = try checkInput(input, model: model)
        let batch = checked.batch
        try checkInitialStates(initialStates, model: model, batch: batch)
        // Masked steps (spec/engine.md §5.1): `[b][t]`, carried while the flow is a sequence.
        let stepMask = try inputMask(checked, model: model, lengths: lengths)
        var active = stepMask?.active

        var flow: Flow
        switch checked {
        case .tokens(let ids, _, let time):
            flow = .tokens((0..<batch).map { b in Array(ids[(b * time)..<((b + 1) * time)]) })
        case .sequence(let input, _, let time, let features):
            let values = input.doubles
            flow = .sequence((0..<batch).map { b in
                (0..<time).map { t in Vector(Array(values[((b * time + t) * features)..<((b * time + t + 1) * features)])) }
            })
        case .vectors(let input, _, let features):
            let values = input.doubles
            flow = .vectors((0..<batch).map { b in Vector(Array(values[(b * features)..<((b + 1) * features)])) })
        }

        var finalStates: [StateKey: CellState] = [:]
        for (index, layer) in layers.enumerated() {
            switch (layer, flow) {
            case (.embedding(let table), .tokens(let ids)):
                flow = .sequence(ids.map { sample in sample.map { table[$0] } })
            case (.dense(let W_d, let b_d, let activation), .sequence(let samples)):
                flow = .sequence(samples.map { steps in steps.map { dense(W_d, b_d, activation, $0) } })
            case (.dense(let W_d, let b_d, let activation), .vectors(let vectors)):
                active = nil
                flow = .vectors(vectors.map { dense(W_d, b_d, activation, $0) })
            case (.recurrent(let layer, let settings, let cells), .sequence(let samples)):
                let initial = (0..<cells.count).map { d in
                    initialStates[StateKey(layer: index, direction: Direction.allCases[d])]
                }
                var outputs: [[Vector]] = []
                var finals: [[(STM: Vector, LTM: Vector?)]] = []  // [b][d]
                let time = samples.first?.count ?? 0
                var recorded: [[TracedGate: TraceArray]]? = trace == nil ? nil : cells.indices.map { _ in
                    Dictionary(uniqueKeysWithValues: TracedGate.gates(of: layer).map { gate in
                        (gate, TraceArray(batch: batch, time: time, width: gate.width(in: layer)))
                    })
                }
                for (b, events) in samples.enumerated() {
                    let starts = cells.indices.map { d in
                        (STM: row(initial[d]?.STM, b, size: layer.recurrentSize),
                         LTM: layer.cell == .lstm ? row(initial[d]?.LTM, b, size: layer.hiddenSize) : nil)
                    }
                    let zeros = stepMask?.zeros(for: layer) ?? false
                    let (sequence, final) = recurrent(
                        layer, settings, cells, events: events, starts: starts, active: active?[b], zeroMasked: zeros,
                        sample: b, trace: &recorded)
                    outputs.append(sequence)
                    finals.append(final)
                }
                if let recorded {
                    for (d, arrays) in recorded.enumerated() {
                        trace?.append(DirectionTrace(
                            key: StateKey(layer: index, direction: Direction.allCases[d]), layer: layer,
                            readsReversed: (d == 1) != layer.goBackwards, arrays: arrays.mapValues(\.array)))
                    }
                }
                for d in cells.indices {
                    let key = StateKey(layer: index, direction: Direction.allCases[d])
                    let STM = matrix(finals.map { $0[d].STM }, columns: layer.recurrentSize)
                    let LTM = layer.cell == .lstm ? matrix(finals.map { $0[d].LTM ?? Vector([]) }, columns: layer.hiddenSize) : nil
                    finalStates[key] = CellState(STM: STM, LTM: LTM)
                }
                if layer.returnSequences {
                    flow = .sequence(outputs)
                } else if layer.finalOutput == .lastStep {
                    // PyTorch `output[:, -1]`: the merged output at the last time step (zeros when T = 0).
                    flow = .vectors(outputs.map { $0.last ?? Vector(zeros: layer.outputSize) })
                } else {
                    flow = .vectors(finals.map { merge($0.map(\.STM), layer.mergeMode) })
                }
                if !layer.returnSequences { active = nil }
            case (.recurrent, _):
                throw EngineError(.invalidInput, "a recurrent layer needs a sequence; the previous layer returns vectors", keyPath: "layer_\(index)")
            default:
                throw EngineError(.invalidInput, "the layer cannot take the previous layer's output", keyPath: "layer_\(index)")
            }
        }

        let output: NDArray<Double>
        switch flow {
        case .sequence(let samples):
            let features = model.layers.last?.outputSize ?? 0
            let time = samples.first?.count ?? (checkedTime(checked))
            output = NDArray(unchecked: [batch, time, features], samples.flatMap { $0.flatMap(\.values) })
        case .vectors(let vectors):
            output = NDArray(unchecked: [batch, model.layers.last?.outputSize ?? 0], vectors.flatMap(\.values))
        case .tokens(let ids):
            output = NDArray(unchecked: [batch, ids.first?.count ?? 0], ids.flatMap { $0.map(Double.init) })
        }
        return ForwardResult(values: .float64(output), finalStates: finalStates)
    }
}

/// What flows from one layer to the next, per batch element.
private enum Flow {
    case tokens([[Int]])
    /// `[b][t]`.
    case sequence([[Vector]])
    /// `[b]`.
    case vectors([Vector])
}

private enum ReferenceCell {
    case lstm(LSTMWeights)
    case gru(GRUWeights)
    case rnn(RNNWeights)
}

private enum ReferenceLayer {
    case embedding(table: [Vector])
    case recurrent(RecurrentLayer, CellSettings, [ReferenceCell])
    case dense(W_d: Matrix, b_d: Vector?, activation: Activation)

    init(_ layer: Layer) throws(ModelError) {
        switch layer {
        case .embedding(let embedding):
            let W_e = Matrix(try embedding.parameters.tensor(.W_e))
            self = .embedding(table: (0..<W_e.rows).map { row in
                Vector(Array(W_e.values[(row * W_e.columns)..<((row + 1) * W_e.columns)]))
            })
        case .dense(let dense):
            let b_d = dense.useBias ? Vector(try dense.parameters.tensor(.b_d).doubles()) : nil
            self = .dense(W_d: Matrix(try dense.parameters.tensor(.W_d)), b_d: b_d, activation: dense.activation)
        case .recurrent(let recurrent):
            var cells: [ReferenceCell] = []
            for set in recurrent.directions {
                switch recurrent.cell {
                case .lstm: cells.append(.lstm(try LSTMWeights(set, layer: recurrent)))
                case .gru: cells.append(.gru(try GRUWeights(set, layer: recurrent)))
                case .rnn: cells.append(.rnn(try RNNWeights(set, layer: recurrent)))
                }
            }
            self = .recurrent(recurrent, CellSettings(recurrent), cells)
        }
    }
}

/// `y = activation(W_d·x + b_d)`.
private func dense(_ W_d: Matrix, _ b_d: Vector?, _ activation: Activation, _ x: Vector) -> Vector {
    var z = W_d * x
    if let b_d { z = z + b_d }
    return activation.apply(z)
}

/// Runs every direction of a recurrent layer over one batch element's events (spec/engine.md §5).
///
/// `active[t]` false masks step `t` (spec/engine.md §5.1): the memories are carried over, and the step emits the
/// carried STM, or zeros with `zeroMasked`.
/// Returns the merged output sequence (in the layer's output time order) and each direction's final state. When
/// `trace` is not `nil`, every step's gate values are stored at row `sample` and the time position (in `events`)
/// of the event the step consumed.
private func recurrent(
    _ layer: RecurrentLayer, _ settings: CellSettings, _ cells: [ReferenceCell], events: [Vector],
    starts: [(STM: Vector, LTM: Vector?)], active: [Bool]?, zeroMasked: Bool,
    sample: Int, trace: inout [[TracedGate: TraceArray]]?
) -> (sequence: [Vector], finals: [(STM: Vector, LTM: Vector?)]) {
    // go_backwards: the layer reads its input reversed and keeps its outputs in that order.
    let steps = Array(zip(events, active ?? Array(repeating: true, count: events.count)))
    let input = layer.goBackwards ? Array(steps.reversed()) : steps
    var perDirection: [[Vector]] = []
    var finals: [(STM: Vector, LTM: Vector?)] = []
    for (d, cell) in cells.enumerated() {
        // The backward direction reads the (layer's) input reversed ...
        let readOrder = d == 0 ? input : Array(input.reversed())
        var (STM, LTM) = starts[d]
        var outputs: [Vector] = []
        // The time position in `events` of the event step `s` reads (spec/engine.md §5).
        let readsReversed = (d == 1) != layer.goBackwards
        for (s, (E, isActive)) in readOrder.enumerated() {
            let position = readsReversed ? readOrder.count - 1 - s : s
            guard isActive else {
                // A masked step: memories carried over unchanged.
                outputs.append(zeroMasked ? Vector(zeros: layer.recurrentSize) : STM)
                if trace != nil {
                    // Traced as not computed (NaN gates) with the carried memories.
                    var values: [TracedGate: Vector] = [:]
                    for gate in TracedGate.gates(of: layer) {
                        values[gate] = Vector([Double](repeating: .nan, count: gate.width(in: layer)))
                    }
                    values[.STM] = STM
                    if let LTM { values[.LTM] = LTM }
                    record(values, into: &trace, direction: d, sample: sample, time: position)
                }
                continue
            }
            switch cell {
            case .lstm(let w):
                let step = lstmStep(w, settings, STM: STM, LTM: LTM ?? Vector(zeros: layer.hiddenSize), E: E)
                (STM, LTM) = (step.STM, step.LTM)
                if trace != nil {
                    let values: [TracedGate: Vector] = [
                        .N: step.N, .i: step.i, .f: step.f, .LTM: step.LTM, .U: step.U, .V: step.V,
                        .STM_unprojected: step.unprojected, .STM: step.STM,
                    ]
                    record(values, into: &trace, direction: d, sample: sample, time: position)
                }
            case .gru(let w):
                let step = gruStep(w, settings, STM: STM, E: E)
                STM = step.STM
                if trace != nil {
                    let values: [TracedGate: Vector] = [.z: step.z, .r: step.r, .N: step.c, .STM: step.STM]
                    record(values, into: &trace, direction: d, sample: sample, time: position)
                }
            case .rnn(let w):
                STM = rnnStep(w, settings, STM: STM, E: E)
                if trace != nil { record([.STM: STM], into: &trace, direction: d, sample: sample, time: position) }
            }
            outputs.append(STM)
        }
        // ... and its outputs are re-reversed to line up with the input's time steps.
        perDirection.append(d == 0 ? outputs : Array(outputs.reversed()))
        finals.append((STM, LTM))
    }
    let sequence = input.indices.map { t in merge(perDirection.map { $0[t] }, layer.mergeMode) }
    return (sequence, finals)
}

/// Stores one step's values in the arrays the trace asks for (`STM_unprojected` only exists with a projection).
private func record(
    _ values: [TracedGate: Vector], into trace: inout [[TracedGate: TraceArray]]?, direction: Int, sample: Int, time: Int
) {
    guard trace != nil else { return }
    for (gate, vector) in values where trace?[direction][gate] != nil {
        trace?[direction][gate]?.set(b: sample, t: time, vector.values)
    }
}

/// Merges the directions' vectors: concat (forward first), sum, mul or ave; one direction passes through.
private func merge(_ vectors: [Vector], _ mode: MergeMode?) -> Vector {
    guard vectors.count == 2, let forward = vectors.first, let backward = vectors.last else {
        return vectors.first ?? Vector([])
    }
    switch mode ?? .concat {
    case .concat: return forward.concatenated(with: backward)
    case .sum: return forward + backward
    case .mul: return forward * backward
    case .ave: return 0.5 * (forward + backward)
    }
}

/// Row `b` of an optional `[B, size]` state, or zeros.
private func row(_ array: NDArray<Double>?, _ b: Int, size: Int) -> Vector {
    guard let array else { return Vector(zeros: size) }
    return Vector(Array(array.scalars[(b * size)..<((b + 1) * size)]))
}

private func matrix(_ rows: [Vector], columns: Int) -> NDArray<Double> {
    NDArray(unchecked: [rows.count, columns], rows.flatMap(\.values))
}

private func checkedTime(_ input: CheckedInput) -> Int {
    switch input {
    case .tokens(_, _, let time), .sequence(_, _, let time, _): time
    case .vectors: 0
    }
}
