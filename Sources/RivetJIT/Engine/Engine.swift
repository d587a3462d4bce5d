import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetISA
import RivetInterpreter
import RivetMachine
import Synchronization

/// Which tiers run guest code.
public enum TierMode: String, Sendable, CaseIterable {
    /// Only the interpreter.
    case interpreter = "interp"
    /// Every block is translated at its first execution, on the guest thread (for testing).
    case baseline
    /// Blocks start in the interpreter and are translated when their counters cross a threshold;
    /// the hottest loops are then compiled again by the optimizing tier, in the background.
    case auto
    /// Every block is compiled at its first execution, on the guest thread, by the optimizing
    /// tier where it can (else by the baseline JIT): for testing tier 2.
    case optimizing = "opt"
}

/// How the engine is set up.
public struct EngineConfiguration: Sendable {
    public var mode: TierMode = .auto
    /// Bytes of executable memory for translations (the code cache's bound).
    public var codeCacheSize = 64 << 20
    /// Whether translations are written through a view of their own, so that no page is ever
    /// writable and executable at once (W^X); then every fork copies the code cache for the
    /// child. By default the code cache is one mapping, which a fork shares copy-on-write
    /// (`CodeRegion`).
    public var separateCodeViews = false
    /// Bytes of decoded blocks the interpreter keeps (their cache's bound).
    public var decodedBlockCacheSize = 32 << 20
    public var evictionPolicy: EvictionPolicy = .lru
    public var policy = TierPolicy()
    /// Worker threads compiling in the background; 0 compiles on the guest thread.
    public var compileThreads = 1
    /// How long a compile may take in `auto` mode; a slower one is discarded, counted, and its
    /// block backs off as a deopt loop does.
    public var compileTimeLimit: Duration = .milliseconds(10)
    /// Write a Linux perf map (/tmp/perf-PID.map) naming each translation.
    public var perfMap: PerfMap? = nil
    /// Whether `auto` compiles hot loops again with the optimizing tier.
    public var optimizingTier = true
    /// How long a tier-2 compile may take; a slower one is discarded and its block backs off.
    public var optimizingTimeLimit: Duration = .milliseconds(50)
    /// Most instructions JIT code runs in `auto` before it comes back to the run loop, where a
    /// hot loop may move to tier 2 (`Engine.slice` by default; tests and the fuzzer make it
    /// small so that short programs reach tier 2 the way long ones do).
    public var slice: UInt64 = Engine.slice
    /// Whether `auto` compiles a region on the guest's thread as soon as it is formed, instead
    /// of on the optimizing tier's worker (for tests and the fuzzer: a short program ends
    /// before a worker's region would arrive).
    public var optimizesOnGuestThread = false

    public init() {}
}

/// The run loop: asks "what is the best code for this pc?" and runs it — a translation if one
/// exists, else the interpreter — until the hart needs the environment (a syscall, a trap) or
/// the budget is spent. Around it: tier-up requests, the compile queue and its workers, the
/// bounded code cache with its eviction policy, invalidation and the back-off of deopt loops.
///
/// One engine serves every hart of a guest (its threads), each through a `HartRunner` with
/// its own interpreter, jump cache and counts; the translations, the compile queue and the
/// policy are shared. While more than one hart exists, a hart takes the memory's `CodeLock`
/// for every look at or change of the shared structures and runs guest code without it (see
/// `Documentation/Architecture.md`, "Guest threads").
public final class Engine {
    public let memory: GuestMemory
    public let configuration: EngineConfiguration
    public var mode: TierMode { configuration.mode }
    let cache: TranslationCache
    /// The trampolines and helper context of JIT code, made (with the code region mapped) when
    /// the first translation is installed: a machine that compiles nothing never maps it.
    private var madeRuntime: JITRuntime?
    /// The runtime, once a translation exists (JIT code is entered only then).
    var runtime: JITRuntime { madeRuntime.unsafelyUnwrapped }
    /// The `time` CSR's source (given to the runtime when it is made).
    private var readTime: () -> UInt64 = { 0 }

    /// The runtime, made now if it was not.
    private func makeRuntime() -> JITRuntime? {
        if let madeRuntime { return madeRuntime }
        guard let made = try? JITRuntime(cache: cache, memory: memory) else { return nil }
        made.context.readTime = readTime
        madeRuntime = made
        return made
    }
    @exclusivity(unchecked) private var compiler = BlockCompiler()
    private let queue: CompileQueue?
    /// The optimizing tier's own queue and worker (its own priorities and compile budget), made
    /// at its first request.
    private var optimizingQueue: CompileQueue?
    /// Pcs whose block was sent to the optimizing tier (once each; forgotten when it fills).
    @exclusivity(unchecked) private var optimizingAsked: Set<UInt64> = []
    /// The blocks of the regions sent to the optimizing tier's queue, with when they were sent
    /// (monotonic nanoseconds): while such a region may still be on its way, a slice that ends
    /// at one of its blocks starts no other region (`coveredByRegion`).
    @exclusivity(unchecked) private var regionBlocksAsked: [UInt64: UInt64] = [:]
    /// How long a region's blocks count as on their way after it was queued: longer than a
    /// compile may take (50 ms of the worker's CPU time) with a few waiting before it.
    static let regionAskWindow: UInt64 = 200_000_000
    /// The guest instructions a region must run per entry to keep the blocks of its loop to
    /// itself (`coveredByRegion`).
    static let coveringRun: UInt64 = 100
    /// The pcs where tier-2 regions were installed (some since removed): a baseline block ends
    /// before one, so that the code running into a region's loop enters the region there.
    /// Before, a block that ran through the header (a function's entry falling into its loop,
    /// the code before a loop and its first pass) ran the loop's first pass in the baseline's
    /// code every time: in fp64, 17 float operations per call of `advance` through SoftFloat.
    @exclusivity(unchecked) private var regionHeaders: Set<UInt64> = []
    /// The tier-2 regions installed (some since removed), for `demoteLosingRegions`.
    @exclusivity(unchecked) private var regions: [Translation] = []
    /// Where this process's forked children report the blocks they decoded and compiled (made
    /// at its first fork), and where this process, a forked child, reports to its parent while
    /// it runs the parent's program (not after an exec of another), at most
    /// `ChildReports.perChild` blocks.
    private var reportsFromChildren: ChildReports?
    private var reportsToParent: ChildReports?
    private var reportsLeft = 0
    /// `configuration.optimizingTimeLimit` in nanoseconds.
    private let optimizingTimeLimit: UInt64
    @exclusivity(unchecked) private var usage = UsageTracker()
    @exclusivity(unchecked) private(set) var policy: TierPolicy
    /// What the engine did outside any one hart's run loop (translations removed), and what
    /// the harts that ended did. Counted through a pointer (owned: allocated in init, freed in
    /// deinit): a class's stored property would cost a dynamic exclusivity check per bump.
    private let counts: UnsafeMutablePointer<EngineStatistics>
    /// The first hart's runner (the engine's `hart` and `interpreter`), and every live one.
    public private(set) var main: HartRunner
    @exclusivity(unchecked) private var runners: [HartRunner] = []
    /// How many runners are live: while more than one, the run loops take the code lock.
    private let runnerCount = Atomic<Int>(1)
    /// The runner whose hart holds the lock and acts now (whose interpreter hears of evictions).
    /// Set at every turn of the run loop: unowned, so that costs no reference counting (every
    /// runner outlives its turns; the engine keeps them in `runners`, and `remove` clears this
    /// when it drops the one named here).
    private unowned(unsafe) var acting: HartRunner?
    /// Compiled blocks waiting for room that removed translations still hold (another hart
    /// may be running them).
    @exclusivity(unchecked) private var deferred: [CompiledBlock] = []
    public var hart: HartState { main.hart }
    public var interpreter: Interpreter { main.interpreter }
    private var lock: CodeLock { memory.codeLock }

    public var statistics: EngineStatistics {
        lock.withLock {
            var total = counts.pointee
            for runner in runners { total.add(runner.counts.pointee) }
            return total
        }
    }

    /// Setbacks per guest pc — invalidations (deopt loops) and compiles discarded for taking
    /// too long — each doubling the executions the block needs before its next compile. Halved
    /// at every decay, so that a block that stopped misbehaving is compiled promptly again.
    /// Bounded: a block whose slot another takes loses its history.
    @exclusivity(unchecked) private var setbacks = PCTable(capacity: 8192, collision: .replace)
    /// `configuration.compileTimeLimit` in nanoseconds, as compiles are timed.
    private let compileTimeLimit: UInt64
    /// Instructions executed in translations no longer cached, by pc (for the hottest blocks):
    /// the heaviest of the blocks that share a slot are kept.
    @exclusivity(unchecked) private var retiredInstructions = PCTable(capacity: 4096, collision: .keepLarger)

