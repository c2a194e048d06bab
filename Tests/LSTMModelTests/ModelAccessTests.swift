import Foundation
import LSTMModel
import LSTMTestSupport
import Testing

@Suite("Name-based tensor access and layer properties")
struct ModelAccessTests {
    static let models = GoldenModels.all

    @Test("model[path] returns the tensor stored in that slot, for every stored tensor", arguments: models.map(\.name))
    func subscriptMatchesStoredTensors(name: String) throws {
        let model = try #require(Self.models.first { $0.name == name }?.model)
        let stored = model.storedTensors
        #expect(stored.count >= 8, "a golden model has at least one gate's tensors")
        #expect(model.tensorNames == stored.map(\.slot.path))
        for (slot, tensor, _) in stored {
            #expect(model[slot.path] == tensor, "\(slot.path)")
            #expect(model[layer: slot.layer, direction: slot.direction, role: slot.role] == tensor)
            #expect(try model.tensor(named: slot.path) == tensor)
        }
    }

    @Test("unknown, malformed and aliasing paths find nothing", arguments: [
        "layer_0/forward/W_x", "layer_00/forward/W_n", "layer_-1/forward/W_n", "layer_9/forward/W_n",
        "layer_0/sideways/W_n", "W_n", "", "layer_0//W_n", "layer_0/forward/W_n/extra",
    ])
    func unknownPaths(path: String) {
        let model = GoldenModels.smallLSTM
        #expect(model[path] == nil)
        #expect(throws: ModelError(.missingTensor)) { try model.tensor(named: path) }
    }

    @Test("layer properties need no pattern matching")
    func layerProperties() throws {
        let model = GoldenModels.projectedPeepholeLSTM
        let layer = try #require(model.layers.first)
        guard case .recurrent(let recurrent) = layer else {
            Issue.record("the golden model starts with a recurrent layer")
            return
        }
        #expect(layer.hiddenSize == recurrent.hiddenSize)
        #expect(layer.inputSize == recurrent.inputSize)
        #expect(layer.recurrent == recurrent)
        #expect(layer.dense == nil && layer.embedding == nil)
        #expect(layer.tensors.count == recurrent.directions.reduce(0) { $0 + $1.tensors.count })
    }

    @Test("scalars(as:) decodes every dtype like floats() and doubles()", arguments: DType.allCases)
    func scalarsMatchCopies(dtype: DType) throws {
        let model = GoldenModels.smallLSTM.converted(to: dtype)
        for (_, tensor, _) in model.storedTensors {
            #expect(tensor.scalars(as: Float.self) == tensor.floats())
            #expect(tensor.scalars(as: Double.self) == tensor.doubles())
            let direct = tensor.withUnsafeScalars { Array($0) }
            if dtype == .f32 { #expect(direct == tensor.floats()) } else { #expect(direct == nil) }
        }
    }
}
