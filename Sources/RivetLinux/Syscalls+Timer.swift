#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Interval timers: getitimer/setitimer (ITIMER_REAL, which alarm uses) and the POSIX timers
/// (timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete) on the
/// real-time, monotonic and boot-time clocks, signalling the process (SIGEV_SIGNAL) or not at
/// all (SIGEV_NONE). Expiries are kept by `GuestTimers` and reach the guest as host signals do
/// (posted to the process, then delivered by a thread that does not block them).
///
/// Not supported, each refused with EINVAL and one warning: ITIMER_VIRTUAL and ITIMER_PROF,
/// CPU-time clocks, and SIGEV_THREAD_ID (glibc's SIGEV_THREAD needs the timer's siginfo value
/// in the signal, which Rivet's signal queue does not carry).
extension LinuxProcess {
    func timerSyscall(_ number: Int, _ args: SyscallArguments) -> SyscallResult? {
        switch number {
        case 102: return getitimer(which: args.int(0), value: args[1])
        case 103: return setitimer(which: args.int(0), new: args[1], old: args[2])
        case 107: return timerCreate(clock: args.int(0), event: args[1], id: args[2])
        case 108: return timerGet(args.int(0), value: args[1])
        case 109:  // timer_getoverrun
            guard let state = timers.get(Int(args.int(0))) else { return .einval }
            return .value(min(state.overrun, Int64(Int32.max)))
        case 110: return timerSet(args.int(0), flags: args.int(1), new: args[2], old: args[3])
        case 111: return timers.delete(Int(args.int(0))) ? .value(0) : .einval
        default: return nil
        }
    }

    // MARK: setitimer

    private func itimerSupported(_ which: Int32) -> Bool {
        guard which == 0 else {
            if which == 1 || which == 2 {
                warnOnce("itimer \(which)", "setitimer/getitimer \(which == 1 ? "ITIMER_VIRTUAL" : "ITIMER_PROF") is not supported; returning -EINVAL")
            }
            return false
        }
        return true
    }

    private func getitimer(which: Int32, value: UInt64) -> SyscallResult {
        guard itimerSupported(which) else { return .einval }
        let state = timers.get(GuestTimers.realTimer) ?? (0, 0, 0)
        return storeTimeval(pair: (state.interval, state.remaining), at: value)
    }

    private func setitimer(which: Int32, new: UInt64, old: UInt64) -> SyscallResult {
        guard itimerSupported(which) else { return .einval }
        let interval: UInt64, value: UInt64
        do {
            interval = try loadTimeval(at: new) ?? UInt64.max
            value = try loadTimeval(at: new &+ 16) ?? UInt64.max
        } catch { return .efault }
        guard interval != .max, value != .max else { return .einval }
        let deadline = value == 0 ? 0 : GuestTimers.now() + value
        guard let before = timers.set(GuestTimers.realTimer, deadline: deadline, interval: interval) else { return .einval }
        if old != 0 { return storeTimeval(pair: (before.interval, before.remaining), at: old) }
        return .value(0)
    }

    /// A `struct timeval` in nanoseconds; nil if its microseconds are out of range.
    private func loadTimeval(at address: UInt64) throws(GuestFault) -> UInt64? {
        let seconds = try memory.load(Int64.self, at: address)
        let micros = try memory.load(Int64.self, at: address &+ 8)
        guard seconds >= 0, micros >= 0, micros < 1_000_000 else { return nil }
        return UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ UInt64(micros) * 1000
    }

    /// `struct itimerval`: the interval, then the value, as timevals. A value under a
    /// microsecond left reads as one (Linux never reports an armed timer as 0).
    private func storeTimeval(pair: (UInt64, UInt64), at address: UInt64) -> SyscallResult {
        do {
            for (k, ns) in [pair.0, pair.1].enumerated() {
                var micros = (ns % 1_000_000_000 + 999) / 1000
                var seconds = ns / 1_000_000_000
                if micros == 1_000_000 { (seconds, micros) = (seconds + 1, 0) }
                try memory.store(Int64(seconds), at: address &+ UInt64(16 * k))
                try memory.store(Int64(micros), at: address &+ UInt64(16 * k + 8))
            }
        } catch { return .efault }
        return .value(0)
    }

