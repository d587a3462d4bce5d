/// A jump out of a block to a known guest pc, as the compiler emitted it.
public struct ExitSite: Sendable {
    /// The guest pc it goes to.
    public let target: UInt64
    /// Offset, from the translation's start, of the rel32 field of the patchable jump.
    public let patchOffset: Int
    /// Offset of the exit stub the jump goes to while unlinked.
    public let stubOffset: Int
}

/// Native code for one guest basic block, and what the engine must know about it.
///
/// Its code is in two parts of the code region: the hot part, where it is entered and which
/// runs, and the cold part, the exit stubs and tails the code leaves through (a third of a
/// baseline block's bytes, kept out of the instruction cache's way), followed by the tables
/// that map guest instructions to host code. Offsets into the code ("code offsets") count as if
/// the cold part followed the hot one; `regionOffset(ofCode:)` maps them to the region.
///
/// Kept small, because a cache holds hundreds of thousands of them (and counts them against its
/// bound, `metadataBytes` each): the instruction tables (one byte of guest offset and two of
/// host offset per instruction) are in the code region, and a block's at most two direct exits
/// and at most seven cached registers are stored inline.
final class Translation {
    /// What one translation costs beyond its code: this object, its incoming links on average,
    /// its entries in the pc index, the page index, the id table and the counters. The code
    /// cache counts it against its bound.
    static let metadataBytes = 256

    /// A jump out of the block to a known guest pc: initially to its exit stub (back to the
    /// run loop), patched to jump straight into the target's translation once it exists.
    struct Exit {
        let target: UInt64
        // (32 bits: a tier-2 region's code may pass 64 KiB; the struct is 16 bytes either way.)
        let patchOffset: UInt32
        let stubOffset: UInt32
    }

    /// Identifies the translation in exit codes and indexes its execution counter.
    let id: Int
    let guestPC: UInt64
    private let guestLength: UInt16
    private let count: UInt8
    private let exitCount: UInt8
    private let registerCount: UInt8
    /// Whether the block branches back to its own start (its code loops without leaving).
    let isLoop: Bool
    /// Tier 2's metadata, for code from the optimizing tier (nil: the baseline's).
    let optimized: OptimizedCode?
    /// Where the baseline's counting instruction (`add [counters + 8·id], n`) starts in the code
    /// and its length; 0 for code that counts otherwise (a loop block as it leaves, a region
    /// at its exits).
    let counterOffset: UInt16
    let counterLength: UInt8
    /// Or, for a baseline block that counts on demand (`TierPolicy.countsOnDemand`), the code
    /// offset of its counting entry, in its cold part: `add [counters + 8·id], n`, then a jump
    /// to its code. The block is entered there (its links, the jump caches, the pc index lead
    /// there) while it counts, at its code's start otherwise. 0: none.
    let countingEntry: UInt32
    /// The code no longer counts (`TranslationCache.stopCounting`): its counting instruction is
    /// a `nop`, the eight bytes there before kept here; or it is entered past its counting
    /// entry. A block that counts on demand starts so.
    @exclusivity(unchecked) var counterStopped = false
    @exclusivity(unchecked) var counterBytes: UInt64 = 0
    /// Its counting stopped at some time: its count is a lower bound.
    @exclusivity(unchecked) var countsAreLowerBound = false
    /// It counts again for a profiling window (`Engine.openProfilingWindow`), which opened at
    /// count `windowBase`; until it stops again.
    @exclusivity(unchecked) var inWindow = false
    @exclusivity(unchecked) var windowBase: UInt64 = 0
    /// Removed from the cache; its code is freed at the next collection.
    @exclusivity(unchecked) var isRetired = false
    /// A tier-2 region's exit and instruction counters when its last window of exits began
    /// (`Engine.demoteLosingRegions`).
    @exclusivity(unchecked) var windowStart: (exits: UInt64, instructions: UInt64) = (0, 0)
    /// Where the hot part of the code lives in the code region (its entry), and its bytes.
    let hostOffset: Int
    let hostLength: Int
    /// Where the cold part (its code, then the instruction tables) lives in the region, and its
    /// bytes.
    let coldOffset: Int
    let coldLength: Int
    /// The code offset where the cold part starts.
    private let coldStart: UInt32
    /// The instruction tables in the region's writable view: `count` guest offsets (one byte
    /// each), then `count` host code offsets (two bytes each, ascending).
    private let tables: UnsafeRawPointer
    private let exit0: Exit
    private let exit1: Exit
    private var linked0: Translation?
    private var linked1: Translation?
    /// Guest integer registers the code keeps in host registers: 9 bits each (5 guest, 4 host).
    private let registers: UInt64
    /// For each of them (8 bits each), the instruction on whose start its host register holds
    /// it: 0 for one loaded at entry, one past its first write for one the block writes before
    /// reading it (not loaded, `BlockTranslator.pending`).
    private let registerStarts: UInt64
    /// Nanoseconds it took to translate (saturated).
    private let compileTime: UInt32
    /// Exits of other translations that jump here, as (translation, exit index).
    @exclusivity(unchecked) var incoming: [(source: Translation, exit: Int)] = []

