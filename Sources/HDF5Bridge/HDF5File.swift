import CHDF5
import Foundation

/// Options for ``HDF5File/create(_:options:)``.
package struct HDF5CreateOptions: Sendable {
    /// Record the creation order of links and attributes (tracked and indexed), so that readers list
    /// members and attributes in the order they were written rather than by name.
    package var trackCreationOrder: Bool

    package init(trackCreationOrder: Bool = true) {
        self.trackCreationOrder = trackCreationOrder
    }
}

/// An open HDF5 file. The file closes when this object and every group, dataset and attribute opened
/// from it are gone, or explicitly with ``close()``.
package final class HDF5File {
    /// The path the file was opened or created at.
    package let path: String
    /// Whether the file was opened read-only.
    package let isReadOnly: Bool
    let id: H5ID
    let options: HDF5CreateOptions
    private var isClosed = false
    private var children: [WeakID] = []

    private init(path: String, id: H5ID, isReadOnly: Bool, options: HDF5CreateOptions) {
        self.path = path
        self.id = id
        self.isReadOnly = isReadOnly
        self.options = options
    }

    var context: H5Context { H5Context(file: path, object: "/") }

    /// Opens an existing file read-only.
    ///
    /// - Throws: ``HDF5Error/Code/fileNotFound``, ``HDF5Error/Code/notHDF5`` (no HDF5 superblock),
    ///   ``HDF5Error/Code/truncated``, or ``HDF5Error/Code/callFailed`` with HDF5's error stack.
    package static func openReadOnly(_ path: String) throws(HDF5Error) -> HDF5File {
        let context = H5Context(file: path, object: nil)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isReadableFile(atPath: path)
        else {
            throw context.error(.fileNotFound, "no readable file at this path")
        }
        let isHDF5 = try H5.call("H5Fis_hdf5", context) { path.withCString { chdf5_is_hdf5($0) } }
        guard isHDF5 > 0 else {
            throw context.error(.notHDF5, "the file has no HDF5 signature")
        }
        let id = try H5.open("H5Fopen", context, close: H5Fclose) {
            path.withCString { H5Fopen($0, chdf5_acc_rdonly(), chdf5_default()) }
        }
        return HDF5File(path: path, id: id, isReadOnly: true, options: HDF5CreateOptions(trackCreationOrder: false))
    }

    /// Creates a new file; fails with ``HDF5Error/Code/fileExists`` if the path exists.
    ///
    /// The file is written deterministically: object modification times are not recorded, and the
    /// format is pinned to the HDF5 1.8 object versions (`H5Pset_libver_bounds(V18, V18)`), which every
    /// libhdf5 since 1.8 and h5py read.
    package static func create(_ path: String, options: HDF5CreateOptions = HDF5CreateOptions()) throws(HDF5Error) -> HDF5File {
        let context = H5Context(file: path, object: nil)
        guard !FileManager.default.fileExists(atPath: path) else {
            throw context.error(.fileExists, "refusing to replace an existing file")
        }
        let fcpl = try H5.open("H5Pcreate", context, close: H5Pclose) { H5Pcreate(chdf5_cls_file_create()) }
        try configureObjectCreation(fcpl, group: true, options: options, context)
        let fapl = try H5.open("H5Pcreate", context, close: H5Pclose) { H5Pcreate(chdf5_cls_file_access()) }
        try H5.call("H5Pset_libver_bounds", context) { H5Pset_libver_bounds(fapl.raw, H5F_LIBVER_V18, H5F_LIBVER_V18) }
        let id = try H5.open("H5Fcreate", context, close: H5Fclose) {
            path.withCString { H5Fcreate($0, chdf5_acc_excl(), fcpl.raw, fapl.raw) }
        }
        return HDF5File(path: path, id: id, isReadOnly: false, options: options)
    }

    /// Sets the creation properties every object we create gets: no time stamps, and (optionally)
    /// tracked and indexed creation order of attributes and, for groups, of links.
    static func configureObjectCreation(
        _ plist: H5ID, group: Bool, options: HDF5CreateOptions, _ context: H5Context
    ) throws(HDF5Error) {
        try H5.call("H5Pset_obj_track_times", context) { H5Pset_obj_track_times(plist.raw, false) }
        guard options.trackCreationOrder else { return }
        let flags = chdf5_crt_order_tracked() | chdf5_crt_order_indexed()
        try H5.call("H5Pset_attr_creation_order", context) { H5Pset_attr_creation_order(plist.raw, flags) }
        if group {
            try H5.call("H5Pset_link_creation_order", context) { H5Pset_link_creation_order(plist.raw, flags) }
        }
    }

    /// The root group `/`.
    package func root() throws(HDF5Error) -> HDF5Group {
        let group = try H5.open("H5Gopen2", context, close: H5Gclose) { chdf5_gopen(id.raw, "/") }
        return HDF5Group(file: self, id: group, path: "/")
    }

    /// Writes every buffered change to disk.
    package func flush() throws(HDF5Error) {
        try H5.call("H5Fflush", context) { H5Fflush(id.raw, H5F_SCOPE_GLOBAL) }
    }

    /// Closes the file now, reporting any error libhdf5 has while writing out its metadata.
    ///
    /// Groups, datasets and attributes of the file that are still referenced are closed first; using them
    /// afterwards throws ``HDF5Error/Code/callFailed``. When this returns, the file is complete on disk.
    package func close() throws(HDF5Error) {
        guard !isClosed else { return }
        isClosed = true
        for child in children.reversed() {
            try child.id?.close("H5Oclose", context)
        }
        children.removeAll()
        let open = try H5.call("H5Fget_obj_count", context) { H5Fget_obj_count(id.raw, chdf5_obj_all()) }
        guard open <= 1 else {
            throw context.error(.objectsStillOpen, "\(open - 1) objects of the file are still open")
        }
        try id.close("H5Fclose", context)
    }

    /// Remembers an object opened from this file, so that ``close()`` can close it.
    func register(_ child: H5ID) {
        children.removeAll { $0.id == nil }
        children.append(WeakID(id: child))
    }

    private final class WeakID {
        weak var id: H5ID?
        init(id: H5ID) { self.id = id }
    }
}
