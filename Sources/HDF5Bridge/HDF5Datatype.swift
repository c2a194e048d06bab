import CHDF5

/// A stored datatype as libhdf5 describes it: class, size, byte order and, for floats, the bit layout.
///
/// A plain value: reading a dataset or attribute describes its type first, and every read checks it.
package struct HDF5Datatype: Sendable, Equatable, CustomStringConvertible {
    /// The HDF5 datatype class.
    package enum TypeClass: String, Sendable {
        case integer, float, string, bitfield, opaque, compound, reference, enumeration, array, time
        case variableLength = "variable-length sequence"
        case unknown
    }

    /// Byte order of an atomic type.
    package enum ByteOrder: String, Sendable {
        case littleEndian = "little-endian"
        case bigEndian = "big-endian"
        case vax = "VAX"
        case mixed
        case none
    }

    /// Character set of a string type.
    package enum CharacterSet: String, Sendable {
        case ascii = "ASCII"
        case utf8 = "UTF-8"
        case other
    }

    /// How a fixed-length string fills unused bytes.
    package enum StringPadding: String, Sendable {
        case nullTerminated, nullPadded, spacePadded, other
    }

    package var typeClass: TypeClass
    /// Bytes per element (for a variable-length string: the size of its in-file reference).
    package var size: Int
    package var byteOrder: ByteOrder
    /// Integers only: whether the type is two's-complement signed.
    package var isSigned: Bool
    /// Strings only: variable length (`H5T_VARIABLE`) rather than fixed length.
    package var isVariableLengthString: Bool
    /// Strings only.
    package var characterSet: CharacterSet
    /// Fixed-length strings only.
    package var stringPadding: StringPadding
    /// Floats only: the bit layout.
    package var floatLayout: HDF5FloatLayout?
    /// Enumerations only: member names and values (h5py stores `bool` as an enum `FALSE = 0, TRUE = 1`).
    package var enumMembers: [(name: String, value: Int64)]

    /// The IEEE format this float type is, in either byte order; `nil` for other classes and layouts.
    package var floatFormat: HDF5FloatFormat? {
        guard typeClass == .float, let floatLayout else { return nil }
        return HDF5FloatFormat.allCases.first { $0.byteWidth == size && $0.layout == floatLayout }
    }

    /// Whether this is h5py's boolean enumeration (`FALSE = 0, TRUE = 1` over a 1-byte integer).
    package var isBooleanEnumeration: Bool {
        typeClass == .enumeration && size == 1 && enumMembers.count == 2
            && enumMembers.contains { $0.name == "FALSE" && $0.value == 0 }
            && enumMembers.contains { $0.name == "TRUE" && $0.value == 1 }
    }

    package static func == (lhs: HDF5Datatype, rhs: HDF5Datatype) -> Bool {
        lhs.typeClass == rhs.typeClass && lhs.size == rhs.size && lhs.byteOrder == rhs.byteOrder
            && lhs.isSigned == rhs.isSigned && lhs.isVariableLengthString == rhs.isVariableLengthString
            && lhs.characterSet == rhs.characterSet && lhs.stringPadding == rhs.stringPadding
            && lhs.floatLayout == rhs.floatLayout
            && lhs.enumMembers.map(\.name) == rhs.enumMembers.map(\.name)
            && lhs.enumMembers.map(\.value) == rhs.enumMembers.map(\.value)
    }

    /// A short human description: `IEEE f32 little-endian`, `signed 64-bit integer little-endian`,
    /// `variable-length UTF-8 string`, `compound (24 bytes)`.
    package var description: String {
        switch typeClass {
        case .integer:
            return "\(isSigned ? "signed" : "unsigned") \(size * 8)-bit integer \(byteOrder.rawValue)"
        case .float:
            if let floatFormat { return "IEEE \(floatFormat.rawValue) \(byteOrder.rawValue)" }
            return "\(size * 8)-bit float \(byteOrder.rawValue) (non-IEEE layout \(floatLayout.map { "\($0)" } ?? "?"))"
        case .string:
            if isVariableLengthString { return "variable-length \(characterSet.rawValue) string" }
            return "fixed-length \(characterSet.rawValue) string of \(size) bytes"
        case .enumeration:
            return isBooleanEnumeration ? "boolean enumeration" : "enumeration (\(size) bytes)"
        default:
            return "\(typeClass.rawValue) (\(size) bytes)"
        }
    }
}

