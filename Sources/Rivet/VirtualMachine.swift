#if canImport(Glibc)
import Glibc
#endif
import CRivetHost
import RivetISA
import RivetInterpreter
import RivetJIT
import RivetLinux
import RivetMachine
import Synchronization

/// A RISC-V Linux guest program, loaded and ready to run in its own sandbox.
///
/// ```swift
/// var configuration = Configuration()
/// configuration.arguments = ["--verbose"]
/// configuration.limits.instructions = 1_000_000_000
/// let vm = try VirtualMachine(programPath: "hello", configuration: configuration)
/// let reason = vm.run()
/// ```
public final class VirtualMachine {
    /// The configuration the guest was started with.
    public let configuration: Configuration

    let memory: GuestMemory
    let hart: HartState
    let process: LinuxProcess
    let interpreter: Interpreter
    let engine: Engine
    var program: ELFFile
    /// Pages whose code execve kept (`GuestMemory.restoreCode`), for the statistics.
    var codePagesKeptAtExec: UInt64 = 0
    private var tracer: InstructionTracer?
    /// The GDB stub and the debugged threads, while gdb debugs the guest (`Configuration.debugger`).
    var debugger: Debugger?
    private(set) var wallTime: Duration = .zero
    private(set) var finished: ExitReason?
    /// Whether a run started (gdb is waited for before the first).
    private(set) var hasStarted = false
    /// Why the process ends, set by the thread that ended it (holding the process's lock).
    var ending: ExitReason?
    /// The watchdog of the running `run()`, and its deadline (monotonic nanoseconds, 0: none).
    var watchdog: OpaquePointer? = nil
    var watchdogDeadline: UInt64 = 0
    /// The host threads of the guest threads after the first.
    let hostThreads = HostThreadGroup()
    /// Instructions every guest thread of the process retired (`fuelEnd` bounds it).
    let instructionsRetired = Atomic<UInt64>(0)
    /// The value of `instructionsRetired` at which the guest runs out of fuel; nil: no bound.
    var fuelEnd: UInt64?
    /// What `RunControl` asks of the runs.
    let controlState: ControlState
    /// Why the run is being suspended (under the process's lock); while it is set, every thread
    /// but the driving one is parked or parks at its next stop.
    var suspension: ExitReason?
    /// Where the other threads wait during a suspension.
    let parking = ParkingLot()
    /// The thread `run()` drives on its caller's host thread, until it ends.
    var mainThread: GuestThread?
    /// The wall-time deadline of the current `run()` (or `call`).
    var deadline: ContinuousClock.Instant?
    /// The embedder's host functions, by syscall number.
    var hostFunctions: [Int: HostFunction] = [:]
    /// The guest threads in `call`s, innermost last: their `threadLoop` returns `.returned`
    /// when their pc reaches `VirtualMachine.returnAddress`.
    var callingThreads: [ObjectIdentifier] = []
    /// The host functions as the engine's ecall handler reads them, and the state of the
    /// running ones (plain memory: see `HostCallState`). Owned.
    let hostCalls: UnsafeMutablePointer<HostCallState>
    /// Keeps the functions `hostCalls` points at alive.
    var hostFunctionBoxes: [HostFunctionBox] = []
    /// Tables replaced while a host function ran from them, freed when none runs.
    var retiredHostFunctionTables: [(UnsafeMutableBufferPointer<Unmanaged<HostFunctionBox>>, [HostFunctionBox])] = []
    /// The snapshot this copy came from, if its machine can be recycled for the next copy.
    var recycling: (Snapshot, RecycleKey)? = nil
    /// What the host function that stopped the run left for the loop.
    var hostCallStopped: LoopEnd?
    /// The host ends of the guest's standard streams.
    let streams: GuestStreams
    /// Loading and run times, and the sampler of where the run's time goes (`Statistics.time`).
    let timeKeeper = TimeKeeper()

