#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetInterpreter
import RivetJIT
import RivetLinux
import RivetMachine
import Synchronization

/// One guest thread as the debugger keeps it: its pending stop and what gdb told it to do.
/// Its own host thread reads and writes it while running guest code (`shouldStop`, `ran`);
/// other threads touch it only holding the process's lock while it is out of guest code.
final class DebuggedThread: @unchecked Sendable {
    /// What gdb told the thread to do at the last resumption.
    enum Action {
        case run
        case step
        /// Stay stopped (`vCont` named other threads only).
        case hold
    }

    let hart: HartState
    let stub: GDBStub
    let memory: GuestMemory
    /// The stop gdb must hear about before the thread runs again.
    var pending: GDBStop?
    var action = Action.run
    /// Where the thread was resumed: the instruction there runs even if it is a breakpoint or
    /// touches a watchpoint (until an instruction retires, the thread is still "at" it).
    var resumedPC: UInt64 = .max
    var resumedInstret: UInt64 = 0
    /// Instructions retired when its current run started (a step that retired none, because
    /// another thread stopped the guest first, is no step).
    var instretBeforeRun: UInt64 = 0
    /// Whether its interpreter asks `shouldStop` (set by its own thread, at its first turn).
    var isInstalled = false

    /// Whether the thread executes one instruction and stops.
    var stepping: Bool { action == .step }

    /// Whether it stopped before an instruction, at a breakpoint or watchpoint.
    var stoppedBefore: Bool {
        switch pending {
        case .breakpoint, .watchpoint: true
        case .initial, .step, .interrupt, .signal, nil: false
        }
    }

    init(hart: HartState, stub: GDBStub, memory: GuestMemory) {
        self.hart = hart
        self.stub = stub
        self.memory = memory
    }

    /// Whether the thread must stop before the instruction at `pc` (its interpreter asks, with
    /// the registers as they are before it): a breakpoint there, or a watchpoint its access
    /// touches. RISC-V gdb expects a watchpoint to stop the thread before the access
    /// (`have_nonsteppable_watchpoint`): it steps over the instruction itself and then
    /// compares the watched values.
    func shouldStop(_ pc: UInt64) -> Bool {
        guard stub.isAttached, !(pc == resumedPC && hart.instret == resumedInstret) else { return false }
        if stub.breakpoints.contains(pc) {
            pending = .breakpoint
            return true
        }
        if !stub.watchpoints.isEmpty, let access = GuestAccess.next(of: hart, in: memory),
            let (watchpoint, address) = stub.watchpoint(hitBy: access)
        {
            pending = .watchpoint(watchpoint.kind, address: address)
            return true
        }
        return false
    }

    /// After a run of the thread: a step that retired an instruction is reported.
    func ran(_ stop: StopReason) {
        if pending == nil, action == .step, hart.instret != instretBeforeRun { pending = .step }
    }
}

/// The GDB stub and the debugged threads. Under a debugger every thread runs in the
/// interpreter (compiled code is never entered), one instruction per block while gdb has
/// breakpoints or watchpoints, asking its `DebuggedThread.shouldStop` before each. A thread
/// with a stop to report stops the others (all-stop: each leaves guest code at its next
/// instruction, then waits for the process's lock, which the reporting thread keeps while gdb
/// looks), and gdb's resumption says which threads run, step or stay stopped.
final class Debugger {
    let stub: GDBStub
    private let threads = Mutex<[ObjectIdentifier: DebuggedThread]>([:])

    /// Instructions a thread runs between looks at gdb's interrupt (0x03) while continuing.
    static let slice: UInt64 = 1 << 16

    init(stub: GDBStub) { self.stub = stub }

    /// The state of the thread whose hart is `hart`, if it has one yet.
    func state(of hart: HartState) -> DebuggedThread? {
        threads.withLock { $0[ObjectIdentifier(hart)] }
    }

    /// The state of `hart`'s thread, made now if it has none.
    func track(_ hart: HartState, memory: GuestMemory) -> DebuggedThread {
        threads.withLock { threads in
            if let state = threads[ObjectIdentifier(hart)] { return state }
            let state = DebuggedThread(hart: hart, stub: stub, memory: memory)
            threads[ObjectIdentifier(hart)] = state
            return state
        }
    }

    /// Forgets the threads whose harts are not in `live` (they exited).
    func keep(only live: [HartState]) {
        let kept = Set(live.map(ObjectIdentifier.init))
        threads.withLock { threads in threads = threads.filter { kept.contains($0.key) } }
    }
}

