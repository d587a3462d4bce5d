import CRivetHost
import RivetISA
import RivetMachine
#if canImport(Glibc)
import Glibc
#endif

/// Why the interpreter stopped. In every case `HartState.pc` is the pc of the instruction named
/// (the `ecall`, the faulting instruction, ...) or, for `.budgetExhausted`, the next one.
public enum StopReason: Equatable, Sendable {
    /// An `ecall`: the environment handles it and resumes at `pc + 4`. It counts as retired.
    case ecall
    /// An `ebreak` (SIGTRAP).
    case breakpoint
    /// An illegal instruction or one this hart does not implement (SIGILL).
    case illegalInstruction(raw: UInt32, length: UInt8)
    /// A load, store or fetch the guest's mappings do not allow (SIGSEGV).
    case fault(GuestFault)
    /// A misaligned atomic (SIGBUS).
    case misalignedAtomic(address: UInt64)
    /// The block at pc became hot (its countdown ran out) or was marked for a higher tier;
    /// it has not executed.
    case tierUp
    /// The instruction budget given to `run` is used up.
    case budgetExhausted
    /// Another thread asked the hart to stop (`HartState.Slot.attention`): signals were posted
    /// to it or its deadline passed. `pc` is the next instruction.
    case interrupted
}

/// Tier 0: executes pre-decoded blocks. The reference semantics every other tier must match.
public final class Interpreter {
    public let memory: GuestMemory
    public let hart: HartState
    let cache = BlockCache()
    let decodeCache = DecodeCache()

    /// When set, blocks are one instruction long and `traceHook` runs before each one.
    public var singleStep = false
    /// Called before each instruction in single-step mode with the hart about to execute it.
    public var traceHook: ((HartState) -> Void)?
    /// Asked in single-step mode before each instruction, with its pc: true stops the run there,
    /// before the instruction executes, with `.interrupted` (a debugger's breakpoints).
    public var stopBefore: ((UInt64) -> Bool)?

    /// Host time source for the `time` CSR, in ticks of `timebaseFrequency`.
    public var readTime: () -> UInt64 = { 0 }
    /// Block entries before a block stops the interpreter with `.tierUp`; nil never stops.
    public var tierUpThreshold: UInt32? = nil

    /// Frequency of the `time` CSR.
    public static let timebaseFrequency: UInt64 = 10_000_000

    public init(memory: GuestMemory, hart: HartState) {
        precondition(
            addressSpaceSize == GuestMemory.addressSpaceSize && Slot.pc == HartState.Slot.pc
                && Slot.instret == HartState.Slot.instret && Slot.attention == HartState.Slot.attention)
        self.memory = memory
        self.hart = hart
        memory.addObserver(cache)
    }

    /// Calls `body` with the block table the dispatch loop looks up first (`entries` entries of
    /// two words, the guest pc first), for CRivetHost's fault handler to empty.
    public func withDispatchTable(_ body: (UnsafeMutablePointer<UInt64>, Int) -> Void) {
        let table = UnsafeMutableRawPointer(cache.table).assumingMemoryBound(to: UInt64.self)
        precondition(MemoryLayout<BlockCache.Entry>.stride == 16 && MemoryLayout<BlockCache.Entry>.offset(of: \.pc) == 0)
        body(table, 1 << BlockCache.tableBits)
    }

    /// Makes the calling thread the one that runs this interpreter's hart: code changes other
    /// threads make reach its decoded blocks through `applyPendingCodeChanges`.
    public func bindToCurrentThread() {
        cache.owner = pthread_self()
        cache.ownerSlots = hart.slots
    }

    /// Drops the decoded blocks whose code other threads changed (RIVET_ATTENTION_CODE_CHANGED).
    public func applyPendingCodeChanges() {
        rivet_clear_attention(hart.slots, RIVET_ATTENTION_CODE_CHANGED)
        memory.codeLock.withLock { cache.applyPending() }
    }

    /// Stops listening to code changes (the hart's thread ended).
    public func detach() { memory.removeObserver(cache) }

