import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The process-level safety net around libhdf5 (installed by the CLI, never by the library itself).
///
/// libhdf5 1.10 trusts some on-disk sizes: fuzzing found files of a few KB that make it read far out of bounds
/// (`H5HG_read`, a variable-length string's global-heap object), overread an unterminated name (`H5MM_strdup`
/// from `H5Aexists`) or loop forever (`H5HG_read` → `H5C_protect`). lstmconv does not parse HDF5 itself, so it
/// cannot check these before libhdf5 does. While a libhdf5 call runs, the guard therefore turns a fatal signal
/// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, and SIGABRT from glibc's heap checks) and a call that does not return within ``callTimeout`` into the contract's
/// one-line error naming the file and exit 65. Outside libhdf5 calls a fatal signal keeps its default action
/// (a crash in lstmconv itself is a bug and must show as one).
package enum HDF5CrashGuard {
    /// The longest one libhdf5 call may take (`LSTMCONV_HDF5_CALL_TIMEOUT` seconds, default 300).
    package static let callTimeout: Int = {
        Int(ProcessInfo.processInfo.environment["LSTMCONV_HDF5_CALL_TIMEOUT"] ?? "") ?? 300
    }()

    private static let capacity = 4096
    /// The line to print if the current call dies: written before each call, read by the signal handler.
    nonisolated(unsafe) private static let message = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    nonisolated(unsafe) private static var messageLength = 0
    /// Whether a libhdf5 call is running, and since when (monotonic seconds).
    nonisolated(unsafe) private static var active: sig_atomic_t = 0
    nonisolated(unsafe) private static var callStarted: UInt64 = 0
    nonisolated(unsafe) private static var installed = false
    nonisolated(unsafe) private static var watchdog: (any DispatchSourceTimer)?

    /// Installs the signal handlers and the watchdog (once; the CLI calls it at start).
    package static func install() {
        guard !installed else { return }
        installed = true
        // An alternate stack, so that a stack overflow inside libhdf5 still reaches the handler.
        let stackSize = 1 << 16
        var stack = stack_t()
        stack.ss_sp = UnsafeMutableRawPointer.allocate(byteCount: stackSize, alignment: 16)
        stack.ss_size = stackSize
        stack.ss_flags = 0
        _ = sigaltstack(&stack, nil)
        for number in [SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in HDF5CrashGuard.fatal(signal) }
            action.sa_flags = Int32(SA_ONSTACK) | Int32(bitPattern: UInt32(SA_RESETHAND))
            sigemptyset(&action.sa_mask)
            _ = sigaction(number, &action, nil)
        }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler {
            guard active != 0, callTimeout > 0 else { return }
            if DispatchTime.now().uptimeNanoseconds - callStarted > UInt64(callTimeout) * 1_000_000_000 {
                report(reason: "libhdf5 did not finish one call within \(callTimeout) s")
            }
        }
        timer.resume()
        watchdog = timer
    }

    /// Marks the start of a libhdf5 call on `file` (called under the funnel's lock).
    static func enter(_ file: String?) {
        guard installed else { return }
        let line = "lstmconv: error: \(file ?? "(an HDF5 file)"): libhdf5 failed while reading the file (it is damaged or hostile; a libhdf5 defect, see spec/limits.md)"
        let bytes = Array(line.utf8.prefix(capacity - 1))
        for (index, byte) in bytes.enumerated() { message[index] = byte }
        message[bytes.count] = UInt8(ascii: "\n")
        messageLength = bytes.count + 1
        callStarted = DispatchTime.now().uptimeNanoseconds
        active = 1
    }

    /// Marks the end of the call.
    static func leave() {
        active = 0
    }

    /// The signal handler: async-signal-safe calls only (write, _exit, signal).
    private static func fatal(_ signal: Int32) {
        if active != 0 {
            _ = write(2, message, messageLength)
            _exit(65)
        }
        // Not inside libhdf5: the default action (SA_RESETHAND restored it), so the crash shows as one.
        _ = raise(signal)
    }

    /// The watchdog's report: the same line with the reason, exit 65.
    private static func report(reason: String) {
        var line = String(decoding: UnsafeBufferPointer(start: message, count: max(messageLength - 1, 0)), as: UTF8.self)
        if let cut = line.range(of: "libhdf5 failed") { line = String(line[..<cut.lowerBound]) + reason + " (the file is damaged or hostile)" }
        FileHandle.standardError.write(Data((line + "\n").utf8))
        _exit(65)
    }
}
