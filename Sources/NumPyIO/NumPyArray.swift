/// The element types NumPyIO reads and writes.
public enum NumPyDType: String, Sendable, CaseIterable {
    case float32, float64, int32, int64

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    /// NumPy's type code without byte order: `f4`, `f8`, `i4`, `i8`.
    public var typeCode: String {
        switch self {
        case .float32: "f4"
        case .float64: "f8"
        case .int32: "i4"
        case .int64: "i8"
        }
    }
}

/// Byte order of the elements in a `.npy` file.
public enum ByteOrder: Sendable {
    case little, big
}

/// A C-ordered NumPy array of one of the supported dtypes.
public struct NumPyArray: Sendable, Equatable {
    /// The typed elements.
    public enum Storage: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int32([Int32])
        case int64([Int64])
    }

    /// Dimensions, outermost first; `[]` is a scalar (one element).
    public let shape: [Int]
    /// The elements, in the dtype they were read or built with.
    public let storage: Storage

    /// Wraps typed elements, checking their count against `shape`.
    public init(shape: [Int], storage: Storage) throws(NumPyError) {
        guard let count = NumPyArray.elementCount(of: shape), count == storage.count else {
            throw NumPyError(.shapeMismatch, "\(storage.count) elements cannot have shape \(shape)")
        }
        self.shape = shape
        self.storage = storage
    }

    /// A float32 array; throws when the count does not match the shape.
    public init(shape: [Int], float32 values: [Float]) throws(NumPyError) {
        try self.init(shape: shape, storage: .float32(values))
    }

    /// A float64 array; throws when the count does not match the shape.
    public init(shape: [Int], float64 values: [Double]) throws(NumPyError) {
        try self.init(shape: shape, storage: .float64(values))
    }

    /// An int64 array; throws when the count does not match the shape.
    public init(shape: [Int], int64 values: [Int64]) throws(NumPyError) {
        try self.init(shape: shape, storage: .int64(values))
    }

    /// An int32 array; throws when the count does not match the shape.
    public init(shape: [Int], int32 values: [Int32]) throws(NumPyError) {
        try self.init(shape: shape, storage: .int32(values))
    }

    /// The element type.
    public var dtype: NumPyDType {
        switch storage {
        case .float32: .float32
        case .float64: .float64
        case .int32: .int32
        case .int64: .int64
        }
    }

    /// Number of elements.
    public var count: Int { storage.count }

    /// Elements as `Double` (exact for f4, f8, i4; i8 beyond ±2^53 rounds).
    public var doubles: [Double] {
        switch storage {
        case .float32(let values): values.map(Double.init)
        case .float64(let values): values
        case .int32(let values): values.map(Double.init)
        case .int64(let values): values.map(Double.init)
        }
    }

    /// Elements as `Float` (f8 and large integers round to nearest).
    public var floats: [Float] {
        switch storage {
        case .float32(let values): values
        case .float64(let values): values.map(Float.init)
        case .int32(let values): values.map(Float.init)
        case .int64(let values): values.map(Float.init)
        }
    }

    /// Elements as `Int` for integer dtypes; `nil` for float dtypes.
    public var integers: [Int]? {
        switch storage {
        case .int32(let values): values.map(Int.init)
        case .int64(let values): values.map(Int.init)
        case .float32, .float64: nil
        }
    }

    /// Product of `shape`, or `nil` for a negative dimension or an overflowing product.
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
}

extension NumPyArray.Storage {
    var count: Int {
        switch self {
        case .float32(let values): values.count
        case .float64(let values): values.count
        case .int32(let values): values.count
        case .int64(let values): values.count
        }
    }
}
