import RivetMachine

/// Signal numbers (generic Linux numbering).
public enum Signal {
    /// SIGKILL and SIGSTOP, which no mask blocks.
    public static let unblockable: UInt64 = 1 << 8 | 1 << 18
    public static let SIGHUP: Int32 = 1
    public static let SIGINT: Int32 = 2
    public static let SIGQUIT: Int32 = 3
    public static let SIGILL: Int32 = 4
    public static let SIGTRAP: Int32 = 5
    public static let SIGABRT: Int32 = 6
    public static let SIGBUS: Int32 = 7
    public static let SIGFPE: Int32 = 8
    public static let SIGKILL: Int32 = 9
    public static let SIGUSR1: Int32 = 10
    public static let SIGSEGV: Int32 = 11
    public static let SIGUSR2: Int32 = 12
    public static let SIGPIPE: Int32 = 13
    public static let SIGALRM: Int32 = 14
    public static let SIGTERM: Int32 = 15
    public static let SIGCHLD: Int32 = 17
    public static let SIGCONT: Int32 = 18
    public static let SIGSTOP: Int32 = 19
    public static let SIGTSTP: Int32 = 20
    public static let SIGTTIN: Int32 = 21
    public static let SIGTTOU: Int32 = 22
    public static let SIGURG: Int32 = 23
    public static let SIGWINCH: Int32 = 28

    /// The name `kill -l` prints, with the SIG prefix.
    public static func name(_ signal: Int32) -> String {
        let names = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
            8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
            14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
            20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
            26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
        ]
        return names[Int(signal)] ?? "SIG\(signal)"
    }

    /// Whether the default action is to ignore the signal.
    public static func ignoredByDefault(_ signal: Int32) -> Bool {
        signal == SIGCHLD || signal == SIGURG || signal == SIGWINCH || signal == SIGCONT
    }
}

/// A `struct sigaction` as the riscv64 kernel sees it (no sa_restorer).
public struct SignalAction: Equatable, Sendable {
    public var handler: UInt64 = 0
    public var flags: UInt64 = 0
    public var mask: UInt64 = 0

    public static let defaultHandler: UInt64 = 0
    public static let ignoreHandler: UInt64 = 1
}

/// Per-process signal dispositions, and the one thread's mask and alternate stack.
public struct SignalState: Sendable {
    public var actions = [SignalAction](repeating: SignalAction(), count: 65)
    public var mask: UInt64 = 0
    public var alternateStack: (base: UInt64, size: UInt64, flags: UInt32) = (0, 0, 2)  // SS_DISABLE
    /// Signals raised while blocked.
    public var pending: UInt64 = 0
}

extension LinuxProcess {
    func signalSyscall(_ number: Int, _ args: SyscallArguments, _ hart: HartState) -> SyscallResult? {
        switch number {
        case 134: return sigaction(args)
        case 135:
            let result = sigprocmask(args)
            // Unblocking may make a pending signal deliverable now.
            guard case .value(0) = result, signals.pending & ~signals.mask != 0 else { return result }
            hart[x: 10] = 0
            hart.pc += 4
            return .outcome(deliverPending(hart) ?? .resumeAtPC)
        case 139: return sigreturn(hart)
        case 132: return sigaltstack(args)
        case 129:  // kill(pid, sig)
            let target = Int64(args.int(0))
            if let result = signalOtherProcess(target, args.int(1)) { return result }
            guard target == pid || target == 0 || target == -1 || target == -pid else { return .value(-Errno.EPERM) }
            return signalProcess(args.int(1), code: 0, hart: hart)
        case 130:  // tkill(tid, sig)
            return signalThread(Int64(args.int(0)), args.int(1), hart: hart)
        case 131:  // tgkill(tgid, tid, sig)
            guard Int64(args.int(0)) == pid else { return .value(-Errno.ESRCH) }
            return signalThread(Int64(args.int(1)), args.int(2), hart: hart)
        case 133: return sigsuspend(args, hart)  // rt_sigsuspend
        case 137: return sigtimedwait(args, hart)  // rt_sigtimedwait
        case 136:  // rt_sigpending
            do { try memory.store((signals.pending | processPending) & signals.mask, at: args[0]) } catch { return .efault }
            return .value(0)
        default:
            return nil
        }
    }

