import RivetISA
import RivetMachine

/// A pre-decoded instruction, 8 bytes, laid out for the dispatch loop: a cache line holds eight.
///
/// Register fields are `HartState` slot indices, not register numbers: integer registers are
/// slots 0...31 with a destination `x0` mapped to the sink slot 32, FP registers are slots
/// 33...64. So the loop never tests for `x0` and never distinguishes register files.
///
/// What does not fit is folded into fields the instruction leaves unused (`BlockDecoder.lower`
/// and `decode`): the rounding mode and `rs3` of float operations, and the aq/rl bits of
/// atomics, in `imm` (`rm` in bits 0-7, `rs3` in 8-15); the instruction's offset from its
/// block's start in `rs1` and `rs2` (`auipc`, a 16-bit offset) or in `imm` (targets of `jal`
/// and branches count from the block's start); `jal`'s link offset in `rs1` and `rs2`, and
/// `jalr`'s in the upper half of `imm` (its 12-bit immediate in the lower). Each instruction's
/// offset and length are also in the block's position table (`Block.positions`), which only
/// the rare paths read: a fault, an `ecall`, an illegal instruction.
struct Inst {
    var op: Opcode
    var rd: UInt8
    var rs1: UInt8
    var rs2: UInt8
    var imm: Int32

    /// A conditional branch's `rd`: how many of the block's instructions a taken branch passes
    /// over (they did not retire), in bits 0-6; bit 7 set if it stays in the block, going to
    /// the instruction `imm` further on, or with `imm` 0 to the block's first instruction (a
    /// loop of one block). Without bit 7, `imm` is its target's offset from the block's start.
    static let staysInBlock: UInt8 = 0x80
}

/// The header of a decoded block, followed in memory by `count + 1` `Inst`s: the block's
/// instructions and a final synthetic `jal x0, 0` at the fall-through address, which is not
/// counted as an instruction (so every block ends in a control transfer and the dispatch loop
/// has no end-of-block test); then their positions (`positions`).
struct BlockHeader {
    /// Guest pc of the first instruction.
    var pc: UInt64
    /// Guest pc just past the last instruction.
    var endPC: UInt64
    /// Number of guest instructions (the synthetic jump excluded).
    var count: UInt32
    /// Times the block was entered.
    var executions: UInt32
    /// Entries left before the interpreter stops at this block with `StopReason.tierUp`.
    /// Set to 0 to stop at the next entry (a translation for this pc exists).
    var countdown: Int32
    /// Instructions the block's entries did not run because a branch inside it was taken:
    /// executions × count − skipped instructions retired here.
    var skipped: UInt32 = 0
    /// The blocks decoded from the same (first) page, a list `BlockCache` keeps.
    var previousOnPage: UnsafeMutablePointer<BlockHeader>? = nil
    var nextOnPage: UnsafeMutablePointer<BlockHeader>? = nil
    /// Where the last exit from this block went: the block at `nextPC`, good while the cache's
    /// epoch is still `nextEpoch` (`BlockCache.epoch`; no block has left the cache since). The
    /// dispatch loop's first guess at the next block, before the block table.
    var nextPC: UInt64 = BlockCache.emptyPC
    var nextEpoch: UInt64 = 0
    var next: UnsafeMutablePointer<BlockHeader>? = nil
}

typealias Block = UnsafeMutablePointer<BlockHeader>

extension UnsafeMutablePointer where Pointee == BlockHeader {
    @inline(__always)
    var instructions: UnsafeMutablePointer<Inst> {
        UnsafeMutableRawPointer(self).advanced(by: MemoryLayout<BlockHeader>.stride)
            .assumingMemoryBound(to: Inst.self)
    }

    /// Each instruction's offset from the block's start and its length, after the instructions
    /// (`BlockDecoder.position(offset:length:)`).
    @inline(__always)
    var positions: UnsafeMutablePointer<UInt16> {
        UnsafeMutableRawPointer(instructions + Int(pointee.count) + 1).assumingMemoryBound(to: UInt16.self)
    }

    /// The offset from the block's start and the length of instruction `index`.
    @inline(__always)
    func position(_ index: Int) -> (offset: UInt64, length: UInt64) {
        let p = positions[index]
        return (BlockDecoder.offset(p), BlockDecoder.length(p))
    }
}

/// Why decoding a block at a pc produced no block.
enum FetchFailure: Error {
    /// The first instruction cannot be fetched: its page is not executable.
    case fault(GuestFault)
}

enum BlockDecoder {
    /// Most guest instructions in one block.
    static let maxInstructions = 128