    /// Loads the program at `programPath` (a host path) into a fresh guest. A `#!` script runs
    /// as Linux runs it, through its interpreter, found as the guest would find it (in the
    /// granted directories and the sysroot).
    /// - Throws: `RivetError` if the program cannot be read or is not a valid RISC-V
    ///   executable (or script), its interpreter is missing from the sysroot, or the host cannot
    ///   reserve the guest's memory.
    public convenience init(programPath: String, configuration: Configuration) throws(RivetError) {
        try self.init(.path(programPath), configuration: configuration)
    }

    /// Where a machine comes from.
    enum Source {
        /// A program file (or `#!` script) at this host path.
        case path(String)
        /// A snapshot of another machine.
        case snapshot(Snapshot)
    }

    init(_ source: Source, configuration: Configuration) throws(RivetError) {
        self.configuration = configuration
        var grants: [RivetLinux.DirectoryGrant] = []
        for grant in configuration.directories {
            var info = stat()
            guard let real = Self.realPath(grant.hostPath), stat(real, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw RivetError(.invalidConfiguration, "granted directory \(grant.hostPath) does not exist")
            }
            grants.append(.init(hostPath: real, guestPath: grant.guestPath, writable: grant.isWritable))
        }
        if let sysroot = configuration.sysroot, let real = Self.realPath(sysroot) {
            grants.append(.init(hostPath: real, guestPath: "/", writable: false))
        }
        let image: ProgramImage
        switch source {
        case .path(let programPath):
            image = try Self.program(
                at: programPath, arguments: [configuration.programName ?? programPath] + configuration.arguments,
                grants: grants, configuration: configuration)
            do {
                program = try ELFFile(file: image.file, addressSpaceSize: GuestMemory.addressSpaceSize)
            } catch {
                throw RivetError(.invalidProgram, "\(image.name): \(error.message)")
            }
        case .snapshot(let snapshot):
            image = ProgramImage(file: ProgramFile(bytes: []), hostPath: snapshot.executablePath, arguments: snapshot.arguments, name: snapshot.executablePath)
            program = snapshot.process.elf
        }
        let budget = Self.memoryBudget(configuration)
        // A copy of a snapshot takes a dropped copy's machine if one waits (`RecycledMachine`).
        var recycled: RecycledMachine? = nil
        if case .snapshot(let snapshot) = source, let key = RecycleKey(configuration) {
            recycling = (snapshot, key)
            recycled = snapshot.takeRecycled(key)
        }
        if let recycled {
            memory = recycled.memory
            hart = recycled.hart
        } else {
            do {
                memory = try GuestMemory(limit: budget.guest)
            } catch {
                throw RivetError(.outOfMemory, "cannot reserve the guest address space")
            }
            hart = HartState()
        }

        var linux = LinuxConfiguration()
        let absoluteProgram = image.hostPath
        linux.arguments = image.arguments
        linux.environment = configuration.environment
        linux.executablePath = absoluteProgram
        linux.grants = grants
        linux.hostFilesystem = configuration.grantsHostFilesystem
        if let advice = configuration.grantAdvice { linux.grantAdvice = advice }
        linux.network = configuration.network
        linux.workingDirectory = configuration.workingDirectory
        linux.traceSyscalls = configuration.tracesSyscalls
        streams = try GuestStreams(
            input: configuration.standardInput, output: configuration.standardOutput, error: configuration.standardError)
        linux.standardStreams = streams.standardStreams
        (linux.memoryFiles, linux.memoryDirectories) = try Self.memoryFiles(configuration.files)
        linux.maxOpenFiles = configuration.limits.openFiles
        linux.randomSeed = configuration.randomSeed
        if let diagnostics = configuration.diagnostics { linux.diagnostics = diagnostics }
        process = LinuxProcess(memory: memory, configuration: linux)
        fuelEnd = configuration.limits.instructions

        var interpreterELF: (ELFFile, path: String)? = nil
        if case .path = source, let interpPath = program.interpreter {
            let interpFile = try Self.openInterpreter(interpPath, of: image.name, in: process.filesystem, sysroot: configuration.sysroot)
            do {
                interpreterELF = (try ELFFile(file: interpFile, addressSpaceSize: GuestMemory.addressSpaceSize), interpPath)
            } catch {
                throw RivetError(.invalidProgram, "\(image.name): interpreter \(interpPath): \(error.message)")
            }
        }
        interpreter = recycled?.interpreter ?? Interpreter(memory: memory, hart: hart)
        let mode: TierMode =
            switch configuration.tier {
            case .interpreter: .interpreter
            case .baseline: .baseline
            case .auto: .auto
            case .optimizing: .optimizing
            }
        var engineConfiguration = EngineConfiguration()
        // Under a debugger compiled code is never entered, so that breakpoints hold everywhere.
        engineConfiguration.mode = configuration.debugger != nil ? .interpreter : mode
        engineConfiguration.codeCacheSize = budget.codeCache
        engineConfiguration.decodedBlockCacheSize = budget.decodedBlocks
        engineConfiguration.evictionPolicy =
            switch configuration.cachePolicy {
            case .lru: .lru
            case .lfu: .lfu
            case .value: .value
            case .flush: .flush
            }
        engineConfiguration.policy = TierPolicy(
            baseThreshold: configuration.tierUpThreshold, optimizingThreshold: configuration.optimizingThreshold,
            adaptive: configuration.adaptsThresholds)
        engineConfiguration.policy.countingLimit = configuration.countingLimit
        engineConfiguration.policy.countsOnDemand = !configuration.countsEveryBlock
        engineConfiguration.compileThreads = configuration.compileThreads ?? 0
        engineConfiguration.separateCodeViews = configuration.separatesCodeViews
        engineConfiguration.compileTimeLimit = configuration.compileTimeLimit
        engineConfiguration.slice = max(1, configuration.sliceInstructions)
        engineConfiguration.optimizesOnGuestThread = configuration.optimizesOnGuestThread
        if configuration.writesPerfMap {
            let elf = program
            engineConfiguration.perfMap = PerfMap { pc in
                guard let (symbol, offset) = elf.symbol(containing: pc), offset < max(symbol.size, 1) else { return nil }
                return offset == 0 ? symbol.name : "\(symbol.name)+0x\(String(offset, radix: 16))"
            }
        }
        do {
            engine = try recycled?.engine ?? Engine(interpreter: interpreter, configuration: engineConfiguration)
        } catch {
            throw RivetError(.outOfMemory, "cannot set up the JIT: \(error)")
        }

        switch source {
        case .path:
            do {
                let loaded = try Loader.load(program, path: absoluteProgram, interpreter: interpreterELF, into: memory)
                try process.start(loaded, hart: hart)
                // What an exec computes first (`replaceImage`), computed here once, so that the
                // first array of them a forked child makes does not build its storage's metadata
                // from the mangled name (4.5% of `exec`'s samples when it did).
                _ = Loader.executableRanges(of: program, interpreter: interpreterELF?.0)
            } catch {
                throw RivetError(.invalidProgram, "\(image.name): \(error.message)")
            }
        case .snapshot(let snapshot) where recycled != nil:
            // The memory is the snapshot's already.
            process.restore(snapshot.process, hart: hart)
            snapshot.registers.restore(hart)
        case .snapshot(let snapshot):
            do { try memory.restore(snapshot.memory) } catch {
                throw RivetError(.outOfMemory, "the snapshot's memory does not fit the guest's limit")
            }
            process.restore(snapshot.process, hart: hart)
            snapshot.registers.restore(hart)
        }
        mainThread = process.current

        // The first thread's hart, now that the process has it.
        controlState = ControlState(slots: process.hart.slots)
        hostCalls = .allocate(capacity: 1)
        hostCalls.initialize(to: HostCallState())
        let start = Self.monotonicNanoseconds()
        engine.setTimeSource { (Self.monotonicNanoseconds() - start) / 100 }
        process.forkHost = { [unowned self] in self.forkHost() }
        process.startThread = { [unowned self] thread in self.startHostThread(thread) }
        process.postSignal = { [controlState] signal in controlState.post(signal: signal) }
        process.replaceImage = { [unowned self] image in self.replaceImage(image) }
        process.flushInstructionCache = { [memory] start, end in
            if end > start, GuestMemory.contains(start, size: end - start) {
                memory.synchronizeInstructionFetch(GuestAddress(start), GuestAddress(end))
            } else {
                memory.synchronizeInstructionFetch()
            }
        }
        if configuration.tracesInstructions {
            let tracer = InstructionTracer(memory: memory, elf: program, output: linux.diagnostics)
            self.tracer = tracer
            interpreter.singleStep = true
            interpreter.traceHook = { hart in tracer.before(hart) }
        }
        if let port = configuration.debugger {
            attach(Debugger(stub: try GDBStub(port: port)))
        }
        timeKeeper.loaded()
    }

