import Foundation
import LSTMConv
@testable import LSTMConvCommands
import Testing

/// Gate traces on the issue 13 models (SimpleRNN, masking, lengths): the traced run is the run, the last consumed
/// step holds the final state, masked steps are NaN gates with carried memories, and both engines agree.
@Suite struct ModelsTraceTests {
    @Test(arguments: ModelsFixtureTests.caseNames)
    func traces(_ name: String) throws {
        let fixture = try ModelsFixtureTests.Case(name)
        guard let source = fixture.sources.first else { return }
        let model = try ModelSource.load(fixture.url(source), options: fixture.options)
        let run = try fixture.runOptions()
        guard !run.timeMajor, !model.isTimeMajor else { return }  // the trace takes batch-major input
        let input = try ForwardJob.input(from: fixture.url("input.npy"), for: model)
        var traces: [GateTrace] = []
        for engine in Engine.allCases {
            let trace = try engine.trace(model, input: input, lengths: run.lengths)
            #expect(trace.result == (try engine.prepare(model).run(input, initialStates: [:], lengths: run.lengths)), "\(name) \(engine)")
            for d in trace.directions {
                let state = try #require(trace.result.finalStates[d.key])
                let T = d.time, R = d.layer.recurrentSize
                guard T > 0 else { continue }
                let last = d.readsReversed ? 0 : T - 1
                for b in 0..<d.batch {
                    for k in 0..<R {
                        let traced = Double(d[.STM]?.scalars[(b * T + last) * R + k] ?? .nan)
                        #expect(abs(traced - state.STM.scalars[b * R + k]) <= 1e-6, "\(name) \(engine) \(d.key) final STM")
                    }
                }
                #expect(d[.STM]?.scalars.allSatisfy { $0.isFinite } == true, "\(name) \(engine) \(d.key)")
                if d.layer.cell == .rnn { #expect(d.gates == [.STM]) }
            }
            traces.append(trace)
        }
        for (r, f) in zip(traces[0].namedArrays, traces[1].namedArrays) {
            #expect(r.name == f.name)
            for (x, y) in zip(r.array.scalars, f.array.scalars) where !(x.isNaN && y.isNaN) {
                #expect(abs(Double(x) - Double(y)) <= 1e-5, "\(name) \(r.name): \(x) vs \(y)")
            }
        }
        if run.lengths != nil || name.contains("mask") {
            let nan = traces[0].directions.contains { d in d.gates.contains { d[$0]?.scalars.contains { $0.isNaN } == true } }
            #expect(nan, "\(name): a masked input should leave NaN gates at masked steps")
        }
    }
}
