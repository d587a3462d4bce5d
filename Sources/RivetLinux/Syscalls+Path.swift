#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Guest ABI values of the file syscalls (asm-generic; an x86-64 host uses the same numbers,
/// so flags pass to the host unchanged once checked).
enum FileABI {
    static let accessMode: Int32 = 0o3
    static let readOnly: Int32 = 0
    static let writeOnly: Int32 = 0o1
    static let readWrite: Int32 = 0o2
    static let create: Int32 = 0o100
    static let exclusive: Int32 = 0o200
    static let noControllingTerminal: Int32 = 0o400
    static let truncate: Int32 = 0o1000
    static let append: Int32 = 0o2000
    static let nonBlocking: Int32 = 0o4000
    static let dataSync: Int32 = 0o10000
    static let async: Int32 = 0o20000
    static let direct: Int32 = 0o40000
    static let largeFile: Int32 = 0o100000
    static let directory: Int32 = 0o200000
    static let noFollow: Int32 = 0o400000
    static let noAccessTime: Int32 = 0o1000000
    static let closeOnExec: Int32 = 0o2000000
    static let sync: Int32 = 0o4010000
    static let path: Int32 = 0o10000000
    /// O_TMPFILE (includes O_DIRECTORY).
    static let temporaryFile: Int32 = 0o20200000

    static let atFDCWD: Int32 = -100
    static let atSymlinkNoFollow: Int32 = 0x100
    static let atRemoveDirectory: Int32 = 0x200
    static let atEffectiveAccess: Int32 = 0x200
    static let atSymlinkFollow: Int32 = 0x400
    static let atNoAutomount: Int32 = 0x800
    static let atEmptyPath: Int32 = 0x1000
    static let atStatxSyncType: Int32 = 0x6000
}

let atFDCWD = FileABI.atFDCWD

/// What a path argument names: a resolved path, or with AT_EMPTY_PATH and an empty path,
/// the open file `dirfd` itself.
enum PathOperand {
    case path(Sandbox.Resolution)
    case descriptor(OpenFile)
}

extension LinuxProcess {
    // MARK: Path arguments

