/// Receives how much of a long job is done: bytes read, checksummed or written. The CLI's progress bar is one;
/// the library never prints.
package protocol ProgressObserver: AnyObject, Sendable {
    /// `bytes` more are done.
    func advance(_ bytes: Int)
}

/// The observer of the current task, if any: readers, writers and `verify` report their bytes here. Work that
/// fans out to other threads captures ``observer`` first (task-locals do not cross into Dispatch workers).
package enum WorkProgress {
    @TaskLocal package static var observer: (any ProgressObserver)?

    /// Reports `bytes` more done to the current observer (nothing without one).
    package static func advance(_ bytes: Int) {
        observer?.advance(bytes)
    }
}
