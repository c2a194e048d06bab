import LSTMConv

/// The benchmark workload of issue 4 §6: one LSTM layer, I = H, float32, two biases (as PyTorch), return_sequences,
/// zero initial states. Weights uniform in ±0.1 and inputs uniform in ±1 from a fixed seed; timing does not depend
/// on the values (Fixtures/bench_frameworks.py draws its own of the same sizes).
public struct Workload: Sendable {
    public let hidden: Int
    public let batch: Int
    public let steps: Int
    public let model: Model
    public let input: ForwardInput

    public init(hidden: Int, batch: Int, steps: Int = 100, seed: UInt64 = 1) {
        self.hidden = hidden
        self.batch = batch
        self.steps = steps
        var generator = SplitMix(seed: seed &+ UInt64(hidden))
        func uniform(_ count: Int, _ scale: Float) -> [Float] { (0..<count).map { _ in generator.uniform() * scale } }
        var set = ParameterSet()
        for (W, b, bh) in [(TensorRole.W_n, TensorRole.b_n, TensorRole.bh_n), (.W_i, .b_i, .bh_i), (.W_f, .b_f, .bh_f), (.W_v, .b_v, .bh_v)] {
            set[W] = Tensor(uniform(hidden * 2 * hidden, 0.1), shape: [hidden, 2 * hidden])
            set[b] = Tensor(uniform(hidden, 0.1), shape: [hidden])
            set[bh] = Tensor(uniform(hidden, 0.1), shape: [hidden])
        }
        model = Model(layers: [.recurrent(RecurrentLayer(
            cell: .lstm, inputSize: hidden, hiddenSize: hidden, directions: [set], returnSequences: true, bias: .double))])
        let values = uniform(batch * steps * hidden, 1)
        // The count matches the shape by construction.
        input = .float32(try! NDArray(shape: [batch, steps, hidden], scalars: values))
    }

    /// Floating-point operations of one forward pass: both GEMMs of every step, all four gates.
    public var flops: Double { 2.0 * Double(batch * steps) * 4 * Double(hidden) * Double(2 * hidden) }

    /// Floating-point operations of the recurrent GEMM of one step.
    public var recurrentStepFlops: Double { 2.0 * Double(batch) * 4 * Double(hidden) * Double(hidden) }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
}

/// Median of repeated timings, after warm-up, until both minimums are met.
public func medianSeconds(warmup: Int = 3, repeats: Int = 20, minimumSeconds: Double = 1, _ body: () throws -> Void) rethrows -> (seconds: Double, runs: Int) {
    let clock = ContinuousClock()
    for _ in 0..<warmup { try body() }
    var times: [Double] = []
    let started = clock.now
    while times.count < repeats || (seconds(clock.now - started) < minimumSeconds && times.count < 100 * repeats) {
        let start = clock.now
        try body()
        times.append(seconds(clock.now - start))
    }
    times.sort()
    return (times[times.count / 2], times.count)
}

public func seconds(_ duration: Duration) -> Double {
    let (whole, fraction) = duration.components
    return Double(whole) + Double(fraction) * 1e-18
}
