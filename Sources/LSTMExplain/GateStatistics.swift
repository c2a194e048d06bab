import Foundation
import LSTMEngine
import LSTMModel

/// How often one unit of a `[0, 1]` gate sits at either end (Karpathy et al. 2015's saturation plot).
public struct Saturation: Sendable, Equatable {
    /// Share of steps with the gate below ``GateStatistics/low``.
    public let low: Double
    /// Share of steps with the gate above ``GateStatistics/high``.
    public let high: Double

    /// Below `low` on at least ``GateStatistics/flagShare`` of the steps: the unit is closed ("dead").
    public var isDead: Bool { low >= GateStatistics.flagShare }
    /// Above `high` on at least ``GateStatistics/flagShare`` of the steps: the unit is open ("stuck").
    public var isStuck: Bool { high >= GateStatistics.flagShare }

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }
}

/// The numbers the summary and the report show for one layer and direction, over every sample and step.
public struct GateStatistics: Sendable, Equatable {
    /// A gate value below this counts as closed.
    public static let low = 0.05
    /// A gate value above this counts as open.
    public static let high = 0.95
    /// A unit closed (or open) on at least this share of its steps is flagged.
    public static let flagShare = 0.95

    public let key: StateKey
    public let cell: CellKind
    /// The gate that keeps memory: the forget gate `f` (LSTM), the update gate `z` (GRU, `STM_t = z·STM_{t-1} + …`).
    public let memoryGate: TracedGate?
    /// The `[0, 1]` gates: LSTM `i, f, V`; GRU `z, r`.
    public let bounded: [TracedGate]
    /// Mean of every traced value over samples, steps and units (absent when there is no step).
    public let means: [TracedGate: Double]
    /// Per unit: the memory gate's mean over samples and steps.
    public let memoryGateUnitMeans: [Double]
    /// Per unit: `ln 0.5 / ln f̄`, the steps after which half of the memory is left (`0` when `f̄ ≤ 0`,
    /// `+∞` when `f̄ ≥ 1`, NaN when the unit has no computed value).
    public let halfLives: [Double]
    /// Per bounded gate, per unit.
    public let saturation: [TracedGate: [Saturation]]

    public init(_ trace: DirectionTrace) {
        key = trace.key
        cell = trace.layer.cell
        switch trace.layer.cell {
        case .lstm: (memoryGate, bounded) = (.f, [.i, .f, .V])
        case .gru: (memoryGate, bounded) = (.z, [.z, .r])
        case .rnn: (memoryGate, bounded) = (nil, [])
        }
        var means: [TracedGate: Double] = [:]
        for gate in trace.gates {
            // NaN marks a value the engine did not compute (a masked step); it is left out.
            let values = (trace[gate]?.scalars ?? []).filter { !$0.isNaN }
            if !values.isEmpty { means[gate] = values.reduce(0) { $0 + Double($1) } / Double(values.count) }
        }
        self.means = means
        let unitMeans = memoryGate.map { GateStatistics.unitMeans(trace[$0]) } ?? []
        memoryGateUnitMeans = unitMeans
        halfLives = unitMeans.map(GateStatistics.halfLife)
        var saturation: [TracedGate: [Saturation]] = [:]
        for gate in bounded {
            saturation[gate] = GateStatistics.saturation(trace[gate])
        }
        self.saturation = saturation
    }

    /// `ln 0.5 / ln f̄`.
    public static func halfLife(_ mean: Double) -> Double {
        if mean.isNaN { return .nan }
        if mean <= 0 { return 0 }
        if mean >= 1 { return .infinity }
        return log(0.5) / log(mean)
    }

    /// Units whose memory gate is open on ≥ 95% of steps ("always remember").
    public var alwaysRemember: [Int] { memoryUnits.indices.filter { memoryUnits[$0].isStuck } }
    /// Units whose memory gate is closed on ≥ 95% of steps ("always forget").
    public var alwaysForget: [Int] { memoryUnits.indices.filter { memoryUnits[$0].isDead } }

    private var memoryUnits: [Saturation] { memoryGate.flatMap { saturation[$0] } ?? [] }

    /// Per unit mean of a `[B, T, W]` array over `B` and `T` (NaN values left out); empty when there is no step.
    static func unitMeans(_ array: NDArray<Float>?) -> [Double] {
        guard let array, array.shape.count == 3 else { return [] }
        let rows = array.shape[0] * array.shape[1], width = array.shape[2]
        guard rows > 0 else { return [] }
        var sums = [Double](repeating: 0, count: width), counts = [Int](repeating: 0, count: width)
        for row in 0..<rows {
            for k in 0..<width where !array.scalars[row * width + k].isNaN {
                sums[k] += Double(array.scalars[row * width + k])
                counts[k] += 1
            }
        }
        return zip(sums, counts).map { $1 == 0 ? .nan : $0 / Double($1) }
    }

