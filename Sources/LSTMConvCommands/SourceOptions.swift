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

    @Flag(help: "PyTorch: output only output[:, -1] [B, D*H] (the last time step) instead of the whole sequence [B, T, D*H].")
    var lastStep = false

    @Flag(help: "PyTorch: output only the final states h_n [B, D*H] (directions concatenated, forward first); differs from --last-step when bidirectional.")
    var finalStates = false

    @Option(help: "PyTorch: an nn.Embedding prefix in front of the recurrent module (found automatically when unambiguous; \"\" for none). The input is then token ids [B, T].")
    var embedding: String?

    @Option(help: "PyTorch nn.RNN: its nonlinearity, tanh or relu (a state_dict does not record it).")
    var nonlinearity: RNNNonlinearity = .tanh

    /// The importer options these flags describe.
    var importOptions: ImportOptions {
        var options = ImportOptions(
            from: from, config: config.map { URL(fileURLWithPath: $0) }, module: module, head: head, lastStepOnly: lastStep,
            finalStatesOnly: finalStates)
        options.nonlinearity = nonlinearity == .relu ? .relu : .tanh
        options.embedding = embedding
        return options
    }

    func validate() throws {
        if lastStep && finalStates {
            throw ValidationError("--last-step (output[:, -1]) and --final-states (h_n) are two different outputs; choose one")
        }
    }

    /// Fails with exit 66 when `--config` names no readable file.
    func requireInputs() throws {
        if let config { try FileRules.requireInput(config) }
    }
}

/// `--nonlinearity`: PyTorch `nn.RNN(nonlinearity=...)`.
enum RNNNonlinearity: String, ExpressibleByArgument, CaseIterable {
    case tanh, relu
}
