import CHDF5
import Foundation

/// One member of a group: its name and what the link points at.
package struct HDF5Link: Sendable, Equatable, CustomStringConvertible {
    /// What a link is. Only hard links to groups and datasets are ever followed.
    package enum Kind: Sendable, Equatable {
        case group
        case dataset
        /// A committed (named) datatype.
        case namedDatatype
        /// A hard link to an object of unknown type.
        case otherObject
        /// A soft link and the path it names (never followed).
        case softLink(target: String)
        /// An external link to an object in another file (never followed).
        case externalLink(file: String, object: String)
        /// A link of a user-defined class (never followed).
        case userDefinedLink
    }

    package var name: String
    package var kind: Kind

    package var description: String {
        switch kind {
        case .group: "\(name)/ (group)"
        case .dataset: "\(name) (dataset)"
        case .namedDatatype: "\(name) (named datatype)"
        case .otherObject: "\(name) (object)"
        case .softLink(let target): "\(name) -> \(target) (soft link)"
        case .externalLink(let file, let object): "\(name) -> \(file):\(object) (external link)"
        case .userDefinedLink: "\(name) (user-defined link)"
        }
    }
}

/// An open HDF5 group.
package final class HDF5Group {
    /// The file the group belongs to (kept alive while the group is).
    package let file: HDF5File
    /// The group's path in the file, e.g. `/` or `/layer_0/forward`.
    package let path: String
    let id: H5ID

    init(file: HDF5File, id: H5ID, path: String) {
        self.file = file
        self.id = id
        self.path = path
        file.register(id)
    }

    var context: H5Context { H5Context(file: file.path, object: path) }

    /// The group's attributes.
    package var attributes: HDF5Attributes {
        HDF5Attributes(owner: id, kind: .group, file: file, objectPath: path)
    }

    // MARK: Members

    /// The group's members, in creation order when the file tracks it, otherwise in name order
    /// (byte-wise, so `10` sorts before `2`). Links are listed, not followed.
    package func members() throws(HDF5Error) -> [HDF5Link] {
        var info = H5G_info_t()
        try H5.call("H5Gget_info", context) { H5Gget_info(id.raw, &info) }
        guard info.nlinks <= HDF5Limits.maxGroupMembers else {
            throw context.error(.invalidArgument, "the group has \(info.nlinks) members, more than \(HDF5Limits.maxGroupMembers)")
        }
        var names: [String] = []
        do throws(HDF5Error) {
            let index = try linkIndex()
            for position in 0..<info.nlinks { names.append(try memberName(at: position, index: index)) }
        } catch {
            // Creation order tracked but not indexed can fail for large groups: fall back to name order.
            names = []
            for position in 0..<info.nlinks { names.append(try memberName(at: position, index: H5_INDEX_NAME)) }
        }
        var result: [HDF5Link] = []
        for name in names {
            result.append(HDF5Link(name: name, kind: try linkKind(name)))
        }
        return result
    }

    /// The member names, in the order of ``members()``.
    package func memberNames() throws(HDF5Error) -> [String] {
        try members().map(\.name)
    }

    /// Whether the group has a link called `name` (a single name, not a path).
    package func contains(_ name: String) throws(HDF5Error) -> Bool {
        try checkName(name)
        return try H5.call("H5Lexists", context) { name.withCString { H5Lexists(id.raw, $0, chdf5_default()) } } > 0
    }

    /// What the link `name` is (a single name, not a path); ``HDF5Error/Code/notFound`` if absent.
    package func linkKind(_ name: String) throws(HDF5Error) -> HDF5Link.Kind {
        try checkName(name)
        let context = self.context.appending(name)
        guard try contains(name) else { throw context.error(.notFound, "no such member") }
        let type = try H5.call("H5Lget_info", context) { name.withCString { chdf5_link_type(id.raw, $0) } }
        switch Int32(type) {
        case H5L_TYPE_HARD.rawValue:
            let object = try H5.call("H5Oget_info_by_name", context) { name.withCString { chdf5_object_type(id.raw, $0) } }
            switch Int32(object) {
            case H5O_TYPE_GROUP.rawValue: return .group
            case H5O_TYPE_DATASET.rawValue: return .dataset
            case H5O_TYPE_NAMED_DATATYPE.rawValue: return .namedDatatype
            default: return .otherObject
            }
        case H5L_TYPE_SOFT.rawValue:
            let value = try linkValue(name, context)
            return .softLink(target: String(decoding: value.prefix { $0 != 0 }, as: UTF8.self))
        case H5L_TYPE_EXTERNAL.rawValue:
            let value = try linkValue(name, context)
            return HDF5Group.unpackExternalLink(value)
        default:
            return .userDefinedLink
        }
    }

    /// Opens the group at `path` (one name or a relative path `a/b`), following only hard links.
    package func group(_ path: String) throws(HDF5Error) -> HDF5Group {
        var current = self
        for name in try HDF5Group.components(path, context) {
            let kind = try current.linkKind(name)
            let context = current.context.appending(name)
            try HDF5Group.refuseLinks(kind, context)
            guard kind == .group else { throw context.error(.wrongObjectType, "expected a group, found \(kind)") }
            let id = try H5.open("H5Gopen2", context, close: H5Gclose) {
                name.withCString { chdf5_gopen(current.id.raw, $0) }
            }
            current = HDF5Group(file: file, id: id, path: context.object ?? name)
        }
        return current
    }

    /// Opens the dataset at `path` (one name or a relative path `a/b`), following only hard links.
    package func dataset(_ path: String) throws(HDF5Error) -> HDF5Dataset {
        var names = try HDF5Group.components(path, context)
        let last = names.removeLast()
        let parent = names.isEmpty ? self : try group(names.joined(separator: "/"))
        let kind = try parent.linkKind(last)
        let context = parent.context.appending(last)
        try HDF5Group.refuseLinks(kind, context)
        guard kind == .dataset else { throw context.error(.wrongObjectType, "expected a dataset, found \(kind)") }
        let id = try H5.open("H5Dopen2", context, close: H5Dclose) {
            last.withCString { chdf5_dopen(parent.id.raw, $0) }
        }
        return try HDF5Dataset(file: file, id: id, path: context.object ?? last)
    }

    // MARK: Writing

    /// Creates a child group (creation order tracked if the file was created so; no time stamps).
    package func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        try checkName(name)
        let context = self.context.appending(name)
        let gcpl = try H5.open("H5Pcreate", context, close: H5Pclose) { H5Pcreate(chdf5_cls_group_create()) }
        try HDF5File.configureObjectCreation(gcpl, group: true, options: file.options, context)
        let id = try H5.open("H5Gcreate2", context, close: H5Gclose) {
            name.withCString { chdf5_gcreate(self.id.raw, $0, gcpl.raw) }
        }
        return HDF5Group(file: file, id: id, path: context.object ?? name)
    }

    /// Creates a float dataset and writes its data.
    ///
    /// - Parameters:
    ///   - format: the stored float format; the dataset's type is that format, little-endian.
    ///   - shape: the dataspace (empty for a scalar).
    ///   - littleEndianBytes: exactly `product(shape) * format.byteWidth` bytes of `format`, little-endian.
    ///   - layout: contiguous, or chunked with optional shuffle and deflate.
    package func createDataset(
        _ name: String, format: HDF5FloatFormat, shape: [Int], littleEndianBytes bytes: Data,
        layout: HDF5DatasetLayout = .contiguous
    ) throws(HDF5Error) -> HDF5Dataset {
        try checkName(name)
        let context = self.context.appending(name)
        guard let count = HDF5Limits.elementCount(shape), count.multipliedReportingOverflow(by: format.byteWidth) == (bytes.count, false) else {
            throw context.error(.wrongShape, "\(bytes.count) bytes do not hold a \(format.rawValue) array of shape \(shape)")
        }
        let type = try format.makeType(context)
        let space = try HDF5Dataspace.create(shape, context)
        let dcpl = try H5.open("H5Pcreate", context, close: H5Pclose) { H5Pcreate(chdf5_cls_dataset_create()) }
        try HDF5File.configureObjectCreation(dcpl, group: false, options: file.options, context)
        try H5.call("H5Pset_fill_time", context) { H5Pset_fill_time(dcpl.raw, H5D_FILL_TIME_NEVER) }
        if case let .chunked(chunk, shuffle, deflate) = layout {
            let dims = chunk ?? shape
            guard !shape.isEmpty, dims.count == shape.count, dims.allSatisfy({ $0 >= 1 }), shape.allSatisfy({ $0 >= 1 }) else {
                throw context.error(.invalidArgument, "chunk shape \(dims) does not fit dataset shape \(shape)")
            }
            let chunkDims = dims.map { hsize_t($0) }
            try H5.call("H5Pset_chunk", context) { H5Pset_chunk(dcpl.raw, Int32(chunkDims.count), chunkDims) }
            if shuffle { try H5.call("H5Pset_shuffle", context) { H5Pset_shuffle(dcpl.raw) } }
            if let deflate {
                guard (0...9).contains(deflate) else { throw context.error(.invalidArgument, "deflate level \(deflate) is outside 0...9") }
                try H5.call("H5Pset_deflate", context) { H5Pset_deflate(dcpl.raw, UInt32(deflate)) }
            }
        }
        let id = try H5.open("H5Dcreate2", context, close: H5Dclose) {
            name.withCString { chdf5_dcreate(self.id.raw, $0, type.raw, space.raw, dcpl.raw) }
        }
        if count > 0 {
            try H5.call("H5Dwrite", context) {
                bytes.withUnsafeBytes { H5Dwrite(id.raw, type.raw, chdf5_space_all(), chdf5_space_all(), chdf5_default(), $0.baseAddress) }
            }
        }
        return try HDF5Dataset(file: file, id: id, path: context.object ?? name)
    }

    // MARK: Helpers

    /// The index to list members by: creation order if the group tracks it, else name.
    private func linkIndex() throws(HDF5Error) -> H5_index_t {
        let gcpl = try H5.open("H5Gget_create_plist", context, close: H5Pclose) { H5Gget_create_plist(id.raw) }
        var flags: UInt32 = 0
        try H5.call("H5Pget_link_creation_order", context) { H5Pget_link_creation_order(gcpl.raw, &flags) }
        return flags & chdf5_crt_order_tracked() != 0 ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME
    }

    private func memberName(at position: hsize_t, index: H5_index_t) throws(HDF5Error) -> String {
        let length = try H5.call("H5Lget_name_by_idx", context) {
            H5Lget_name_by_idx(id.raw, ".", index, H5_ITER_INC, position, nil, 0, chdf5_default())
        }
        var buffer = [CChar](repeating: 0, count: length + 1)
        try H5.call("H5Lget_name_by_idx", context) {
            H5Lget_name_by_idx(id.raw, ".", index, H5_ITER_INC, position, &buffer, buffer.count, chdf5_default())
        }
        return String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func linkValue(_ name: String, _ context: H5Context) throws(HDF5Error) -> [UInt8] {
        let size = try H5.call("H5Lget_info", context) { name.withCString { chdf5_link_value_size(id.raw, $0) } }
        guard size <= 1 << 20 else { throw context.error(.invalidArgument, "link value of \(size) bytes") }
        var buffer = [UInt8](repeating: 0, count: size + 1)
        try H5.call("H5Lget_val", context) {
            name.withCString { cName in
                buffer.withUnsafeMutableBytes { H5Lget_val(id.raw, cName, $0.baseAddress, size, chdf5_default()) }
            }
        }
        return Array(buffer.prefix(size))
    }

    /// External link values are a flags byte, then the NUL-terminated file name and object path.
    static func unpackExternalLink(_ value: [UInt8]) -> HDF5Link.Kind {
        let body = value.dropFirst()
        let fileBytes = body.prefix { $0 != 0 }
        let objectBytes = body.dropFirst(fileBytes.count + 1).prefix { $0 != 0 }
        return .externalLink(file: String(decoding: fileBytes, as: UTF8.self), object: String(decoding: objectBytes, as: UTF8.self))
    }

    static func refuseLinks(_ kind: HDF5Link.Kind, _ context: H5Context) throws(HDF5Error) {
        switch kind {
        case .softLink(let target):
            throw context.error(.softLink, "soft link to \(target) is not followed")
        case .externalLink(let file, let object):
            throw context.error(.externalLink, "external link to \(object) in \(file) leaves the file and is not followed")
        case .userDefinedLink:
            throw context.error(.userDefinedLink, "user-defined links are not followed")
        default:
            return
        }
    }

    static func components(_ path: String, _ context: H5Context) throws(HDF5Error) -> [String] {
        let names = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard !names.isEmpty, !path.hasPrefix("/"), !names.contains("."), !path.contains("\0") else {
            throw context.error(.invalidArgument, "\"\(path)\" is not a relative path of member names")
        }
        return names
    }

    private func checkName(_ name: String) throws(HDF5Error) {
        guard !name.isEmpty, !name.contains("/"), !name.contains("\0"), name != "." else {
            throw context.error(.invalidArgument, "\"\(name)\" is not a member name")
        }
    }
}

/// How a new dataset's data is stored.
package enum HDF5DatasetLayout: Sendable, Equatable {
    /// One contiguous block (the default).
    case contiguous
    /// Chunked (`chunk` = `nil` means one chunk holding the whole dataset), optionally shuffled then deflated.
    case chunked(chunk: [Int]?, shuffle: Bool, deflateLevel: Int?)
}

/// Limits that keep hostile files from exhausting memory.
package enum HDF5Limits {
    /// Members listed per group.
    package static let maxGroupMembers: hsize_t = 1 << 20
    /// Elements read from one dataset or attribute.
    package static let maxElements = 1 << 34
    /// Bytes of one string attribute value.
    package static let maxStringBytes = 1 << 28

    /// Product of `shape`, or `nil` if a dimension is negative or the product overflows.
    package static func elementCount(_ shape: [Int]) -> Int? {
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
