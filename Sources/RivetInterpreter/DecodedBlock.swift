import RivetISA
import RivetMachine

/// A pre-decoded instruction, 16 bytes, laid out for the dispatch loop.
///
/// Register fields are `HartState` slot indices, not register numbers: integer registers are
/// slots 0...31 with a destination `x0` mapped to the sink slot 32, FP registers are slots
/// 33...64. So the loop never tests for `x0` and never distinguishes register files.
struct Inst {
    var op: Opcode
    var rd: UInt8
    var rs1: UInt8
    var rs2: UInt8
    var imm: Int32
    var rs3: UInt8
    /// Rounding mode, or the aq/rl bits of atomics.
    var rm: UInt8
    var length: UInt8
    /// What the block decoder asks of the instruction (`DecodeCache`): bit 0 set for a
    /// conditional branch, bit 1 for one that ends a block otherwise. The loop does not read it.
    var decodeFlags: UInt8 = 0
    /// Byte offset of the instruction from the start of its block (in `DecodeCache`'s table, the
    /// instruction's encoding).
    var offset: UInt32

    /// `rs3` of a conditional branch: where it goes when taken (`rd` holds how many of the
    /// block's instructions it passes over).
    static let leavesBlock: UInt8 = 0
    /// ... to the instruction `imm` instructions further on in the block.
    static let forwardInBlock: UInt8 = 1
    /// ... to the block's first instruction (a loop of one block).
    static let toBlockStart: UInt8 = 2
}