    /// Creates an engine over an interpreter's hart and memory.
    /// - Throws: `JITError` if executable memory cannot be had.
    public init(interpreter: Interpreter, configuration: EngineConfiguration) throws(JITError) {
        self.configuration = configuration
        compileTimeLimit = nanoseconds(configuration.compileTimeLimit)
        optimizingTimeLimit = nanoseconds(configuration.optimizingTimeLimit)
        memory = interpreter.memory
        policy = configuration.policy
        let jit = configuration.mode != .interpreter
        let region = CodeRegion(
            size: jit ? max(configuration.codeCacheSize, 16 << 10) : 1 << 14, separateViews: configuration.separateCodeViews)
        cache = TranslationCache(region: region, memory: memory)
        if policy.countingLimit != 0 { cache.countingLimit = UInt64(max(policy.countingLimit, 2 &* policy.optimizingThreshold)) }
        counts = .allocate(capacity: 1)
        counts.initialize(to: EngineStatistics())
        queue = configuration.mode == .auto && configuration.compileThreads > 0
            ? CompileQueue(threads: configuration.compileThreads) : nil
        main = HartRunner(interpreter: interpreter, jumpCache: cache.jumpCache, counters: cache.counters)
        runners = [main]
        main.engine = self
        prepare(main)
        cache.onRemove = { [unowned self] t, reason in
            let count = self.cache.count(t.id)
            self.retiredInstructions.add(t.guestPC, count)
            self.counts.pointee.removedEntries &+= self.entries(t)
            if t.optimized != nil {
                self.counts.pointee.removedOptimizedInstructions &+= count
                self.counts.pointee.removedOptimizedExits &+= self.cache.exits(t.id)
            }
            switch reason {
            case .invalidated:
                self.counts.pointee.deopts += 1
                self.setbacks.add(t.guestPC, 1)
            case .evicted:
                // Under `--tier opt` an evicted region's header backs off as after a deopt (the
                // baseline compiles it until the counts decay): a cache too small for the
                // regions a loop runs through evicts each of them on every turn (a cyclic
                // working set defeats every policy), and a region costs 20-50 baseline
                // compiles (the fuzzer's 64 KiB cache: 462,878 region compiles, 55 s).
                if t.optimized != nil, self.mode == .optimizing { self.setbacks.add(t.guestPC, 1) }
                // An evicted block must turn hot again before it is compiled again (in the
                // interpreter of the hart evicting; the others ask again when theirs is hot).
                (self.acting ?? self.main).interpreter.setTierUp(at: t.guestPC, after: self.policy.threshold)
            case .replaced, .demoted, .programReplaced:
                // (A demoted region's header is not asked for again; the baseline compiles it
                // at its next miss, without backing off.)
                break
            }
        }
        cache.marksNow = { [unowned self] in
            self.runners.compactMap { runner in
                let epoch = runner.epoch.load(ordering: .acquiring)
                return epoch & 1 == 1 ? QuiescenceMark(runner: runner, epoch: epoch) : nil
            }
        }
        cache.isQuiescent = { marks in
            marks.allSatisfy { $0.runner.isRemoved || $0.runner.epoch.load(ordering: .acquiring) != $0.epoch }
        }
        rivet_install_fault_handler()
    }

    /// Gives a runner's hart what JIT code and the interpreter read from it.
    private func prepare(_ runner: HartRunner) {
        let hart = runner.hart
        hart.slots[HartState.Slot.guestBase] = UInt64(UInt(bitPattern: memory.base))
        hart.slots[HartState.Slot.guestLimit] =
            UInt64(UInt(bitPattern: memory.base)) + GuestMemory.addressSpaceSize + GuestMemory.guardSize
        hart.slots[HartState.Slot.jumpCache] = UInt64(UInt(bitPattern: runner.jumpCache.table))
        hart.slots[HartState.Slot.addressSpaceSize] = GuestMemory.addressSpaceSize
        runner.interpreter.tierUpThreshold = configuration.mode == .auto ? policy.threshold : nil
        runner.interpreter.decodedBlockLimit = configuration.decodedBlockCacheSize
        runner.sliceLeft = configuration.slice
    }

    // MARK: Harts

    /// A runner for another hart (a new guest thread), sharing this engine's translations. Its
    /// interpreter starts with the first one's settings.
    public func makeRunner(for hart: HartState) -> HartRunner {
        lock.withLock {
            let interpreter = Interpreter(memory: memory, hart: hart)
            interpreter.readTime = main.interpreter.readTime
            interpreter.singleStep = main.interpreter.singleStep
            interpreter.traceHook = main.interpreter.traceHook
            let runner = HartRunner(interpreter: interpreter, jumpCache: JumpCache(), counters: cache.addCounterTable())
            runner.engine = self
            prepare(runner)
            runner.interpreter.tierUpThreshold = main.interpreter.tierUpThreshold
            runners.append(runner)
            cache.otherJumpCaches.append(runner.jumpCache)
            runnerCount.store(runners.count, ordering: .sequentiallyConsistent)
            updateEcallHandler()
            return runner
        }
    }

    /// Forgets a runner whose hart's thread ended (its counts stay in the statistics).
    public func remove(_ runner: HartRunner) {
        lock.withLock {
            guard !runner.isRemoved else { return }
            runner.isRemoved = true
            if acting === runner { acting = nil }
            counts.pointee.add(runner.counts.pointee)
            runner.interpreter.detach()
            runners.removeAll { $0 === runner }
            cache.otherJumpCaches.removeAll { $0 === runner.jumpCache }
            if runner.counters != cache.counters { cache.removeCounterTable(runner.counters) }
            runnerCount.store(runners.count, ordering: .sequentiallyConsistent)
            updateEcallHandler()
        }
    }

    /// After a host fork, in the child: only the hart `survivor` came along.
    public func keepOnly(hartOf survivor: HartState) {
        for runner in runners where runner.hart !== survivor { remove(runner) }
    }

    /// The runner of `hart`, if it has one.
    public func runner(of hart: HartState) -> HartRunner? {
        lock.withLock { runners.first { $0.hart === hart } }
    }

    deinit {
        queue?.shutdown()
        optimizingQueue?.shutdown()
        counts.deinitialize(count: 1)
        counts.deallocate()
    }

    /// Runs `hostFork` (which forks the host process) with the engine ready for it: the
    /// compile workers stopped (and started again on both sides), and the code region no
    /// longer shared — the child moves to a copy taken before the fork, the parent keeps it.
    /// - Returns: what `hostFork` returned (the child's pid, 0 in the child, or -errno).
    public func fork(_ hostFork: () -> Int32) -> Int32 {
        withWorkersStopped { forkStopped(hostFork) }
    }

    /// Runs `body` with the compile workers stopped, and starts them again after it.
    private func withWorkersStopped<R>(_ body: () -> R) -> R {
        let workers = queue?.workerCount ?? 0
        let optimizingWorkers = optimizingQueue?.workerCount ?? 0
        queue?.shutdown()
        optimizingQueue?.shutdown()
        defer {
            if workers > 0 { queue?.restart(threads: workers) }
            if optimizingWorkers > 0 { optimizingQueue?.restart(threads: optimizingWorkers) }
        }
        return body()
    }

