import RivetISA
import RivetMachine
import RivetX64

/// What to compile: a block decoded on the guest thread, with the guest bytes it was decoded
/// from. Worker threads never touch guest memory, which the guest may unmap at any time; the
/// engine checks the bytes again before it installs the result.
struct CompileRequest: Sendable {
    let id: Int
    let pc: UInt64
    let block: [GuestCode.Decoded]
    /// The block's guest bytes, to check before installing; nil for a request compiled and
    /// installed on the guest thread while no other hart runs, where nothing can change them
    /// in between.
    let guestBytes: [UInt8]?
    /// Bytes of guest code the block covers.
    let length: Int
    /// When the request was made (for queue wait times), in nanoseconds of the engine's clock.
    let requested: UInt64
    /// Its priority when made (hotness × expected gain).
    let priority: Double
    /// 1 for the baseline JIT, 2 for the optimizing tier.
    var tier = 1
    /// For tier 2: the region's other blocks (a loop's body beyond its header, `block`).
    var regionBlocks: [RegionFormation.Block] = []
    /// For tier 2: instructions of `block` the region's header keeps (fewer when the loop
    /// branches into the block's middle, RegionFormation.swift).
    var regionHeaderLength: Int? = nil

    /// For tier 2: the pcs of the region's blocks its indirect jumps (not returns) compare their
    /// target with, hottest first (`RegionFormation.Loop.indirectTargets`).
    var regionIndirectTargets: [UInt64] = []
    /// For the baseline: count the block's runs at a counting entry, not in its code
    /// (`TierPolicy.countsOnDemand`).
    var countingEntry = false

    /// Takes `loop` (or no loop) as the region of this tier-2 request.
    mutating func setRegion(_ loop: RegionFormation.Loop?) {
        regionBlocks = loop?.blocks ?? []
        regionHeaderLength = loop?.header.decoded.count
        regionIndirectTargets = loop?.indirectTargets ?? []
    }

    var guestEnd: UInt64 { pc + UInt64(length) }
}

/// Position-independent host code for a block, and what the engine needs to install it.
struct CompiledBlock: Sendable {
    let request: CompileRequest
    let code: [UInt8]
    /// Where the cold part of `code` starts (exit stubs, placed apart from the code that runs,
    /// `X64Assembler.startColdSection`), and the jumps between the parts; nil: all hot.
    var coldStart: Int? = nil
    var crossings: [Int32] = []
    let instructionStarts: [UInt32]
    let exits: [ExitSite]
    /// Guest registers in host registers, each from instruction `from` on (`BlockTranslator.pending`).
    let cachedRegisters: [(guest: UInt8, host: UInt8, from: UInt8)]
    let isLoop: Bool
    /// The baseline's counting instruction (`BlockTranslator.Output.counter`), or its counting
    /// entry (`BlockTranslator.Output.countingEntry`).
    var counter: (offset: Int, length: Int)? = nil
    var countingEntry: Int? = nil
    let compileNanoseconds: UInt64
    /// Tier 2's metadata (nil for the baseline's code).
    var optimized: OptimizedCode? = nil
    /// Guest instructions the code covers (a tier-2 region may stop before the block's end).
    var instructions: Int { instructionStarts.count }
    /// Bytes of code before the cold part.
    var hotLength: Int { coldStart ?? code.count }
}

/// Turns a decoded block into host code. One per thread that compiles; keeps its assembler's
/// storage from one block to the next.
struct BlockCompiler: ~Copyable {
    private var translator = BlockTranslator()

    init() {}

    /// Most guest instructions in one translation.
    static let maxInstructions = 64

    /// Compiles `request`; nil if the assembler fails (never for valid blocks), or for a tier-2
    /// request, if the optimizing tier cannot compile the block.
    mutating func compile(_ request: CompileRequest) -> CompiledBlock? {
        if request.tier == 2 { return RegionCompiler.compile(request) }
        // (The clock read directly: `ContinuousClock` and `Duration`'s 128-bit arithmetic were
        // 4% of a tier-1 compile.)
        let start = monotonicNanoseconds()
        let output: BlockTranslator.Output
        do {
            output = try translator.translate(
                id: request.id, pc: request.pc, block: request.block, helpers: HelperAddresses(),
                countingEntry: request.countingEntry)
        } catch {
            return nil
        }
        let code = translator.assembler.buffer.bytes
        let elapsed = monotonicNanoseconds() &- start
        return CompiledBlock(
            request: request, code: code, coldStart: translator.assembler.coldStart, crossings: translator.assembler.crossings,
            instructionStarts: output.instructionStarts, exits: output.exits,
            cachedRegisters: output.cachedRegisters.map { ($0.guest, $0.host.rawValue, $0.from) }, isLoop: output.isLoop,
            counter: output.counter, countingEntry: output.countingEntry, compileNanoseconds: elapsed)
    }
}

/// A duration in whole nanoseconds.
func nanoseconds(_ d: Duration) -> UInt64 {
    UInt64(max(0, d.components.seconds)) * 1_000_000_000 + UInt64(max(0, d.components.attoseconds) / 1_000_000_000)
}

extension GuestCode {
    /// Decodes the block at `pc` (ending before a pc in `stops`) and copies its bytes unless
    /// `copyingBytes` is false, for a compile request; nil if its first instruction cannot be
    /// fetched.
    static func request(
        at pc: UInt64, id: Int, memory: GuestMemory, requested: UInt64, priority: Double, stops: Set<UInt64> = [],
        copyingBytes: Bool = true
    ) -> CompileRequest? {
        let block = decodeBlock(at: pc, memory: memory, limit: BlockCompiler.maxInstructions, stops: stops)
        guard let last = block.last else { return nil }
        let length = Int(last.offset) + Int(last.instruction.length)
        var bytes: [UInt8]? = nil
        if copyingBytes {
            guard let copy = memory.readCode(at: pc, count: length) else { return nil }
            bytes = copy
        }
        return CompileRequest(
            id: id, pc: pc, block: block, guestBytes: bytes, length: length, requested: requested, priority: priority)
    }

    /// Whether guest memory still holds `request`'s bytes (and its region's), executable.
    static func isCurrent(_ request: CompileRequest, memory: GuestMemory) -> Bool {
        if let bytes = request.guestBytes, memory.readCode(at: request.pc, count: bytes.count) != bytes { return false }
        return request.regionBlocks.allSatisfy { memory.readCode(at: $0.pc, count: $0.bytes.count) == $0.bytes }
    }
}

#if canImport(Glibc)
import Glibc
#endif
