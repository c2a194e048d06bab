import Foundation
import LSTMEngine
import LSTMModel
import Testing

/// The gate trace obeys the notes' equations on every fixture (both engines), agrees with the forward pass's own
/// final states and output, and the two engines' traces agree.
@Suite("Gate traces against the notes' equations")
struct GateTraceTests {
    @Test(arguments: EngineFixture.all)
    func traceObeysTheEquationsAndMatchesTheRun(_ fixture: EngineFixture) throws {
        let (model, input, _) = try fixture.load()
        let recurrentLayers = model.layers.filter { if case .recurrent = $0 { true } else { false } }
        for engine in Engine.allCases {
            let trace = try engine.trace(model, input: input)
            let run = try engine.run(model, input: input)
            // The trace's forward pass is the run itself.
            #expect(trace.result == run, "\(engine): traced result differs from run")
            #expect(trace.directions.count == recurrentLayers.reduce(0) { count, layer in
                if case .recurrent(let r) = layer { count + r.directions.count } else { count }
            })
            for direction in trace.directions {
                try checkEquations(direction, model: model, engine: engine)
                try checkFinalState(direction, run: run)
            }
            try checkLastLayerOutput(trace, model: model)
        }
        // Both engines trace the same values (float32 vs float64 rounded once).
        let reference = try Engine.reference.trace(model, input: input)
        let fast = try Engine.fast.trace(model, input: input)
        for (r, f) in zip(reference.namedArrays, fast.namedArrays) {
            #expect(r.name == f.name)
            #expect(r.array.shape == f.array.shape, "\(r.name)")
            let worst = zip(r.array.scalars, f.array.scalars).map { abs(Double($0) - Double($1)) }.max() ?? 0
            #expect(worst <= 1e-5, "\(r.name): fast vs reference \(worst)")
        }
        #expect(reference.namedArrays.count == fast.namedArrays.count)
    }

    /// `LTM_t = LTM_{t-1}·f_t + N_t·i_t` (clipped), `U_t` from the variant's rule, `STM_t = U_t·V_t` (projected),
    /// GRU `STM_t = z·STM_{t-1} + (1 − z)·N`; gates inside their activation's range.
    private func checkEquations(_ d: DirectionTrace, model: Model, engine: Engine) throws {
        let layer = d.layer
        let B = d.batch, T = d.time, H = layer.hiddenSize, R = layer.recurrentSize
        let label = "\(engine) \(d.key)"
        #expect(d.gates == TracedGate.gates(of: layer), "\(label)")
        for gate in d.gates {
            let array = try #require(d[gate], "\(label): no \(gate)")
            #expect(array.shape == [B, T, gate.width(in: layer)], "\(label) \(gate)")
            // NaN only at masked steps (gates not computed); memories are always finite.
            #expect(array.scalars.allSatisfy { $0.isFinite || ![.STM, .LTM].contains(gate) }, "\(label) \(gate)")
        }
        // Visit steps in the order the direction consumed them.
        let steps = d.readsReversed ? Array((0..<T).reversed()) : Array(0..<T)
        func at(_ gate: TracedGate, _ b: Int, _ t: Int, _ k: Int, width: Int) -> Double {
            Double(d[gate]?.scalars[(b * T + t) * width + k] ?? .nan)
        }
        let tol = 2e-6
        var checked = 0
        switch layer.cell {
        case .lstm:
            let set = layer.directions[d.key.direction == .forward ? 0 : 1]
            let W_u = try layer.useGate == .document ? set.tensor(.W_u).doubles() : nil
            let b_u = try layer.useGate == .document ? set.tensor(.b_u).doubles() : nil
            let W_p = try layer.projectionSize != nil ? set.tensor(.W_p).doubles() : nil
            for b in 0..<B {
                var previousLTM = [Double](repeating: 0, count: H)
                for t in steps {
                    var LTM = [Double](repeating: 0, count: H)
                    var product = [Double](repeating: 0, count: H)
                    if at(.f, b, t, 0, width: H).isNaN {
                        // A masked step: the memory is carried over unchanged.
                        for k in 0..<H {
                            #expect(at(.LTM, b, t, k, width: H) == previousLTM[k], "\(label) masked LTM [\(b), \(t), \(k)]")
                        }
                        checked += H
                        continue
                    }
                    for k in 0..<H {
                        let f = at(.f, b, t, k, width: H), i = at(.i, b, t, k, width: H), N = at(.N, b, t, k, width: H)
                        for (gate, value) in [("i", i), ("f", f)] {
                            #expect(value >= 0 && value <= 1, "\(label) \(gate)[\(b), \(t), \(k)] = \(value)")
                        }
                        var remembered = previousLTM[k] * f + N * i
                        if let clip = layer.cellClip { remembered = min(max(remembered, -clip), clip) }
                        LTM[k] = at(.LTM, b, t, k, width: H)
                        #expect(abs(LTM[k] - remembered) <= tol * max(1, abs(remembered)), "\(label) remember [\(b), \(t), \(k)]: \(LTM[k]) vs \(remembered)")
                        let U = at(.U, b, t, k, width: H), V = at(.V, b, t, k, width: H)
                        let expectedU: Double
                        if let W_u, let b_u {
                            var z = b_u[k]
                            for j in 0..<H { z += W_u[k * H + j] * previousLTM[j] * at(.f, b, t, j, width: H) }
                            expectedU = activate(layer.activation, z)
                        } else {
                            expectedU = activate(layer.activation, LTM[k])
                        }
                        #expect(abs(U - expectedU) <= tol, "\(label) U[\(b), \(t), \(k)]: \(U) vs \(expectedU)")
                        product[k] = U * V
                        let unprojected = at(W_p == nil ? .STM : .STM_unprojected, b, t, k, width: H)
                        #expect(abs(unprojected - U * V) <= tol, "\(label) STM = U·V [\(b), \(t), \(k)]")
                        checked += 1
                    }
                    if let W_p {
                        for p in 0..<R {
                            var projected = 0.0
                            for k in 0..<H { projected += W_p[p * H + k] * at(.STM_unprojected, b, t, k, width: H) }
                            if let clip = layer.projectionClip { projected = min(max(projected, -clip), clip) }
                            let STM = at(.STM, b, t, p, width: R)
                            #expect(abs(STM - projected) <= 1e-5, "\(label) STM = W_p·(U·V) [\(b), \(t), \(p)]")
                        }
                    }
                    previousLTM = LTM
                }
            }
        case .gru:
            for b in 0..<B {
                var previous = [Double](repeating: 0, count: H)
                for t in steps {
                    if at(.z, b, t, 0, width: H).isNaN {
                        for k in 0..<H {
                            #expect(at(.STM, b, t, k, width: H) == previous[k], "\(label) masked STM [\(b), \(t), \(k)]")
                        }
                        checked += H
                        continue
                    }
                    for k in 0..<H {
                        let z = at(.z, b, t, k, width: H), r = at(.r, b, t, k, width: H), N = at(.N, b, t, k, width: H)
                        #expect(z >= 0 && z <= 1 && r >= 0 && r <= 1, "\(label) z, r [\(b), \(t), \(k)]")
                        let combined = z * previous[k] + (1 - z) * N
                        let STM = at(.STM, b, t, k, width: H)
                        #expect(abs(STM - combined) <= tol * max(1, abs(combined)), "\(label) combine [\(b), \(t), \(k)]: \(STM) vs \(combined)")
                        previous[k] = STM
                        checked += 1
                    }
                }
            }
        case .rnn:
            checked = B * T * H  // STM only: shape and finiteness above; its end state is checked against the run
        }
        #expect(checked == B * T * H, "\(label): \(checked) values checked")
    }

    /// The trace's last consumed step is the final state `run` returns.
    private func checkFinalState(_ d: DirectionTrace, run: ForwardResult) throws {
        let state = try #require(run.finalStates[d.key])
        let B = d.batch, T = d.time, R = d.layer.recurrentSize, H = d.layer.hiddenSize
        guard T > 0 else { return }
        let last = d.readsReversed ? 0 : T - 1
        for b in 0..<B {
            for k in 0..<R {
                let traced = Double(d[.STM]?.scalars[(b * T + last) * R + k] ?? .nan)
                #expect(abs(traced - state.STM.scalars[b * R + k]) <= 1e-6, "\(d.key) final STM [\(b), \(k)]")
            }
            if let LTM = state.LTM {
                for k in 0..<H {
                    let traced = Double(d[.LTM]?.scalars[(b * T + last) * H + k] ?? .nan)
                    #expect(abs(traced - LTM.scalars[b * H + k]) <= 1e-6 * max(1, abs(traced)), "\(d.key) final LTM [\(b), \(k)]")
                }
            }
        }
    }

    /// When the model ends with a sequence-returning recurrent layer, its directions' `STM`, merged and put in the
    /// layer's output order, is the model's output.
    private func checkLastLayerOutput(_ trace: GateTrace, model: Model) throws {
        guard case .recurrent(let layer) = model.layers.last, layer.returnSequences else { return }
        let index = model.layers.count - 1
        let parts = trace.directions.filter { $0.key.layer == index }
        let B = parts.first?.batch ?? 0, T = parts.first?.time ?? 0, R = layer.recurrentSize
        let output = trace.result.output
        #expect(output.shape == [B, T, layer.outputSize])
        for b in 0..<B {
            for slot in 0..<T {
                // go_backwards keeps the layer's outputs in reversed order.
                let t = layer.goBackwards ? T - 1 - slot : slot
                let values = parts.map { d in (0..<R).map { k in Double(d[.STM]?.scalars[(b * T + t) * R + k] ?? .nan) } }
                let merged: [Double]
                switch (values.count, layer.mergeMode ?? .concat) {
                case (1, _): merged = values[0]
                case (_, .concat): merged = values[0] + values[1]
                case (_, .sum): merged = zip(values[0], values[1]).map { $0 + $1 }
                case (_, .mul): merged = zip(values[0], values[1]).map { $0 * $1 }
                case (_, .ave): merged = zip(values[0], values[1]).map { ($0 + $1) / 2 }
                }
                // Masked steps (NaN gates) may emit zeros instead of the carried memory (spec/engine.md §5.1).
                if let gate = parts.first?.gates.first, gate != .STM,
                    parts.contains(where: { ($0[gate]?.scalars[(b * T + t) * layer.hiddenSize] ?? 0).isNaN }) { continue }
                for (k, value) in merged.enumerated() {
                    let actual = output.scalars[(b * T + slot) * layer.outputSize + k]
                    #expect(abs(actual - value) <= 1e-6, "output [\(b), \(slot), \(k)]: \(actual) vs merged trace \(value)")
                }
            }
        }
    }
}

