import Foundation
import LSTMLayouts
import LSTMImportPyTorch
import LSTMTestSupport
import Testing

/// Hostile and malformed PyTorch / safetensors files (`Fixtures/pytorch/bad/`): each is refused with its own
/// error code, naming what is wrong, without crashing and without executing anything.
@Suite struct PyTorchHostileTests {
    struct Expectation: CustomTestStringConvertible, Sendable {
        let file: String
        let code: ImportError.Code
        /// Text the error (message or location) must contain.
        let mentions: [String]
        var testDescription: String { file }
    }

    static let expectations: [Expectation] = [
        .init(file: "os_system.pt", code: .forbiddenPickle, mentions: ["os.system"]),
        .init(file: "builtins_eval.pt", code: .forbiddenPickle, mentions: ["builtins.eval"]),
        .init(file: "subprocess_popen.pt", code: .forbiddenPickle, mentions: ["subprocess.Popen"]),
        .init(file: "reduce_getattr_trick.pt", code: .forbiddenPickle, mentions: ["builtins.getattr"]),
        .init(file: "inst_os_system.pt", code: .forbiddenPickle, mentions: ["os.system"]),
        .init(file: "stack_global_exec.pt", code: .forbiddenPickle, mentions: ["builtins.exec"]),
        .init(file: "storage_class_os_system.pt", code: .forbiddenPickle, mentions: ["os.system"]),
        .init(file: "whole_module.pt", code: .forbiddenPickle, mentions: ["torch.nn.modules.rnn.LSTM", "state_dict()"]),
        .init(file: "zip_bomb.pt", code: .archiveLimit, mentions: ["data/0"]),
        .init(file: "zip_declared_size_lie.pt", code: .malformedSource, mentions: ["data/0"]),
        .init(file: "truncated.pt", code: .malformedSource, mentions: ["zip"]),
        .init(file: "short_storage.pt", code: .malformedSource, mentions: ["weight_ih_l0"]),
        .init(file: "missing_storage.pt", code: .malformedSource, mentions: ["data/3"]),
        .init(file: "no_recurrent.pt", code: .noRecurrentWeights, mentions: ["0.weight", "1.bias"]),
        .init(file: "no_recurrent.safetensors", code: .noRecurrentWeights, mentions: ["0.weight", "1.bias"]),
        .init(file: "two_modules.pt", code: .ambiguousModule, mentions: ["enc", "dec", "--module"]),
        .init(file: "inconsistent_bias.safetensors", code: .shapeMismatch, mentions: ["bias_hh_l0", "[20]", "[15]"]),
        .init(file: "st_overlapping_offsets.safetensors", code: .malformedSource, mentions: ["weight_hh_l0", "overlaps"]),
        .init(file: "st_gap_between_tensors.safetensors", code: .malformedSource, mentions: ["weight_hh_l0", "hole"]),
        .init(file: "st_offset_out_of_bounds.safetensors", code: .malformedSource, mentions: ["bias_hh_l0"]),
        .init(file: "st_length_mismatch.safetensors", code: .malformedSource, mentions: ["bias_ih_l0"]),
        .init(file: "st_header_past_eof.safetensors", code: .malformedSource, mentions: ["past the end"]),
        .init(file: "st_header_len_huge.safetensors", code: .malformedSource, mentions: ["1099511627776"]),
        .init(file: "st_header_len_negative.safetensors", code: .malformedSource, mentions: ["18446744073709551608"]),
        .init(file: "st_unknown_dtype.safetensors", code: .unsupportedDType, mentions: ["weight_hh_l0", "F12"]),
        .init(file: "st_unsupported_dtype_i32.safetensors", code: .unsupportedDType, mentions: ["bias_ih_l0", "I32"]),
        .init(file: "st_trailing_bytes.safetensors", code: .malformedSource, mentions: ["trailing"]),
        .init(file: "st_header_not_json.safetensors", code: .malformedSource, mentions: ["JSON"]),
        .init(file: "st_too_small.safetensors", code: .malformedSource, mentions: ["8-byte"]),
        .init(file: "st_duplicate_key.safetensors", code: .malformedSource, mentions: ["weight_ih_l0", "twice"]),
    ]

    /// Files that are not refused: `legacy_nonzip.pt` is supported (see ``PyTorchFixtureTests``).
    static let accepted: Set<String> = ["legacy_nonzip.pt"]

    @Test(arguments: expectations)
    func refusedWithItsOwnError(_ expectation: Expectation) throws {
        let url = PyTorchFixtures.bad(expectation.file)
        try #require(FileManager.default.fileExists(atPath: url.path), "missing fixture \(expectation.file)")
        // Every bad file is claimed by this importer, so the dispatcher routes it here for its precise error.
        #expect(PyTorchImporter.canRead(url))
        do {
            let result = try PyTorchImporter.importFile(at: url)
            Issue.record("\(expectation.file) was imported (\(result.layerSummaries)) instead of refused")
        } catch {
            #expect(error.code == expectation.code, "\(error)")
            #expect(error.file == url.path, "the error names the file")
            let text = error.description
            for word in expectation.mentions {
                #expect(text.contains(word), "\(expectation.file): \(text) should mention \(word)")
            }
        }
    }

    @Test func everyBadFileHasAnExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: PyTorchFixtures.root.appendingPathComponent("bad").path)
            .filter { $0.hasSuffix(".pt") || $0.hasSuffix(".safetensors") }
        let covered = Set(Self.expectations.map(\.file)).union(Self.accepted)
        #expect(Set(files).subtracting(covered).isEmpty, "untested bad files: \(Set(files).subtracting(covered).sorted())")
    }

    /// The hostile pickles' payloads would `touch /tmp/lstmconv_pwned_<name>`; reading them must create nothing.
    @Test func aZipBombIsNeverInflatedPastTheCap() throws {
        // With the ratio check disabled, extraction must still stop at the entry cap.
        let limits = PyTorchReadLimits(maxEntryBytes: 1 << 20, maxCompressionRatio: Int.max)
        #expect(throws: ImportError(.archiveLimit, "")) {
            try PyTorchImporter.importFile(at: PyTorchFixtures.bad("zip_bomb.pt"), options: PyTorchImportOptions(limits: limits))
        }
    }
}
