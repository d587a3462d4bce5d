import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// What a signal carries into `siginfo_t`.
public struct SignalInfo: Equatable, Sendable {
    public var signal: Int32
    /// si_code: SI_USER (0), SI_TKILL (-6), SEGV_MAPERR (1), SEGV_ACCERR (2), ILL_ILLOPC (1) ...
    public var code: Int32
    /// si_addr for faults; si_pid for kill.
    public var address: UInt64 = 0
    public var senderPID: Int32 = 0

    public init(signal: Int32, code: Int32, address: UInt64 = 0, senderPID: Int32 = 0) {
        self.signal = signal
        self.code = code
        self.address = address
        self.senderPID = senderPID
    }
}

/// Layout of the riscv64 signal frame (arch/riscv/kernel/signal.c, uapi asm/ucontext.h and
/// asm/sigcontext.h): `struct rt_sigframe { siginfo_t info; struct ucontext uc; }`.
enum SignalFrame {
    static let infoSize: UInt64 = 128
    static let ucontext: UInt64 = 128
    // Offsets inside struct ucontext.
    static let ucFlags: UInt64 = 0
    static let ucLink: UInt64 = 8
    static let ucStack: UInt64 = 16
    static let ucSigmask: UInt64 = 40
    /// uc_mcontext: struct sigcontext, 16-byte aligned after 1024 bits of sigset space.
    static let ucMcontext: UInt64 = 176
    /// sc_regs: pc, then x1...x31.
    static let scRegs: UInt64 = 0
    /// sc_fpregs: the D state, f0...f31 then fcsr (inside a 528-byte union).
    static let scFP: UInt64 = 256
    static let sigcontextSize: UInt64 = 256 + 528
    static let size: UInt64 = (infoSize + ucMcontext + sigcontextSize + 15) & ~15
}

/// SA_* flags.
enum SignalFlag {
    static let siginfo: UInt64 = 0x4
    static let onStack: UInt64 = 0x0800_0000
    static let restart: UInt64 = 0x1000_0000
    static let noDefer: UInt64 = 0x4000_0000
    static let resetHand: UInt64 = 0x8000_0000
}

extension LinuxProcess {
    /// Guest code that returns from a signal handler: `li a7, 139; ecall` (rt_sigreturn). Linux
    /// keeps it in the vDSO; Rivet maps one page for it at start.
    static let sigreturnCode: [UInt32] = [0x08b0_0893, 0x0000_0073]

    /// Maps the page holding the signal-return trampoline.
    func mapSignalTrampoline() throws(MappingError) {
        guard
            let start = memory.map.findFree(
                size: GuestMemory.pageSize, lowest: GuestAddress(AddressLayout.mmapBottom),
                highest: GuestAddress(AddressLayout.mmapTop))
        else { throw .outOfMemory }
        try memory.mapAnonymous(at: start, size: GuestMemory.pageSize, permissions: .readWrite, name: "[vdso]")
        for (k, word) in Self.sigreturnCode.enumerated() {
            memory.host(start.rawValue + UInt64(4 * k)).storeBytes(of: word.littleEndian, as: UInt32.self)
        }
        try memory.protect(at: start, size: GuestMemory.pageSize, permissions: .readExecute)
        signalTrampoline = start.rawValue
    }