    /// Reads the NUL-terminated guest path at `address`: EFAULT, ENAMETOOLONG (4096 bytes or
    /// more), or EILSEQ for bytes that are not UTF-8 (the sandbox works on Swift strings).
    func readPath(_ address: UInt64) throws(SandboxError) -> String {
        let bytes: [UInt8]
        do { bytes = try memory.readCString(at: address, maxLength: 4096) } catch { throw .efault }
        guard bytes.count < 4096 else { throw SandboxError(Errno.ENAMETOOLONG) }
        // ASCII is valid UTF-8 as it is (the generic validation took half of this function's
        // time on ninja's 49,000 paths).
        if !bytes.contains(where: { $0 >= 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        guard let path = String(validating: bytes, as: UTF8.self) else { throw SandboxError(Errno.EILSEQ) }
        return path
    }

    /// The guest directory a relative path starts from: the working directory for AT_FDCWD,
    /// else the directory open at `dirfd` (EBADF, ENOTDIR).
    private func base(_ dirfd: Int32) throws(SandboxError) -> String? {
        guard dirfd != atFDCWD else { return nil }
        let directory = try file(dirfd)
        guard directory.isDirectory else { throw SandboxError(Errno.ENOTDIR) }
        return directory.guestPath
    }

    /// Resolves a path argument, relative to `dirfd` when it is relative.
    func resolvePath(_ dirfd: Int32, _ address: UInt64, followFinal: Bool) throws(SandboxError) -> Sandbox.Resolution {
        try resolve(readPath(address), dirfd, followFinal: followFinal)
    }

    /// Resolves `path`, relative to `dirfd` when it is relative.
    func resolve(_ path: String, _ dirfd: Int32, followFinal: Bool) throws(SandboxError) -> Sandbox.Resolution {
        let base = path.hasPrefix("/") ? nil : try base(dirfd)
        return try filesystem.resolve(
            path, relativeTo: base, followFinal: followFinal, magicLinks: { self.magicLinkText($0) }
        ).get()
    }

    /// A path argument that may be empty with AT_EMPTY_PATH (then it is `dirfd` itself).
    func operand(_ dirfd: Int32, _ address: UInt64, flags: Int32, followFinal: Bool) throws(SandboxError) -> PathOperand {
        let path = try readPath(address)
        if path.isEmpty && flags & FileABI.atEmptyPath != 0 {
            if dirfd == atFDCWD { return .path(try resolve(".", dirfd, followFinal: true)) }
            return .descriptor(try file(dirfd))
        }
        return .path(try resolve(path, dirfd, followFinal: followFinal))
    }

    /// The host path of an existing file about to be changed, and its grant: ENOENT if it does
    /// not exist, EROFS outside writable grants.
    func existingWritableHost(_ resolution: Sandbox.Resolution) throws(SandboxError) -> (path: String, grant: Int) {
        switch resolution.target {
        case .host(let path, let writable, let grant):
            _ = try HostFileSystem.lstat(path).get()
            guard writable else { throw .erofs }
            return (path, grant)
        case .virtualDirectory, .emulated:
            throw .erofs
        }
    }

    /// The host path where a new name is about to be made, and its grant: EEXIST if it exists,
    /// EROFS outside writable grants.
    private func newWritableHost(_ resolution: Sandbox.Resolution) throws(SandboxError) -> (path: String, grant: Int) {
        switch resolution.target {
        case .host(let path, let writable, let grant):
            switch HostFileSystem.lstat(path) {
            case .success: throw SandboxError(Errno.EEXIST)
            case .failure(let error) where error.errno != Errno.ENOENT: throw error
            case .failure: break
            }
            guard writable else { throw .erofs }
            return (path, grant)
        case .virtualDirectory, .emulated:
            throw SandboxError(Errno.EEXIST)
        }
    }

    /// A mode for a new or changed file: no set-user-ID bit ever, no set-group-ID bit on
    /// anything but a directory. A guest must not leave privileged programs behind on the host.
    private func safeMode(_ mode: UInt32, directory: Bool) -> mode_t {
        var mode = mode_t(mode & 0o7777) & ~mode_t(S_ISUID)
        if !directory { mode &= ~mode_t(S_ISGID) }
        return mode
    }

    /// The mode bits a new file gets: `mode` less the umask.
    func creationMode(_ mode: UInt32, directory: Bool) -> mode_t {
        safeMode(mode & ~umask, directory: directory)
    }

    // MARK: Making names

    func mkdirat(_ dirfd: Int32, _ address: UInt64, _ mode: UInt32) throws(SandboxError) -> Int64 {
        let resolution = try resolvePath(dirfd, address, followFinal: false)
        let (path, _) = try newWritableHost(resolution)
        let mode = creationMode(mode & 0o1777, directory: true)
        return Int64(try hostCheck(HostFileSystem.inParent(path) { Glibc.mkdirat($0, $1, mode) == 0 ? 0 : -errno }))
    }

    /// mknodat: regular files, FIFOs and sockets; never device nodes (EPERM), which would
    /// open the host's devices to the guest.
    func mknodat(_ dirfd: Int32, _ address: UInt64, _ mode: UInt32) throws(SandboxError) -> Int64 {
        let type = mode_t(mode) & S_IFMT
        switch type {
        case 0, S_IFREG, S_IFIFO, S_IFSOCK: break
        case S_IFCHR, S_IFBLK, S_IFDIR: throw SandboxError(Errno.EPERM)
        default: throw .einval
        }
        let resolution = try resolvePath(dirfd, address, followFinal: false)
        let (path, _) = try newWritableHost(resolution)
        let full = (type == 0 ? S_IFREG : type) | creationMode(mode, directory: false)
        return Int64(try hostCheck(HostFileSystem.inParent(path) { Glibc.mknodat($0, $1, full, 0) == 0 ? 0 : -errno }))
    }

    func symlinkat(_ targetAddress: UInt64, _ dirfd: Int32, _ address: UInt64) throws(SandboxError) -> Int64 {
        // The target is stored as given: the sandbox reads it back as a guest path.
        let target = try readPath(targetAddress)
        guard !target.isEmpty else { throw .enoent }
        let resolution = try resolvePath(dirfd, address, followFinal: false)
        let (path, _) = try newWritableHost(resolution)
        return Int64(try hostCheck(HostFileSystem.inParent(path) { Glibc.symlinkat(target, $0, $1) == 0 ? 0 : -errno }))
    }

    /// linkat: both names in the same grant (EXDEV otherwise, as across mounts), so a file
    /// from a read-only grant never becomes writable through a writable one.
    func linkat(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let flags = args.int(4)
        guard flags & ~(FileABI.atSymlinkFollow | FileABI.atEmptyPath) == 0 else { throw .einval }
        let old = try operand(args.int(0), args[1], flags: flags, followFinal: flags & FileABI.atSymlinkFollow != 0)
        let new = try resolvePath(args.int(2), args[3], followFinal: false)
        var source: OpenFile? = nil
        var oldPath: String? = nil
        var oldGrant: Int
        switch old {
        case .descriptor(let file):
            source = file
            oldGrant = file.grant ?? -1
        case .path(let resolution):
            switch resolution.target {
            case .emulated(.descriptorLink(let fd)):
                guard let file = files[fd] else { throw .enoent }
                source = file
                oldGrant = file.grant ?? -1
            case .host(let path, _, let grant):
                _ = try HostFileSystem.lstat(path).get()
                oldPath = path
                oldGrant = grant
            case .virtualDirectory:
                throw SandboxError(Errno.EPERM)
            case .emulated:
                throw SandboxError(Errno.EXDEV)
            }
        }
        let (newPath, newGrant) = try newWritableHost(new)
        guard oldGrant == newGrant else { throw SandboxError(Errno.EXDEV) }
        if let oldPath {
            return Int64(
                try hostCheck(
                    HostFileSystem.inParent(oldPath) { oldDirectory, oldName in
                        HostFileSystem.inParent(newPath) { newDirectory, newName in
                            Glibc.linkat(oldDirectory, oldName, newDirectory, newName, 0) == 0 ? 0 : -errno
                        }
                    }))
        }
        guard let host = source?.hostDescriptor, source?.isDirectory == false else { throw SandboxError(Errno.EPERM) }
        // Linking an open file by its descriptor: through /proc/self/fd, which needs no privilege.
        return Int64(
            try hostCheck(
                HostFileSystem.inParent(newPath) { directory, name in
                    Glibc.linkat(AT_FDCWD, "/proc/self/fd/\(host)", directory, name, AT_SYMLINK_FOLLOW) == 0 ? 0 : -errno
                }))
    }

    // MARK: Removing and renaming

    func unlinkat(_ dirfd: Int32, _ address: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~FileABI.atRemoveDirectory == 0 else { throw .einval }
        let resolution = try resolvePath(dirfd, address, followFinal: false)
        let removesDirectory = flags & FileABI.atRemoveDirectory != 0
        if filesystem.isMountPoint(resolution.guestPath) {
            throw SandboxError(removesDirectory ? Errno.EBUSY : Errno.EISDIR)
        }
        let (path, _) = try existingWritableHost(resolution)
        if filesystem.holdsGrantRoot(path) { throw SandboxError(Errno.EBUSY) }
        let hostFlags = removesDirectory ? AT_REMOVEDIR : 0
        return Int64(try hostCheck(HostFileSystem.inParent(path) { Glibc.unlinkat($0, $1, hostFlags) == 0 ? 0 : -errno }))
    }

    /// renameat2 with flags 0, RENAME_NOREPLACE or RENAME_EXCHANGE, within one grant (EXDEV
    /// otherwise). Mount points and the host directories behind grants stay put (EBUSY).
    func renameat(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let flags = UInt32(truncatingIfNeeded: args[4])
        let noReplace: UInt32 = 1
        let exchange: UInt32 = 2
        guard flags & ~(noReplace | exchange) == 0, flags != noReplace | exchange else { throw .einval }
        let old = try resolvePath(args.int(0), args[1], followFinal: false)
        if filesystem.isMountPoint(old.guestPath) { throw SandboxError(Errno.EBUSY) }
        let new = try resolvePath(args.int(2), args[3], followFinal: false)
        guard case .host(let oldPath, let oldWritable, let oldGrant) = old.target else {
            if case .virtualDirectory = old.target { throw SandboxError(Errno.EBUSY) }
            throw .erofs
        }
        let oldInfo = try HostFileSystem.lstat(oldPath).get()
        guard case .host(let newPath, let newWritable, let newGrant) = new.target else {
            if case .virtualDirectory = new.target { throw SandboxError(Errno.EBUSY) }
            throw .erofs
        }
        for (resolution, path) in [(old, oldPath), (new, newPath)] {
            if filesystem.isMountPoint(resolution.guestPath) || filesystem.holdsGrantRoot(path) {
                throw SandboxError(Errno.EBUSY)
            }
        }
        guard oldGrant == newGrant else { throw SandboxError(Errno.EXDEV) }
        guard oldWritable && newWritable else { throw .erofs }
        if (old.requiresDirectory || new.requiresDirectory) && oldInfo.st_mode & S_IFMT != S_IFDIR {
            throw SandboxError(Errno.ENOTDIR)
        }
        let result = HostFileSystem.inParent(oldPath) { oldDirectory, oldName in
            HostFileSystem.inParent(newPath) { newDirectory, newName in
                if flags == 0 { return Glibc.renameat(oldDirectory, oldName, newDirectory, newName) == 0 ? 0 : -Int(errno) }
                return HostFileSystem.rename(oldDirectory, oldName, newDirectory, newName, flags: flags)
            }
        }
        return Int64(try hostCheck(result))
    }

    // MARK: Attributes

    /// Whether the guest may change an open file's attributes: only files it opened in a
    /// writable grant (not the host's standard streams, devices, pipes or the executable).
    private func changeableHost(_ file: OpenFile) throws(SandboxError) -> Int32 {
        guard let host = file.hostDescriptor else { throw .erofs }
        guard file.grant != nil else { throw SandboxError(Errno.EPERM) }
        guard file.writable else { throw .erofs }
        return host
    }

    /// What an attribute change applies to: a host path in a writable grant, or an open file.
    private enum AttributeTarget {
        case path(String, isDirectory: Bool)
        case descriptor(Int32, isDirectory: Bool)
    }

    private func attributeTarget(_ operand: PathOperand) throws(SandboxError) -> AttributeTarget {
        switch operand {
        case .descriptor(let file):
            return .descriptor(try changeableHost(file), isDirectory: file.isDirectory)
        case .path(let resolution):
            if case .emulated(.descriptorLink(let fd)) = resolution.target {
                guard let file = files[fd] else { throw .enoent }
                return .descriptor(try changeableHost(file), isDirectory: file.isDirectory)
            }
            let (path, _) = try existingWritableHost(resolution)
            let info = try HostFileSystem.lstat(path).get()
            return .path(path, isDirectory: info.st_mode & S_IFMT == S_IFDIR)
        }
    }

    func fchmod(_ fd: Int32, _ mode: UInt32) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        let host = try changeableHost(file)
        return Int64(try hostResult(Glibc.fchmod(host, safeMode(mode, directory: file.isDirectory))))
    }

    func fchmodat(_ dirfd: Int32, _ address: UInt64, _ mode: UInt32, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~(FileABI.atSymlinkNoFollow | FileABI.atEmptyPath) == 0 else { throw .einval }
        let target = try attributeTarget(
            operand(dirfd, address, flags: flags, followFinal: flags & FileABI.atSymlinkNoFollow == 0))
        switch target {
        case .descriptor(let host, let isDirectory):
            return Int64(try hostResult(Glibc.fchmod(host, safeMode(mode, directory: isDirectory))))
        case .path(let path, let isDirectory):
            // glibc changes the mode through an O_PATH descriptor, so a symlink is never followed
            // (EOPNOTSUPP for the link itself, as Linux).
            let mode = safeMode(mode, directory: isDirectory)
            return Int64(
                try hostCheck(
                    HostFileSystem.inParent(path) { Glibc.fchmodat($0, $1, mode, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno }))
        }
    }

    func fchown(_ fd: Int32, _ user: UInt64, _ group: UInt64) throws(SandboxError) -> Int64 {
        let host = try changeableHost(try ioFile(fd))
        return Int64(try hostResult(Glibc.fchown(host, uid_t(truncatingIfNeeded: user), gid_t(truncatingIfNeeded: group))))
    }

    func fchownat(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let flags = args.int(4)
        guard flags & ~(FileABI.atSymlinkNoFollow | FileABI.atEmptyPath) == 0 else { throw .einval }
        let user = uid_t(truncatingIfNeeded: args[2])
        let group = gid_t(truncatingIfNeeded: args[3])
        let target = try attributeTarget(
            operand(args.int(0), args[1], flags: flags, followFinal: flags & FileABI.atSymlinkNoFollow == 0))
        switch target {
        case .descriptor(let host, _):
            return Int64(try hostResult(Glibc.fchown(host, user, group)))
        case .path(let path, _):
            return Int64(
                try hostCheck(
                    HostFileSystem.inParent(path) { Glibc.fchownat($0, $1, user, group, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno }))
        }
    }

    /// utimensat; a null path means `dirfd` itself (futimens).
    func utimensat(_ dirfd: Int32, _ address: UInt64, _ timesAddress: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~(FileABI.atSymlinkNoFollow | FileABI.atEmptyPath) == 0 else { throw .einval }
        var times: [timespec]? = nil
        if timesAddress != 0 {
            do {
                var pair: [timespec] = []
                for k in 0..<2 {
                    let seconds = try memory.load(Int64.self, at: timesAddress &+ 16 &* UInt64(k))
                    let nanoseconds = try memory.load(Int64.self, at: timesAddress &+ 16 &* UInt64(k) &+ 8)
                    pair.append(timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds)))
                }
                times = pair
            } catch { throw .efault }
        }
        let target: AttributeTarget
        if address == 0 {
            guard dirfd != atFDCWD else { throw .efault }
            target = try attributeTarget(.descriptor(try file(dirfd)))
        } else {
            target = try attributeTarget(
                operand(dirfd, address, flags: flags, followFinal: flags & FileABI.atSymlinkNoFollow == 0))
        }
        switch target {
        case .descriptor(let host, _):
            return Int64(try hostResult(Glibc.futimens(host, times)))
        case .path(let path, _):
            return Int64(
                try hostCheck(
                    HostFileSystem.inParent(path) { Glibc.utimensat($0, $1, times, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno }))
        }
    }
}
