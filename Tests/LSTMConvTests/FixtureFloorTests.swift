import Foundation
import LSTMTestSupport
import Testing

/// Parameterized tests run over lists built from the fixture folders with `try?` and filters; an empty list would
/// make them pass vacuously. These floors fail instead when the fixtures are missing or unreadable.
@Suite("Fixture lists are never empty")
struct FixtureFloorTests {
    @Test("Keras: cases, and every case yields its .h5, .keras and weights + config sources")
    func kerasFloor() {
        #expect(KerasFixtures.caseNames.count >= 50, "Keras cases: \(KerasFixtures.caseNames.count)")
        #expect(KerasFixtures.sources.count >= 100, "Keras sources: \(KerasFixtures.sources.count)")
        #expect(KerasFixtures.sources.filter { $0.kind == .h5 }.count >= 50)
    }

    @Test("PyTorch: cases and bad files")
    func pytorchFloor() throws {
        #expect(PyTorchFixtures.caseNames.count >= 15, "PyTorch cases: \(PyTorchFixtures.caseNames.count)")
        let bad = try FileManager.default.contentsOfDirectory(atPath: PyTorchFixtures.root.appendingPathComponent("bad").path)
        #expect(bad.count >= 10, "PyTorch bad files: \(bad.count)")
    }

    @Test("golden models and files")
    func goldenFloor() throws {
        #expect(GoldenModels.all.count == 4)
        for (name, _) in GoldenModels.all {
            #expect(FileManager.default.fileExists(atPath: FixturePaths.golden("\(name).lstmw").path), "\(name).lstmw")
        }
    }
}
