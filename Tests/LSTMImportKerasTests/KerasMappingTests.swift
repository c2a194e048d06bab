import Foundation
import HDF5Bridge
import LSTMImportKeras
import LSTMModel
import LSTMTestSupport
import Testing

/// Checks every imported tensor against the raw Keras datasets with index arithmetic written out here,
/// independently of the `FusedLayout` tables the importer slices with (weight-layouts.md §2.1, §2.4).
@Suite("Keras mapping against the raw source datasets")
struct KerasMappingTests {
    static let legacySources = KerasFixtures.sources.filter { $0.kind == .h5 }

    @Test("document tensors equal the Keras kernels cut by hand", arguments: legacySources)
    func mapping(source: KerasFixtureSource) throws {
        let fixture = try source.fixture
        let model = try KerasImporter.importFile(at: source.file).model
        let file = try HDF5File.openReadOnly(source.file.path)
        let weighted = fixture.weightedLayers
        try #require(weighted.count == model.layers.count)
        for (index, (layer, keras)) in zip(model.layers, weighted).enumerated() {
            let group = "model_weights/\(keras.name)"
            let names = try file.root().group(group).attributes.joinedStrings("weight_names")
            func raw(_ list: ArraySlice<String>, _ role: String) throws -> (shape: [Int], values: [Float]) {
                let match = list.first { $0.split(separator: "/").last.map { String($0).replacingOccurrences(of: ":0", with: "") } == role }
                guard let name = match else { throw KerasMissingWeight(group: group, role: role) }
                return try KerasRawHDF5.floats(file, "\(group)/\(name)")
            }
            switch layer {
            case .embedding(let embedding):
                let table = try raw(names[...], "embeddings")
                #expect(embedding.parameters.tensors[.W_e]?.floats() == table.values)
            case .dense(let dense):
                let kernel = try raw(names[...], "kernel")
                let (inputs, units) = (kernel.shape[0], kernel.shape[1])
                let expected = (0..<units).flatMap { u in (0..<inputs).map { i in kernel.values[i * units + u] } }
                #expect(dense.parameters.tensors[.W_d]?.floats() == expected, "layer \(index) W_d")
                if dense.useBias { #expect(dense.parameters.tensors[.b_d]?.floats() == (try raw(names[...], "bias")).values) }
            case .recurrent(let recurrent):
                let halves = recurrent.directions.count == 2 ? [names[..<(names.count / 2)], names[(names.count / 2)...]] : [names[...]]
                let cudnn = keras.class.hasPrefix("CuDNN")
                for (set, list) in zip(recurrent.directions, halves) {
                    // use_bias=False: no bias dataset at all.
                    let hasBias = list.contains { $0.split(separator: "/").last.map { String($0).replacingOccurrences(of: ":0", with: "") } == "bias" }
                    try check(
                        set, recurrent: recurrent, cudnn: cudnn, kernel: raw(list, "kernel"), rk: raw(list, "recurrent_kernel"),
                        bias: hasBias ? raw(list, "bias") : nil)
                }
            }
        }
    }

    /// Expected document tensors of one direction from the raw `kernel [I, GH]`, `recurrent_kernel [H, GH]` and `bias`.
    func check(
        _ set: ParameterSet, recurrent: RecurrentLayer, cudnn: Bool,
        kernel: (shape: [Int], values: [Float]), rk: (shape: [Int], values: [Float]), bias: (shape: [Int], values: [Float])?
    ) throws {
        let h = recurrent.hiddenSize
        let i = recurrent.inputSize
        // Keras block order: LSTM i, f, c, o → W_i, W_f, W_n, W_v; GRU z, r, h → W_z, W_r, W_c.
        let blocks: [(TensorRole, TensorRole, TensorRole)] =
            recurrent.cell == .lstm
            ? [(.W_i, .b_i, .bh_i), (.W_f, .b_f, .bh_f), (.W_n, .b_n, .bh_n), (.W_v, .b_v, .bh_v)]
            : [(.W_z, .b_z, .bh_z), (.W_r, .b_r, .bh_r), (.W_c, .b_c, .bh_c)]
        let width = blocks.count * h
        #expect(kernel.shape == [i, width])
        #expect(rk.shape == [h, width])
        for (k, (weight, b, bh)) in blocks.enumerated() {
            var expected = [Float](repeating: 0, count: h * (h + i))
            for row in 0..<h {
                for column in 0..<h {
                    // Recurrent part: Keras stores [H_in, H_out] (transpose); cuDNN blocks are read as [H_out, H_in].
                    expected[row * (h + i) + column] = cudnn ? rk.values[row * width + k * h + column] : rk.values[column * width + k * h + row]
                }
                for column in 0..<i {
                    let value: Float
                    if cudnn {
                        // The [I, H] block's elements in C order, reinterpreted as [H, I].
                        let flat = row * i + column
                        value = kernel.values[(flat / h) * width + k * h + flat % h]
                    } else {
                        value = kernel.values[column * width + k * h + row]
                    }
                    expected[row * (h + i) + h + column] = value
                }
            }
            #expect(set.tensors[weight]?.floats() == expected, "\(weight)")
            guard let bias else {
                // use_bias=False: zero biases, two of them exactly when the layer is declared with two (GRU reset_after).
                let zeros = [Float](repeating: 0, count: h)
                #expect(set.tensors[b]?.floats() == zeros, "\(b)")
                #expect(set.tensors[bh]?.floats() == (recurrent.bias == .double ? zeros : nil), "\(bh)")
                continue
            }
            // One bias [GH], or two: GRU reset_after [2, GH] rows, cuDNN [2GH] halves (same C-order layout).
            let first = Array(bias.values[(k * h)..<((k + 1) * h)])
            let second: [Float]? = bias.values.count == 2 * width ? Array(bias.values[(width + k * h)..<(width + (k + 1) * h)]) : nil
            #expect(set.tensors[b]?.floats() == first, "\(b)")
            #expect(set.tensors[bh]?.floats() == second, "\(bh)")
        }
    }
}

struct KerasMissingWeight: Error {
    var group: String
    var role: String
}
