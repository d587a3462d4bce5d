import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetISA
import RivetInterpreter
import RivetMachine

/// Which tiers run guest code.
package enum TierMode: String, Sendable, CaseIterable {
    /// Only the interpreter.
    case interpreter = "interp"
    /// Every block is translated at its first execution, on the guest thread (for testing).
    case baseline
    /// Blocks start in the interpreter and are translated when their counters cross a threshold.
    case auto
}

/// How the engine is set up.
package struct EngineConfiguration: Sendable {
    package var mode: TierMode = .auto
    /// Bytes of executable memory for translations (the code cache's bound).
    package var codeCacheSize = 64 << 20
    /// Bytes of decoded blocks the interpreter keeps (their cache's bound).
    package var decodedBlockCacheSize = 32 << 20
    package var evictionPolicy: EvictionPolicy = .lru
    package var policy = TierPolicy()
    /// Worker threads compiling in the background; 0 compiles on the guest thread.
    package var compileThreads = 1
    /// How long a compile may take in `auto` mode; a slower one is discarded, counted, and its
    /// block backs off as a deopt loop does.
    package var compileTimeLimit: Duration = .milliseconds(10)
    /// Write a Linux perf map (/tmp/perf-PID.map) naming each translation.
    package var perfMap: PerfMap? = nil

    package init() {}
}