    deinit {
        // The process may outlive the machine (its threads hold it); its timer thread must not
        // post a signal to the machine once it is gone.
        process.stopTimers()
        controlState.detach()
        endAbandonedRun()
        recycle()
        hostCalls.pointee.table.deallocate()
        releaseRetiredHostFunctionTables()
        hostCalls.deinitialize(count: 1)
        hostCalls.deallocate()
    }

    /// The port of 127.0.0.1 the GDB stub listens on (`Configuration.debugger`), until gdb
    /// connects at the start of `run()`; nil without a debugger.
    public var debuggerPort: UInt16? { debugger?.stub.port }

    /// Runs the guest until it exits, is killed, reaches a limit or is paused.
    /// - Returns: why it stopped. After a resumable reason (`ExitReason.isResumable`: a limit,
    ///   a pause) the guest stands where it stopped and the next `run()` goes on from there,
    ///   with the wall-time limit counted afresh (and, for an instruction limit, after more
    ///   `fuel`); after the others `run()` returns the same reason again.
    public func run() -> ExitReason {
        if let finished { return finished }
        return drive(wallTime: configuration.limits.wallTime) { clock in runThreads(clock: clock) }
    }

    /// Runs `body` — the guest's threads until they stop — as the calling host thread's run:
    /// under a watchdog that interrupts the guest at the deadline (even blocked in a syscall),
    /// brings it the host's signals and the embedder's requests, and wakes the first thread
    /// when another ends the process.
    func drive(wallTime limit: Duration?, _ body: (ContinuousClock) -> ExitReason) -> ExitReason {
        let clock = ContinuousClock()
        let started = clock.now
        let setupStarted = Self.monotonicNanoseconds()
        deadline = limit.map { started + $0 }
        watchdogDeadline = limit.map { Self.monotonicNanoseconds() + Self.nanoseconds($0) } ?? 0
        startWatchdog()
        controlState.setWatchdog(watchdog)
        defer {
            controlState.setWatchdog(nil)
            rivet_watchdog_stop(watchdog)
            watchdog = nil
        }
        timeKeeper.beginRun(setupSince: setupStarted, first: hart, sampling: configuration.measuresTime)
        if !hasStarted, let debugger, !debugger.stub.waitForClient() { detachDebugger() }
        hasStarted = true
        let reason = body(clock)
        timeKeeper.endRun()
        wallTime += clock.now - started
        if !reason.isResumable {
            debugger?.stub.exited(reason)
            // A forked child's host process ends with its guest: it must never return into the
            // program that embeds Rivet (or print the parent's statistics twice).
            if process.isForkedChild { Self.endForkedChild(reason) }
            // Everything the guest wrote reaches the embedder's handlers before `run()`
            // returns; its input stream is cancelled.
            streams.finish()
            tracer?.finish(hart)
            finished = reason
        } else {
            // Paused: what it wrote so far is delivered; its input stays open.
            streams.drain()
        }
        return reason
    }

