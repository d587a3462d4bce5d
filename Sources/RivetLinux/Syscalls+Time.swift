#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

extension LinuxProcess {
    /// Whether the guest may read `clock`: the system clocks (0-11), or a CPU-time clock of
    /// its own process or thread. Other CPU-time clocks name host processes: EINVAL.
    func allowsClock(_ clock: Int32) -> Bool {
        if clock >= 0 { return clock <= 11 }
        // A CPU clock encodes ~pid << 3 | kind; pid 0 means the caller.
        let owner = Int64(~(clock >> 3))
        return owner == 0 || owner == pid
    }

    func timeSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        switch number {
        case 113, 114, 115:
            guard allowsClock(args.int(0)) else { return .einval }
        default:
            break
        }
        switch number {
        case 113:  // clock_gettime
            var ts = timespec()
            guard clock_gettime(clockid_t(args.int(0)), &ts) == 0 else { return .host(-1) }
            return storeTimespec(ts, at: args[1])
        case 114:  // clock_getres
            var ts = timespec()
            guard clock_getres(clockid_t(args.int(0)), &ts) == 0 else { return .host(-1) }
            return args[1] == 0 ? .value(0) : storeTimespec(ts, at: args[1])
        case 169:  // gettimeofday
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            if args[0] != 0 {
                do {
                    try memory.store(Int64(ts.tv_sec), at: args[0])
                    try memory.store(Int64(ts.tv_nsec / 1000), at: args[0] &+ 8)
                } catch { return .efault }
            }
            if args[1] != 0 {
                do { try memory.write([UInt8](repeating: 0, count: 8), at: args[1]) } catch { return .efault }
            }
            return .value(0)
        case 101:  // nanosleep
            return sleep(clock: CLOCK_MONOTONIC, flags: 0, request: args[0], remaining: args[1], hart)
        case 115:  // clock_nanosleep
            return sleep(clock: clockid_t(args.int(0)), flags: args.int(1), request: args[2], remaining: args[3], hart)
        case 153:  // times
            var t = tms()
            let ticks = Glibc.times(&t)
            if args[0] != 0 {
                do {
                    try memory.store(Int64(t.tms_utime), at: args[0])
                    try memory.store(Int64(t.tms_stime), at: args[0] &+ 8)
                    try memory.store(Int64(t.tms_cutime), at: args[0] &+ 16)
                    try memory.store(Int64(t.tms_cstime), at: args[0] &+ 24)
                } catch { return .efault }
            }
            return .value(Int64(ticks))
        default:
            return nil
        }
    }

    private func storeTimespec(_ ts: timespec, at address: UInt64) -> SyscallResult {
        do {
            try memory.store(Int64(ts.tv_sec), at: address)
            try memory.store(Int64(ts.tv_nsec), at: address &+ 8)
        } catch { return .efault }
        return .value(0)
    }

    /// nanosleep and clock_nanosleep: sleeps until an absolute time on `clock`, so that an
    /// interruption the guest does not see (a signal it ignores or blocks) costs no extra time;
    /// one it sees (a signal it handles, the run's deadline) ends the sleep with EINTR and the
    /// time left.
    private func sleep(clock: clockid_t, flags: Int32, request: UInt64, remaining: UInt64, _ hart: HartState)
        -> SyscallResult
    {
        var ts = timespec()
        do {
            ts.tv_sec = Int(try memory.load(Int64.self, at: request))
            ts.tv_nsec = Int(try memory.load(Int64.self, at: request &+ 8))
        } catch { return .efault }
        guard ts.tv_sec >= 0, ts.tv_nsec >= 0, ts.tv_nsec < 1_000_000_000 else { return .einval }
        let absolute = flags & TIMER_ABSTIME != 0
        var until = ts
        if !absolute {
            var now = timespec()
            guard clock_gettime(clock, &now) == 0 else { return .einval }
            until.tv_sec = now.tv_sec + ts.tv_sec + (now.tv_nsec + ts.tv_nsec) / 1_000_000_000
            until.tv_nsec = (now.tv_nsec + ts.tv_nsec) % 1_000_000_000
        }
        while true {
            let target = until
            let result = blocking { HostIO.sleep(until: target, on: clock) }
            if result == 0 { return .value(0) }
            guard result == -Int(EINTR) else { return .value(Int64(result)) }
            guard mustInterrupt(hart) else { continue }
            if !absolute, remaining != 0 {
                var now = timespec()
                clock_gettime(clock, &now)
                var left = (until.tv_sec - now.tv_sec) * 1_000_000_000 + (until.tv_nsec - now.tv_nsec)
                left = max(0, left)
                _ = storeTimespec(timespec(tv_sec: left / 1_000_000_000, tv_nsec: left % 1_000_000_000), at: remaining)
            }
            return .value(-Errno.EINTR)
        }
    }
}
