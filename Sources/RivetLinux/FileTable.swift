import CRivetHost
#if canImport(Glibc)
import Glibc
#endif

/// An open file description: what a guest file descriptor refers to. Descriptors made by dup
/// share one description (and so its offset), as on Linux.
public final class OpenFile {
    public enum Backing {
        /// A host file descriptor; closed when the description goes away if `owned`.
        case host(Int32, owned: Bool)
        /// A synthesized read-only file (/proc/self/maps ...), with its own offset.
        case memory([UInt8])
        /// A directory that exists only in the guest's view (a parent of granted directories,
        /// /proc/self/fd), with the names it lists.
        case virtualDirectory([String])
    }

    public var backing: Backing
    /// The guest path it was opened by, for /proc/self/fd, mmap names, fchdir and paths
    /// relative to it.
    public var guestPath: String
    /// Whether the sandbox allows writing through it.
    public var writable: Bool
    /// Open flags as the guest gave them (O_APPEND, O_NONBLOCK ... for F_GETFL).
    public var statusFlags: Int32
    /// Offset for synthesized files; index into `listing` for directories.
    public var position: Int = 0
    /// Whether it is a directory (getdents64, fchdir, a base for relative paths).
    public var isDirectory = false
    /// Opened with O_PATH: it names a file but allows no I/O.
    public var isPathOnly = false
    /// The grant the file lies in, for link and rename checks (EXDEV across grants).
    public var grant: Int? = nil
    /// A directory's entries as getdents64 returns them, read at the first call after an
    /// open or a rewind, so that offsets stay stable.
    public var listing: [DirectoryListingEntry]? = nil
    /// What Rivet emulates on top of the host descriptor (a signalfd, a socket's names).
    public var emulation: DescriptorEmulation? = nil

    public init(backing: Backing, guestPath: String, writable: Bool, statusFlags: Int32 = 0) {
        self.backing = backing
        self.guestPath = guestPath
        self.writable = writable
        self.statusFlags = statusFlags
        if case .virtualDirectory = backing { isDirectory = true }
    }

    deinit {
        if case .host(let fd, owned: true) = backing {
            rivet_descriptor_release(fd)
            Glibc.close(fd)
        }
    }

    /// Whether I/O on it may wait (a pipe, a socket, a terminal, a device), so that other
    /// guest threads must run meanwhile; regular files and directories never wait long.
    public lazy var mayBlock: Bool = {
        guard case .host(let fd, _) = backing else { return false }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return true }
        let type = status.st_mode & S_IFMT
        return type != S_IFREG && type != S_IFDIR
    }()

    /// The host descriptor behind the file, if it is a host file.
    public var hostDescriptor: Int32? {
        if case .host(let fd, _) = backing { return fd }
        return nil
    }
}

/// A host descriptor behind one of the guest's standard streams.
public struct StandardStream: Sendable {
    public var descriptor: Int32
    /// Whether the guest's file closes it when the last guest descriptor for it goes; else the
    /// embedder keeps it open.
    public var owned: Bool

    public init(_ descriptor: Int32, owned: Bool = false) {
        self.descriptor = descriptor
        self.owned = owned
    }
}

/// One entry of a directory listing, in the guest's `linux_dirent64` terms.
public struct DirectoryListingEntry: Equatable, Sendable {
    public var name: [UInt8]
    public var inode: UInt64
    /// A `DT_*` value.
    public var type: UInt8

    public init(name: [UInt8], inode: UInt64, type: UInt8) {
        self.name = name
        self.inode = inode
        self.type = type
    }
}

/// The guest's file descriptor table.
public final class FileTable {
    private var entries: [Int32: (file: OpenFile, closeOnExec: Bool)] = [:]
    /// The owner of the host descriptors the table's files hold (`rivet_descriptor_claim`):
    /// a forked guest's host process keeps these and closes those of other machines.
    public let owner = rivet_descriptor_owner_new()
    /// Most descriptors the guest may have open (RLIMIT_NOFILE).
    public var limit: Int
    /// The signalfds made so far that are still open somewhere, whose readiness Rivet keeps
    /// in line with the guest's pending signals.
    private var signalQueues: [WeakReference<SignalQueue>] = []

    public init(standardStreams: (StandardStream, StandardStream, StandardStream), limit: Int) {
        self.limit = limit
        let streams = [standardStreams.0, standardStreams.1, standardStreams.2]
        let names = ["/dev/stdin", "/dev/stdout", "/dev/stderr"]
        for (fd, stream) in streams.enumerated() {
            let flags = fcntl(stream.descriptor, F_GETFL)
            let file = OpenFile(
                backing: .host(stream.descriptor, owned: stream.owned), guestPath: names[fd], writable: true,
                statusFlags: flags < 0 ? Int32(O_RDWR) : flags)
            claim(file)
            entries[Int32(fd)] = (file, false)
        }
    }

    /// Notes the host descriptor `file` holds, if it owns one, as this table's.
    private func claim(_ file: OpenFile) {
        if case .host(let fd, owned: true) = file.backing { rivet_descriptor_claim(fd, owner) }
    }

    public subscript(_ fd: Int32) -> OpenFile? { entries[fd]?.file }

    /// Open descriptors, ascending.
    public var descriptors: [Int32] { entries.keys.sorted() }

    public func closeOnExec(_ fd: Int32) -> Bool { entries[fd]?.closeOnExec ?? false }

    public func setCloseOnExec(_ fd: Int32, _ value: Bool) {
        entries[fd]?.closeOnExec = value
    }

    /// Installs `file` at the lowest free descriptor at or above `lowest`.
    /// - Returns: the descriptor, or nil if the table is full (EMFILE).
    public func insert(_ file: OpenFile, lowest: Int32 = 0, closeOnExec: Bool = false) -> Int32? {
        var fd = max(lowest, 0)
        while entries[fd] != nil { fd += 1 }
        guard fd < limit else { return nil }
        claim(file)
        entries[fd] = (file, closeOnExec)
        return fd
    }

    /// Whether `insert` would find a free descriptor (EMFILE otherwise).
    public var hasFreeDescriptor: Bool {
        var fd: Int32 = 0
        while entries[fd] != nil { fd += 1 }
        return fd < limit
    }

    /// Remembers a new signalfd's queue (weakly).
    public func register(_ queue: SignalQueue) {
        signalQueues.removeAll { $0.object == nil }
        signalQueues.append(WeakReference(queue))
    }

    /// The signalfd queues still open.
    public var liveSignalQueues: [SignalQueue] {
        signalQueues.removeAll { $0.object == nil }
        return signalQueues.compactMap(\.object)
    }

    /// Installs `file` at exactly `fd`, closing what was there (dup3).
    public func replace(_ fd: Int32, with file: OpenFile, closeOnExec: Bool) {
        claim(file)
        entries[fd] = (file, closeOnExec)
    }

    /// Removes `fd`. Returns false if it was not open.
    @discardableResult
    public func remove(_ fd: Int32) -> Bool {
        entries.removeValue(forKey: fd) != nil
    }

    /// The open descriptors in `range`, ascending.
    public func descriptors(in range: ClosedRange<Int32>) -> [Int32] {
        entries.keys.filter { range.contains($0) }.sorted()
    }
}
