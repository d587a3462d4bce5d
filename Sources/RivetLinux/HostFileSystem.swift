import CRivetHost
#if canImport(Glibc)
import Glibc
#endif

/// Host filesystem calls that never follow a symbolic link anywhere in a host path.
///
/// The sandbox resolves guest paths itself, so every host path it hands out names real
/// directories all the way down. Something may still swap one of them for a symlink between
/// that check and the use: another process sharing a writable grant, or a guest renaming the
/// host directory behind another grant and putting a symlink in its place. So no host call here
/// takes a path that the kernel could resolve through a symlink: `open` refuses symlinks in every
/// component (openat2 with `RESOLVE_NO_SYMLINKS`, or a walk of `O_NOFOLLOW` opens where openat2
/// is missing), and every other operation acts on one name inside a directory opened that way,
/// without following it.
///
/// Results follow the kernel's convention: a value, or a negative errno.
public enum HostFileSystem {
    // MARK: Raw system calls

    /// Host syscall numbers (the host's, not the guest's).
    private enum Number {
        #if arch(x86_64)
        static let getdents64 = 217
        static let flock = 73
        static let fstatfs = 138
        static let fallocate = 285
        static let pipe2 = 293
        static let renameat2 = 316
        static let copyFileRange = 326
        static let statx = 332
        static let openat2 = 437
        #else
        static let getdents64 = 61
        static let flock = 32
        static let fstatfs = 44
        static let fallocate = 47
        static let pipe2 = 59
        static let renameat2 = 276
        static let copyFileRange = 285
        static let statx = 291
        static let openat2 = 437
        #endif
    }

    /// Makes a raw host syscall; returns its result or a negative errno.
    static func call(_ number: Int, _ a: Int = 0, _ b: Int = 0, _ c: Int = 0, _ d: Int = 0, _ e: Int = 0, _ f: Int = 0)
        -> Int
    {
        // Through CRivetHost, which can call the variadic syscall(2): Swift cannot, and looking
        // the function up with dlsym fails in a statically linked rivet.
        let result = rivet_syscall(number, a, b, c, d, e, f)
        return result == -1 ? -Int(errno) : result
    }

    static func bits(_ pointer: UnsafeRawPointer?) -> Int { Int(bitPattern: pointer) }

    // MARK: Opening without symlinks

    /// openat2's `RESOLVE_NO_SYMLINKS`: fail with ELOOP on a symlink in any component.
    private static let resolveNoSymlinks: UInt64 = 0x04
    /// O_PATH, which Glibc does not export to Swift.
    public static let pathOnly: Int32 = 0o10000000
    /// O_TMPFILE's own bit (O_TMPFILE also has O_DIRECTORY).
    private static let temporaryFile: Int32 = 0o20000000
    /// Every flag open(2) knows (the kernel's VALID_OPEN_FLAGS).
    private static let validOpenFlags: Int32 = 0o3 | 0o100 | 0o200 | 0o400 | 0o1000 | 0o2000 | 0o4000 | 0o10000
        | 0o20000 | 0o40000 | 0o100000 | 0o200000 | 0o400000 | 0o1000000 | 0o2000000 | 0o4000000 | pathOnly
        | temporaryFile

    /// Whether the host kernel has openat2 (Linux 5.6) and lets us call it.
    private static let hasOpenat2: Bool = {
        let fd = openat2("/", pathOnly | O_DIRECTORY)
        if fd >= 0 { Glibc.close(Int32(fd)) }
        return fd >= 0
    }()

    private static func openat2(_ path: String, _ flags: Int32, mode: mode_t = 0) -> Int {
        var how: (UInt64, UInt64, UInt64) = (UInt64(UInt32(bitPattern: flags)), UInt64(mode), resolveNoSymlinks)
        return path.withCString { p in
            withUnsafePointer(to: &how) { h in
                call(Number.openat2, Int(AT_FDCWD), bits(p), bits(h), 24)  // sizeof(struct open_how)
            }
        }
    }

