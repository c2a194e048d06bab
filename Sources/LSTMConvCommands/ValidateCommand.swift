import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv validate MODEL --input x.npy --expected y.npy [--atol] [--rtol]`.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Run a forward pass and compare it with an expected output; exit 0 within tolerance, 2 on mismatch.",
        discussion: """
            An element passes when |actual − expected| ≤ atol + rtol·|expected| (NumPy's isclose). Shape mismatches \
            are reported as such. Input and expected output are batch-first ([batch, time, …]) unless --time-major is \
            given or the model records time_major; --lengths limits each sequence as run does. A shape mismatch \
            says what to try (--last-step, --final-states, --time-major); --json prints the errors, the worst \
            element, the tolerances, the engine and pass/fail as one document.

            EXAMPLE:
              lstmconv validate Fixtures/keras/k3_stacked_lstm_dense/model.h5 --input Fixtures/keras/k3_stacked_lstm_dense/input.npy --expected Fixtures/keras/k3_stacked_lstm_dense/expected.npy
            """)

    @OptionGroup var modelOptions: ModelOptions

    @Option(help: "Input .npy.")
    var input: String

    @Option(help: "Expected output .npy (from the source framework).")
    var expected: String

    @Option(help: "Absolute tolerance.")
    var atol: Double = 1e-5

    @Option(help: "Relative tolerance.")
    var rtol: Double = 1e-4

    @OptionGroup var json: JSONOption

    func validate() throws {
        guard atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else {
            throw ValidationError("--atol and --rtol must be finite and non-negative")
        }
    }

    func run() throws {
        try reporting("validate", json: json.json) {
            try FileRules.requireInput(input)
            try FileRules.requireInput(expected)
            let pass = try modelOptions.prepare()
            let runOptions = try modelOptions.runOptions()
            let x = try blaming(input) { try ForwardJob.input(from: URL(fileURLWithPath: input), for: pass.model) }
            let want = try blaming(expected) { try ForwardJob.expected(from: URL(fileURLWithPath: expected)) }
            warnNonFinite(x, in: input)
            warnNonFinite(want, in: expected)
            let result = try blamingInput(input, shape: x.shape, isTokens: x.isTokens, model: pass.model, timeMajor: runOptions.timeMajor) {
                try pass.run(x, initialStates: [:], options: runOptions)
            }
            warnNonFinite(result.output, in: "the output of \(modelOptions.model)")
            let comparison = Comparison(actual: result.output, expected: want, atol: atol, rtol: rtol)
            var document = ValidateDocument(
                model: modelOptions.model, input: input, expected: expected, engine: modelOptions.engine.rawValue, atol: atol, rtol: rtol,
                passed: false, elements: 0, mismatches: 0, hints: [])
            if let mismatch = comparison.shapeMismatch {
                let hints = Hints.shapeMismatch(
                    actual: mismatch.actual, expected: mismatch.expected, model: pass.model, timeMajor: runOptions.timeMajor)
                if json.json {
                    document.shapeMismatch = .init(actual: mismatch.actual, expected: mismatch.expected)
                    document.hints = hints
                    try JSONOutput.write(document)
                }
                throw CommandFailure(
                    exitCode: ExitStatus.mismatch,
                    message: "\(modelOptions.model): shape mismatch: the model produces \(mismatch.actual), \(expected) holds \(mismatch.expected)"
                        + hints.map { "; \($0)" }.joined(),
                    documented: json.json)
            }
            let float16 = pass.model.provenance.sourceComputeDType == "float16"
            if json.json {
                document.record(comparison, float16Source: float16)
                try JSONOutput.write(document)
                if !document.passed { throw ExitStatus.mismatch }
                return
            }
            print("engine: \(modelOptions.engine.rawValue)")
            print("elements: \(comparison.count)")
            print("max abs error: \(comparison.maxAbsoluteError)")
            print("max rel error: \(comparison.maxRelativeError)")
            if let index = comparison.worstIndex, let a = comparison.worstActual, let e = comparison.worstExpected {
                print("worst element: \(index) actual \(a) expected \(e)")
            }
            guard comparison.isWithinTolerance else {
                if float16 {
                    print("hint: the source computes in float16 (provenance.source_compute_dtype); its outputs carry float16 rounding: try --atol 1e-2")
                }
                throw CommandFailure(
                    exitCode: ExitStatus.mismatch,
                    message: "\(modelOptions.model): \(comparison.mismatchCount) of \(comparison.count) elements outside atol \(atol), rtol \(rtol)")
            }
            print("OK: within atol \(atol), rtol \(rtol)")
        }
    }
}
