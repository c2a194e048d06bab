import Foundation
import LSTMConv

// The `--json` documents of the commands other than `inspect` (whose document is ModelReport.json()): one
// Encodable struct per command, written by JSONOutput with sorted, snake_case keys. spec/schemas/ publishes them.

/// `lstmconv verify --json`.
struct VerifyDocument: Encodable {
    struct Entry: Encodable {
        var path: String
        var crc32Stored: String
        var crc32Computed: String
        var ok: Bool
    }
    var command = "verify"
    var schemaVersion = JSONOutput.schemaVersion
    var file: String
    var ok: Bool
    var tensors: [Entry]
    var mismatches: Int
    /// Why a file whose checksums match does not validate, or `nil`.
    var problem: String?

    init(file: String, report: ChecksumReport) {
        self.file = file
        tensors = report.tensors.map {
            Entry(path: $0.path, crc32Stored: String(format: "%08x", $0.stored), crc32Computed: String(format: "%08x", $0.computed), ok: $0.isValid)
        }
        mismatches = tensors.filter { !$0.ok }.count
        problem = report.problem.map { "\($0)" }
        ok = mismatches == 0 && problem == nil
    }
}

/// `lstmconv convert --json`.
struct ConvertDocument: Encodable {
    var command = "convert"
    var schemaVersion = JSONOutput.schemaVersion
    var input: String
    var output: String
    var encoding: String
    var dtype: String?
    var compress: Bool
    var tensors: Int
}

/// One source → document entry of `import --json`'s tensor map.
struct TensorMapEntry: Encodable {
    var source: String
    var document: String
}

/// `lstmconv import --json`.
struct ImportDocument: Encodable {
    var command = "import"
    var schemaVersion = JSONOutput.schemaVersion
    var source: String
    var output: String
    var encoding: String
    var sourceFramework: String
    var sourceFrameworkVersion: String
    var sourceLayout: String
    /// One line per layer: the source layer and the gates it mapped.
    var layers: [String]
    var tensorMap: [TensorMapEntry]
    var ignoredKeys: [String]
    var warnings: [String]
    var notes: [String]

    init(source: String, output: String, encoding: Encoding, result: ImportResult) {
        self.source = source
        self.output = output
        self.encoding = encoding.rawValue
        let p = result.model.provenance
        sourceFramework = p.sourceFramework
        sourceFrameworkVersion = p.sourceFrameworkVersion
        sourceLayout = p.sourceLayout
        layers = result.layerSummaries.isEmpty
            ? result.model.layers.enumerated().map { "layer \($0.offset): \(ModelReport.summary(of: $0.element))" }
            : result.layerSummaries
        tensorMap = result.tensorMap.map { TensorMapEntry(source: $0.source, document: $0.document) }
        ignoredKeys = result.ignoredKeys
        warnings = result.warnings
        notes = result.notes
    }
}

/// `lstmconv run --json`.
struct RunDocument: Encodable {
    var command = "run"
    var schemaVersion = JSONOutput.schemaVersion
    var model: String
    var input: String
    var output: String
    var outputShape: [Int]
    var precision: String
    var engine: String
    var timeMajor: Bool
    /// The `--states` archive, or `nil`.
    var states: String?
    /// Its entry names (`layer_<k>/<direction>/STM|LTM`); empty without `--states`.
    var stateNames: [String]
}

/// `lstmconv validate --json`: the comparison, or the shape mismatch.
struct ValidateDocument: Encodable {
    struct Worst: Encodable {
        var index: [Int]
        var actual: Double?
        var expected: Double?
    }
    struct Shapes: Encodable {
        var actual: [Int]
        var expected: [Int]
    }
    var command = "validate"
    var schemaVersion = JSONOutput.schemaVersion
    var model: String
    var input: String
    var expected: String
    var engine: String
    var atol: Double
    var rtol: Double
    var passed: Bool
    /// Elements compared (0 on a shape mismatch).
    var elements: Int
    /// Elements outside the tolerance (a NaN counts).
    var mismatches: Int
    /// `nil` when not finite, or on a shape mismatch.
    var maxAbsError: Double?
    var maxRelError: Double?
    var worst: Worst?
    var shapeMismatch: Shapes?
    /// What to try next (`--last-step`, `--atol 1e-2`, …).
    var hints: [String]

