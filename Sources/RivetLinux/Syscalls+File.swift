#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// The file syscalls: this file routes them and holds the data transfers (read, write, seek,
/// sendfile ...). Descriptors are in `Syscalls+Descriptor.swift`, open in `Syscalls+Open.swift`,
/// stat and access in `Syscalls+Stat.swift`, directories in `Syscalls+Directory.swift`, and
/// changes to names and attributes in `Syscalls+Path.swift`. Every path goes through the
/// `Sandbox`, every host call on a path through `HostFileSystem`.
extension LinuxProcess {
    func fileSyscall(_ number: Int, _ args: SyscallArguments) -> SyscallResult? {
        switch number {
        // Data
        case 63: return perform { try read(args.int(0), args[1], args[2], at: nil) }
        case 64: return perform { try write(args.int(0), args[1], args[2], at: nil) }
        case 65: return perform { try vectored(args.int(0), args[1], args[2], write: false, at: nil) }
        case 66: return perform { try vectored(args.int(0), args[1], args[2], write: true, at: nil) }
        case 67: return perform { try read(args.int(0), args[1], args[2], at: try offset(args[3])) }
        case 68: return perform { try write(args.int(0), args[1], args[2], at: try offset(args[3])) }
        case 69: return perform { try vectored(args.int(0), args[1], args[2], write: false, at: try offset(args[3])) }
        case 70: return perform { try vectored(args.int(0), args[1], args[2], write: true, at: try offset(args[3])) }
        case 286, 287:  // preadv2, pwritev2: an offset of -1 means the file position.
            guard args[5] == 0 else { return .value(-Errno.EOPNOTSUPP) }
            let position = Int64(bitPattern: args[3]) == -1 ? nil : args[3]
            return perform {
                try vectored(args.int(0), args[1], args[2], write: number == 287, at: try position.map(offset))
            }
        case 62: return perform { try seek(args.int(0), Int64(bitPattern: args[1]), Int32(truncatingIfNeeded: args[2])) }
        case 71: return perform { try sendfile(args.int(0), args.int(1), args[2], args[3]) }
        case 285: return perform { try copyFileRange(args) }
        // A file can shrink under a mapping: pages past its new end fault with SIGBUS at once.
        case 46: return changingFileSizes { perform { try truncate(args.int(0), Int64(bitPattern: args[1])) } }
        case 45: return changingFileSizes { perform { try truncate(path: args[0], Int64(bitPattern: args[1])) } }
        case 47: return changingFileSizes { perform { try fallocate(args) } }
        case 82, 83: return perform { try sync(args.int(0)) }  // fsync, fdatasync
        case 81: return .value(0)  // sync: the guest's writes are the host's; nothing to force.
        case 267, 223, 213:  // syncfs, fadvise64, readahead: advice only.
            return perform { _ = try file(args.int(0)); return 0 }
        // Descriptors
        case 57: return .value(files.remove(args.int(0)) ? 0 : -Errno.EBADF)  // close
        case 436:
            return perform {
                try closeRange(UInt32(truncatingIfNeeded: args[0]), UInt32(truncatingIfNeeded: args[1]), args[2])
            }
        case 23: return perform { try duplicate(args.int(0)) }
        case 24: return perform { try duplicate(args.int(0), to: args.int(1), flags: args.int(2)) }
        case 25: return perform { try fcntl(args.int(0), args.int(1), args[2]) }
        case 59: return perform { try pipe(args[0], flags: args.int(1)) }
        case 279: return perform { try memfdCreate(args[0], flags: UInt32(truncatingIfNeeded: args[1])) }
        case 29: return perform { try ioctl(args.int(0), args[1], args[2]) }
        case 32: return perform { try flock(args.int(0), args.int(1)) }
        // Opening, status, access
        case 56:
            let open = { self.perform { try self.openat(args.int(0), args[1], args.int(2), UInt32(truncatingIfNeeded: args[3])) } }
            return args.int(2) & FileABI.truncate != 0 ? changingFileSizes(open) : open()
        case 80: return perform { try fstat(args.int(0), args[1]) }
        case 79: return perform { try fstatat(args.int(0), args[1], args[2], flags: args.int(3)) }
        case 291: return perform { try statx(args) }
        case 48: return perform { try access(args.int(0), args[1], args.int(2), flags: 0) }
        case 439: return perform { try access(args.int(0), args[1], args.int(2), flags: args.int(3)) }
        case 78: return perform { try readlinkat(args.int(0), args[1], args[2], args[3]) }
        case 43: return perform { try statfs(path: args[0], args[1]) }
        case 44: return perform { try statfs(args.int(0), args[1]) }
        // Directories
        case 61: return perform { try getdents(args.int(0), args[1], args[2]) }
        case 17: return perform { try getcwd(args[0], args[1]) }
        case 49: return perform { try chdir(args[0]) }
        case 50: return perform { try fchdir(args.int(0)) }
        case 51: return .value(-Errno.EPERM)  // chroot
        // Names and attributes
        case 34: return perform { try mkdirat(args.int(0), args[1], UInt32(truncatingIfNeeded: args[2])) }
        case 33: return perform { try mknodat(args.int(0), args[1], UInt32(truncatingIfNeeded: args[2])) }
        case 35: return perform { try unlinkat(args.int(0), args[1], flags: args.int(2)) }
        case 276: return perform { try renameat(args) }
        case 36: return perform { try symlinkat(args[0], args.int(1), args[2]) }
        case 37: return perform { try linkat(args) }
        case 52: return perform { try fchmod(args.int(0), UInt32(truncatingIfNeeded: args[1])) }
        case 53: return perform { try fchmodat(args.int(0), args[1], UInt32(truncatingIfNeeded: args[2]), flags: 0) }
        case 452: return perform { try fchmodat(args.int(0), args[1], UInt32(truncatingIfNeeded: args[2]), flags: args.int(3)) }
        case 55: return perform { try fchown(args.int(0), args[1], args[2]) }
        case 54: return perform { try fchownat(args) }
        case 88: return perform { try utimensat(args.int(0), args[1], args[2], flags: args.int(3)) }
        default: return nil
        }
    }