/// The activations of spec/engine.md §4, written out independently of the engines.
private func activate(_ activation: Activation, _ x: Double) -> Double {
    switch activation {
    case .sigmoid: 1 / (1 + exp(-x))
    case .hardSigmoid(let slope, let offset): min(max(slope * x + offset, 0), 1)
    case .tanh: tanh(x)
    case .relu: max(x, 0)
    case .linear: x
    case .softmax: .nan
    }
}

@Suite("Gate traces from given initial states")
struct GateTraceInitialStateTests {
    @Test("the first consumed step remembers from the given LTM and the run's final states match, both engines")
    func initialStates() throws {
        let fixture = try #require(EngineFixture.all.first { $0.path == "numpy/std_lstm_full_peepholes_bidirectional" })
        let (model, input, _) = try fixture.load()
        guard case .recurrent(let layer) = model.layers[0] else { Issue.record("layer 0 is not recurrent"); return }
        let B = input.shape[0], H = layer.hiddenSize, R = layer.recurrentSize
        var states: [StateKey: CellState] = [:]
        for (d, direction) in Direction.allCases.prefix(layer.directions.count).enumerated() {
            let STM = (0..<(B * R)).map { Double(($0 * 7 + d * 3) % 11) / 11 - 0.5 }
            let LTM = (0..<(B * H)).map { Double(($0 * 5 + d) % 13) / 6.5 - 1 }
            states[StateKey(layer: 0, direction: direction)] = CellState(
                STM: try NDArray(shape: [B, R], scalars: STM), LTM: try NDArray(shape: [B, H], scalars: LTM))
        }
        for engine in Engine.allCases {
            let trace = try engine.trace(model, input: input, initialStates: states)
            #expect(trace.result == (try engine.run(model, input: input, initialStates: states)))
            for d in trace.directions where d.key.layer == 0 {
                let T = d.time
                let first = d.readsReversed ? T - 1 : 0
                let LTM0 = try #require(states[d.key]?.LTM).scalars
                for b in 0..<B {
                    for k in 0..<H {
                        let at = (b * T + first) * H + k
                        let f = Double(d[.f]?.scalars[at] ?? .nan), i = Double(d[.i]?.scalars[at] ?? .nan)
                        let N = Double(d[.N]?.scalars[at] ?? .nan), LTM = Double(d[.LTM]?.scalars[at] ?? .nan)
                        let remembered = LTM0[b * H + k] * f + N * i
                        #expect(abs(LTM - remembered) <= 2e-6 * max(1, abs(remembered)), "\(engine) \(d.key) [\(b), \(k)]")
                    }
                }
            }
        }
    }
}