    /// The host signals `forwardsHostSignals` delivers to the guest.
    static let forwardedSignals: UInt64 = [
        Signal.SIGHUP, Signal.SIGINT, Signal.SIGQUIT, Signal.SIGUSR1, Signal.SIGUSR2, Signal.SIGTERM,
        Signal.SIGCHLD, Signal.SIGWINCH,
    ].reduce(0) { $0 | 1 << UInt64($1 - 1) }

    /// Runs `thread` — the calling host thread's, which holds the process's lock — on `runner`
    /// until it exits, the process ends or the run is suspended. Guest code runs without the
    /// lock, in parallel with the other threads; syscalls, faults and signals are handled with
    /// it. The `driving` thread (the one `run()` or `call` runs on its caller's host thread)
    /// returns when the run is suspended; the others park until it resumes.
    func threadLoop(
        _ thread: GuestThread, runner: HartRunner, driving: Bool, clock: ContinuousClock, watched: Bool
    ) -> LoopEnd {
        let hart = runner.hart
        // Ended by another thread's execve: that thread waits for this (the lock held).
        defer { if thread.isTerminated { thread.hasLeft.store(true, ordering: .releasing) } }
        while true {
            if process.isEnding || thread.isTerminated { return .threadEnded }
            if let suspension {
                if driving { return .suspended(suspension) }
                park(thread)
                continue
            }
            // gdb hears why the debugged thread stopped, and says how it goes on.
            if let reason = reportDebuggerStop(thread, runner) { return .processEnds(reason) }
            if process.isEnding || thread.isTerminated { return .threadEnded }
            // Under a watchdog the engine returns every few million instructions, so that a JIT
            // loop notices an interruption within milliseconds (the interpreter checks every
            // block); with other threads, every time slice, so that it sees signals they sent
            // and lets the code they removed be freed.
            let threaded = process.threads.count > 1
            var budget: UInt64 = watched ? 4_000_000 : .max
            if threaded { budget = min(budget, Self.timeSlice) }
            if let debugger = debugger(for: hart) { budget = min(budget, debugger.stepping ? 1 : Debugger.slice) }
            if let limit = fuelEnd {
                // Every thread's instructions count (threads running at once may each finish
                // the slice they started).
                let total = instructionsRetired.load(ordering: .relaxed)
                guard total < limit else {
                    suspend(.instructionLimitReached)
                    continue
                }
                budget = min(budget, limit - total)
            }
            // Signals sent to this thread while it ran.
            if threaded, hasDeliverableSignal, case .processEnds(let reason) = deliverSignals(hart) {
                return .processEnds(reason)
            }
            thread.runsGuestCode.store(true, ordering: .sequentiallyConsistent)
            process.lock.release()
            let before = hart.instret
            let stop = runner.run(budget: budget)
            instructionsRetired.add(hart.instret &- before, ordering: .relaxed)
            debugger(for: hart)?.ran(stop)
            thread.runsGuestCode.store(false, ordering: .sequentiallyConsistent)
            process.acquire(thread)
            if process.isEnding || thread.isTerminated { return .threadEnded }
            switch stop {
            case .ecall:
                // A host function ran in place and stopped the run.
                if let stopped = hostCallStopped {
                    hostCallStopped = nil
                    if case .processEnds = stopped { return stopped }
                    continue
                }
                if let function = hostCalls.pointee.function(Int(truncatingIfNeeded: hart[x: 17])) {
                    if let end = callHostFunction(function, thread: thread, runner: runner) { return end }
                    continue
                }
                // A signal sent while this thread ran guest code is delivered before the
                // syscall, as Linux delivers it on the way back to user mode: its handler
                // returns to the `ecall`. (A blocking syscall would otherwise wait with the
                // signal's interruption already spent.)
                if hasDeliverableSignal {
                    switch deliverSignals(hart) {
                    case .processEnds(let reason): return .processEnds(reason)
                    case .handlerRuns: continue
                    case .unchanged: break
                    }
                }
                let outcome = process.syscall(hart)
                // Another thread's execve ended this one while its syscall blocked: what the
                // syscall asks for (even the end of the process) no longer concerns anyone.
                if thread.isTerminated { return .threadEnded }
                switch outcome {
                case .resume: hart.pc += 4
                case .resumeAtPC: break
                case .exit(let status): return .processEnds(.exited(status))
                case .threadExit: return .threadEnded
                case .killed(let signal): return .processEnds(.signaled(signal, detail: "at \(describe(pc: hart.pc))"))
                case .fault(let info, let detail):
                    if let reason = fault(info, "\(detail), at \(describe(pc: hart.pc))", hart) { return .processEnds(reason) }
                }
            case .tierUp:
                break  // The engine handles tier-up itself.
            case .budgetExhausted, .interrupted:
                if debugger(for: hart)?.stoppedBefore == true { break }  // before a breakpoint or watchpoint
                rivet_clear_attention(hart.slots, RIVET_ATTENTION_INTERRUPT)
                if process.isEnding { return .threadEnded }
                if let end = takeControlRequest() { return end }
                if process.hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_DEADLINE != 0
                    || deadline.map({ clock.now >= $0 }) == true
                {
                    suspend(.timeLimitReached)
                    continue
                }
                if suspension != nil { continue }
                if case .processEnds(let reason) = deliverSignals(hart) { return .processEnds(reason) }
            case .breakpoint:
                let detail = "breakpoint (ebreak) at \(describe(pc: hart.pc))"
                if let reason = fault(SignalInfo(signal: Signal.SIGTRAP, code: 1, address: hart.pc), detail, hart) {
                    return .processEnds(reason)
                }
            case .illegalInstruction(let raw, let length):
                let detail = "illegal instruction 0x\(hexDigits(raw, width: length == 2 ? 4 : 8)) at \(describe(pc: hart.pc))"
                if let reason = fault(SignalInfo(signal: Signal.SIGILL, code: 1, address: hart.pc), detail, hart) {
                    return .processEnds(reason)
                }
            case .fault(let fault):
                // A guest function `call` entered returned to the address no guest code has.
                if hart.pc == Self.returnAddress, callingThreads.last == ObjectIdentifier(thread) { return .returned }
                // SIGBUS BUS_ADRERR past the end of a mapped file; else SIGSEGV MAPERR/ACCERR.
                let info =
                    fault.pastFileEnd
                    ? SignalInfo(signal: Signal.SIGBUS, code: 2, address: fault.address.rawValue)
                    : SignalInfo(signal: Signal.SIGSEGV, code: fault.mapped ? 2 : 1, address: fault.address.rawValue)
                if fault.lostTrack {
                    return .processEnds(
                        .signaled(info.signal, detail: "\(fault) at \(describe(pc: hart.pc)), on more pages at once than Rivet can restore"))
                }
                if let reason = self.fault(info, "\(fault) at \(describe(pc: hart.pc))", hart) { return .processEnds(reason) }
            case .misalignedAtomic(let address):
                let detail = "misaligned atomic access to 0x\(String(address, radix: 16)) at \(describe(pc: hart.pc))"
                if let reason = fault(SignalInfo(signal: Signal.SIGBUS, code: 1, address: address), detail, hart) {
                    return .processEnds(reason)
                }
            }
        }
    }