    /// Runs a syscall body that returns its result or throws an errno.
    func perform(_ body: () throws -> Int64) -> SyscallResult {
        do { return .value(try body()) } catch let error as SandboxError { return .value(-error.errno) } catch {
            return .value(-Errno.EINVAL)  // not reached: the bodies throw only SandboxError
        }
    }

    /// The open file `fd`, or EBADF.
    func file(_ fd: Int32) throws(SandboxError) -> OpenFile {
        guard let file = files[fd] else { throw .ebadf }
        return file
    }

    /// The open file `fd` when it allows I/O (not O_PATH), or EBADF.
    func ioFile(_ fd: Int32) throws(SandboxError) -> OpenFile {
        let file = try file(fd)
        guard !file.isPathOnly else { throw .ebadf }
        return file
    }

    /// A file offset argument: EINVAL if negative.
    private func offset(_ value: UInt64) throws(SandboxError) -> Int64 {
        let offset = Int64(bitPattern: value)
        guard offset >= 0 else { throw .einval }
        return offset
    }

    /// Guest memory for a transfer of `count` bytes (capped as Linux caps one transfer).
    func guestBuffer(_ address: UInt64, _ count: UInt64, access: AccessKind) throws(SandboxError)
        -> UnsafeMutableRawBufferPointer
    {
        do {
            return try memory.hostBuffer(at: address, size: Int(min(count, 0x7fff_f000)), access: access)
        } catch { throw .efault }
    }

    // MARK: Read and write

    /// Runs a host transfer on `file`: without the lock (`blocking`) if it may wait.
    private func mayBlock(_ file: OpenFile, _ body: () -> Int) -> Int {
        file.mayBlock ? blocking(body) : body()
    }