/// The stopped guest as the stub shows it to gdb. Asked only while the reporting thread holds
/// the process's lock and no other thread runs guest code.
final class DebuggedProcess: GDBTarget {
    unowned let process: LinuxProcess

    init(process: LinuxProcess) { self.process = process }

    var processID: Int64 { process.pid }

    var threadIDs: [Int64] {
        let pid = process.pid
        return process.threads.keys.sorted { ($0 == pid ? 0 : 1, $0) < ($1 == pid ? 0 : 1, $1) }
    }

    func hart(ofThread tid: Int64) -> HartState? { process.threads[tid]?.hart }

    var memory: GuestMemory { process.memory }

    var auxiliaryVector: [UInt8] { process.auxiliaryVector }

    var executablePath: String { process.executableGuestPath }

    /// `/proc/PID/...` of the guest is its `/proc/self/...`.
    private func guestPath(_ path: String) -> String {
        let prefix = "/proc/\(process.pid)/"
        return path.hasPrefix(prefix) ? "/proc/self/" + path.dropFirst(prefix.count) : path
    }

    /// Resolves `path` as the guest would, without telling the guest's note about paths
    /// outside its grants (gdb asked, not the guest).
    private func resolve(_ path: String, followFinal: Bool) -> Result<Sandbox.Resolution, SandboxError> {
        let sandbox = process.filesystem
        let observer = sandbox.outsideGrantsObserver
        sandbox.outsideGrantsObserver = nil
        defer { sandbox.outsideGrantsObserver = observer }
        return sandbox.resolve(guestPath(path), followFinal: followFinal, magicLinks: { [process] in process.magicLinkText($0) })
    }

    func openFile(_ path: String) -> Result<GDBFile, GDBFileError> {
        openFile(path, links: 0)
    }

    private func openFile(_ path: String, links: Int) -> Result<GDBFile, GDBFileError> {
        let resolution: Sandbox.Resolution
        switch resolve(path, followFinal: true) {
        case .failure(let error): return .failure(GDBFileError(error.errno))
        case .success(let found): resolution = found
        }
        switch resolution.target {
        case .emulated(.generated(let file)):
            return .success(.contents(process.generatedContents(file)))
        case .emulated(.executableLink):
            guard links == 0, let target = process.magicLinkText(.executableLink) else { return .failure(GDBFileError(Errno.ENOENT)) }
            return openFile(target, links: 1)
        case .host(let hostPath, _, _):
            let fd = HostFileSystem.open(hostPath, O_RDONLY)
            guard fd >= 0 else { return .failure(GDBFileError(Int64(-fd))) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
                close(fd)
                return .failure(GDBFileError(Errno.EACCES))
            }
            return .success(.host(fd))
        case .emulated, .virtualDirectory:
            return .failure(GDBFileError(Errno.EACCES))
        }
    }

    func readLink(_ path: String) -> Result<String, GDBFileError> {
        switch resolve(path, followFinal: false) {
        case .failure(let error): return .failure(GDBFileError(error.errno))
        case .success(let resolution):
            switch resolution.target {
            case .emulated(let file):
                guard file.isLink, let text = process.magicLinkText(file) else { return .failure(GDBFileError(Errno.EINVAL)) }
                return .success(text)
            case .host(let hostPath, _, _):
                switch HostFileSystem.readLink(hostPath) {
                case .success(let bytes): return .success(String(decoding: bytes, as: UTF8.self))
                case .failure(let error): return .failure(GDBFileError(error.errno))
                }
            case .virtualDirectory:
                return .failure(GDBFileError(Errno.EINVAL))
            }
        }
    }
}

extension VirtualMachine {
    /// The debugger's state of `hart`'s thread, while gdb is attached.
    func debugger(for hart: HartState) -> DebuggedThread? {
        guard let debugger, debugger.stub.isAttached else { return nil }
        return debugger.state(of: hart)
    }

    /// Debugs the guest with `debugger`: the first thread stops before its first instruction.
    func attach(_ debugger: Debugger) {
        self.debugger = debugger
        hostCalls.pointee.debugged = true
        debugger.track(hart, memory: memory).pending = .initial
    }

    /// The guest runs on without a debugger (gdb detached or went away, or in a forked child).
    /// Called holding the process's lock, with no other thread in guest code.
    func detachDebugger() {
        guard let debugger else { return }
        debugger.stub.closeAll()
        self.debugger = nil
        hostCalls.pointee.debugged = false
        var interpreters = [interpreter]
        for thread in process.threads.values {
            if let runner = engine.runner(of: thread.hart) { interpreters.append(runner.interpreter) }
        }
        for interpreter in interpreters {
            interpreter.stopBefore = nil
            interpreter.singleStep = configuration.tracesInstructions
        }
    }