    private func sigaction(_ args: SyscallArguments) -> SyscallResult {
        let signal = Int(args.int(0))
        guard signal >= 1, signal <= 64, args[3] == 8 else { return .einval }
        if args[2] != 0 {
            let old = signals.actions[signal]
            do {
                try memory.store(old.handler, at: args[2])
                try memory.store(old.flags, at: args[2] &+ 8)
                try memory.store(old.mask, at: args[2] &+ 16)
            } catch { return .efault }
        }
        if args[1] != 0 {
            guard signal != Int(Signal.SIGKILL), signal != Int(Signal.SIGSTOP) else { return .einval }
            do {
                signals.actions[signal] = SignalAction(
                    handler: try memory.load(UInt64.self, at: args[1]), flags: try memory.load(UInt64.self, at: args[1] &+ 8),
                    mask: try memory.load(UInt64.self, at: args[1] &+ 16))
            } catch { return .efault }
        }
        return .value(0)
    }

    private func sigprocmask(_ args: SyscallArguments) -> SyscallResult {
        guard args[3] == 8 else { return .einval }
        let old = signals.mask
        if args[1] != 0 {
            let set: UInt64
            do { set = try memory.load(UInt64.self, at: args[1]) } catch { return .efault }
            let unblockable: UInt64 = 1 << (UInt64(Signal.SIGKILL) - 1) | 1 << (UInt64(Signal.SIGSTOP) - 1)
            switch args[0] {
            case 0: signals.mask |= set
            case 1: signals.mask &= ~set
            case 2: signals.mask = set
            default: return .einval
            }
            signals.mask &= ~unblockable
        }
        if args[2] != 0 {
            do { try memory.store(old, at: args[2]) } catch { return .efault }
        }
        return .value(0)
    }

    private func sigaltstack(_ args: SyscallArguments) -> SyscallResult {
        if args[1] != 0 {
            do {
                try memory.store(signals.alternateStack.base, at: args[1])
                try memory.store(signals.alternateStack.flags, at: args[1] &+ 8)
                try memory.store(UInt32(0), at: args[1] &+ 12)
                try memory.store(signals.alternateStack.size, at: args[1] &+ 16)
            } catch { return .efault }
        }
        if args[0] != 0 {
            do {
                let base = try memory.load(UInt64.self, at: args[0])
                let flags = try memory.load(UInt32.self, at: args[0] &+ 8)
                let size = try memory.load(UInt64.self, at: args[0] &+ 16)
                guard flags & ~2 == 0 else { return .einval }
                if flags & 2 == 0 && size < 2048 { return .value(-Errno.ENOMEM) }
                signals.alternateStack = (base, size, flags)
            } catch { return .efault }
        }
        return .value(0)
    }

    /// Sends `signal` to the guest itself (kill, tkill, tgkill): the syscall returns 0 and the
    /// signal is delivered on the way back to the guest, as Linux does.
    func raise(_ signal: Int32, code: Int32, hart: HartState) -> SyscallResult {
        guard signal >= 0, signal <= 64 else { return .einval }
        if signal == 0 { return .value(0) }
        if signal == Signal.SIGKILL || signal == Signal.SIGSTOP { return .outcome(.killed(signal)) }
        hart[x: 10] = 0
        hart.pc += 4
        let info = SignalInfo(signal: signal, code: code, senderPID: Int32(truncatingIfNeeded: pid))
        return .outcome(deliver(info, hart: hart, synchronous: false) ?? .resumeAtPC)
    }
}
