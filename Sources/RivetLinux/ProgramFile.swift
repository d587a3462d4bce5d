#if canImport(Glibc)
import Glibc
#endif

/// A program file's bytes, read where they are needed: the first page (the ELF header, usually
/// the program headers, a `#!` line), the section headers, a segment the loader cannot map, the
/// symbols when something asks for them. Reading the whole file at every exec took 330-360 µs of
/// the 2 ms a command costs, mostly page faults on the fresh buffer, while the loader maps the
/// segments from the file anyway (Performance.md, thirtieth session).
///
/// Contents read from a file keep a descriptor of it (close-on-exec) for as long as they live,
/// so the loader maps the very file that was parsed and symbols read later come from it too. A
/// file that changes afterwards can only give other bytes, never a fault in the host: every read
/// is a `pread` into memory of our own, and a short one is reported or zero-filled.
public final class ProgramFile: Sendable {
    private enum Storage: Sendable {
        case memory([UInt8])
        case file(Int32)
    }

    private let storage: Storage
    /// The file's size when it was opened.
    public let count: Int
    /// The first `headSize` bytes (fewer if the file is shorter).
    public let head: [UInt8]

    /// How much `head` holds: a page.
    public static let headSize = 4096

    /// Contents held in memory (tests, generated programs).
    public init(bytes: [UInt8]) {
        storage = .memory(bytes)
        count = bytes.count
        head = Array(bytes.prefix(Self.headSize))
    }

    /// The regular file open at `descriptor`, which stays the caller's to close: this keeps a
    /// duplicate. Nil if it is not a regular file, or larger than `limit` bytes, or unreadable.
    public init?(duplicating descriptor: Int32, limit: Int = 1 << 30) {
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size <= limit else { return nil }
        let fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 3)
        guard fd >= 0 else { return nil }
        let size = Int(info.st_size)
        guard let head = HostIO.readWhole(fd, count: min(size, Self.headSize)), head.count == min(size, Self.headSize)
        else {
            close(fd)
            return nil
        }
        storage = .file(fd)
        count = size
        self.head = head
    }

    deinit {
        if case .file(let fd) = storage { close(fd) }
    }

    /// The descriptor of the file, for mapping it; nil for contents held in memory.
    public var descriptor: Int32? {
        if case .file(let fd) = storage { return fd }
        return nil
    }

    /// Whether `size` bytes at `offset` lie inside the file (as large as it was when opened).
    public func contains(_ offset: UInt64, _ size: UInt64) -> Bool {
        offset <= UInt64(count) && size <= UInt64(count) - offset
    }

    /// The `size` bytes at `offset`; where the file ends sooner (or has shrunk since it was
    /// opened), zeros. Callers check the range with `contains` first.
    public func read(at offset: UInt64, count size: Int) -> [UInt8] {
        guard size > 0, offset <= UInt64(Int.max) else { return [] }
        if offset + UInt64(size) <= UInt64(head.count) { return Array(head[Int(offset)..<Int(offset) + size]) }
        switch storage {
        case .memory(let bytes):
            guard offset < UInt64(bytes.count) else { return [UInt8](repeating: 0, count: size) }
            let available = bytes[Int(offset)...].prefix(size)
            return Array(available) + [UInt8](repeating: 0, count: size - available.count)
        case .file(let fd):
            var bytes = [UInt8](repeating: 0, count: size)
            _ = bytes.withUnsafeMutableBytes { HostIO.readFully(fd, into: $0, at: Int64(offset)) }
            return bytes
        }
    }

    /// Copies the `size` bytes at `offset` to `destination`; false if the file gave fewer (it
    /// shrank since it was opened).
    public func copy(at offset: UInt64, count size: Int, to destination: UnsafeMutableRawPointer) -> Bool {
        guard size > 0 else { return true }
        guard contains(offset, UInt64(size)) else { return false }
        switch storage {
        case .memory(let bytes):
            bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + Int(offset), byteCount: size) }
            return true
        case .file(let fd):
            return HostIO.readFully(fd, into: UnsafeMutableRawBufferPointer(start: destination, count: size), at: Int64(offset)) == size
        }
    }
}
