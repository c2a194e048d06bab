import ArgumentParser
import Foundation
import LSTMConv

/// How an importable source file is read: shared by `import`, `run`, `validate` and `export`.
struct SourceOptions: ParsableArguments {
    @Option(help: "Read the source as this format instead of detecting it from its content.")
    var from: SourceFormat?

    @Option(help: "Keras: the architecture JSON (model.to_json()) for a weights-only file.")
    var config: String?

    @Option(help: "PyTorch: the recurrent module prefix to import when there are several.")
    var module: String?

    @Option(help: "PyTorch: a Linear module prefix to append as a dense head.")
    var head: String?

    @Flag(help: "PyTorch: output only the last step [B, D*H] (h_n) instead of the whole sequence [B, T, D*H].")
    var lastStep = false

    /// The importer options these flags describe.
    var importOptions: ImportOptions {
        ImportOptions(from: from, config: config.map { URL(fileURLWithPath: $0) }, module: module, head: head, lastStepOnly: lastStep)
    }

    /// Fails with exit 66 when `--config` names no readable file.
    func requireInputs() throws {
        if let config { try FileRules.requireInput(config) }
    }
}
