import Foundation
import LSTMLayouts
import LSTMModel
import ONNXProto
import SwiftProtobuf

/// A constant of an ONNX graph (an initializer or a `Constant` node), decoded.
struct ONNXConstant: Sendable {
    enum Values: Sendable {
        /// Floating-point elements, bytes kept exactly as stored (f32, f64, f16, bf16).
        case float(Tensor)
        /// Integer or boolean elements widened to Int64.
        case int([Int64])
    }

    var name: String
    var dims: [Int]
    var values: Values

    var elementCount: Int { Tensor.elementCount(of: dims) ?? 0 }

    /// The integers of an integer constant.
    var ints: [Int64]? {
        if case .int(let values) = values { return values }
        return nil
    }

    /// The float tensor of a floating-point constant.
    var tensor: Tensor? {
        if case .float(let tensor) = values { return tensor }
        return nil
    }

    /// Whether every element is zero (`+0` or `-0`).
    var isAllZero: Bool {
        switch values {
        case .int(let values): return values.allSatisfy { $0 == 0 }
        case .float(let tensor): return tensor.doubles().allSatisfy { $0 == 0 }
        }
    }

    /// The same elements read with other dims (equal element count).
    func reshaped(_ newDims: [Int]) -> ONNXConstant? {
        guard Tensor.elementCount(of: newDims) == elementCount else { return nil }
        var copy = self
        copy.dims = newDims
        if case .float(let tensor) = values {
            guard let reshaped = try? Tensor(dtype: tensor.dtype, shape: newDims, bytes: tensor.bytes) else { return nil }
            copy.values = .float(reshaped)
        }
        return copy
    }
}

/// A parsed `.onnx` file: the protobuf plus where external data files are resolved.
struct ONNXFile {
    let url: URL
    let model: Onnx_ModelProto
    /// The model's folder (resolved, symlinks followed): external data must stay inside it.
    let folder: URL
    /// Lowercase hex SHA-256 of the `.onnx` file.
    let sha256: String

    /// Largest `.onnx` file read (protobuf's own limit).
    static let maximumFileSize = 2_147_483_647

