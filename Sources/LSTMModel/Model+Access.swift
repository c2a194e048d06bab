import Foundation

// Name-based access to a model's tensors and layer properties without pattern matching, in the manner of
// safetensors' `get_tensor(name)` and mlx-swift's `loadArrays`.

extension Model {
    /// Every stored tensor's document path, in canonical (file) order: `layer_0/forward/W_n`, …, `layer_2/b_d`.
    public var tensorNames: [String] { storedTensors.map(\.slot.path) }

    /// The tensor stored under a document path such as `"layer_0/forward/W_f"`, or `nil` when the model has none.
    ///
    /// ```swift
    /// let forget = model["layer_0/forward/W_f"]          // the forget gate's weights, [H, R + I]
    /// ```
    public subscript(path: String) -> Tensor? {
        guard let address = TensorAddress(path: path) else { return nil }
        return self[layer: address.layer, direction: address.direction, role: address.role]
    }

    /// The tensor of `role` in layer `layer` (and `direction`, for recurrent layers), or `nil`.
    ///
    /// ```swift
    /// let forget = model[layer: 0, direction: .forward, role: .W_f]
    /// ```
    public subscript(layer layer: Int, direction direction: Direction? = nil, role role: TensorRole) -> Tensor? {
        guard layers.indices.contains(layer) else { return nil }
        let sets = layers[layer].parameterSets
        let set = sets.first { $0.direction == (direction ?? sets.first?.direction) }
        return set?.parameters.tensors[role]
    }

    /// The tensor stored under a document path; throws ``ModelError/Code/missingTensor`` naming the path and the
    /// names that do exist when there is none.
    public func tensor(named path: String) throws(ModelError) -> Tensor {
        guard let tensor = self[path] else {
            let known = tensorNames
            let hint = known.count <= 12 ? known.joined(separator: ", ") : known.prefix(12).joined(separator: ", ") + ", …"
            throw ModelError(.missingTensor, "the model has no tensor of that name; it has \(hint)", keyPath: path)
        }
        return tensor
    }
}

/// A parsed document path: `layer_<k>[/<direction>]/<role>`.
public struct TensorAddress: Sendable, Hashable, CustomStringConvertible {
    /// The layer index in the model.
    public var layer: Int
    /// The direction within a recurrent layer; `nil` for other layers.
    public var direction: Direction?
    /// The document name of the tensor.
    public var role: TensorRole

    /// The address of `role` in layer `layer` (and `direction`).
    public init(layer: Int, direction: Direction?, role: TensorRole) {
        self.layer = layer
        self.direction = direction
        self.role = role
    }

    /// Parses `layer_0/forward/W_n` or `layer_2/W_d`; `nil` for anything else (including `layer_00`).
    public init?(path: String) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, parts[0].hasPrefix("layer_") else { return nil }
        let digits = parts[0].dropFirst("layer_".count)
        guard let index = Int(digits), index >= 0, String(index) == digits else { return nil }
        guard let role = TensorRole(rawValue: String(parts[parts.count - 1])) else { return nil }
        var direction: Direction?
        if parts.count == 3 {
            guard let parsed = Direction(rawValue: String(parts[1])) else { return nil }
            direction = parsed
        }
        self.init(layer: index, direction: direction, role: role)
    }

    /// The path, as both encodings store it.
    public var description: String { TensorSlot.path(layer: layer, direction: direction, role: role) }
}

extension Layer {
    /// The recurrent layer, when this is one.
    public var recurrent: RecurrentLayer? {
        if case .recurrent(let layer) = self { return layer }
        return nil
    }

    /// The embedding, when this is one.
    public var embedding: EmbeddingLayer? {
        if case .embedding(let layer) = self { return layer }
        return nil
    }

    /// The dense layer, when this is one.
    public var dense: DenseLayer? {
        if case .dense(let layer) = self { return layer }
        return nil
    }

    /// H, the cell size of a recurrent layer; `nil` for other layers.
    public var hiddenSize: Int? { recurrent?.hiddenSize }

    /// Features this layer reads per step: I for recurrent and dense layers, `nil` for an embedding (it reads
    /// token ids).
    public var inputSize: Int? {
        switch self {
        case .embedding: nil
        case .recurrent(let layer): layer.inputSize
        case .dense(let layer): layer.inputSize
        }
    }

    /// Every tensor of this layer with its document role and direction.
    public var tensors: [(direction: Direction?, role: TensorRole, tensor: Tensor)] {
        parameterSets.flatMap { set in
            set.parameters.tensors.sorted { $0.key < $1.key }.map { (set.direction, $0.key, $0.value) }
        }
    }
}

/// Element types a tensor's values can be read as.
public protocol TensorScalar: BinaryFloatingPoint, Sendable {
    /// The value of a stored element of `dtype` whose little-endian bytes start at `offset`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int, dtype: DType) -> Self
}

extension Float: TensorScalar {
    /// Decodes one stored element as `Float`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int, dtype: DType) -> Float {
        switch dtype {
        case .f32: Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case .f64: Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
        case .f16: FloatBits.float(fromHalf: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        case .bf16: FloatBits.float(fromBFloat: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
        }
    }
}

extension Double: TensorScalar {
    /// Decodes one stored element as `Double`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int, dtype: DType) -> Double {
        switch dtype {
        case .f64: Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
        default: Double(Float.decode(bytes, at: offset, dtype: dtype))
        }
    }
}

extension Tensor {
    /// The values as `Scalar` (`Float` or `Double`), widened or narrowed from the stored dtype.
    ///
    /// The result is an array; when the stored dtype already is `Scalar` and you want no copy at all, use
    /// ``withUnsafeScalars(_:)``.
    public func scalars<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) -> [Scalar] {
        let width = dtype.byteWidth
        return bytes.withUnsafeBytes { raw in
            (0..<elementCount).map { Scalar.decode(raw, at: $0 * width, dtype: dtype) }
        }
    }

    /// Calls `body` with the stored `f32` elements in place, without copying (for a `.lstmw` tensor, a view on the
    /// memory-mapped file). Returns `nil` without calling `body` when the dtype is not `f32` or the bytes are not
    /// 4-byte aligned; use ``scalars(as:)`` then.
    public func withUnsafeScalars<Result>(_ body: (UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result? {
        guard dtype == .f32 else { return nil }
        return try bytes.withUnsafeBytes { raw -> Result? in
            guard let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else { return nil }
            return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: elementCount))
        }
    }
}