    /// `fork`, the workers stopped.
    ///
    /// A code region of one private mapping (the default) comes to the child copy-on-write.
    /// One of two views (`EngineConfiguration.separateCodeViews`, or a host that refuses one
    /// mapping) is a memfd mapped shared, so after the host fork both processes would see one
    /// region, and each one's new code and patched links would land in the other's. So the
    /// parent copies it first, holding the engine's lock (no hart changes the region until
    /// after the fork), into a new memfd; the child maps that copy in place of the shared one
    /// before it runs any guest code, and the parent closes it and goes on, waiting for nothing.
    /// (The child used to make the copy after the fork, while the parent waited on a pipe: for
    /// the host to start the child as well as for the copy, 330 µs a fork of a 24 KiB region
    /// and 620 µs in busybox sh's workload; then the parent copied after the fork and the child
    /// waited for it. Performance.md, twenty-ninth session.) With no region mapped (the
    /// interpreter, or nothing compiled yet) there is nothing to copy.
    private func forkStopped(_ hostFork: () -> Int32) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        takeWhatChildrenReported(acting ?? main)
        if reportsFromChildren == nil { reportsFromChildren = ChildReports() }
        let copy: Int32?
        do throws(JITError) {
            copy = try cache.region.copy()
        } catch {
            // No child yet: the guest's fork fails as when the host refuses one.
            let reason = if case .executableMemory(let errno) = error { String(cString: strerror(errno)) } else { "\(error)" }
            let message = "rivet: fork: cannot copy the code cache (\(reason))\n"
            message.withCString { _ = write(2, $0, strlen($0)) }
            return -ENOMEM
        }
        let pid = hostFork()
        if pid == 0 {
            lock.reinitializeInChild()
            lock.lock()  // for the deferred unlock
            if let copy, let error = cache.region.adopt(copy) {
                let message = "rivet: cannot give the forked child its own code cache (\(String(cString: strerror(error))))\n"
                message.withCString { _ = write(2, $0, strlen($0)) }
                _exit(127)
            }
            if mode == .auto {
                policy.restartAfterFork()
                for runner in [main] + runners { runner.interpreter.tierUpThreshold = policy.threshold }
            }
            reportsToParent = reportsFromChildren
            reportsFromChildren = nil
            reportsLeft = ChildReports.perChild
            for runner in [main] + runners {
                runner.interpreter.onDecode = { [unowned self] pc in self.report(pc, compiled: false) }
            }
            return 0
        }
        if let copy { close(copy) }
        return pid
    }

    /// Decodes and compiles the blocks this process's children reported (`ChildReports`),
    /// from its own bytes, where it has not yet: the next child inherits them. (With one hart
    /// alone: the decoded blocks go into the interpreter of the hart that forks.)
    private func takeWhatChildrenReported(_ r: HartRunner) {
        guard let reportsFromChildren, isSingleHart else { return }
        for (pc, compiled) in reportsFromChildren.take(limit: ChildReports.takenPerFork)
        where memory.permissions(at: pc).contains(.execute) {
            if compiled {
                if mode != .interpreter, !cache.contains(pc), compileNow(r, pc) != nil {
                    r.counts.pointee.compiledForChildren += 1
                }
            } else if r.interpreter.predecode(at: pc) {
                r.counts.pointee.decodedForChildren += 1
            }
        }
    }

    /// Reports a block this process (a forked child) decoded or compiled to its parent, while
    /// it runs its parent's program, and one hart alone (interpreters decode without the
    /// engine's lock).
    private func report(_ pc: UInt64, compiled: Bool) {
        guard reportsLeft > 0, let reportsToParent, isSingleHart else { return }
        reportsToParent.report(pc, compiled: compiled)
        reportsLeft -= 1
    }

    /// The guest replaced its program (execve; call before its memory goes): every translation
    /// is forgotten at once (`TranslationCache.forgetAll`), and with them what the engine
    /// learned of the old program's pcs — back-offs, the regions asked for and their headers,
    /// compiles waiting or done — since the new program's code at those pcs is another. Before,
    /// unmapping the old image invalidated the translations one by one: each counted as a
    /// deoptimization (the exec'd program's `--stats` reported the old one's translations as
    /// deopts) and backed its pc off, so the new program's blocks there waited twice the
    /// threshold. Only with no hart in JIT code (an `ecall` handled from JIT code that execs:
    /// the translations then go by invalidation, as before).
    public func programReplaced(keepingCode: Bool = false) {
        withWorkersStopped { lock.withLock {
            guard runners.allSatisfy({ $0.ecallDepth == 0 }) else { return }
            queue?.discardAll()
            optimizingQueue?.discardAll()
            deferred.removeAll()
            // The translations of pages the new image may map again wait for the comparison
            // (`GuestMemory.restoreCode`); the rest go through the usual invalidation by page.
            guard !keepingCode else { return }
            // Another program: what it compiles is of no use to the parent.
            reportsLeft = 0
            cache.forgetAll(keeping: madeRuntime?.trampolineLength ?? 0)
            setbacks.removeAll()
            retiredInstructions.removeAll()
            optimizingAsked.removeAll()
            regionBlocksAsked.removeAll()
            regionHeaders.removeAll()
            regions.removeAll()
            windowHeaders.removeAll()
        } }
    }

    /// Runs `body` (execve's `GuestMemory.restoreCode`, which keeps the old program's code
    /// where the new one repeats its bytes) with the translations it drops counted as the old
    /// program's: no deoptimization, no invalidation, no back-off at their pcs.
    public func replacingProgram<T>(_ body: () -> T) -> T {
        lock.withLock { cache.replacingProgram = true }
        defer { lock.withLock { cache.replacingProgram = false } }
        return body()
    }

    /// The source of the `time` CSR, for every tier.
    public func setTimeSource(_ read: @escaping () -> UInt64) {
        for runner in runners { runner.interpreter.readTime = read }
        readTime = read
        madeRuntime?.context.readTime = read
    }

    /// Makes the engine, its first hart and its interpreter ready for another guest of the same
    /// program (a snapshot's next copy): the translations and decoded blocks stay — the code
    /// they were made from is the same; the memory's reset forgot what came from writable pages
    /// — everything of the last guest's goes (registers, hooks, the ecall handler, counts).
    /// - Returns: false if more than one hart exists (the engine is not reusable then).
    public func prepareForAnotherGuest() -> Bool {
        lock.withLock {
            guard runners.count == 1, runners[0] === main, main.ecallDepth == 0 else { return false }
            ecallHandler = (0, 0)
            updateEcallHandler()
            main.lastDecay = 0
            main.lastCounterSweep = 0
            main.counts.pointee = EngineStatistics()
            counts.pointee = EngineStatistics()
            acting = nil
            let interpreter = main.interpreter
            interpreter.singleStep = false
            interpreter.traceHook = nil
            interpreter.stopBefore = nil
            main.hart.resetGuestState()
            return true
        }
    }

    /// Whether one hart alone runs (no other guest thread exists).
    public var isSingleHart: Bool { runnerCount.load(ordering: .relaxed) == 1 }

    /// Makes the first hart's JIT code call `handler` at every `ecall` (with `context` in
    /// `HartState.Slot.ecallContext`) before it leaves for the run loop; nil for none.
    /// The handler is called only while the first hart runs alone: with other threads, the
    /// `ecall` goes to the run loop.
    public func setEcallHandler(_ handler: EcallHandler?, context: UnsafeMutableRawPointer?) {
        lock.withLock {
            ecallHandler = (handler.map { UInt64(UInt(bitPattern: unsafeBitCast($0, to: Int.self))) } ?? 0,
                            UInt64(UInt(bitPattern: context)))
            updateEcallHandler()
        }
    }

    /// The ecall handler and its context, as slot values.
    private var ecallHandler: (function: UInt64, context: UInt64) = (0, 0)

    /// Gives the first hart its ecall handler while it runs alone, takes it away while it does
    /// not (under `lock`; only the first hart's own thread can add a runner then, outside JIT
    /// code, so the JIT code never reads the slot while it changes meaningfully).
    private func updateEcallHandler() {
        let alone = runners.count == 1 && runners[0] === main
        let slots = main.hart.slots
        slots[HartState.Slot.ecallContext] = alone ? ecallHandler.context : 0
        slots[HartState.Slot.ecallHandler] = alone ? ecallHandler.function : 0
    }

    /// Runs the first hart (see `HartRunner.run`).
    public func run(budget: UInt64) -> StopReason { run(main, budget: budget) }

    /// Runs `r`'s hart until it stops, executing at most `budget` instructions. The stop
    /// reasons and the hart's state at the stop are exactly the interpreter's.
    func run(_ r: HartRunner, budget: UInt64) -> StopReason {
        // The objects the loop touches at every turn, held in locals: one reference each for
        // the whole run instead of a retain and a release per use.
        let cache = cache
        let hart = r.hart
        let interpreter = r.interpreter
        let counts = r.counts
        let queue = queue
        let lock = lock
        // Only this hart can add another (clone, a syscall, outside this loop): with one
        // runner now, there is one for the whole run.
        let shared = runnerCount.load(ordering: .sequentiallyConsistent) > 1
        var remaining = budget
        r.budgetTail = 0
        interpreter.bindToCurrentThread()
        // Host faults on guest memory in this thread's host code are this hart's.
        interpreter.withDispatchTable { table, entries in rivet_set_thread_hart(hart.slots, table, entries) }
        while true {
            if hart.slots[HartState.Slot.attention] != 0 {
                if hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_CODE_CHANGED != 0 {
                    interpreter.applyPendingCodeChanges()
                }
                if let fault = memory.settleHostFaults(hart.slots) { return .fault(fault) }
                if hart.slots[HartState.Slot.attention] != 0 { return .interrupted }
            }
            if shared { lock.lock() }
            acting = r
            cache.collect()
            if queue?.hasResults == true { installResults(r, queue.unsafelyUnwrapped) }
            if optimizingQueue?.hasResults == true { installResults(r, optimizingQueue.unsafelyUnwrapped) }
            if !deferred.isEmpty { installDeferred(r) }
            if remaining == 0 {
                if shared { lock.unlock() }
                return .budgetExhausted
            }
            maintain(r)
            let pc = hart.pc
            // Plain values, not the Translation: no reference counting on this path.
            var found = cache.entryPoint(pc)
            if found == nil, !interpreter.singleStep {
                if compileOnMiss(r, pc) != nil {
                    found = cache.entryPoint(pc)
                } else if compilesEagerly, case .failure(let fault) = memory.instruction(at: pc) {
                    if shared { lock.unlock() }
                    return .fault(fault)
                }
            }
            if found != nil { counts.pointee.lookupHits += 1 } else { counts.pointee.lookupMisses += 1 }
            // After a region's budget check left, a run's last instructions (fewer than any of
            // its checks needs) are the interpreter's, wherever the check left (a region
            // entered with less leaves at its first check, and the run ends here too).
            let tail = remaining < r.budgetTail
            if let found, !interpreter.singleStep, !tail, remaining >= UInt64(found.instructions) {
                // In JIT code from here: what other harts remove is kept until this hart leaves.
                if r.ecallDepth == 0 { r.epoch.add(1, ordering: .sequentiallyConsistent) }
                if shared { lock.unlock() }
                // (An `ecall` stop from JIT code needs no look at the ecall handler: the JIT
                // code called it already, or it stopped the run.)
                if let stop = execute(r, entry: found.hostEntry, remaining: &remaining, shared: shared) { return stop }
                continue
            }
            if shared { lock.unlock() }
            // Too little budget for the whole block: the interpreter runs the rest exactly. Too
            // little for a tier-2 region's checks (`tail`), it runs the rest of the run without
            // stopping where code is compiled (it would stop at the region again).
            let before = hart.instret
            // What the time sampler sees (C's inline store, with C's constants: no call here).
            rivet_set_activity(hart.slots, UInt64(RIVET_ACTIVITY_INTERPRETER))
            let stop = interpreter.run(budget: remaining, stopsForTierUp: !tail)
            rivet_set_activity(hart.slots, UInt64(RIVET_ACTIVITY_RUN_LOOP))
            let executed = hart.instret &- before
            counts.pointee.interpretedInstructions &+= executed
            remaining &-= min(remaining, executed)
            switch stop {
            case .tierUp:
                if shared { lock.lock() }
                acting = r
                tierUp(r, hart.pc)
                if shared { lock.unlock() }
                continue
            case .budgetExhausted:
                if remaining == 0 { return .budgetExhausted }
                continue
            case .ecall:
                guard !shared else { return stop }
                switch handleEcall(r) {
                case .notHandled: return stop
                case .goOn: continue
                case .stop(let reason): return reason
                }
            default:
                return stop
            }
        }
    }

    /// What the run does after the ecall handler saw an `ecall` it stopped at.
    private enum EcallHandling {
        case notHandled
        case goOn
        case stop(StopReason)
    }

    /// Gives the `ecall` the interpreter stopped at to the hart's ecall handler, if it has one:
    /// as JIT code calls it, but outside JIT code (`fromJIT` 0).
    private func handleEcall(_ r: HartRunner) -> EcallHandling {
        let slots = r.hart.slots
        let raw = slots[HartState.Slot.ecallHandler]
        guard raw != 0 else { return .notHandled }
        let handler = unsafeBitCast(UInt(raw), to: EcallHandler.self)
        switch EcallOutcome(rawValue: handler(slots, slots[HartState.Slot.pc], 0)) {
        case .resume, .handled:
            // A thread started by the handler makes this loop's `shared` stale.
            return runnerCount.load(ordering: .relaxed) > 1 ? .stop(.interrupted) : .goOn
        case .stopped: return .stop(.ecall)
        case .notHandled, nil: return .notHandled
        }
    }

    // MARK: Tiering

    /// Periodic work on the guest thread: tier 1's counters, decay of hotness, adaptive thresholds.
    private func maintain(_ r: HartRunner) {
        let executed = r.hart.instret
        if executed &- r.lastCounterSweep >= Self.counterSweepInterval {
            r.lastCounterSweep = executed
            sweepCounters(r)
        }
        guard executed &- r.lastDecay >= policy.decayInterval else { return }
        r.lastDecay = executed
        r.interpreter.decayHotness()
        setbacks.halve()
        usage.sample(cache, underPressure: hasEvicted)
        r.counts.pointee.decays += 1
    }

    /// Guest instructions between two looks at tier 1's counters, and translations looked at
    /// each time (round robin over the ids): Lua's 5,000 blocks in 10 million instructions.
    /// (4,096 at a time took 0.6% of Lua's run under `--tier baseline`, `perf record`.)
    static let counterSweepInterval: UInt64 = 1 << 21
    static let counterSweepSize = 1024

    /// Stops the counting of the baseline blocks that ran `policy.countingLimit` times since
    /// their counting (re)started. Every baseline block but a one-block loop adds its
    /// instructions to its counter as it starts (`add [counters + 8·id], n`); a block run again
    /// before that store retired waits for it, which cost SQLite 11% and Lua 8% of their time
    /// (`--tier baseline`, medians of 5, tenth session). What the counters feed — tier 2's choice
    /// of loops and of the blocks in them, eviction's ranking, `--stats` — needs them exact
    /// only up to a point: a block that ran that often is hot. The usage samples of eviction
    /// make stopped blocks count again (`UsageTracker.sample`), so that code which cooled down
    /// shows it.
    ///
    /// First, each header waiting in a profiling window that ran `T2` times since goes to
    /// `considerOptimizing` (before its counting may stop again): waiting for a slice to end at
    /// it again delayed a short program's loops, and `opt_calls` ran 3-10% of its instructions
    /// in tier 2 instead of 47-56%.
    private func sweepCounters(_ r: HartRunner) {
        guard cache.countingLimit != 0 else { return }
        if !windowHeaders.isEmpty {
            let threshold = UInt64(policy.optimizingThreshold)
            let waiting = windowHeaders
            windowHeaders.removeAll()
            for t in waiting where !t.isRetired && t.inWindow {
                if windowedEntries(t) >= threshold { considerOptimizing(r, t) } else { windowHeaders.append(t) }
            }
        }
        cache.sweepCounters(Self.counterSweepSize)
    }

    /// The code cache evicted code at some time: blocks that count on demand count at usage
    /// samples (`UsageTracker.sample`).
    @exclusivity(unchecked) private var hasEvicted = false

    /// Headers whose profiling window is open (`openProfilingWindow`), for `sweepCounters`.
    @exclusivity(unchecked) private var windowHeaders: [Translation] = []

    /// Opens a profiling window around header `t`: the baseline blocks on its page and the
    /// pages beside it (where region formation looks for indirect targets, and where most of a
    /// loop lies) count again, from their counts now (`windowedEntries`).
    private func openProfilingWindow(around t: Translation) {
        if !windowHeaders.contains(where: { $0 === t }) { windowHeaders.append(t) }
        for page in Self.pagesAround(t.guestPC) {
            for u in cache.translations(onPage: page) where u.optimized == nil && !u.isRetired {
                cache.resumeCounting(u)
                u.windowBase = cache.count(u.id)
                u.inWindow = true
            }
        }
    }

    /// The page numbers of `pc`'s page and the pages beside it, where region formation looks for
    /// indirect targets and profiling windows count again. (Saturating: a guest may run code in
    /// page 0, or in the address space's last page.)
    static func pagesAround(_ pc: UInt64) -> ClosedRange<UInt64> {
        let page = pc >> 12
        return (page == 0 ? 0 : page - 1)...(page == UInt64.max >> 12 ? page : page + 1)
    }

    /// How often baseline block `t` was entered since its profiling window opened (`entries`).
    private func windowedEntries(_ t: Translation) -> UInt64 {
        (cache.count(t.id) &- t.windowBase) / UInt64(max(1, t.instructionCount))
    }

    /// The interpreter stopped at a hot block (or one that has code now).
    private func tierUp(_ r: HartRunner, _ pc: UInt64) {
        let interpreter = r.interpreter
        guard mode == .auto else {
            interpreter.setTierUp(at: pc, immediately: false)
            return
        }
        if cache.contains(pc) { return }
        // A deopt loop backs off: each invalidation (or compile over the time limit) doubles the
        // executions needed.
        let info = interpreter.blockInfo(at: pc)
        let count = Int(setbacks.value(pc))
        if count > 0 {
            let needed = policy.backoffThreshold(deopts: count)
            if let info, info.executions < needed {
                r.counts.pointee.backoffs += 1
                interpreter.setTierUp(at: pc, after: needed - info.executions)
                return
            }
        }
        let priority = policy.priority(executions: info?.executions ?? 1, instructions: info?.instructions ?? 1)
        adaptThreshold(r)
        if let queue, queue.length < policy.longQueue {
            // Keep interpreting meanwhile; ask again (raising the priority) if it takes long.
            interpreter.setTierUp(at: pc, after: policy.threshold)
            if queue.raise(pc, to: priority, now: monotonicNanoseconds()) {
                r.counts.pointee.mergedRequests += 1
                return
            }
            // A full queue refuses: the block runs on where it is and asks again later.
            guard !queue.isFull else {
                r.counts.pointee.refusedRequests += 1
                return
            }
            guard let request = request(pc, priority: priority) else { return }
            if queue.submit(request) == .queued {
                r.counts.pointee.queued += 1
            } else {
                cache.releaseID(request.id)
            }
        } else if compileNow(r, pc, priority: priority) == nil {
            interpreter.setTierUp(at: pc, after: policy.threshold)
        }
    }

    /// Applies the adaptive threshold to the interpreters' new countdowns (the other harts'
    /// take it at their next tier-up here).
    private func adaptThreshold(_ r: HartRunner) {
        guard mode == .auto else { return }
        let old = policy.threshold
        // The whole process's figures (the policy is shared): every hart's, and those of harts
        // that ended, so that the totals only grow. (Other harts' counters are read while they
        // run, as `statistics` reads them: aligned 64-bit words, at worst a little old.)
        var interpreted = counts.pointee.interpretedInstructions
        var executed = interpreted &+ counts.pointee.jitInstructions
        for runner in runners {
            interpreted &+= runner.counts.pointee.interpretedInstructions
            executed &+= runner.counts.pointee.interpretedInstructions &+ runner.counts.pointee.jitInstructions
        }
        if policy.adapt(queueLength: queue?.length ?? 0, interpreted: interpreted, executed: executed, now: monotonicNanoseconds()) {
            r.counts.pointee.thresholdChanges += 1
        }
        r.interpreter.tierUpThreshold = policy.threshold
        // Blocks decoded under the old threshold count down from the new one. (The threshold
        // falls a few times a run: it stays low once it fell, so the walk is paid rarely.)
        if policy.threshold < old { r.interpreter.lowerCountdowns(to: policy.threshold) }
    }

    /// A compile request for the block at `pc`, with a fresh translation id.
    private func request(_ pc: UInt64, priority: Double, copyingBytes: Bool = true) -> CompileRequest? {
        guard let id = cache.reserveID() else { return nil }
        guard
            var r = GuestCode.request(
                at: pc, id: id, memory: memory, requested: monotonicNanoseconds(), priority: priority, stops: regionHeaders,
                copyingBytes: copyingBytes)
        else {
            cache.releaseID(id)
            return nil
        }
        // (Only under `--tier baseline`: `auto`'s tier 2 forms regions from the counts, and
        // under `opt`, whose time goes to compiling, it did not pay.)
        r.countingEntry = policy.countsOnDemand && mode == .baseline && cache.countingLimit != 0
        return r
    }

    /// Compiles and installs the block at `pc` on the guest thread.
    private func compileNow(_ r: HartRunner, _ pc: UInt64, priority: Double = 1) -> Translation? {
        let activity = r.hart.activity
        r.hart.activity = .compiling
        let start = monotonicNanoseconds()
        defer {
            r.hart.activity = activity
            r.counts.pointee.guestThreadCompiles += 1
            r.counts.pointee.guestThreadCompileNanoseconds &+= monotonicNanoseconds() &- start
        }
        // Compiled and installed here, the block's bytes can only change meanwhile if another
        // hart writes them: with none, they need no copy to check (a copy and a comparison
        // were 2% of `flat`'s run under `baseline`).
        guard var request = request(pc, priority: priority, copyingBytes: runners.count > 1) else {
            r.counts.pointee.failedCompiles += 1
            return nil
        }
        // (A pc backing off after a deoptimization or an eviction gets tier 1.)
        if mode == .optimizing, setbacks.value(pc) != 0 { r.counts.pointee.thrashingRegions += 1 }
        if mode == .optimizing, setbacks.value(pc) == 0 {
            request.tier = 2
            request.setRegion(RegionFormation.loop(header: pc, first: request.block, memory: memory))
            if let block = compiler.compile(request) { return install(r, block) }
            r.counts.pointee.optimizeFailures += 1
            request.tier = 1
        }
        guard let block = compiler.compile(request) else {
            cache.releaseID(request.id)
            r.counts.pointee.failedCompiles += 1
            return nil
        }
        return install(r, block)
    }

    /// Installs finished background compiles.
    private func installResults(_ r: HartRunner, _ queue: CompileQueue) {
        let (completed, failed) = queue.takeResults()
        for request in failed {
            cache.releaseID(request.id)
            if request.tier == 2 { r.counts.pointee.optimizeFailures += 1 } else { r.counts.pointee.failedCompiles += 1 }
        }
        for block in completed { install(r, block) }
    }

    /// Installs the blocks that waited for room, once removed translations have been freed.
    private func installDeferred(_ r: HartRunner) {
        let waiting = deferred
        deferred.removeAll()
        for block in waiting { install(r, block) }
    }

    /// Places a compiled block in the code cache, evicting by policy to make room, and
    /// publishes it: the next block entry or jump to its pc runs it.
    @discardableResult
    private func install(_ r: HartRunner, _ block: CompiledBlock) -> Translation? {
        let request = block.request
        let counts = r.counts
        // A translation may exist already (code of the optimizing tier replaces the baseline's),
        // or the guest may have changed the code meanwhile.
        let existing = cache.lookup(request.pc)
        if let existing {
            guard block.optimized != nil, existing.optimized == nil else {
                cache.releaseID(request.id)
                return nil
            }
        }
        if mode == .auto, block.optimized != nil, block.instructions < request.regionHeaderLength ?? request.block.count {
            // A region that stops before the block's end would leave to the middle of the block,
            // where no code is: the baseline's code stays. (A header block that region formation
            // split, where a branch of the loop comes into it, goes on in the region's block
            // from there.)
            cache.releaseID(request.id)
            counts.pointee.partialRegions += 1
            return nil
        }
        if mode == .auto, block.compileNanoseconds > (block.optimized == nil ? compileTimeLimit : optimizingTimeLimit) {
            cache.releaseID(request.id)
            counts.pointee.timedOutCompiles += 1
            setbacks.add(request.pc, 1)
            return nil
        }
        guard GuestCode.isCurrent(request, memory: memory) else {
            cache.releaseID(request.id)
            counts.pointee.staleCompiles += 1
            return nil
        }
        guard let runtime = makeRuntime(), let offsets = allocate(
            r, JITRuntime.lengths(of: block), metadata: Translation.metadataBytes + (block.optimized?.bytes ?? 0),
            aligned: block.optimized == nil ? CodeRegion.alignment : Self.regionAlignment)
        else {
            if cache.hasRetired, deferred.count < 64 {
                // Another hart may still run the code evicted to make room: try again once it
                // is freed.
                deferred.append(block)
                return nil
            }
            cache.releaseID(request.id)
            counts.pointee.failedCompiles += 1
            return nil
        }
        let t = runtime.place(block, at: offsets)
        // A new translation counts as just used, as often as it ran in the interpreter: else
        // the next eviction would take exactly the code that just proved hot.
        t.lastActiveEpoch = usage.epoch
        if let info = r.interpreter.blockInfo(at: t.guestPC) {
            t.recentInstructions = Double(info.executions) * Double(info.instructions)
        }
        if let existing, !existing.isRetired {
            cache.replace(existing, with: t)
        } else {
            cache.insert(t)
        }
        if t.optimized != nil, mode == .auto { regions.append(t) }
        if t.optimized != nil { enterRegionsAtTheirHeaders(t) }
        // Indirect jumps and returns to it find it at once.
        r.jumpCache.set(pc: t.guestPC, entry: cache.entry(t))
        counts.pointee.recordCompile(t)
        r.interpreter.setTierUp(at: t.guestPC, immediately: true)
        configuration.perfMap?.record(t, entry: cache.entry(t))
        report(t.guestPC, compiled: true)
        return t
    }

    /// Makes code that runs into region `t`'s header enter the region there: baseline blocks
    /// end before its pc from now on, and those that ran through it go (compiled again when
    /// next met, they end there and chain to the region).
    private func enterRegionsAtTheirHeaders(_ t: Translation) {
        if regionHeaders.count >= 4096 { regionHeaders.removeAll() }
        regionHeaders.insert(t.guestPC)
        let header = t.guestPC
        // (A block that runs through the header starts on its page: blocks end at a page's end.)
        for u in cache.translations(onPage: header >> 12)
        where u.optimized == nil && !u.isRetired && u.guestPC < header && header < u.guestEnd {
            cache.remove(u, .replaced)  // (no deoptimization: compiled again at once when met)
        }
    }

    /// Room for `length` bytes of code. The cache's bound covers the code and what each
    /// translation costs beside it (`Translation.metadataBytes`, and a tier-2 region's metadata,
    /// `OptimizedCode.bytes`, on top). When it is full, translations
    /// are evicted one at a time in the policy's order until the code fits and a sixteenth of
    /// the cache is free (so that the ranking, which visits every translation, is paid once per
    /// episode, not per compile) — never the whole cache, except under the `flush` comparison
    /// policy. Code another hart may be running is freed later: eviction stops when what waits
    /// to be freed would make the room, and this compile waits for it.
    private func allocate(
        _ r: HartRunner, _ lengths: (hot: Int, cold: Int), metadata: Int = Translation.metadataBytes,
        aligned: Int = CodeRegion.alignment
    ) -> (hot: Int, cold: Int)? {
        let length = lengths.hot + lengths.cold
        let bound = cache.region.size
        func free() -> Int {
            bound - cache.region.used - cache.count * Translation.metadataBytes - cache.optimizedMetadataBytes
        }
        if free() >= length + metadata, let offsets = cache.region.allocate(hot: lengths.hot, cold: lengths.cold, aligned: aligned) {
            return offsets
        }
        if cache.retiredBytes >= length + metadata { return nil }
        r.counts.pointee.evictionEpisodes += 1
        hasEvicted = true
        usage.sample(cache, underPressure: true)
        let headroom = max(length + metadata, bound / 16)
        var fits = false
        usage.evict(from: cache, policy: configuration.evictionPolicy) {
            fits = fits || cache.region.canAllocate(hot: lengths.hot, cold: lengths.cold, aligned: aligned)
            return (fits && free() >= headroom) || free() + cache.retiredBytes >= headroom + bound / 16
        }
        guard free() >= length + metadata else { return nil }
        return cache.region.allocate(hot: lengths.hot, cold: lengths.cold, aligned: aligned)
    }

    /// Where tier-2 regions start: on a 64-byte line, so that a loop's code sits where it sat
    /// in the last run. At the 16 bytes of other translations, alu's Collatz loop landed at
    /// one of four offsets in its line from run to run, 1.37-1.45 s in some runs and 1.59-1.66
    /// s in others (Documentation/Performance.md, thirteenth session).
    static let regionAlignment = 64

    /// Whether blocks are compiled at their first execution (`baseline`, `opt`).
    private var compilesEagerly: Bool { mode == .baseline || mode == .optimizing }

    /// Whether `auto` compiles a block the first time the run loop meets it: when the adaptive
    /// threshold has fallen to its floor (warm code: thousands of blocks, each run a few
    /// times) and compiles run on the guest thread. The interpreter would decode such a block,
    /// run it once and ask for it at once; compiling it decodes it again. On `flat` that was
    /// 66,000 decodes, 5% of the run in the interpreter and a longer run loop than `baseline`'s.
    private var compilesAtFirstSight: Bool {
        mode == .auto && queue == nil && policy.adaptive && policy.threshold <= policy.minThreshold
    }

    /// Whether a pc without code is compiled where it is met: eagerly, or at first sight.
    private var compilesOnMiss: Bool { compilesEagerly || compilesAtFirstSight }

    /// Compiles the block at `pc`, which has no code, where it is met (`compilesOnMiss`), or
    /// nil. At first sight, a pc that backs off is left alone, and a failed compile backs it
    /// off, so the interpreter takes it (and reports a fault precisely) and the next meeting
    /// does not try again at once.
    private func compileOnMiss(_ r: HartRunner, _ pc: UInt64) -> Translation? {
        if compilesEagerly { return compileNow(r, pc) }
        guard compilesAtFirstSight, setbacks.value(pc) == 0 else { return nil }
        if let t = compileNow(r, pc) { return t }
        setbacks.add(pc, 1)
        return nil
    }

    /// Most instructions JIT code runs in `auto` before it comes back to the run loop, by
    /// default (`EngineConfiguration.slice`).
    public static let slice: UInt64 = 1 << 22

    /// A baseline translation came back to the run loop at its head (a budget exit between
    /// slices): if it ran enough and lies on a loop, the loop through it (entered at it) goes to
    /// the optimizing tier's queue.
    private func considerOptimizing(_ r: HartRunner, _ t: Translation) {
        guard configuration.optimizingTier, !t.isRetired, cache.count(t.id) / UInt64(max(1, t.instructionCount)) >= UInt64(policy.optimizingThreshold),
            !optimizingAsked.contains(t.guestPC), setbacks.value(t.guestPC) == 0, !coveredByRegion(t.guestPC)
        else { return }
        // A header that stopped counting (and the blocks around it, which likely did too: their
        // counts, all about the limit, no longer tell a hot path from a cold one) counts again
        // first; the region is formed from the runs since, once the header ran
        // `optimizingThreshold` times more.
        var runs = entries
        if t.countsAreLowerBound {
            guard t.inWindow else { return openProfilingWindow(around: t) }
            guard windowedEntries(t) >= UInt64(policy.optimizingThreshold) else { return }
            runs = { u in u.inWindow ? self.windowedEntries(u) : self.entries(u) }
        }
        if optimizingAsked.count >= 16_384 { optimizingAsked.removeAll() }
        optimizingAsked.insert(t.guestPC)
        guard var request = request(t.guestPC, priority: Double(cache.count(t.id))) else { return }
        request.tier = 2
        let headerRuns = runs(t)
        func form(_ request: inout CompileRequest) {
            let header = request.pc
            request.setRegion(
                RegionFormation.loop(
                    header: header, first: request.block, memory: memory,
                    indirectTargets: { self.indirectTargets(near: header, r, headerRuns: headerRuns, runs: runs) },
                    siteTargets: { self.siteTargets(at: $0, headerRuns: headerRuns, runs: runs) }
                ) { pc in
                    guard let u = self.cache.lookup(pc) else { return false }
                    return runs(u) &* 16 >= headerRuns
                })
        }
        form(&request)
        // Loops first: a block in no loop stays with the baseline's code, and costs no search
        // for its loop's entry (of the 109 blocks Lua's slices ended at and this formed a
        // region from, 98 lay in no loop: 1.8 ms of `loopEntry` for nothing).
        guard t.isLoop || !request.regionBlocks.isEmpty else {
            cache.releaseID(request.id)
            return
        }
        // The region is entered at its header only: headed where code from outside comes into
        // the loop, it runs the whole loop from its first pass (`loopEntry`). Not for a loop
        // closed through an indirect jump (a `switch`, an interpreter's dispatch): there the
        // block a slice ended at, a hot case, made the better region (switch: 0.35 s; headed
        // at the loop's entry, 0.41 s, left every 36 instructions).
        if request.regionIndirectTargets.isEmpty, let entry = loopEntry(request), entry != request.pc,
            !optimizingAsked.contains(entry),
            var other = self.request(entry, priority: request.priority)
        {
            cache.releaseID(request.id)
            optimizingAsked.insert(entry)
            other.tier = 2
            form(&other)
            request = other
        }
        // (Formed again at its entry, the loop may have come out as no loop.)
        guard t.isLoop || !request.regionBlocks.isEmpty else {
            cache.releaseID(request.id)
            return
        }
        if configuration.optimizesOnGuestThread {
            r.counts.pointee.optimizeRequests += 1
            if let block = compiler.compile(request) {
                install(r, block)
            } else {
                cache.releaseID(request.id)
                r.counts.pointee.optimizeFailures += 1
            }
            return
        }
        let queue = optimizingQueue ?? CompileQueue(threads: 1, capacity: 256, windowBudget: 40)
        optimizingQueue = queue
        if queue.submit(request) == .queued {
            r.counts.pointee.optimizeRequests += 1
            if regionBlocksAsked.count >= 16_384 { regionBlocksAsked.removeAll() }
            let now = monotonicNanoseconds()
            regionBlocksAsked[request.pc] = now
            for block in request.regionBlocks { regionBlocksAsked[block.pc] = now }
        } else {
            cache.releaseID(request.id)
        }
    }

    /// Whether the block at `pc` lies in a tier-2 region installed that runs at least
    /// `coveringRun` instructions per entry, or in one queued within `regionAskWindow`. Every
    /// block of a loop lies on it, and a slice of the baseline's code may end at any: one that
    /// ends at a block of a loop a region has (run there in the baseline's code after a side
    /// exit, or before the region arrived) leaves the loop to that region rather than make
    /// another of it, headed elsewhere (zlib's `minigzip -9` made 12 regions, most of them of
    /// its hash-chain loop, in 15.5 ms of compiling; with this, 8 in 7.6 ms). A region left at
    /// every pass (at a call it does not take in) keeps less than its loop, and a block of the
    /// loop that the baseline's code runs at every pass may head one that keeps more: counted
    /// as covered too, `opt_one_region` ran 93% of its instructions in tier 2 instead of 99%.
    private func coveredByRegion(_ pc: UInt64) -> Bool {
        if let asked = regionBlocksAsked[pc], monotonicNanoseconds() &- asked < Self.regionAskWindow { return true }
        for u in cache.translations(onPage: pc >> 12) where u.optimized != nil && !u.isRetired {
            if u.guestRanges.contains(where: { $0.contains(pc) }), cache.count(u.id) >= Self.coveringRun &* cache.exits(u.id) {
                return true
            }
        }
        return false
    }

    /// The one block of `request`'s loop that code outside the loop comes into, if there is
    /// one: a baseline block outside it that runs into the block (falls through its pc) or
    /// jumps to it (a link). A loop is found from whichever of its blocks a slice ended at, in
    /// the middle of the loop as often as not (fp64's n-body loop: the block after a
    /// comparison), and entered at its head: a region headed in the middle ran the loop's
    /// first part in the baseline's code at every entry.
    private func loopEntry(_ request: CompileRequest) -> UInt64? {
        let ranges = [request.pc..<request.guestEnd] + request.regionBlocks.map { $0.pc..<$0.end }
        func inLoop(_ pc: UInt64) -> Bool { ranges.contains { $0.contains(pc) } }
        let blocks = ranges.map(\.lowerBound)
        // The baseline blocks outside the loop that run into it or jump to it; each comes in at
        // the first of the loop's blocks it runs through, else where it jumps.
        var outside: [ObjectIdentifier: Translation] = [:]
        for page in Set(blocks.map { $0 >> 12 }) {
            for u in cache.translations(onPage: page) where u.optimized == nil && !u.isRetired && !inLoop(u.guestPC) {
                outside[ObjectIdentifier(u)] = u
            }
        }
        for block in blocks {
            for (u, _) in cache.lookup(block)?.incoming ?? [] where !inLoop(u.guestPC) { outside[ObjectIdentifier(u)] = u }
        }
        var found: Set<UInt64> = []
        for u in outside.values {
            if let first = blocks.filter({ u.guestPC < $0 && $0 < u.guestEnd }).min() {
                found.insert(first)
            } else {
                for k in 0..<u.exits where u.linked(k).map({ blocks.contains($0.guestPC) }) ?? false { found.insert(u.exit(k).target) }
            }
        }
        return found.count == 1 ? found.first : nil
    }

    /// Exits of a region counted together before its rate is judged.
    static let demotionWindow: UInt64 = 20_000
    /// A region left more often than once every this many guest instructions is removed.
    static let demotionInstructionsPerExit: UInt64 = 10
    /// The bar for a region that compares an indirect jump's target with its profiled targets:
    /// with all of a dispatch's hot cases in it, it is left rarely (switch's: every 740 guest
    /// instructions); one formed while only some were hot is left at every miss for the others
    /// (switch's, headed at the loop's top with 9 of its 14 cases: every 17 instructions, 1.5 s
    /// against 0.8), and removed, the dispatch runs in the region formed at it.
    static let demotionInstructionsPerDispatchExit: UInt64 = 32

    /// At a slice's end: removes the tier-2 regions left more often than once every
    /// `demotionInstructionsPerExit` guest instructions over their last `demotionWindow` exits.
    /// Each entry pays the region's prologue (its live registers loaded) and each exit its
    /// epilogue (stored): SQLite's hottest region was entered 4.4 million times for 5
    /// instructions each, and the whole program ran 6% faster without tier 2. The baseline's
    /// code takes the pc again (the region's header is not asked for twice). A region with a
    /// dispatch has its own bar (`demotionInstructionsPerDispatchExit`). (When `switch`'s
    /// dispatch region held only some of its cases, it was left every 36 instructions and still
    /// worth keeping: a bar of 32 then demoted it, 0.41 → 0.49 s.)
    private func demoteLosingRegions(_ r: HartRunner) {
        regions.removeAll { $0.isRetired }
        for t in regions {
            let exits = cache.exits(t.id), instructions = cache.count(t.id)
            let (exitsBefore, instructionsBefore) = t.windowStart
            guard exits &- exitsBefore >= Self.demotionWindow else { continue }
            t.windowStart = (exits, instructions)
            let bar = t.optimized?.dispatches == true ? Self.demotionInstructionsPerDispatchExit : Self.demotionInstructionsPerExit
            guard instructions &- instructionsBefore < bar &* (exits &- exitsBefore) else { continue }
            r.counts.pointee.demotedRegions += 1
            cache.remove(t, .demoted)
        }
    }

    /// A block an indirect jump went to is one of the jump's targets in a region when it ran at
    /// least 1/this as often as the loop's header: the cases of a dispatch share the header's
    /// runs (switch's 14 bytecodes: most ran 1/27 as often, and with a bar of 1/16 its region
    /// left at nearly every dispatch, every 36 instructions).
    static let indirectTargetShare: UInt64 = 64

    /// Where the baseline block at `pc` last called through a pointer
    /// (`TranslationCache.lastCallTarget`), if that code ran at least 1/`indirectTargetShare`
    /// as often as the header: a function far from the loop (qsort's comparator), which
    /// `indirectTargets(near:)` does not see.
    private func siteTargets(at pc: UInt64, headerRuns: UInt64, runs: (Translation) -> UInt64) -> [UInt64] {
        guard let site = cache.lookup(pc), site.optimized == nil, case let target = cache.lastCallTarget(site.id), target != 0,
            let u = cache.lookup(target), u.optimized == nil, runs(u) &* Self.indirectTargetShare >= headerRuns
        else { return [] }
        return [target]
    }

    /// Where indirect jumps near `pc` went, as far as the engine can tell, hottest first: the
    /// baseline translations within a page of it that ran at least 1/`indirectTargetShare` as often as the header
    /// and that the hart's jump cache holds (an indirect jump or a return went there). None when
    /// there are more than `RegionFormation.maxIndirectTargets`: a dispatch with more hot targets
    /// than a region compares with leaves it at every miss, and Lua's interpreter, entering and
    /// leaving its regions every 29 instructions, ran 2.2 times as long as in the baseline's
    /// chained code. A wrong guess costs a comparison, never a result.
    private func indirectTargets(
        near pc: UInt64, _ r: HartRunner, headerRuns: UInt64, runs: (Translation) -> UInt64
    ) -> [UInt64] {
        var found: [(pc: UInt64, runs: UInt64)] = []
        for page in Self.pagesAround(pc) {
            for u in cache.translations(onPage: page) where u.optimized == nil && r.jumpCache.contains(pc: u.guestPC) {
                let runs = runs(u)
                if runs &* Self.indirectTargetShare >= headerRuns, !found.contains(where: { $0.pc == u.guestPC }) {
                    found.append((u.guestPC, runs))
                    // Too many: none (the pages around Lua's dispatch hold hundreds of blocks,
                    // and this went through them all: a fifth of choosing a region's time).
                    if found.count > RegionFormation.maxIndirectTargets { return [] }
                }
            }
        }
        return found.sorted { ($0.runs, $1.pc) > ($1.runs, $0.pc) }.map(\.pc)
    }

    // MARK: Running JIT code

    /// Runs JIT code from `translation` until it exits; returns a stop for the caller, or nil
    /// to continue the loop. Called with the hart marked as in JIT code and without the lock;
    /// the exit is handled with it (when `shared`).
    private func execute(_ r: HartRunner, entry: UInt, remaining: inout UInt64, shared: Bool) -> StopReason? {
        let hart = r.hart
        let counts = r.counts
        let slots = hart.slots
        // In `auto`, at most a slice at a time: JIT code comes back to the run loop (by a budget
        // exit at a block's head) often enough for a hot loop to move to tier 2 while it runs.
        // The slice runs on across other exits: a loop that makes a syscall every 100,000
        // instructions (bzip2 reading its input in chunks) still meets the end of a slice.
        // Slices also bring a hart that never leaves its chained code back for the look at
        // tier 1's counters (`sweepCounters`).
        let slicing = mode == .auto && configuration.optimizingTier || policy.countingLimit != 0
        let given = slicing ? min(remaining, r.sliceLeft) : remaining
        slots[HartState.Slot.budget] = given
        counts.pointee.jitEntries += 1
        rivet_set_activity(slots, UInt64(RIVET_ACTIVITY_COMPILED))
        let code = runtime.enter(slots, entry, counters: r.counters)
        rivet_set_activity(slots, UInt64(RIVET_ACTIVITY_RUN_LOOP))
        if shared { lock.lock() }
        acting = r
        let executed = given &- slots[HartState.Slot.budget]
        var refund: UInt64 = 0
        defer {
            let retired = executed &- refund
            hart.instret &+= retired
            counts.pointee.jitInstructions &+= retired
            remaining &-= retired
            // Out of JIT code only now: the exit code names a translation (by id, by host pc)
            // that must not be freed, its id reused, before it is read. (Inside an ecall
            // handler, JIT code waits below on the stack: the hart stays in it.)
            if r.ecallDepth == 0 { r.epoch.add(1, ordering: .sequentiallyConsistent) }
            if shared { lock.unlock() }
        }
        let kind = ExitKind(rawValue: UInt8(truncatingIfNeeded: code)) ?? .trap
        // A budget exit ends the slice (the next block may need more than what was left). One
        // that ran nothing was given too little for its block or region: the next slice is at
        // least twice that, so a slice configured smaller than a block needs cannot keep the
        // hart from running it (with the default slice, 4 Mi instructions, it never doubles).
        if slicing {
            let next = kind == .budget && executed == 0 ? max(configuration.slice, given &* 2) : configuration.slice
            r.sliceLeft = kind == .budget || executed >= r.sliceLeft ? next : r.sliceLeft - executed
        }
        let index = Int(truncatingIfNeeded: (code >> 8) & 0xff_ffff)
        let id = Int(truncatingIfNeeded: code >> 32)
        counts.pointee.exits[Int(kind.rawValue)] += 1

        // The translation that exited (chaining may have moved on from the one entered).
        func source() -> Translation? { cache.translation(id: id) }

        switch kind {
        case .budget:
            // The block did not start: its entry gave the instructions back. (In `auto`, JIT code
            // runs in slices: a hot loop passes here, where it may move to the optimizing tier.)
            guard let t = source() else { return nil }
            if mode == .auto { demoteLosingRegions(r) }
            // (A tier-2 check's stub stored its block's pc.)
            guard t.optimized == nil else {
                // A check (`Tier2Backend.budgetPlan`) left with more than its block needs,
                // perhaps at an inner loop's head: the baseline's code there would run the run's
                // last few instructions, leave by its own budget exit and be taken for a loop
                // that slices end in (bzip2 formed three regions more, 2-3% slower). The
                // interpreter runs them instead.
                r.budgetTail = max(r.budgetTail, UInt64(t.optimized.map(\.entryBudget) ?? 0))
                return nil
            }
            // A baseline block counts as it starts, before its budget check: this run did not
            // happen (its stub would take 8 bytes more in every block: 3.5% of `flat`'s code).
            // Once its counting stopped, the count, a lower bound, only loses a run per slice.
            // (One that counts at its counting entry keeps the run: it may have been entered
            // past that entry, by a jump made before its counting started, and not counted it.)
            if t.counterLength != 0 { r.counters[t.id] &-= UInt64(t.instructionCount) }
            hart.pc = t.guestPC
            if mode == .auto { considerOptimizing(r, t) }
            return nil
        case .chain:
            guard let t = source() else { return nil }
            let target = t.exit(index).target
            hart.pc = target
            // No translation there yet (in `auto`, the target is still interpreted): nothing to
            // link, and no reference to take.
            guard compilesOnMiss || cache.contains(target) else { return nil }
            if let next = cache.lookup(target) ?? compileOnMiss(r, target), !t.isRetired {
                cache.link(t, exit: index, to: next)
            }
            return nil
        case .indirect:
            // The stub stored the target pc. Plain values from the pc index: no reference taken.
            if let next = cache.entryPoint(hart.pc) {
                r.jumpCache.set(pc: hart.pc, entry: next.hostEntry)
            } else if let next = compileOnMiss(r, hart.pc) {
                r.jumpCache.set(pc: next.guestPC, entry: cache.entry(next))
            }
            return nil
        case .syscall:
            guard let t = source() else { return nil }
            hart.pc = t.pc(ofInstruction: index)
            return .ecall
        case .ecallHandled:
            // The handler may have started a thread (through a guest call): the loop's
            // `shared` is stale then, so the run ends here and starts again.
            return runnerCount.load(ordering: .relaxed) > 1 ? .interrupted : nil
        case .ecallStopped:
            return .ecall
        case .fenceI:
            guard let t = source() else { return nil }
            hart.pc = t.pc(ofInstruction: index) + 4
            memory.synchronizeInstructionFetch()
            r.interpreter.applyPendingCodeChanges()
            return nil
        case .guardFailed:
            // Nothing of the region ran, and its stub took nothing from the budget. Its
            // assumption (`frm` is `rne`, or an f register it keeps as a single holds a
            // NaN-box) does not hold here: the region is removed (a deoptimization, which backs
            // the pc off), and the lower tiers run the code, tier 1 with its helpers for every
            // rounding mode.
            guard let t = source(), let optimized = t.optimized else { return nil }
            hart.pc = optimized.pcs[0]
            counts.pointee.guardFailures += 1
            cache.remove(t)
            return nil
        case .trap, .helperFailure, .boundsFault:
            guard let t = source() else { return nil }
            if let optimized = t.optimized, kind == .boundsFault {
                // Tier 2's shared bounds-fault code saved the registers and counted; `index` is
                // the fault site, whose record rebuilds the state as after a host fault.
                guard index < optimized.sites.count else { fatalError("rivet: tier-2 bounds fault at no site (\(index))") }
                let site = optimized.sites[index]
                Tier2Backend.rebuildState(at: site, accruesFlags: optimized.accruesFlags, slots)
                refund = UInt64(optimized.refunds[site.index] + site.prepaid)
                hart.pc = optimized.pcs[site.index]
            } else if let optimized = t.optimized {
                refund = UInt64(optimized.refunds[index])
                hart.pc = optimized.pcs[index]
            } else {
                refund = UInt64(t.instructionCount - index)
                hart.pc = t.pc(ofInstruction: index)
            }
            // The interpreter, the reference, produces the exact stop for this instruction.
            return reexecuteInInterpreter(r, &remaining)
        case .hostFault:
            return hostFault(r, &refund, &remaining)
        }
    }

    /// A fault inside JIT code: map the host pc to the guest instruction, recover the registers
    /// the code held, then either invalidate (a write to a page of translated code) or report
    /// the guest fault — in both cases by running the instruction in the interpreter.
    private func hostFault(_ r: HartRunner, _ refund: inout UInt64, _ remaining: inout UInt64) -> StopReason? {
        let hart = r.hart
        let slots = hart.slots
        let hostPC = UInt(slots[HartState.Slot.faultHostPC])
        let hostAddress = UInt(slots[HartState.Slot.faultHostAddress])
        guard let (t, offset) = cache.translation(containingHost: hostPC) else {
            fatalError("rivet: JIT fault at host pc 0x\(String(hostPC, radix: 16)) outside any translation")
        }
        if let optimized = t.optimized {
            // Tier 2: the guest state at the access is the struct overwritten by the site's
            // entries, each in a saved host register, a spill slot or a constant.
            guard let site = optimized.site(atHostOffset: offset) else {
                fatalError("rivet: tier-2 fault at host offset \(offset) of the region at 0x\(String(t.guestPC, radix: 16)), not a guest access")
            }
            Tier2Backend.rebuildState(at: site, accruesFlags: optimized.accruesFlags, slots)
            refund = UInt64(optimized.refunds[site.index] + site.prepaid)
            hart.pc = optimized.pcs[site.index]
            r.counters[t.id] &+= slots[HartState.Slot.tier2Entry] &- slots[HartState.Slot.budget]
        } else {
            let index = t.instruction(atHostOffset: offset)
            refund = UInt64(t.instructionCount - index)
            hart.pc = t.pc(ofInstruction: index)
            // Registers the code kept in host registers are in the registers saved at the fault
            // (those it writes before reading them, once written: before, their slots hold them).
            for (guest, host, from) in t.cachedRegisters where Int(from) <= index {
                slots[Int(guest)] = slots[HartState.Slot.faultRegisters + Int(host)]
            }
            // Float flags inline operations raised before the access, not yet folded into fcsr
            // (MXCSR holds only the guest's: InlineFloat.swift).
            slots[HartState.Slot.fcsr] |= Tier2Backend.riscvFlags(mxcsr: slots[HartState.Slot.mxcsr])
        }
        if t.isLoop && t.optimized == nil {
            // A loop block counts its instructions when it leaves: from the budget it started with.
            let started = slots[HartState.Slot.faultRegisters + Int(BlockTranslator.loopStart.rawValue)]
            r.counters[t.id] &+= started &- slots[HartState.Slot.budget]
        }
        r.counts.pointee.hostFaults += 1
        let guestAddress = UInt64(hostAddress &- UInt(bitPattern: memory.base))
        if cache.isProtected(page: guestAddress >> 12), memory.permissions(at: guestAddress).contains(.write) {
            // Self-modifying code: drop the code on that page, then run the store in the
            // interpreter (retranslating from it would protect the page again).
            memory.notifyCodeChanged(GuestAddress(guestAddress), GuestAddress(guestAddress + 1))
            r.counts.pointee.codeWriteFaults += 1
        }
        return reexecuteInInterpreter(r, &remaining)
    }

    /// Runs exactly one instruction at `hart.pc` in the interpreter and returns its stop (the
    /// interpreter faults exactly, or, after a failed guard, goes on). What it retires counts
    /// against `remaining`, beside what the JIT code retired (the JIT code's exit gave the
    /// instruction back, so `remaining` has room for it).
    private func reexecuteInInterpreter(_ r: HartRunner, _ remaining: inout UInt64) -> StopReason? {
        let hart = r.hart
        let interpreter = r.interpreter
        let before = hart.instret
        let wasSingle = interpreter.singleStep
        interpreter.singleStep = true
        let stop = interpreter.run(budget: 1)
        interpreter.singleStep = wasSingle
        r.counts.pointee.interpretedInstructions &+= hart.instret &- before
        remaining &-= min(remaining, hart.instret &- before)
        switch stop {
        case .budgetExhausted, .tierUp, .interrupted: return nil
        default: return stop
        }
    }

    // MARK: Figures

    /// Executions of translated blocks (entries and loop iterations), counted by JIT code.
    public var blockEntries: UInt64 { cache.all.reduce(counts.pointee.removedEntries) { $0 &+ entries($1) } }

    /// How often `t` was entered: a block's instructions over its length; a region's exits
    /// (its instructions say nothing of its entries).
    private func entries(_ t: Translation) -> UInt64 {
        t.optimized == nil ? cache.count(t.id) / UInt64(max(1, t.instructionCount)) : cache.exits(t.id)
    }

    /// Tier-2 regions in the cache now, and the guest instructions executed in tier-2 code (live
    /// and removed).
    public var optimizedRegionCount: Int { cache.all.reduce(0) { $0 + ($1.optimized == nil ? 0 : 1) } }
    /// How often tier-2 code was left (live regions and removed ones): each entry leaves once,
    /// by a side exit, the loop's exit or a budget exit.
    public var optimizedExits: UInt64 {
        cache.all.reduce(statistics.removedOptimizedExits) { $0 &+ ($1.optimized == nil ? 0 : cache.exits($1.id)) }
    }
    public var optimizedInstructionsExecuted: UInt64 {
        cache.all.reduce(statistics.removedOptimizedInstructions) { $0 &+ ($1.optimized == nil ? 0 : cache.count($1.id)) }
    }

    /// The interpreters of the live harts.
    public var interpreters: [Interpreter] { lock.withLock { runners.map(\.interpreter) } }

    /// Exits from JIT code to the run loop, by reason.
    public var exitsByKind: [String: UInt64] {
        var result: [String: UInt64] = [:]
        let exits = statistics.exits
        for kind in ExitKind.allCases where exits[Int(kind.rawValue)] > 0 {
            result["\(kind)"] = exits[Int(kind.rawValue)]
        }
        return result
    }

    /// One of the engine's structures and its bound, for `--stats`.
    public struct Structure: Sendable {
        public var name: String
        public var entries: Int
        public var bytes: Int
        public var limit: Int
        /// What `limit` counts: "bytes", or the entries' name.
        public var bound: String
        public var dropped: UInt64
    }

    /// Every structure the engine keeps per guest block, each bounded.
    public var structures: [Structure] {
        var result = [
            Structure(
                name: "decoded blocks", entries: interpreters.reduce(0) { $0 + $1.cachedBlocks },
                bytes: interpreters.reduce(0) { $0 + $1.cachedBlockBytes },
                limit: interpreters.reduce(0) { $0 + $1.decodedBlockLimit }, bound: "bytes",
                dropped: interpreters.reduce(0) { $0 + $1.evictedBlocks }),
            Structure(
                name: "translations", entries: cache.count,
                bytes: cache.region.used - (madeRuntime?.trampolineLength ?? 0) + cache.count * Translation.metadataBytes
                    + cache.optimizedMetadataBytes,
                limit: cache.region.size, bound: "bytes", dropped: cache.evictions),
            Structure(
                name: "back-off table", entries: setbacks.count, bytes: setbacks.bytes, limit: setbacks.capacity,
                bound: "entries", dropped: 0),
            Structure(
                name: "evicted-block counts", entries: retiredInstructions.count, bytes: retiredInstructions.bytes,
                limit: retiredInstructions.capacity, bound: "entries", dropped: 0),
        ]
        if let queue {
            result.append(
                Structure(
                    name: "compile queue", entries: queue.length, bytes: queue.length * CompileQueue.requestBytes,
                    limit: queue.capacity, bound: "requests", dropped: queue.refused))
        }
        return result
    }

    /// Translations alive now, and the code cache's size and use.
    public var translationCount: Int { cache.count }
    public var codeCacheSize: Int { cache.region.size }
    public var codeCacheUsed: Int { cache.region.used - (madeRuntime?.trampolineLength ?? 0) }
    public var evictions: UInt64 { cache.evictions }
    public var invalidations: UInt64 { cache.invalidations }
    public var links: UInt64 { cache.links }
    /// CPU time of the compile workers (0 without them): beside the guest, not on its clock.
    public var backgroundCompileNanoseconds: UInt64 { queue?.workerCPUNanoseconds ?? 0 }
    public var queueStatistics: (maxLength: Int, started: UInt64, meanWaitMicroseconds: Double, merged: UInt64, workers: Int)? {
        guard let queue else { return nil }
        let mean = queue.started == 0 ? 0 : Double(queue.totalWaitNanoseconds) / Double(queue.started) / 1000
        return (queue.maxLength, queue.started, mean, queue.merged, queue.workerCount)
    }
    /// The threshold in force now (it moves in adaptive mode).
    public var currentThreshold: UInt32 { policy.threshold }

    /// The live tier-2 regions by header pc: the guest instructions they ran, and the times they
    /// were entered (each entry leaves once: by a side exit, the loop's exit or a budget exit).
    public func optimizedRegionsByPC() -> [UInt64: (instructions: UInt64, entries: UInt64)] {
        var result: [UInt64: (instructions: UInt64, entries: UInt64)] = [:]
        for t in cache.all where t.optimized != nil {
            let old = result[t.guestPC] ?? (0, 0)
            result[t.guestPC] = (old.instructions &+ cache.count(t.id), old.entries &+ cache.exits(t.id))
        }
        return result
    }

    /// Blocks whose code stopped counting (`sweepCounters`), and the runs after which it does
    /// (0: never).
    public var countingStops: UInt64 { cache.stoppedCounters }
    public var countingLimit: UInt64 { cache.countingLimit }
    /// The pcs of the live blocks whose count is a lower bound: their code stopped counting.
    public func lowerBoundPCs() -> Set<UInt64> {
        var result: Set<UInt64> = []
        for t in cache.all where t.countsAreLowerBound { result.insert(t.guestPC) }
        return result
    }

    /// Guest instructions executed in translated code, by block pc (live and removed).
    public func compiledInstructionsByPC() -> [UInt64: UInt64] {
        var result: [UInt64: UInt64] = [:]
        retiredInstructions.forEach { result[$0] = $1 }
        for t in cache.all { result[t.guestPC, default: 0] &+= cache.count(t.id) }
        return result
    }
}

