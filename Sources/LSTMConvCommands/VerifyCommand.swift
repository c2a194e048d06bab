import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv verify FILE`: recomputes every checksum.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute every tensor checksum and check the model; exit 2 on a checksum mismatch.",
        discussion: """
            Prints one line per tensor. A tensor whose data no longer matches its stored CRC-32 is a mismatch \
            (exit 2); a file whose header or structure is damaged, or whose model does not validate, is bad input \
            (exit 65). --json prints every tensor's stored and recomputed CRC-32 as one document.

            EXAMPLE:
              lstmconv verify Fixtures/golden/small_lstm.lstmw
            """)

    @Argument(help: "A checkpoint: .lstmw or .h5 in the lstmconv format.")
    var file: String

    @OptionGroup var output: JSONOption

    func run() throws {
        try reporting("verify", json: output.json) {
            try FileRules.requireInput(file)
            let report = try requiringCheckpoint(file, command: "verify") { try Checkpoint.verify(URL(fileURLWithPath: file)) }
            if output.json {
                let document = VerifyDocument(file: file, report: report)
                try JSONOutput.write(document)
                if document.mismatches > 0 { throw ExitStatus.mismatch }
                if report.problem != nil { throw ExitStatus.badInput }
                return
            }
            var bad = 0
            for entry in report.tensors {
                let status = entry.isValid ? "ok" : "MISMATCH (stored \(String(format: "%08x", entry.stored)))"
                print("\(entry.path)  crc32 \(String(format: "%08x", entry.computed))  \(status)")
                if !entry.isValid { bad += 1 }
            }
            if bad > 0 {
                throw CommandFailure(
                    exitCode: ExitStatus.mismatch,
                    message: "\(file): \(bad) of \(report.tensors.count) tensor checksums do not match")
            }
            if let problem = report.problem {
                // The problem names the file itself: say it once.
                let text = "\(problem)"
                let detail = text.hasPrefix(file + ": ") ? String(text.dropFirst(file.count + 2)) : text
                throw CommandFailure(exitCode: ExitStatus.badInput, message: "\(file): the checksums match but the model does not validate: \(detail)")
            }
            print("\(file): all \(report.tensors.count) checksums match")
        }
    }
}
