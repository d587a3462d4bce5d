import CRivetHost
import RivetISA
import RivetInterpreter
import RivetMachine

/// Which tiers run guest code.
package enum TierMode: String, Sendable, CaseIterable {
    /// Only the interpreter.
    case interpreter = "interp"
    /// Every block is translated at its first execution (for testing the JIT).
    case baseline
    /// Blocks start in the interpreter and are translated when their counters cross a threshold.
    case auto
}

/// The run loop: asks "what is the best code for this pc?" and runs it — a translation if one
/// exists (or should now be made), else the interpreter — until the hart needs the environment
/// (a syscall, a trap) or the budget is spent.
package final class Engine {
    package let memory: GuestMemory
    package let hart: HartState
    package let interpreter: Interpreter
    package let mode: TierMode
    let cache: TranslationCache
    let compiler: BaselineCompiler
    package private(set) var statistics = EngineStatistics()

    /// Interpreter block entries before a block is translated (`auto`).
    package let threshold: UInt32

    /// Creates an engine over an interpreter's hart and memory.
    /// - Throws: `JITError` if executable memory cannot be had (only for JIT modes).
    package init(interpreter: Interpreter, mode: TierMode, codeCacheSize: Int = 64 << 20, threshold: UInt32 = 50)
        throws(JITError)
    {
        self.interpreter = interpreter
        self.memory = interpreter.memory
        self.hart = interpreter.hart
        self.mode = mode
        self.threshold = threshold
        let region = try CodeRegion(size: mode == .interpreter ? 1 << 16 : codeCacheSize)
        cache = TranslationCache(region: region, memory: memory)
        compiler = try BaselineCompiler(cache: cache, memory: memory)
        let counters = cache.counters
        cache.onRemove = { [unowned self] t in
            self.statistics.removedEntries &+= counters[t.id] / UInt64(max(1, t.instructionCount))
        }
        hart.slots[HartState.Slot.guestBase] = UInt64(UInt(bitPattern: memory.base))
        hart.slots[HartState.Slot.guestLimit] =
            UInt64(UInt(bitPattern: memory.base)) + GuestMemory.addressSpaceSize + GuestMemory.guardSize
        hart.slots[HartState.Slot.jumpCache] = UInt64(UInt(bitPattern: cache.jumpCache.table))
        hart.slots[HartState.Slot.addressSpaceSize] = GuestMemory.addressSpaceSize
        interpreter.tierUpThreshold = mode == .auto ? threshold : nil
        if mode != .interpreter { rivet_install_fault_handler() }
    }

    /// Runs until the hart stops, executing at most `budget` instructions. The stop reasons
    /// and the hart's state at the stop are exactly the interpreter's.
    package func run(budget: UInt64) -> StopReason {
        var remaining = budget
        while true {
            cache.collect()
            if remaining == 0 { return .budgetExhausted }
            let pc = hart.pc
            var translation = cache.lookup(pc)
            if translation == nil, mode == .baseline, !interpreter.singleStep {
                translation = translate(pc)
                if translation == nil, case .failure(let fault) = compiler.fetchCheck(pc) { return .fault(fault) }
            }
            // Too little budget for the whole block: the interpreter runs the rest exactly.
            guard let translation, !interpreter.singleStep, remaining >= UInt64(translation.instructionCount) else {
                let before = hart.instret
                let stop = interpreter.run(budget: remaining)
                let executed = hart.instret &- before
                statistics.interpretedInstructions &+= executed
                remaining &-= min(remaining, executed)
                switch stop {
                case .tierUp:
                    if mode == .auto, cache.lookup(hart.pc) == nil, translate(hart.pc) == nil {
                        // Could not translate: keep interpreting this block.
                        interpreter.setTierUp(at: hart.pc, immediately: false)
                    } else if mode != .auto {
                        interpreter.setTierUp(at: hart.pc, immediately: false)
                    }
                    continue
                case .budgetExhausted:
                    if remaining == 0 { return .budgetExhausted }
                    continue
                default:
                    return stop
                }
            }
            if let stop = execute(translation, remaining: &remaining) { return stop }
        }
    }

    /// Translates the block at `pc`, recording the time; nil if it cannot be translated now.
    private func translate(_ pc: UInt64) -> Translation? {
        let start = ContinuousClock.now
        do {
            let t = try compiler.translate(at: pc)
            let elapsed = ContinuousClock.now - start
            statistics.recordCompile(t, nanoseconds: elapsed)
            interpreter.setTierUp(at: pc, immediately: true)
            return t
        } catch {
            statistics.failedCompiles += 1
            return nil
        }
    }

    /// Runs JIT code from `translation` until it exits; returns a stop for the caller, or nil
    /// to continue the loop.
    private func execute(_ translation: Translation, remaining: inout UInt64) -> StopReason? {
        let slots = hart.slots
        slots[HartState.Slot.budget] = remaining
        statistics.jitEntries += 1
        let code = compiler.enter(slots, cache.entry(translation))
        let executed = remaining &- slots[HartState.Slot.budget]
        var refund: UInt64 = 0
        defer {
            let retired = executed &- refund
            hart.instret &+= retired
            statistics.jitInstructions &+= retired
            remaining &-= retired
        }
        let kind = ExitKind(rawValue: UInt8(truncatingIfNeeded: code)) ?? .trap
        let index = Int(truncatingIfNeeded: (code >> 8) & 0xff_ffff)
        let id = Int(truncatingIfNeeded: code >> 32)
        statistics.exits[Int(kind.rawValue)] += 1

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
            let target = t.exits[index].target
            hart.pc = target
            if let next = cache.lookup(target) ?? (mode == .baseline ? translate(target) : nil) {
                cache.link(t, exit: index, to: next)
            }
            return nil
        case .indirect:
            // The stub stored the target pc.
            if let next = cache.lookup(hart.pc) ?? (mode == .baseline ? translate(hart.pc) : nil) {
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
            memory.invalidateAllCode()
            cache.removeAll()
            interpreter.flushCode()
            return nil
        case .trap, .helperFailure, .boundsFault:
            guard let t = source() else { return nil }
            refund = UInt64(t.instructionCount - index)
            hart.pc = t.pc(ofInstruction: index)
            let detail = slots[HartState.Slot.exitValue]
            switch kind {
            case .boundsFault:
                return .fault(GuestFault(address: GuestAddress(detail), access: detail >> 63 == 0 ? .read : .write, mapped: false))
            case .trap where detail == ExitKind.ebreakDetail:
                return .breakpoint
            default:
                // Let the interpreter, the reference, produce the exact stop for this instruction.
                return reexecuteInInterpreter()
            }
        case .hostFault:
            return hostFault(&refund)
        }
    }

    /// A fault inside JIT code: map the host pc to the guest instruction, then either
    /// invalidate (a write to a page of translated code) and resume, or report the guest fault.
    private func hostFault(_ refund: inout UInt64) -> StopReason? {
        let slots = hart.slots
        let hostPC = UInt(slots[HartState.Slot.faultHostPC])
        let hostAddress = UInt(slots[HartState.Slot.faultHostAddress])
        guard let t = cache.translation(containingHost: hostPC) else {
            fatalError("rivet: JIT fault at host pc 0x\(String(hostPC, radix: 16)) outside any translation")
        }
        let index = t.instruction(atHostOffset: Int(hostPC) - Int(cache.entry(t)))
        refund = UInt64(t.instructionCount - index)
        // Registers the code kept in host registers are in the registers saved at the fault.
        for (guest, host) in t.cachedRegisters {
            slots[Int(guest)] = slots[HartState.Slot.faultRegisters + Int(host)]
        }
        if t.isLoop {
            // A loop block counts its instructions when it leaves: from the budget it started with.
            let started = slots[HartState.Slot.faultRegisters + Int(BlockTranslator.loopStart.rawValue)]
            cache.counters[t.id] &+= started &- slots[HartState.Slot.budget]
        }
        hart.pc = t.pc(ofInstruction: index)
        statistics.hostFaults += 1
        let guestAddress = UInt64(hostAddress &- UInt(bitPattern: memory.base))
        let page = guestAddress >> 12
        if cache.isProtected(page: page), memory.permissions(at: guestAddress).contains(.write) {
            // Self-modifying code: drop the code on that page; the store runs again.
            memory.notifyCodeChanged(GuestAddress(guestAddress), GuestAddress(guestAddress + 1))
            statistics.codeWriteFaults += 1
            // Run the store in the interpreter: retranslating from it would write-protect the
            // page again, and a block that writes its own page would fault forever.
            return reexecuteInInterpreter()
        }
        return reexecuteInInterpreter()
    }

    /// Runs exactly one instruction at `hart.pc` in the interpreter and returns its stop
    /// (used where the interpreter's exact trap is wanted: faults, illegal instructions).
    private func reexecuteInInterpreter() -> StopReason? {
        let before = hart.instret
        let wasSingle = interpreter.singleStep
        interpreter.singleStep = true
        let stop = interpreter.run(budget: 1)
        interpreter.singleStep = wasSingle
        statistics.interpretedInstructions &+= hart.instret &- before
        switch stop {
        case .budgetExhausted, .tierUp: return nil
        default: return stop
        }
    }

    /// The source of the `time` CSR, for every tier.
    package func setTimeSource(_ read: @escaping () -> UInt64) {
        interpreter.readTime = read
        compiler.context.readTime = read
    }

    /// Executions of translated blocks (entries and loop iterations), counted by JIT code.
    package var blockEntries: UInt64 {
        cache.all.reduce(statistics.removedEntries) {
            $0 &+ cache.counters[$1.id] / UInt64(max(1, $1.instructionCount))
        }
    }

    /// Translations alive now.
    package var translationCount: Int { cache.count }
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
    /// An instruction that traps (`ebreak`, illegal): exitValue says which.
    case trap = 5
    /// An access past the end of the guest address space; exitValue holds the address.
    case boundsFault = 6
    /// `fence.i` (retired).
    case fenceI = 7
    /// A helper (FP, atomics, CSR) could not complete the instruction.
    case helperFailure = 8

    /// exitValue of a `.trap` exit for `ebreak`.
    static let ebreakDetail: UInt64 = 1
}
