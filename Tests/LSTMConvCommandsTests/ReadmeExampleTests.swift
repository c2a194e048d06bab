import Foundation
import LSTMConv
import Testing

/// The README's "From Swift" example, line for line, on a committed golden checkpoint: it must compile and run.
@Suite("README library example") struct ReadmeExampleTests {
    @Test func loadInspectAndRun() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/golden/small_lstm.lstmw")
        let model = try Checkpoint.load(url)  // or .h5; checksums verified
        var paths: [String] = []
        for (slot, tensor, source) in model.storedTensors {
            paths.append("\(slot.path) \(tensor.shape) \(tensor.dtype) \(source ?? "")")
        }
        #expect(paths.first?.hasPrefix("layer_0/forward/W_n [4, 7] f32") == true)
        let x = try NDArray<Float>(shape: [1, 5, 3], scalars: Array(repeating: 0.1, count: 15))
        let y = try Engine.fast.run(model, input: .float32(x))  // or Engine.reference (float64)
        #expect(y.output.shape == [1, 5, 4])
        #expect(y.finalStates.keys.count == 1)
        let reference = try Engine.reference.run(model, input: .float32(x))
        #expect(Comparison(actual: y.output, expected: reference.output, atol: 1e-5, rtol: 0).isWithinTolerance)
    }
}