    /// Whether a signal not blocked waits for the running thread, or for the process.
    private var hasDeliverableSignal: Bool {
        process.signals.pending & ~process.signals.mask != 0 || process.processPending & ~process.signals.mask != 0
    }

    /// What delivering the waiting signals did.
    private enum Delivery {
        /// A signal's default action ended the process.
        case processEnds(ExitReason)
        /// A handler will run: the hart is at it.
        case handlerRuns
        /// Nothing changed where the hart goes on.
        case unchanged
    }

    /// Delivers the signals waiting for the running thread (its posted ones accepted first).
    private func deliverSignals(_ hart: HartState) -> Delivery {
        process.acceptPostedSignals(hart)
        switch process.deliverPendingSignals(hart) {
        case .killed(let signal): return .processEnds(.signaled(signal, detail: "at \(describe(pc: hart.pc))"))
        case .exit(let status): return .processEnds(.exited(status))
        case .resumeAtPC: return .handlerRuns
        case .resume, .fault, .threadExit, nil: return .unchanged
        }
    }

    /// Delivers a synchronous signal to the guest's handler, or ends the run if it has none.
    private func fault(_ info: SignalInfo, _ detail: String, _ hart: HartState) -> ExitReason? {
        if let seen = debuggerSees(info, hart) { return seen }
        switch process.deliver(info, hart: hart, synchronous: true) {
        case .killed(let signal): return .signaled(signal, detail: detail)
        case .exit(let status): return .exited(status)
        case .fault(let other, _): return .signaled(other.signal, detail: detail)
        case .resume, .resumeAtPC, .threadExit, nil: return nil
        }
    }