    init(url: URL) throws(ImportError) {
        self.url = url
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
            let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
            guard size <= Self.maximumFileSize else {
                throw ImportError(.archiveLimit, "\(size) bytes; an .onnx protobuf holds at most 2 GiB (larger models keep tensors in external data)", file: url.path)
            }
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError(.unrecognizedSource, "cannot read the file: \(error.localizedDescription)", file: url.path)
        }
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ImportError(.malformedSource, "not a valid ONNX ModelProto: \(error)", file: url.path)
        }
        sha256 = FileDigest.sha256Hex(of: data)
        guard model.hasGraph else {
            throw ImportError(.malformedSource, "the ModelProto has no graph", file: url.path)
        }
        folder = url.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL
    }

    /// The default-domain opset the graph is written against.
    var opset: Int? {
        model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) }
    }

    // MARK: - Tensors

    /// Decodes a TensorProto, reading external data from the model's folder. Sizes are checked (with overflow
    /// checks) against what the dims need before anything is read.
    func constant(_ proto: Onnx_TensorProto, name: String) throws(ImportError) -> ONNXConstant {
        var dims: [Int] = []
        for dim in proto.dims {
            guard dim >= 0, let value = Int(exactly: dim) else {
                throw ImportError(.malformedSource, "tensor dims \(proto.dims) hold a negative dimension", file: url.path, location: name)
            }
            dims.append(value)
        }
        guard let count = Tensor.elementCount(of: dims) else {
            throw ImportError(.malformedSource, "tensor dims \(proto.dims) overflow", file: url.path, location: name)
        }
        guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) else {
            throw ImportError(.unsupportedDType, "element type \(proto.dataType) is not an ONNX type", file: url.path, location: name)
        }
        let floatType: DType?
        let intWidth: Int?
        switch type {
        case .float: (floatType, intWidth) = (.f32, nil)
        case .double: (floatType, intWidth) = (.f64, nil)
        case .float16: (floatType, intWidth) = (.f16, nil)
        case .bfloat16: (floatType, intWidth) = (.bf16, nil)
        case .int64: (floatType, intWidth) = (nil, 8)
        case .int32: (floatType, intWidth) = (nil, 4)
        case .int8, .uint8, .bool: (floatType, intWidth) = (nil, 1)
        default:
            throw ImportError(.unsupportedDType, "element type \(type) is not read (float, double, float16, bfloat16 and integers are)", file: url.path, location: name)
        }
        let width = floatType?.byteWidth ?? intWidth ?? 1
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow else {
            throw ImportError(.malformedSource, "tensor dims \(proto.dims) overflow", file: url.path, location: name)
        }

        var raw: Data?
        if proto.dataLocation == .external {
            raw = try externalBytes(proto, name: name, byteCount: byteCount)
        } else if proto.hasRawData {
            guard proto.rawData.count == byteCount else {
                throw ImportError(.shapeMismatch, "raw_data holds \(proto.rawData.count) bytes; dims \(dims) of \(type) need \(byteCount)", file: url.path, location: name)
            }
            raw = proto.rawData
        }
        func typedCount(_ found: Int, _ field: String) throws(ImportError) {
            guard found == count else {
                throw ImportError(.shapeMismatch, "\(field) holds \(found) elements; dims \(dims) need \(count)", file: url.path, location: name)
            }
        }
        if let floatType {
            let bytes: Data
            if let raw {
                bytes = raw
            } else {
                switch floatType {
                case .f32:
                    try typedCount(proto.floatData.count, "float_data")
                    bytes = proto.floatData.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
                case .f64:
                    try typedCount(proto.doubleData.count, "double_data")
                    bytes = proto.doubleData.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
                case .f16, .bf16:
                    try typedCount(proto.int32Data.count, "int32_data")
                    bytes = proto.int32Data.map { UInt16(truncatingIfNeeded: $0).littleEndian }.withUnsafeBytes { Data($0) }
                }
            }
            do {
                return ONNXConstant(name: name, dims: dims, values: .float(try Tensor(dtype: floatType, shape: dims, bytes: bytes)))
            } catch {
                throw ImportError(.shapeMismatch, error.description, file: url.path, location: name)
            }
        }
        var ints: [Int64] = []
        if let raw {
            ints.reserveCapacity(count)
            let base = raw.startIndex
            for index in 0..<count {
                let start = base + index * width
                var value: Int64 = 0
                switch width {
                case 8: value = Int64(littleEndian: raw[start..<start + 8].enumerated().reduce(0) { $0 | Int64($1.element) << (8 * $1.offset) })
                case 4:
                    let word = raw[start..<start + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
                    value = Int64(Int32(bitPattern: word))
                default: value = type == .int8 ? Int64(Int8(bitPattern: raw[start])) : Int64(raw[start])
                }
                ints.append(value)
            }
        } else if type == .int64 {
            try typedCount(proto.int64Data.count, "int64_data")
            ints = proto.int64Data
        } else {
            try typedCount(proto.int32Data.count, "int32_data")
            ints = proto.int32Data.map(Int64.init)
        }
        return ONNXConstant(name: name, dims: dims, values: .int(ints))
    }

    /// The bytes of an external-data tensor: `location` relative to the model's folder and inside it,
    /// `offset`/`length` checked against the file before reading.
    func externalBytes(_ proto: Onnx_TensorProto, name: String, byteCount: Int) throws(ImportError) -> Data {
        var entries: [String: String] = [:]
        for entry in proto.externalData { entries[entry.key] = entry.value }
        guard let location = entries["location"], !location.isEmpty else {
            throw ImportError(.malformedSource, "external data without a location", file: url.path, location: name)
        }
        guard !location.hasPrefix("/"), !location.contains("\0") else {
            throw ImportError(.malformedSource, "external data location `\(location)` is absolute; it must be relative to the model's folder", file: url.path, location: name)
        }
        let target = folder.appendingPathComponent(location).resolvingSymlinksInPath().standardizedFileURL
        let inside = folder.path.hasSuffix("/") ? folder.path : folder.path + "/"
        guard target.path.hasPrefix(inside) else {
            throw ImportError(.malformedSource, "external data location `\(location)` leaves the model's folder \(folder.path)", file: url.path, location: name)
        }
        func number(_ key: String) throws(ImportError) -> Int? {
            guard let text = entries[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw ImportError(.malformedSource, "external data \(key) `\(text)` is not a non-negative integer", file: url.path, location: name)
            }
            return value
        }
        let offset = try number("offset") ?? 0
        let length = try number("length") ?? byteCount
        guard length == byteCount else {
            throw ImportError(.shapeMismatch, "external data length \(length); dims \(proto.dims) need \(byteCount) bytes", file: url.path, location: name)
        }
        let size: Int
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: target.path)
            size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        } catch {
            throw ImportError(.malformedSource, "external data file `\(location)` cannot be read: \(error.localizedDescription)", file: url.path, location: name)
        }
        let (end, overflow) = offset.addingReportingOverflow(length)
        guard !overflow, end <= size else {
            throw ImportError(
                .malformedSource, "external data `\(location)` holds \(size) bytes; the tensor needs bytes \(offset)..<\(overflow ? Int.max : end)",
                file: url.path, location: name, offset: offset)
        }
        do {
            let handle = try FileHandle(forReadingFrom: target)
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64(offset))
            let bytes = try handle.read(upToCount: length) ?? Data()
            guard bytes.count == length else {
                throw ImportError(.malformedSource, "external data `\(location)` ended after \(bytes.count) of \(length) bytes", file: url.path, location: name, offset: offset)
            }
            return bytes
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError(.malformedSource, "external data `\(location)`: \(error.localizedDescription)", file: url.path, location: name)
        }
    }
}

// MARK: - Attributes

extension Onnx_NodeProto {
    /// The attribute named `name`, if present.
    func attribute(_ name: String) -> Onnx_AttributeProto? { attribute.first { $0.name == name } }

    func int(_ name: String) -> Int64? { attribute(name).map(\.i) }
    func float(_ name: String) -> Float? { attribute(name).map(\.f) }
    func string(_ name: String) -> String? { attribute(name).map { String(decoding: $0.s, as: UTF8.self) } }
    func ints(_ name: String) -> [Int64]? { attribute(name).map(\.ints) }
    func floats(_ name: String) -> [Float]? { attribute(name).map(\.floats) }
    func strings(_ name: String) -> [String]? { attribute(name).map { $0.strings.map { String(decoding: $0, as: UTF8.self) } } }

    /// `Op "name"` for messages.
    var label: String { name.isEmpty ? "\(opType) node (output `\(output.first ?? "")`)" : "\(opType) node \"\(name)\"" }
}
