/// Element types a tensor may be stored as. Bytes are always little-endian IEEE.
public enum DType: String, Sendable, CaseIterable, Codable {
    case f32, f16, bf16, f64

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .f16, .bf16: 2
        case .f32: 4
        case .f64: 8
        }
    }

    /// The numeric code used in the binary tensor directory (spec §binary/directory).
    public var code: UInt8 {
        switch self {
        case .f32: 1
        case .f16: 2
        case .bf16: 3
        case .f64: 4
        }
    }

    /// The dtype for a directory code, or `nil` for an unknown code.
    public init?(code: UInt8) {
        guard let match = DType.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }
}

/// Bit-level conversions between the storage dtypes and `Float`/`Double`.
///
/// Narrowing conversions round to nearest even; NaN stays NaN.
public enum FloatBits {
    /// IEEE binary16 bits to `Float` (exact).
    public static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal half: mantissa * 2^-24.
            let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? value : -value
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    /// `Float` to IEEE binary16 bits, rounding to nearest even.
    public static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        var mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {  // Inf or NaN
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            if halfExponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - halfExponent)
            var halfMantissa = mantissa >> shift
            let remainder = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            if remainder > halfway || (remainder == halfway && (halfMantissa & 1) == 1) { halfMantissa += 1 }
            return sign | UInt16(halfMantissa)
        }
        var result = UInt32(halfExponent) << 10 | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && (result & 1) == 1) { result += 1 }
        return sign | UInt16(result)
    }

    /// bfloat16 bits to `Float` (exact).
    public static func float(fromBFloat bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// `Float` to bfloat16 bits, rounding to nearest even.
    public static func bfloat(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }
}
