import Foundation
import FuzzDriver
@testable import LSTMImportKeras

/// The Functional graph builder (`KerasModelConfig.chain`): the input bytes describe a layer graph (each pair of
/// bytes is a layer: its class and the layer it is called on, possibly none, itself, several or a later one),
/// written as a Keras 3 or Keras 2 Functional config and ordered into a chain or refused. Structured input
/// reaches shapes of graphs (cycles, branches, shared layers, unreachable layers, dangling references) that byte
/// mutations of JSON text rarely form.
let classes = ["InputLayer", "LSTM", "GRU", "Dense", "Dropout", "Activation", "Concatenate", "Bidirectional", "Embedding"]

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count >= 3 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let keras3 = bytes[0] & 1 == 1
    let layerCount = min((count - 1) / 2, 512)
    var layers: [String] = []
    func name(_ index: Int) -> String { "l\(index)" }
    func reference(_ target: Int) -> String {
        keras3
            ? #"{"class_name":"__keras_tensor__","config":{"keras_history":["\#(name(target))",0,0]}}"#
            : #"["\#(name(target))",0,0,{}]"#
    }
    for index in 0..<layerCount {
        let kind = bytes[1 + 2 * index]
        let link = Int(bytes[2 + 2 * index])
        let className = classes[Int(kind) % classes.count]
        var nodes: [String] = []
        switch kind >> 4 {
        case 0: nodes = []  // never called
        case 1: nodes = [reference(index)]  // itself
        case 2: nodes = [reference(link % max(layerCount, 1))]  // anywhere, also later
        case 3: nodes = [reference((index + 1) % layerCount), reference(link % layerCount)]  // twice: shared
        case 4: nodes = ["[" + reference(link % layerCount) + "," + reference(max(index - 1, 0)) + "]"]  // two inputs
        case 5: nodes = [reference(10_000 + link)]  // dangling
        default: nodes = index == 0 ? [] : [reference(index - 1)]  // the chain
        }
        let inbound = keras3
            ? nodes.map { #"{"args":[\#($0)],"kwargs":{}}"# }
            : nodes.map { $0.hasPrefix("[[") || $0.hasPrefix("[{") ? $0 : "[\($0)]" }
        layers.append(
            #"{"class_name":"\#(className)","name":"\#(name(index))","config":{"name":"\#(name(index))","units":4,"layer":{"class_name":"LSTM","config":{"name":"f\#(index)","units":2}}},"inbound_nodes":[\#(inbound.joined(separator: ","))]}"#
        )
    }
    let last = Int(bytes[count - 1]) % max(layerCount, 1)
    let input = keras3 ? #"["l0",0,0]"# : #"[["l0",0,0]]"#
    let output = keras3 ? #"["\#(name(last))",0,0]"# : #"[["\#(name(last))",0,0]]"#
    let json = #"{"class_name":"Functional","config":{"name":"m","layers":[\#(layers.joined(separator: ","))],"input_layers":\#(input),"output_layers":\#(output)}}"#
    guard let value = try? JSONValue.parse(Data(json.utf8), what: "fuzz graph") else {
        fatalError("the generated config is not JSON: \(json)")
    }
    if let config = try? KerasModelConfig.parse(value) {
        // A chain comes back: each layer once, starting at the input, ending at the output.
        let names = config.layers.map(\.name)
        precondition(Set(names).count == names.count, "a layer appears twice in the chain: \(names)")
        precondition(names.first == "l0" && names.last == name(last), "the chain does not run from input to output: \(names)")
    }
    return 0
}

runFuzzer(fuzzOne)