/// What one hart of the engine keeps for itself: its interpreter (with its decoded blocks),
/// its indirect-branch cache, its counts, and the epoch that tells other harts whether it is
/// in JIT code.
public final class HartRunner {
    public let interpreter: Interpreter
    public var hart: HartState { interpreter.hart }
    let jumpCache: JumpCache
    /// Its execution counters (JIT code adds to them; see `TranslationCache.counters`).
    let counters: UnsafeMutablePointer<UInt64>
    /// Set by the engine right after both exist.
    unowned(unsafe) var engine: Engine!
    /// This hart's counts (summed into `Engine.statistics`). Owned.
    let counts: UnsafeMutablePointer<EngineStatistics>
    /// Instructions executed at this hart's last decay of hotness.
    @exclusivity(unchecked) var lastDecay: UInt64 = 0
    /// Instructions executed at this hart's last look at tier 1's counters (`sweepCounters`).
    @exclusivity(unchecked) var lastCounterSweep: UInt64 = 0
    /// JIT instructions left in the current slice (`EngineConfiguration.slice`), over however
    /// many entries.
    @exclusivity(unchecked) var sliceLeft = Engine.slice
    /// The most a tier-2 region's checks needed when one left by a budget exit in this run:
    /// with less left, the run ends in the interpreter (`Engine.run`).
    @exclusivity(unchecked) var budgetTail: UInt64 = 0
    /// Odd while the hart runs JIT code: a translation removed then is freed only once the
    /// epoch has moved on (quiescent-state reclamation).
    let epoch = Atomic<UInt64>(0)
    /// Set when its thread ended.
    @exclusivity(unchecked) var isRemoved = false
    /// Ecall handlers (`HartState.Slot.ecallHandler`) running on this hart's thread, called
    /// from JIT code: while it is above zero, the JIT code that called waits on the stack, so
    /// the hart counts as in JIT code throughout (its epoch stays odd) and nothing it may
    /// return into is freed, whatever the handler runs meanwhile (a guest call, compiles).
    @exclusivity(unchecked) public var ecallDepth = 0

