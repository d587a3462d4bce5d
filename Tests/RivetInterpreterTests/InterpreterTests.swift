import RivetFuzz
import RivetISA
import RivetInterpreter
import RivetMachine
import Testing

/// A hand-assembled guest program in a fresh address space: code at 0x10000 (read-execute),
/// 64 KiB of data at 0x20000 (read-write), run by the interpreter alone.
final class GuestCode {
    static let code: UInt64 = 0x10000
    static let data: UInt64 = 0x20000

    let memory: GuestMemory
    let hart = HartState()
    let interpreter: Interpreter

    init(_ program: [UInt32]) throws {
        memory = try GuestMemory(limit: 1 << 26)
        try memory.mapAnonymous(at: GuestAddress(Self.code), size: 0x1000, permissions: .readWrite)
        for (k, word) in program.enumerated() { try memory.store(word, at: Self.code + UInt64(4 * k)) }
        try memory.protect(at: GuestAddress(Self.code), size: 0x1000, permissions: .readExecute)
        try memory.mapAnonymous(at: GuestAddress(Self.data), size: 0x10000, permissions: .readWrite)
        interpreter = Interpreter(memory: memory, hart: hart)
        hart.pc = Self.code
    }

    /// Runs from the current pc.
    func run(budget: UInt64 = 1_000_000) -> StopReason { interpreter.run(budget: budget) }

    /// The address of instruction `k`.
    static func pc(_ k: Int) -> UInt64 { code + UInt64(4 * k) }
}

/// One instruction, encoded from `EncodingTable` (and checked to decode back).
func asm(_ opcode: Opcode, rd: Int = 0, rs1: Int = 0, rs2: Int = 0, imm: Int64 = 0) -> UInt32 {
    RandomInstructionEncoding.encodeChecked(
        Instruction(opcode: opcode, rd: UInt8(rd), rs1: UInt8(rs1), rs2: UInt8(rs2), imm: imm))
}

/// `rd = value` (lui + addiw), for any 32-bit value.
func li(_ rd: Int, _ value: Int32) -> [UInt32] {
    let low = Int64((value << 20) >> 20)
    let high = Int32(truncatingIfNeeded: (Int64(value) - low) & 0xffff_f000)
    return [asm(.lui, rd: rd, imm: Int64(high)), asm(.addiw, rd: rd, rs1: rd, imm: low)]
}

// Register numbers.
let zero = 0, ra = 1, t0 = 5, t1 = 6, t2 = 7, a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14, a5 = 15

/// Tier 0 on its own: instruction sequences assembled by hand, and the registers, memory and stop
/// reason they must leave. The fixtures and the random differential tests run the interpreter
/// too, against qemu and the JIT; these pin its semantics and its stops down one by one.
@Suite struct InterpreterTests {
    @Test func integerArithmeticFollowsTheRISCVRules() throws {
        let program: [UInt32] =
            li(a0, -7) + li(a1, 3) + [
                asm(.add, rd: a2, rs1: a0, rs2: a1),  // -4
                asm(.sub, rd: a3, rs1: a1, rs2: a0),  // 10
                asm(.xor, rd: a4, rs1: a0, rs2: a1),
                asm(.srai, rd: a5, rs1: a0, imm: 1),  // -4: arithmetic
                asm(.srli, rd: t0, rs1: a0, imm: 60),  // 0xf: logical
                asm(.sltu, rd: t1, rs1: a1, rs2: a0),  // 1: -7 is huge unsigned
                asm(.slt, rd: t2, rs1: a1, rs2: a0),  // 0
                asm(.mul, rd: 16, rs1: a0, rs2: a1),  // -21
                asm(.div, rd: 17, rs1: a0, rs2: a1),  // -2: rounds toward zero
                asm(.rem, rd: 18, rs1: a0, rs2: a1),  // -1: the dividend's sign
                asm(.divu, rd: 19, rs1: a0, rs2: zero),  // all ones: no trap on division by zero
                asm(.rem, rd: 20, rs1: a0, rs2: zero),  // the dividend
                asm(.addw, rd: 21, rs1: a0, rs2: a0),  // -14, sign-extended from 32 bits
                asm(.addi, rd: zero, rs1: a1, imm: 5),  // x0 stays zero
                asm(.ecall),
            ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .ecall)
        let h = guest.hart
        #expect(h[x: a2] == UInt64(bitPattern: -4) && h[x: a3] == 10)
        #expect(h[x: a4] == UInt64(bitPattern: -7) ^ 3)
        #expect(h[x: a5] == UInt64(bitPattern: -4) && h[x: t0] == 0xf)
        #expect(h[x: t1] == 1 && h[x: t2] == 0)
        #expect(h[x: 16] == UInt64(bitPattern: -21) && h[x: 17] == UInt64(bitPattern: -2))
        #expect(h[x: 18] == UInt64(bitPattern: -1))
        #expect(h[x: 19] == .max && h[x: 20] == UInt64(bitPattern: -7))
        #expect(h[x: 21] == UInt64(bitPattern: -14))
        #expect(h[x: zero] == 0)
        // The pc names the ecall, which counts as retired.
        #expect(h.pc == GuestCode.pc(program.count - 1))
        #expect(h.instret == UInt64(program.count))
    }