    // Usage, sampled from the execution counter by `UsageTracker` (for eviction).
    /// The counter's value at the last sample.
    @exclusivity(unchecked) var sampledCount: UInt64 = 0
    /// The last sample at which the counter had moved.
    @exclusivity(unchecked) private var lastActive: UInt32 = 0
    /// Instructions executed, decayed by half at each sample: recent frequency.
    @exclusivity(unchecked) private var recent: Float = 0

    /// Most bytes of code a tier-2 region's translation may have (the baseline's: 64 KiB, as
    /// its host instruction table holds 16-bit offsets; a region's table is not read: its
    /// faults are found by `OptimizedCode.sites`).
    static let maxOptimizedCode = 1 << 22

    /// Bytes the cold part takes: `coldCode` bytes of code, then the instruction tables of
    /// `instructions` instructions.
    static func coldLength(coldCode: Int, instructions: Int) -> Int {
        ((coldCode + 1) & ~1) + 3 * instructions
    }

    /// Writes the instruction tables after the cold code at `cold` (the writable view) and
    /// makes the translation. The caller placed `coldStart` bytes of code at `hostOffset` and
    /// `codeLength - coldStart` at `coldOffset`, and allocated `coldLength(...)` bytes there.
    init(
        id: Int, guestPC: UInt64, guestEnd: UInt64, instructionOffsets: some RandomAccessCollection<UInt32>,
        hostOffset: Int, coldOffset: Int,
        cold: UnsafeMutableRawPointer, codeLength: Int, coldStart: Int, hostInstructionStarts: [UInt32], exits: [ExitSite],
        cachedRegisters: [(guest: UInt8, host: UInt8, from: UInt8)], isLoop: Bool, counter: (offset: Int, length: Int)? = nil,
        countingEntry: Int? = nil, compileNanoseconds: UInt64, optimized: OptimizedCode? = nil
    ) {
        precondition(
            instructionOffsets.count == hostInstructionStarts.count && instructionOffsets.count <= 255
                && (instructionOffsets.last ?? 0) < 256 && exits.count <= 2
                && cachedRegisters.count <= 7 && codeLength < (optimized == nil ? 1 << 16 : Self.maxOptimizedCode)
                && guestEnd - guestPC < 1 << 16,
            "a translation beyond the baseline compiler's bounds")
        self.id = id
        self.guestPC = guestPC
        guestLength = UInt16(guestEnd - guestPC)
        count = UInt8(instructionOffsets.count)
        exitCount = UInt8(exits.count)
        registerCount = UInt8(cachedRegisters.count)
        self.isLoop = isLoop
        self.optimized = optimized
        precondition(counter.map { $0.offset & 7 == 0 && $0.offset < 1 << 16 && ($0.length == 5 || $0.length == 8) } ?? true, "a misplaced counter")
        counterOffset = UInt16(counter?.offset ?? 0)
        counterLength = UInt8(counter?.length ?? 0)
        precondition(counter == nil || countingEntry == nil, "one way of counting")
        self.countingEntry = UInt32(countingEntry ?? 0)
        if countingEntry != nil {
            counterStopped = true
            countsAreLowerBound = true
        }
        precondition(coldStart <= codeLength && exits.allSatisfy { $0.patchOffset < coldStart }, "a misplaced cold part")
        self.hostOffset = hostOffset
        hostLength = coldStart
        self.coldOffset = coldOffset
        coldLength = Self.coldLength(coldCode: codeLength - coldStart, instructions: instructionOffsets.count)
        self.coldStart = UInt32(coldStart)
        let guestTable = cold + ((codeLength - coldStart + 1) & ~1)
        for (k, offset) in instructionOffsets.enumerated() { guestTable.storeBytes(of: UInt8(offset), toByteOffset: k, as: UInt8.self) }
        let hostTable = guestTable + instructionOffsets.count
        for (k, start) in hostInstructionStarts.enumerated() {
            hostTable.storeBytes(of: UInt16(start).littleEndian, toByteOffset: 2 * k, as: UInt16.self)
        }
        tables = UnsafeRawPointer(guestTable)
        func exit(_ k: Int) -> Exit {
            guard k < exits.count else { return Exit(target: 0, patchOffset: 0, stubOffset: 0) }
            return Exit(target: exits[k].target, patchOffset: UInt32(exits[k].patchOffset), stubOffset: UInt32(exits[k].stubOffset))
        }
        exit0 = exit(0)
        exit1 = exit(1)
        var packed: UInt64 = 0
        var starts: UInt64 = 0
        for (k, r) in cachedRegisters.enumerated() {
            packed |= (UInt64(r.guest) | UInt64(r.host) << 5) << UInt64(9 * k)
            starts |= UInt64(r.from) << UInt64(8 * k)
        }
        registers = packed
        registerStarts = starts
        compileTime = UInt32(min(compileNanoseconds, UInt64(UInt32.max)))
    }

