import Foundation
import LSTMLayouts
import LSTMImportKeras
import LSTMImportONNX
import LSTMImportPyTorch
import LSTMModel
import PropertyBased
import Testing

/// `FusedLayout.disassemble` is the exact inverse of `FusedLayout.assemble`, for every layout table lstmconv has.
@Suite("Export: disassemble inverts assemble")
struct ExportLayoutPropertyTests {
    static let layouts: [FusedLayout] = PyTorchLayouts.all + KerasLayouts.all + ONNXLayouts.all + DocumentedLayouts.all

    /// Random sizes, dtype and bytes for one layout.
    struct Sizes: Sendable, CustomStringConvertible {
        var layout: Int
        var hidden: Int
        var input: Int
        /// R; only differs from H when the layout has a projection.
        var projection: Int
        var dtype: DType
        var seed: UInt64

        var table: FusedLayout { ExportLayoutPropertyTests.layouts[layout] }
        var hasProjection: Bool { table.tensors.contains { $0.part == .projection } }
        var recurrent: Int { hasProjection ? projection : hidden }
        var gateRows: Int { table.gates.count * hidden }
        var description: String { "\(table.id) H=\(hidden) I=\(input) R=\(recurrent) \(dtype) seed \(seed)" }

        static let generator = zip(
            Gen.int(in: 0...(ExportLayoutPropertyTests.layouts.count - 1)), Gen.int(in: 1...5), Gen.int(in: 1...6),
            Gen.int(in: 1...4), Gen<DType>.case, Gen.uint64(in: 0...UInt64.max)
        ).map { Sizes(layout: $0, hidden: $1, input: $2, projection: $3, dtype: $4, seed: $5) }

        /// The source shape each table entry has (written out from the part and fused axis, independently of
        /// the routines under test).
        func sourceShape(_ source: SourceTensor) -> [Int] {
            let (h, g) = (hidden, gateRows)
            switch source.part {
            case .inputColumns: return source.fusedAxis == 0 ? [g, input] : [input, g]
            case .recurrentColumns: return source.fusedAxis == 0 ? [g, recurrent] : [recurrent, g]
            case .inputThenRecurrentRows: return [input + recurrent, g]
            case .bias, .secondBias: return [g]
            case .biasThenSecondBias: return [2 * g]
            case .biasRows: return [2, g]
            case .peepholes: return [source.peepholeOrder.count * h]
            case .projection: return source.transform == .transpose ? [h, recurrent] : [recurrent, h]
            }
        }

        /// The document tensors the table consumes, with their shapes.
        var documentShapes: [TensorRole: [Int]] {
            var shapes: [TensorRole: [Int]] = [:]
            for source in table.tensors {
                for entry in table.gates {
                    switch source.part {
                    case .inputColumns, .recurrentColumns, .inputThenRecurrentRows:
                        shapes[entry.gate.weight] = [hidden, recurrent + input]
                    case .bias: shapes[entry.gate.bias] = [hidden]
                    case .secondBias: shapes[entry.gate.secondBias] = [hidden]
                    case .biasThenSecondBias, .biasRows:
                        shapes[entry.gate.bias] = [hidden]
                        shapes[entry.gate.secondBias] = [hidden]
                    case .peepholes, .projection: break
                    }
                }
                if source.part == .peepholes {
                    for gate in source.peepholeOrder { if let role = gate.peephole { shapes[role] = [hidden] } }
                }
                if source.part == .projection { shapes[.W_p] = [recurrent, hidden] }
            }
            return shapes
        }
    }

    /// Random bytes (any bit pattern, NaNs included: the routines copy bytes, they never read values).
    static func randomTensor(_ shape: [Int], _ dtype: DType, _ generator: inout ExportRandom) throws -> Tensor {
        let count = shape.reduce(1, *) * dtype.byteWidth
        return try Tensor(dtype: dtype, shape: shape, bytes: Data((0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }))
    }

    @Test("disassemble(assemble(y)) == y, byte for byte")
    func sourceRoundTrip() async {
        await propertyCheck(count: 300, input: Sizes.generator) { sizes throws in
            var random = ExportRandom(seed: sizes.seed)
            var found: [String: FoundTensor] = [:]
            for source in sizes.table.tensors {
                found[source.name] = FoundTensor(try Self.randomTensor(sizes.sourceShape(source), sizes.dtype, &random), sourceName: source.name)
            }
            let set = try sizes.table.assemble(found, hiddenSize: sizes.hidden, inputSize: sizes.input, recurrentSize: sizes.recurrent)
            let back = try sizes.table.disassemble(set, hiddenSize: sizes.hidden, inputSize: sizes.input, recurrentSize: sizes.recurrent)
            #expect(back == found.mapValues(\.tensor), "\(sizes)")
        }
    }