    static func saturation(_ array: NDArray<Float>?) -> [Saturation] {
        guard let array, array.shape.count == 3 else { return [] }
        let rows = array.shape[0] * array.shape[1], width = array.shape[2]
        guard rows > 0 else { return [] }
        var lows = [Int](repeating: 0, count: width), highs = [Int](repeating: 0, count: width)
        var counts = [Int](repeating: 0, count: width)
        for row in 0..<rows {
            for k in 0..<width where !array.scalars[row * width + k].isNaN {
                let value = Double(array.scalars[row * width + k])
                counts[k] += 1
                if value < low { lows[k] += 1 } else if value > high { highs[k] += 1 }
            }
        }
        return (0..<width).map { k in
            counts[k] == 0
                ? Saturation(low: 0, high: 0)
                : Saturation(low: Double(lows[k]) / Double(counts[k]), high: Double(highs[k]) / Double(counts[k]))
        }
    }
}

/// One sample's `[T, W]` slice of a traced `[B, T, W]` array, averaged into at most `rows × columns` bins for
/// drawing (never for the `.npz`).
struct Binned {
    /// Units per drawn row and steps per drawn column (bins may differ by one when the sizes do not divide).
    let units: Int, steps: Int
    let rows: Int, columns: Int
    /// `[rows][columns]`, row = unit bin, column = time bin.
    let values: [[Double]]

    init(_ array: NDArray<Float>, sample: Int, maxRows: Int, maxColumns: Int) {
        let T = array.shape[1], W = array.shape[2]
        rows = min(W, maxRows)
        columns = min(T, maxColumns)
        units = rows == 0 ? 0 : (W + rows - 1) / rows
        steps = columns == 0 ? 0 : (T + columns - 1) / columns
        var sums = [[Double]](repeating: [Double](repeating: 0, count: columns), count: rows)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: columns), count: rows)
        let base = sample * T * W
        for t in 0..<T {
            let column = t * columns / max(T, 1)
            for k in 0..<W where !array.scalars[base + t * W + k].isNaN {
                let row = k * rows / max(W, 1)
                sums[row][column] += Double(array.scalars[base + t * W + k])
                counts[row][column] += 1
            }
        }
        // A bin without any computed value (masked steps only) stays NaN: drawn grey.
        var means = sums
        for r in 0..<rows {
            for c in 0..<columns { means[r][c] = counts[r][c] > 0 ? sums[r][c] / Double(counts[r][c]) : .nan }
        }
        values = means
    }
}

/// One sample's per-step mean over units of a `[B, T, W]` array, averaged into at most `maxPoints` time bins
/// (NaN where a bin has no computed value).
func meanOverUnits(_ array: NDArray<Float>, sample: Int, maxPoints: Int) -> [Double] {
    let T = array.shape[1], W = array.shape[2]
    let points = min(T, maxPoints)
    var sums = [Double](repeating: 0, count: points), counts = [Int](repeating: 0, count: points)
    for t in 0..<T {
        let bin = t * points / max(T, 1)
        for k in 0..<W where !array.scalars[(sample * T + t) * W + k].isNaN {
            sums[bin] += Double(array.scalars[(sample * T + t) * W + k])
            counts[bin] += 1
        }
    }
    return zip(sums, counts).map { $1 == 0 ? .nan : $0 / Double($1) }
}

/// One unit's values over time for one sample, averaged into at most `maxPoints` time bins.
func unitOverTime(_ array: NDArray<Float>, sample: Int, unit: Int, maxPoints: Int) -> [Double] {
    let T = array.shape[1], W = array.shape[2]
    let points = min(T, maxPoints)
    var sums = [Double](repeating: 0, count: points), counts = [Int](repeating: 0, count: points)
    for t in 0..<T where !array.scalars[(sample * T + t) * W + unit].isNaN {
        let bin = t * points / max(T, 1)
        sums[bin] += Double(array.scalars[(sample * T + t) * W + unit])
        counts[bin] += 1
    }
    return zip(sums, counts).map { $1 == 0 ? .nan : $0 / Double($1) }
}

/// The `count` units whose values vary most over time for one sample (standard deviation), most active first;
/// ties go to the lower unit index.
func mostActiveUnits(_ array: NDArray<Float>, sample: Int, count: Int) -> [Int] {
    let T = array.shape[1], W = array.shape[2]
    guard T > 0 else { return Array(0..<min(count, W)) }
    var spread: [(unit: Int, deviation: Double)] = []
    for k in 0..<W {
        var sum = 0.0, squares = 0.0, count = 0
        for t in 0..<T where !array.scalars[(sample * T + t) * W + k].isNaN {
            let value = Double(array.scalars[(sample * T + t) * W + k])
            sum += value
            squares += value * value
            count += 1
        }
        let mean = count == 0 ? 0 : sum / Double(count)
        spread.append((k, count == 0 ? 0 : max(0, squares / Double(count) - mean * mean).squareRoot()))
    }
    return spread.sorted { ($0.deviation, -$0.unit) > ($1.deviation, -$1.unit) }.prefix(count).map(\.unit)
}
