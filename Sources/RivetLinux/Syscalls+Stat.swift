#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// File status: fstat, newfstatat, statx, faccessat, readlinkat, statfs.
extension LinuxProcess {
    func fstat(_ fd: Int32, _ address: UInt64) throws(SandboxError) -> Int64 {
        try storeStat(status(of: try file(fd)), at: address)
        return 0
    }

    func fstatat(_ dirfd: Int32, _ address: UInt64, _ buffer: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        let known = FileABI.atSymlinkNoFollow | FileABI.atEmptyPath | FileABI.atNoAutomount
        guard flags & ~known == 0 else { throw .einval }
        let follows = flags & FileABI.atSymlinkNoFollow == 0
        switch try operand(dirfd, address, flags: flags, followFinal: follows) {
        case .descriptor(let file): try storeStat(status(of: file), at: buffer)
        case .path(let resolution): try storeStat(status(of: resolution, followed: follows), at: buffer)
        }
        return 0
    }

    /// The status of an open file.
    func status(of file: OpenFile) throws(SandboxError) -> stat {
        switch file.backing {
        case .host(let host, _):
            var info = stat()
            _ = try hostResult(Glibc.fstat(host, &info))
            // A memory file is a memfd, which has no name on the host; the guest sees one.
            if info.st_nlink == 0, filesystem.memoryFile(at: file.guestPath) != nil { info.st_nlink = 1 }
            return info
        case .memory:
            return syntheticStatus(S_IFREG | 0o444, guestPath: file.guestPath)
        case .virtualDirectory:
            return syntheticStatus(S_IFDIR | 0o555, guestPath: file.guestPath)
        }
    }

    /// The status of what a path names; `followed` says whether a magic link in its last
    /// component stands for what it names or for itself.
    func status(of resolution: Sandbox.Resolution, followed: Bool) throws(SandboxError) -> stat {
        var info = stat()
        switch resolution.target {
        case .host(let path, _, _):
            if let status = resolution.status { return try status.get() }
            return try HostFileSystem.lstat(path).get()
        case .virtualDirectory:
            return syntheticStatus(S_IFDIR | 0o555, guestPath: resolution.guestPath)
        case .emulated(let file):
            if file.isLink && !followed {
                guard let text = magicLinkText(file) else { throw .enoent }
                let permissions: mode_t = if case .descriptorLink = file { 0o700 } else { 0o777 }
                var link = syntheticStatus(S_IFLNK | permissions, guestPath: resolution.guestPath)
                link.st_size = off_t(text.utf8.count)
                return link
            }
            switch file {
            case .executableLink:
                _ = try hostResult(Glibc.fstatat(AT_FDCWD, Sandbox.canonical(configuration.executablePath), &info, 0))
                return info
            case .descriptorLink(let fd):
                guard let target = files[fd] else { throw .enoent }
                return try status(of: target)
            case .device(let path):
                _ = try hostResult(Glibc.fstatat(AT_FDCWD, path, &info, 0))
                return info
            case .terminal:
                var terminal = syntheticStatus(S_IFCHR | 0o666, guestPath: resolution.guestPath)
                terminal.st_rdev = dev_t(5 << 8)  // 5:0
                return terminal
            case .generated:
                return syntheticStatus(S_IFREG | 0o444, guestPath: resolution.guestPath)
            case .descriptorDirectory:
                return syntheticStatus(S_IFDIR | 0o500, guestPath: resolution.guestPath)
            case .memoryFile(let file):
                _ = try hostResult(Glibc.fstat(file.descriptor, &info))
                info.st_nlink = 1
                return info
            case .link:
                throw .enoent  // followed by the sandbox; not reached
            }
        }
    }

    /// A made-up status, with an inode number derived from the guest path (stable, so `find`
    /// and `ls` see the same file twice) and the guest's identity as owner.
    func syntheticStatus(_ mode: mode_t, guestPath: String) -> stat {
        var info = stat()
        info.st_mode = mode
        info.st_nlink = mode & S_IFMT == S_IFDIR ? 2 : 1
        info.st_ino = ino_t(syntheticInode(guestPath))
        info.st_uid = geteuid()
        info.st_gid = getegid()
        info.st_blksize = 4096
        return info
    }