    /// Fills in a comparison of matching shapes (`float16Source`: the source computes in float16, so a failure
    /// suggests `--atol 1e-2`).
    mutating func record(_ comparison: Comparison, float16Source: Bool) {
        elements = comparison.count
        mismatches = comparison.mismatchCount
        maxAbsError = finite(comparison.maxAbsoluteError)
        maxRelError = finite(comparison.maxRelativeError)
        if let index = comparison.worstIndex {
            worst = Worst(index: index, actual: finite(comparison.worstActual), expected: finite(comparison.worstExpected))
        }
        passed = comparison.isWithinTolerance
        if !passed, float16Source {
            hints.append("the source computes in float16 (provenance.source_compute_dtype): try --atol 1e-2")
        }
    }
}

/// `lstmconv export --json`.
struct ExportDocument: Encodable {
    struct Written: Encodable {
        var name: String
        var shape: [Int]
        var dtype: String?
    }
    struct Module: Encodable {
        var prefix: String
        var constructor: String
        var layers: [Int]
        var output: String?
    }
    var command = "export"
    var schemaVersion = JSONOutput.schemaVersion
    var model: String
    var output: String
    var to: String
    /// What was written, in words (`PyTorch state_dict`, `ONNX opset 17`, `Keras 3 .keras archive`).
    var format: String
    /// Every key, initializer or weight written.
    var tensors: [Written]
    /// PyTorch: the modules to construct.
    var modules: [Module]
    /// PyTorch: the head's activation, which a state_dict does not hold.
    var headActivation: String?
    /// ONNX: the operators of the graph.
    var operators: [String]
    var notes: [String]
}

/// `lstmconv explain --json`: the summary's statistics per layer and direction.
struct ExplainDocument: Encodable {
    struct GateMean: Encodable {
        var gate: String
        var mean: Double?
    }
    struct GateSaturation: Encodable {
        var gate: String
        /// Mean over units of the share of steps below 0.05 / above 0.95.
        var closedShare: Double?
        var openShare: Double?
        /// Units closed / open on ≥ 95 % of steps.
        var closedUnits: Int
        var openUnits: Int
    }
    struct HalfLife: Encodable {
        var min: Double?
        var median: Double?
        var max: Double?
    }
    struct Direction: Encodable {
        var layer: Int
        var direction: String
        var cell: String
        var means: [GateMean]
        /// Steps (`ln 0.5 / ln f̄` per unit); `nil` values are infinite or undefined.
        var halfLife: HalfLife?
        var alwaysRemember: [Int]
        var alwaysForget: [Int]
        var saturation: [GateSaturation]
    }
    var command = "explain"
    var schemaVersion = JSONOutput.schemaVersion
    var model: String
    var input: String
    var engine: String
    var sample: Int
    var report: String?
    var gates: String?
    var directions: [Direction]

    init(model: String, input: String, engine: String, sample: Int, report: String?, gates: String?, statistics: [GateStatistics]) {
        self.model = model
        self.input = input
        self.engine = engine
        self.sample = sample
        self.report = report
        self.gates = gates
        directions = statistics.map { stats in
            let lives = stats.halfLives.filter { !$0.isNaN }.sorted()
            let halfLife = lives.isEmpty ? nil : HalfLife(min: finite(lives.first), median: finite(lives[lives.count / 2]), max: finite(lives.last))
            let saturation = stats.bounded.map { gate -> GateSaturation in
                let units = stats.saturation[gate] ?? []
                let count = Double(max(units.count, 1))
                return GateSaturation(
                    gate: gate.rawValue, closedShare: units.isEmpty ? nil : units.reduce(0) { $0 + $1.low } / count,
                    openShare: units.isEmpty ? nil : units.reduce(0) { $0 + $1.high } / count,
                    closedUnits: units.filter(\.isDead).count, openUnits: units.filter(\.isStuck).count)
            }
            return Direction(
                layer: stats.key.layer, direction: stats.key.direction.rawValue, cell: stats.cell.rawValue,
                means: stats.means.keys.sorted().map { GateMean(gate: $0.rawValue, mean: finite(stats.means[$0])) },
                halfLife: halfLife, alwaysRemember: stats.alwaysRemember, alwaysForget: stats.alwaysForget, saturation: saturation)
        }
    }
}
