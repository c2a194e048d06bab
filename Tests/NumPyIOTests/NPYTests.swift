import Foundation
import NumPyIO
import Testing
import LSTMTestSupport

/// The folder of files written by real numpy (`Tests/Fixtures/NumPyIO/make_fixtures.py`).
let fixtures = FixturePaths.repositoryRoot.appendingPathComponent("Tests/Fixtures/NumPyIO")

func fixture(_ name: String) -> URL { fixtures.appendingPathComponent(name) }

/// The values `make_fixtures.py` writes: `arange(n) * 0.75 - 2.5` (floats) or `arange(n) * 7 - 11` (integers).
func floatValues(_ count: Int) -> [Double] { (0..<count).map { Double($0) * 0.75 - 2.5 } }
func integerValues(_ count: Int) -> [Int64] { (0..<count).map { Int64($0) * 7 - 11 } }

@Suite("NumPy .npy reader and writer")
struct NPYTests {
    static let supported: [(file: String, dtype: NumPyDType)] = [
        ("f4_le.npy", .float32), ("f4_be.npy", .float32), ("f8_le.npy", .float64), ("f8_be.npy", .float64),
        ("i4_le.npy", .int32), ("i4_be.npy", .int32), ("i8_le.npy", .int64), ("i8_be.npy", .int64),
    ]

    @Test(arguments: supported)
    func readsEveryDTypeInBothByteOrders(_ file: String, _ dtype: NumPyDType) throws {
        let array = try NumPyArray(contentsOf: fixture(file))
        #expect(array.shape == [2, 3])
        #expect(array.dtype == dtype)
        switch array.storage {
        case .float32(let values): #expect(values == floatValues(6).map(Float.init))
        case .float64(let values): #expect(values == floatValues(6))
        case .int32(let values): #expect(values == integerValues(6).map { Int32($0) })
        case .int64(let values): #expect(values == integerValues(6))
        }
    }

    @Test(arguments: [
        ("f4_scalar.npy", [Int]()), ("f8_vector.npy", [5]), ("f4_rank3.npy", [2, 3, 4]), ("f4_empty.npy", [0, 3]),
        ("f8_v2.npy", [2, 3]), ("f8_v3.npy", [2, 3]),
    ])
    func readsShapesAndVersions(_ file: String, _ shape: [Int]) throws {
        let array = try NumPyArray(contentsOf: fixture(file))
        #expect(array.shape == shape)
        #expect(array.doubles == floatValues(shape.reduce(1, *)))
    }

    /// Our writer lays files out byte for byte as `numpy.save` does.
    @Test(arguments: [
        "f4_le.npy", "f8_le.npy", "i4_le.npy", "i8_le.npy", "f4_scalar.npy", "f8_vector.npy", "f4_rank3.npy", "f4_empty.npy",
    ])
    func writesWhatNumpyWrites(_ file: String) throws {
        let original = try Data(contentsOf: fixture(file))
        let array = try NumPyArray(npyData: original)
        #expect(array.npyData() == original)
    }

    @Test(arguments: ["f4_be.npy", "f8_be.npy", "i4_be.npy", "i8_be.npy"])
    func writesBigEndianAsNumpyDoes(_ file: String) throws {
        let original = try Data(contentsOf: fixture(file))
        #expect(try NumPyArray(npyData: original).npyData(byteOrder: .big) == original)
    }

    @Test(arguments: [
        ("f4_fortran.npy", NumPyError.Code.fortranOrder),
        ("f2.npy", .unsupportedDType), ("bool.npy", .unsupportedDType), ("complex.npy", .unsupportedDType),
        ("unicode.npy", .unsupportedDType), ("structured.npy", .unsupportedDType), ("object.npy", .unsupportedDType),
        ("f4_truncated.npy", .truncated),
    ])
    func refusesWithTypedErrors(_ file: String, _ code: NumPyError.Code) throws {
        let error = #expect(throws: NumPyError.self) { try NumPyArray(contentsOf: fixture(file)) }
        #expect(error?.code == code, "\(String(describing: error))")
        #expect(error?.path == fixture(file).path)
    }