    /// FNV-1a of the guest path: an inode number for made-up files and directory entries.
    func syntheticInode(_ guestPath: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in guestPath.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash & 0x7fff_ffff_ffff_ffff | 1
    }

    /// Writes a host `stat` as the guest's `struct stat` (asm-generic layout, 128 bytes).
    func storeStat(_ s: stat, at address: UInt64) throws(SandboxError) {
        var out = [UInt8](repeating: 0, count: 128)
        func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { out.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
        }
        put(UInt64(s.st_dev), 0)
        put(UInt64(s.st_ino), 8)
        put(UInt32(s.st_mode), 16)
        put(UInt32(truncatingIfNeeded: s.st_nlink), 20)
        put(UInt32(s.st_uid), 24)
        put(UInt32(s.st_gid), 28)
        put(UInt64(s.st_rdev), 32)
        put(Int64(s.st_size), 48)
        put(Int32(truncatingIfNeeded: s.st_blksize), 56)
        put(Int64(s.st_blocks), 64)
        put(Int64(s.st_atim.tv_sec), 72)
        put(Int64(s.st_atim.tv_nsec), 80)
        put(Int64(s.st_mtim.tv_sec), 88)
        put(Int64(s.st_mtim.tv_nsec), 96)
        put(Int64(s.st_ctim.tv_sec), 104)
        put(Int64(s.st_ctim.tv_nsec), 112)
        do { try memory.write(out, at: address) } catch { throw .efault }
    }

    // MARK: statx

    /// statx: host files get the host's answer (the struct is the same on every Linux);
    /// made-up ones a conversion of their `stat`.
    func statx(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let flags = args.int(2)
        let mask = UInt32(truncatingIfNeeded: args[3])
        let known = FileABI.atSymlinkNoFollow | FileABI.atEmptyPath | FileABI.atNoAutomount | FileABI.atStatxSyncType
        guard flags & ~known == 0, flags & FileABI.atStatxSyncType != FileABI.atStatxSyncType, mask & 0x8000_0000 == 0
        else { throw .einval }
        let follows = flags & FileABI.atSymlinkNoFollow == 0
        let passed = flags & (FileABI.atNoAutomount | FileABI.atStatxSyncType)
        var buffer = [UInt8](repeating: 0, count: 256)
        func host(_ fd: Int32) throws(SandboxError) {
            let n = buffer.withUnsafeMutableBytes {
                HostFileSystem.statx(fd, "", flags: passed | FileABI.atEmptyPath, mask: mask, into: $0.baseAddress!)
            }
            _ = try hostCheck(n)
        }
        var file: OpenFile? = nil
        switch try operand(args.int(0), args[1], flags: flags, followFinal: follows) {
        case .descriptor(let open):
            file = open
        case .path(let resolution):
            switch resolution.target {
            case .host(let path, _, _):
                let n = HostFileSystem.inParent(path) { directory, name in
                    buffer.withUnsafeMutableBytes {
                        HostFileSystem.statx(
                            directory, name, flags: passed | FileABI.atSymlinkNoFollow, mask: mask, into: $0.baseAddress!)
                    }
                }
                _ = try hostCheck(n)
            case .emulated(.descriptorLink(let fd)) where follows:
                guard let open = files[fd] else { throw .enoent }
                file = open
            default:
                buffer = Self.statx(from: try status(of: resolution, followed: follows))
            }
        }
        if let file {
            if let fd = file.hostDescriptor {
                try host(fd)
                // stx_nlink of a memory file (a memfd, nameless on the host), as fstat says it.
                if buffer[16..<20].allSatisfy({ $0 == 0 }), filesystem.memoryFile(at: file.guestPath) != nil { buffer[16] = 1 }
            } else {
                buffer = Self.statx(from: try status(of: file))
            }
        }
        do { try memory.write(buffer, at: args[4]) } catch { throw .efault }
        return 0
    }

