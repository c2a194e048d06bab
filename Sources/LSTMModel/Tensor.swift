import Foundation

/// A dense, C-ordered tensor whose elements are stored as little-endian bytes of ``dtype``.
///
/// `bytes` may be a slice of a memory-mapped file: the binary reader hands tensors out without copying.
///
/// Inside lstmconv a streaming import describes tensors before it reads them (deferred tensors): such a tensor's
/// `bytes` are an inaccessible reservation of the right length until its source is read. Tensors handed to library
/// users (`Checkpoint.load`, `ModelSource.importFile`) are never deferred.
public struct Tensor: Sendable, Equatable {
    /// The element type of ``bytes``.
    public let dtype: DType
    /// The tensor's shape; its product times the dtype width is the byte count.
    public let shape: [Int]
    /// Exactly `elementCount * dtype.byteWidth` little-endian bytes.
    public let bytes: Data
    /// How to read the bytes of a tensor described before it is read (``Tensor/init(deferring:shape:_:)``).
    package internal(set) var deferred: DeferredBytes?

    /// Wraps existing bytes, checking that their count matches the shape.
    public init(dtype: DType, shape: [Int], bytes: Data) throws(ModelError) {
        guard let count = Tensor.elementCount(of: shape) else {
            throw ModelError(.invalidHyperparameter, "shape has a negative or overflowing dimension", actualShape: shape)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteWidth)
        guard !overflow, byteCount == bytes.count else {
            throw ModelError(
                .byteCountMismatch,
                "\(dtype.rawValue) tensor of shape \(shape) needs \(overflow ? "too many" : String(byteCount)) bytes, found \(bytes.count)"
            )
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// Builds a tensor from `Float` values, narrowing to `dtype` when it is f16 or bf16.
    ///
    /// For models built in code: `values.count` must equal the product of `shape` (a programming error otherwise).
    /// Nothing read from a file reaches this initializer: readers use ``init(dtype:shape:bytes:)``, which throws,
    /// and ``converted(to:)`` re-encodes through a private path.
    public init(_ values: [Float], shape: [Int], dtype: DType = .f32) {
        precondition(Tensor.elementCount(of: shape) == values.count, "values do not match shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = Tensor.encode(values.map(Double.init), as: dtype, fromFloat: values)
    }

    /// Builds a tensor from `Double` values, converting to `dtype`.
    public init(doubles values: [Double], shape: [Int], dtype: DType = .f64) {
        precondition(Tensor.elementCount(of: shape) == values.count, "values do not match shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = Tensor.encode(values, as: dtype, fromFloat: nil)
    }

    /// Re-encodes values already known to fit `shape` (they were decoded from a valid tensor of that shape).
    private init(convertedFrom doubles: [Double], floats: [Float]?, shape: [Int], dtype: DType) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = Tensor.encode(doubles, as: dtype, fromFloat: floats)
    }

    /// Equal dtype, shape and bytes; a deferred tensor equals only itself (its bytes are not read to compare).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        guard lhs.dtype == rhs.dtype, lhs.shape == rhs.shape else { return false }
        if lhs.deferred != nil || rhs.deferred != nil { return lhs.deferred === rhs.deferred }
        return lhs.bytes == rhs.bytes
    }

    /// Number of elements (product of the shape).
    public var elementCount: Int { bytes.count / dtype.byteWidth }

    /// CRC-32 of the stored bytes: the per-tensor checksum of both encodings.
    public var checksum: UInt32 { Checksum.crc32(of: bytes) }

    /// Elements widened (or narrowed, for f64) to `Float`.
    public func floats() -> [Float] {
        switch dtype {
        case .f32: return decode(UInt32.self) { Float(bitPattern: $0) }
        case .f64: return decode(UInt64.self) { Float(Double(bitPattern: $0)) }
        case .f16: return decode(UInt16.self, FloatBits.float(fromHalf:))
        case .bf16: return decode(UInt16.self, FloatBits.float(fromBFloat:))
        }
    }

    /// Calls `body` with the elements as `Float`: a float32 tensor whose bytes are suitably aligned on a
    /// little-endian host is lent in place (no copy); any other is decoded by ``floats()`` first.
    public func withFloats<Result>(_ body: (UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result {
        #if _endian(little)
        if dtype == .f32 {
            let lent: Result? = try bytes.withUnsafeBytes { raw in
                guard let base = raw.baseAddress, Int(bitPattern: base) % MemoryLayout<Float>.alignment == 0 else {
                    return nil
                }
                let count = raw.count / MemoryLayout<Float>.size
                return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Float.self), count: count))
            }
            if let lent { return lent }
        }
        #endif
        return try floats().withUnsafeBufferPointer(body)
    }

    /// Elements widened to `Double` (exact for every dtype).
    public func doubles() -> [Double] {
        switch dtype {
        case .f64: return decode(UInt64.self) { Double(bitPattern: $0) }
        default: return floats().map(Double.init)
        }
    }

    /// The same values stored as another dtype (rounding to nearest even when narrowing).
    public func converted(to target: DType) -> Tensor {
        if target == dtype { return self }
        if isDeferred, let later = try? Tensor(deferring: target, shape: shape, { try materialized().converted(to: target).bytes }) {
            return later
        }
        if let bytes = FloatConversion.converted(bytes, from: dtype, to: target), let fast = try? Tensor(dtype: target, shape: shape, bytes: bytes) {
            return fast  // f32 ↔ f16 / bf16 over the raw bytes, same bits as below
        }
        if dtype == .f64 { return Tensor(convertedFrom: doubles(), floats: nil, shape: shape, dtype: target) }
        let values = floats()
        return Tensor(convertedFrom: values.map(Double.init), floats: values, shape: shape, dtype: target)
    }

    /// Product of `shape`, or `nil` if a dimension is negative or the product overflows.
    public static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// The elements read as little-endian `T` words and converted by `convert`, in one pass into one allocation
    /// (no zero-filled staging array, no intermediate arrays: this runs over every weight at engine prepare).
    private func decode<T: FixedWidthInteger, Element>(_: T.Type, _ convert: (T) -> Element) -> [Element] {
        let count = bytes.count / MemoryLayout<T>.size
        return bytes.withUnsafeBytes { raw in
            [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                for index in 0..<count {
                    let word = raw.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self)
                    buffer.initializeElement(at: index, to: convert(T(littleEndian: word)))
                }
                initialized = count
            }
        }
    }

    private static func encode(_ values: [Double], as dtype: DType, fromFloat floats: [Float]?) -> Data {
        func pack<T: FixedWidthInteger>(_ words: [T]) -> Data {
            words.map { $0.littleEndian }.withUnsafeBytes { Data($0) }
        }
        switch dtype {
        case .f64: return pack(values.map { $0.bitPattern })
        case .f32: return pack((floats ?? values.map { Float($0) }).map { $0.bitPattern })
        case .f16: return pack((floats ?? values.map { Float($0) }).map(FloatBits.half(from:)))
        case .bf16: return pack((floats ?? values.map { Float($0) }).map(FloatBits.bfloat(from:)))
        }
    }
}
