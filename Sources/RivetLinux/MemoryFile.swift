import CRivetHost
#if canImport(Glibc)
import Glibc
#endif

/// A regular file the embedder serves from memory at a guest path (`Configuration.files`).
///
/// Its contents live in a host memfd, which every guest open reopens through
/// `/proc/self/fd/N`: each open is a host open file description of its own (its own offset and
/// access mode), so read, pread, lseek, fstat, mmap, poll (always ready, as a regular file) and
/// epoll (EPERM, as a regular file) behave exactly as for a host file, and a forked guest
/// process shares the contents with its parent. A read-only file is sealed: no descriptor,
/// mapping or fork can change it. A writable one keeps what the guest wrote, for the host to
/// read after the run (`contents()`).
public final class MemoryFile: Sendable {
    /// The normalized guest path, as components.
    public let path: [String]
    /// Whether the guest may write, truncate and extend it.
    public let writable: Bool
    /// The memfd holding the contents (close-on-exec, owned).
    public let descriptor: Int32

    /// Makes the memfd for `contents`.
    /// - Parameters:
    ///   - path: an absolute guest path.
    ///   - contents: the file's initial bytes.
    ///   - writable: whether the guest may change it.
    /// - Throws: the host's errno if it cannot make or fill the memfd.
    public init(path: String, contents: [UInt8], writable: Bool) throws(SandboxError) {
        self.path = Sandbox.components(Sandbox.normalize(path))
        self.writable = writable
        let fd = rivet_memfd_flags("rivet-file", 0x3)  // MFD_CLOEXEC | MFD_ALLOW_SEALING
        guard fd >= 0 else { throw SandboxError(Int64(-fd)) }
        descriptor = fd
        var done = 0
        while done < contents.count {
            let n = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = errno
                Glibc.close(fd)
                throw SandboxError(Int64(error))
            }
            done += n
        }
        _ = fchmod(fd, writable ? 0o644 : 0o444)
        if !writable {
            _ = fcntl(fd, Self.addSeals, Self.sealSeal | Self.sealShrink | Self.sealGrow | Self.sealWrite)
        }
    }

    deinit { Glibc.close(descriptor) }

    /// The file's contents now.
    public func contents() -> [UInt8] {
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_size > 0 else { return [] }
        return HostIO.readWhole(descriptor, count: Int(info.st_size)) ?? []
    }

    /// Opens a new host description of the file with the guest's `flags` (only the access
    /// mode, O_APPEND, O_TRUNC, O_NONBLOCK and O_PATH count).
    /// - Returns: the host descriptor (close-on-exec), or -errno.
    public func open(flags: Int32) -> Int32 {
        let fd = Glibc.open("/proc/self/fd/\(descriptor)", flags | O_CLOEXEC | O_NOCTTY)
        return fd < 0 ? -errno : fd
    }

    // fcntl(2)'s sealing commands (linux/fcntl.h).
    private static let addSeals: Int32 = 1033
    private static let sealSeal: Int32 = 0x1
    private static let sealShrink: Int32 = 0x2
    private static let sealGrow: Int32 = 0x4
    private static let sealWrite: Int32 = 0x8
}

extension MemoryFile: Equatable {
    public static func == (lhs: MemoryFile, rhs: MemoryFile) -> Bool { lhs === rhs }
}
