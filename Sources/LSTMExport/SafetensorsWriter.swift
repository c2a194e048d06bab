import AtomicFileIO
import Foundation
import LSTMModel

/// A deterministic writer of the safetensors format (the layout `LSTMImportPyTorch.Safetensors` reads).
///
/// The file is an unsigned little-endian u64 `N`, `N` bytes of compact UTF-8 JSON, then the byte buffer:
/// - the JSON object's keys are sorted by their UTF-8 bytes (`__metadata__` included); each tensor entry is
///   `{"dtype":…,"shape":[…],"data_offsets":[begin,end]}` and `__metadata__` is a string → string map with
///   sorted keys; the JSON is padded with spaces to a multiple of 8 bytes, as the reference writer does;
/// - the buffer holds the tensors in the reference writer's order (larger dtypes first: F64, F32, BF16, F16;
///   then by key), back to back, so every tensor is aligned to its element size.
///
/// The same tensors and metadata always give the same bytes; nothing depends on time or hashing.
public enum SafetensorsWriter {
    /// The safetensors dtype name of a storage dtype.
    public static func dtypeName(_ dtype: DType) -> String {
        switch dtype {
        case .f32: "F32"
        case .f16: "F16"
        case .bf16: "BF16"
        case .f64: "F64"
        }
    }

    /// The reference writer's dtype rank (its `Dtype` declaration order); higher ranks are written first.
    static func rank(_ dtype: DType) -> Int {
        switch dtype {
        case .f16: 0
        case .bf16: 1
        case .f32: 2
        case .f64: 3
        }
    }

    /// The whole file for `tensors` (key → tensor) and `metadata`.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws(ExportError) -> Data {
        let (head, ordered, size) = try layout(tensors, metadata: metadata)
        var file = Data(capacity: size)
        file.append(head)
        for (key, tensor) in ordered { file.append(try tensor.loaded(key).bytes) }
        return file
    }

    /// The length prefix and JSON header, the tensors in data order, and the file size.
    static func layout(
        _ tensors: [String: Tensor], metadata: [String: String]
    ) throws(ExportError) -> (head: Data, ordered: [(key: String, value: Tensor)], size: Int) {
        for key in tensors.keys {
            guard !key.isEmpty, key != "__metadata__" else {
                throw ExportError(.invalidName, "a tensor key may not be empty or `__metadata__`", location: key)
            }
        }
        let ordered = tensors.sorted { lhs, rhs in
            let (left, right) = (rank(lhs.value.dtype), rank(rhs.value.dtype))
            if left != right { return left > right }
            return precedes(lhs.key, rhs.key)
        }
        var offsets: [String: (Int, Int)] = [:]
        var position = 0
        for (key, tensor) in ordered {
            offsets[key] = (position, position + tensor.bytes.count)
            position += tensor.bytes.count
        }

        var members: [(key: String, json: String)] = tensors.map { key, tensor in
            let (begin, end) = offsets[key] ?? (0, 0)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            return (key, "{\"dtype\":\"\(dtypeName(tensor.dtype))\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}")
        }
        if !metadata.isEmpty {
            let pairs = metadata.sorted { precedes($0.key, $1.key) }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            members.append(("__metadata__", "{" + pairs.joined(separator: ",") + "}"))
        }
        members.sort { precedes($0.key, $1.key) }
        var header = Data(("{" + members.map { "\(jsonString($0.key)):\($0.json)" }.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8))

        var head = Data(capacity: 8 + header.count)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { head.append(contentsOf: $0) }
        head.append(header)
        return (head, ordered.map { (key: $0.key, value: $0.value) }, 8 + header.count + position)
    }

    /// Writes `encode(tensors, metadata:)` to `url` through a temporary file in the same folder and a rename,
    /// streaming: the header, then one tensor at a time (a deferred tensor is read only when it is due).
    /// An existing file is replaced only with `overwrite: true`.
    public static func write(
        _ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL, overwrite: Bool = false
    ) throws(ExportError) {
        let head: Data, ordered: [(key: String, value: Tensor)]
        do throws(ExportError) {
            (head, ordered, _) = try layout(tensors, metadata: metadata)
        } catch {
            throw error.inFile(url.path)
        }
        try AtomicFile.stream(to: url, overwrite: overwrite, mapError: { failure in
            ExportError(failure.kind == .exists ? .outputExists : .cannotWrite, failure.message, file: failure.path)
        }) { (sink: (Data) throws(ExportError) -> Void) throws(ExportError) in
            try sink(head)
            for (key, tensor) in ordered {
                try sink(try tensor.loaded(key).bytes)
            }
        }
    }

    /// Byte order of the UTF-8 encodings (the reference writer's `String` order; also Python's `sort_keys`).
    static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }

    /// A JSON string literal, escaped as serde_json escapes: `"`, `\` and control characters only.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