    var instructionCount: Int { Int(count) }
    /// The pc just past the block's last instruction.
    var guestEnd: UInt64 { guestPC + UInt64(guestLength) }
    /// Calls `body` with each guest page the block (or a tier-2 region's blocks) was decoded
    /// from, in order, each once (no array made: the one a baseline block's install made was
    /// an allocation per compile).
    func forEachPage(_ body: (UInt64) -> Void) {
        guard let optimized else {
            let range = ownRange
            for page in (range.lowerBound >> 12)...((range.upperBound - 1) >> 12) { body(page) }
            return
        }
        var next: UInt64 = 0  // the pages below it were reported
        for range in optimized.guestRanges {
            let first = max(next, range.lowerBound >> 12), last = (range.upperBound - 1) >> 12
            guard first <= last else { continue }
            for page in first...last { body(page) }
            next = last + 1
        }
    }

    /// The guest addresses the code was made from, in order (a tier-2 region's blocks may lie
    /// before its entry, past its first block, and in the functions it calls).
    var guestRanges: [Range<UInt64>] { optimized?.guestRanges ?? [ownRange] }
    /// The guest addresses of the block at `guestPC` itself (at least one byte): a baseline
    /// block's only range.
    var ownRange: Range<UInt64> { guestPC..<max(guestEnd, guestPC + 1) }
    var compileNanoseconds: UInt64 { UInt64(compileTime) }

    /// The block's direct exits.
    var exits: Int { Int(exitCount) }
    func exit(_ k: Int) -> Exit { k == 0 ? exit0 : exit1 }
    /// The translation exit `k` is linked to, if any.
    func linked(_ k: Int) -> Translation? { k == 0 ? linked0 : linked1 }
    func setLinked(_ k: Int, _ target: Translation?) {
        if k == 0 { linked0 = target } else { linked1 = target }
    }

    /// Guest integer registers the code keeps in host registers (host register numbers), so
    /// that the engine can recover them from the host registers saved at a fault, each from
    /// the instruction on whose start its host register holds it (before, its slot does).
    var cachedRegisters: [(guest: UInt8, host: UInt8, from: UInt8)] {
        (0..<Int(registerCount)).map { k in
            let bits = registers >> UInt64(9 * k)
            return (UInt8(bits & 31), UInt8((bits >> 5) & 15), UInt8(truncatingIfNeeded: registerStarts >> UInt64(8 * k)))
        }
    }

    /// The last usage sample at which the counter had moved.
    var lastActiveEpoch: UInt64 {
        get { UInt64(lastActive) }
        set { lastActive = UInt32(truncatingIfNeeded: newValue) }
    }

    /// Instructions executed, decayed by half at each sample: recent frequency.
    var recentInstructions: Double {
        get { Double(recent) }
        set { recent = Float(newValue) }
    }