    /// A `struct statx` (256 bytes) holding the basic fields of `s`.
    static func statx(from s: stat) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 256)
        func put<T: FixedWidthInteger>(_ value: T, _ offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { out.replaceSubrange(offset..<offset + MemoryLayout<T>.size, with: $0) }
        }
        func major(_ device: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: (device >> 8) & 0xfff | (device >> 32) & ~0xfff) }
        func minor(_ device: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: device & 0xff | (device >> 12) & ~0xff) }
        put(UInt32(0x7ff), 0)  // STATX_BASIC_STATS
        put(UInt32(truncatingIfNeeded: s.st_blksize), 4)
        put(UInt32(truncatingIfNeeded: s.st_nlink), 16)
        put(UInt32(s.st_uid), 20)
        put(UInt32(s.st_gid), 24)
        put(UInt16(truncatingIfNeeded: s.st_mode), 28)
        put(UInt64(s.st_ino), 32)
        put(UInt64(bitPattern: Int64(s.st_size)), 40)
        put(UInt64(bitPattern: Int64(s.st_blocks)), 48)
        for (time, offset) in [(s.st_atim, 64), (s.st_ctim, 96), (s.st_mtim, 112)] {
            put(Int64(time.tv_sec), offset)
            put(UInt32(truncatingIfNeeded: time.tv_nsec), offset + 8)
        }
        put(major(UInt64(s.st_rdev)), 128)
        put(minor(UInt64(s.st_rdev)), 132)
        put(major(UInt64(s.st_dev)), 136)
        put(minor(UInt64(s.st_dev)), 140)
        return out
    }

    // MARK: Access

    /// faccessat and faccessat2. Asking for W_OK in a read-only grant fails with EROFS, as on
    /// a read-only mount.
    func access(_ dirfd: Int32, _ address: UInt64, _ mode: Int32, flags: Int32) throws(SandboxError) -> Int64 {
        guard mode & ~7 == 0 else { throw .einval }
        let known = FileABI.atEffectiveAccess | FileABI.atSymlinkNoFollow | FileABI.atEmptyPath
        guard flags & ~known == 0 else { throw .einval }
        let follows = flags & FileABI.atSymlinkNoFollow == 0
        let wantsWrite = mode & W_OK != 0
        let wantsExecute = mode & X_OK != 0
        let resolution: Sandbox.Resolution
        switch try operand(dirfd, address, flags: flags, followFinal: follows) {
        case .descriptor(let file):
            if wantsWrite && !file.writable { throw .erofs }
            return 0
        case .path(let path):
            resolution = path
        }
        switch resolution.target {
        case .host(let path, let writable, _):
            let info = try HostFileSystem.lstat(path).get()
            let type = info.st_mode & S_IFMT
            if wantsWrite && !writable && (type == S_IFREG || type == S_IFDIR || type == S_IFLNK) { throw .erofs }
            let hostFlags = AT_SYMLINK_NOFOLLOW | (flags & FileABI.atEffectiveAccess)
            return Int64(
                try hostCheck(HostFileSystem.inParent(path) { faccessat($0, $1, mode, hostFlags) == 0 ? 0 : -errno }))
        case .virtualDirectory:
            if wantsWrite { throw .erofs }
            return 0
        case .emulated(let file):
            if file.isLink && !follows { return 0 }
            switch file {
            case .generated:
                if wantsWrite || wantsExecute { throw SandboxError(Errno.EACCES) }
            case .device, .terminal:
                if wantsExecute { throw SandboxError(Errno.EACCES) }
            case .executableLink:
                if wantsWrite { throw SandboxError(Errno.ETXTBSY) }
            case .descriptorLink(let fd):
                guard let target = files[fd] else { throw .enoent }
                if wantsWrite && !target.writable { throw SandboxError(Errno.EACCES) }
            case .descriptorDirectory:
                if wantsWrite { throw SandboxError(Errno.EACCES) }
            case .memoryFile(let file):
                if wantsWrite && !file.writable { throw .erofs }
                if wantsExecute { throw SandboxError(Errno.EACCES) }
            case .link:
                break
            }
            return 0
        }
    }

    // MARK: Links

    func readlinkat(_ dirfd: Int32, _ address: UInt64, _ buffer: UInt64, _ size: UInt64) throws(SandboxError) -> Int64 {
        guard Int64(bitPattern: size) > 0 else { throw .einval }
        let path = try readPath(address)
        var text: [UInt8]
        if path.isEmpty {
            // readlinkat(fd, ""): the symlink an O_PATH | O_NOFOLLOW descriptor refers to.
            let file = try file(dirfd)
            guard let host = file.hostDescriptor else { throw .enoent }
            var bytes = [UInt8](repeating: 0, count: 4096)
            let n = bytes.withUnsafeMutableBytes {
                Glibc.readlinkat(host, "", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count)
            }
            text = Array(bytes[0..<(try hostResult(n))])
        } else {
            let resolution = try resolve(path, dirfd, followFinal: false)
            switch resolution.target {
            case .host(let hostPath, _, _):
                text = try HostFileSystem.readLink(hostPath).get()
            case .virtualDirectory:
                throw .einval
            case .emulated(let file):
                guard file.isLink else { throw .einval }
                guard let target = magicLinkText(file) else { throw .enoent }
                text = Array(target.utf8)
            }
        }
        let count = min(text.count, Int(min(size, 4096)))
        do { try memory.write(text[0..<count], at: buffer) } catch { throw .efault }
        return Int64(count)
    }

    // MARK: Filesystem status

    func statfs(path address: UInt64, _ buffer: UInt64) throws(SandboxError) -> Int64 {
        let resolution = try resolvePath(atFDCWD, address, followFinal: true)
        switch resolution.target {
        case .host(let path, let writable, _):
            let fd = try hostCheck(HostFileSystem.open(path, HostFileSystem.pathOnly))
            defer { Glibc.close(fd) }
            return try storeFilesystemStatus(host: fd, readOnly: !writable, at: buffer)
        case .virtualDirectory, .emulated:
            return try storeFilesystemStatus(host: nil, readOnly: true, at: buffer)
        }
    }

    func statfs(_ fd: Int32, _ buffer: UInt64) throws(SandboxError) -> Int64 {
        let file = try file(fd)
        return try storeFilesystemStatus(host: file.hostDescriptor, readOnly: !file.writable, at: buffer)
    }

    /// Writes a `struct statfs` (120 bytes on every 64-bit Linux): the host's for host files,
    /// marked read-only (ST_RDONLY) for read-only grants; a small proc-like one otherwise.
    private func storeFilesystemStatus(host: Int32?, readOnly: Bool, at address: UInt64) throws(SandboxError) -> Int64 {
        var out = [UInt8](repeating: 0, count: 120)
        if let host {
            _ = try hostCheck(out.withUnsafeMutableBytes { HostFileSystem.fstatfs(host, into: $0.baseAddress!) })
        } else {
            out.withUnsafeMutableBytes {
                $0.storeBytes(of: UInt64(0x9fa0).littleEndian, toByteOffset: 0, as: UInt64.self)  // PROC_SUPER_MAGIC
                $0.storeBytes(of: UInt64(4096).littleEndian, toByteOffset: 8, as: UInt64.self)  // f_bsize
                $0.storeBytes(of: UInt64(255).littleEndian, toByteOffset: 64, as: UInt64.self)  // f_namelen
                $0.storeBytes(of: UInt64(4096).littleEndian, toByteOffset: 72, as: UInt64.self)  // f_frsize
            }
        }
        if readOnly {
            out.withUnsafeMutableBytes { raw in
                // f_flags |= ST_RDONLY
                let flags = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 80, as: UInt64.self)) | 1
                raw.storeBytes(of: flags.littleEndian, toByteOffset: 80, as: UInt64.self)
            }
        }
        do { try memory.write(out, at: address) } catch { throw .efault }
        return 0
    }
}
