import Foundation

/// float32 ↔ float16 / bfloat16 over raw little-endian buffers, element for element the same bits as
/// ``FloatBits`` (round to nearest even, NaN payloads kept and quieted, subnormals exact), written without
/// branches so that the compiler vectorises the loops (selects instead of `if`, the subnormal case through one
/// float addition whose rounding is the round-to-nearest-even of the half's subnormal step).
package enum FloatConversion {
    /// float16 bits → float32 bits.
    @inline(__always)
    static func widenHalf(_ half: UInt16) -> UInt32 {
        let h = UInt32(half)
        let sign = (h & 0x8000) << 16
        let exponent = (h >> 10) & 0x1F
        let mantissa = h & 0x3FF
        let normal = ((exponent &+ 112) << 23) | (mantissa << 13)
        let special = 0x7F80_0000 | (mantissa << 13)
        let subnormal = (Float(mantissa) * 0x1p-24).bitPattern
        let magnitude = exponent == 0 ? subnormal : (exponent == 0x1F ? special : normal)
        return magnitude | sign
    }

    /// float32 bits → float16 bits (round to nearest even).
    @inline(__always)
    static func narrowToHalf(_ bits: UInt32) -> UInt16 {
        let sign = (bits >> 16) & 0x8000
        let magnitude = bits & 0x7FFF_FFFF
        // Normal halves: rebias the exponent, round the 13 dropped bits to nearest even (a carry may reach Inf).
        let normal = (magnitude &+ 0xC800_0FFF &+ ((magnitude >> 13) & 1)) >> 13
        // Below 2^-14: adding 0.5 rounds the value to a multiple of 2^-24 (the half's subnormal step).
        let subnormal = (Float(bitPattern: magnitude) + 0.5).bitPattern &- 0x3F00_0000
        let nan = 0x7E00 | ((magnitude & 0x7F_FFFF) >> 13)
        var result = magnitude < 0x3880_0000 ? subnormal : normal
        result = magnitude >= 0x4780_0000 ? 0x7C00 : result
        result = magnitude > 0x7F80_0000 ? nan : result
        return UInt16(truncatingIfNeeded: result | sign)
    }

    /// float32 bits → bfloat16 bits (round to nearest even; NaN quieted).
    @inline(__always)
    static func narrowToBFloat(_ bits: UInt32) -> UInt16 {
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16
        let nan = (bits >> 16) | 0x40
        return UInt16(truncatingIfNeeded: (bits & 0x7FFF_FFFF) > 0x7F80_0000 ? nan : rounded)
    }

    /// `count` elements of `source` (little-endian `from`) converted to `to` into `destination`. Only the pairs
    /// f32 → f16, f32 → bf16, f16 → f32 and bf16 → f32; `false` for any other pair.
    package static func convert(
        _ source: UnsafeRawPointer, from: DType, to: DType, count: Int, into destination: UnsafeMutableRawPointer
    ) -> Bool {
        #if _endian(little)
        switch (from, to) {
        case (.f32, .f16):
            for index in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)
                destination.storeBytes(of: narrowToHalf(bits), toByteOffset: index &* 2, as: UInt16.self)
            }
        case (.f32, .bf16):
            for index in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self)
                destination.storeBytes(of: narrowToBFloat(bits), toByteOffset: index &* 2, as: UInt16.self)
            }
        case (.f16, .f32):
            for index in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self)
                destination.storeBytes(of: widenHalf(bits), toByteOffset: index &* 4, as: UInt32.self)
            }
        case (.bf16, .f32):
            for index in 0..<count {
                let bits = source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self)
                destination.storeBytes(of: UInt32(bits) << 16, toByteOffset: index &* 4, as: UInt32.self)
            }
        default:
            return false
        }
        return true
        #else
        return false
        #endif
    }

    /// `bytes` (`count` elements of `from`) as `to`, in a buffer of their own; `nil` for a pair ``convert``
    /// does not handle.
    package static func converted(_ bytes: Data, from: DType, to: DType) -> Data? {
        guard [DType.f16, .bf16].contains(from) && to == .f32 || from == .f32 && [DType.f16, .bf16].contains(to) else { return nil }
        let count = bytes.count / from.byteWidth
        var handled = true
        let out = LargeBuffer.data(count: count * to.byteWidth) { destination in
            bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                handled = convert(base, from: from, to: to, count: count, into: destination)
            }
            return count * to.byteWidth
        }
        return handled ? out : nil
    }
}
