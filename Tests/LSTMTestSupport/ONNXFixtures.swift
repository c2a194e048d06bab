import Foundation
import LSTMEngine
import NumPyIO

/// The ONNX fixtures written by `Fixtures/fixturegen/onnx_cases.py` (torch.onnx.export, onnx.helper; expected
/// outputs from onnxruntime).
public enum ONNXFixtures {
    public static let root = FixturePaths.fixture("onnx")

    /// `cases.json`: every case folder, in generation order.
    public static let caseNames: [String] = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("cases.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return json["cases"] as? [String] ?? []
    }()

    /// `bad/bad.json`: file → expected error code name.
    public static let badFiles: [(file: String, code: String)] = {
        guard let data = try? Data(contentsOf: root.appendingPathComponent("bad/bad.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = json["files"] as? [[String: String]] else { return [] }
        return files.compactMap { entry in entry["file"].flatMap { file in entry["code"].map { (file, $0) } } }
    }()

    public static func url(_ name: String, _ file: String) -> URL { root.appendingPathComponent(name).appendingPathComponent(file) }

    /// The case's input: float32 features or int64 token ids.
    public static func input(_ name: String) throws -> ForwardInput {
        let array = try NumPyArray(contentsOf: url(name, "input.npy"))
        switch array.storage {
        case .int64(let values): return .tokens(try NDArray(shape: array.shape, scalars: values.map { Int($0) }))
        case .int32(let values): return .tokens(try NDArray(shape: array.shape, scalars: values.map { Int($0) }))
        default: return .float32(try NDArray(shape: array.shape, scalars: array.floats))
        }
    }

    /// The case's `lengths.npy` (ONNX `sequence_lens`), if it has one.
    public static func lengths(_ name: String) throws -> [Int]? {
        let url = url(name, "lengths.npy")
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let array = try NumPyArray(contentsOf: url)
        switch array.storage {
        case .int32(let values): return values.map { Int($0) }
        case .int64(let values): return values.map { Int($0) }
        default: return array.doubles.map { Int($0) }
        }
    }

    public static func expected(_ name: String) throws -> NDArray<Double> {
        let array = try NumPyArray(contentsOf: url(name, "expected.npy"))
        return try NDArray(shape: array.shape, scalars: array.doubles)
    }
}
