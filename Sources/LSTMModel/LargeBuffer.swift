import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for tensor-sized buffers that goes back to the system the moment it is freed.
///
/// A buffer of 1 MiB or more is its own anonymous `mmap` (page-aligned, zero-filled by the kernel, never
/// file-backed: no SIGBUS), unmapped on free; smaller ones come from `malloc`, 64-byte aligned. glibc's `malloc`
/// raises its own mmap threshold (up to 32 MiB) after the first large free and then serves tensor-sized buffers
/// from the heap, where freed ones fragment: a streaming conversion of a model with 19 MB tensors grew to 300 MB
/// that way instead of holding one tensor at a time.
package enum LargeBuffer {
    /// Buffers at least this large are mapped.
    package static let mapThreshold = 1 << 20

    /// A fresh buffer of `count` bytes filled by `body` (which returns how many bytes it filled, at most
    /// `count`), handed out as `Data` that frees it.
    package static func data(count: Int, _ body: (UnsafeMutableRawPointer) throws -> Int) rethrows -> Data {
        guard count > 0 else { return Data() }
        if count >= mapThreshold {
            let mapped = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            if let mapped, mapped != MAP_FAILED {
                let filled: Int
                do {
                    filled = try body(mapped)
                } catch {
                    munmap(mapped, count)
                    throw error
                }
                return Data(bytesNoCopy: mapped, count: min(filled, count), deallocator: .custom { pointer, _ in munmap(pointer, count) })
            }
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
        let filled: Int
        do {
            filled = try body(buffer)
        } catch {
            buffer.deallocate()
            throw error
        }
        return Data(bytesNoCopy: buffer, count: min(filled, count), deallocator: .custom { pointer, _ in pointer.deallocate() })
    }
}
