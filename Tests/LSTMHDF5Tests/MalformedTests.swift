import Foundation
import LSTMHDF5
import LSTMModel
import LSTMTestSupport
import Testing

/// One malformed fixture and the error it must produce.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    var file: String
    var code: LSTMHDF5Error.Code
    var testDescription: String { "\(file) → \(code)" }
}

/// Every file of Fixtures/hdf5/malformed (written by Scripts/make_h5py_fixtures.py) with its expected error.
let malformedCases: [MalformedCase] = [
    .init(file: "wrong_datatype_int.h5", code: .wrongDatatype),
    .init(file: "wrong_datatype_size.h5", code: .wrongDatatype),
    .init(file: "wrong_datatype_layout.h5", code: .wrongDatatype),
    .init(file: "wrong_datatype_compound.h5", code: .wrongDatatype),
    .init(file: "wrong_datatype_vlen.h5", code: .wrongDatatype),
    .init(file: "missing_attribute.h5", code: .missingAttribute),
    .init(file: "missing_dataset_attribute.h5", code: .missingAttribute),
    .init(file: "missing_format.h5", code: .missingFormat),
    .init(file: "wrong_format.h5", code: .wrongFormat),
    .init(file: "newer_major.h5", code: .unsupportedVersion),
    .init(file: "newer_schema.h5", code: .unsupportedVersion),
    .init(file: "wrong_attribute_type_string.h5", code: .wrongAttributeType),
    .init(file: "wrong_attribute_type_int32.h5", code: .wrongAttributeType),
    .init(file: "wrong_attribute_type_array.h5", code: .wrongAttributeType),
    .init(file: "wrong_attribute_type_crc.h5", code: .wrongAttributeType),
    .init(file: "invalid_bool.h5", code: .invalidAttributeValue),
    .init(file: "invalid_dtype_name.h5", code: .invalidAttributeValue),
    .init(file: "invalid_utf8.h5", code: .invalidAttributeValue),
    .init(file: "checksum_mismatch.h5", code: .checksumMismatch),
    .init(file: "soft_link.h5", code: .softLink),
    .init(file: "external_link.h5", code: .externalLink),
    .init(file: "external_storage.h5", code: .externalStorage),
    .init(file: "shape_mismatch.h5", code: .shapeMismatch),
    .init(file: "rank_mismatch.h5", code: .shapeMismatch),
    .init(file: "missing_tensor.h5", code: .missingTensor),
    .init(file: "unexpected_tensor.h5", code: .unexpectedTensor),
    .init(file: "missing_layer_group.h5", code: .missingGroup),
    .init(file: "truncated.h5", code: .truncated),
    .init(file: "not_hdf5.h5", code: .notHDF5),
]

/// The reader on broken files: each defect gives its own error code, with context, and never a crash.
@Suite struct MalformedTests {
    @Test(arguments: malformedCases)
    func readerRejects(_ malformed: MalformedCase) throws {
        let url = Fixtures.hdf5("malformed/\(malformed.file)")
        let error = try #require(throws: LSTMHDF5Error.self) { try HDF5Encoding.read(from: url) }
        #expect(error.code == malformed.code, "\(error.detailedDescription)")
        #expect(error.file == url.path)
        if malformed.code != .notHDF5, malformed.code != .truncated, malformed.code != .missingFormat {
            #expect(error.keyPath != nil, "the error locates the problem: \(error)")
        }
    }

    /// Another program's HDF5 file (Keras weights, with soft links and attributes of every type) is told apart
    /// by its missing `format` before anything else is looked at.
    @Test(arguments: ["hdf5/bridge/keras_like.h5", "keras/k3_lstm_hard_sigmoid/model.h5", "keras/k3_stacked_lstm_dense/model.h5"])
    func foreignHDF5FileIsNotOurs(_ file: String) throws {
        let url = Fixtures.root.appendingPathComponent("Fixtures/\(file)")
        #expect(throws: LSTMHDF5Error(.missingFormat)) { try HDF5Encoding.read(from: url) }
        #expect(throws: LSTMHDF5Error(.missingFormat)) { try HDF5Encoding.inspect(url) }
    }

    /// `verify` reports a checksum mismatch per tensor instead of throwing; everything else still throws.
    @Test func verifyReportsTheMismatchedTensor() throws {
        let report = try HDF5Encoding.verify(Fixtures.hdf5("malformed/checksum_mismatch.h5"))
        #expect(!report.isValid)
        #expect(report.tensors.filter { !$0.isValid }.map(\.path) == ["layer_0/forward/W_n"])
        #expect(report.tensors.count == 8)
        #expect(throws: LSTMHDF5Error(.softLink)) { try HDF5Encoding.verify(Fixtures.hdf5("malformed/soft_link.h5")) }
    }

    @Test func errorsCarryExpectedAndFound() throws {
        let error = try #require(throws: LSTMHDF5Error.self) {
            try HDF5Encoding.read(from: Fixtures.hdf5("malformed/newer_major.h5"))
        }
        #expect(error.expected == "1" && error.found == "2")
        #expect(error.description.contains("format 2.x"))
        let datatype = try #require(throws: LSTMHDF5Error.self) {
            try HDF5Encoding.read(from: Fixtures.hdf5("malformed/wrong_datatype_int.h5"))
        }
        #expect(datatype.keyPath == "layer_0/forward/W_n")
        #expect(datatype.found == "signed 32-bit integer little-endian")
        let truncated = try #require(throws: LSTMHDF5Error.self) {
            try HDF5Encoding.read(from: Fixtures.hdf5("malformed/truncated.h5"))
        }
        #expect(!truncated.hdf5Stack.isEmpty, "HDF5's own explanation is kept in the error")
    }

    /// A golden file cut at many offsets: always a typed error, never a crash or a half-read model.
    @Test(arguments: [false, true])
    func truncationAtAnyOffsetIsAnError(compressed: Bool) throws {
        let golden = try Data(contentsOf: GoldenFileTests.url("small_lstm", compressed: compressed))
        let directory = try TemporaryDirectory()
        let step = max(1, golden.count / 48)
        for length in stride(from: 0, to: golden.count, by: step) {
            let url = directory.file("cut-\(length).h5")
            try golden.prefix(length).write(to: url)
            #expect(throws: LSTMHDF5Error.self, "cut at \(length) of \(golden.count)") { try HDF5Encoding.read(from: url) }
        }
    }
}
