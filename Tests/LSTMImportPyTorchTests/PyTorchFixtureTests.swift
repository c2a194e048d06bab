import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import LSTMModel
import LSTMTestSupport
import Testing

/// Every PyTorch fixture (real `torch.save` and `safetensors` output) imported and checked against its source.
@Suite struct PyTorchFixtureTests {
    @Test func fixturesArePresent() {
        #expect(PyTorchFixtures.caseNames.count >= 10, "expected the generated PyTorch fixtures under \(PyTorchFixtures.root.path)")
    }

    @Test(arguments: PyTorchFixtures.caseNames)
    func ptAndSafetensorsImportToTheSameModel(_ name: String) throws {
        let fixture = try PyTorchFixtures.Case(name)
        let fromPT = try PyTorchImporter.importFile(at: fixture.pt, options: fixture.options)
        let fromST = try PyTorchImporter.importFile(at: fixture.safetensors, options: fixture.options)
        #expect(fromPT.model.layers.count == fromST.model.layers.count)
        for (a, b) in zip(fromPT.model.layers, fromST.model.layers) {
            #expect(a == b, "layer differs between model.pt and model.safetensors")
        }
        // Same tensors, byte for byte, under the same document paths.
        let ptTensors = fromPT.model.storedTensors
        let stTensors = fromST.model.storedTensors
        #expect(ptTensors.map(\.slot.path) == stTensors.map(\.slot.path))
        for (a, b) in zip(ptTensors, stTensors) {
            #expect(a.tensor.bytes == b.tensor.bytes, "\(a.slot.path)")
            #expect(a.tensor.dtype == b.tensor.dtype, "\(a.slot.path)")
        }
        #expect(fromPT.ignoredKeys == fromST.ignoredKeys)
    }

