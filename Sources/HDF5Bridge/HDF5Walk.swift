import CHDF5

/// One object met by ``HDF5Group/walk(maxDepth:maxEntries:stopAtLimit:)``.
package struct HDF5WalkEntry: Sendable, Equatable {
    /// The path from the walked group, `a/b/c`.
    package var path: String
    /// What the link is (links other than hard links are listed, never followed).
    package var link: HDF5Link
    /// The object was already reached through another path (a second hard link to it, or a hard-link cycle):
    /// a group met again is listed but not entered.
    package var isRepeat: Bool
    /// Groups between the walked group and this entry (0 for its own members).
    package var depth: Int
}

extension HDF5Group {
    /// The only routine that walks an HDF5 tree (every reader uses it): depth first, in member order, hard links
    /// only, and every object identified by its address so a group reached twice (a cycle `a/b -> a`, or an
    /// alias) is entered once. The walk is iterative and bounded: at most `maxDepth` groups deep and
    /// `maxEntries` entries, past which it throws ``HDF5Error/Code/invalidArgument`` (or, with `stopAtLimit`,
    /// returns the entries so far).
    package func walk(maxDepth: Int, maxEntries: Int, stopAtLimit: Bool = false) throws(HDF5Error) -> [HDF5WalkEntry] {
        var entries: [HDF5WalkEntry] = []
        var seen: Set<[UInt8]> = [try objectKey(".")]
        // The open groups from here down, each with its members and the next one to visit.
        var path: [(group: HDF5Group, prefix: String, members: [HDF5Link], next: Int)] = [(self, "", try members(), 0)]
        while let last = path.last {
            guard last.next < last.members.count else {
                path.removeLast()
                continue
            }
            path[path.count - 1].next += 1
            let (group, member) = (last.group, last.members[last.next])
            let memberPath = last.prefix.isEmpty ? member.name : last.prefix + "/" + member.name
            guard entries.count < maxEntries else {
                if stopAtLimit { return entries }
                throw group.context.appending(member.name).error(.invalidArgument, "more than \(maxEntries) objects in the file")
            }
            var isRepeat = false
            switch member.kind {
            case .group, .dataset, .namedDatatype, .otherObject:
                isRepeat = !seen.insert(try group.objectKey(member.name)).inserted
            default:
                break
            }
            entries.append(HDF5WalkEntry(path: memberPath, link: member, isRepeat: isRepeat, depth: path.count - 1))
            guard member.kind == .group, !isRepeat else { continue }
            guard path.count < maxDepth else {
                if stopAtLimit { continue }
                throw group.context.appending(member.name).error(.invalidArgument, "groups nested deeper than \(maxDepth)")
            }
            let child = try group.group(member.name)
            path.append((child, memberPath, try child.members(), 0))
        }
        return entries
    }

    /// The file-wide identity of the object `name` (a single name, `.` for the group itself).
    private func objectKey(_ name: String) throws(HDF5Error) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: 16)
        _ = try H5.call("H5Oget_info_by_name", context.appending(name)) {
            name.withCString { cName in key.withUnsafeMutableBufferPointer { chdf5_object_key(id.raw, cName, $0.baseAddress) } }
        }
        return key
    }
}
