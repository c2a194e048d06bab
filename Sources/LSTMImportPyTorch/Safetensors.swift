import Foundation
import LSTMLayouts
import LSTMModel
import FileSignatures

/// A reader of the safetensors format with the reference implementation's checks
/// (huggingface/safetensors `tensor.rs`, `Metadata::validate`).
///
/// Layout: an unsigned little-endian u64 `N`, `N` bytes of UTF-8 JSON
/// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`),
/// then the byte buffer. Offsets are relative to the buffer and must tile it exactly: sorted by offset, each
/// tensor starts where the previous one ended, the first at 0, the last ends at the end of the file.
public enum Safetensors {
    /// Bits per element of every dtype name the format defines (`enum Dtype` in `tensor.rs`).
    static let dtypeBits: [String: Int] = [
        "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
        "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
    ]

    /// The dtypes lstmconv stores.
    static let floatTypes: [String: DType] = ["F32": .f32, "F16": .f16, "BF16": .bf16, "F64": .f64]

    /// Whether `prefix` (the first bytes of a file, at least 9) looks like a safetensors file: a plausible
    /// header length followed by `{` (leading spaces allowed).
    public static func looksLikeSafetensors(_ prefix: Data) -> Bool {
        FileSignature.sniff(prefix) == .safetensors
    }

    /// Parses a whole safetensors file.
    public static func read(_ data: Data, limits: PyTorchReadLimits = PyTorchReadLimits()) throws(ImportError) -> StateDict {
        try read(data, fileSize: data.count, limits: limits, deferred: nil)
    }

