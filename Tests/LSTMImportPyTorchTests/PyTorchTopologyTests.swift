import Foundation
import LSTMLayouts
@testable import LSTMImportPyTorch
import LSTMModel
import Testing

/// Topology inference on synthetic state_dicts: names and shapes only, values are irrelevant.
@Suite struct PyTorchTopologyTests {
    static func tensor(_ shape: [Int], _ dtype: DType = .f32) -> StateTensor {
        let count = shape.reduce(1, *)
        return .tensor(Tensor((0..<count).map { Float($0) / 100 }, shape: shape, dtype: dtype))
    }

    /// A full `nn.LSTM`/`nn.GRU` state_dict.
    static func rnn(
        prefix: String = "", gates: Int, input: Int, hidden: Int, layers: Int = 1, directions: Int = 1, proj: Int? = nil,
        bias: Bool = true
    ) -> [(key: String, value: StateTensor)] {
        var entries: [(key: String, value: StateTensor)] = []
        let r = proj ?? hidden
        for layer in 0..<layers {
            for direction in 0..<directions {
                let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
                let p = prefix.isEmpty ? "" : prefix + "."
                entries.append((p + "weight_ih" + suffix, tensor([gates * hidden, layer == 0 ? input : directions * r])))
                entries.append((p + "weight_hh" + suffix, tensor([gates * hidden, r])))
                if bias {
                    entries.append((p + "bias_ih" + suffix, tensor([gates * hidden])))
                    entries.append((p + "bias_hh" + suffix, tensor([gates * hidden])))
                }
                if let proj { entries.append((p + "weight_hr" + suffix, tensor([proj, hidden]))) }
            }
        }
        return entries
    }

    static func run(_ entries: [(key: String, value: StateTensor)], _ options: PyTorchImportOptions = PyTorchImportOptions()) throws(ImportError) -> ImportResult {
        try PyTorchImporter.importStateDict(StateDict(format: .safetensors, entries: entries), options: options)
    }

    @Test func namesParse() {
        #expect(RecurrentName.parse("weight_ih_l0") == RecurrentName(kind: .weightIH, layer: 0, reverse: false))
        #expect(RecurrentName.parse("bias_hh_l12_reverse") == RecurrentName(kind: .biasHH, layer: 12, reverse: true))
        #expect(RecurrentName.parse("weight_hr_l1") == RecurrentName(kind: .weightHR, layer: 1, reverse: false))
        #expect(RecurrentName.parse("weight_ih") == RecurrentName(kind: .weightIH, layer: nil, reverse: false))
        for name in ["weight_ih_l01", "weight_ih_l", "weight_ih_lx", "weight_ih_l0_rev", "weight", "weight_ih_l99999", "weight_ih_l٣"] {
            #expect(RecurrentName.parse(name) == nil, "\(name)")
        }
    }

    /// 12 gate rows are 4H for H=3 (LSTM) or 3H for H=4 (GRU): weight_hh's columns decide.
    @Test func twelveRowsAreResolvedByTheRecurrentColumns() throws {
        let lstm = try Self.run(Self.rnn(gates: 4, input: 2, hidden: 3))
        let gru = try Self.run(Self.rnn(gates: 3, input: 2, hidden: 4))
        guard case .recurrent(let a) = lstm.model.layers[0], case .recurrent(let b) = gru.model.layers[0] else {
            Issue.record("not recurrent"); return
        }
        #expect(a.cell == .lstm && a.hiddenSize == 3)
        #expect(b.cell == .gru && b.hiddenSize == 4 && b.resetMode == .after)
    }

    @Test func stackedBidirectionalProjectedLSTM() throws {
        let result = try Self.run(Self.rnn(prefix: "a.b", gates: 4, input: 3, hidden: 6, layers: 3, directions: 2, proj: 2))
        #expect(result.model.layers.count == 3)
        for (index, layer) in result.model.layers.enumerated() {
            guard case .recurrent(let recurrent) = layer else { Issue.record("not recurrent"); continue }
            #expect(recurrent.inputSize == (index == 0 ? 3 : 4))
            #expect(recurrent.projectionSize == 2 && recurrent.directions.count == 2 && recurrent.mergeMode == .concat)
        }
        #expect(result.model.provenance.sourceLayout == "pytorch.lstm")
    }

    @Test func withoutBiasesZerosAreStoredAndSaidSo() throws {
        let result = try Self.run(Self.rnn(gates: 3, input: 2, hidden: 2, bias: false))
        guard case .recurrent(let layer) = result.model.layers[0] else { Issue.record("not recurrent"); return }
        for role: TensorRole in [.b_r, .b_z, .b_c, .bh_r, .bh_z, .bh_c] {
            #expect(layer.directions[0][role]?.doubles() == [0, 0])
        }
        #expect(result.notes.contains { $0.contains("bias=False") })
    }

    @Test func checkpointStyleNestingAndIgnoredKeys() throws {
        var entries = Self.rnn(prefix: "model.rnn", gates: 4, input: 2, hidden: 2)
        entries.append(("epoch", .notATensor("int")))
        entries.append(("model.norm.num_batches_tracked", .unsupported(dtype: "int64", shape: [])))
        let result = try Self.run(entries)
        #expect(result.ignoredKeys == ["epoch", "model.norm.num_batches_tracked"])
    }