    @Test(arguments: PyTorchFixtures.caseNames)
    func importedLayersMatchTheCase(_ name: String) throws {
        let fixture = try PyTorchFixtures.Case(name)
        let result = try PyTorchImporter.importFile(at: fixture.safetensors, options: fixture.options)
        let layers = result.model.layers
        try #require(layers.count == fixture.expectedLayers.count)
        for (layer, expected) in zip(layers, fixture.expectedLayers) {
            #expect(layer.kindName == expected["kind"] as? String)
            switch layer {
            case .recurrent(let recurrent):
                #expect(recurrent.inputSize == expected["input_size"] as? Int)
                #expect(recurrent.hiddenSize == expected["hidden_size"] as? Int)
                #expect((recurrent.projectionSize ?? 0) == expected["projection_size"] as? Int)
                #expect(recurrent.directions.count == expected["directions"] as? Int)
                #expect((recurrent.mergeMode?.rawValue ?? "none") == expected["merge_mode"] as? String)
                #expect(recurrent.returnSequences == expected["return_sequences"] as? Bool)
                #expect(recurrent.bias.rawValue == expected["bias"] as? String)
                #expect(recurrent.activation == .tanh && recurrent.recurrentActivation == .sigmoid)
                #expect(recurrent.useGate == .standard && recurrent.peepholes == .none && !recurrent.goBackwards)
                if recurrent.cell == .gru { #expect(recurrent.resetMode?.rawValue == expected["reset"] as? String) }
                let dtype = ["float16": DType.f16, "bfloat16": .bf16, "float64": .f64][fixture.storedDType] ?? .f32
                for set in recurrent.directions {
                    for tensor in set.tensors.values { #expect(tensor.dtype == dtype, "stored dtype must be kept") }
                }
            case .dense(let dense):
                #expect(dense.inputSize == expected["input_size"] as? Int)
                #expect(dense.units == expected["units"] as? Int)
                #expect(dense.useBias == expected["use_bias"] as? Bool)
                #expect(dense.activation == .linear)
            case .embedding:
                Issue.record("PyTorch import never makes an embedding layer")
            }
        }
        #expect(result.model.provenance.sourceFramework == "pytorch")
        #expect(result.model.provenance.sourceLayout == (fixture.moduleClass.hasPrefix("GRU") ? "pytorch.gru" : "pytorch.lstm"))
        #expect(result.model.provenance.sourceSHA256 == FileDigest.sha256Hex(of: try Data(contentsOf: fixture.safetensors)))
        #expect(result.ignoredKeys.isEmpty, "every key of a case is used: \(result.ignoredKeys)")
        #expect(result.layerSummaries.count == layers.count)
    }

    /// The document tensors are exactly the source rows the spec names: `W_g = [weight_hh[g] | weight_ih[g]]`,
    /// `b_g = bias_ih[g]`, `bh_g = bias_hh[g]`, `W_p = weight_hr`, with the gate order written out here
    /// independently of the layout table.
    @Test(arguments: PyTorchFixtures.caseNames)
    func documentTensorsAreTheSourceRows(_ name: String) throws {
        let fixture = try PyTorchFixtures.Case(name)
        for url in [fixture.pt, fixture.safetensors] {
            let (raw, _) = try PyTorchImporter.readStateDict(at: url)
            let result = try PyTorchImporter.importFile(at: url, options: fixture.options)
            let isCell = fixture.moduleClass.hasSuffix("Cell")
            let prefix = fixture.prefix.isEmpty ? "" : fixture.prefix + "."
            for (index, layer) in result.model.layers.enumerated() {
                guard case .recurrent(let recurrent) = layer else { continue }
                let gates: [(TensorRole, TensorRole, TensorRole)] = recurrent.cell == .lstm
                    ? [(.W_i, .b_i, .bh_i), (.W_f, .b_f, .bh_f), (.W_n, .b_n, .bh_n), (.W_v, .b_v, .bh_v)]  // i, f, g, o
                    : [(.W_r, .b_r, .bh_r), (.W_z, .b_z, .bh_z), (.W_c, .b_c, .bh_c)]  // r, z, n
                let (h, r, i) = (recurrent.hiddenSize, recurrent.recurrentSize, recurrent.inputSize)
                for (direction, set) in recurrent.directions.enumerated() {
                    let suffix = isCell ? "" : "_l\(index)" + (direction == 1 ? "_reverse" : "")
                    func source(_ name: String) throws -> Tensor {
                        try #require(raw.tensor(prefix + name + suffix), "\(prefix + name + suffix) in \(url.lastPathComponent)")
                    }
                    let (weightIH, weightHH) = (try source("weight_ih").doubles(), try source("weight_hh").doubles())
                    let (biasIH, biasHH) = (try source("bias_ih").doubles(), try source("bias_hh").doubles())
                    for (block, (weight, bias, secondBias)) in gates.enumerated() {
                        let w = try #require(set[weight]).doubles()
                        var expected: [Double] = []
                        for row in 0..<h {
                            let sourceRow = block * h + row
                            expected += weightHH[sourceRow * r ..< (sourceRow + 1) * r]
                            expected += weightIH[sourceRow * i ..< (sourceRow + 1) * i]
                        }
                        #expect(w == expected, "\(url.lastPathComponent) layer \(index) direction \(direction) \(weight)")
                        #expect(try #require(set[bias]).doubles() == Array(biasIH[block * h ..< (block + 1) * h]))
                        #expect(try #require(set[secondBias]).doubles() == Array(biasHH[block * h ..< (block + 1) * h]))
                    }
                    if recurrent.projectionSize != nil {
                        #expect(try #require(set[.W_p]).bytes == (try source("weight_hr")).bytes)
                    } else {
                        #expect(set[.W_p] == nil)
                    }
                }
            }
        }
    }

    /// `model.pt` (strides, storage offsets, shared storages materialised) and `model.safetensors` hold the same bytes.
    @Test(arguments: PyTorchFixtures.caseNames)
    func stateDictsAgreeAcrossFormats(_ name: String) throws {
        let fixture = try PyTorchFixtures.Case(name)
        let (pt, _) = try PyTorchImporter.readStateDict(at: fixture.pt)
        let (st, _) = try PyTorchImporter.readStateDict(at: fixture.safetensors)
        #expect(pt.format == .torchZip)
        #expect(st.format == .safetensors)
        #expect(Set(pt.entries.map(\.key)) == Set(st.entries.map(\.key)))
        for (key, value) in st.entries {
            #expect(pt[key] == value, "\(key)")
        }
    }

    @Test func stridedTensorsAreMaterialisedInCOrder() throws {
        let fixture = try PyTorchFixtures.Case("lstm_strided")
        let stated = try #require(fixture.json["state_dict"] as? [[String: Any]])
        #expect(stated.contains { ($0["contiguous"] as? Bool) == false }, "the case must hold a non-contiguous tensor")
        #expect(stated.contains { ($0["storage_offset"] as? Int ?? 0) > 0 }, "the case must hold a storage offset")
        let (pt, _) = try PyTorchImporter.readStateDict(at: fixture.pt)
        let (st, _) = try PyTorchImporter.readStateDict(at: fixture.safetensors)
        for key in ["weight_ih_l0", "bias_hh_l0"] {
            let a = try #require(pt.tensor(key))
            let b = try #require(st.tensor(key))
            #expect(a.shape == b.shape)
            #expect(a.bytes == b.bytes, "\(key)")
        }
    }

    @Test func legacyTorchSaveImportsLikeTheZipArchive() throws {
        let legacy = try PyTorchImporter.importFile(at: PyTorchFixtures.bad("legacy_nonzip.pt"))
        let zip = try PyTorchImporter.importFile(at: PyTorchFixtures.url("lstm_1layer", "model.pt"))
        #expect(legacy.model.layers == zip.model.layers)
        #expect(try PyTorchImporter.readStateDict(at: PyTorchFixtures.bad("legacy_nonzip.pt")).stateDict.format == .torchLegacy)
    }

    @Test func aChosenModuleOfSeveralImports() throws {
        let url = PyTorchFixtures.bad("two_modules.pt")
        let (raw, _) = try PyTorchImporter.readStateDict(at: url)
        #expect(PyTorchImporter.recurrentModules(in: raw) == ["enc", "dec"])
        let encoder = try PyTorchImporter.importFile(at: url, options: PyTorchImportOptions(module: "enc"))
        let decoder = try PyTorchImporter.importFile(at: url, options: PyTorchImportOptions(module: "dec"))
        #expect(encoder.model.layers.first?.kindName == "lstm")
        #expect(decoder.model.layers.first?.kindName == "gru")
        // The other module's keys are listed, never silently dropped.
        #expect(!encoder.ignoredKeys.isEmpty && encoder.ignoredKeys.allSatisfy { $0.hasPrefix("dec.") })
        #expect(throws: ImportError(.noRecurrentWeights, "")) {
            try PyTorchImporter.importFile(at: url, options: PyTorchImportOptions(module: "nope"))
        }
    }

    @Test func aHeadLeftOutIsListedAndSuggested() throws {
        let fixture = try PyTorchFixtures.Case("prefixed_head_last")
        let result = try PyTorchImporter.importFile(at: fixture.pt, options: PyTorchImportOptions(module: "encoder.rnn"))
        #expect(result.model.layers.count == 1)
        #expect(result.ignoredKeys == ["head.weight", "head.bias"])
        #expect(result.warnings.contains { $0.contains("pass --head head to keep it") }, "\(result.warnings)")
    }

    @Test func aHeadThatDoesNotFitIsRefused() throws {
        let url = PyTorchFixtures.bad("two_modules.pt")
        #expect(throws: ImportError(.missingTensor, "")) {
            try PyTorchImporter.importFile(at: url, options: PyTorchImportOptions(module: "enc", head: "classifier"))
        }
    }
}
