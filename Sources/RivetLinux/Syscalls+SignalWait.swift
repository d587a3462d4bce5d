#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

extension LinuxProcess {
    /// How long a thread waiting for a signal sleeps between looks: signals from other guest
    /// threads and from the host also end the sleep at once (SIGURG), this bounds a wake-up
    /// that raced with the sleep's start.
    static let signalWaitSlice = 10_000_000

    /// rt_sigsuspend(mask, size): waits with `mask` for a signal that runs a handler or ends the
    /// process; returns -EINTR, the handler's frame restoring the mask from before the call.
    func sigsuspend(_ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        guard args[1] == 8 else { return .einval }
        let temporary: UInt64
        do { temporary = try memory.load(UInt64.self, at: args[0]) } catch { return .efault }
        let old = signals.mask
        signals.mask = temporary & ~Signal.unblockable
        while true {
            acceptPostedSignals(hart)
            if signals.pending & ~signals.mask != 0 {
                hart[x: 10] = UInt64(bitPattern: -Errno.EINTR)
                hart.pc += 4
                let outcome = deliverPending(hart)
                if case .resumeAtPC = outcome {
                    // The handler's frame holds the mask to restore when it returns: the one
                    // from before the call (a2 points at the frame's ucontext).
                    try? memory.store(old, at: hart[x: 12] &+ SignalFrame.ucSigmask)
                    return .outcome(.resumeAtPC)
                }
                if let outcome { signals.mask = old; return .outcome(outcome) }
                // Ignored on delivery: wait on, at the same pc.
                hart.pc -= 4
                continue
            }
            if isEnding || mustInterrupt(hart) {
                signals.mask = old
                return .value(-Errno.EINTR)
            }
            sleepForSignal()
        }
    }

    /// rt_sigtimedwait(set, info, timeout, size): takes a pending signal of `set` (normally
    /// blocked ones) and returns its number, filling `siginfo_t`; EAGAIN when the timeout
    /// passes, EINTR when a signal outside the set runs a handler.
    func sigtimedwait(_ args: SyscallArguments, _ hart: HartState) -> SyscallResult {
        guard args[3] == 8 else { return .einval }
        let set: UInt64
        var until: UInt64? = nil
        do {
            set = try memory.load(UInt64.self, at: args[0]) & ~Signal.unblockable
            if args[2] != 0 {
                let seconds = try memory.load(Int64.self, at: args[2])
                let nanoseconds = try memory.load(Int64.self, at: args[2] &+ 8)
                guard seconds >= 0, nanoseconds >= 0, nanoseconds < 1_000_000_000 else { return .einval }
                until = Self.monotonicNow() &+ UInt64(seconds) &* 1_000_000_000 &+ UInt64(nanoseconds)
            }
        } catch { return .efault }
        while true {
            acceptPostedSignals(hart)
            let taken = (signals.pending | processPending) & set
            if taken != 0 {
                let signal = Int32(taken.trailingZeroBitCount + 1)
                signals.pending &= ~(1 << UInt64(signal - 1))
                processPending &= ~(1 << UInt64(signal - 1))
                if args[1] != 0 {
                    var info = [UInt8](repeating: 0, count: 128)
                    Self.put(signal, into: &info, at: 0)
                    Self.put(Int32(0), into: &info, at: 8)  // SI_USER: the sender is not recorded
                    Self.put(Int32(truncatingIfNeeded: pid), into: &info, at: 16)
                    Self.put(UInt32(identity.uid), into: &info, at: 20)
                    do { try memory.write(info, at: args[1]) } catch { return .efault }
                }
                return .value(Int64(signal))
            }
            // A signal outside the set that is not blocked interrupts the wait.
            if signals.pending & ~signals.mask != 0 || isEnding || mustInterrupt(hart) { return .value(-Errno.EINTR) }
            if let until, Self.monotonicNow() >= until { return .value(-Errno.EAGAIN) }
            sleepForSignal(until: until)
        }
    }

    /// Sleeps (without the lock) until a host signal interrupts, `until`, or a wait slice passed.
    private func sleepForSignal(until: UInt64? = nil) {
        let now = Self.monotonicNow()
        let wake = min(until ?? .max, now &+ UInt64(Self.signalWaitSlice))
        let target = timespec(tv_sec: Int(wake / 1_000_000_000), tv_nsec: Int(wake % 1_000_000_000))
        _ = blocking { HostIO.sleep(until: target, on: CLOCK_MONOTONIC) }
    }

    static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    private static func put<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { for (k, byte) in $0.enumerated() { bytes[offset + k] = byte } }
    }
}