    @Test func lastStepOnlyWhenAsked() throws {
        let result = try Self.run(Self.rnn(gates: 4, input: 2, hidden: 2, layers: 2), PyTorchImportOptions(returnSequences: false))
        guard case .recurrent(let first) = result.model.layers[0], case .recurrent(let last) = result.model.layers[1] else { return }
        #expect(first.returnSequences && !last.returnSequences)
    }

    struct Inconsistency: CustomTestStringConvertible, Sendable {
        let name: String
        let code: ImportError.Code
        let location: String?
        let edit: @Sendable ([(key: String, value: StateTensor)]) -> [(key: String, value: StateTensor)]
        var testDescription: String { name }
    }

    static func replacing(_ key: String, with value: StateTensor?) -> @Sendable ([(key: String, value: StateTensor)]) -> [(key: String, value: StateTensor)] {
        { entries in
            entries.compactMap { entry in entry.key == key ? value.map { (key, $0) } : entry }
        }
    }

    static let inconsistencies: [Inconsistency] = [
        .init(name: "a missing layer", code: .missingTensor, location: "weight_ih_l1", edit: { entries in
            entries.filter { !$0.key.hasSuffix("_l1") }
        }),
        .init(name: "reverse only in layer 1", code: .missingTensor, location: "weight_ih_l0_reverse", edit: { entries in
            entries.filter { !($0.key.hasSuffix("_l0_reverse")) }
        }),
        .init(name: "bias_ih without bias_hh", code: .missingTensor, location: "bias_hh_l1", edit: replacing("bias_hh_l1", with: nil)),
        .init(name: "wrong input width in layer 1", code: .shapeMismatch, location: "weight_ih_l1", edit: replacing("weight_ih_l1", with: tensor([16, 5]))),
        .init(name: "wrong recurrent width", code: .shapeMismatch, location: "weight_hh_l1_reverse", edit: replacing("weight_hh_l1_reverse", with: tensor([16, 3]))),
        .init(name: "rows neither 4H nor 3H", code: .shapeMismatch, location: "weight_ih_l0", edit: { entries in
            replacing("weight_hh_l0", with: tensor([16, 5]))(entries)
        }),
        .init(name: "a rank-1 weight", code: .shapeMismatch, location: "weight_ih_l0", edit: replacing("weight_ih_l0", with: tensor([16]))),
        .init(name: "mixed dtypes", code: .unsupportedDType, location: "bias_ih_l0", edit: replacing("bias_ih_l0", with: tensor([16], .f16))),
        .init(name: "an int64 weight", code: .unsupportedDType, location: "weight_hh_l0", edit: replacing("weight_hh_l0", with: .unsupported(dtype: "int64", shape: [16, 4]))),
        .init(name: "a weight that is not a tensor", code: .malformedSource, location: "bias_hh_l0", edit: replacing("bias_hh_l0", with: .notATensor("list"))),
        .init(name: "cell and stacked names mixed", code: .unsupportedTopology, location: nil, edit: { $0 + [("weight_ih", tensor([16, 3]))] }),
        .init(name: "a stray layer beyond a gap", code: .missingTensor, location: "weight_ih_l2", edit: { $0 + [("weight_ih_l3", tensor([16, 8]))] }),
    ]

    @Test(arguments: inconsistencies)
    func everyInferredValueIsCrossChecked(_ case_: Inconsistency) {
        let entries = case_.edit(Self.rnn(gates: 4, input: 3, hidden: 4, layers: 2, directions: 2))
        do {
            _ = try Self.run(entries)
            Issue.record("\(case_.name) was accepted")
        } catch {
            #expect(error.code == case_.code, "\(error)")
            if let location = case_.location { #expect(error.location == location, "\(error)") }
        }
    }

    @Test func noWeightsAtAll() {
        #expect(throws: ImportError(.noRecurrentWeights, "")) { try Self.run([]) }
        #expect(throws: ImportError(.noRecurrentWeights, "")) { try Self.run([("bias_ih_l0", Self.tensor([4]))]) }
    }

    @Test func headsAreCheckedAgainstTheRecurrentOutput() throws {
        var entries = Self.rnn(prefix: "rnn", gates: 3, input: 2, hidden: 3, directions: 2)
        entries.append(("fc.weight", Self.tensor([4, 6])))
        let result = try Self.run(entries, PyTorchImportOptions(head: "fc"))
        guard case .dense(let dense) = result.model.layers.last else { Issue.record("no dense head"); return }
        #expect(dense.inputSize == 6 && dense.units == 4 && !dense.useBias && dense.activation == .linear)

        let narrow = Self.rnn(prefix: "rnn", gates: 3, input: 2, hidden: 3) + [("fc.weight", Self.tensor([4, 6]))]
        #expect(throws: ImportError(.shapeMismatch, "")) { try Self.run(narrow, PyTorchImportOptions(head: "fc")) }
        let badBias = entries + [("fc.bias", Self.tensor([5]))]
        #expect(throws: ImportError(.shapeMismatch, "")) { try Self.run(badBias, PyTorchImportOptions(head: "fc")) }
    }
}
