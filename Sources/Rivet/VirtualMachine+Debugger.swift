import RivetInterpreter
import RivetJIT
import RivetLinux
import RivetMachine

/// The debugged hart's state between gdb's commands. Only the first guest thread is debugged:
/// it stops at breakpoints, steps and reports its signals; other threads run on (they wait for
/// the process's lock, which a stopped first thread does not hold, only if they need it).
///
/// Under a debugger the first thread runs in the interpreter, one instruction per block
/// (`Interpreter.singleStep`) while gdb has breakpoints, asking `shouldStop` before each
/// instruction: breakpoints therefore hold whatever the tier, since compiled code is never
/// entered (the engine runs in interpreter mode while a debugger is configured).
final class Debugger {
    let stub: GDBStub
    /// The stop gdb must hear about before the hart runs again.
    var pending: GDBStop? = .initial
    /// Whether the hart executes one instruction and stops (else it runs to a breakpoint).
    var stepping = false
    /// Where the hart was resumed: the instruction there runs even if it is a breakpoint
    /// (until an instruction retires, the hart is still "at" it).
    var resumedPC: UInt64 = .max
    var resumedInstret: UInt64 = 0
    /// Whether the last run stopped at a breakpoint.
    var hitBreakpoint = false

    /// Instructions the hart runs between looks at gdb's interrupt (0x03) while continuing.
    static let slice: UInt64 = 1 << 16

    init(stub: GDBStub) { self.stub = stub }

    /// Whether the hart must stop before the instruction at `pc` (the interpreter asks).
    func shouldStop(_ pc: UInt64, _ hart: HartState) -> Bool {
        guard stub.isBreakpoint(pc), !(pc == resumedPC && hart.instret == resumedInstret) else { return false }
        hitBreakpoint = true
        return true
    }

    /// After a run of the hart: what to report at the next stop.
    func ran(_ stop: StopReason) {
        guard stub.isAttached else { return }
        if hitBreakpoint {
            hitBreakpoint = false
            pending = .breakpoint
        } else if stepping {
            pending = .step
        } else if case .budgetExhausted = stop, stub.interruptRequested() {
            pending = .interrupt
        }
    }
}

extension VirtualMachine {
    /// The debugger of `hart`'s thread: the first thread's, while gdb is attached. Only the
    /// first thread reads or changes `debugger` (the hart is compared first), so other threads
    /// never race with it.
    func debugger(for hart: HartState) -> Debugger? {
        guard hart === self.hart, let debugger, debugger.stub.isAttached else { return nil }
        return debugger
    }

    /// Makes the interpreter ask `debugger` before every instruction of the first thread.
    func attach(_ debugger: Debugger) {
        self.debugger = debugger
        debugger.stub.auxiliaryVector = { [unowned process] in process.auxiliaryVector }
        let hart = hart
        interpreter.singleStep = true
        interpreter.stopBefore = { [unowned debugger] pc in debugger.shouldStop(pc, hart) }
    }

    /// The guest runs on without a debugger (gdb detached, or in a forked child).
    func detachDebugger() {
        debugger?.stub.closeAll()
        debugger = nil
        interpreter.stopBefore = nil
        interpreter.singleStep = configuration.tracesInstructions
    }

    /// Reports `stop` to gdb and serves it until it resumes the hart — without the process's
    /// lock, which the calling thread holds, so that the other threads' syscalls go on — and
    /// prepares the hart's run as gdb asked.
    /// - Returns: gdb's answer; `.kill` ends the guest, `.resume`/`.step` with a signal pass
    ///   it (the caller delivers a fault it reported; other signals are not passed).
    func serve(_ debugger: Debugger, _ stop: GDBStop, _ hart: HartState) -> GDBResume {
        let thread = process.current
        debugger.pending = nil
        process.lock.release()
        let resume = debugger.stub.serve(stop, hart: hart, memory: memory, abandoned: { [process] in process.isEnding })
        process.acquire(thread)
        debugger.resumedPC = hart.pc
        debugger.resumedInstret = hart.instret
        debugger.hitBreakpoint = false
        // Without breakpoints the interpreter may run whole blocks: nothing to check between
        // instructions (a step's budget of one still ends after one).
        interpreter.singleStep = configuration.tracesInstructions || !debugger.stub.breakpoints.isEmpty
        switch resume {
        case .resume: debugger.stepping = false
        case .step: debugger.stepping = true
        case .detach: detachDebugger()
        case .kill: break
        }
        return resume
    }

    /// At the top of the first thread's loop: tells gdb about a pending stop.
    /// - Returns: why the process ends, if gdb killed it.
    func reportDebuggerStop(_ hart: HartState) -> ExitReason? {
        guard let debugger = debugger(for: hart), let stop = debugger.pending else { return nil }
        if serve(debugger, stop, hart) == .kill { return .signaled(Signal.SIGKILL, detail: "killed by gdb") }
        return nil
    }

    /// A synchronous signal of the debugged thread, before it is delivered: gdb hears of it,
    /// and it is delivered only if gdb passes it on (`C`/`vCont;C` with that signal), else the
    /// instruction runs again.
    /// - Returns: nil to deliver it, `.some(nil)` to drop it, `.some(reason)` if gdb killed the guest.
    func debuggerSees(_ info: SignalInfo, _ hart: HartState) -> ExitReason?? {
        guard let debugger = debugger(for: hart) else { return nil }
        switch serve(debugger, .signal(info.signal), hart) {
        case .kill: return .some(.signaled(Signal.SIGKILL, detail: "killed by gdb"))
        case .resume(let signal), .step(let signal): return signal == info.signal ? nil : .some(nil)
        case .detach: return nil
        }
    }
}
