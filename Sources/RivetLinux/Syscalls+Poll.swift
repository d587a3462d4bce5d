import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Waiting for descriptors: ppoll, pselect6, epoll_create1, epoll_ctl, epoll_pwait and
/// epoll_pwait2.
///
/// Guest descriptors are translated to the host's and the wait is the host's, on the hart's
/// thread. Three things are Rivet's own:
/// - **Time.** A timeout becomes a deadline once, so a wake-up the guest does not see (a host
///   signal it blocks or ignores) waits on for the time left, never the whole timeout again.
/// - **Signal masks.** The mask a call passes is the guest's emulated mask for the call's
///   duration; a signal it lets through ends the wait with EINTR, runs its handler with that
///   mask, and the handler returns to the mask from before the call (Linux's saved sigmask).
///   These calls are never restarted (signal(7)).
/// - **Descriptors without a host descriptor** (`/proc/self/maps`, virtual directories) are
///   always ready for reading and writing, as Linux's regular files are; epoll refuses them
///   with EPERM, as Linux refuses regular files. A signalfd is shown ready through its eventfd.
extension LinuxProcess {
    func pollSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        switch number {
        case 73: return ppoll(args, hart)
        case 72: return pselect(args, hart)
        case 20: return perform { try epollCreate(flags: args.int(0)) }
        case 21: return perform { try epollControl(args.int(0), args.int(1), args.int(2), args[3]) }
        case 22:  // epoll_pwait(epfd, events, maxevents, timeout ms, sigmask, sigsetsize)
            let milliseconds = Int64(args.int(3))
            let timeout = milliseconds < 0 ? nil : timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int(milliseconds % 1000) * 1_000_000)
            return epollWait(args, timeout: .success(timeout), hart)
        case 441:  // epoll_pwait2(epfd, events, maxevents, timeout timespec, sigmask, sigsetsize)
            return epollWait(args, timeout: Result { () throws(SandboxError) in try readTimeout(args[3]) }, hart)
        default: return nil
        }
    }

    // MARK: Arguments

    /// The signals no mask can block.
    static let unblockableSignals: UInt64 = 1 << UInt64(Signal.SIGKILL - 1) | 1 << UInt64(Signal.SIGSTOP - 1)

    /// A `struct timespec` timeout at `address` (nil for a null pointer): EFAULT, or EINVAL
    /// unless 0 ≤ tv_nsec < 10⁹ and tv_sec ≥ 0.
    func readTimeout(_ address: UInt64) throws(SandboxError) -> timespec? {
        guard address != 0 else { return nil }
        let seconds: Int64
        let nanoseconds: Int64
        do {
            seconds = try memory.load(Int64.self, at: address)
            nanoseconds = try memory.load(Int64.self, at: address &+ 8)
        } catch { throw .efault }
        guard seconds >= 0, nanoseconds >= 0, nanoseconds < 1_000_000_000 else { throw .einval }
        return timespec(tv_sec: Int(seconds), tv_nsec: Int(nanoseconds))
    }

    /// A signal mask argument (nil for a null pointer): EINVAL unless its size is 8, EFAULT.
    func readSignalMask(_ address: UInt64, size: UInt64) throws(SandboxError) -> UInt64? {
        guard address != 0 else { return nil }
        guard size == 8 else { throw .einval }
        do { return try memory.load(UInt64.self, at: address) } catch { throw .efault }
    }

    /// Writes the time left of a ppoll or pselect6 timeout back, as Linux does (not for a null
    /// or zero timeout; a fault is ignored, as Linux ignores it once the wait is over).
    private func storeTimeLeft(_ deadline: WaitDeadline, at address: UInt64) {
        guard address != 0, !deadline.isZero, let left = deadline.remaining else { return }
        try? memory.store(Int64(left.tv_sec), at: address)
        try? memory.store(Int64(left.tv_nsec), at: address &+ 8)
    }

    // MARK: Blocking

    /// Waits in `hostWait` (given the time left: nil for no limit, zero to only look) until it
    /// reports something, the deadline passes, or the guest must see an interruption.
    /// - Parameters:
    ///   - ready: something is ready already (an emulated descriptor): the host only looks.
    ///   - zeroTimeoutSeesSignals: a pending signal ends a wait with a zero timeout too (poll
    ///     and select; epoll_wait then just reports nothing).
    /// - Returns: what `hostWait` returned (0: the time is up), or -EINTR when a signal the
    ///   guest acts on is pending (or the run's time is up) and nothing is ready, as Linux's
    ///   poll loop decides: ready descriptors win over a pending signal.
    func blockingWait(
        _ deadline: WaitDeadline, ready: Bool, zeroTimeoutSeesSignals: Bool = true, _ hart: HartState,
        _ hostWait: (timespec?) -> Int
    ) -> Int {
        acceptPostedSignals(hart)
        var interrupted = signals.pending & ~signals.mask != 0
        while true {
            refreshSignalQueues()
            let onlyLook = ready || interrupted
            // Other guest threads run while this one waits.
            let n = onlyLook ? hostWait(timespec(tv_sec: 0, tv_nsec: 0)) : blocking { hostWait(deadline.remaining) }
            if n == -Int(EINTR) {
                // Look once more before reporting EINTR; a spurious wake-up waits on.
                if mustInterrupt(hart) { interrupted = true }
                continue
            }
            if n != 0 || ready { return n }
            return interrupted && (zeroTimeoutSeesSignals || !deadline.isZero) ? -Int(EINTR) : 0
        }
    }

    /// Runs a wait with the guest's signal mask replaced by `mask` (nil: unchanged) for its
    /// duration. When the wait ends with EINTR for a signal the temporary mask lets through,
    /// that signal is delivered now, with the temporary mask in effect, and the first handler's
    /// frame holds the original mask, so the handler returns to it; otherwise the original mask
    /// is back before the guest resumes, and signals it blocks stay pending.
    func withSignalMask(_ mask: UInt64?, _ hart: HartState, _ body: () -> SyscallResult) -> SyscallResult {
        guard let mask else { return body() }
        let original = signals.mask
        signals.mask = mask & ~Self.unblockableSignals
        let result = body()
        let timeIsUp = hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_STOPS_BLOCKING != 0
        guard case .value(-Errno.EINTR) = result, !timeIsUp, signals.pending & ~signals.mask != 0 else {
            signals.mask = original
            return result
        }
        if configuration.traceSyscalls {
            configuration.diagnostics(
                SyscallTracer.render(number: Int(truncatingIfNeeded: hart[x: 17]), args: currentArguments(hart), result: -Errno.EINTR, process: self))
        }
        hart[x: 10] = UInt64(bitPattern: -Errno.EINTR)
        hart.pc += 4
        while signals.pending & ~signals.mask != 0 {
            switch deliverPending(hart) {
            case nil:
                continue  // ignored: the next one
            case .resumeAtPC?:
                let frame = hart[x: 11]
                try? memory.store(original, at: frame &+ SignalFrame.ucontext &+ SignalFrame.ucSigmask)
                return .outcome(deliverPendingSignals(hart) ?? .resumeAtPC)
            case let other?:
                return .outcome(other)
            }
        }
        signals.mask = original
        return .outcome(.resumeAtPC)
    }

    private func currentArguments(_ hart: HartState) -> SyscallArguments {
        SyscallArguments(hart[x: 10], hart[x: 11], hart[x: 12], hart[x: 13], hart[x: 14], hart[x: 15])
    }

    // MARK: poll and select

    /// What Linux reports for a file without a poll method (DEFAULT_POLLMASK): readable and
    /// writable.
    static let alwaysReady: UInt16 = 0x0001 | 0x0004 | 0x0040 | 0x0100  // POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM

    private func ppoll(_ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        let address = args[0]
        let count = UInt64(UInt32(truncatingIfNeeded: args[1]))  // unsigned int nfds
        let timeout: timespec?
        let mask: UInt64?
        var entries: [(fd: Int32, events: UInt16)] = []
        do throws(SandboxError) {
            timeout = try readTimeout(args[2])
            mask = try readSignalMask(args[3], size: args[4])
            guard count <= UInt64(files.limit) else { throw .einval }
            let bytes: [UInt8]
            do { bytes = try memory.read(at: address, size: Int(count) * 8) } catch { throw .efault }
            for k in 0..<Int(count) {
                let fd = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * k, as: Int32.self) }
                let events = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8 * k + 4, as: UInt16.self) }
                entries.append((fd, events))
            }
        } catch { return .value(-error.errno) }
        let deadline = WaitDeadline(timeout)
        return withSignalMask(mask, hart) {
            var host: [pollfd] = []
            var slot = [Int?](repeating: nil, count: entries.count)
            var revents = [UInt16](repeating: 0, count: entries.count)
            var readyHere = 0
            for (k, entry) in entries.enumerated() where entry.fd >= 0 {
                guard let file = files[entry.fd], !file.isPathOnly else {
                    revents[k] = UInt16(POLLNVAL)
                    readyHere += 1
                    continue
                }
                if let fd = file.hostDescriptor {
                    slot[k] = host.count
                    host.append(pollfd(fd: fd, events: Int16(bitPattern: entry.events), revents: 0))
                } else {
                    revents[k] = Self.alwaysReady & (entry.events | UInt16(POLLERR) | UInt16(POLLHUP))
                    if revents[k] != 0 { readyHere += 1 }
                }
            }
            let n = host.withUnsafeMutableBufferPointer { buffer in
                blockingWait(deadline, ready: readyHere > 0, hart) { HostIO.poll(buffer, timeout: $0) }
            }
            for k in entries.indices {
                if let index = slot[k] { revents[k] = UInt16(bitPattern: host[index].revents) }
                // Linux writes every revents back, also when the wait failed.
                do { try memory.store(revents[k], at: address &+ UInt64(8 * k + 6)) } catch { return .efault }
            }
            storeTimeLeft(deadline, at: args[2])
            return .value(n < 0 ? Int64(n) : Int64(n + readyHere))
        }
    }

    private func pselect(_ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        let requested = Int64(args.int(0))
        let sets = [args[1], args[2], args[3]]
        let timeout: timespec?
        var mask: UInt64? = nil
        var words: [[UInt64]] = [[], [], []]
        let count: Int
        do throws(SandboxError) {
            guard requested >= 0 else { throw .einval }
            timeout = try readTimeout(args[4])
            if args[5] != 0 {
                let setAddress: UInt64
                let setSize: UInt64
                do {
                    setAddress = try memory.load(UInt64.self, at: args[5])
                    setSize = try memory.load(UInt64.self, at: args[5] &+ 8)
                } catch { throw .efault }
                mask = try readSignalMask(setAddress, size: setSize)
            }
            // Linux looks at no more descriptors than its table has room for.
            count = Int(min(requested, Int64(max(files.limit, Int((files.descriptors.last ?? -1) + 1)))))
            let wordCount = (count + 63) / 64
            for (k, address) in sets.enumerated() where address != 0 {
                do {
                    for w in 0..<wordCount { words[k].append(try memory.load(UInt64.self, at: address &+ UInt64(8 * w))) }
                } catch { throw .efault }
            }
        } catch { return .value(-error.errno) }

        // Each descriptor named in a set: its host entry, or readiness computed here.
        let readSet: UInt16 = 0x0001 | 0x0040 | 0x0080 | 0x0010 | 0x0008  // POLLIN RDNORM RDBAND HUP ERR
        let writeSet: UInt16 = 0x0004 | 0x0100 | 0x0200 | 0x0008  // POLLOUT WRNORM WRBAND ERR
        let exceptSet: UInt16 = 0x0002  // POLLPRI
        var named: [(fd: Int, wanted: [Bool], slot: Int?, revents: UInt16)] = []
        var host: [pollfd] = []
        for fd in 0..<count {
            let wanted = (0..<3).map { k in !words[k].isEmpty && words[k][fd / 64] & (1 << UInt64(fd % 64)) != 0 }
            guard wanted.contains(true) else { continue }
            guard let file = files[Int32(fd)] else { return .ebadf }
            if file.isPathOnly {
                named.append((fd, wanted, nil, UInt16(POLLNVAL)))
            } else if let hostFD = file.hostDescriptor {
                let events = (wanted[0] ? readSet : 0) | (wanted[1] ? writeSet : 0) | (wanted[2] ? exceptSet : 0)
                named.append((fd, wanted, host.count, 0))
                host.append(pollfd(fd: hostFD, events: Int16(bitPattern: events), revents: 0))
            } else {
                named.append((fd, wanted, nil, Self.alwaysReady))
            }
        }
        func readiness(_ entry: (fd: Int, wanted: [Bool], slot: Int?, revents: UInt16)) -> [Bool] {
            let revents = entry.slot.map { UInt16(bitPattern: host[$0].revents) } ?? entry.revents
            return [
                entry.wanted[0] && revents & readSet != 0, entry.wanted[1] && revents & writeSet != 0,
                entry.wanted[2] && revents & exceptSet != 0,
            ]
        }
        let readyHere = named.contains { $0.slot == nil && readiness($0).contains(true) }
        let deadline = WaitDeadline(timeout)
        return withSignalMask(mask, hart) {
            let n = host.withUnsafeMutableBufferPointer { buffer in
                blockingWait(deadline, ready: readyHere, hart) { HostIO.poll(buffer, timeout: $0) }
            }
            guard n >= 0 else {
                storeTimeLeft(deadline, at: args[4])
                return .value(Int64(n))
            }
            var results: [[UInt64]] = words.map { [UInt64](repeating: 0, count: $0.count) }
            var total = 0
            for entry in named {
                for (k, isReady) in readiness(entry).enumerated() where isReady {
                    results[k][entry.fd / 64] |= 1 << UInt64(entry.fd % 64)
                    total += 1
                }
            }
            for (k, address) in sets.enumerated() where address != 0 {
                do {
                    for (w, word) in results[k].enumerated() { try memory.store(word, at: address &+ UInt64(8 * w)) }
                } catch { return .efault }
            }
            storeTimeLeft(deadline, at: args[4])
            return .value(Int64(total))
        }
    }

    // MARK: epoll

    /// `struct epoll_event` on the host: packed (12 bytes) on x86-64, 16 bytes (data at 8)
    /// elsewhere. The guest's (riscv64) is always 16 bytes with data at 8.
    #if arch(x86_64)
    static let hostEventSize = 12
    static let hostEventDataOffset = 4
    #else
    static let hostEventSize = 16
    static let hostEventDataOffset = 8
    #endif
    static let guestEventSize = 16

    /// The most events one epoll_pwait returns; more stay ready for the next call.
    static let eventBatch = 256

    private func epollCreate(flags: Int32) throws(SandboxError) -> Int64 {
        guard flags & ~FileABI.closeOnExec == 0 else { throw .einval }
        let fd = try hostCheck(HostIO.epollCreate())
        let file = OpenFile(
            backing: .host(Int32(fd), owned: true), guestPath: "anon_inode:[eventpoll]", writable: true,
            statusFlags: FileABI.readWrite)
        guard let guestFD = files.insert(file, closeOnExec: flags & FileABI.closeOnExec != 0) else {
            throw SandboxError(Errno.EMFILE)
        }
        return Int64(guestFD)
    }

    /// epoll_ctl: the guest's descriptor becomes the host's; the event's data is the guest's
    /// own 64 bits, kept by the host and handed back unchanged.
    private func epollControl(_ epfd: Int32, _ operation: Int32, _ fd: Int32, _ eventAddress: UInt64) throws(SandboxError)
        -> Int64
    {
        let delete: Int32 = 2
        var hostEvent = [UInt8](repeating: 0, count: Self.hostEventSize)
        if operation != delete {
            let events: UInt32
            let data: UInt64
            do {
                events = try memory.load(UInt32.self, at: eventAddress)
                data = try memory.load(UInt64.self, at: eventAddress &+ 8)
            } catch { throw .efault }
            hostEvent.withUnsafeMutableBytes {
                $0.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
                $0.storeBytes(of: data, toByteOffset: Self.hostEventDataOffset, as: UInt64.self)
            }
        }
        let epoll = try ioFile(epfd)
        let target = try ioFile(fd)
        // No poll method, like Linux's regular files: EPERM.
        guard let hostTarget = target.hostDescriptor else { throw SandboxError(Errno.EPERM) }
        guard let hostEpoll = epoll.hostDescriptor, epoll !== target else { throw .einval }
        let result = hostEvent.withUnsafeBytes {
            HostIO.epollControl(hostEpoll, operation, hostTarget, operation == delete ? nil : $0.baseAddress)
        }
        return Int64(try hostCheck(result))
    }

    private func epollWait(_ args: SyscallArguments, timeout: Result<timespec?, SandboxError>, _ hart: HartState) -> SyscallResult {
        let epfd = args.int(0)
        let address = args[1]
        let maxEvents = Int64(args.int(2))
        let mask: UInt64?
        let hostEpoll: Int32
        let batch: Int
        let deadline: WaitDeadline
        do throws(SandboxError) {
            mask = try readSignalMask(args[4], size: args[5])
            guard maxEvents > 0, maxEvents <= Int64(Int32.max) / Int64(Self.guestEventSize) else { throw .einval }
            batch = min(Int(maxEvents), Self.eventBatch)
            // Linux checks only that the buffer lies in user space; a fault comes when an event is written.
            guard GuestMemory.contains(address, size: UInt64(Int(maxEvents) * Self.guestEventSize)) else { throw .efault }
            guard let descriptor = try ioFile(epfd).hostDescriptor else { throw .einval }
            hostEpoll = descriptor
            deadline = WaitDeadline(try timeout.get())
        } catch { return .value(-error.errno) }
        return withSignalMask(mask, hart) {
            var events = [UInt8](repeating: 0, count: batch * Self.hostEventSize)
            let n = events.withUnsafeMutableBytes { buffer in
                blockingWait(deadline, ready: false, zeroTimeoutSeesSignals: false, hart) { left in
                    HostIO.epollWait(hostEpoll, buffer.baseAddress!, count: batch, milliseconds: Self.milliseconds(left))
                }
            }
            guard n > 0 else { return .value(Int64(n)) }
            do {
                for k in 0..<n {
                    let (flags, data) = events.withUnsafeBytes {
                        (
                            $0.loadUnaligned(fromByteOffset: k * Self.hostEventSize, as: UInt32.self),
                            $0.loadUnaligned(fromByteOffset: k * Self.hostEventSize + Self.hostEventDataOffset, as: UInt64.self)
                        )
                    }
                    let entry = address &+ UInt64(k * Self.guestEventSize)
                    try memory.store(flags, at: entry)
                    try memory.store(data, at: entry &+ 8)
                }
            } catch { return .efault }
            return .value(Int64(n))
        }
    }

    /// A timeout for epoll_wait in milliseconds, rounded up (-1: none).
    private static func milliseconds(_ time: timespec?) -> Int {
        guard let time else { return -1 }
        let total = Int64(time.tv_sec).multipliedReportingOverflow(by: 1000)
        guard !total.overflow, total.partialValue < Int64(Int32.max) else { return Int(Int32.max) }
        return Int(total.partialValue + (Int64(time.tv_nsec) + 999_999) / 1_000_000)
    }
}

/// When a wait with a timeout ends, on CLOCK_MONOTONIC. Fixed once at the call's start, so a
/// wake-up the guest does not see costs no extra time.
struct WaitDeadline {
    /// Nanoseconds since the clock's epoch (saturating); nil: no timeout.
    private let end: Int64?
    /// The timeout was zero: only look.
    let isZero: Bool

    init(_ timeout: timespec?) {
        guard let timeout else {
            end = nil
            isZero = false
            return
        }
        isZero = timeout.tv_sec == 0 && timeout.tv_nsec == 0
        let (scaled, overflow) = Int64(timeout.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
        let length = overflow ? Int64.max : scaled.addingReportingOverflow(Int64(timeout.tv_nsec)).partialValue
        let (sum, late) = Self.now().addingReportingOverflow(max(length, 0))
        end = late ? Int64.max : sum
    }

    /// The time left (zero once it has passed); nil without a timeout.
    var remaining: timespec? {
        guard let end else { return nil }
        let left = max(0, end - Self.now())
        return timespec(tv_sec: Int(left / 1_000_000_000), tv_nsec: Int(left % 1_000_000_000))
    }

    private static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