    /// Parses a safetensors file of which `data` holds at least the length and the JSON header. With `deferred`
    /// (a streaming import) every check runs as for the whole file, and each tensor is described and read from
    /// `deferred.file` (its byte range only) when it is materialised; without it `data` is the whole file.
    package static func read(
        _ data: Data, fileSize: Int, limits: PyTorchReadLimits, deferred: (file: SourceFile, cache: SourceCache)?
    ) throws(ImportError) -> StateDict {
        guard fileSize >= 8, data.count >= 8 else {
            throw ImportError(.malformedSource, "a safetensors file starts with an 8-byte header length; the file has \(data.count) bytes", offset: 0)
        }
        let base = data.startIndex
        var length: UInt64 = 0
        for index in (0..<8).reversed() { length = length << 8 | UInt64(data[base + index]) }
        guard length <= UInt64(limits.maxHeaderBytes), let headerLength = Int(exactly: length) else {
            throw ImportError(.malformedSource, "header length \(length) exceeds the limit of \(limits.maxHeaderBytes) bytes", offset: 0)
        }
        guard headerLength <= fileSize - 8, headerLength <= data.count - 8 else {
            throw ImportError(.malformedSource, "header length \(headerLength) runs past the end of the \(fileSize)-byte file", offset: 0)
        }
        let headerBytes = data[base + 8 ..< base + 8 + headerLength]
        guard String(data: headerBytes, encoding: .utf8) != nil else {
            throw ImportError(.malformedSource, "the header is not UTF-8", offset: 8)
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch let error as ImportError {
            throw error
        } catch {
            throw ImportError(.malformedSource, "the header is not a safetensors JSON header: \(Self.describe(error))", offset: 8)
        }

        // The format disallows duplicate keys; a JSON decoder silently keeps one, so count the raw keys.
        var seen = Set<String>()
        let fileOrder = topLevelKeys(Data(headerBytes))
        for key in fileOrder where !seen.insert(key).inserted {
            throw ImportError(.malformedSource, "the header names `\(key)` twice (duplicate keys are not allowed)", location: key, offset: 8)
        }

        // Every entry: known dtype, sane shape, offsets that agree with shape × dtype. Checked in file order (a
        // dictionary's order changes from run to run, and so would the entry an error names).
        var infos: [(name: String, info: Info, bytes: Int)] = []
        let byName = Dictionary(header.tensors, uniquingKeysWith: { first, _ in first })
        let ordered = fileOrder.compactMap { name in byName[name].map { (name, $0) } }
            + header.tensors.filter { !seen.contains($0.0) }.sorted { $0.0 < $1.0 }
        for (name, info) in ordered {
            guard let bits = dtypeBits[info.dtype] else {
                throw ImportError(.unsupportedDType, "unknown safetensors dtype \"\(info.dtype)\"", location: name)
            }
            guard info.data_offsets.count == 2 else {
                throw ImportError(.malformedSource, "data_offsets must be [begin, end], found \(info.data_offsets)", location: name)
            }
            guard let count = Tensor.elementCount(of: info.shape) else {
                throw ImportError(.malformedSource, "shape \(info.shape) has a negative dimension or overflows", location: name)
            }
            let (totalBits, overflow) = count.multipliedReportingOverflow(by: bits)
            guard !overflow else {
                throw ImportError(.malformedSource, "shape \(info.shape) × \(info.dtype) overflows", location: name)
            }
            guard totalBits % 8 == 0 else {
                throw ImportError(.malformedSource, "shape \(info.shape) of \(info.dtype) is not a whole number of bytes", location: name)
            }
            let (begin, end) = (info.data_offsets[0], info.data_offsets[1])
            guard begin >= 0, end >= begin, end - begin == totalBits / 8 else {
                throw ImportError(
                    .malformedSource,
                    "data_offsets [\(begin), \(end)] do not hold \(info.dtype) \(info.shape) (\(totalBits / 8) bytes)", location: name)
            }
            infos.append((name, info, totalBits / 8))
        }

        // Offsets tile the buffer: sorted, contiguous from 0, no overlap, no hole, no trailing bytes.
        infos.sort { ($0.info.data_offsets[0], $0.info.data_offsets[1], $0.name) < ($1.info.data_offsets[0], $1.info.data_offsets[1], $1.name) }
        let bufferStart = 8 + headerLength
        let bufferLength = fileSize - bufferStart
        var expected = 0
        for entry in infos {
            let begin = entry.info.data_offsets[0]
            guard begin == expected else {
                let problem = begin < expected ? "overlaps the previous tensor" : "leaves a hole after the previous tensor"
                throw ImportError(
                    .malformedSource, "data_offsets start at \(begin), expected \(expected): the tensor \(problem)",
                    location: entry.name, offset: bufferStart + min(begin, expected))
            }
            expected = entry.info.data_offsets[1]
            guard expected <= bufferLength else {
                throw ImportError(
                    .malformedSource, "data_offsets end at \(expected), past the \(bufferLength)-byte buffer",
                    location: entry.name, offset: bufferStart + begin)
            }
        }
        guard expected == bufferLength else {
            throw ImportError(
                .malformedSource, "the tensors cover \(expected) bytes but the buffer has \(bufferLength) (trailing bytes)",
                offset: bufferStart + expected)
        }

        var entries: [(key: String, value: StateTensor)] = []
        for entry in infos {
            let start = base + bufferStart + entry.info.data_offsets[0]
            guard let dtype = floatTypes[entry.info.dtype] else {
                entries.append((entry.name, .unsupported(dtype: entry.info.dtype, shape: entry.info.shape)))
                continue
            }
            do {
                if let (file, cache) = deferred {
                    let (offset, count, name, shape) = (bufferStart + entry.info.data_offsets[0], entry.bytes, entry.name, entry.info.shape)
                    let tensor = try cache.tensor(
                        dtype: dtype, shape: shape, read: { try file.read(offset: offset, count: count, location: name) },
                        block: { axis, range in
                            try file.read(offset: offset, shape: shape, width: dtype.byteWidth, axis: axis, range: range, location: name)
                        })
                    entries.append((entry.name, .tensor(tensor)))
                    continue
                }
                let tensor = try Tensor(dtype: dtype, shape: entry.info.shape, bytes: data[start ..< start + entry.bytes])
                entries.append((entry.name, .tensor(tensor)))
            } catch {
                throw ImportError(.malformedSource, error.description, location: entry.name)
            }
        }
        return StateDict(format: .safetensors, entries: entries, metadata: header.metadata)
    }

    /// The keys of the top-level JSON object, in order, duplicates included. Assumes valid JSON.
    static func topLevelKeys(_ json: Data) -> [String] {
        let bytes = [UInt8](json)
        var keys: [String] = []
        var depth = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard depth == 1 else { break }
                var next = index + 1
                while next < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[next]) { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: ":"), index < bytes.count {
                    let token = Data(bytes[start...index])
                    keys.append((try? JSONDecoder().decode(String.self, from: token)) ?? String(decoding: token, as: UTF8.self))
                }
            default: break
            }
            index += 1
        }
        return keys
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .dataCorrupted(let context), .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
                let path = context.codingPath.map(\.stringValue).joined(separator: ".")
                return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
            @unknown default:
                return "\(error)"
            }
        }
        return "\(error)"
    }

    struct Info: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    struct Header: Decodable {
        var tensors: [(String, Info)] = []
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    tensors.append((key.stringValue, try container.decode(Info.self, forKey: key)))
                }
            }
        }
    }
}
