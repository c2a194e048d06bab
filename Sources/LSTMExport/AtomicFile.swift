import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file through a temporary sibling and an atomic rename: readers of the target never see a partial
/// file, and a failure leaves the target as it was (and no temporary file behind).
enum AtomicFile {
    static func write(_ data: Data, to url: URL, overwrite: Bool) throws(ExportError) {
        let target = url.path
        let manager = FileManager.default
        if !overwrite, manager.fileExists(atPath: target) {
            throw ExportError(.outputExists, "refusing to replace an existing file without overwrite", file: target)
        }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary, options: .withoutOverwriting)
        } catch {
            _ = unlink(temporary.path)
            throw ExportError(.cannotWrite, "cannot write a temporary file in \(folder.path): \(error.localizedDescription)", file: target)
        }
        do throws(ExportError) {
            try place(temporary.path, at: target, overwrite: overwrite)
        } catch {
            _ = unlink(temporary.path)
            throw error
        }
    }

    /// `rename` when replacing is allowed, else `link` (which fails atomically when the target exists) and
    /// removing the temporary name.
    private static func place(_ temporary: String, at target: String, overwrite: Bool) throws(ExportError) {
        if overwrite {
            guard rename(temporary, target) == 0 else {
                throw ExportError(.cannotWrite, "rename failed: \(String(cString: strerror(errno)))", file: target)
            }
            return
        }
        if link(temporary, target) == 0 {
            _ = unlink(temporary)
            return
        }
        if errno == EEXIST {
            throw ExportError(.outputExists, "refusing to replace an existing file without overwrite", file: target)
        }
        // File systems without hard links: fall back to a checked rename.
        guard !FileManager.default.fileExists(atPath: target) else {
            throw ExportError(.outputExists, "refusing to replace an existing file without overwrite", file: target)
        }
        guard rename(temporary, target) == 0 else {
            throw ExportError(.cannotWrite, "rename failed: \(String(cString: strerror(errno)))", file: target)
        }
    }
}