    @Test func malformedBytes() throws {
        let good = [UInt8](try Data(contentsOf: fixture("f4_le.npy")))
        func code(_ bytes: [UInt8]) -> NumPyError.Code? {
            #expect(throws: NumPyError.self) { try NumPyArray(npyData: Data(bytes)) }?.code
        }
        #expect(code([]) == .badMagic)
        #expect(code(Array("PK\u{3}\u{4}not numpy".utf8)) == .badMagic)
        var version = good
        version[6] = 4
        #expect(code(version) == .unsupportedVersion)
        #expect(code(Array(good[0..<9])) == .truncated)  // inside the header length
        #expect(code(Array(good[0..<50])) == .truncated)  // inside the header
        func withHeader(_ text: String) -> [UInt8] {
            var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0]
            let header = Array((text + "\n").utf8)
            bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header
            return bytes + [UInt8](repeating: 0, count: 24)
        }
        let valid = try NumPyArray(npyData: Data(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }")))
        #expect(valid.storage == .float32([Float](repeating: 0, count: 6)))
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False}")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ")) == .badHeader)
        #expect(code(withHeader("not a dict")) == .badHeader)
        #expect(code(withHeader("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }")) == .unsupportedDType)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")) == .badHeader)
        #expect(code(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }")) == .truncated)
        #expect(code(withHeader(String(repeating: "(", count: 100))) == .badHeader)
        // Python 2 long integers and a 1-D Fortran-order array (same bytes as C order) are accepted.
        let legacy = try NumPyArray(npyData: Data(withHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (3L,), }")))
        #expect(legacy.shape == [3])
    }

    @Test func roundTripsThroughFilesWithoutOverwriting() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("numpyio-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("x.npy")
        let arrays = [
            try NumPyArray(shape: [2, 2], float32: [1, -2, .infinity, .nan]),
            try NumPyArray(shape: [3], float64: [1e-300, -0.0, .greatestFiniteMagnitude]),
            try NumPyArray(shape: [1, 2], int32: [.min, .max]),
            try NumPyArray(shape: [2], int64: [.min, .max]),
            try NumPyArray(shape: [], float32: [7]),
        ]
        for (index, array) in arrays.enumerated() {
            for order in [ByteOrder.little, .big] {
                try array.write(to: url, overwrite: true, byteOrder: order)
                let back = try NumPyArray(contentsOf: url)
                #expect(back.npyData() == array.npyData(), "array \(index) \(order)")
            }
        }
        let error = #expect(throws: NumPyError.self) { try arrays[0].write(to: url) }
        #expect(error?.code == .fileExists)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(leftovers == ["x.npy"])
    }

    @Test func largeHeadersUseVersion2() throws {
        // A rank-25000 shape does not fit a 1.0 header (65 535 bytes).
        let shape = [Int](repeating: 1, count: 25_000)
        let array = try NumPyArray(shape: shape, float32: [3])
        let data = array.npyData()
        #expect(data[6] == 2)
        #expect(try NumPyArray(npyData: data) == array)
        let headerLength = (8..<12).reduce(0) { $0 | Int(data[$1]) << (8 * ($1 - 8)) }
        #expect(headerLength > 65_535)
        #expect((12 + headerLength) % 64 == 0)
    }

    @Test func shapeMustMatchCount() {
        #expect(throws: NumPyError(.shapeMismatch)) { try NumPyArray(shape: [2, 2], float32: [1, 2, 3]) }
    }
}

@Suite("NumPy .npy robustness")
struct NPYRobustnessTests {
    /// Every prefix of a valid file is refused with a typed error (never a crash or a wrong array).
    @Test(arguments: ["f4_le.npy", "f8_v3.npy", "i8_be.npy"])
    func everyTruncationIsATypedError(_ file: String) throws {
        let bytes = [UInt8](try Data(contentsOf: fixture(file)))
        for length in 0..<bytes.count {
            let error = #expect(throws: NumPyError.self, "prefix \(length)") { try NumPyArray(npyData: Data(bytes[0..<length])) }
            #expect([NumPyError.Code.badMagic, .truncated, .badHeader].contains(error?.code), "prefix \(length): \(String(describing: error))")
        }
    }

    /// Every single-byte change inside the header either still decodes or throws a typed error.
    @Test func headerByteFlipsNeverCrash() throws {
        let bytes = [UInt8](try Data(contentsOf: fixture("f4_le.npy")))
        for offset in 0..<128 {
            for value: UInt8 in [0x00, 0x20, 0x27, 0x28, 0x29, 0x2C, 0x3A, 0x7B, 0x7D, 0xFF] {
                var mutated = bytes
                mutated[offset] = value
                do {
                    let array = try NumPyArray(npyData: Data(mutated))
                    #expect(array.count == NumPyArray.elementCount(of: array.shape))
                    // A flip in the magic string is never accepted.
                    #expect(offset >= 6 || mutated[offset] == bytes[offset], "magic byte \(offset) = \(value) accepted")
                } catch {
                    if offset < 6, value != bytes[offset] { #expect(error.code == .badMagic) }
                }
            }
        }
    }

    /// Arrays of pseudo-random shapes and dtypes survive write → read in both byte orders.
    @Test func pseudoRandomRoundTrips() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<200 {
            let shape = (0..<next(4)).map { _ in next(5) }
            let count = shape.reduce(1, *)
            let array: NumPyArray
            switch next(4) {
            case 0: array = try NumPyArray(shape: shape, float32: (0..<count).map { _ in Float(next(2001) - 1000) / 7 })
            case 1: array = try NumPyArray(shape: shape, float64: (0..<count).map { _ in Double(next(2001) - 1000) / 3 })
            case 2: array = try NumPyArray(shape: shape, int32: (0..<count).map { _ in Int32(next(2001) - 1000) })
            default: array = try NumPyArray(shape: shape, int64: (0..<count).map { _ in Int64(next(2001) - 1000) << 40 })
            }
            for order in [ByteOrder.little, .big] {
                #expect(try NumPyArray(npyData: array.npyData(byteOrder: order)) == array, "\(shape) \(array.dtype) \(order)")
            }
            #expect(array.npyData().count % 64 == (array.count * array.dtype.byteWidth) % 64)
        }
    }
}