    @Test func signedDivisionOverflowGivesTheDividend() throws {
        // INT64_MIN / -1: no trap; the quotient is the dividend and the remainder zero.
        let program: [UInt32] = [
            asm(.addi, rd: a0, rs1: zero, imm: 1),
            asm(.slli, rd: a0, rs1: a0, imm: 63),
            asm(.addi, rd: a1, rs1: zero, imm: -1),
            asm(.div, rd: a2, rs1: a0, rs2: a1),
            asm(.rem, rd: a3, rs1: a0, rs2: a1),
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a2] == 1 << 63 && guest.hart[x: a3] == 0)
    }

    @Test func aBranchLoopRunsToItsEnd() throws {
        // a0 = 10 + 9 + ... + 1, counting a1 down.
        let program: [UInt32] = [
            asm(.addi, rd: a0, rs1: zero, imm: 0),
            asm(.addi, rd: a1, rs1: zero, imm: 10),
            asm(.add, rd: a0, rs1: a0, rs2: a1),  // loop:
            asm(.addi, rd: a1, rs1: a1, imm: -1),
            asm(.bne, rs1: a1, rs2: zero, imm: -8),  // to loop
            asm(.jal, rd: ra, imm: 8),  // over the next instruction, linking
            asm(.addi, rd: a0, rs1: zero, imm: -1),  // skipped
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a0] == 55 && guest.hart[x: a1] == 0)
        #expect(guest.hart[x: ra] == GuestCode.pc(6))
        #expect(guest.hart.instret == 2 + 3 * 10 + 1 + 1)
    }

    @Test func aBranchTakenInsideABlockRetiresOnlyWhatRan() throws {
        // One decoded block from `loop` to the backward jump: the beq falls through inside it,
        // and the forward jal is followed (its link written, the skipped addi never run).
        let program: [UInt32] = [
            asm(.addi, rd: a1, rs1: zero, imm: 5),
            asm(.addi, rd: a0, rs1: zero, imm: 0),
            asm(.addi, rd: a1, rs1: a1, imm: -1),  // loop:
            asm(.beq, rs1: a1, rs2: zero, imm: 20),  // to done
            asm(.jal, rd: ra, imm: 8),  // to the second addi below, linking
            asm(.addi, rd: a0, rs1: zero, imm: -100),  // skipped
            asm(.addi, rd: a0, rs1: a0, imm: 1),
            asm(.jal, rd: zero, imm: -20),  // to loop
            asm(.csrrs, rd: a2, rs1: zero, imm: 0xc02),  // done: rdinstret
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a0] == 4 && guest.hart[x: a1] == 0 && guest.hart[x: ra] == GuestCode.pc(5))
        // Four passes of five instructions, the last pass's two, two before and two after.
        #expect(guest.hart[x: a2] == 2 + 4 * 5 + 2 && guest.hart.instret == 2 + 4 * 5 + 2 + 2)
        // The first pass ran in the block decoded at the program's start (which runs on into
        // the loop); the loop's own block ran three whole passes and the last one's two.
        let loop = guest.interpreter.retiredInstructionsByBlock().first { $0.pc == GuestCode.pc(2) }
        #expect(loop?.instructions == 3 * 5 + 2)
        #expect(guest.interpreter.blockInfo(at: GuestCode.pc(2))?.instructions == 5)
    }

    /// An unmap of every page that has blocks (what execve does to the old image) drops them
    /// all at once (`BlockCache.dropAll`: new indexes, a new arena): code mapped there again is
    /// decoded afresh, twice over, and what the old program's blocks counted is gone.
    @Test func unmappingAllTheCodeDropsEveryBlockAtOnce() throws {
        // 80 blocks, each ended by its ecall.
        func program(_ value: Int32, _ increment: Int64) -> [UInt32] {
            li(a0, value) + Array(repeating: [asm(.addi, rd: a0, rs1: a0, imm: increment), asm(.ecall)], count: 80).joined()
        }
        func runAll(_ guest: GuestCode) -> UInt64 {
            guest.hart.pc = GuestCode.code
            for _ in 0..<80 {
                guard guest.run() == .ecall else { return 0 }
                guest.hart.pc += 4
            }
            return guest.hart[x: a0]
        }
        let guest = try GuestCode(program(5, 1))
        #expect(runAll(guest) == 85)
        #expect(guest.interpreter.cachedBlocks == 80)
        for (value, increment) in [(Int32(100), Int64(7)), (-3, 2)] {
            try guest.memory.unmap(at: GuestAddress(0), size: GuestMemory.addressSpaceSize)
            #expect(guest.interpreter.cachedBlocks == 0)
            try guest.memory.mapAnonymous(at: GuestAddress(GuestCode.code), size: 0x1000, permissions: .readWrite)
            for (k, word) in program(value, increment).enumerated() {
                try guest.memory.store(word, at: GuestCode.code + UInt64(4 * k))
            }
            try guest.memory.protect(at: GuestAddress(GuestCode.code), size: 0x1000, permissions: .readExecute)
            #expect(runAll(guest) == UInt64(bitPattern: Int64(value) + 80 * increment))
            #expect(guest.interpreter.cachedBlocks == 80)
            #expect(guest.interpreter.blockInfo(at: GuestCode.code)?.executions == 1)
        }
        #expect(guest.interpreter.invalidatedBlocks == 2 * 80)
    }

    @Test func aBranchForwardInsideItsBlockStaysInTheBlock() throws {
        // a0 = 10 for each odd count of a1 = 6 ... 1: an `if` without `else` in a loop.
        let program: [UInt32] = [
            asm(.addi, rd: a0, rs1: zero, imm: 0),
            asm(.addi, rd: a1, rs1: zero, imm: 6),
            asm(.andi, rd: t0, rs1: a1, imm: 1),  // loop:
            asm(.beq, rs1: t0, rs2: zero, imm: 8),  // over the next instruction when even
            asm(.addi, rd: a0, rs1: a0, imm: 10),
            asm(.addi, rd: a1, rs1: a1, imm: -1),
            asm(.bne, rs1: a1, rs2: zero, imm: -16),  // to loop
            asm(.csrrs, rd: a2, rs1: zero, imm: 0xc02),  // rdinstret
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a0] == 30 && guest.hart[x: a1] == 0)
        // Three odd passes of five instructions, three even ones of four.
        #expect(guest.hart[x: a2] == 2 + 3 * 5 + 3 * 4 && guest.hart.instret == 2 + 3 * 5 + 3 * 4 + 2)
        // The first pass (6, even) ran in the block from the start; the loop's block ran the
        // other five and the two instructions after the loop. No block starts at the beq's
        // target: the taken beq stayed in its block.
        let loop = guest.interpreter.retiredInstructionsByBlock().first { $0.pc == GuestCode.pc(2) }
        #expect(loop?.instructions == 3 * 5 + 2 * 4 + 2)
        #expect(guest.interpreter.blockInfo(at: GuestCode.pc(5)) == nil)
    }

    @Test func aLoopOfOneBlockRunsToTheBudgetExactly() throws {
        // The loop's block branches back to its own start: the interpreter goes round inside
        // it, charging each pass as a new entry of the block.
        let program: [UInt32] = [
            asm(.addi, rd: a0, rs1: zero, imm: 0),
            asm(.addi, rd: a1, rs1: zero, imm: 500),
            asm(.addi, rd: a0, rs1: a0, imm: 1),  // loop:
            asm(.addi, rd: a1, rs1: a1, imm: -1),
            asm(.bne, rs1: a1, rs2: zero, imm: -8),  // to loop
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        // 301 = 2 + 99 passes of 3 + two instructions of the 100th.
        #expect(guest.run(budget: 301) == .budgetExhausted)
        #expect(guest.hart.instret == 301 && guest.hart.pc == GuestCode.pc(4))
        #expect(guest.hart[x: a0] == 100 && guest.hart[x: a1] == 400)
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a0] == 500 && guest.hart[x: a1] == 0 && guest.hart.instret == 2 + 3 * 500 + 1)
        // A tier-up countdown stops the loop at its block's start too.
        let hot = try GuestCode(program)
        hot.interpreter.tierUpThreshold = 10
        #expect(hot.run() == .tierUp)
        #expect(hot.hart.pc == GuestCode.pc(2) && hot.hart[x: a0] == 11 && hot.hart.instret == 2 + 3 * 11)
    }

    @Test func loadsAndStoresOfEveryWidth() throws {
        let program: [UInt32] =
            li(a0, Int32(GuestCode.data)) + li(a1, -2) + [
                asm(.sd, rs1: a0, rs2: a1, imm: 0),  // fe ff ff ff ff ff ff ff
                asm(.lw, rd: a2, rs1: a0, imm: 0),  // -2, sign-extended
                asm(.lwu, rd: a3, rs1: a0, imm: 0),  // 0xfffffffe
                asm(.lbu, rd: a4, rs1: a0, imm: 0),  // 0xfe
                asm(.lh, rd: a5, rs1: a0, imm: 0),  // -2
                asm(.addi, rd: t0, rs1: zero, imm: 0x7f),
                asm(.sb, rs1: a0, rs2: t0, imm: 9),
                asm(.sh, rs1: a0, rs2: t0, imm: 12),
                asm(.ld, rd: t1, rs1: a0, imm: 8),  // bytes 8...15: 00 7f 00 00 7f 00 00 00
                asm(.ecall),
            ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .ecall)
        let h = guest.hart
        #expect(h[x: a2] == UInt64(bitPattern: -2) && h[x: a3] == 0xffff_fffe)
        #expect(h[x: a4] == 0xfe && h[x: a5] == UInt64(bitPattern: -2))
        #expect(h[x: t1] == 0x0000_007f_0000_7f00)
        #expect(try guest.memory.load(UInt64.self, at: GuestCode.data) == UInt64(bitPattern: -2))
    }

    @Test func aBadAccessStopsAtItsInstructionWithTheEffectsBeforeIt() throws {
        // A load from an unmapped page, then (resumed past it) a store into the code.
        let program: [UInt32] = [
            asm(.addi, rd: a0, rs1: zero, imm: 1),
            asm(.ld, rd: a1, rs1: zero, imm: 64),  // address 64: unmapped
            asm(.addi, rd: a0, rs1: zero, imm: 2),
            asm(.auipc, rd: t0, imm: 0),
            asm(.sw, rs1: t0, rs2: a0, imm: 0),  // into read-execute code
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        #expect(guest.run() == .fault(GuestFault(address: GuestAddress(64), access: .read, mapped: false)))
        #expect(guest.hart.pc == GuestCode.pc(1) && guest.hart[x: a0] == 1 && guest.hart.instret == 1)
        guest.hart.pc = GuestCode.pc(2)
        #expect(guest.run() == .fault(GuestFault(address: GuestAddress(GuestCode.pc(3)), access: .write, mapped: true)))
        #expect(guest.hart.pc == GuestCode.pc(4) && guest.hart[x: a0] == 2)
    }

    /// A jump anywhere in the 64-bit space, the top page included, is an execute fault there,
    /// not a host trap (the decoder once computed the end of the page past the top: found by
    /// `rivet-fuzz`).
    @Test func wildJumpsFaultWhereTheyLand() throws {
        for target: Int64 in [-4096, -2, -4, 1 << 38, (1 << 38) - 2, (1 << 38) - 4096] {
            let high = Int32(truncatingIfNeeded: target >> 32)
            let program: [UInt32] =
                li(t0, high) + [
                    asm(.slli, rd: t0, rs1: t0, imm: 32),
                ] + li(t1, Int32(truncatingIfNeeded: target)) + [
                    asm(.slli, rd: t1, rs1: t1, imm: 32),
                    asm(.srli, rd: t1, rs1: t1, imm: 32),
                    asm(.or, rd: t0, rs1: t0, rs2: t1),
                    asm(.jalr, rd: zero, rs1: t0, imm: 0),
                ]
            let guest = try GuestCode(program)
            let address = UInt64(bitPattern: target)
            #expect(guest.run() == .fault(GuestFault(address: GuestAddress(address), access: .execute, mapped: false)))
            #expect(guest.hart.pc == address)
        }
    }

    @Test func illegalInstructionsAndEbreakStopAtTheirPC() throws {
        // The all-zero parcel is RISC-V's defined illegal instruction (a compressed one).
        let guest = try GuestCode([asm(.addi, rd: a0, rs1: zero, imm: 3), 0x0000_0000])
        #expect(guest.run() == .illegalInstruction(raw: 0, length: 2))
        #expect(guest.hart.pc == GuestCode.pc(1) && guest.hart[x: a0] == 3)
        let breakpoint = try GuestCode([asm(.addi, rd: a0, rs1: zero, imm: 4), asm(.ebreak)])
        #expect(breakpoint.run() == .breakpoint)
        #expect(breakpoint.hart.pc == GuestCode.pc(1))
    }

    @Test func aMisalignedAtomicStopsWithItsAddress() throws {
        let program: [UInt32] =
            li(a0, Int32(GuestCode.data + 2)) + [asm(.amoadd_w, rd: a1, rs1: a0, rs2: a0), asm(.ecall)]
        let guest = try GuestCode(program)
        #expect(guest.run() == .misalignedAtomic(address: GuestCode.data + 2))
        #expect(guest.hart.pc == GuestCode.pc(2))
    }

    @Test func theBudgetStopsTheHartExactly() throws {
        // An endless loop (`jal x0, 0`) after two additions.
        let loop = try GuestCode([
            asm(.addi, rd: a0, rs1: a0, imm: 1), asm(.addi, rd: a0, rs1: a0, imm: 1), asm(.jal, rd: zero, imm: 0),
        ])
        #expect(loop.run(budget: 1000) == .budgetExhausted)
        #expect(loop.hart.instret == 1000 && loop.hart.pc == GuestCode.pc(2) && loop.hart[x: a0] == 2)
        // A budget that ends inside a block leaves the pc at the next instruction; the run
        // goes on from there.
        let straight = try GuestCode(Array(repeating: asm(.addi, rd: a0, rs1: a0, imm: 1), count: 10) + [asm(.ecall)])
        #expect(straight.run(budget: 3) == .budgetExhausted)
        #expect(straight.hart[x: a0] == 3 && straight.hart.pc == GuestCode.pc(3))
        #expect(straight.run(budget: 100) == .ecall)
        #expect(straight.hart[x: a0] == 10 && straight.hart.instret == 11)
    }

    @Test func compressedInstructionsRun() throws {
        // c.li a0, 5; c.addi a0, 1; c.slli a0, 2; c.nop (so that the ecall is word-aligned).
        let parcels: [UInt32] = [0x4515, 0x0505, 0x050a, 0x0001]
        let guest = try GuestCode([parcels[0] | parcels[1] << 16, parcels[2] | parcels[3] << 16, asm(.ecall)])
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a0] == 24 && guest.hart.instret == 5)
        #expect(guest.hart.pc == GuestCode.pc(2))
    }

    @Test func aHotBlockAsksForTheNextTier() throws {
        let program: [UInt32] = [
            asm(.addi, rd: a1, rs1: zero, imm: 100),
            asm(.addi, rd: a1, rs1: a1, imm: -1),  // loop: a block of its own
            asm(.bne, rs1: a1, rs2: zero, imm: -4),
            asm(.ecall),
        ]
        let guest = try GuestCode(program)
        guest.interpreter.tierUpThreshold = 3
        #expect(guest.run() == .tierUp)
        // The first block (to the bne) ran once; the loop's block three times, and its fourth
        // entry stops the interpreter before it runs.
        #expect(guest.hart.pc == GuestCode.pc(1) && guest.hart[x: a1] == 96)
        #expect(guest.interpreter.blockInfo(at: GuestCode.pc(1))?.executions == 3)
    }

    @Test func anEvictedBlockGetsBackItsHotness() throws {
        // 500 indirect jumps to the next instruction (`auipc t0, 0; jalr zero, 8(t0)`), each the
        // end of a block, run three times: more decoded blocks than the cache's smallest bound
        // holds, so the last jump's block is evicted before each pass comes back to it, and
        // decoded again with the executions eviction kept.
        let jumps = 500
        let jump = [asm(.auipc, rd: t0, imm: 0), asm(.jalr, rd: zero, rs1: t0, imm: 8)]
        let program: [UInt32] =
            [asm(.addi, rd: a1, rs1: zero, imm: 3)] + (0..<jumps).flatMap { _ in jump } + [
                asm(.addi, rd: a1, rs1: a1, imm: -1),
                asm(.bne, rs1: a1, rs2: zero, imm: -4 * Int64(2 * jumps + 1)),
                asm(.ecall),
            ]
        let guest = try GuestCode(program)
        guest.interpreter.decodedBlockLimit = 0  // the smallest bound, 64 KiB
        #expect(guest.run() == .ecall)
        #expect(guest.hart[x: a1] == 0)
        #expect(guest.interpreter.evictedBlocks > 0)
        #expect(guest.interpreter.blockInfo(at: GuestCode.pc(2 * jumps - 1))?.executions == 3)
    }

    @Test func encodingsThatShareADecodeCacheSlotDecodeApart() throws {
        // 5,096 different encodings, more than the decode cache's 4,096 slots, so some share
        // one; each twice, so the second finds some in the cache. A slot answering for another
        // encoding than its own would add the wrong immediate or to the wrong register.
        let once = (-2048..<2048).map { asm(.addi, rd: a0, rs1: a0, imm: Int64($0)) }
            + (0..<1000).map { asm(.addi, rd: a1, rs1: a1, imm: Int64($0)) }
        let program = once + once + [asm(.ecall)]
        let memory = try GuestMemory(limit: 1 << 26)
        let size = UInt64(4 * program.count + 0xfff) & ~0xfff
        try memory.mapAnonymous(at: GuestAddress(GuestCode.code), size: size, permissions: .readWrite)
        for (k, word) in program.enumerated() { try memory.store(word, at: GuestCode.code + UInt64(4 * k)) }
        try memory.protect(at: GuestAddress(GuestCode.code), size: size, permissions: .readExecute)
        let hart = HartState()
        let interpreter = Interpreter(memory: memory, hart: hart)
        hart.pc = GuestCode.code
        #expect(interpreter.run(budget: 1_000_000) == .ecall)
        #expect(hart[x: a0] == UInt64(bitPattern: -4096))
        #expect(hart[x: a1] == 999_000)
        #expect(interpreter.decodeCacheHits > 0)
        #expect(interpreter.decodeCacheHits + interpreter.decodeCacheMisses == UInt64(program.count))
    }

    @Test func singleSteppingCallsTheTraceHookBeforeEachInstruction() throws {
        let guest = try GuestCode([
            asm(.addi, rd: a0, rs1: zero, imm: 1), asm(.addi, rd: a0, rs1: a0, imm: 1), asm(.ecall),
        ])
        var seen: [UInt64] = []
        guest.interpreter.singleStep = true
        guest.interpreter.traceHook = { seen.append($0.pc) }
        #expect(guest.run() == .ecall)
        #expect(seen == [GuestCode.pc(0), GuestCode.pc(1), GuestCode.pc(2)])
        #expect(guest.hart[x: a0] == 2)
    }

    @Test func aRememberedSuccessorGoesWithItsCode() throws {
        // Block A (page 0x10000) jumps to block B (page 0x11000) and B back, twice: A's and
        // the first block's headers remember B. B's code then changes (B alone is dropped: A's
        // page is another), and the second run must take the new B, not the one remembered.
        let memory = try GuestMemory(limit: 1 << 26)
        let first: UInt64 = 0x10000, second: UInt64 = 0x11000
        try memory.mapAnonymous(at: GuestAddress(first), size: 0x2000, permissions: .readWrite)
        let pageA: [UInt32] = [
            asm(.addi, rd: a0, rs1: zero, imm: 0),
            asm(.addi, rd: a1, rs1: zero, imm: 3),
            asm(.addi, rd: a1, rs1: a1, imm: -1),  // A:
            asm(.beq, rs1: a1, rs2: zero, imm: 12),  // to the ecall
            asm(.jal, rd: zero, imm: Int64(second) - Int64(first + 16)),  // to B
            asm(.addi, rd: zero, rs1: zero, imm: 0),
            asm(.ecall),
        ]
        let pageB: [UInt32] = [
            asm(.addi, rd: a0, rs1: a0, imm: 1),  // B:
            asm(.jal, rd: zero, imm: Int64(first + 8) - Int64(second + 4)),  // to A
        ]
        for (k, word) in pageA.enumerated() { try memory.store(word, at: first + UInt64(4 * k)) }
        for (k, word) in pageB.enumerated() { try memory.store(word, at: second + UInt64(4 * k)) }
        try memory.protect(at: GuestAddress(first), size: 0x2000, permissions: .readExecute)
        let hart = HartState()
        let interpreter = Interpreter(memory: memory, hart: hart)
        hart.pc = first
        #expect(interpreter.run(budget: 1_000_000) == .ecall)
        #expect(hart[x: a0] == 2)

        try memory.protect(at: GuestAddress(second), size: 0x1000, permissions: .readWrite)
        try memory.store(asm(.addi, rd: a0, rs1: a0, imm: 100), at: second)
        try memory.protect(at: GuestAddress(second), size: 0x1000, permissions: .readExecute)
        hart.pc = first
        #expect(interpreter.run(budget: 1_000_000) == .ecall)
        #expect(hart[x: a0] == 200)
        #expect(hart.pc == first + 24)
    }
}