    /// Delivers a signal raised by the guest's own code or by a fault at `hart.pc`.
    ///
    /// `hart` must hold the context to resume after the handler returns: for a fault, the
    /// faulting pc; for kill/raise, the pc after the `ecall` with a0 holding its result.
    /// - Parameter synchronous: a fault, which cannot be blocked or ignored: Linux then resets
    ///   the action to default and the process dies.
    /// - Returns: `.resumeAtPC` when a handler will run (the hart points at it), `.resume`-like
    ///   nil when the signal is ignored or left pending, or `.killed`.
    public func deliver(_ info: SignalInfo, hart: HartState, synchronous: Bool) -> SyscallOutcome? {
        let signal = info.signal
        let bit: UInt64 = 1 << UInt64(signal - 1)
        var action = signals.actions[Int(signal)]
        let blocked = signals.mask & bit != 0
        if synchronous && (blocked || action.handler == SignalAction.ignoreHandler) {
            action = SignalAction()
        } else if blocked {
            signals.pending |= bit
            return nil
        }
        switch action.handler {
        case SignalAction.defaultHandler:
            return Signal.ignoredByDefault(signal) ? nil : .killed(signal)
        case SignalAction.ignoreHandler:
            return nil
        default:
            break
        }
        guard let frame = pushFrame(info, action: action, hart: hart) else {
            // The stack cannot take the frame: Linux kills with SIGSEGV.
            return .killed(Signal.SIGSEGV)
        }
        if action.flags & SignalFlag.resetHand != 0 { signals.actions[Int(signal)] = SignalAction() }
        signals.mask |= action.mask
        if action.flags & SignalFlag.noDefer == 0 { signals.mask |= bit }
        signals.mask &= ~(1 << UInt64(Signal.SIGKILL - 1) | 1 << UInt64(Signal.SIGSTOP - 1))
        hart[x: 1] = signalTrampoline
        hart[x: 2] = frame
        hart[x: 10] = UInt64(signal)
        hart[x: 11] = frame
        hart[x: 12] = frame + SignalFrame.ucontext
        hart.pc = action.handler
        return .resumeAtPC
    }

