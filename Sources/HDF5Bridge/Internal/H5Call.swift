import CHDF5
import Foundation

/// Where a libhdf5 call operates: used only to fill an ``HDF5Error``'s context.
struct H5Context {
    var file: String?
    var object: String?

    func error(_ code: HDF5Error.Code, _ message: String, call: String? = nil, stack: [String] = []) -> HDF5Error {
        HDF5Error(code, message, file: file, objectPath: object, call: call, stack: stack)
    }

    func appending(_ name: String) -> H5Context {
        H5Context(file: file, object: H5Context.join(object ?? "/", name))
    }

    static func join(_ base: String, _ name: String) -> String {
        base.hasSuffix("/") ? base + name : base + "/" + name
    }
}

/// The funnel every libhdf5 call goes through.
///
/// One global recursive lock serialises all calls (libhdf5 builds differ in thread safety, and the error
/// stack of a non-thread-safe build is global). Automatic error printing is turned off before every call,
/// because a thread-safe build keeps that setting per thread. A negative result is turned into an
/// ``HDF5Error`` carrying the walked error stack, collected while the lock is still held.
enum H5 {
    private static let lock = NSRecursiveLock()

    /// Done once, before the first libhdf5 call: libhdf5 must not run its `atexit` clean-up. After a failed write
    /// (disk full, file-size limit) a file can stay open inside libhdf5 (its flush failed, so it cannot be
    /// closed), and the exit-time clean-up would flush it again and crash after the error was already reported.
    /// Every file lstmconv writes is a temporary file that is either placed after a successful close or removed,
    /// so nothing is lost by skipping that clean-up.
    private static let setUp: Void = { _ = H5dont_atexit() }()

    /// Runs `body` (a single libhdf5 call) under the lock; a negative result throws.
    @discardableResult
    static func call<R: BinaryInteger>(
        _ function: StaticString, _ context: H5Context, _ body: () -> R
    ) throws(HDF5Error) -> R {
        lock.lock()
        defer { lock.unlock() }
        _ = setUp
        _ = chdf5_disable_auto_print()
        HDF5CrashGuard.enter(context.file)
        defer { HDF5CrashGuard.leave() }
        let result = body()
        if result < 0 {
            let (stack, truncated) = collectStack()
            let name = "\(function)"
            if truncated {
                throw context.error(.truncated, "the file is shorter than HDF5 expects", call: name, stack: stack)
            }
            throw context.error(.callFailed, stack.last.map { "libhdf5: \($0)" } ?? "libhdf5 reported an error", call: name, stack: stack)
        }
        return result
    }

    /// Runs `body` (a call that returns a new identifier) and wraps the identifier so that `deinit` closes it.
    static func open(
        _ function: StaticString, _ context: H5Context, close: @escaping @convention(c) (hid_t) -> herr_t,
        _ body: () -> hid_t
    ) throws(HDF5Error) -> H5ID {
        let raw = try call(function, context, body)
        return H5ID(raw, file: context.file, close: close)
    }

    /// Runs `body` under the lock without checking anything: for pure queries and cleanup. The crash guard is
    /// armed as for every other call: a damaged file can make libhdf5 fail inside a query or a close too (fuzzing
    /// found `free(): invalid pointer` in `H5Gclose`, reached from a group's `deinit`).
    static func unchecked<R>(file: String?, _ body: () -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        _ = setUp
        _ = chdf5_disable_auto_print()
        HDF5CrashGuard.enter(file)
        defer { HDF5CrashGuard.leave() }
        return body()
    }

    /// Closes an identifier of `file`, ignoring failure (used from `deinit`).
    static func close(_ raw: hid_t, file: String?, _ function: @convention(c) (hid_t) -> herr_t) {
        unchecked(file: file) { _ = function(raw) }
    }

    /// Copies and clears the current error stack, and returns its entries as text (the API call first, the innermost cause last) and
    /// whether any entry reports a truncated file.
    private static func collectStack() -> (lines: [String], truncated: Bool) {
        let stackID = H5Eget_current_stack()
        guard stackID >= 0 else { return ([], false) }
        defer { _ = H5Eclose_stack(stackID) }
        let collector = StackCollector()
        let context = Unmanaged.passUnretained(collector).toOpaque()
        _ = chdf5_walk_errors(stackID, { _, entry, context in
            guard let entry, let context else { return 0 }
            let collector = Unmanaged<StackCollector>.fromOpaque(context).takeUnretainedValue()
            collector.add(entry.pointee)
            return 0
        }, context)
        return (collector.lines, collector.truncated)
    }
}

/// Accumulates the entries of an HDF5 error stack during `H5Ewalk2`.
private final class StackCollector {
    var lines: [String] = []
    var truncated = false
    private let truncatedMinor = chdf5_minor_truncated()

    func add(_ entry: H5E_error2_t) {
        let function = entry.func_name.map { String(cString: $0) } ?? "?"
        let description = entry.desc.map { String(cString: $0) } ?? ""
        let major = StackCollector.message(entry.maj_num)
        let minor = StackCollector.message(entry.min_num)
        if entry.min_num == truncatedMinor { truncated = true }
        lines.append("\(function)(): \(description) [\(major) / \(minor)]")
    }

    private static func message(_ id: hid_t) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = H5Eget_msg(id, nil, &buffer, buffer.count)
        guard count > 0 else { return "?" }
        return String(decoding: buffer.prefix(min(Int(count), buffer.count - 1)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// An open libhdf5 identifier, closed exactly once: explicitly with ``close(_:_:)`` or when the last
/// reference goes away.
final class H5ID {
    let raw: hid_t
    /// The file the identifier belongs to (for the crash guard's message), if known.
    let file: String?
    private let closeFunction: @convention(c) (hid_t) -> herr_t
    private var isOpen = true

    init(_ raw: hid_t, file: String?, close: @escaping @convention(c) (hid_t) -> herr_t) {
        self.raw = raw
        self.file = file
        self.closeFunction = close
    }

    /// Closes the identifier now, reporting failure.
    func close(_ function: StaticString, _ context: H5Context) throws(HDF5Error) {
        guard isOpen else { return }
        isOpen = false
        try H5.call(function, context) { closeFunction(raw) }
    }

    deinit {
        if isOpen { H5.close(raw, file: file, closeFunction) }
    }
}
