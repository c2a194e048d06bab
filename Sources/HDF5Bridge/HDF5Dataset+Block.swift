import CHDF5
import Foundation

extension HDF5Dataset {
    /// Rows (`axis` 0) or columns (`axis` 1) `range` of a rank-2 float dataset as C-ordered little-endian bytes of
    /// `format` (the stored format, either byte order): a hyperslab read straight into the returned buffer, so a
    /// streaming import reads one gate's block of a fused kernel without reading the rest.
    ///
    /// The same checks as ``readLittleEndianBytes(as:)`` run first (float type, readable storage).
    package func readLittleEndianBytes(as format: HDF5FloatFormat, axis: Int, range: Range<Int>) throws(HDF5Error) -> Data {
        guard datatype.typeClass == .float, datatype.byteOrder == .littleEndian || datatype.byteOrder == .bigEndian,
            datatype.floatFormat == format
        else {
            throw context.error(.wrongType, "expected IEEE \(format.rawValue), found \(datatype)")
        }
        guard shape.count == 2, axis == 0 || axis == 1, range.lowerBound >= 0, range.upperBound <= shape[axis] else {
            throw context.error(.wrongShape, "cannot read \(range) along axis \(axis) of shape \(shape)")
        }
        try checkReadable(elementSize: format.byteWidth)
        let rows = axis == 0 ? range.count : shape[0]
        let cols = axis == 1 ? range.count : shape[1]
        let byteCount = rows * cols * format.byteWidth
        guard byteCount > 0 else { return Data() }
        let memoryType = try format.makeType(context)
        let fileSpace = try H5.open("H5Dget_space", context, close: H5Sclose) { H5Dget_space(id.raw) }
        var start: [hsize_t] = axis == 0 ? [hsize_t(range.lowerBound), 0] : [0, hsize_t(range.lowerBound)]
        var count: [hsize_t] = [hsize_t(rows), hsize_t(cols)]
        try H5.call("H5Sselect_hyperslab", context) {
            H5Sselect_hyperslab(fileSpace.raw, H5S_SELECT_SET, &start, nil, &count, nil)
        }
        let memorySpace = try HDF5Dataspace.create([rows, cols], context)
        return try readData(byteCount: byteCount, memoryType: memoryType.raw, memorySpace: memorySpace.raw, fileSpace: fileSpace.raw)
    }
}
