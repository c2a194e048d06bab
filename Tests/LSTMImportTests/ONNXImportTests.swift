import Foundation
import LSTMEngine
import LSTMImport
import LSTMLayouts
import LSTMImportONNX
import LSTMModel
import LSTMTestSupport
import Testing

/// Every ONNX fixture imports and, run by both engines, reproduces onnxruntime's output (`expected.npy`,
/// written by onnxruntime 1.32 in the fixture generator) within 1e-5; every bad graph is refused with the
/// stated error code, naming the node.
@Suite struct ONNXImportTests {
    @Test(arguments: ONNXFixtures.caseNames, [Engine.reference, .fast])
    func reproducesOnnxruntime(_ name: String, _ engine: Engine) throws {
        let model = try ONNXImporter.importFile(at: ONNXFixtures.url(name, "model.onnx")).model
        let output = try engine.run(model, input: try ONNXFixtures.input(name), lengths: try ONNXFixtures.lengths(name)).output
        let comparison = Comparison(actual: output, expected: try ONNXFixtures.expected(name), atol: 1e-5, rtol: 0)
        #expect(comparison.shapeMismatch == nil, "\(name): output \(output.shape)")
        #expect(comparison.maxAbsoluteError <= 1e-5, "\(name) on the \(engine) engine: max abs error \(comparison.maxAbsoluteError)")
    }

    @Test func everyCaseIsListed() {
        #expect(ONNXFixtures.caseNames.count == 23)
        #expect(ONNXFixtures.badFiles.count == 11)
    }

    @Test(arguments: ONNXFixtures.caseNames)
    func detectedByContent(_ name: String) throws {
        #expect(try ModelSource.detect(ONNXFixtures.url(name, "model.onnx")) == .onnx)
    }

    @Test(arguments: ONNXFixtures.badFiles.map(\.file))
    func badGraphIsRefused(_ file: String) throws {
        let code = try #require(ONNXFixtures.badFiles.first { $0.file == file }?.code)
        do {
            _ = try ONNXImporter.importFile(at: ONNXFixtures.root.appendingPathComponent("bad").appendingPathComponent(file))
            Issue.record("\(file) was imported")
        } catch {
            #expect(error.code.description == code, "\(file): \(error)")
            #expect(error.file != nil)
        }
    }

    @Test func layerAttributesFollowTheOperators() throws {
        func layer(_ name: String, _ index: Int = 0) throws -> RecurrentLayer {
            let model = try ONNXImporter.importFile(at: ONNXFixtures.url(name, "model.onnx")).model
            guard case .recurrent(let value) = model.layers[index] else { throw ImportError(.invalidModel, "layer \(index) is not recurrent") }
            return value
        }
        let peepholes = try layer("helper_lstm_peepholes_clip")
        #expect(peepholes.peepholes == .diagonal && peepholes.gateClip == Double(Float(0.6)) && peepholes.bias == .double)
        let hard = try layer("helper_lstm_hard_sigmoid")
        #expect(hard.recurrentActivation == .hardSigmoid(slope: Double(Float(0.3)), offset: Double(Float(0.45))))
        let reverse = try layer("helper_lstm_reverse_last")
        #expect(reverse.goBackwards && !reverse.returnSequences && reverse.directions.count == 1)
        let gru = try layer("helper_gru_lbr0_bidirectional")
        #expect(gru.resetMode == .before && gru.directions.count == 2 && gru.mergeMode == .concat && gru.returnSequences)
        #expect(try layer("helper_gru_lbr1_gemm_softmax").resetMode == .after)
        let relu = try layer("helper_bilstm_relu_seq")
        #expect(relu.activation == .relu && relu.recurrentActivation == .sigmoid)
        let stacked = try ONNXImporter.importFile(at: ONNXFixtures.url("torch_lstm_2layer_last", "model.onnx")).model
        #expect(stacked.layers.count == 2)
        let text = try ONNXImporter.importFile(at: ONNXFixtures.url("torch_embedding_lstm_linear_softmax", "model.onnx")).model
        #expect(text.layers.map(\.kindName) == ["embedding", "lstm", "dense"])
        if case .dense(let head) = text.layers[2] { #expect(head.activation == .softmax && head.useBias) }
    }

    /// sequence_lens from a graph input: outputs past a sequence's length are zero (checked against onnxruntime
    /// above with the lengths); without them every sequence runs all steps.
    @Test func sequenceLensIsARunTimeInput() throws {
        let result = try ONNXImporter.importFile(at: ONNXFixtures.url("helper_bilstm_sequence_lens", "model.onnx"))
        guard case .recurrent(let layer) = result.model.layers[0] else { throw ImportError(.invalidModel, "not recurrent") }
        #expect(layer.maskedOutput == .zero)
        #expect(result.notes.contains { $0.contains("--lengths") })
        #expect(try ONNXFixtures.lengths("helper_bilstm_sequence_lens") == [5, 3])
    }

    /// input_forget=1: the forget gate is stored as the negated input gate (bit-exact sign flips).
    @Test func inputForgetIsTheNegatedInputGate() throws {
        let result = try ONNXImporter.importFile(at: ONNXFixtures.url("helper_lstm_input_forget", "model.onnx"))
        guard case .recurrent(let layer) = result.model.layers[0], let set = layer.directions.first else {
            Issue.record("no recurrent layer")
            return
        }
        for (forget, input) in [(TensorRole.W_f, TensorRole.W_i), (.b_f, .b_i), (.bh_f, .bh_i), (.P_f, .P_i)] {
            let f = try #require(set.tensors[forget]).doubles(), i = try #require(set.tensors[input]).doubles()
            #expect(f == i.map { -$0 }, "\(forget.rawValue)")
        }
        #expect(!result.ignoredKeys.isEmpty)
    }

    @Test func externalDataOutsideTheFolderIsNamed() throws {
        do {
            _ = try ONNXImporter.importFile(at: ONNXFixtures.root.appendingPathComponent("bad/external_escape.onnx"))
            Issue.record("imported")
        } catch {
            #expect(error.message.contains("../outside.data") && error.location == "W")
        }
    }
}
