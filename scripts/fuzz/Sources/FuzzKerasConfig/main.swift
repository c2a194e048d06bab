import Foundation
import FuzzDriver
@testable import LSTMImportKeras
import LSTMLayouts

/// A Keras model config (`model.to_json()`, `config.json`, the `model_config` attribute): JSON → layer chain,
/// then every layer classified and checked and each recurrent layer's options decoded, as the importer does
/// before it reads any weight.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    guard let json = try? JSONValue.parse(data, what: "fuzz input"), let config = try? KerasModelConfig.parse(json) else {
        return 0
    }
    let generation = KerasGeneration(version: config.kerasVersion)
    _ = KerasGeneration.framework(version: config.kerasVersion)
    for layer in config.layers {
        guard let kind = try? KerasLayerKind.classify(layer), (try? KerasLayerKind.check(layer)) != nil else { continue }
        var recurrent: [(KerasLayerConfig, KerasCellClass, Bool)] = []
        switch kind {
        case .recurrent(let cell): recurrent = [(layer, cell, false)]
        case .rnnWrapper(let cell): recurrent = [(layer, cell, true)]
        case .bidirectional:
            for inner in (try? KerasBidirectional.innerLayers(of: layer)) ?? [] {
                switch try? KerasLayerKind.classify(inner) {
                case .recurrent(let cell)?: recurrent.append((inner, cell, false))
                case .rnnWrapper(let cell)?: recurrent.append((inner, cell, true))
                default: break
                }
            }
        default: break
        }
        for (sublayer, cell, wrapped) in recurrent {
            _ = try? KerasRecurrentOptions(sublayer, cellClass: cell, wrapped: wrapped, generation: generation)
        }
    }
    return 0
}

runFuzzer(fuzzOne)