    private func read(_ fd: Int32, _ address: UInt64, _ count: UInt64, at offset: Int64?) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        let destination = try guestBuffer(address, count, access: .write)
        switch file.backing {
        case .host(let host, _):
            let n = mayBlock(file) { HostIO.read(host, into: destination, at: offset) }
            return Int64(try hostCheck(n))
        case .memory(let bytes):
            // Linux refuses a transfer whose end would pass the largest offset.
            if let offset { _ = try Self.add(offset, Int64(destination.count)) }
            let start = offset.map { Int(clamping: $0) } ?? file.position
            let n = max(0, min(destination.count, bytes.count - start))
            if n > 0 {
                bytes.withUnsafeBytes { destination.baseAddress!.copyMemory(from: $0.baseAddress! + start, byteCount: n) }
            }
            if offset == nil { file.position += n }
            return Int64(n)
        case .virtualDirectory:
            throw SandboxError(Errno.EISDIR)
        }
    }

    private func write(_ fd: Int32, _ address: UInt64, _ count: UInt64, at offset: Int64?) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        let source = try guestBuffer(address, count, access: .read)
        guard case .host(let host, _) = file.backing else { throw .ebadf }
        let n = mayBlock(file) { HostIO.write(host, from: UnsafeRawBufferPointer(source), at: offset) }
        return Int64(try hostCheck(n))
    }

    /// readv, writev, preadv, pwritev. Host files get one host call, so a pipe sees one write.
    private func vectored(_ fd: Int32, _ vector: UInt64, _ count: UInt64, write: Bool, at offset: Int64?)
        throws(SandboxError) -> Int64
    {
        let file = try ioFile(fd)
        guard count <= 1024 else { throw .einval }
        let ranges = try ioVector(vector, count: count)
        let total = ranges.reduce(0) { $0 + $1.length }
        guard case .host(let host, _) = file.backing else {
            if let offset { _ = try Self.add(offset, Int64(total)) }
            var done: Int64 = 0
            for range in ranges {
                let position = try offset.map { offset throws(SandboxError) in try Self.add(offset, done) }
                let n =
                    write
                    ? try self.write(fd, range.address, range.length, at: position)
                    : try read(fd, range.address, range.length, at: position)
                done += n
                if n < range.length { break }
            }
            return done
        }
        var buffers: [UnsafeMutableRawBufferPointer] = []
        for range in ranges { buffers.append(try guestBuffer(range.address, range.length, access: write ? .read : .write)) }
        let iovecs = buffers.map { iovec(iov_base: $0.baseAddress, iov_len: $0.count) }
        let n: Int = mayBlock(file) {
            iovecs.withUnsafeBufferPointer { HostIO.transfer(host, $0, write: write, at: offset) }
        }
        return Int64(try hostCheck(n))
    }

    /// The ranges of a guest `struct iovec` array of `count` entries, empty ones left out and
    /// the total capped as Linux caps one transfer (0x7ffff000 bytes).
    func ioVector(_ vector: UInt64, count: UInt64) throws(SandboxError) -> [(address: UInt64, length: UInt64)] {
        var ranges: [(address: UInt64, length: UInt64)] = []
        var total: UInt64 = 0
        for k in 0..<count {
            let base: UInt64
            let length: UInt64
            do {
                base = try memory.load(UInt64.self, at: vector &+ 16 &* k)
                length = try memory.load(UInt64.self, at: vector &+ 16 &* k &+ 8)
            } catch { throw .efault }
            guard Int64(bitPattern: length) >= 0 else { throw .einval }
            let room = min(length, 0x7fff_f000 - total)
            if room == 0 { continue }
            ranges.append((base, room))
            total += room
        }
        return ranges
    }

    // MARK: Position

    /// `a + b` for file positions a guest chose: EINVAL when it overflows, as Linux refuses a
    /// position past the largest file.
    static func add(_ a: Int64, _ b: Int64) throws(SandboxError) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw .einval }
        return sum
    }

    private func seek(_ fd: Int32, _ offset: Int64, _ whence: Int32) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        if file.isDirectory {
            // A directory's position is an index into its listing (what getdents64 gives as d_off).
            let target: Int64
            switch whence {
            case SEEK_SET: target = offset
            case SEEK_CUR: target = try Self.add(Int64(file.position), offset)
            default: throw .einval
            }
            guard target >= 0 else { throw .einval }
            file.position = Int(clamping: target)
            if target == 0 { file.listing = nil }  // rewinddir: see the directory as it is now
            return target
        }
        switch file.backing {
        case .host(let host, _):
            return try hostResult(Int64(Glibc.lseek(host, off_t(offset), whence)))
        case .memory(let bytes):
            let target: Int64
            switch whence {
            case SEEK_SET: target = offset
            case SEEK_CUR: target = try Self.add(Int64(file.position), offset)
            case SEEK_END: target = try Self.add(Int64(bytes.count), offset)
            default: throw .einval
            }
            guard target >= 0 else { throw .einval }
            file.position = Int(clamping: target)
            return target
        case .virtualDirectory:
            throw .einval
        }
    }

    // MARK: Copies between files

    private func sendfile(_ outFD: Int32, _ inFD: Int32, _ offsetAddress: UInt64, _ count: UInt64) throws(SandboxError) -> Int64 {
        let output = try ioFile(outFD)
        let input = try ioFile(inFD)
        guard case .host(let outHost, _) = output.backing else { throw .einval }
        let count = Int(min(count, 0x7fff_f000))
        var offset: Int64? = nil
        if offsetAddress != 0 {
            do { offset = Int64(bitPattern: try memory.load(UInt64.self, at: offsetAddress)) } catch { throw .efault }
            guard offset! >= 0 else { throw .einval }
        }
        let sent: Int
        switch input.backing {
        case .host(let inHost, _):
            if var position = offset.map({ off_t($0) }) {
                sent = Glibc.sendfile(outHost, inHost, &position, count)
                offset = Int64(position)
            } else {
                sent = Glibc.sendfile(outHost, inHost, nil, count)
            }
        case .memory(let bytes):
            let start = offset.map { Int(clamping: $0) } ?? input.position
            let n = max(0, min(count, bytes.count - start))
            sent = n == 0 ? 0 : bytes.withUnsafeBytes { Glibc.write(outHost, $0.baseAddress! + start, n) }
            if sent > 0 {
                if offset != nil { offset! += Int64(sent) } else { input.position += sent }
            }
        case .virtualDirectory:
            throw .einval
        }
        let result = try hostResult(sent)
        if let offset {
            do { try memory.store(UInt64(bitPattern: offset), at: offsetAddress) } catch { throw .efault }
        }
        return Int64(result)
    }

    private func copyFileRange(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let input = try ioFile(args.int(0))
        let output = try ioFile(args.int(2))
        guard case .host(let inHost, _) = input.backing, case .host(let outHost, _) = output.backing else { throw .einval }
        func load(_ address: UInt64) throws(SandboxError) -> Int64? {
            guard address != 0 else { return nil }
            do { return Int64(bitPattern: try memory.load(UInt64.self, at: address)) } catch { throw .efault }
        }
        var inOffset = try load(args[1])
        var outOffset = try load(args[3])
        let length = Int(min(args[4], 0x7fff_f000))
        let flags = UInt32(truncatingIfNeeded: args[5])
        let n = withOptionalPointer(&inOffset) { inPointer in
            withOptionalPointer(&outOffset) { outPointer in
                HostFileSystem.copyFileRange(inHost, inPointer, outHost, outPointer, length: length, flags: flags)
            }
        }
        guard n >= 0 else { throw SandboxError(Int64(-n)) }
        do {
            if let inOffset { try memory.store(UInt64(bitPattern: inOffset), at: args[1]) }
            if let outOffset { try memory.store(UInt64(bitPattern: outOffset), at: args[3]) }
        } catch { throw .efault }
        return Int64(n)
    }

    // MARK: Size and durability

    /// Runs a syscall that may change the size of a file the guest has mapped, then brings the
    /// mappings in line with the files' sizes.
    private func changingFileSizes(_ body: () -> SyscallResult) -> SyscallResult {
        let result = body()
        memory.refreshFileSizes()
        return result
    }

    private func truncate(_ fd: Int32, _ length: Int64) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        guard length >= 0 else { throw .einval }
        guard case .host(let host, _) = file.backing, !file.isDirectory else { throw .einval }
        return Int64(try hostResult(Glibc.ftruncate(host, off_t(length))))
    }

    private func truncate(path: UInt64, _ length: Int64) throws(SandboxError) -> Int64 {
        guard length >= 0 else { throw .einval }
        let resolution = try resolvePath(atFDCWD, path, followFinal: true)
        let (hostPath, _) = try existingWritableHost(resolution)
        let fd = try hostCheck(HostFileSystem.open(hostPath, O_WRONLY | O_NONBLOCK | O_NOCTTY))
        defer { Glibc.close(fd) }
        var info = stat()
        guard Glibc.fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw .einval }
        return Int64(try hostResult(Glibc.ftruncate(fd, off_t(length))))
    }

    private func fallocate(_ args: SyscallArguments) throws(SandboxError) -> Int64 {
        let file = try ioFile(args.int(0))
        guard case .host(let host, _) = file.backing else { throw SandboxError(Errno.ENODEV) }
        let n = HostFileSystem.fallocate(
            host, mode: args.int(1), offset: Int64(bitPattern: args[2]), length: Int64(bitPattern: args[3]))
        return Int64(try hostCheck(n))
    }

    private func sync(_ fd: Int32) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        guard case .host(let host, _) = file.backing else { return 0 }
        return Int64(try hostResult(Glibc.fsync(host)))
    }
}

/// Calls `body` with a pointer to the value, or nil when there is none.
func withOptionalPointer<T, R>(_ value: inout T?, _ body: (UnsafeMutablePointer<T>?) -> R) -> R {
    guard var unwrapped = value else { return body(nil) }
    defer { value = unwrapped }
    return body(&unwrapped)
}

extension SandboxError {
    static let ebadf = SandboxError(Errno.EBADF)
    static let einval = SandboxError(Errno.EINVAL)
    static let efault = SandboxError(Errno.EFAULT)
    static let enoent = SandboxError(Errno.ENOENT)
    static let erofs = SandboxError(Errno.EROFS)
}

/// A host call's result that signals failure with -1 and errno.
func hostResult<T: BinaryInteger>(_ value: T) throws(SandboxError) -> T {
    guard value >= 0 else { throw SandboxError(Int64(errno)) }
    return value
}

/// A `HostFileSystem` result: a value, or a negative errno.
func hostCheck<T: SignedInteger>(_ value: T) throws(SandboxError) -> T {
    guard value >= 0 else { throw SandboxError(Int64(-value)) }
    return value
}
