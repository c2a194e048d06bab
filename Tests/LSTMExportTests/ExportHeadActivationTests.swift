import Foundation
import LSTMExport
import LSTMModel
import LSTMTestSupport
import Testing

/// A state_dict holds no activation: a non-linear head exports its Linear weights and states the activation in
/// the metadata and the notes instead of being refused.
@Suite struct ExportHeadActivationTests {
    static let activations: [Activation] = [.softmax, .sigmoid, .tanh, .relu, .hardSigmoidKeras3]

    @Test(arguments: activations)
    func headActivationIsStated(_ activation: Activation) throws {
        let model = Model(layers: [ExportModels.recurrent(returnSequences: false), ExportModels.dense(input: 4, activation: activation)])
        let export = try PyTorchExporter.export(model, options: PyTorchExportOptions(prefix: "rnn"))
        #expect(export.headActivation == activation)
        #expect(export.tensorsByKey["head.weight"] != nil && export.tensorsByKey["head.bias"] != nil)
        let stated = try #require(export.metadata["lstmconv.head_activation"])
        #expect(stated.contains("\"name\":\"\(activation.name)\""))
        #expect(export.metadata["lstmconv.modules"]?.contains("\"activation\":") == true)
        #expect(export.notes.contains { $0.contains("head's activation") })
    }

    @Test func linearHeadStatesNothing() throws {
        let model = Model(layers: [ExportModels.recurrent(returnSequences: false), ExportModels.dense(input: 4)])
        let export = try PyTorchExporter.export(model)
        #expect(export.headActivation == nil && export.metadata["lstmconv.head_activation"] == nil)
    }
}
