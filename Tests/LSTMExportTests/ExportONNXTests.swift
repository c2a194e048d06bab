import Crypto
import Foundation
import LSTMEngine
import LSTMExport
import LSTMImport
import LSTMImportONNX
import LSTMModel
import NumPyIO
import ONNXProto
import LSTMTestSupport
import Testing

/// `Fixtures/export_check/onnx_results.json` is written by `Fixtures/export_check/check.py`, which exported every
/// fixture with `lstmconv export --to onnx`, ran `onnx.checker` and onnxruntime on the file and compared the result
/// with the original framework's output and with `lstmconv run` (≤ 1e-5). These tests re-export every case and
/// require the same bytes (so the checked file is the one the code writes today) or the same refusal, and import the
/// exported graph back: it must reproduce the original framework's `expected.npy` (≤ 1e-5, fast engine).
@Suite struct ExportONNXTests {
    struct Entry: Sendable, CustomTestStringConvertible {
        var path: String
        var source: String
        var flags: [String]
        var status: String
        var sha256: String?
        var onnxruntimeVsExpected: Double?
        var onnxruntimeVsRun: Double?
        var testDescription: String { path }
    }

    static let fixtures = ONNXFixtures.root.deletingLastPathComponent()

    static let entries: [Entry] = {
        guard let data = try? Data(contentsOf: fixtures.appendingPathComponent("export_check/onnx_results.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = json["cases"] as? [String: [String: Any]] else { return [] }
        return cases.keys.sorted().compactMap { path in
            guard let entry = cases[path] else { return nil }
            return Entry(
                path: path, source: entry["source"] as? String ?? "", flags: entry["flags"] as? [String] ?? [],
                status: entry["status"] as? String ?? "", sha256: entry["sha256"] as? String,
                onnxruntimeVsExpected: entry["onnxruntime_vs_expected"] as? Double, onnxruntimeVsRun: entry["onnxruntime_vs_lstmconv_run"] as? Double)
        }
    }()

    static func options(_ flags: [String]) -> ImportOptions {
        var options = ImportOptions()
        var index = 0
        while index < flags.count {
            switch flags[index] {
            case "--module": options.module = flags[index + 1]; index += 1
            case "--head": options.head = flags[index + 1]; index += 1
            case "--last-step": options.lastStepOnly = true
            default: break
            }
            index += 1
        }
        return options
    }

    @Test func everyFixtureWasChecked() {
        #expect(Self.entries.count >= 100)
        #expect(Self.entries.filter { $0.status == "ok" }.count >= 80)
        #expect(!Self.entries.contains { $0.status != "ok" && $0.status != "refused" })
    }

    @Test(arguments: entries)
    func sameBytesOrSameRefusal(_ entry: Entry) throws {
        let model = try ModelSource.load(Self.fixtures.appendingPathComponent(entry.source), options: Self.options(entry.flags))
        if entry.status == "ok" {
            let data = try ONNXExporter.export(model).serialized()
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            #expect(digest == entry.sha256, "\(entry.path): the exported bytes differ from the file onnxruntime checked")
            #expect((entry.onnxruntimeVsExpected ?? 1) <= 1e-5 && (entry.onnxruntimeVsRun ?? 1) <= 1e-5)
            // The exported graph imports back and reproduces the original framework's output.
            let folder = Self.fixtures.appendingPathComponent(entry.source).deletingLastPathComponent()
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-onnx-\(UUID().uuidString).onnx")
            try data.write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            let again = try ONNXImporter.importFile(at: url).model
            let inputArray = try NumPyArray(contentsOf: folder.appendingPathComponent("input.npy"))
            let input: ForwardInput = switch inputArray.storage {
            case .int32(let values): .tokens(try NDArray(shape: inputArray.shape, scalars: values.map { Int($0) }))
            case .int64(let values): .tokens(try NDArray(shape: inputArray.shape, scalars: values.map { Int($0) }))
            default: .float32(try NDArray(shape: inputArray.shape, scalars: inputArray.floats))
            }
            let expectedArray = try NumPyArray(contentsOf: folder.appendingPathComponent("expected.npy"))
            let output = try Engine.fast.run(again, input: input).output
            let comparison = Comparison(
                actual: output, expected: try NDArray(shape: expectedArray.shape, scalars: expectedArray.doubles), atol: 1e-5, rtol: 0)
            #expect(comparison.shapeMismatch == nil && comparison.maxAbsoluteError <= 1e-5, "\(entry.path): re-imported ONNX export, max abs error \(comparison.maxAbsoluteError)")
        } else {
            #expect(throws: ExportError(.notExpressible)) { try ONNXExporter.export(model) }
        }
    }

    /// ONNX → lstmconv → ONNX: every LSTM/GRU/RNN input tensor (W, R, B, P) of the source graph comes back with
    /// the same bytes (input_forget excepted: its forget rows are stored as the negated input gate).
    @Test(arguments: ONNXFixtures.caseNames.filter { $0 != "helper_lstm_input_forget" })
    func roundTripIsBitForBit(_ name: String) throws {
        let url = ONNXFixtures.url(name, "model.onnx")
        let model = try ONNXImporter.importFile(at: url).model
        let exported = try Onnx_ModelProto(serializedBytes: try ONNXExporter.export(model).serialized())
        let source = try Onnx_ModelProto(serializedBytes: try Data(contentsOf: url))
        func weights(_ graph: Onnx_GraphProto, folder: URL) throws -> [[Data]] {
            let initializers = Dictionary(graph.initializer.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            return try graph.node.filter { ["LSTM", "GRU", "RNN"].contains($0.opType) }.map { node in
                try [1, 2, 3, 7].compactMap { index -> Data? in
                    guard index < node.input.count, !node.input[index].isEmpty, let tensor = initializers[node.input[index]] else { return nil }
                    if tensor.dataLocation == .external {
                        let location = tensor.externalData.first { $0.key == "location" }?.value ?? ""
                        let offset = Int(tensor.externalData.first { $0.key == "offset" }?.value ?? "0") ?? 0
                        let length = Int(tensor.externalData.first { $0.key == "length" }?.value ?? "0") ?? 0
                        let all = try Data(contentsOf: folder.appendingPathComponent(location))
                        return all.subdata(in: offset ..< offset + length)
                    }
                    return tensor.rawData.isEmpty ? tensor.floatData.withUnsafeBytes { Data($0) } : tensor.rawData
                }
            }
        }
        let original = try weights(source.graph, folder: url.deletingLastPathComponent())
        let again = try weights(exported.graph, folder: url.deletingLastPathComponent())
        #expect(!original.isEmpty)
        #expect(original == again, "\(name): recurrent initializers differ after ONNX → lstmconv → ONNX")
        #expect(exported.opsetImport.first?.version ?? 0 >= 14)
    }

    @Test func documentUseGateIsRefusedWithTheReason() throws {
        let model = Model(layers: [ExportModels.recurrent { $0.useGate = .document }])
        do throws(ExportError) {
            _ = try ONNXExporter.export(model)
            Issue.record("exported")
        } catch {
            #expect(error.code == .notExpressible && error.place == "use_gate" && error.layer == 0)
        }
        let cases: [(String, @Sendable (inout RecurrentLayer) -> Void)] = [
            ("peepholes", { $0.peepholes = .full }), ("projection_size", { $0.projectionSize = 2 }),
            ("cell_clip", { $0.cellClip = 2 }), ("forget_bias", { $0.forgetBias = 1 }),
        ]
        for (location, change) in cases {
            do throws(ExportError) {
                _ = try ONNXExporter.export(Model(layers: [ExportModels.recurrent(.lstm, change)]))
                Issue.record("\(location): exported")
            } catch {
                #expect(error.code == .notExpressible && error.place == location, "\(error)")
            }
        }
    }

    @Test func exportIsDeterministic() throws {
        let model = try ONNXImporter.importFile(at: ONNXFixtures.url("torch_bigru_2layer_linear_seq", "model.onnx")).model
        #expect(try ONNXExporter.export(model).serialized() == ONNXExporter.export(model).serialized())
    }
}