    // MARK: POSIX timers

    private func timerCreate(clock: Int32, event: UInt64, id: UInt64) -> SyscallResult {
        switch clock {
        case 0, 1, 7: break  // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME
        case 8, 9: return .value(-Errno.EPERM)  // the *_ALARM clocks need CAP_WAKE_ALARM
        default:
            warnOnce("timer clock \(clock)", "timer_create on clock \(clock) (CPU time) is not supported; returning -EINVAL")
            return .einval
        }
        var signal: Int32 = 14
        var silent = false
        if event != 0 {
            let notify: Int32
            do {
                signal = try memory.load(Int32.self, at: event &+ 8)
                notify = try memory.load(Int32.self, at: event &+ 12)
            } catch { return .efault }
            switch notify {
            case 0: guard signal >= 1, signal <= 64 else { return .einval }  // SIGEV_SIGNAL
            case 1: silent = true  // SIGEV_NONE
            default:
                warnOnce(
                    "timer notify \(notify)",
                    "timer_create with sigev_notify \(notify) (SIGEV_THREAD_ID) is not supported; returning -EINVAL")
                return .einval
            }
        }
        guard let timer = timers.create(signal: signal, thread: nil, silent: silent) else { return .value(-Errno.EAGAIN) }
        do { try memory.store(Int32(timer), at: id) } catch {
            _ = timers.delete(timer)
            return .efault
        }
        timerClocks[timer] = clockid_t(clock)
        return .value(0)
    }

    /// `struct itimerspec`: the interval, then the value, as timespecs.
    private func loadTimespecPair(at address: UInt64) throws(GuestFault) -> (interval: UInt64, value: UInt64)? {
        var result: [UInt64] = []
        for k in 0..<2 {
            let seconds = try memory.load(Int64.self, at: address &+ UInt64(16 * k))
            let nanos = try memory.load(Int64.self, at: address &+ UInt64(16 * k + 8))
            guard seconds >= 0, nanos >= 0, nanos < 1_000_000_000 else { return nil }
            result.append(UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000).partialValue &+ UInt64(nanos))
        }
        return (result[0], result[1])
    }

    private func storeTimespecPair(_ pair: (UInt64, UInt64), at address: UInt64) -> SyscallResult {
        do {
            for (k, ns) in [pair.0, pair.1].enumerated() {
                try memory.store(Int64(ns / 1_000_000_000), at: address &+ UInt64(16 * k))
                try memory.store(Int64(ns % 1_000_000_000), at: address &+ UInt64(16 * k + 8))
            }
        } catch { return .efault }
        return .value(0)
    }

    private func timerGet(_ id: Int32, value: UInt64) -> SyscallResult {
        guard id >= 0, let state = timers.get(Int(id)) else { return .einval }
        return storeTimespecPair((state.interval, state.remaining), at: value)
    }

    private func timerSet(_ id: Int32, flags: Int32, new: UInt64, old: UInt64) -> SyscallResult {
        guard id >= 0, timers.exists(Int(id)) else { return .einval }
        let spec: (interval: UInt64, value: UInt64)?
        do { spec = try loadTimespecPair(at: new) } catch { return .efault }
        guard let spec else { return .einval }
        var deadline: UInt64 = 0
        if spec.value != 0 {
            let now = GuestTimers.now()
            if flags & 1 != 0 {
                // TIMER_ABSTIME: a time on the timer's clock, taken to the monotonic one now.
                var ts = timespec()
                clock_gettime(timerClocks[Int(id)] ?? CLOCK_MONOTONIC, &ts)
                let clockNow = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
                deadline = spec.value > clockNow ? now + (spec.value - clockNow) : now
            } else {
                deadline = now + spec.value
            }
            deadline = max(deadline, 1)
        }
        guard let before = timers.set(Int(id), deadline: deadline, interval: spec.interval) else { return .einval }
        if old != 0 { return storeTimespecPair((before.interval, before.remaining), at: old) }
        return .value(0)
    }
}