    /// Stops every thread but `thread` (the caller's, holding the process's lock): each leaves
    /// guest code at its next look at its attention bits and then waits for the lock. Threads
    /// blocked in a host call stay there; they too wait for the lock when it returns.
    func stopOtherThreads(_ thread: GuestThread) {
        while true {
            var running = false
            for other in process.threads.values where other !== thread && other.runsGuestCode.load(ordering: .acquiring) {
                rivet_set_attention(other.hart.slots, RIVET_ATTENTION_INTERRUPT)
                running = true
            }
            guard running else { return }
            usleep(50)
        }
    }

    /// Reports `stop` of `thread` (the caller's, holding the process's lock) to gdb with every
    /// other thread stopped, serves gdb until it resumes the guest, and sets each thread's
    /// action as gdb asked. The lock stays held meanwhile, so no other thread runs.
    /// - Returns: gdb's answer, and the signal it passes to `thread` (the caller delivers a
    ///   fault it reported only if gdb passes it on).
    func serve(_ debugger: Debugger, _ stop: GDBStop, _ thread: GuestThread) -> (resume: GDBResume, signal: Int32?) {
        debugger.state(of: thread.hart)?.pending = nil
        stopOtherThreads(thread)
        let target = DebuggedProcess(process: process)
        let resume = debugger.stub.serve(stop, thread: thread.tid, target: target, abandoned: { [process] in process.isEnding })
        var signal: Int32? = nil
        switch resume {
        case .resume(let resumption):
            let live = Array(process.threads.values)
            debugger.keep(only: live.map(\.hart))
            for other in live {
                let state = debugger.track(other.hart, memory: memory)
                switch resumption.action(for: other.tid) {
                case nil: state.action = .hold
                case .resume(let passed):
                    state.action = .run
                    if other === thread { signal = passed }
                case .step(let passed):
                    state.action = .step
                    if other === thread { signal = passed }
                }
                state.resumedPC = other.hart.pc
                state.resumedInstret = other.hart.instret
            }
        case .detach: detachDebugger()
        case .kill: break
        }
        return (resume, signal)
    }

    /// At the top of each thread's loop, holding the process's lock: a thread gdb holds waits
    /// (without the lock) until gdb resumes it; a pending stop — or gdb's interrupt, seen by
    /// whichever thread looks first — is reported and served; then the thread's interpreter is
    /// set for the run gdb asked for.
    /// - Returns: why the process ends, if gdb killed it.
    func reportDebuggerStop(_ thread: GuestThread, _ runner: HartRunner) -> ExitReason? {
        while let debugger = self.debugger, !process.isEnding, !thread.isTerminated {
            guard debugger.stub.isAttached else {
                // gdb went away while the guest ran: every thread runs on without it.
                stopOtherThreads(thread)
                detachDebugger()
                return nil
            }
            let me = debugger.track(thread.hart, memory: memory)
            if !me.isInstalled {
                // The interpreter keeps the state alive: it may run once more after gdb forgot
                // the thread (the thread is ending).
                runner.interpreter.stopBefore = { pc in me.shouldStop(pc) }
                me.isInstalled = true
            }
            if me.pending == nil, me.action != .hold, debugger.stub.interruptRequested() { me.pending = .interrupt }
            if me.action == .hold {
                process.lock.release()
                usleep(1000)
                process.acquire(thread)
                continue
            }
            if let stop = me.pending {
                if serve(debugger, stop, thread).resume == .kill { return .signaled(Signal.SIGKILL, detail: "killed by gdb") }
                continue
            }
            runner.interpreter.singleStep = configuration.tracesInstructions || debugger.stub.checksEachInstruction
            me.instretBeforeRun = thread.hart.instret
            return nil
        }
        return nil
    }

    /// A synchronous signal of a debugged thread, before it is delivered: gdb hears of it, and
    /// it is delivered only if gdb passes it on (`C`/`vCont;C` with that signal), else the
    /// instruction runs again.
    /// - Returns: nil to deliver it, `.some(nil)` to drop it, `.some(reason)` if gdb killed the guest.
    func debuggerSees(_ info: SignalInfo, _ hart: HartState) -> ExitReason?? {
        guard let debugger = self.debugger, debugger.stub.isAttached, debugger.state(of: hart) != nil else { return nil }
        let (resume, signal) = serve(debugger, .signal(info.signal), process.current)
        switch resume {
        case .kill: return .some(.signaled(Signal.SIGKILL, detail: "killed by gdb"))
        case .resume: return signal == info.signal ? nil : .some(nil)
        case .detach: return nil
        }
    }
}
