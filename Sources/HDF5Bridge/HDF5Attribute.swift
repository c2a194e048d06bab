import CHDF5
import Foundation

/// An attribute's value, decoded by class. Scalars are one-element arrays (see ``HDF5Attribute/shape``).
package enum HDF5Value: Sendable, Equatable {
    /// Fixed- or variable-length strings (ASCII or UTF-8), padding removed.
    case strings([String])
    /// Signed integers of any size up to 64 bits.
    case integers([Int64])
    /// Unsigned integers of any size up to 64 bits.
    case unsignedIntegers([UInt64])
    /// Floats of any IEEE layout up to 64 bits, widened to `Double`.
    case floats([Double])
    /// h5py's boolean enumeration.
    case booleans([Bool])
}

/// A value to write as a scalar attribute, with the stored type each case gets.
package enum HDF5AttributeValue: Sendable, Equatable {
    /// `H5T_STD_I64LE`.
    case int64(Int64)
    /// `H5T_IEEE_F64LE`.
    case float64(Double)
    /// `H5T_STD_U8LE`.
    case uint8(UInt8)
    /// `H5T_STD_U32LE`.
    case uint32(UInt32)
    /// A variable-length UTF-8 string (`H5T_C_S1`, `H5T_VARIABLE`, `H5T_CSET_UTF8`).
    case string(String)
    /// A one-dimensional array of variable-length UTF-8 strings (Keras' `layer_names`, `weight_names`).
    case strings([String])
}

/// The attributes of a group or dataset.
package struct HDF5Attributes {
    enum OwnerKind { case group, dataset }

    let owner: H5ID
    let kind: OwnerKind
    let file: HDF5File
    /// The path of the group or dataset the attributes belong to.
    package let objectPath: String

    private var context: H5Context { H5Context(file: file.path, object: objectPath) }

    private func context(_ name: String) -> H5Context {
        H5Context(file: file.path, object: "\(objectPath)@\(name)")
    }

    /// Attribute names in creation order when the object tracks it, else in name order.
    package func names() throws(HDF5Error) -> [String] {
        let count = try H5.call("H5Oget_info", context) { chdf5_attribute_count(owner.raw) }
        guard count <= 1 << 16 else { throw context.error(.invalidArgument, "\(count) attributes") }
        let plist: H5ID
        switch kind {
        case .group: plist = try H5.open("H5Gget_create_plist", context, close: H5Pclose) { H5Gget_create_plist(owner.raw) }
        case .dataset: plist = try H5.open("H5Dget_create_plist", context, close: H5Pclose) { H5Dget_create_plist(owner.raw) }
        }
        var flags: UInt32 = 0
        try H5.call("H5Pget_attr_creation_order", context) { H5Pget_attr_creation_order(plist.raw, &flags) }
        let tracked = flags & chdf5_crt_order_tracked() != 0
        do throws(HDF5Error) {
            return try names(count: count, index: tracked ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME)
        } catch {
            // Creation order tracked but not indexed can fail for dense storage: fall back to name order.
            guard tracked else { throw error }
            return try names(count: count, index: H5_INDEX_NAME)
        }
    }

    private func names(count: Int64, index: H5_index_t) throws(HDF5Error) -> [String] {
        var names: [String] = []
        for position in 0..<hsize_t(count) {
            let length = try H5.call("H5Aget_name_by_idx", context) {
                H5Aget_name_by_idx(owner.raw, ".", index, H5_ITER_INC, position, nil, 0, chdf5_default())
            }
            var buffer = [CChar](repeating: 0, count: length + 1)
            try H5.call("H5Aget_name_by_idx", context) {
                H5Aget_name_by_idx(owner.raw, ".", index, H5_ITER_INC, position, &buffer, buffer.count, chdf5_default())
            }
            names.append(String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    /// Whether an attribute called `name` exists.
    package func contains(_ name: String) throws(HDF5Error) -> Bool {
        guard !name.contains("\0") else { return false }
        return try H5.call("H5Aexists", context(name)) { name.withCString { H5Aexists(owner.raw, $0) } } > 0
    }

    /// Opens the attribute `name`; ``HDF5Error/Code/notFound`` if absent.
    package func attribute(_ name: String) throws(HDF5Error) -> HDF5Attribute {
        let context = context(name)
        guard try contains(name) else { throw context.error(.notFound, "no such attribute") }
        let id = try H5.open("H5Aopen", context, close: H5Aclose) { name.withCString { chdf5_aopen(owner.raw, $0) } }
        file.register(id)
        return try HDF5Attribute(name: name, id: id, context: context)
    }

    /// The strings of attribute `name`, or, when it is absent, of the Keras-style split attributes
    /// `name0`, `name1`, … concatenated (Keras splits attributes larger than 64 KiB this way).
    ///
    /// - Throws: ``HDF5Error/Code/notFound`` if neither `name` nor `name0` exists.
    package func joinedStrings(_ name: String) throws(HDF5Error) -> [String] {
        if try contains(name) { return try attribute(name).strings() }
        var result: [String] = []
        var chunk = 0
        while try contains("\(name)\(chunk)") {
            result += try attribute("\(name)\(chunk)").strings()
            chunk += 1
        }
        guard chunk > 0 else { throw context(name).error(.notFound, "no such attribute, nor split parts \(name)0, \(name)1, …") }
        return result
    }

    /// Writes a new attribute, scalar or (``HDF5AttributeValue/strings(_:)``) one-dimensional (fails if one of that
    /// name exists).
    package func write(_ name: String, _ value: HDF5AttributeValue) throws(HDF5Error) {
        let context = context(name)
        guard !name.isEmpty, !name.contains("\0") else { throw context.error(.invalidArgument, "\"\(name)\" is not an attribute name") }
        var shape: [Int] = []
        if case .strings(let texts) = value { shape = [texts.count] }
        let space = try HDF5Dataspace.create(shape, context)
        let fileType: H5ID
        switch value {
        case .int64: fileType = try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_std_i64le()) }
        case .float64: fileType = try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_ieee_f64le()) }
        case .uint8: fileType = try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_std_u8le()) }
        case .uint32: fileType = try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_std_u32le()) }
        case .string, .strings: fileType = try HDF5Attribute.variableStringType(utf8: true, context)
        }
        let id = try H5.open("H5Acreate2", context, close: H5Aclose) {
            name.withCString { chdf5_acreate(owner.raw, $0, fileType.raw, space.raw, chdf5_default()) }
        }
        switch value {
        case .int64(var number):
            try H5.call("H5Awrite", context) { H5Awrite(id.raw, chdf5_native_int64(), &number) }
        case .float64(var number):
            try H5.call("H5Awrite", context) { H5Awrite(id.raw, chdf5_native_double(), &number) }
        case .uint8(var number):
            try H5.call("H5Awrite", context) { H5Awrite(id.raw, chdf5_native_uint8(), &number) }
        case .uint32(var number):
            try H5.call("H5Awrite", context) { H5Awrite(id.raw, chdf5_native_uint32(), &number) }
        case .string(let text):
            guard !text.utf8.contains(0) else { throw context.error(.invalidArgument, "strings cannot contain NUL") }
            try H5.call("H5Awrite", context) {
                text.withCString { pointer in
                    var element: UnsafePointer<CChar>? = pointer
                    return H5Awrite(id.raw, fileType.raw, &element)
                }
            }
        case .strings(let texts):
            guard !texts.contains(where: { $0.utf8.contains(0) }) else { throw context.error(.invalidArgument, "strings cannot contain NUL") }
            let copies = texts.map { strdup($0) }
            defer { copies.forEach { free($0) } }
            guard !copies.contains(where: { $0 == nil }) else { throw context.error(.invalidArgument, "cannot copy the strings") }
            var elements = copies.map { UnsafePointer($0) }
            try H5.call("H5Awrite", context) { H5Awrite(id.raw, fileType.raw, &elements) }
        }
        try id.close("H5Aclose", context)
    }
}

