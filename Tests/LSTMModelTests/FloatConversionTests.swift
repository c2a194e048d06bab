import Foundation
@testable import LSTMModel
import Testing

/// The branch-free raw-buffer conversions give exactly the bits of the scalar `FloatBits` reference: every
/// float16 and bfloat16 pattern widened, and float32 patterns narrowed over every exponent with the rounding-relevant
/// low bits (exact ties, just above and below), NaN payloads, infinities, zeros and subnormals.
@Suite("float16 / bfloat16 raw conversion is bit-exact")
struct FloatConversionTests {
    /// float32 bit patterns: for every sign, exponent and a spread of mantissas, the tie and its neighbours at the
    /// half (13 dropped bits) and bfloat (16 dropped bits) positions.
    static let narrowInputs: [UInt32] = {
        var values: [UInt32] = [0, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7F80_0001, 0xFFFF_FFFF, 0x7FBF_FFFF, 1, 0x807F_FFFF]
        var generator = SystemRandomNumberGenerator()
        let lowPatterns: [UInt32] = [0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x1_8000, 0x7F_FFFF]
        for sign: UInt32 in [0, 0x8000_0000] {
            for exponent: UInt32 in 0...255 {
                for low in lowPatterns {
                    for high: UInt32 in [0, 0x40_0000, 0x7F_0000, 0x15_0000] {
                        values.append(sign | exponent << 23 | ((high | low) & 0x7F_FFFF))
                    }
                }
                for _ in 0..<1024 { values.append(sign | exponent << 23 | (UInt32.random(in: 0...0x7F_FFFF, using: &generator))) }
            }
        }
        return values
    }()

    static func run(_ input: Data, _ from: DType, _ to: DType) throws -> Data {
        try #require(FloatConversion.converted(input, from: from, to: to))
    }

    @Test("f32 → f16 and f32 → bf16")
    func narrowing() throws {
        let inputs = Self.narrowInputs
        let bytes = inputs.withUnsafeBytes { Data($0) }
        let half = try Self.run(bytes, .f32, .f16), bfloat = try Self.run(bytes, .f32, .bf16)
        var mismatches: [String] = []
        for (index, bits) in inputs.enumerated() {
            let value = Float(bitPattern: bits)
            let gotHalf = half.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self) }
            let gotBFloat = bfloat.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self) }
            if gotHalf != FloatBits.half(from: value) { mismatches.append("f16 of \(String(bits, radix: 16)): \(gotHalf)") }
            if gotBFloat != FloatBits.bfloat(from: value) { mismatches.append("bf16 of \(String(bits, radix: 16)): \(gotBFloat)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(mismatches.prefix(5))")
        #expect(inputs.count > 500_000)
    }

    @Test("every f16 and bf16 pattern → f32")
    func widening() throws {
        let patterns = (0...UInt16.max).map { $0 }
        let bytes = patterns.withUnsafeBytes { Data($0) }
        let fromHalf = try Self.run(bytes, .f16, .f32), fromBFloat = try Self.run(bytes, .bf16, .f32)
        var mismatches = 0
        for (index, bits) in patterns.enumerated() {
            let half = fromHalf.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self) }
            let bfloat = fromBFloat.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self) }
            if half != FloatBits.float(fromHalf: bits).bitPattern { mismatches += 1 }
            if bfloat != FloatBits.float(fromBFloat: bits).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }

    @Test("Tensor.converted takes the raw path and gives the reference values, from an odd-offset slice too")
    func tensorConversion() throws {
        let values: [Float] = [0, -0, 1, -2.5, 65504, 65520, 1e-8, 6.0e-5, .infinity, -.infinity, .nan, 3.14159, 1e30, Float(bitPattern: 0x8000_1000)]
        var raw = Data([0x55])
        raw.append(values.withUnsafeBytes { Data($0) })
        let tensor = try Tensor(dtype: .f32, shape: [values.count], bytes: raw.dropFirst())
        for target in [DType.f16, .bf16] {
            let converted = tensor.converted(to: target)
            let expected = values.map { target == .f16 ? FloatBits.half(from: $0) : FloatBits.bfloat(from: $0) }
            #expect(converted.bytes == expected.withUnsafeBytes { Data($0) })
            let back = converted.converted(to: .f32)
            let widened = expected.map { target == .f16 ? FloatBits.float(fromHalf: $0) : FloatBits.float(fromBFloat: $0) }
            #expect(back.bytes == widened.withUnsafeBytes { Data($0) })
        }
    }
}
