import Foundation

/// Writes whole files safely: to a temporary file in the target folder, then renamed into place.
enum AtomicFile {
    static func write(_ data: Data, to url: URL, overwrite: Bool) throws(NumPyError) {
        let manager = FileManager.default
        if !overwrite, manager.fileExists(atPath: url.path) {
            throw NumPyError(.fileExists, "pass overwrite: true (--force) to replace it", path: url.path)
        }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
        } catch {
            throw NumPyError(.io, "cannot write a temporary file in \(folder.path)", path: url.path, underlying: error as NSError)
        }
        if rename(temporary.path, url.path) != 0 {
            let code = errno
            try? manager.removeItem(at: temporary)
            throw NumPyError(.io, "cannot rename the temporary file into place (errno \(code))", path: url.path)
        }
    }
}
