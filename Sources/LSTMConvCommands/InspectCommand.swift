import ArgumentParser
import Foundation
import LSTMConv

/// `lstmconv inspect FILE [--json]`.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show layers, gate variant, sizes, every tensor (document name, shape, dtype, checksum, source) and provenance.",
        discussion: "Reads the header only: no tensor data is read and no checksum recomputed (`lstmconv verify` does that). Problems the header shows are listed after it; the exit status is then 65.")

    @Argument(help: "A checkpoint: .lstmw or .h5 in the lstmconv format.")
    var file: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        try reporting {
            try FileRules.requireInput(file)
            let report = try ModelReport.load(URL(fileURLWithPath: file))
            if json {
                FileHandle.standardOutput.write(try report.json())
                print()
            } else {
                print(report.text)
            }
            if let problem = report.problem { throw problem }
        }
    }
}