    /// What Rivet allocates for a guest besides its mappings, in fixed tables: the jump cache,
    /// the interpreter's block table and hotness table, the engine's PC tables.
    static let fixedOverhead: UInt64 = 2 << 20

    /// How `Limits.memoryBytes` is shared: it bounds the guest's mappings together with what
    /// Rivet allocates on its behalf — the code cache and the decoded blocks (each cut to a
    /// fraction of the limit when they would not fit: a quarter and an eighth) and the fixed
    /// tables. The guest keeps at least half. The share is the same in every tier, although
    /// the interpreter alone allocates no code cache (the engine keeps a 16 KiB stub): which
    /// tier runs a program must not decide whether it fits (rivet-fuzz found an ELF file
    /// whose 208 MiB segment loaded under `--tier interp --memory-limit 256M` and was
    /// refused under the others).
    static func memoryBudget(_ configuration: Configuration) -> (guest: UInt64, codeCache: Int, decodedBlocks: Int) {
        let limit = configuration.limits.memoryBytes
        let codeCache = min(configuration.codeCacheBytes, max(16 << 10, Int(clamping: limit / 4)))
        let decoded = min(configuration.decodedBlockCacheBytes, max(64 << 10, Int(clamping: limit / 8)))
        let rivet = UInt64(codeCache) + UInt64(decoded) + fixedOverhead
        return (max(limit / 2, limit > rivet ? limit - rivet : 0), codeCache, decoded)
    }