    /// Blocks decoded so far.
    public var decodedBlocks: UInt64 { cache.decodedBlocks }
    /// Instructions the block decoder found lowered in its decode cache, and those it decoded
    /// (on the block's page; one fetched across a page's end is in neither).
    public var decodeCacheHits: UInt64 { decodeCache.hits }
    public var decodeCacheMisses: UInt64 { decodeCache.misses }
    /// Blocks dropped because their code changed.
    public var invalidatedBlocks: UInt64 { cache.invalidatedBlocks }
    /// Blocks evicted to keep the decoded-block cache within `decodedBlockLimit`.
    public var evictedBlocks: UInt64 { cache.evictedBlocks }
    /// Decoded blocks cached now, and the bytes they take.
    public var cachedBlocks: Int { cache.count }
    public var cachedBlockBytes: Int { cache.bytes }
    /// The most bytes of decoded blocks the interpreter keeps.
    public var decodedBlockLimit: Int {
        get { cache.byteLimit }
        set { cache.byteLimit = max(64 << 10, newValue) }
    }

    private var initialCountdown: Int32 {
        tierUpThreshold.map { Int32(clamping: $0) } ?? .max
    }

    /// Makes the interpreter stop with `.tierUp` the next time it reaches `pc` (a higher tier
    /// has code for it), or restarts its countdown.
    public func setTierUp(at pc: UInt64, immediately: Bool) {
        guard let block = cache.lookup(pc) else { return }
        block.pointee.countdown = immediately ? 0 : initialCountdown
    }

    /// Restarts the countdown of the block at `pc` with `entries` entries.
    public func setTierUp(at pc: UInt64, after entries: UInt32) {
        guard let block = cache.lookup(pc) else { return }
        block.pointee.countdown = Int32(clamping: entries)
    }

    /// The block at `pc`: how often it ran and how many instructions it has.
    public func blockInfo(at pc: UInt64) -> (executions: UInt32, instructions: Int)? {
        guard let block = cache.lookup(pc) else { return nil }
        return (block.pointee.executions, Int(block.pointee.count))
    }

    /// Makes every block that counts down from more than `entries` count down from `entries`
    /// (the tier-up threshold fell).
    public func lowerCountdowns(to entries: UInt32) {
        let limit = Int32(clamping: entries)
        for block in cache.allBlocks() where block.pointee.countdown > limit { block.pointee.countdown = limit }
    }

    /// Halves every block's progress towards tier-up, so that old hotness fades.
    public func decayHotness() {
        let full = initialCountdown
        for block in cache.allBlocks() where block.pointee.countdown > 0 && block.pointee.countdown < full {
            block.pointee.countdown += (full - block.pointee.countdown) / 2
        }
    }

    /// The instructions each cached block retired, by pc (blocks leave early through taken
    /// branches; a block decoded again after eviction keeps only its entry count).
    public func retiredInstructionsByBlock() -> [(pc: UInt64, instructions: UInt64)] {
        cache.allBlocks().map { block in
            let entered = UInt64(block.pointee.executions) &* UInt64(block.pointee.count)
            let skipped = UInt64(block.pointee.skipped)
            return (block.pointee.pc, entered > skipped ? entered - skipped : 0)
        }
    }


    /// Called with the pc of each block decoded into the cache: a forked child reports it to
    /// its parent (`ChildReports` in the engine). Nil but in forked children.
    public var onDecode: ((UInt64) -> Void)?

    /// Decodes the block at `pc` into the cache unless it is there: a block a forked child
    /// decoded, so that the next child inherits it. False if it cannot be fetched.
    public func predecode(at pc: UInt64) -> Bool {
        do {
            _ = try block(at: pc, limit: UInt64.max)
            return true
        } catch {
            return false
        }
    }

    /// The block at `pc`: from the cache, or decoded now. Blocks longer than `limit`
    /// instructions are decoded afresh, shortened, and not cached; the caller frees them.
    @inline(never)
    func block(at pc: UInt64, limit: UInt64) throws(FetchFailure) -> (Block, cached: Bool) {
        if !singleStep, limit >= UInt64(BlockDecoder.maxInstructions) {
            if let block = cache.lookup(pc) { return (block, true) }
            // Decoded and listed under the code lock: another thread's change to this code
            // comes before (and is seen) or after (and drops the block).
            memory.codeLock.lock()
            defer { memory.codeLock.unlock() }
            let block = try BlockDecoder.decode(
                at: pc, memory: memory, countdown: initialCountdown, using: decodeCache, arena: cache.arena)
            cache.insert(block)
            if let onDecode { onDecode(pc) }
            return (block, true)
        }
        if !singleStep, let block = cache.lookup(pc), UInt64(block.pointee.count) <= limit {
            return (block, true)
        }
        let n = singleStep ? 1 : Int(min(limit, UInt64(BlockDecoder.maxInstructions)))
        return (try BlockDecoder.decode(at: pc, memory: memory, limit: n, using: decodeCache), false)
    }
}