    init(interpreter: Interpreter, jumpCache: JumpCache, counters: UnsafeMutablePointer<UInt64>) {
        self.interpreter = interpreter
        self.jumpCache = jumpCache
        self.counters = counters
        counts = .allocate(capacity: 1)
        counts.initialize(to: EngineStatistics())
    }

    deinit {
        counts.deinitialize(count: 1)
        counts.deallocate()
    }

    /// Runs the hart until it stops, executing at most `budget` instructions (see
    /// `Engine.run(budget:)`).
    public func run(budget: UInt64) -> StopReason { engine.run(self, budget: budget) }
}

/// A hart that was in JIT code when a translation was removed, and its epoch then.
struct QuiescenceMark {
    let runner: HartRunner
    let epoch: UInt64
}

/// Why JIT code returned to the run loop: the low byte of the exit code. The next 24 bits are
/// an instruction or exit index, the high 32 bits the translation's id.
enum ExitKind: UInt8, CaseIterable {
    /// The block's entry found too little budget; it did not run.
    case budget = 0
    /// An `ecall` (retired; the run loop handles it).
    case syscall = 1
    /// A direct jump to a pc without a linked translation.
    case chain = 2
    /// An indirect jump missed the jump cache; the target is in the hart's pc.
    case indirect = 3
    /// A hardware fault in JIT code, redirected by the fault handler.
    case hostFault = 4
    /// An instruction that traps (`ebreak`, illegal).
    case trap = 5
    /// An access past the end of the guest address space.
    case boundsFault = 6
    /// `fence.i` (retired).
    case fenceI = 7
    /// A helper (FP, atomics, CSR) could not complete the instruction.
    case helperFailure = 8
    /// The ecall handler handled an `ecall` and set the pc after it; the run loop goes on.
    case ecallHandled = 9
    /// The ecall handler handled an `ecall`, set the pc after it, and stops the run (`.ecall`).
    case ecallStopped = 10
    /// A tier-2 region's entry guard failed (its float arithmetic rounds to nearest, and `frm`
    /// says otherwise): nothing of it ran, and the interpreter runs its first instruction.
    case guardFailed = 11
}

/// What an ecall handler (`HartState.Slot.ecallHandler`) tells the JIT code that called it.
public enum EcallOutcome: UInt64 {
    /// Handled: the JIT code goes on at the next instruction (chained, without leaving).
    case resume = 0
    /// Not handled: the JIT code leaves with `.syscall` and the run loop handles the `ecall`.
    case notHandled = 1
    /// Handled, the pc set after it; back to the run loop, which goes on (e.g. the handler
    /// changed code or something needs the loop's attention).
    case handled = 2
    /// Handled, the pc set after it; the run returns `.ecall` (the handler stopped the run).
    case stopped = 3
}

/// The C signature of an ecall handler: `(hart's slots, the ecall's pc, from JIT code?) ->
/// EcallOutcome`. Called from JIT code (1), JIT code waits on the stack meanwhile; else (0) from
/// the run loop, with the pc at the `ecall`.
public typealias EcallHandler = @convention(c) (UnsafeMutablePointer<UInt64>, UInt64, UInt64) -> UInt64
