#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// A file for a guest's standard output or error: created and unlinked at once, so it goes
/// away with its descriptor.
package final class CapturedOutput {
    /// Its host descriptor.
    package let fd: Int32

    /// A new empty file.
    /// - Throws: `RivetError` if no temporary file can be made.
    package init() throws(RivetError) {
        let parent = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array((parent + "/rivet-fuzz-out-XXXXXX").utf8CString)
        fd = mkstemp(&template)
        guard fd >= 0 else { throw RivetError(.invalidConfiguration, "mkstemp failed") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    }

    deinit { close(fd) }

    /// Up to `limit` bytes of what was written, with its total size and hash.
    package func contents(limit: Int) -> (bytes: [UInt8], size: Int, hash: UInt64) {
        HostFiles.readAll(fd, limit: limit)
    }
}
