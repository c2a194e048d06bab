import Foundation
import LSTMBinary
import LSTMModel
import LSTMTestSupport
import PropertyBased
import Testing

/// The shape of one random recurrent layer.
struct LayerChoice: Sendable, CustomStringConvertible {
    var cell: CellKind
    var hidden: Int
    /// 0 = no projection (LSTM only).
    var projection: Int
    var bidirectional: Bool
    var dtype: DType
    var peepholes: PeepholeForm
    var bias: BiasKind
    var useGate: UseGateVariant
    var merge: MergeMode
    var seed: Int

    var description: String {
        "\(cell)(H=\(hidden), P=\(projection), bi=\(bidirectional), \(dtype), \(peepholes), \(bias), \(useGate), \(merge))"
    }

    static let generator = zip(
        Gen<CellKind>.case, Gen.int(in: 1...5), Gen.int(in: 0...3), Gen.bool(), Gen<DType>.case,
        Gen<PeepholeForm>.case, Gen<BiasKind>.case, Gen<UseGateVariant>.case, Gen<MergeMode>.case, Gen.int(in: 0...10_000)
    ).map { LayerChoice(cell: $0, hidden: $1, projection: $2, bidirectional: $3, dtype: $4, peepholes: $5, bias: $6, useGate: $7, merge: $8, seed: $9) }

    /// The layer, with `inputSize` features in and deterministic values.
    func layer(inputSize: Int) -> Layer {
        var recurrent = RecurrentLayer(
            cell: cell, inputSize: inputSize, hiddenSize: hidden,
            directions: bidirectional ? [ParameterSet(), ParameterSet()] : [ParameterSet()],
            mergeMode: bidirectional ? merge : nil, returnSequences: seed % 2 == 0, goBackwards: seed % 3 == 0,
            bias: bias)
        switch cell {
        case .lstm:
            recurrent.projectionSize = projection == 0 ? nil : projection
            recurrent.peepholes = peepholes
            recurrent.useGate = useGate
            if seed % 5 == 0 { recurrent.recurrentActivation = .hardSigmoidKeras3 }
            if seed % 7 == 0 { recurrent.cellClip = 3.5 }
            recurrent.forgetBias = seed % 4 == 0 ? 1 : 0
        case .gru:
            recurrent.resetMode = bias == .double ? .after : .before
        case .rnn:
            if seed % 2 == 1 { recurrent.activation = .relu }
        }
        if !recurrent.returnSequences, seed % 11 == 0 { recurrent.finalOutput = .lastStep }
        if seed % 13 == 0 { recurrent.maskedOutput = .zero }
        return GoldenModels.filled(.recurrent(recurrent), seed: seed, dtype: dtype)
    }
}

/// A random model: optional embedding, 1–3 recurrent layers, optional dense head.
struct ModelChoice: Sendable, CustomStringConvertible {
    var inputSize: Int
    var layers: [LayerChoice]
    var embedding: Bool
    var denseUnits: Int
    var headDType: DType
    var framework: String

    var description: String { "input \(inputSize), embedding \(embedding), \(layers), dense \(denseUnits) \(headDType), \(framework)" }

    static let generator = zip(
        Gen.int(in: 1...4), LayerChoice.generator.array(of: 1...3), Gen.bool(), Gen.int(in: 0...3), Gen<DType>.case,
        Gen.letterOrNumber.string(of: 0...12)
    ).map { ModelChoice(inputSize: $0, layers: $1, embedding: $2, denseUnits: $3, headDType: $4, framework: $5) }

    var model: Model {
        var layers: [Layer] = []
        if embedding {
            layers.append(GoldenModels.filled(
                .embedding(EmbeddingLayer(vocabularySize: 7, embeddingSize: inputSize, parameters: ParameterSet())),
                seed: 3, dtype: headDType))
        }
        var features = inputSize
        for choice in self.layers {
            let layer = choice.layer(inputSize: features)
            features = layer.outputSize
            layers.append(layer)
        }
        if denseUnits > 0 {
            layers.append(GoldenModels.filled(
                .dense(DenseLayer(inputSize: features, units: denseUnits, activation: .softmax, useBias: denseUnits != 2, parameters: ParameterSet())),
                seed: 11, dtype: headDType))
        }
        return Model(layers: layers, provenance: Provenance(
            sourceFramework: framework, sourceFrameworkVersion: "2.15 ✓", sourceLayout: "pytorch.lstm.ifgo.two_bias",
            sourceSHA256: String(repeating: "ab", count: 32), converter: FormatVersion.converter))
    }
}

@Suite("Property-based round trips")
struct PropertyTests {
    @Test("encode → read gives the same model, deterministically and with the spec's layout")
    func roundTrip() async {
        await propertyCheck(count: 150, input: ModelChoice.generator) { choice throws in
            let model = choice.model
            try model.validate()
            let encoded = try BinaryWriter.encode(model)
            let again = try BinaryWriter.encode(model)
            #expect(again == encoded, "writer is not deterministic")
            #expect(RawFile(model: model).encode() == encoded, "writer layout differs from the spec encoder")

            let file = try BinaryFile(bytes: encoded)
            let read = try file.model()
            #expect(read == model)
            let header = file.header
            #expect(header.dataOffset % BinaryFormat.alignment == 0)
            #expect(header.tensors.allSatisfy { $0.offset % BinaryFormat.alignment == 0 })
            let last = try #require(header.tensors.last)
            #expect(header.fileOffset(of: last) + last.byteCount == encoded.count)
            #expect(header.tensors.map(\.path) == model.storedTensors.map(\.slot.path))
            #expect(file.verify().isValid)
        }
    }

    @Test("dtype conversion round-trips through the file")
    func convertedRoundTrip() async {
        await propertyCheck(count: 40, input: ModelChoice.generator, Gen<DType>.case) { choice, dtype throws in
            var model = choice.model
            for index in model.layers.indices {
                model.layers[index] = Self.converted(model.layers[index], to: dtype)
            }
            let read = try BinaryFile.readModel(from: try BinaryWriter.encode(model))
            #expect(read == model)
            #expect(read.storedTensors.allSatisfy { $0.tensor.dtype == dtype })
        }
    }

    static func converted(_ layer: Layer, to dtype: DType) -> Layer {
        func convert(_ set: ParameterSet) -> ParameterSet {
            ParameterSet(tensors: set.tensors.mapValues { $0.converted(to: dtype) }, sources: set.sources)
        }
        switch layer {
        case .embedding(var embedding):
            embedding.parameters = convert(embedding.parameters)
            return .embedding(embedding)
        case .dense(var dense):
            dense.parameters = convert(dense.parameters)
            return .dense(dense)
        case .recurrent(var recurrent):
            recurrent.directions = recurrent.directions.map(convert)
            return .recurrent(recurrent)
        }
    }
}