/// The bit layout of a float type (`H5Tget_fields`, `H5Tget_ebias`, `H5Tget_precision`, `H5Tget_offset`).
package struct HDF5FloatLayout: Sendable, Equatable, CustomStringConvertible {
    package var signPosition: Int
    package var exponentPosition: Int
    package var exponentSize: Int
    package var mantissaPosition: Int
    package var mantissaSize: Int
    package var exponentBias: Int
    package var precision: Int
    package var offset: Int
    /// Whether the mantissa's leading 1 is implied (IEEE normalisation).
    package var impliedNormalization: Bool

    package var description: String {
        "sign \(signPosition), exponent \(exponentPosition)+\(exponentSize) bias \(exponentBias), mantissa \(mantissaPosition)+\(mantissaSize), precision \(precision), offset \(offset)"
    }
}

/// The float formats this bridge writes, and recognises when reading.
package enum HDF5FloatFormat: String, Sendable, CaseIterable {
    /// IEEE binary16, laid out as h5py writes `numpy.float16`.
    case f16
    /// bfloat16: the top half of an IEEE binary32.
    case bf16
    /// IEEE binary32 (`H5T_IEEE_F32LE`).
    case f32
    /// IEEE binary64 (`H5T_IEEE_F64LE`).
    case f64

    package var byteWidth: Int {
        switch self {
        case .f16, .bf16: 2
        case .f32: 4
        case .f64: 8
        }
    }

    /// The bit layout of the format.
    package var layout: HDF5FloatLayout {
        switch self {
        case .f16: .ieee(bits: 16, exponentSize: 5, mantissaSize: 10, bias: 15)
        case .bf16: .ieee(bits: 16, exponentSize: 8, mantissaSize: 7, bias: 127)
        case .f32: .ieee(bits: 32, exponentSize: 8, mantissaSize: 23, bias: 127)
        case .f64: .ieee(bits: 64, exponentSize: 11, mantissaSize: 52, bias: 1023)
        }
    }
}

extension HDF5FloatLayout {
    static func ieee(bits: Int, exponentSize: Int, mantissaSize: Int, bias: Int) -> HDF5FloatLayout {
        HDF5FloatLayout(
            signPosition: bits - 1, exponentPosition: mantissaSize, exponentSize: exponentSize, mantissaPosition: 0,
            mantissaSize: mantissaSize, exponentBias: bias, precision: bits, offset: 0, impliedNormalization: true)
    }
}

// MARK: - Describing and building types (libhdf5 calls)