    @Test("assemble(disassemble(x)) == x, byte for byte")
    func documentRoundTrip() async {
        await propertyCheck(count: 300, input: Sizes.generator) { sizes throws in
            var random = ExportRandom(seed: sizes.seed)
            var set = ParameterSet()
            for (role, shape) in sizes.documentShapes.sorted(by: { $0.key < $1.key }) {
                set.tensors[role] = try Self.randomTensor(shape, sizes.dtype, &random)
            }
            let fused = try sizes.table.disassemble(set, hiddenSize: sizes.hidden, inputSize: sizes.input, recurrentSize: sizes.recurrent)
            #expect(Set(fused.keys) == Set(sizes.table.tensors.map(\.name)))
            for source in sizes.table.tensors {
                #expect(fused[source.name]?.shape == sizes.sourceShape(source), "\(sizes): \(source.name)")
                #expect(fused[source.name]?.dtype == sizes.dtype)
            }
            let again = try sizes.table.assemble(
                fused.mapValues { FoundTensor($0, sourceName: "x") }, hiddenSize: sizes.hidden, inputSize: sizes.input,
                recurrentSize: sizes.recurrent)
            #expect(again.tensors == set.tensors, "\(sizes)")
        }
    }

    @Test("a known PyTorch LSTM block lands where the table says")
    func knownBlockPlacement() throws {
        // H=1, I=1, R=1: W_g = [recurrent | input] = [10g+1, 10g+2] for gate index g in document order n, i, f, v.
        var set = ParameterSet()
        let gates: [DocumentGate] = [.n, .i, .f, .v]
        for (index, gate) in gates.enumerated() {
            let base = Float(10 * (index + 1))
            set.tensors[gate.weight] = Tensor([base + 1, base + 2], shape: [1, 2])
            set.tensors[gate.bias] = Tensor([base + 3], shape: [1])
            set.tensors[gate.secondBias] = Tensor([base + 4], shape: [1])
        }
        var layout = PyTorchLayouts.lstm
        layout.tensors.removeAll { $0.part == .projection }
        let fused = try layout.disassemble(set, hiddenSize: 1, inputSize: 1, recurrentSize: 1)
        // PyTorch order i, f, g(n), o(v): rows 20, 30, 10, 40.
        #expect(fused["weight_ih_l{k}{_reverse}"]?.floats() == [22, 32, 12, 42])
        #expect(fused["weight_hh_l{k}{_reverse}"]?.floats() == [21, 31, 11, 41])
        #expect(fused["bias_ih_l{k}{_reverse}"]?.floats() == [23, 33, 13, 43])
        #expect(fused["bias_hh_l{k}{_reverse}"]?.floats() == [24, 34, 14, 44])
    }

    @Test("a tensor the table has no place for is refused, a missing one named")
    func strictness() throws {
        var layout = PyTorchLayouts.gru
        var set = ParameterSet()
        for gate in [DocumentGate.z, .r, .c] {
            set.tensors[gate.weight] = Tensor([1, 2, 3], shape: [1, 3])
            set.tensors[gate.bias] = Tensor([0], shape: [1])
            set.tensors[gate.secondBias] = Tensor([0], shape: [1])
        }
        _ = try layout.disassemble(set, hiddenSize: 1, inputSize: 2, recurrentSize: 1)
        var extra = set
        extra.tensors[.P_i] = Tensor([0], shape: [1])
        #expect(throws: ImportError(.unsupportedLayer, "")) { try layout.disassemble(extra, hiddenSize: 1, inputSize: 2, recurrentSize: 1) }
        var missing = set
        missing.tensors[.bh_r] = nil
        #expect(throws: ImportError(.missingTensor, "")) { try layout.disassemble(missing, hiddenSize: 1, inputSize: 2, recurrentSize: 1) }
        #expect(throws: ImportError(.shapeMismatch, "")) { try layout.disassemble(set, hiddenSize: 1, inputSize: 3, recurrentSize: 1) }
        layout.tensors.removeAll { $0.part == .secondBias }
        #expect(throws: ImportError(.unsupportedLayer, "")) { try layout.disassemble(set, hiddenSize: 1, inputSize: 2, recurrentSize: 1) }
    }
}

/// ExportRandom64: a tiny seeded generator for test bytes.
struct ExportRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
