#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetMachine

/// Descriptor syscalls: close_range, dup, dup3, fcntl, pipe2, ioctl, flock.
extension LinuxProcess {
    func closeRange(_ first: UInt32, _ last: UInt32, _ flags: UInt64) throws(SandboxError) -> Int64 {
        let unshare: UInt64 = 2
        let setCloseOnExec: UInt64 = 4
        guard flags & ~(unshare | setCloseOnExec) == 0, first <= last else { throw .einval }
        guard first <= UInt32(Int32.max) else { return 0 }
        let range = Int32(first)...Int32(min(last, UInt32(Int32.max)))
        for fd in files.descriptors(in: range) {
            if flags & setCloseOnExec != 0 {
                files.setCloseOnExec(fd, true)
            } else {
                files.remove(fd)
            }
        }
        return 0
    }

    /// dup: the lowest free descriptor.
    func duplicate(_ fd: Int32) throws(SandboxError) -> Int64 {
        let file = try file(fd)
        guard let copy = files.insert(file) else { throw SandboxError(Errno.EMFILE) }
        return Int64(copy)
    }

    /// dup3 (glibc's dup2 too): exactly `target`, closing what was there.
    func duplicate(_ fd: Int32, to target: Int32, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~FileABI.closeOnExec == 0 else { throw .einval }
        let file = try file(fd)
        guard fd != target else { throw .einval }
        guard target >= 0, target < files.limit else { throw .ebadf }
        files.replace(target, with: file, closeOnExec: flags & FileABI.closeOnExec != 0)
        return Int64(target)
    }

    func fcntl(_ fd: Int32, _ command: Int32, _ argument: UInt64) throws(SandboxError) -> Int64 {
        let file = try file(fd)
        let value = Int32(truncatingIfNeeded: argument)
        switch command {
        case 0, 1030:  // F_DUPFD, F_DUPFD_CLOEXEC
            guard value >= 0, value < files.limit else { throw .einval }
            guard let copy = files.insert(file, lowest: value, closeOnExec: command == 1030) else {
                throw SandboxError(Errno.EMFILE)
            }
            return Int64(copy)
        case 1:  // F_GETFD
            return files.closeOnExec(fd) ? 1 : 0
        case 2:  // F_SETFD
            files.setCloseOnExec(fd, value & 1 != 0)
            return 0
        case 3:  // F_GETFL
            if let host = file.hostDescriptor { return Int64(try hostResult(Glibc.fcntl(host, F_GETFL))) }
            return Int64(file.statusFlags | FileABI.largeFile)
        case 4:  // F_SETFL: only these flags change; the access mode stays.
            let changeable = FileABI.append | FileABI.nonBlocking | FileABI.async | FileABI.direct | FileABI.noAccessTime
            if let host = file.hostDescriptor, !file.isPathOnly {
                let current = try hostResult(Glibc.fcntl(host, F_GETFL))
                _ = try hostResult(Glibc.fcntl(host, F_SETFL, (current & ~changeable) | (value & changeable)))
            }
            file.statusFlags = (file.statusFlags & ~changeable) | (value & changeable)
            return 0
        case 5, 6, 7, 36, 37, 38:  // F_GETLK, F_SETLK, F_SETLKW, F_OFD_*: struct flock is the same on both ABIs.
            guard let host = file.hostDescriptor, !file.isPathOnly else { throw .ebadf }
            var lock: [UInt8]
            do { lock = try memory.read(at: argument, size: 32) } catch { throw .efault }
            _ = try hostResult(lock.withUnsafeMutableBytes { Glibc.fcntl(host, command, $0.baseAddress!) })
            if command == 5 || command == 36 {
                do { try memory.write(lock, at: argument) } catch { throw .efault }
            }
            return 0
        case 8, 10:  // F_SETOWN, F_SETSIG: no signals for I/O are delivered.
            return 0
        case 9, 11:  // F_GETOWN, F_GETSIG
            return 0
        case 1031, 1032, 1033, 1034:  // F_SETPIPE_SZ, F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS
            guard let host = file.hostDescriptor else { throw .einval }
            return Int64(try hostResult(Glibc.fcntl(host, command, value)))
        default:
            warnOnce("fcntl \(command)", "unsupported fcntl command \(command) on fd \(fd); returning -EINVAL")
            throw .einval
        }
    }

