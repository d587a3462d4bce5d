#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

extension LinuxProcess {
    func fileSyscall(_ number: Int, _ args: SyscallArguments) -> SyscallResult? {
        switch number {
        case 63: return read(args.int(0), args[1], args[2])
        case 64: return write(args.int(0), args[1], args[2])
        case 65: return vectored(args, write: false)
        case 66: return vectored(args, write: true)
        case 57:  // close
            return .value(files.remove(args.int(0)) ? 0 : -Errno.EBADF)
        case 80: return fstat(args.int(0), args[1])
        case 29: return ioctl(args.int(0), args[1], args[2])
        default: return nil
        }
    }

    private func read(_ fd: Int32, _ buffer: UInt64, _ count: UInt64) -> SyscallResult {
        guard let file = files[fd] else { return .ebadf }
        let size = Int(min(count, 0x7fff_f000))
        let destination: UnsafeMutableRawBufferPointer
        do { destination = try memory.hostBuffer(at: buffer, size: size, access: .write) } catch { return .efault }
        switch file.backing {
        case .host(let host, _):
            return .host(Glibc.read(host, destination.baseAddress, size))
        case .memory(let bytes):
            let n = max(0, min(size, bytes.count - file.position))
            if n > 0 {
                bytes.withUnsafeBytes { destination.baseAddress!.copyMemory(from: $0.baseAddress! + file.position, byteCount: n) }
            }
            file.position += n
            return .value(Int64(n))
        case .virtualDirectory:
            return .value(-Errno.EISDIR)
        }
    }

    private func write(_ fd: Int32, _ buffer: UInt64, _ count: UInt64) -> SyscallResult {
        guard let file = files[fd] else { return .ebadf }
        let size = Int(min(count, 0x7fff_f000))
        let source: UnsafeMutableRawBufferPointer
        do { source = try memory.hostBuffer(at: buffer, size: size, access: .read) } catch { return .efault }
        switch file.backing {
        case .host(let host, _):
            return .host(Glibc.write(host, source.baseAddress, size))
        case .memory, .virtualDirectory:
            return .ebadf
        }
    }

    private func vectored(_ args: SyscallArguments, write: Bool) -> SyscallResult {
        let fd = args.int(0)
        let count = args[2]
        guard count <= 1024 else { return .einval }
        var total: Int64 = 0
        for k in 0..<count {
            let base: UInt64
            let length: UInt64
            do {
                base = try memory.load(UInt64.self, at: args[1] + 16 * k)
                length = try memory.load(UInt64.self, at: args[1] + 16 * k + 8)
            } catch { return .efault }
            if length == 0 { continue }
            let result = write ? self.write(fd, base, length) : self.read(fd, base, length)
            guard case .value(let n) = result else { return result }
            if n < 0 { return total > 0 ? .value(total) : result }
            total += n
            if UInt64(n) < length { break }
        }
        return .value(total)
    }

    private func fstat(_ fd: Int32, _ address: UInt64) -> SyscallResult {
        guard let file = files[fd] else { return .ebadf }
        var info = stat()
        switch file.backing {
        case .host(let host, _):
            guard Glibc.fstat(host, &info) == 0 else { return .host(-1) }
        case .memory(let bytes):
            info.st_mode = S_IFREG | 0o444
            info.st_size = off_t(bytes.count)
            info.st_nlink = 1
        case .virtualDirectory:
            info.st_mode = S_IFDIR | 0o555
            info.st_nlink = 2
        }
        return storeStat(info, at: address)
    }

    /// Writes a host `stat` as the guest's `struct stat` (asm-generic layout, 128 bytes).
    func storeStat(_ s: stat, at address: UInt64) -> SyscallResult {
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
        do { try memory.write(out, at: address) } catch { return .efault }
        return .value(0)
    }

    private func ioctl(_ fd: Int32, _ request: UInt64, _ argument: UInt64) -> SyscallResult {
        guard let file = files[fd] else { return .ebadf }
        guard let host = file.hostDescriptor else { return .value(-Errno.ENOTTY) }
        switch request {
        case 0x5401:  // TCGETS: struct termios is 60 bytes on both (asm-generic and x86-64).
            var termios = [UInt8](repeating: 0, count: 60)
            let result = termios.withUnsafeMutableBytes { Glibc.ioctl(host, UInt(TCGETS), $0.baseAddress!) }
            guard result == 0 else { return .host(-1) }
            do { try memory.write(termios, at: argument) } catch { return .efault }
            return .value(0)
        case 0x5413:  // TIOCGWINSZ: struct winsize, 8 bytes.
            var size = [UInt8](repeating: 0, count: 8)
            let result = size.withUnsafeMutableBytes { Glibc.ioctl(host, UInt(TIOCGWINSZ), $0.baseAddress!) }
            guard result == 0 else { return .host(-1) }
            do { try memory.write(size, at: argument) } catch { return .efault }
            return .value(0)
        default:
            warnOnce(0x10000 + Int(truncatingIfNeeded: request), "unsupported ioctl 0x\(String(request, radix: 16)) on fd \(fd); returning -ENOTTY")
            return .value(-Errno.ENOTTY)
        }
    }
}