    /// The guest pc of instruction `index`.
    func pc(ofInstruction index: Int) -> UInt64 {
        guestPC + UInt64(tables.load(fromByteOffset: index, as: UInt8.self))
    }

    /// Bytes of the region the translation takes: both parts.
    var regionBytes: Int { hostLength + coldLength }

    /// Where code offset `offset` lies in the code region.
    func regionOffset(ofCode offset: Int) -> Int {
        offset < coldStart ? hostOffset + offset : coldOffset + offset - Int(coldStart)
    }

    /// The code offset of region offset `offset`, if the translation's code (or its tables)
    /// holds it.
    func codeOffset(ofRegion offset: Int) -> Int? {
        if offset >= hostOffset && offset < hostOffset + hostLength { return offset - hostOffset }
        if offset >= coldOffset && offset < coldOffset + coldLength { return Int(coldStart) + offset - coldOffset }
        return nil
    }

    /// Code offset of the first byte of instruction `index`'s code.
    private func hostStart(_ index: Int) -> Int {
        Int(UInt16(littleEndian: tables.loadUnaligned(fromByteOffset: Int(count) + 2 * index, as: UInt16.self)))
    }

    /// The guest instruction whose code contains code offset `offset`.
    func instruction(atHostOffset offset: Int) -> Int {
        var low = 0
        var high = Int(count)
        while low < high {
            let mid = (low + high) / 2
            if hostStart(mid) <= offset { low = mid + 1 } else { high = mid }
        }
        return max(0, low - 1)
    }
}

/// What the engine keeps of a tier-2 region beside its code: where each guest access is in the
/// host code and how to rebuild the guest state if it faults there (the deoptimization
/// metadata of its only kind of side exit that is not compiled in: a host fault).
final class OptimizedCode: @unchecked Sendable {
    /// By ascending host offset.
    let sites: [Tier2Backend.FaultSite]
    /// Instructions in the region's IR before and after the passes (for `--stats`).
    let irInstructions: (before: Int, after: Int)
    /// By region instruction index (exit codes and sites name instructions so): the pc, and the
    /// instructions a fault there gives back (its block took them all at its head).
    let pcs: [UInt64]
    let refunds: [Int]
    /// The guest addresses of the region's blocks, in order, adjacent blocks as one range.
    let guestRanges: [Range<UInt64>]
    /// Guest blocks in the region.
    let blocks: Int
    /// Whether the code accrues float exception flags from MXCSR (`Tier2Backend.accruesFlags`):
    /// a fault inside it accrues those the fault handler saved.
    let accruesFlags: Bool
    /// The most the region's budget checks need (`Tier2Backend.BudgetPlan.entryBudget`).
    let entryBudget: Int
    /// Whether an indirect jump of the region compares its target with the jump's profiled
    /// targets (a dispatch's cases: `Engine.demotionInstructionsPerDispatchExit`).
    let dispatches: Bool

    init(sites: [Tier2Backend.FaultSite], irInstructions: (before: Int, after: Int), pcs: [UInt64], refunds: [Int],
         guestRanges: [Range<UInt64>], blocks: Int, accruesFlags: Bool, entryBudget: Int = 0, dispatches: Bool = false)
    {
        self.dispatches = dispatches
        self.accruesFlags = accruesFlags
        self.entryBudget = entryBudget
        self.sites = sites.sorted { $0.hostOffset < $1.hostOffset }
        self.irInstructions = irInstructions
        self.pcs = pcs
        self.refunds = refunds
        self.guestRanges = guestRanges
        self.blocks = blocks
    }

    /// The access whose instruction starts at host offset `offset` (from the code's start).
    func site(atHostOffset offset: Int) -> Tier2Backend.FaultSite? {
        var low = 0
        var high = sites.count
        while low < high {
            let mid = (low + high) / 2
            if sites[mid].hostOffset < offset { low = mid + 1 } else { high = mid }
        }
        return low < sites.count && sites[low].hostOffset == offset ? sites[low] : nil
    }

    /// Bytes the metadata takes (counted against the code cache's bound).
    var bytes: Int { 96 + 16 * pcs.count + sites.reduce(0) { $0 + 32 + 24 * $1.entries.count } }
}
