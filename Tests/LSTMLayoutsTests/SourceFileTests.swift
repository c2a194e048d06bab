import Foundation
import LSTMLayouts
import LSTMModel
import Testing

/// `SourceFile` reads the byte ranges a streaming import asks for: whole tensors, rows and columns of a rank-2
/// tensor, and refuses a range past the end of the file with a typed error.
@Suite("SourceFile reads tensor ranges")
struct SourceFileTests {
    /// A file holding 7 filler bytes, then a [5, 6] float32 matrix of 0, 1, 2, … in C order.
    static func matrixFile() throws -> (URL, [Float]) {
        let values = (0..<30).map(Float.init)
        var data = Data(repeating: 0xAB, count: 7)
        data.append(values.withUnsafeBytes { Data($0) })
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lstmconv-sourcefile-\(UUID().uuidString).bin")
        try data.write(to: url)
        return (url, values)
    }

    static func floats(_ data: Data) -> [Float] {
        data.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) } }
    }

    @Test("whole, rows and columns")
    func ranges() throws {
        let (url, values) = try Self.matrixFile()
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SourceFile(url)
        #expect(Self.floats(try file.read(offset: 7, count: 120, location: "m")) == values)
        let rows = try file.read(offset: 7, shape: [5, 6], width: 4, axis: 0, range: 1..<3, location: "m")
        #expect(Self.floats(rows) == Array(values[6..<18]))
        let columns = try file.read(offset: 7, shape: [5, 6], width: 4, axis: 1, range: 2..<5, location: "m")
        #expect(Self.floats(columns) == (0..<5).flatMap { row in (2..<5).map { Float(row * 6 + $0) } })
    }

    @Test("a range past the end is malformedSource naming the tensor; a bad range is shapeMismatch")
    func pastTheEnd() throws {
        let (url, _) = try Self.matrixFile()
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SourceFile(url)
        let short = #expect(throws: ImportError.self) { try file.read(offset: 100, count: 40, location: "weight") }
        #expect(short?.code == .malformedSource)
        #expect(short?.description.contains("weight") == true)
        let columns = #expect(throws: ImportError.self) {
            try file.read(offset: 100, shape: [5, 6], width: 4, axis: 1, range: 0..<2, location: "weight")
        }
        #expect(columns?.code == .malformedSource)
        let range = #expect(throws: ImportError.self) { try file.read(offset: 7, shape: [5, 6], width: 4, axis: 1, range: 4..<7, location: "w") }
        #expect(range?.code == .shapeMismatch)
    }
}
