/// What a command deliberately does not free: the `lstmconv` process exits right after the command, and the kernel
/// reclaims all of its memory at once. Releasing a prepared 32 MiB model and the input and output arrays first
/// (deinit chains, `free`/`munmap` page range by page range) is time spent for nothing.
enum ExitRetention {
    nonisolated(unsafe) private static var kept: [Any] = []

    /// Keeps `values` alive until the process exits (call from the main thread, at the end of a command).
    static func keep(_ values: Any...) {
        kept.append(contentsOf: values)
    }
}