    /// `pc 0x10432 (main+0x12)`.
    func describe(pc: UInt64) -> String {
        var text = "pc 0x" + String(pc, radix: 16)
        if let (symbol, offset) = program.symbol(containing: pc), offset < max(symbol.size, 1) {
            text += " (\(symbol.name)+0x\(String(offset, radix: 16)))"
        }
        return text
    }

    // MARK: Host helpers

    static func readFile(_ path: String) throws(RivetError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RivetError(.unreadableProgram, "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try readDescriptor(fd, path)
    }

    /// The regular file at `path`, open to be read where needed.
    static func openProgramFile(_ path: String) throws(RivetError) -> ProgramFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw RivetError(.unreadableProgram, "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        return try programFile(fd, path)
    }

    /// The regular file open at `fd` (named `path` in errors), which stays the caller's to close.
    static func programFile(_ fd: Int32, _ path: String) throws(RivetError) -> ProgramFile {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw RivetError(.unreadableProgram, "\(path): not a regular file")
        }
        guard info.st_size <= 1 << 31 else { throw RivetError(.invalidProgram, "\(path): file too large") }
        guard let file = ProgramFile(duplicating: fd, limit: 1 << 31) else {
            throw RivetError(.unreadableProgram, "\(path): read failed")
        }
        return file
    }

    /// The whole contents of the regular file open at `fd` (named `path` in errors).
    static func readDescriptor(_ fd: Int32, _ path: String) throws(RivetError) -> [UInt8] {
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw RivetError(.unreadableProgram, "\(path): not a regular file")
        }
        guard info.st_size <= 1 << 31 else { throw RivetError(.invalidProgram, "\(path): file too large") }
        guard let bytes = HostIO.readWhole(fd, count: Int(info.st_size)), bytes.count == Int(info.st_size) else {
            throw RivetError(.unreadableProgram, "\(path): read failed")
        }
        return bytes
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func absolutePath(_ path: String) -> String {
        if path.hasPrefix("/") { return Sandbox.normalize(path) }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Sandbox.normalize(cwd + "/" + path)
    }

    static func nanoseconds(_ d: Duration) -> UInt64 {
        UInt64(max(0, d.components.seconds)) * 1_000_000_000 + UInt64(max(0, d.components.attoseconds) / 1_000_000_000)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// `value` in hex, zero-padded to `width` digits.
func hexDigits(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