/// The header of a decoded block, followed in memory by `count + 1` `Inst`s: the block's
/// instructions and a final synthetic `jal x0, 0` at the fall-through address, which is not
/// counted as an instruction. So every block ends in a control transfer and the dispatch loop
/// has no end-of-block test.
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
    /// through inside it; taken, it goes where its `rs3` says (`Inst.leavesBlock`,
    /// `forwardInBlock`, `toBlockStart`). Its `rd` holds how many of the block's instructions a
    /// taken branch passes over (they did not retire). A `jal` forward to the same page is
    /// followed: it becomes an `auipc` of its link address, and the block goes on at its target
    /// (so the block's bytes are in `[pc, endPC)`, not all of them its code). The block's memory
    /// is allocated here, from `arena` if given (then `arena` frees it) or else with `malloc`,
    /// and owned by the caller.
    static func decode(
        at pc: UInt64, memory: GuestMemory, limit: Int = maxInstructions, countdown: Int32 = .max,
        using decodeCache: DecodeCache, arena: BlockArena? = nil
    ) throws(FetchFailure) -> Block {
        // Decoded into a buffer on the stack, then copied once into the block's memory (an
        // array grown as the block went took start-up code's long blocks through three
        // reallocations each); conditional branches are noted as they come, for the fix-up.
        let decoded = withUnsafeTemporaryAllocation(of: Inst.self, capacity: maxInstructions + 1) { insts in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxInstructions) { branches in
                decode(at: pc, memory: memory, limit: min(limit, maxInstructions), countdown: countdown, cache: decodeCache,
                       arena: arena, into: insts.baseAddress!, branches: branches.baseAddress!)
            }
        }
        switch decoded {
        case .success(let block): return block
        case .failure(let fault): throw .fault(fault)
        }
    }

    private static func decode(
        at pc: UInt64, memory: GuestMemory, limit: Int, countdown: Int32, cache: DecodeCache, arena: BlockArena?,
        into insts: UnsafeMutablePointer<Inst>, branches: UnsafeMutablePointer<UInt8>
    ) -> Result<Block, GuestFault> {
        var count = 0
        var branchCount = 0
        var cursor = pc
        let firstPage = pc >> GuestMemory.pageShift
        let code = CodeReader(memory, block: pc)
        loop: while count < limit {
            // Instructions on the block's page through the decode cache; one across the
            // page's end, or on a page not read in place, fetched and decoded. The lowered
            // instruction is copied from the cache's table to the block whole, then its offset
            // set (built on the stack and copied, it cost a failed store forwarding each).
            let lowered: UnsafePointer<Inst>
            if let word = code.word(at: cursor) {
                lowered = cache.lowered(word)
            } else {
                switch code.instruction(at: cursor) {
                case .success(let decoded): lowered = cache.lowered(decoded)
                case .failure(let fault):
                    if count == 0 { return .failure(fault) }
                    break loop  // fault when execution reaches it
                }
            }
            let inst = insts + count
            inst.pointee = lowered.pointee
            inst.pointee.offset = UInt32(cursor - pc)
            let flags = inst.pointee.decodeFlags
            let length = UInt64(inst.pointee.length)
            count += 1
            if inst.pointee.op == .jal {
                let target = cursor &+ UInt64(bitPattern: Int64(inst.pointee.imm))
                let end = cursor + length
                if target >= end, target >> GuestMemory.pageShift == firstPage,
                    (end - 1) >> GuestMemory.pageShift == firstPage
                {
                    inst.pointee.op = .auipc
                    inst.pointee.imm = Int32(length)
                    cursor = target
                    continue
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
        insts[count] = Inst(
            op: .jal, rd: UInt8(HartState.Slot.zeroSink), rs1: 0, rs2: 0, imm: 0, rs3: 0, rm: 0, length: 0,
            offset: UInt32(cursor - pc))
        // Conditional branches: one back to the block's start goes round as a new entry (not in
        // blocks shortened to a budget or single-stepped, which must stop on time); one forward
        // to an instruction of the block (an `if` without `else`) jumps there inside it; others
        // leave it. Offsets grow along the block (jumps followed are forward), so the target's
        // index is found by walking on.
        for b in 0..<branchCount {
            let k = Int(branches[b])
            insts[k].rs3 = Inst.leavesBlock
            insts[k].rd = UInt8(count - k - 1)
            let target = Int64(insts[k].offset) + Int64(insts[k].imm)
            if target == 0, limit == maxInstructions {
                // Back to the block's start (a loop of one block): a new entry of the block.
                insts[k].rs3 = Inst.toBlockStart
                continue
            }
            guard insts[k].imm > 0 else { continue }
            var m = k + 1
            while m < count && Int64(insts[m].offset) < target { m += 1 }
            if Int64(insts[m].offset) == target {
                insts[k].rs3 = Inst.forwardInBlock
                insts[k].rd = UInt8(m - k - 1)
                insts[k].imm = Int32(m - k)
            }
        }
        let bytes = bytes(instructions: count)
        let raw = arena?.allocate(byteCount: bytes) ?? UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        let block = raw.bindMemory(to: BlockHeader.self, capacity: 1)
        block.initialize(to: BlockHeader(pc: pc, endPC: cursor, count: UInt32(count), executions: 0, countdown: countdown))
        let body = (raw + MemoryLayout<BlockHeader>.stride).bindMemory(to: Inst.self, capacity: count + 1)
        body.initialize(from: insts, count: count + 1)
        memory.markCode(GuestAddress(pc), GuestAddress(max(cursor, pc + 1)))
        return .success(block)
    }

    /// The bytes of a block of `instructions` instructions: its header, they and the synthetic
    /// jump.
    @inline(__always)
    static func bytes(instructions: Int) -> Int {
        MemoryLayout<BlockHeader>.stride + MemoryLayout<Inst>.stride * (instructions + 1)
    }

    @inline(__always)
    static func bytes(_ block: Block) -> Int { bytes(instructions: Int(block.pointee.count)) }

    /// Converts a decoded instruction to the loop's form.
    @inline(__always)
    static func lower(_ inst: Instruction, format: Format, offset: UInt32) -> Inst {
        func slot(_ reg: UInt8, _ cls: RegisterClass, destination: Bool) -> UInt8 {
            switch cls {
            case .integer: destination && reg == 0 ? UInt8(HartState.Slot.zeroSink) : reg
            case .float: UInt8(HartState.Slot.f) + reg
            case .none: reg
            }
        }
        return Inst(
            op: inst.opcode,
            rd: slot(inst.rd, format.rdClass, destination: true),
            rs1: slot(inst.rs1, format.rs1Class, destination: false),
            rs2: slot(inst.rs2, format.rs2Class, destination: false),
            imm: Int32(truncatingIfNeeded: inst.imm),
            rs3: slot(inst.rs3, format.rs3Class, destination: false),
            rm: inst.rm,
            length: inst.length,
            offset: offset)
    }
}