    /// Opens the absolute, normalized host `path`, refusing a symlink in any of its components
    /// (ELOOP), the last included unless `flags` has both O_PATH and O_NOFOLLOW, when the
    /// descriptor refers to the link itself. The descriptor is always close-on-exec.
    /// - Returns: the descriptor, or a negative errno.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) -> Int32 {
        // openat2, unlike openat, rejects unknown flags, flags beside O_PATH's own, and a mode
        // where nothing is created.
        var flags = flags & validOpenFlags | O_CLOEXEC
        if flags & pathOnly != 0 { flags &= pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC }
        let mode = flags & (O_CREAT | temporaryFile) != 0 ? mode : 0
        if hasOpenat2 { return Int32(truncatingIfNeeded: openat2(path, flags, mode: mode)) }
        return openWalking(path, flags, mode: mode)
    }

    /// `open` without openat2: walks from the root, opening each directory with O_NOFOLLOW.
    public static func openWalking(_ path: String, _ flags: Int32, mode: mode_t = 0) -> Int32 {
        let flags = flags | O_CLOEXEC | O_NOFOLLOW
        let parts = Sandbox.components(path)
        guard let last = parts.last else {
            let fd = Glibc.open("/", flags, mode)
            return fd >= 0 ? fd : -errno
        }
        var directory = Glibc.open("/", pathOnly | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { return -errno }
        for part in parts.dropLast() {
            let next = openat(directory, part, pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let error = errno
            Glibc.close(directory)
            // A symlink where a directory should be: report it as openat2 would.
            guard next >= 0 else { return error == ENOTDIR ? -linkOrNotDirectory(path) : -error }
            directory = next
        }
        let fd = openat(directory, last, flags, mode)
        let error = errno
        Glibc.close(directory)
        return fd >= 0 ? fd : -error
    }

    /// ELOOP if some component of `path` is a symlink, else ENOTDIR (for the fallback walk).
    private static func linkOrNotDirectory(_ path: String) -> Int32 {
        var prefix = ""
        for part in Sandbox.components(path) {
            prefix += "/" + part
            var info = stat()
            if Glibc.lstat(prefix, &info) == 0, info.st_mode & S_IFMT == S_IFLNK { return ELOOP }
        }
        return ENOTDIR
    }

    /// Runs `body` with a directory descriptor for the parent of `path` (opened as `open`
    /// does) and the last component of `path`. For `/` the name is `.`.
    /// - Returns: what `body` returns (a value or negative errno), or the negative errno of
    ///   opening the parent.
    public static func inParent<R: BinaryInteger>(
        _ path: String, _ body: (Int32, String) -> R, onFailure: (Int32) -> Void = { _ in }
    ) -> R {
        let (parent, name) = split(path)
        let directory = open(parent, pathOnly | O_DIRECTORY)
        guard directory >= 0 else {
            onFailure(directory)
            return R(directory)
        }
        defer { Glibc.close(directory) }
        return body(directory, name)
    }

    /// `path`'s parent directory and last name, as `Sandbox.components` would give them (`/`
    /// and `.` for `/`). The host paths the sandbox hands out are clean — absolute, without an
    /// empty or `.` component or a trailing `/` — and split at their last `/`.
    static func split(_ path: String) -> (parent: String, name: String) {
        var path = path
        let clean = path.withUTF8 { bytes -> (parent: String, name: String)? in
            guard bytes.count > 1, bytes[0] == 0x2f, bytes[bytes.count - 1] != 0x2f else { return nil }
            var start = 1
            var lastSlash = 0
            for end in 1...bytes.count where end == bytes.count || bytes[end] == 0x2f {
                let length = end - start
                if length == 0 || (length == 1 && bytes[start] == 0x2e) { return nil }
                lastSlash = start - 1
                start = end + 1
            }
            let parent = lastSlash == 0 ? "/" : String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<lastSlash]), as: UTF8.self)
            return (parent, String(decoding: UnsafeBufferPointer(rebasing: bytes[(lastSlash + 1)...]), as: UTF8.self))
        }
        if let clean { return clean }
        var parts = Sandbox.components(path)
        let name = parts.popLast() ?? "."
        return ("/" + parts.joined(separator: "/"), name)
    }

    // MARK: Operations on one name

    /// The status of `path` itself (a symlink is not followed).
    public static func lstat(_ path: String) -> Result<stat, SandboxError> {
        var info = stat()
        let result = inParent(path) { directory, name in
            fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno
        }
        return result == 0 ? .success(info) : .failure(SandboxError(Int64(-result)))
    }

    /// The status of `path` itself, and whether its parent directory opened: when it did, no
    /// component before the last is a symlink, each is a directory, and the status (or the
    /// error of fstatat) is the last component's. When it did not, the error is opening the
    /// parent's (ELOOP at a symlink on the way, ENOENT at a missing name, ENOTDIR ...).
    public static func lstatBelowRealDirectories(_ path: String) -> (parentOpened: Bool, Result<stat, SandboxError>) {
        var info = stat()
        var opened = true
        let result: Int32 = inParent(path) { directory, name in
            fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno
        } onFailure: { _ in
            opened = false
        }
        return (opened, result == 0 ? .success(info) : .failure(SandboxError(Int64(-result))))
    }

    /// The target of the symlink `path`.
    public static func readLink(_ path: String) -> Result<[UInt8], SandboxError> {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = inParent(path) { directory, name in
            buffer.withUnsafeMutableBytes { raw in
                let n = readlinkat(directory, name, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                return n >= 0 ? n : -Int(errno)
            }
        }
        guard count >= 0 else { return .failure(SandboxError(Int64(-count))) }
        return .success(Array(buffer[0..<count]))
    }

    /// statx(2) of `name` in `directory` into a 256-byte `struct statx`.
    public static func statx(
        _ directory: Int32, _ name: String, flags: Int32, mask: UInt32, into buffer: UnsafeMutableRawPointer
    ) -> Int {
        name.withCString { call(Number.statx, Int(directory), bits($0), Int(flags), Int(mask), bits(buffer)) }
    }

    /// renameat2(2).
    public static func rename(_ oldDirectory: Int32, _ oldName: String, _ newDirectory: Int32, _ newName: String, flags: UInt32)
        -> Int
    {
        oldName.withCString { old in
            newName.withCString { new in
                call(Number.renameat2, Int(oldDirectory), bits(old), Int(newDirectory), bits(new), Int(flags))
            }
        }
    }

    // MARK: Descriptor operations

    /// getdents64(2) into `buffer`.
    public static func getdents(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        call(Number.getdents64, Int(fd), bits(buffer.baseAddress), buffer.count)
    }

    /// fstatfs(2) into a 120-byte `struct statfs` (the same on every 64-bit Linux).
    public static func fstatfs(_ fd: Int32, into buffer: UnsafeMutableRawPointer) -> Int {
        call(Number.fstatfs, Int(fd), bits(buffer))
    }

    /// flock(2) (Swift sees only glibc's `struct flock` under that name).
    public static func flock(_ fd: Int32, _ operation: Int32) -> Int {
        call(Number.flock, Int(fd), Int(operation))
    }

    /// fallocate(2).
    public static func fallocate(_ fd: Int32, mode: Int32, offset: Int64, length: Int64) -> Int {
        call(Number.fallocate, Int(fd), Int(mode), Int(offset), Int(length))
    }

    /// pipe2(2) with O_CLOEXEC added.
    public static func pipe(flags: Int32) -> Result<(Int32, Int32), SandboxError> {
        var fds: (Int32, Int32) = (-1, -1)
        let result = withUnsafeMutablePointer(to: &fds) { call(Number.pipe2, bits($0), Int(flags | O_CLOEXEC)) }
        return result == 0 ? .success(fds) : .failure(SandboxError(Int64(-result)))
    }

    /// copy_file_range(2).
    public static func copyFileRange(
        _ input: Int32, _ inputOffset: UnsafeMutablePointer<Int64>?, _ output: Int32,
        _ outputOffset: UnsafeMutablePointer<Int64>?, length: Int, flags: UInt32
    ) -> Int {
        call(Number.copyFileRange, Int(input), bits(inputOffset), Int(output), bits(outputOffset), length, Int(flags))
    }

    /// Every entry of the directory open at `fd`, from its start (including `.` and `..`).
    public static func entries(_ fd: Int32) -> Result<[DirectoryListingEntry], SandboxError> {
        guard lseek(fd, 0, SEEK_SET) >= 0 else { return .failure(SandboxError(Int64(errno))) }
        var result: [DirectoryListingEntry] = []
        var buffer = [UInt8](repeating: 0, count: 32768)
        while true {
            let n = buffer.withUnsafeMutableBytes { getdents(fd, $0) }
            if n < 0 { return .failure(SandboxError(Int64(-n))) }
            if n == 0 { return .success(result) }
            var offset = 0
            while offset + 19 <= n {
                let inode = buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) }
                let length = Int(buffer.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset + 16, as: UInt16.self) })
                guard length >= 19, offset + length <= n else { break }
                let type = buffer[offset + 18]
                let nameBytes = buffer[(offset + 19)..<(offset + length)]
                let name = Array(nameBytes.prefix { $0 != 0 })
                result.append(DirectoryListingEntry(name: name, inode: inode, type: type))
                offset += length
            }
        }
    }
}
