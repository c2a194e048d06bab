import Foundation
import LSTMConv

/// What to try next, for the mistakes people make most with `run`, `validate` and `explain`: each hint names
/// the option that fixes it (spec/cli.md §Errors that say what to do next).
enum Hints {
    /// For an output whose shape differs from the expected array's: `--last-step` / `--final-states` when the
    /// model returns every step and one step per sequence was expected (and the reverse), `--time-major` when the
    /// axes are swapped.
    static func shapeMismatch(actual: [Int], expected: [Int], model: Model, timeMajor: Bool) -> [String] {
        var hints: [String] = []
        let last = model.layers.last { if case .recurrent = $0 { true } else { false } }
        var bidirectional = false
        if case .recurrent(let layer)? = last { bidirectional = layer.directions.count == 2 }
        let pytorch = model.provenance.sourceFramework == "pytorch"
        let batchAxis = timeMajor ? 1 : 0
        if actual.count == 3, expected.count == 2, actual[batchAxis] == expected[0], actual[2] == expected[1] {
            var hint = "the model returns every time step [\(timeMajor ? "time, batch" : "batch, time"), \(actual[2])] but \(expected) holds one per sequence: "
            if pytorch {
                hint += "pass --last-step (output[:, -1], the last time step)"
                if bidirectional {
                    hint += " or --final-states (h_n: torch.cat((h_n[-2], h_n[-1]), 1)); the module is bidirectional, so the two differ: "
                        + "--last-step is the backward direction after reading only the last step, --final-states after reading the whole sequence"
                } else {
                    hint += " (or --final-states, the same for a one-direction module)"
                }
            } else {
                hint += "the source's last recurrent layer has return_sequences; --last-step and --final-states apply to PyTorch sources"
            }
            hints.append(hint)
        } else if actual.count == 2, expected.count == 3, expected[batchAxis] == actual[0], expected[2] == actual[1] {
            hints.append("the model returns one step per sequence \(actual) but \(expected) holds every time step: drop --last-step / --final-states")
        } else if actual.count == 3, expected.count == 3, actual[2] == expected[2], actual[0] == expected[1], actual[1] == expected[0] {
            hints.append(
                "the batch and time axes are swapped: \(timeMajor ? "drop --time-major" : "pass --time-major if the arrays are [time, batch, features]")")
        }
        return hints
    }

    /// For an input the model's first layer cannot read: the layout it expects, `--time-major`, and the embedding
    /// options for token ids.
    static func input(shape: [Int], isTokens: Bool, model: Model, timeMajor: Bool) -> String? {
        switch model.layers.first {
        case .recurrent(let layer)?:
            if isTokens {
                return embeddingHint(model: model)
            }
            let features = layer.inputSize
            let layout = layer.timeMajor || timeMajor ? "[time, batch, \(features)]" : "[batch, time, \(features)]"
            var hint = "the model reads \(layout) (features last)"
            if shape.count == 3, shape[1] == features, shape[2] != features {
                hint += "; \(shape) looks like [batch, features, time]: transpose it to [batch, time, features]"
            } else if shape.count == 2, shape.last == features {
                hint += "; for one sequence \(shape), add the batch axis: [1, \(shape[0]), \(features)]"
            } else if shape.count == 3 {
                hint += "; \(shape) has \(shape[2]) features: is this the input the model was trained on?"
            }
            if !layer.timeMajor {
                hint += timeMajor ? " (--time-major reads [time, batch, features])" : "; pass --time-major for a [time, batch, features] array"
            }
            return hint
        case .embedding?:
            return "the model starts with an embedding and reads token ids [batch, time] (integers)"
                + (timeMajor ? "" : "; pass --time-major for [time, batch]")
        case .dense(let dense)?:
            return "the model reads [batch, \(dense.inputSize)] or [batch, time, \(dense.inputSize)]"
        case nil:
            return nil
        }
    }

    /// Token ids for a model without an embedding.
    static func embeddingHint(model: Model) -> String {
        let kind = model.layers.first?.kindName ?? "no layer"
        return "token ids need an embedding as the model's first layer, and this model starts with \(kind): "
            + "import the source's nn.Embedding with --embedding PREFIX (PyTorch), or give features [batch, time, features]"
    }
}

/// Runs a step that reads `input` into the model, adding ``Hints/input(shape:isTokens:model:timeMajor:)`` to an
/// engine's "invalid input" error; otherwise as ``blaming(_:_:)``.
func blamingInput<T>(_ input: String, shape: [Int], isTokens: Bool, model: Model, timeMajor: Bool, _ body: () throws -> T) throws -> T {
    do {
        return try blaming(input, body)
    } catch let failure as CommandFailure {
        guard let underlying = failure.underlying, underlying.codeName == "invalid input",
              let hint = Hints.input(shape: shape, isTokens: isTokens, model: model, timeMajor: timeMajor) else { throw failure }
        var hinted = failure
        hinted.message += "; \(hint)"
        hinted.hint = hint
        throw hinted
    }
}

extension ForwardInput {
    /// Whether the input holds integer token ids.
    var isTokens: Bool {
        if case .tokens = self { true } else { false }
    }
}

/// Runs a step that needs an lstmconv checkpoint (`verify`, `convert`): when `file` is a framework file instead,
/// the error says which commands read it (`inspect`, `import`, `export`).
func requiringCheckpoint<T>(_ file: String, command: String, _ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as any LSTMConvError where error.failureKind == .badInput {
        guard let kind = try? ModelSource.detect(URL(fileURLWithPath: file)), kind != .checkpoint(.binary), kind != .checkpoint(.hdf5) else {
            throw error
        }
        let hint = "this is a \(kind), not an lstmconv checkpoint: `lstmconv inspect` and `validate` read it in memory, "
            + "`lstmconv import \(file)` writes a checkpoint that `\(command)` reads"
        throw CommandFailure(exitCode: ExitStatus.badInput, message: "\(error); \(hint)", file: file, underlying: error, hint: hint)
    }
}
