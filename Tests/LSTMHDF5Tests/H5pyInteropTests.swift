import Foundation
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

/// Runs Python (`$LSTMCONV_PYTHON`, else `python3` from `PATH`) for the h5py interop tests.
enum Python {
    /// Whether the interpreter can import h5py and numpy. The h5py tests are skipped, saying so, when not.
    static let hasH5py: Bool = (try? run(["-c", "import h5py, numpy"]).status) == 0

    static let skipMessage: Comment =
        "h5py is not importable: install it for python3 (pip install h5py numpy) or point LSTMCONV_PYTHON at an interpreter that has it"

    /// Runs the interpreter with `arguments`; returns its exit status and combined output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        if let python = ProcessInfo.processInfo.environment["LSTMCONV_PYTHON"], !python.isEmpty {
            return try Subprocess.run(executable: URL(fileURLWithPath: python), arguments)
        }
        return try Subprocess.run(["python3"] + arguments)
    }

    static func script(_ name: String) -> String { Fixtures.hdf5("scripts/\(name)").path }
}

/// Interop with h5py in both directions.
@Suite struct H5pyInteropTests {
    /// h5py opens our file and checks names, stored types, shapes, raw bytes, converted values and checksums
    /// against a manifest made from the in-memory model.
    @Test(.enabled(if: Python.hasH5py, Python.skipMessage), arguments: goldenNames, [false, true])
    func h5pyReadsOurFile(name: String, compressed: Bool) throws {
        let directory = try TemporaryDirectory()
        let model = golden(name)
        let file = directory.file("\(name).h5")
        try HDF5Encoding.write(model, to: file, options: HDF5WriteOptions(compress: compressed))
        let manifest = directory.file("\(name).json")
        try Self.manifest(model, compressed: compressed).write(to: manifest)
        let result = try Python.run([Python.script("check_with_h5py.py"), file.path, manifest.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("ok"), "\(result.output)")
    }

    /// The committed h5py-written files (big-endian, gzip-chunked, bool enums, fixed-length strings, bfloat16
    /// built in h5py) decode to exactly the golden models.
    @Test(arguments: goldenNames)
    func weReadH5pyWrittenFile(name: String) throws {
        #expect(try HDF5Encoding.read(from: Fixtures.hdf5("h5py/\(name).h5")) == golden(name))
        #expect(try HDF5Encoding.verify(Fixtures.hdf5("h5py/\(name).h5")).isValid)
    }

    /// The fixture script, re-run with this machine's h5py: its valid files decode to the golden models and
    /// its malformed files give their errors.
    @Test(.enabled(if: Python.hasH5py, Python.skipMessage))
    func freshlyWrittenH5pyFilesBehaveLikeTheCommittedOnes() throws {
        let directory = try TemporaryDirectory()
        let result = try Python.run([Python.script("make_h5py_fixtures.py"), directory.url.path])
        try #require(result.status == 0, "\(result.output)")
        for name in goldenNames {
            #expect(try HDF5Encoding.read(from: directory.file("h5py/\(name).h5")) == golden(name))
        }
        for malformed in malformedCases {
            let url = directory.file("malformed/\(malformed.file)")
            let error = try #require(throws: LSTMHDF5Error.self) { try HDF5Encoding.read(from: url) }
            #expect(error.code == malformed.code, "\(malformed.file): \(error)")
        }
    }

    /// The model as JSON for check_with_h5py.py: attributes with their schema types, tensors with their bytes.
    static func manifest(_ model: Model, compressed: Bool) throws -> Data {
        func entries(_ attributes: Attributes) -> [[Any]] {
            attributes.map { key, value in
                switch value {
                case .int(let number): [key, "int", number]
                case .double(let number): [key, "double", number]
                case .bool(let flag): [key, "bool", flag]
                case .string(let text): [key, "string", text]
                }
            }
        }
        let attributes = model.schemaAttributes
        let tensors: [[String: Any]] = model.storedTensors.map { slot, tensor, source in
            [
                "path": slot.path, "dtype": tensor.dtype.rawValue, "shape": tensor.shape,
                "hex": tensor.bytes.map { String(format: "%02x", $0) }.joined(),
                "crc32": tensor.checksum, "source": source ?? "",
            ]
        }
        let object: [String: Any] = [
            "compressed": compressed, "root": entries(attributes.root), "layers": attributes.layers.map(entries),
            "tensors": tensors,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }
}
