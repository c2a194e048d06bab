import Crypto
import Foundation
import HDF5Bridge
import LSTMExport
import LSTMImport
import LSTMModel
import LSTMTestSupport
import Testing
import ZIPFoundation

/// `Fixtures/export_check/keras_results.json` is written by `Fixtures/export_check/check.py`, which exported every
/// fixture with `lstmconv export --to keras` as `.keras` and `.h5`, loaded them with Keras 3 (both) and tf-keras
/// (`.h5`) and compared `predict` with the original framework's output and with `lstmconv run` (≤ 1e-5). These tests
/// re-export every case and require the same bytes (or the same refusal), and check Keras → lstmconv → Keras keeps
/// every weight dataset bit for bit.
@Suite struct ExportKerasArchiveTests {
    struct Entry: Sendable, CustomTestStringConvertible {
        var path: String
        var source: String
        var flags: [String]
        var kerasSHA: String?
        var h5SHA: String?
        var statuses: [String]
        var testDescription: String { path }
    }

    static let fixtures = ONNXFixtures.root.deletingLastPathComponent()

    static let entries: [Entry] = {
        guard let data = try? Data(contentsOf: fixtures.appendingPathComponent("export_check/keras_results.json")),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = json["cases"] as? [String: [String: Any]] else { return [] }
        return cases.keys.sorted().compactMap { path in
            guard let entry = cases[path] else { return nil }
            let keras = entry["keras"] as? [String: Any] ?? [:], h5 = entry["h5"] as? [String: Any] ?? [:]
            var statuses: [String] = []
            for record in [keras, h5] {
                if let status = record["status"] as? String { statuses.append(status) }
                for flavour in ["keras3", "tf_keras"] {
                    if let result = record[flavour] as? [String: Any], let status = result["status"] as? String { statuses.append(status) }
                }
            }
            return Entry(
                path: path, source: entry["source"] as? String ?? "", flags: entry["flags"] as? [String] ?? [],
                kerasSHA: keras["sha256"] as? String, h5SHA: h5["sha256"] as? String, statuses: statuses)
        }
    }()

    static func sha256(_ url: URL) throws -> String {
        SHA256.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
    }

    @Test func everyFixtureWasCheckedAndPassed() {
        #expect(Self.entries.count >= 100)
        #expect(Self.entries.filter { $0.kerasSHA != nil }.count >= 60)
        #expect(!Self.entries.contains { $0.statuses.contains("FAILED") })
    }

    @Test(arguments: entries)
    func sameBytesOrSameRefusal(_ entry: Entry) throws {
        let model = try ModelSource.load(Self.fixtures.appendingPathComponent(entry.source), options: ExportONNXTests.options(entry.flags))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-keras-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        guard entry.kerasSHA != nil || entry.h5SHA != nil else {
            #expect(throws: ExportError(.notExpressible)) { try KerasExporter.export(model) }
            return
        }
        let export = try KerasExporter.export(model)
        if let sha = entry.kerasSHA {
            try KerasExporter.write(export, to: folder.appendingPathComponent("m.keras"))
            #expect(try Self.sha256(folder.appendingPathComponent("m.keras")) == sha, "\(entry.path): .keras bytes differ from the checked file")
        }
        if let sha = entry.h5SHA {
            try KerasExporter.writeLegacyH5(export, to: folder.appendingPathComponent("m.h5"))
            #expect(try Self.sha256(folder.appendingPathComponent("m.h5")) == sha, "\(entry.path): .h5 bytes differ from the checked file")
        } else {
            #expect(throws: ExportError(.notExpressible)) { try KerasExporter.writeLegacyH5(export, to: folder.appendingPathComponent("m.h5")) }
        }
    }

    /// Keras 3 archives → lstmconv → Keras: every weight dataset of the source's `model.weights.h5` is written
    /// again at the same path with the same bytes (Keras' LSTM and GRU need no bias folding).
    @Test(arguments: KerasFixtures.caseNames.filter { $0.hasPrefix("k3_") })
    func roundTripIsBitForBit(_ name: String) throws {
        let url = KerasFixtures.directory.appendingPathComponent(name).appendingPathComponent("model.keras")
        guard FileManager.default.fileExists(atPath: url.path) else { return }
        let model = try ModelSource.load(url)
        let export: KerasExport
        do {
            export = try KerasExporter.export(model)
        } catch {
            #expect(error.code == .notExpressible, "\(name): \(error)")
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-keras-rt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let archive = try Archive(url: url, accessMode: .read)
        let member = try #require(archive["model.weights.h5"])
        let weightsURL = folder.appendingPathComponent("source.weights.h5")
        _ = try archive.extract(member, to: weightsURL)
        let file = try HDF5File.openReadOnly(weightsURL.path)
        let root = try file.root()
        let written = Dictionary(export.weights.map { ($0.path, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        // `RNN(LSTMCell)` wrappers are written as `LSTM` layers: the same cell variables under another layer name.
        func withoutLayerName(_ path: String) -> String { path.split(separator: "/").enumerated().filter { $0.offset != 1 }.map(\.element).joined(separator: "/") }
        let byCell = Dictionary(export.weights.map { (withoutLayerName($0.path), $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var compared = 0
        func walk(_ group: HDF5Group, _ prefix: String) throws {
            for link in try group.memberNames() {
                let path = prefix.isEmpty ? link : prefix + "/" + link
                if (try? group.group(link)) != nil {
                    try walk(try group.group(link), path)
                } else {
                    let dataset = try group.dataset(link)
                    let tensor = try #require(written[path] ?? byCell[withoutLayerName(path)], "\(name): \(path) was not written")
                    let bytes = try dataset.readLittleEndianBytes(as: tensor.dtype == .f64 ? .f64 : .f32)
                    #expect(bytes == tensor.bytes, "\(name): \(path) differs")
                    compared += 1
                }
            }
        }
        try walk(root, "")
        #expect(compared > 0)
    }

    @Test func whatKerasCannotComputeIsRefused() {
        let cases: [(String, @Sendable (inout RecurrentLayer) -> Void)] = [
            ("use_gate", { $0.useGate = .document }), ("peepholes", { $0.peepholes = .diagonal }),
            ("projection_size", { $0.projectionSize = 2 }), ("gate_clip", { $0.gateClip = 1 }), ("forget_bias", { $0.forgetBias = 1 }),
            ("recurrent_activation", { $0.recurrentActivation = .hardSigmoidKeras2 }),
        ]
        for (location, change) in cases {
            do throws(ExportError) {
                _ = try KerasExporter.export(Model(layers: [ExportModels.recurrent(.lstm, change)]))
                Issue.record("\(location): exported")
            } catch {
                #expect(error.code == .notExpressible && error.place == location, "\(error)")
            }
        }
    }
}