/// The run loop: asks "what is the best code for this pc?" and runs it — a translation if one
/// exists, else the interpreter — until the hart needs the environment (a syscall, a trap) or
/// the budget is spent. Around it: tier-up requests, the compile queue and its workers, the
/// bounded code cache with its eviction policy, invalidation and the back-off of deopt loops.
package final class Engine {
    package let memory: GuestMemory
    package let hart: HartState
    package let interpreter: Interpreter
    package let configuration: EngineConfiguration
    package var mode: TierMode { configuration.mode }
    let cache: TranslationCache
    let runtime: JITRuntime
    private var compiler = BlockCompiler()
    private let queue: CompileQueue?
    private var usage = UsageTracker()
    private(set) var policy: TierPolicy
    /// What the engine did. Counted through a pointer (owned: allocated in init, freed in
    /// deinit) because the run loop bumps these at every exit, and a class's stored property
    /// would cost a dynamic exclusivity check per bump.
    private let counts: UnsafeMutablePointer<EngineStatistics>
    package var statistics: EngineStatistics { counts.pointee }

    /// Setbacks per guest pc — invalidations (deopt loops) and compiles discarded for taking
    /// too long — each doubling the executions the block needs before its next compile. Halved
    /// at every decay, so that a block that stopped misbehaving is compiled promptly again.
    /// Bounded: a block whose slot another takes loses its history.
    private var setbacks = PCTable(capacity: 8192, collision: .replace)
    /// `configuration.compileTimeLimit` in nanoseconds, as compiles are timed.
    private let compileTimeLimit: UInt64
    /// Instructions executed at the last decay of hotness.
    private var lastDecay: UInt64 = 0
    /// Instructions executed in translations no longer cached, by pc (for the hottest blocks):
    /// the heaviest of the blocks that share a slot are kept.
    private var retiredInstructions = PCTable(capacity: 4096, collision: .keepLarger)

    /// Creates an engine over an interpreter's hart and memory.
    /// - Throws: `JITError` if executable memory cannot be had.
    package init(interpreter: Interpreter, configuration: EngineConfiguration) throws(JITError) {
        self.interpreter = interpreter
        self.configuration = configuration
        compileTimeLimit = nanoseconds(configuration.compileTimeLimit)
        memory = interpreter.memory
        hart = interpreter.hart
        policy = configuration.policy
        let jit = configuration.mode != .interpreter
        let region = try CodeRegion(size: jit ? max(configuration.codeCacheSize, 16 << 10) : 1 << 14)
        cache = TranslationCache(region: region, memory: memory)
        runtime = try JITRuntime(cache: cache, memory: memory)
        counts = .allocate(capacity: 1)
        counts.initialize(to: EngineStatistics())
        queue = configuration.mode == .auto && configuration.compileThreads > 0
            ? CompileQueue(threads: configuration.compileThreads) : nil
        hart.slots[HartState.Slot.guestBase] = UInt64(UInt(bitPattern: memory.base))
        hart.slots[HartState.Slot.guestLimit] =
            UInt64(UInt(bitPattern: memory.base)) + GuestMemory.addressSpaceSize + GuestMemory.guardSize
        hart.slots[HartState.Slot.jumpCache] = UInt64(UInt(bitPattern: cache.jumpCache.table))
        hart.slots[HartState.Slot.addressSpaceSize] = GuestMemory.addressSpaceSize
        interpreter.tierUpThreshold = configuration.mode == .auto ? policy.threshold : nil
        interpreter.decodedBlockLimit = configuration.decodedBlockCacheSize
        let counters = cache.counters
        cache.onRemove = { [unowned self] t, reason in
            self.retiredInstructions.add(t.guestPC, counters[t.id])
            self.counts.pointee.removedEntries &+= counters[t.id] / UInt64(max(1, t.instructionCount))
            switch reason {
            case .invalidated:
                self.counts.pointee.deopts += 1
                self.setbacks.add(t.guestPC, 1)
            case .evicted:
                // An evicted block must turn hot again before it is compiled again.
                self.interpreter.setTierUp(at: t.guestPC, after: self.policy.threshold)
            }
        }
        rivet_install_fault_handler()
    }

    deinit {
        queue?.shutdown()
        counts.deinitialize(count: 1)
        counts.deallocate()
    }

    /// Runs `hostFork` (which forks the host process) with the engine ready for it: the
    /// compile workers stopped (and started again on both sides), and in the child a private
    /// copy of the code region, taken while the parent waits so that nothing changes it
    /// meanwhile.
    /// - Returns: what `hostFork` returned (the child's pid, 0 in the child, or -errno).
    package func fork(_ hostFork: () -> Int32) -> Int32 {
        let workers = queue?.workerCount ?? 0
        queue?.shutdown()
        defer { if workers > 0 { queue?.restart(threads: workers) } }
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return -errno }
        let pid = hostFork()
        if pid == 0 {
            close(ends[0])
            let copied = cache.region.unshare()
            close(ends[1])  // the parent's read ends
            if !copied {
                let message = "rivet: cannot give the forked child its own code cache\n"
                message.withCString { _ = write(2, $0, strlen($0)) }
                _exit(127)
            }
            return 0
        }
        close(ends[1])
        if pid > 0 {
            var byte: UInt8 = 0
            while read(ends[0], &byte, 1) < 0 && errno == EINTR {}
        }
        close(ends[0])
        return pid
    }

    /// The source of the `time` CSR, for every tier.
    package func setTimeSource(_ read: @escaping () -> UInt64) {
        interpreter.readTime = read
        runtime.context.readTime = read
    }

    /// Runs until the hart stops, executing at most `budget` instructions. The stop reasons
    /// and the hart's state at the stop are exactly the interpreter's.
    package func run(budget: UInt64) -> StopReason {
        // The objects the loop touches at every turn, held in locals: one reference each for
        // the whole run instead of a retain and a release per use.
        let cache = cache
        let hart = hart
        let interpreter = interpreter
        let counts = counts
        let queue = queue
        var remaining = budget
        // Host faults on guest memory in this thread's host code are this hart's.
        interpreter.withDispatchTable { table, entries in rivet_set_thread_hart(hart.slots, table, entries) }
        while true {
            if hart.slots[HartState.Slot.attention] != 0 {
                if let fault = memory.settleHostFaults(hart.slots) { return .fault(fault) }
                if hart.slots[HartState.Slot.attention] != 0 { return .interrupted }
            }
            cache.collect()
            if queue?.hasResults == true { installResults(queue.unsafelyUnwrapped) }
            if remaining == 0 { return .budgetExhausted }
            maintain()
            let pc = hart.pc
            // Plain values, not the Translation: no reference counting on this path.
            var found = cache.entryPoint(pc)
            if found == nil, mode == .baseline, !interpreter.singleStep {
                if compileNow(pc) != nil {
                    found = cache.entryPoint(pc)
                } else if case .failure(let fault) = GuestCode.fetch(at: pc, memory: memory) {
                    return .fault(fault)
                }
            }
            if found != nil { counts.pointee.lookupHits += 1 } else { counts.pointee.lookupMisses += 1 }
            // Too little budget for the whole block: the interpreter runs the rest exactly.
            guard let found, !interpreter.singleStep, remaining >= UInt64(found.instructions) else {
                let before = hart.instret
                let stop = interpreter.run(budget: remaining)
                let executed = hart.instret &- before
                counts.pointee.interpretedInstructions &+= executed
                remaining &-= min(remaining, executed)
                switch stop {
                case .tierUp:
                    tierUp(hart.pc)
                    continue
                case .budgetExhausted:
                    if remaining == 0 { return .budgetExhausted }
                    continue
                default:
                    return stop
                }
            }
            if let stop = execute(entry: found.hostEntry, remaining: &remaining) { return stop }
        }
    }

    // MARK: Tiering

    /// Periodic work on the guest thread: decay of hotness, adaptive thresholds.
    private func maintain() {
        let executed = hart.instret
        guard executed &- lastDecay >= policy.decayInterval else { return }
        lastDecay = executed
        interpreter.decayHotness()
        setbacks.halve()
        usage.sample(cache)
        counts.pointee.decays += 1
    }

    /// The interpreter stopped at a hot block (or one that has code now).
    private func tierUp(_ pc: UInt64) {
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
                counts.pointee.backoffs += 1
                interpreter.setTierUp(at: pc, after: needed - info.executions)
                return
            }
        }
        let priority = policy.priority(executions: info?.executions ?? 1, instructions: info?.instructions ?? 1)
        adaptThreshold()
        if let queue {
            // Keep interpreting meanwhile; ask again (raising the priority) if it takes long.
            interpreter.setTierUp(at: pc, after: policy.threshold)
            if queue.raise(pc, to: priority, now: monotonicNanoseconds()) {
                counts.pointee.mergedRequests += 1
                return
            }
            // A full queue refuses: the block runs on where it is and asks again later.
            guard !queue.isFull else {
                counts.pointee.refusedRequests += 1
                return
            }
            guard let request = request(pc, priority: priority) else { return }
            if queue.submit(request) == .queued {
                counts.pointee.queued += 1
            } else {
                cache.releaseID(request.id)
            }
        } else if compileNow(pc, priority: priority) == nil {
            interpreter.setTierUp(at: pc, after: policy.threshold)
        }
    }

    /// Applies the adaptive threshold to the interpreter's new countdowns.
    private func adaptThreshold() {
        guard mode == .auto, policy.adapt(queueLength: queue?.length ?? 0, now: monotonicNanoseconds()) else { return }
        interpreter.tierUpThreshold = policy.threshold
        counts.pointee.thresholdChanges += 1
    }

    /// A compile request for the block at `pc`, with a fresh translation id.
    private func request(_ pc: UInt64, priority: Double) -> CompileRequest? {
        guard let id = cache.reserveID() else { return nil }
        guard let r = GuestCode.request(at: pc, id: id, memory: memory, requested: monotonicNanoseconds(), priority: priority)
        else {
            cache.releaseID(id)
            return nil
        }
        return r
    }

    /// Compiles and installs the block at `pc` on the guest thread.
    private func compileNow(_ pc: UInt64, priority: Double = 1) -> Translation? {
        guard let request = request(pc, priority: priority) else {
            counts.pointee.failedCompiles += 1
            return nil
        }
        guard let block = compiler.compile(request) else {
            cache.releaseID(request.id)
            counts.pointee.failedCompiles += 1
            return nil
        }
        return install(block)
    }

    /// Installs finished background compiles.
    private func installResults(_ queue: CompileQueue) {
        let (completed, failed) = queue.takeResults()
        for request in failed {
            cache.releaseID(request.id)
            counts.pointee.failedCompiles += 1
        }
        for block in completed { install(block) }
    }

    /// Places a compiled block in the code cache, evicting by policy to make room, and
    /// publishes it: the next block entry or jump to its pc runs it.
    @discardableResult
    private func install(_ block: CompiledBlock) -> Translation? {
        let request = block.request
        // A translation may exist already, or the guest may have changed the code meanwhile.
        guard !cache.contains(request.pc) else {
            cache.releaseID(request.id)
            return nil
        }
        if mode == .auto, block.compileNanoseconds > compileTimeLimit {
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
        guard let offset = allocate(JITRuntime.length(of: block)) else {
            cache.releaseID(request.id)
            counts.pointee.failedCompiles += 1
            return nil
        }
        let t = runtime.place(block, at: offset)
        // A new translation counts as just used, as often as it ran in the interpreter: else
        // the next eviction would take exactly the code that just proved hot.
        t.lastActiveEpoch = usage.epoch
        if let info = interpreter.blockInfo(at: t.guestPC) {
            t.recentInstructions = Double(info.executions) * Double(info.instructions)
        }
        cache.insert(t)
        // Indirect jumps and returns to it find it at once.
        cache.jumpCache.set(pc: t.guestPC, entry: cache.entry(t))
        counts.pointee.recordCompile(t)
        interpreter.setTierUp(at: t.guestPC, immediately: true)
        configuration.perfMap?.record(t, entry: cache.entry(t))
        return t
    }

    /// Room for `length` bytes of code. The cache's bound covers the code and what each
    /// translation costs beside it (`Translation.metadataBytes`). When it is full, translations
    /// are evicted one at a time in the policy's order until the code fits and a sixteenth of
    /// the cache is free (so that the ranking, which visits every translation, is paid once per
    /// episode, not per compile) — never the whole cache, except under the `flush` comparison
    /// policy.
    private func allocate(_ length: Int) -> Int? {
        let bound = cache.region.size
        func free() -> Int { bound - cache.region.used - cache.count * Translation.metadataBytes }
        if free() >= length + Translation.metadataBytes, let offset = cache.region.allocate(length) { return offset }
        counts.pointee.evictionEpisodes += 1
        usage.sample(cache)
        let headroom = max(length + Translation.metadataBytes, bound / 16)
        var fits = false
        usage.evict(from: cache, policy: configuration.evictionPolicy) {
            fits = fits || cache.region.canAllocate(length)
            return fits && free() >= headroom
        }
        guard free() >= length + Translation.metadataBytes else { return nil }
        return cache.region.allocate(length)
    }

    // MARK: Running JIT code

    /// Runs JIT code from `translation` until it exits; returns a stop for the caller, or nil
    /// to continue the loop.
    private func execute(entry: UInt, remaining: inout UInt64) -> StopReason? {
        let slots = hart.slots
        slots[HartState.Slot.budget] = remaining
        counts.pointee.jitEntries += 1
        let code = runtime.enter(slots, entry)
        let executed = remaining &- slots[HartState.Slot.budget]
        var refund: UInt64 = 0
        defer {
            let retired = executed &- refund
            hart.instret &+= retired
            counts.pointee.jitInstructions &+= retired
            remaining &-= retired
        }
        let kind = ExitKind(rawValue: UInt8(truncatingIfNeeded: code)) ?? .trap
        let index = Int(truncatingIfNeeded: (code >> 8) & 0xff_ffff)
        let id = Int(truncatingIfNeeded: code >> 32)
        counts.pointee.exits[Int(kind.rawValue)] += 1

        // The translation that exited (chaining may have moved on from the one entered).
        func source() -> Translation? { cache.translation(id: id) }

        switch kind {
        case .budget:
            // The block did not start: its entry gave the instructions back.
            guard let t = source() else { return nil }
            hart.pc = t.guestPC
            return nil
        case .chain:
            guard let t = source() else { return nil }
            let target = t.exit(index).target
            hart.pc = target
            if let next = cache.lookup(target) ?? (mode == .baseline ? compileNow(target) : nil), !t.isRetired {
                cache.link(t, exit: index, to: next)
            }
            return nil
        case .indirect:
            // The stub stored the target pc.
            if let next = cache.lookup(hart.pc) ?? (mode == .baseline ? compileNow(hart.pc) : nil) {
                cache.jumpCache.set(pc: next.guestPC, entry: cache.entry(next))
            }
            return nil
        case .syscall:
            guard let t = source() else { return nil }
            hart.pc = t.pc(ofInstruction: index)
            return .ecall
        case .fenceI:
            guard let t = source() else { return nil }
            hart.pc = t.pc(ofInstruction: index) + 4
            memory.synchronizeInstructionFetch()
            return nil
        case .trap, .helperFailure, .boundsFault:
            guard let t = source() else { return nil }
            refund = UInt64(t.instructionCount - index)
            hart.pc = t.pc(ofInstruction: index)
            // The interpreter, the reference, produces the exact stop for this instruction.
            return reexecuteInInterpreter()
        case .hostFault:
            return hostFault(&refund)
        }
    }

    /// A fault inside JIT code: map the host pc to the guest instruction, recover the registers
    /// the code held, then either invalidate (a write to a page of translated code) or report
    /// the guest fault — in both cases by running the instruction in the interpreter.
    private func hostFault(_ refund: inout UInt64) -> StopReason? {
        let slots = hart.slots
        let hostPC = UInt(slots[HartState.Slot.faultHostPC])
        let hostAddress = UInt(slots[HartState.Slot.faultHostAddress])
        guard let t = cache.translation(containingHost: hostPC) else {
            fatalError("rivet: JIT fault at host pc 0x\(String(hostPC, radix: 16)) outside any translation")
        }
        let index = t.instruction(atHostOffset: Int(hostPC) - Int(cache.entry(t)))
        refund = UInt64(t.instructionCount - index)
        hart.pc = t.pc(ofInstruction: index)
        // Registers the code kept in host registers are in the registers saved at the fault.
        for (guest, host) in t.cachedRegisters {
            slots[Int(guest)] = slots[HartState.Slot.faultRegisters + Int(host)]
        }
        if t.isLoop {
            // A loop block counts its instructions when it leaves: from the budget it started with.
            let started = slots[HartState.Slot.faultRegisters + Int(BlockTranslator.loopStart.rawValue)]
            cache.counters[t.id] &+= started &- slots[HartState.Slot.budget]
        }
        counts.pointee.hostFaults += 1
        let guestAddress = UInt64(hostAddress &- UInt(bitPattern: memory.base))
        if cache.isProtected(page: guestAddress >> 12), memory.permissions(at: guestAddress).contains(.write) {
            // Self-modifying code: drop the code on that page, then run the store in the
            // interpreter (retranslating from it would protect the page again).
            memory.notifyCodeChanged(GuestAddress(guestAddress), GuestAddress(guestAddress + 1))
            counts.pointee.codeWriteFaults += 1
        }
        return reexecuteInInterpreter()
    }

    /// Runs exactly one instruction at `hart.pc` in the interpreter and returns its stop.
    private func reexecuteInInterpreter() -> StopReason? {
        let before = hart.instret
        let wasSingle = interpreter.singleStep
        interpreter.singleStep = true
        let stop = interpreter.run(budget: 1)
        interpreter.singleStep = wasSingle
        counts.pointee.interpretedInstructions &+= hart.instret &- before
        switch stop {
        case .budgetExhausted, .tierUp, .interrupted: return nil
        default: return stop
        }
    }

    // MARK: Figures

    /// Executions of translated blocks (entries and loop iterations), counted by JIT code.
    package var blockEntries: UInt64 {
        cache.all.reduce(counts.pointee.removedEntries) {
            $0 &+ cache.counters[$1.id] / UInt64(max(1, $1.instructionCount))
        }
    }

    /// Exits from JIT code to the run loop, by reason.
    package var exitsByKind: [String: UInt64] {
        var result: [String: UInt64] = [:]
        for kind in ExitKind.allCases where counts.pointee.exits[Int(kind.rawValue)] > 0 {
            result["\(kind)"] = counts.pointee.exits[Int(kind.rawValue)]
        }
        return result
    }

    /// One of the engine's structures and its bound, for `--stats`.
    package struct Structure: Sendable {
        package var name: String
        package var entries: Int
        package var bytes: Int
        package var limit: Int
        /// What `limit` counts: "bytes", or the entries' name.
        package var bound: String
        package var dropped: UInt64
    }

    /// Every structure the engine keeps per guest block, each bounded.
    package var structures: [Structure] {
        var result = [
            Structure(
                name: "decoded blocks", entries: interpreter.cachedBlocks, bytes: interpreter.cachedBlockBytes,
                limit: interpreter.decodedBlockLimit, bound: "bytes", dropped: interpreter.evictedBlocks),
            Structure(
                name: "translations", entries: cache.count,
                bytes: cache.region.used - runtime.trampolineLength + cache.count * Translation.metadataBytes,
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
    package var translationCount: Int { cache.count }
    package var codeCacheSize: Int { cache.region.size }
    package var codeCacheUsed: Int { cache.region.used - runtime.trampolineLength }
    package var evictions: UInt64 { cache.evictions }
    package var invalidations: UInt64 { cache.invalidations }
    package var links: UInt64 { cache.links }
    package var queueStatistics: (maxLength: Int, started: UInt64, meanWaitMicroseconds: Double, merged: UInt64, workers: Int)? {
        guard let queue else { return nil }
        let mean = queue.started == 0 ? 0 : Double(queue.totalWaitNanoseconds) / Double(queue.started) / 1000
        return (queue.maxLength, queue.started, mean, queue.merged, queue.workerCount)
    }
    /// The threshold in force now (it moves in adaptive mode).
    package var currentThreshold: UInt32 { policy.threshold }

    /// Guest instructions executed in translated code, by block pc (live and removed).
    package func compiledInstructionsByPC() -> [UInt64: UInt64] {
        var result: [UInt64: UInt64] = [:]
        retiredInstructions.forEach { result[$0] = $1 }
        for t in cache.all { result[t.guestPC, default: 0] &+= cache.counters[t.id] }
        return result
    }
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
}
