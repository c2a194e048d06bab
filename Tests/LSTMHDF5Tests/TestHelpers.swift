import Foundation
import HDF5Bridge
import LSTMModel
import LSTMTestSupport

/// A fresh directory under the system temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmhdf5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Little-endian encodings of test values, through the model's own conversions.
enum FloatEncoding {
    static func littleEndianBytes(_ values: [Float], _ format: HDF5FloatFormat) -> Data {
        let dtype: DType =
            switch format {
            case .f16: .f16
            case .bf16: .bf16
            case .f32: .f32
            case .f64: .f64
            }
        return Tensor(values, shape: [values.count], dtype: dtype).bytes
    }
}

/// Paths of the committed fixtures.
enum Fixtures {
    /// The repository root, found from this file's path.
    static let root = FixturePaths.repositoryRoot

    static func hdf5(_ name: String) -> URL { root.appendingPathComponent("Fixtures/hdf5").appendingPathComponent(name) }
}
