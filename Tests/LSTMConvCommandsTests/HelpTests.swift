import Foundation
import Testing

/// `--help` of the root command and of every subcommand, checked against spec/cli.md.
@Suite("help and the documented contract")
struct HelpTests {
    static let commands = ["import", "inspect", "verify", "convert", "run", "validate", "export", "explain"]

    /// The flags spec/cli.md's synopsis gives each command (`lstmconv CMD … [--flag …]`).
    static func specFlags() throws -> [String: Set<String>] {
        let spec = try String(contentsOf: CLI.packageRoot.appendingPathComponent("spec/cli.md"), encoding: .utf8)
        var flags: [String: Set<String>] = [:]
        for line in spec.split(separator: "\n") {
            guard let start = line.range(of: "`lstmconv ") else { continue }
            let synopsis = line[start.upperBound...].prefix { $0 != "`" }
            let words = synopsis.split(whereSeparator: { " []|".contains($0) })
            guard let command = words.first.map(String.init), commands.contains(command) else { continue }
            let found = words.filter { $0.hasPrefix("-") }.map(String.init)
            flags[command, default: []].formUnion(found)
        }
        return flags
    }

    /// The option names a help text lists (`-o, --output <output>` gives both), without --help and --version.
    static func helpFlags(_ help: String) -> [[String]] {
        var options: [[String]] = []
        var inOptions = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" "), line.hasSuffix(":") { inOptions = line == "OPTIONS:" }
            guard inOptions, line.hasPrefix("  "), line.dropFirst(2).hasPrefix("-") else { continue }
            let head = line.dropFirst(2).components(separatedBy: "  ").first ?? ""
            let flags = head.split(whereSeparator: { $0 == " " || $0 == "," }).filter { $0.hasPrefix("-") }.map(String.init)
            if !flags.contains("--help"), !flags.contains("--version") { options.append(flags) }
        }
        return options
    }

    @Test("every subcommand's help lists exactly the options spec/cli.md documents", arguments: commands)
    func subcommandHelpMatchesSpec(_ command: String) async throws {
        let spec = try #require(try Self.specFlags()[command], "spec/cli.md has no synopsis for \(command)")
        let result = try await CLI.run([command, "--help"])
        #expect(result.status == Exit.success, "\(result)")
        #expect(result.stdout.hasPrefix("OVERVIEW: "), "\(result)")
        #expect(result.stdout.contains("USAGE: lstmconv \(command) "), "\(result)")
        let options = Self.helpFlags(result.stdout)
        #expect(!options.isEmpty || command == "verify", "\(result)")
        for names in options {
            #expect(names.contains { spec.contains($0) }, "\(command) --help lists \(names) but spec/cli.md does not")
        }
        for flag in spec {
            #expect(options.contains { $0.contains(flag) }, "spec/cli.md gives \(command) \(flag) but --help does not list it")
        }
        // `lstmconv help CMD` is the same text.
        let viaHelp = try await CLI.run(["help", command])
        #expect(viaHelp.stdout == result.stdout)
    }

    @Test("lstmconv --help (snapshot)")
    func rootHelp() async throws {
        let result = try await CLI.run(["--help"])
        #expect(result.status == Exit.success, "\(result)")
        #expect(result.stderr.isEmpty)
        #expect(result.stdout == Self.rootHelpSnapshot, "\(result)")
        for command in Self.commands {
            #expect(result.stdout.contains("\n  \(command) "), "\(command) missing from the subcommand list")
        }
    }

    static let rootHelpSnapshot = """
        OVERVIEW: Move LSTM/GRU weights between frameworks, check them, and run them.

        Weights are stored under the gate names of the notes (learn, forget, remember,
        use). See spec/ for the format. Every command takes --json (one document on
        stdout; spec/schemas). Shell completions: lstmconv --generate-completion-script
        bash|zsh|fish.

        USAGE: lstmconv <subcommand>

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          import                  Import a Keras, PyTorch, safetensors or ONNX file
                                  onto the document gates and write an lstmconv
                                  checkpoint.
          inspect                 Show layers, gate variant, sizes, every tensor
                                  (document name, shape, dtype, checksum, source) and
                                  provenance.
          verify                  Recompute every tensor checksum and check the model;
                                  exit 2 on a checksum mismatch.
          convert                 Re-encode a checkpoint: switch encoding (by OUT's
                                  extension or --encoding) and optionally dtype.
          run                     Run a forward pass on a .npy input and write the
                                  model's output (and optionally final states).
          validate                Run a forward pass and compare it with an expected
                                  output; exit 0 within tolerance, 2 on mismatch.
          export                  Write a model in a framework's format: PyTorch
                                  state_dict (.safetensors), ONNX graph (.onnx) or
                                  Keras 3 archive (.keras).
          explain                 Show what the learn, forget, remember and use gates
                                  do on an input: a summary, an HTML report, every
                                  activation as .npz.

          See 'lstmconv help <subcommand>' for detailed help.

        """
}