/// An open attribute. Its shape and datatype are read once, when it is opened.
package final class HDF5Attribute {
    package let name: String
    /// `objectPath@name`, used in errors.
    package let path: String
    /// The dataspace dimensions (empty for a scalar).
    package let shape: [Int]
    package let datatype: HDF5Datatype
    let id: H5ID
    private let type: H5ID
    private let space: H5ID
    private let context: H5Context

    init(name: String, id: H5ID, context: H5Context) throws(HDF5Error) {
        self.name = name
        self.id = id
        self.context = context
        self.path = context.object ?? name
        self.space = try H5.open("H5Aget_space", context, close: H5Sclose) { H5Aget_space(id.raw) }
        self.shape = try HDF5Dataspace.shape(space, context)
        self.type = try H5.open("H5Aget_type", context, close: H5Tclose) { H5Aget_type(id.raw) }
        self.datatype = try HDF5Datatype.describe(type, context)
    }

    /// Number of elements (1 for a scalar).
    package var elementCount: Int { HDF5Limits.elementCount(shape) ?? 0 }

    /// Whether the attribute holds exactly one value (a scalar, or an array of one element).
    package var isSingleValue: Bool { elementCount == 1 }

    /// Reads and decodes the value by class.
    ///
    /// - Throws: ``HDF5Error/Code/wrongType`` for compound, variable-length sequence, array, reference,
    ///   opaque and other classes; ``HDF5Error/Code/invalidString`` for strings that are not UTF-8.
    package func read() throws(HDF5Error) -> HDF5Value {
        let count = elementCount
        switch datatype.typeClass {
        case .string:
            return .strings(try readStrings(count))
        case .integer where datatype.size <= 8 && datatype.byteOrder != .vax:
            if datatype.isSigned {
                return .integers(try readNumbers(count, chdf5_native_int64(), Int64.self))
            }
            return .unsignedIntegers(try readNumbers(count, chdf5_native_uint64(), UInt64.self))
        case .float where datatype.size <= 8 && datatype.floatLayout?.impliedNormalization == true:
            return .floats(try readNumbers(count, chdf5_native_double(), Double.self))
        case .enumeration where datatype.isBooleanEnumeration:
            let raw = try readNumbers(count, type.raw, UInt8.self)
            guard raw.allSatisfy({ $0 <= 1 }) else { throw context.error(.wrongType, "boolean value outside FALSE/TRUE") }
            return .booleans(raw.map { $0 == 1 })
        default:
            throw context.error(.wrongType, "cannot decode an attribute of type \(datatype)")
        }
    }

    /// The strings (fixed- or variable-length; a scalar gives one).
    package func strings() throws(HDF5Error) -> [String] {
        guard datatype.typeClass == .string else { throw context.error(.wrongType, "expected a string, found \(datatype)") }
        return try readStrings(elementCount)
    }

    /// The single string of a scalar (or one-element) string attribute.
    package func string() throws(HDF5Error) -> String {
        let values = try strings()
        guard values.count == 1 else { throw context.error(.wrongShape, "expected one string, found shape \(shape)") }
        return values[0]
    }

    /// The integers of an integer attribute (signed, or unsigned up to `Int64.max`).
    package func int64s() throws(HDF5Error) -> [Int64] {
        switch try read() {
        case .integers(let values): return values
        case .unsignedIntegers(let values):
            var result: [Int64] = []
            for value in values {
                guard let signed = Int64(exactly: value) else { throw context.error(.wrongType, "\(value) does not fit Int64") }
                result.append(signed)
            }
            return result
        default: throw context.error(.wrongType, "expected integers, found \(datatype)")
        }
    }

    /// The single integer of a scalar integer attribute.
    package func int64() throws(HDF5Error) -> Int64 {
        let values = try int64s()
        guard values.count == 1 else { throw context.error(.wrongShape, "expected one integer, found shape \(shape)") }
        return values[0]
    }

    /// The floats of a float attribute, as `Double`.
    package func doubles() throws(HDF5Error) -> [Double] {
        guard case .floats(let values) = try read() else { throw context.error(.wrongType, "expected floats, found \(datatype)") }
        return values
    }

    /// The single float of a scalar float attribute.
    package func double() throws(HDF5Error) -> Double {
        let values = try doubles()
        guard values.count == 1 else { throw context.error(.wrongShape, "expected one float, found shape \(shape)") }
        return values[0]
    }

    // MARK: Reading

    private func readNumbers<T: BitwiseCopyable>(_ count: Int, _ memoryType: hid_t, _: T.Type) throws(HDF5Error) -> [T] {
        var failure: HDF5Error?
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            initialized = count
            do throws(HDF5Error) {
                if count > 0 {
                    try H5.call("H5Aread", context) { H5Aread(id.raw, memoryType, buffer.baseAddress) }
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return values
    }

    private func readStrings(_ count: Int) throws(HDF5Error) -> [String] {
        if datatype.isVariableLengthString {
            return try readVariableStrings(count)
        }
        let size = datatype.size
        guard count.multipliedReportingOverflow(by: size).partialValue <= HDF5Limits.maxStringBytes else {
            throw context.error(.wrongShape, "\(count) strings of \(size) bytes are too large")
        }
        let bytes = try readNumbers(count * size, type.raw, UInt8.self)
        var result: [String] = []
        for index in 0..<count {
            var element = bytes[(index * size)..<((index + 1) * size)]
            switch datatype.stringPadding {
            case .spacePadded:
                while element.last == 0x20 { element = element.dropLast() }
            default:
                element = element.prefix { $0 != 0 }
            }
            result.append(try decode(element))
        }
        return result
    }

    private func readVariableStrings(_ count: Int) throws(HDF5Error) -> [String] {
        let memoryType = try HDF5Attribute.variableStringType(utf8: datatype.characterSet == .utf8, context)
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        if count > 0 {
            try H5.call("H5Aread", context) { H5Aread(id.raw, memoryType.raw, &pointers) }
        }
        defer {
            if count > 0 { H5.unchecked(file: context.file) { _ = chdf5_reclaim(memoryType.raw, space.raw, &pointers) } }
        }
        var result: [String] = []
        for pointer in pointers {
            guard let pointer else {
                result.append("")
                continue
            }
            let length = strlen(pointer)
            guard length <= HDF5Limits.maxStringBytes else { throw context.error(.wrongShape, "a string of \(length) bytes") }
            let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
            result.append(try decode(bytes))
        }
        return result
    }

    private func decode<Bytes: Collection>(_ bytes: Bytes) throws(HDF5Error) -> String where Bytes.Element == UInt8 {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw context.error(.invalidString, "the stored string is not valid UTF-8")
        }
        return text
    }

    /// A variable-length string type (`H5T_C_S1`, size `H5T_VARIABLE`) with the given character set.
    static func variableStringType(utf8: Bool, _ context: H5Context) throws(HDF5Error) -> H5ID {
        let type = try H5.open("H5Tcopy", context, close: H5Tclose) { H5Tcopy(chdf5_c_s1()) }
        try H5.call("H5Tset_size", context) { H5Tset_size(type.raw, chdf5_variable_size()) }
        try H5.call("H5Tset_cset", context) { H5Tset_cset(type.raw, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) }
        return type
    }
}
