#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Descriptors that deliver events: eventfd2 and timerfd_* are the host's (their flags and
/// `struct itimerspec` are the same on both ABIs); signalfd4 is emulated, because guest
/// signals exist only in Rivet (see `DescriptorEmulation.signals`).
extension LinuxProcess {
    /// Routes the event-descriptor calls, and reads and writes on a signalfd (which must not
    /// reach its host eventfd). Returns nil for everything else.
    func eventFileSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        switch number {
        case 19: return perform { try eventfd(UInt32(truncatingIfNeeded: args[0]), flags: args.int(1)) }
        case 85: return perform { try timerfdCreate(args.int(0), flags: args.int(1)) }
        case 86: return perform { try timerfdSetTime(args.int(0), flags: args.int(1), args[2], args[3]) }
        case 87: return perform { try timerfdGetTime(args.int(0), args[1]) }
        case 74: return perform { try signalfd(args.int(0), args[1], size: args[2], flags: args.int(3)) }
        case 63, 65, 64, 66:  // read, readv, write, writev
            guard let file = files[args.int(0)], case .signals(let queue) = file.emulation else { return nil }
            if number == 64 || number == 66 { return .einval }  // a signalfd has no write
            return perform { try readSignals(queue, file, number == 65, args, hart) }
        default: return nil
        }
    }

    // MARK: eventfd and timerfd

    private static let eventfdSemaphore: Int32 = 1

    private func eventfd(_ initial: UInt32, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~(Self.eventfdSemaphore | FileABI.closeOnExec | FileABI.nonBlocking) == 0 else { throw .einval }
        let fd = try hostCheck(HostIO.eventfd(initial, flags: Int(flags & ~FileABI.closeOnExec)))
        return try install(Int32(fd), "anon_inode:[eventfd]", flags: flags)
    }

    private func timerfdCreate(_ clock: Int32, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~(FileABI.closeOnExec | FileABI.nonBlocking) == 0 else { throw .einval }
        let fd = try hostCheck(HostIO.timerfdCreate(clock, flags: Int(flags & ~FileABI.closeOnExec)))
        return try install(Int32(fd), "anon_inode:[timerfd]", flags: flags)
    }

    /// Installs a new host descriptor as a guest one: O_RDWR, with the O_NONBLOCK and
    /// O_CLOEXEC of `flags`.
    func install(_ host: Int32, _ name: String, flags: Int32, emulation: DescriptorEmulation? = nil) throws(SandboxError)
        -> Int64
    {
        let file = OpenFile(
            backing: .host(host, owned: true), guestPath: name, writable: true,
            statusFlags: FileABI.readWrite | (flags & FileABI.nonBlocking))
        file.emulation = emulation
        guard let fd = files.insert(file, closeOnExec: flags & FileABI.closeOnExec != 0) else {
            throw SandboxError(Errno.EMFILE)
        }
        return Int64(fd)
    }

    private func timerfdSetTime(_ fd: Int32, flags: Int32, _ newAddress: UInt64, _ oldAddress: UInt64) throws(SandboxError)
        -> Int64
    {
        var new = [UInt8]()
        do { new = try memory.read(at: newAddress, size: 32) } catch { throw .efault }
        guard let host = try ioFile(fd).hostDescriptor else { throw .einval }
        var old = [UInt8](repeating: 0, count: 32)
        let result = new.withUnsafeBytes { newBytes in
            old.withUnsafeMutableBytes { oldBytes in
                HostIO.timerfdSetTime(host, flags: flags, newBytes.baseAddress!, oldAddress == 0 ? nil : oldBytes.baseAddress)
            }
        }
        _ = try hostCheck(result)
        if oldAddress != 0 {
            do { try memory.write(old, at: oldAddress) } catch { throw .efault }
        }
        return 0
    }

    private func timerfdGetTime(_ fd: Int32, _ address: UInt64) throws(SandboxError) -> Int64 {
        guard let host = try ioFile(fd).hostDescriptor else { throw .einval }
        var current = [UInt8](repeating: 0, count: 32)
        _ = try hostCheck(current.withUnsafeMutableBytes { HostIO.timerfdGetTime(host, $0.baseAddress!) })
        do { try memory.write(current, at: address) } catch { throw .efault }
        return 0
    }

    // MARK: signalfd

    /// signalfd4: a new signalfd (fd -1) or a new mask for an existing one.
    private func signalfd(_ fd: Int32, _ maskAddress: UInt64, size: UInt64, flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~(FileABI.closeOnExec | FileABI.nonBlocking) == 0, size == 8 else { throw .einval }
        var mask: UInt64
        do { mask = try memory.load(UInt64.self, at: maskAddress) } catch { throw .efault }
        mask &= ~Self.unblockableSignals
        if fd != -1 {
            guard let file = files[fd] else { throw .ebadf }
            guard case .signals(let queue) = file.emulation else { throw .einval }
            queue.mask = mask
            return Int64(fd)
        }
        let host = Int32(try hostCheck(HostIO.eventfd(0, flags: Int(flags & FileABI.nonBlocking))))
        let queue = SignalQueue(mask: mask, eventDescriptor: host)
        let guestFD = try install(host, "anon_inode:[signalfd]", flags: flags, emulation: .signals(queue))
        files.register(queue)
        return guestFD
    }

    /// Makes every signalfd's eventfd readable exactly while a signal of its mask is pending.
    /// Called before every wait, so that poll, select and epoll see signalfds as Linux shows them.
    func refreshSignalQueues() {
        for queue in files.liveSignalQueues { queue.show(ready: signals.pending & queue.mask != 0) }
    }

    /// Size of `struct signalfd_siginfo`.
    static let signalRecordSize = 128

    /// read or readv on a signalfd: takes the lowest pending signals of its mask, one
    /// `struct signalfd_siginfo` each, as many as fit (EINVAL if not one does); waits for one
    /// unless the descriptor is non-blocking (EAGAIN).
    private func readSignals(_ queue: SignalQueue, _ file: OpenFile, _ vectored: Bool, _ args: SyscallArguments, _ hart: HartState)
        throws(SandboxError) -> Int64
    {
        var buffers: [(address: UInt64, length: UInt64)] = []
        if vectored {
            guard args[2] <= 1024 else { throw .einval }
            for k in 0..<args[2] {
                let base: UInt64
                let length: UInt64
                do {
                    base = try memory.load(UInt64.self, at: args[1] &+ 16 &* k)
                    length = try memory.load(UInt64.self, at: args[1] &+ 16 &* k &+ 8)
                } catch { throw .efault }
                guard Int64(bitPattern: length) >= 0 else { throw .einval }
                buffers.append((base, length))
            }
        } else {
            // read(2) checks that the buffer lies in user space before the file sees it.
            guard GuestMemory.contains(args[1], size: args[2]) else { throw .efault }
            buffers = [(args[1], args[2])]
        }
        let room = buffers.reduce(UInt64(0)) { $0 &+ min($1.length, 1 << 20) } / UInt64(Self.signalRecordSize)
        guard room > 0 else { throw .einval }
        while true {
            acceptPostedSignals(hart)
            if signals.pending & queue.mask != 0 { break }
            guard file.statusFlags & FileABI.nonBlocking == 0 else { throw SandboxError(Errno.EAGAIN) }
            refreshSignalQueues()
            let n = blocking { HostIO.wait(queue.eventDescriptor, for: Int16(POLLIN)) }
            if n == -Int(EINTR) {
                if mustInterrupt(hart) { throw SandboxError(Errno.EINTR) }
            } else if n < 0 {
                throw SandboxError(Int64(-n))
            }
        }
        var records: [UInt8] = []
        while UInt64(records.count / Self.signalRecordSize) < room, signals.pending & queue.mask != 0 {
            let signal = Int32((signals.pending & queue.mask).trailingZeroBitCount + 1)
            signals.pending &= ~(1 << UInt64(signal - 1))
            records += signalRecord(signal)
        }
        refreshSignalQueues()
        var offset = 0
        for buffer in buffers where offset < records.count {
            let part = records[offset..<min(records.count, offset + Int(min(buffer.length, 1 << 20)))]
            do { try memory.write(part, at: buffer.address) } catch { throw .efault }
            offset += part.count
        }
        return Int64(records.count)
    }

    /// A `struct signalfd_siginfo` for a signal Rivet holds as pending: sent by the process
    /// itself (SI_USER), as Rivet keeps no more about a pending signal than its number.
    private func signalRecord(_ signal: Int32) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: Self.signalRecordSize)
        record.withUnsafeMutableBytes {
            $0.storeBytes(of: UInt32(signal), toByteOffset: 0, as: UInt32.self)  // ssi_signo
            $0.storeBytes(of: Int32(0), toByteOffset: 8, as: Int32.self)  // ssi_code: SI_USER
            $0.storeBytes(of: UInt32(truncatingIfNeeded: pid), toByteOffset: 12, as: UInt32.self)  // ssi_pid
            $0.storeBytes(of: UInt32(truncatingIfNeeded: identity.uid), toByteOffset: 16, as: UInt32.self)  // ssi_uid
        }
        return record
    }
}