    /// Builds the frame below the stack pointer (or on the alternate stack). Returns its address.
    private func pushFrame(_ info: SignalInfo, action: SignalAction, hart: HartState) -> UInt64? {
        let sp = hart[x: 2]
        var top = sp
        let alt = signals.alternateStack
        // The guest chose the alternate stack's numbers: the arithmetic wraps, and a frame that
        // does not fit is caught below.
        let onAlternate = alt.flags & 2 == 0 && alt.size > 0 && !(sp > alt.base && sp <= alt.base &+ alt.size)
        if action.flags & SignalFlag.onStack != 0, onAlternate { top = alt.base &+ alt.size }
        let frame = (top &- SignalFrame.size) & ~15
        guard frame < top else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(SignalFrame.size))
        func put<T: FixedWidthInteger>(_ value: T, _ offset: UInt64) {
            withUnsafeBytes(of: value.littleEndian) { raw in
                for k in 0..<raw.count { bytes[Int(offset) + k] = raw[k] }
            }
        }
        put(info.signal, 0)
        put(Int32(0), 4)
        put(info.code, 8)
        if info.signal == Signal.SIGSEGV || info.signal == Signal.SIGBUS || info.signal == Signal.SIGILL
            || info.signal == Signal.SIGFPE || info.signal == Signal.SIGTRAP
        {
            put(info.address, 16)
        } else {
            put(info.senderPID, 16)
            put(UInt32(identity.uid), 20)
        }
        let uc = SignalFrame.ucontext
        put(alt.base, uc + SignalFrame.ucStack)
        put(alt.flags, uc + SignalFrame.ucStack + 8)
        put(alt.size, uc + SignalFrame.ucStack + 16)
        put(signals.mask, uc + SignalFrame.ucSigmask)
        let mc = uc + SignalFrame.ucMcontext
        put(hart.pc, mc + SignalFrame.scRegs)
        for n in 1..<32 { put(hart[x: n], mc + SignalFrame.scRegs + UInt64(8 * n)) }
        for n in 0..<32 { put(hart[f: n], mc + SignalFrame.scFP + UInt64(8 * n)) }
        put(UInt32(truncatingIfNeeded: hart.fcsr), mc + SignalFrame.scFP + 256)
        do { try memory.write(bytes, at: frame) } catch { return nil }
        return frame
    }

    /// rt_sigreturn: restores the context saved by `deliver`.
    func sigreturn(_ hart: HartState) -> SyscallResult {
        let frame = hart[x: 2]
        let mc = frame &+ SignalFrame.ucontext &+ SignalFrame.ucMcontext
        do {
            let mask = try memory.load(UInt64.self, at: frame &+ SignalFrame.ucontext &+ SignalFrame.ucSigmask)
            let pc = try memory.load(UInt64.self, at: mc &+ SignalFrame.scRegs)
            var x = [UInt64](repeating: 0, count: 32)
            for n in 1..<32 { x[n] = try memory.load(UInt64.self, at: mc &+ SignalFrame.scRegs &+ UInt64(8 &* n)) }
            var f = [UInt64](repeating: 0, count: 32)
            for n in 0..<32 { f[n] = try memory.load(UInt64.self, at: mc &+ SignalFrame.scFP &+ UInt64(8 &* n)) }
            let fcsr = try memory.load(UInt32.self, at: mc &+ SignalFrame.scFP &+ 256)
            for n in 1..<32 { hart[x: n] = x[n] }
            for n in 0..<32 { hart[f: n] = f[n] }
            hart.fcsr = UInt64(fcsr)
            hart.pc = pc
            signals.mask = mask & ~(1 << UInt64(Signal.SIGKILL - 1) | 1 << UInt64(Signal.SIGSTOP - 1))
        } catch {
            // Linux forces SIGSEGV (SI_KERNEL) on a frame it cannot read.
            let detail = "rt_sigreturn found no readable signal frame at sp 0x\(String(frame, radix: 16)) (\(error))"
            return .outcome(.fault(SignalInfo(signal: Signal.SIGSEGV, code: 0x80), detail: detail))
        }
        return .outcome(deliverPendingSignals(hart) ?? .resumeAtPC)
    }

    /// Whether delivering `signal` would do nothing: its action is SIG_IGN, or the default
    /// action ignores it.
    func ignores(_ signal: Int32) -> Bool {
        let handler = signals.actions[Int(signal)].handler
        return handler == SignalAction.ignoreHandler
            || (handler == SignalAction.defaultHandler && Signal.ignoredByDefault(signal))
    }

    /// Makes the signals posted to the hart from other threads (host signals forwarded to the
    /// guest) pending; those the guest ignores are discarded, as Linux discards them when sent.
    public func acceptPostedSignals(_ hart: HartState) {
        if processPending & ~signals.mask != 0 {
            signals.pending |= processPending & ~signals.mask
            processPending &= signals.mask
        }
        // Host signals are posted to the first thread's hart (the watchdog's), for the process.
        var posted = rivet_take_posted_signals(self.hart.slots)
        while posted != 0 {
            let signal = Int32(posted.trailingZeroBitCount + 1)
            posted &= posted - 1
            if !ignores(signal) { signals.pending |= 1 << UInt64(signal - 1) }
        }
    }

    /// Whether a blocking syscall must give way: the run's deadline passed, or a signal the
    /// guest acts on (not blocked, not ignored) is pending.
    func mustInterrupt(_ hart: HartState) -> Bool {
        if hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_STOPS_BLOCKING != 0 { return true }
        acceptPostedSignals(hart)
        return signals.pending & ~signals.mask != 0
    }

    /// Delivers every pending signal that is not blocked, each handler's frame above the one
    /// before, as Linux does on its way back to user mode.
    /// - Returns: `.resumeAtPC` if a handler will run, `.killed` if a signal's default action
    ///   ends the process, nil if nothing was delivered.
    public func deliverPendingSignals(_ hart: HartState) -> SyscallOutcome? {
        var outcome: SyscallOutcome? = nil
        while signals.pending & ~signals.mask != 0 {
            switch deliverPending(hart) {
            case .killed(let signal): return .killed(signal)
            case .exit(let status): return .exit(status)
            case .resumeAtPC, .resume, .fault, .threadExit: outcome = .resumeAtPC
            case nil: break
            }
        }
        return outcome
    }

    /// Delivers the lowest pending signal that is no longer blocked, if any.
    func deliverPending(_ hart: HartState) -> SyscallOutcome? {
        let ready = signals.pending & ~signals.mask
        guard ready != 0 else { return nil }
        let signal = Int32(ready.trailingZeroBitCount + 1)
        signals.pending &= ~(1 << UInt64(signal - 1))
        return deliver(SignalInfo(signal: signal, code: 0, senderPID: Int32(pid)), hart: hart, synchronous: false)
    }
}