extension HDF5Datatype {
    /// Describes an open datatype identifier.
    static func describe(_ type: H5ID, _ context: H5Context) throws(HDF5Error) -> HDF5Datatype {
        let raw = type.raw
        let classValue = try H5.call("H5Tget_class", context) { Int(H5Tget_class(raw).rawValue) }
        let typeClass: TypeClass =
            switch Int32(classValue) {
            case H5T_INTEGER.rawValue: .integer
            case H5T_FLOAT.rawValue: .float
            case H5T_STRING.rawValue: .string
            case H5T_BITFIELD.rawValue: .bitfield
            case H5T_OPAQUE.rawValue: .opaque
            case H5T_COMPOUND.rawValue: .compound
            case H5T_REFERENCE.rawValue: .reference
            case H5T_ENUM.rawValue: .enumeration
            case H5T_VLEN.rawValue: .variableLength
            case H5T_ARRAY.rawValue: .array
            case H5T_TIME.rawValue: .time
            default: .unknown
            }
        let size = try H5.call("H5Tget_size", context) { () -> Int in
            let size = H5Tget_size(raw)
            return size == 0 ? -1 : Int(size)
        }
        var result = HDF5Datatype(
            typeClass: typeClass, size: size, byteOrder: .none, isSigned: false, isVariableLengthString: false,
            characterSet: .other, stringPadding: .other, floatLayout: nil, enumMembers: [])
        if [.integer, .float, .enumeration, .bitfield].contains(typeClass) {
            let order = try H5.call("H5Tget_order", context) { Int(H5Tget_order(raw).rawValue) }
            result.byteOrder =
                switch Int32(order) {
                case H5T_ORDER_LE.rawValue: .littleEndian
                case H5T_ORDER_BE.rawValue: .bigEndian
                case H5T_ORDER_VAX.rawValue: .vax
                case H5T_ORDER_MIXED.rawValue: .mixed
                default: .none
                }
        }
        switch typeClass {
        case .integer:
            let sign = try H5.call("H5Tget_sign", context) { Int(H5Tget_sign(raw).rawValue) }
            result.isSigned = Int32(sign) == H5T_SGN_2.rawValue
        case .float:
            var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
            try H5.call("H5Tget_fields", context) { H5Tget_fields(raw, &spos, &epos, &esize, &mpos, &msize) }
            let bias = try H5.call("H5Tget_ebias", context) { () -> Int in
                let bias = H5Tget_ebias(raw)
                return bias == 0 ? -1 : Int(bias)
            }
            let precision = try H5.call("H5Tget_precision", context) { () -> Int in
                let precision = H5Tget_precision(raw)
                return precision == 0 ? -1 : Int(precision)
            }
            let offset = try H5.call("H5Tget_offset", context) { Int(H5Tget_offset(raw)) }
            let norm = try H5.call("H5Tget_norm", context) { Int(H5Tget_norm(raw).rawValue) }
            result.floatLayout = HDF5FloatLayout(
                signPosition: spos, exponentPosition: epos, exponentSize: esize, mantissaPosition: mpos,
                mantissaSize: msize, exponentBias: bias, precision: precision, offset: offset,
                impliedNormalization: Int32(norm) == H5T_NORM_IMPLIED.rawValue)
        case .string:
            let variable = try H5.call("H5Tis_variable_str", context) { H5Tis_variable_str(raw) }
            result.isVariableLengthString = variable > 0
            let cset = try H5.call("H5Tget_cset", context) { Int(H5Tget_cset(raw).rawValue) }
            result.characterSet =
                switch Int32(cset) {
                case H5T_CSET_ASCII.rawValue: .ascii
                case H5T_CSET_UTF8.rawValue: .utf8
                default: .other
                }
            let pad = try H5.call("H5Tget_strpad", context) { Int(H5Tget_strpad(raw).rawValue) }
            result.stringPadding =
                switch Int32(pad) {
                case H5T_STR_NULLTERM.rawValue: .nullTerminated
                case H5T_STR_NULLPAD.rawValue: .nullPadded
                case H5T_STR_SPACEPAD.rawValue: .spacePadded
                default: .other
                }
        case .enumeration:
            let count = try H5.call("H5Tget_nmembers", context) { H5Tget_nmembers(raw) }
            guard count <= 1024 else { break }
            for index in 0..<UInt32(count) {
                var value: Int64 = 0
                try H5.call("H5Tget_member_value", context) { () -> herr_t in
                    // Enumerations larger than 8 bytes do not occur; the value is read into the low bytes.
                    guard size <= 8 else { return -1 }
                    var bytes = [UInt8](repeating: 0, count: 8)
                    let status = bytes.withUnsafeMutableBytes { H5Tget_member_value(raw, index, $0.baseAddress) }
                    var word: UInt64 = 0
                    for (shift, byte) in bytes.prefix(size).enumerated() { word |= UInt64(byte) << (8 * UInt64(shift)) }
                    value = Int64(bitPattern: word)
                    return status
                }
                result.enumMembers.append((memberName(raw, index, file: context.file), value))
            }
        default:
            break
        }
        return result
    }

    /// An enumeration member's name (the string libhdf5 allocates is copied and freed under the lock).
    private static func memberName(_ raw: hid_t, _ index: UInt32, file: String?) -> String {
        H5.unchecked(file: file) {
            guard let pointer = H5Tget_member_name(raw, index) else { return "" }
            defer { H5free_memory(pointer) }
            return String(cString: pointer)
        }
    }
}

extension HDF5FloatFormat {
    /// A new little-endian datatype of this format (custom f16/bf16 built from `H5T_IEEE_F32LE`, as h5py does).
    func makeType(_ context: H5Context) throws(HDF5Error) -> H5ID {
        switch self {
        case .f32: return try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_ieee_f32le()) }
        case .f64: return try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_ieee_f64le()) }
        case .f16, .bf16:
            let type = try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_ieee_f32le()) }
            let l = layout
            try H5.call("H5Tset_fields", context) {
                H5Tset_fields(type.raw, l.signPosition, l.exponentPosition, l.exponentSize, l.mantissaPosition, l.mantissaSize)
            }
            try H5.call("H5Tset_size", context) { H5Tset_size(type.raw, byteWidth) }
            try H5.call("H5Tset_ebias", context) { H5Tset_ebias(type.raw, l.exponentBias) }
            return type
        }
    }
}