    /// memfd_create(name, flags): an anonymous file in host memory (counted by the host as
    /// Rivet's), named as Linux names it in /proc/self/fd.
    func memfdCreate(_ nameAddress: UInt64, flags: UInt32) throws(SandboxError) -> Int64 {
        let cloexec: UInt32 = 1
        let allowSealing: UInt32 = 2
        guard flags & ~(cloexec | allowSealing) == 0 else { throw .einval }
        let name: [UInt8]
        do { name = try memory.readCString(at: nameAddress, maxLength: 250) } catch { throw .efault }
        guard name.count < 250 else { throw .einval }
        let text = String(decoding: name, as: UTF8.self)
        let fd = rivet_memfd_flags(text, (flags & allowSealing) | cloexec)
        guard fd >= 0 else { throw SandboxError(Int64(-fd)) }
        let file = OpenFile(backing: .host(fd, owned: true), guestPath: "/memfd:\(text) (deleted)", writable: true, statusFlags: 2)
        guard let guestFD = files.insert(file, closeOnExec: flags & cloexec != 0) else { throw SandboxError(Errno.EMFILE) }
        return Int64(guestFD)
    }

    func pipe(_ address: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~(FileABI.closeOnExec | FileABI.nonBlocking | FileABI.direct) == 0 else { throw .einval }
        let (readEnd, writeEnd) = try HostFileSystem.pipe(flags: flags & (FileABI.nonBlocking | FileABI.direct)).get()
        var info = stat()
        Glibc.fstat(readEnd, &info)
        let name = "pipe:[\(info.st_ino)]"
        let status = flags & (FileABI.nonBlocking | FileABI.direct)
        let reader = OpenFile(backing: .host(readEnd, owned: true), guestPath: name, writable: false, statusFlags: status)
        let writer = OpenFile(
            backing: .host(writeEnd, owned: true), guestPath: name, writable: true, statusFlags: status | FileABI.writeOnly)
        let closeOnExec = flags & FileABI.closeOnExec != 0
        guard let first = files.insert(reader, closeOnExec: closeOnExec) else { throw SandboxError(Errno.EMFILE) }
        guard let second = files.insert(writer, closeOnExec: closeOnExec) else {
            files.remove(first)
            throw SandboxError(Errno.EMFILE)
        }
        do {
            try memory.store(first, at: address)
            try memory.store(second, at: address &+ 4)
        } catch {
            files.remove(first)
            files.remove(second)
            throw .efault
        }
        return 0
    }

    func ioctl(_ fd: Int32, _ request: UInt64, _ argument: UInt64) throws(SandboxError) -> Int64 {
        let file = try ioFile(fd)
        switch request {
        case 0x5451:  // FIOCLEX
            files.setCloseOnExec(fd, true)
            return 0
        case 0x5450:  // FIONCLEX
            files.setCloseOnExec(fd, false)
            return 0
        default: break
        }
        guard let host = file.hostDescriptor else { throw SandboxError(Errno.ENOTTY) }
        // Each passes a buffer of a size both ABIs agree on.
        let size: Int
        let hostRequest: UInt
        switch request {
        case 0x5401: (size, hostRequest) = (60, UInt(TCGETS))  // struct termios
        case 0x5413: (size, hostRequest) = (8, UInt(TIOCGWINSZ))  // struct winsize
        case 0x541B: (size, hostRequest) = (4, UInt(FIONREAD))  // int
        case 0x5421: (size, hostRequest) = (4, UInt(FIONBIO))  // int, read by the host
        default:
            warnOnce(
                "ioctl \(request)",
                "unsupported ioctl 0x\(String(request, radix: 16)) on fd \(fd); returning -ENOTTY")
            throw SandboxError(Errno.ENOTTY)
        }
        var buffer = [UInt8](repeating: 0, count: size)
        if request == 0x5421 {
            do { buffer = try memory.read(at: argument, size: size) } catch { throw .efault }
        }
        _ = try hostResult(buffer.withUnsafeMutableBytes { Glibc.ioctl(host, hostRequest, $0.baseAddress!) })
        if request != 0x5421 {
            do { try memory.write(buffer, at: argument) } catch { throw .efault }
        }
        return 0
    }

    func flock(_ fd: Int32, _ operation: Int32) throws(SandboxError) -> Int64 {
        let file = try file(fd)
        guard let host = file.hostDescriptor else { return 0 }
        return Int64(try hostCheck(HostFileSystem.flock(host, operation)))
    }
}