    /// Decodes the block starting at `pc`, ending at the first control transfer other than a
    /// conditional branch, system instruction, page end, `limit` instructions or an instruction
    /// that cannot be fetched. A conditional branch does not end the block: not taken, it falls
    /// through inside it; taken, it goes where its `rd` says (`Inst.staysInBlock`): to an
    /// instruction further on in the block, to the block's start, or out. Its `rd` holds how
    /// many of the block's instructions a taken branch passes over (they did not retire). A
    /// `jal` forward to the same page is followed: it becomes an `auipc` of its link address,
    /// and the block goes on at its target (so the block's bytes are in `[pc, endPC)`, not all
    /// of them its code). The block's memory is allocated here, from `arena` if given (then
    /// `arena` frees it) or else with `malloc`, and owned by the caller.
    static func decode(
        at pc: UInt64, memory: GuestMemory, limit: Int = maxInstructions, countdown: Int32 = .max,
        using decodeCache: DecodeCache, arena: BlockArena? = nil
    ) throws(FetchFailure) -> Block {
        // Decoded into buffers on the stack, then copied once into the block's memory (an
        // array grown as the block went took start-up code's long blocks through three
        // reallocations each); conditional branches are noted as they come, for the fix-up.
        let decoded = withUnsafeTemporaryAllocation(of: Inst.self, capacity: maxInstructions + 1) { insts in
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: maxInstructions + 1) { positions in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxInstructions) { branches in
                    decode(at: pc, memory: memory, limit: min(limit, maxInstructions), countdown: countdown, cache: decodeCache,
                           arena: arena, into: insts.baseAddress!, positions: positions.baseAddress!,
                           branches: branches.baseAddress!)
                }
            }
        }
        switch decoded {
        case .success(let block): return block
        case .failure(let fault): throw .fault(fault)
        }
    }

    /// `offset` in an instruction's `rs1` (low byte) and `rs2` (high byte).
    @inline(__always)
    private static func setOffset16(_ inst: UnsafeMutablePointer<Inst>, _ offset: UInt64) {
        inst.pointee.rs1 = UInt8(truncatingIfNeeded: offset)
        inst.pointee.rs2 = UInt8(truncatingIfNeeded: offset >> 8)
    }

    private static func decode(
        at pc: UInt64, memory: GuestMemory, limit: Int, countdown: Int32, cache: DecodeCache, arena: BlockArena?,
        into insts: UnsafeMutablePointer<Inst>, positions: UnsafeMutablePointer<UInt16>, branches: UnsafeMutablePointer<UInt8>
    ) -> Result<Block, GuestFault> {
        var count = 0
        var branchCount = 0
        var cursor = pc
        let firstPage = pc >> GuestMemory.pageShift
        let code = CodeReader(memory, block: pc)
        loop: while count < limit {
            // Instructions on the block's page through the decode cache; one across the
            // page's end, or on a page not read in place, fetched and decoded. The lowered
            // instruction is copied from the cache's table to the block whole, then what
            // depends on its place folded in.
            let entry: UnsafePointer<DecodeCache.Entry>
            if let word = code.word(at: cursor) {
                entry = cache.lowered(word)
            } else {
                switch code.instruction(at: cursor) {
                case .success(let decoded): entry = cache.lowered(decoded)
                case .failure(let fault):
                    if count == 0 { return .failure(fault) }
                    break loop  // fault when execution reaches it
                }
            }
            let inst = insts + count
            inst.pointee = entry.pointee.inst
            let flags = entry.pointee.flags
            let length = UInt64(entry.pointee.length)
            let offset = cursor &- pc
            positions[count] = position(offset: offset, length: length)
            count += 1
            switch inst.pointee.op {
            case .jal:
                let target = cursor &+ UInt64(bitPattern: Int64(inst.pointee.imm))
                let end = cursor + length
                if target >= end, target >> GuestMemory.pageShift == firstPage,
                    (end - 1) >> GuestMemory.pageShift == firstPage
                {
                    inst.pointee.op = .auipc
                    inst.pointee.imm = Int32(length)
                    setOffset16(inst, offset)
                    cursor = target
                    continue
                }
                // The target and the link address from the block's start.
                inst.pointee.imm = Int32(truncatingIfNeeded: Int64(offset) &+ Int64(inst.pointee.imm))
                setOffset16(inst, offset + length)
            case .jalr:
                // The immediate (12 bits) in the lower half, the link address's offset in the upper.
                inst.pointee.imm = Int32(
                    bitPattern: UInt32(UInt16(truncatingIfNeeded: inst.pointee.imm)) | UInt32(truncatingIfNeeded: offset + length) << 16)
            case .auipc:
                setOffset16(inst, offset)
            default:
                // A conditional branch's target from the block's start.
                if flags & DecodeCache.conditionalBranch != 0 {
                    inst.pointee.imm = Int32(truncatingIfNeeded: Int64(offset) &+ Int64(inst.pointee.imm))
                }
            }
            cursor += length
            if flags & DecodeCache.conditionalBranch != 0 {  // the block goes on
                branches[branchCount] = UInt8(count - 1)
                branchCount += 1
            } else if flags & DecodeCache.endsBlock != 0 {
                break
            }
            if cursor >> GuestMemory.pageShift != firstPage { break }
        }
        // The synthetic fall-through jump.
        insts[count] = Inst(op: .jal, rd: UInt8(HartState.Slot.zeroSink), rs1: 0, rs2: 0, imm: Int32(cursor - pc))
        positions[count] = position(offset: cursor - pc, length: 0)
        // Conditional branches: one back to the block's start goes round as a new entry (not in
        // blocks shortened to a budget or single-stepped, which must stop on time); one forward
        // to an instruction of the block (an `if` without `else`) jumps there inside it; others
        // leave it. Offsets grow along the block (jumps followed are forward), so the target's
        // index is found by walking on.
        for b in 0..<branchCount {
            let k = Int(branches[b])
            let passed = UInt8(count - k - 1)
            insts[k].rd = passed
            let target = Int64(insts[k].imm)
            if target == 0, limit == maxInstructions {
                // Back to the block's start (a loop of one block): a new entry of the block.
                insts[k].rd = passed | Inst.staysInBlock
                continue
            }
            guard target > Int64(offset(positions[k])) else { continue }
            var m = k + 1
            while m < count && Int64(offset(positions[m])) < target { m += 1 }
            if Int64(offset(positions[m])) == target {
                insts[k].rd = UInt8(m - k - 1) | Inst.staysInBlock
                insts[k].imm = Int32(m - k)
            }
        }
        let bytes = bytes(instructions: count)
        let raw = arena?.allocate(byteCount: bytes) ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        let block = raw.bindMemory(to: BlockHeader.self, capacity: 1)
        block.initialize(to: BlockHeader(pc: pc, endPC: cursor, count: UInt32(count), executions: 0, countdown: countdown))
        let body = (raw + MemoryLayout<BlockHeader>.stride).bindMemory(to: Inst.self, capacity: count + 1)
        body.initialize(from: insts, count: count + 1)
        UnsafeMutableRawPointer(body + count + 1).bindMemory(to: UInt16.self, capacity: count + 1)
            .initialize(from: positions, count: count + 1)
        memory.markCode(GuestAddress(pc), GuestAddress(max(cursor, pc + 1)))
        return .success(block)
    }

    /// The bytes of a block of `instructions` instructions: its header, they and the synthetic
    /// jump, and their positions.
    @inline(__always)
    static func bytes(instructions: Int) -> Int {
        MemoryLayout<BlockHeader>.stride + (MemoryLayout<Inst>.stride + MemoryLayout<UInt16>.stride) * (instructions + 1)
    }

    @inline(__always)
    static func bytes(_ block: Block) -> Int { bytes(instructions: Int(block.pointee.count)) }

    /// An entry of a block's position table (`Block.positions`): the offset from the block's
    /// start in bits 0-13 (a block lies in one page and its jump), the length (2 or 4 bytes; 0
    /// for the synthetic jump) over 2 in bits 14-15.
    @inline(__always)
    static func position(offset: UInt64, length: UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: offset) | UInt16(truncatingIfNeeded: length / 2) << 14
    }
    @inline(__always) static func offset(_ position: UInt16) -> UInt64 { UInt64(position & 0x3fff) }
    @inline(__always) static func length(_ position: UInt16) -> UInt64 { UInt64(position >> 14) &* 2 }

    /// Converts a decoded instruction to the loop's form, as far as it does not depend on the
    /// instruction's place (`decode` folds that in).
    @inline(__always)
    static func lower(_ inst: Instruction, format: Format) -> Inst {
        func slot(_ reg: UInt8, _ cls: RegisterClass, destination: Bool) -> UInt8 {
            switch cls {
            case .integer: destination && reg == 0 ? UInt8(HartState.Slot.zeroSink) : reg
            case .float: UInt8(HartState.Slot.f) + reg
            case .none: reg
            }
        }
        let imm: Int32
        switch format {
        case .fr4, .frm, .fr, .funaryRM, .fcmp, .fToInt, .fToIntRaw, .intToF, .intToFRaw, .amo, .lr:
            // No immediate: the rounding mode (or aq/rl) and rs3 instead.
            imm = Int32(inst.rm) | Int32(slot(inst.rs3, format.rs3Class, destination: false)) << 8
        default:
            imm = Int32(truncatingIfNeeded: inst.imm)
        }
        return Inst(
            op: inst.opcode,
            rd: slot(inst.rd, format.rdClass, destination: true),
            rs1: slot(inst.rs1, format.rs1Class, destination: false),
            rs2: slot(inst.rs2, format.rs2Class, destination: false),
            imm: imm)
    }
}

extension Inst {
    /// The rounding mode of a float operation, or the aq/rl bits of an atomic (`lower`).
    @inline(__always) var rm: UInt8 { UInt8(truncatingIfNeeded: imm) }
    /// The third source (a slot) of a fused multiply-add (`lower`).
    @inline(__always) var rs3: UInt8 { UInt8(truncatingIfNeeded: imm >> 8) }
}
