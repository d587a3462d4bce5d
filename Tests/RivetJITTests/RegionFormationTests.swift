import RivetIR
import RivetISA
import RivetMachine
import Testing

@testable import RivetJIT

/// Tier 2's region formation on a loop with an `if` without `else` (Collatz's step): the `then`
/// block falls into the join, which the condition's branch also targets. Every block of the loop
/// must be in the region, none overlapping another, whichever block heads it.
@Suite struct RegionFormationTests {
    static let base: UInt64 = 0x10000
    /// 0x00 slli a4,a5,1; andi a3,a5,1; add a4,a4,a5; srli a5,a5,1; beqz a3, join (0x18)
    /// 0x14 addi a5,a4,1
    /// 0x18 join: addi a0,a0,1; bne a5,a2, 0x00
    /// 0x20 ret
    static let words: [UInt32] = [
        0x0017_9713, 0x0017_f693, 0x00f7_0733, 0x0017_d793, 0x0006_8463, 0x0017_0793, 0x0015_0513, 0xfec7_92e3,
        0x0000_8067,
    ]

    static func memory() throws -> GuestMemory {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(base), size: 0x1000, permissions: .readWrite)
        for (k, word) in words.enumerated() { try memory.store(word, at: base + UInt64(4 * k)) }
        try memory.protect(at: GuestAddress(base), size: 0x1000, permissions: .readExecute)
        return memory
    }

    /// The loop headed at `offset`: its header's instruction count, and its other blocks as
    /// (offset, instruction count), sorted.
    static func loop(at offset: UInt64, isHot: (UInt64) -> Bool = { _ in true }) throws
        -> (header: Int, blocks: [[Int]])?
    {
        let memory = try memory()
        let first = GuestCode.decodeBlock(at: base + offset, memory: memory, limit: BlockCompiler.maxInstructions)
        guard let loop = RegionFormation.loop(header: base + offset, first: first, memory: memory, isHot: isHot)
        else { return nil }
        #expect(loop.header.bytes.count == 4 * loop.header.decoded.count)
        for b in loop.blocks {
            #expect(b.bytes.count == 4 * b.decoded.count)
            #expect(b.decoded.enumerated().allSatisfy { $0.element.offset == UInt32(4 * $0.offset) })
        }
        return (loop.header.decoded.count, loop.blocks.map { [Int($0.pc - base), $0.decoded.count] }.sorted { $0[0] < $1[0] })
    }

    @Test func aBlockThatRunsIntoOneTakenEndsThere() throws {
        // From the condition: the join (0x18) is taken first, then the `then` block ends at it.
        let loop = try #require(try Self.loop(at: 0x00))
        #expect(loop.header == 5)
        #expect(loop.blocks == [[0x14, 1], [0x18, 2]])
    }

    @Test func aBranchIntoTheHeadersMiddleSplitsIt() throws {
        // From the `then` block, whose block runs through the join to the `bne`: the condition's
        // branch to the join splits the header.
        let loop = try #require(try Self.loop(at: 0x14))
        #expect(loop.header == 1)
        #expect(loop.blocks == [[0x00, 5], [0x18, 2]])
    }

    @Test func aFallThroughIntoTheHeaderEndsThere() throws {
        // From the join: the condition's block, then the `then` block, which ends at the header.
        let loop = try #require(try Self.loop(at: 0x18))
        #expect(loop.header == 2)
        #expect(loop.blocks == [[0x00, 5], [0x14, 1]])
    }

    @Test func coldBlocksStayOut() throws {
        // Without the `then` block the loop is the condition's block and the join.
        let loop = try #require(try Self.loop(at: 0x00) { $0 != Self.base + 0x14 })
        #expect(loop.header == 5)
        #expect(loop.blocks == [[0x18, 2]])
    }

    // A loop calling a function more than a page away, whose branch has a return on each side.
    //   0x0000 addi a0,a0,1; jal ra, f (0x3000)
    //   0x0008 bne a0,a2, 0x0000
    //   0x000c ret
    //   0x3000 f: andi a1,a0,1; beqz a1, 0x300c
    //   0x3008 ret
    //   0x300c addi a0,a0,2; ret
    static let callLayout: [(UInt64, UInt32)] = [
        (0x0000, itype(1, rs1: 10, funct3: 0, rd: 10)), (0x0004, jal(rd: 1, 0x2ffc)), (0x0008, branch(1, 10, 12, -8)),
        (0x000c, ret), (0x3000, itype(1, rs1: 10, funct3: 7, rd: 11)), (0x3004, branch(0, 11, 0, 8)), (0x3008, ret),
        (0x300c, itype(2, rs1: 10, funct3: 0, rd: 10)), (0x3010, ret),
    ]
    static let ret: UInt32 = 0x0000_8067

    static func itype(_ imm: Int32, rs1: UInt32, funct3: UInt32, rd: UInt32) -> UInt32 {
        UInt32(bitPattern: imm) << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | 0x13
    }

    static func jal(rd: UInt32, _ offset: Int32) -> UInt32 {
        let o = UInt32(bitPattern: offset)
        return (o >> 20 & 1) << 31 | (o >> 1 & 0x3ff) << 21 | (o >> 11 & 1) << 20 | (o >> 12 & 0xff) << 12 | rd << 7 | 0x6f
    }

    static func branch(_ funct3: UInt32, _ rs1: UInt32, _ rs2: UInt32, _ offset: Int32) -> UInt32 {
        let o = UInt32(bitPattern: offset)
        return (o >> 12 & 1) << 31 | (o >> 5 & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | (o >> 1 & 0xf) << 8
            | (o >> 11 & 1) << 7 | 0x63
    }

    static func callLoop(isHot: (UInt64) -> Bool = { _ in true }) throws -> RegionFormation.Loop? {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(base), size: 0x4000, permissions: .readWrite)
        for (offset, word) in callLayout { try memory.store(word, at: base + offset) }
        try memory.protect(at: GuestAddress(base), size: 0x4000, permissions: .readExecute)
        let first = GuestCode.decodeBlock(at: base, memory: memory, limit: BlockCompiler.maxInstructions)
        return RegionFormation.loop(header: base, first: first, memory: memory, isHot: isHot)
    }

    @Test func aLoopTakesTheFunctionsItCalls() throws {
        let loop = try #require(try Self.callLoop())
        #expect(loop.header.decoded.count == 2)
        #expect(loop.blocks.map { [Int($0.pc - Self.base), $0.decoded.count] }.sorted { $0[0] < $1[0] }
            == [[0x8, 1], [0x3000, 2], [0x3008, 1], [0x300c, 2]])
        // Through the frontend and the passes: both returns go on at the continuation (the link
        // register is the constant the call set), so nothing leaves by an indirect jump.
        let blocks = [loop.header] + loop.blocks
        var region = try #require(
            RegionFrontend.translate(blocks.map { RegionFrontend.GuestBlock(pc: $0.pc, instructions: $0.decoded.map(\.instruction)) }))
        #expect(region.function.text.contains("exit_indirect"))
        try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
        #expect(!region.function.text.contains("exit_indirect"), "\(region.function.text)")
        #expect(region.isLoop)
    }

    @Test func aColdCalleeLeavesNoLoop() throws {
        // Without the callee the continuation is reached only from outside: no loop.
        #expect(try Self.callLoop { $0 != Self.base + 0x3000 } == nil)
    }
    // A dispatch loop: the header jumps through a1 (not a return) to one of its cases, each of
    // which jumps back to the header.
    //   0x00 addi a0,a0,1; jalr x0, 0(a1)
    //   0x10 addi a2,a2,1; jal x0, 0x00
    //   0x20 addi a2,a2,2; jal x0, 0x00
    //   0x30 addi a3,a3,1; jal x0, 0x00   (never a target)
    static let dispatchLayout: [(UInt64, UInt32)] = [
        (0x00, itype(1, rs1: 10, funct3: 0, rd: 10)), (0x04, 11 << 15 | 0x67),
        (0x10, itype(1, rs1: 12, funct3: 0, rd: 12)), (0x14, jal(rd: 0, -0x14)),
        (0x20, itype(2, rs1: 12, funct3: 0, rd: 12)), (0x24, jal(rd: 0, -0x24)),
        (0x30, itype(1, rs1: 13, funct3: 0, rd: 13)), (0x34, jal(rd: 0, -0x34)),
    ]

    static func dispatchLoop(
        indirectTargets: [UInt64], isHot: @escaping (UInt64) -> Bool = { _ in true }
    ) throws -> RegionFormation.Loop? {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(base), size: 0x1000, permissions: .readWrite)
        for (offset, word) in dispatchLayout { try memory.store(word, at: base + offset) }
        try memory.protect(at: GuestAddress(base), size: 0x1000, permissions: .readExecute)
        let first = GuestCode.decodeBlock(at: base, memory: memory, limit: BlockCompiler.maxInstructions)
        return RegionFormation.loop(
            header: base, first: first, memory: memory, indirectTargets: { indirectTargets }, isHot: isHot)
    }

    /// A dispatch's cases share the header's runs, each far fewer than a loop's body: the
    /// engine's choice of the jump's targets (`Engine.indirectTargetShare`) is their bar, not
    /// the one for other blocks.
    @Test func anIndirectJumpsTargetsNeedNotPassTheBarForOtherBlocks() throws {
        let loop = try #require(try Self.dispatchLoop(indirectTargets: [Self.base + 0x10, Self.base + 0x20]) { _ in false })
        #expect(loop.blocks.map { Int($0.pc - Self.base) }.sorted() == [0x10, 0x20])
    }

    /// The engine's search for indirect targets costs a scan of its translations near the
    /// header: formation asks for them only when it meets an indirect jump, and once.
    @Test func indirectTargetsAreAskedForOnlyAtAnIndirectJump() throws {
        var asked = 0
        let memory = try Self.memory()
        let first = GuestCode.decodeBlock(at: Self.base, memory: memory, limit: BlockCompiler.maxInstructions)
        let collatz = RegionFormation.loop(header: Self.base, first: first, memory: memory, indirectTargets: {
            asked += 1
            return []
        })
        #expect(collatz != nil)
        #expect(asked == 0)
        let dispatchMemory = try GuestMemory(limit: 1 << 30)
        try dispatchMemory.mapAnonymous(at: GuestAddress(Self.base), size: 0x1000, permissions: .readWrite)
        for (offset, word) in Self.dispatchLayout { try dispatchMemory.store(word, at: Self.base + offset) }
        try dispatchMemory.protect(at: GuestAddress(Self.base), size: 0x1000, permissions: .readExecute)
        let dispatchFirst = GuestCode.decodeBlock(at: Self.base, memory: dispatchMemory, limit: BlockCompiler.maxInstructions)
        let dispatch = RegionFormation.loop(header: Self.base, first: dispatchFirst, memory: dispatchMemory, indirectTargets: {
            asked += 1
            return [Self.base + 0x10, Self.base + 0x20]
        })
        #expect(dispatch?.indirectTargets == [Self.base + 0x10, Self.base + 0x20])
        #expect(asked == 1)
    }

    @Test func aDispatchLoopClosesThroughItsIndirectTargets() throws {
        // Without targets the walk stops at the indirect jump: no loop.
        #expect(try Self.dispatchLoop(indirectTargets: []) == nil)
        // With the profiled targets (hottest first; one that is no block of the loop drops out),
        // the cases are the loop's body and the frontend compares the jump's target with each.
        let loop = try #require(try Self.dispatchLoop(indirectTargets: [Self.base + 0x20, Self.base + 0x10, Self.base + 0x800]))
        #expect(loop.blocks.map { Int($0.pc - Self.base) }.sorted() == [0x10, 0x20])
        #expect(loop.indirectTargets == [Self.base + 0x20, Self.base + 0x10])
        let blocks = [loop.header] + loop.blocks
        var region = try #require(
            RegionFrontend.translate(
                blocks.map { RegionFrontend.GuestBlock(pc: $0.pc, instructions: $0.decoded.map(\.instruction)) },
                indirectTargets: loop.indirectTargets))
        try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
        let text = region.function.text
        #expect(region.isLoop)
        #expect(text.contains("iconst 65568") && text.contains("iconst 65552"), "\(text)")
        // Any other target leaves the region by the jump cache.
        #expect(text.contains("exit_indirect"), "\(text)")
    }

    // A loop that calls through a function pointer (a1), and the function it calls:
    //   0x00 addi a0,a0,1; jalr ra, 0(a1)
    //   0x08 addi a2,a2,1; jal x0, 0x00      (the call's continuation)
    //   0x20 addi a3,a3,1; ret
    static let indirectCallLayout: [(UInt64, UInt32)] = [
        (0x00, itype(1, rs1: 10, funct3: 0, rd: 10)), (0x04, 11 << 15 | 1 << 7 | 0x67),
        (0x08, itype(1, rs1: 12, funct3: 0, rd: 12)), (0x0c, jal(rd: 0, -0x0c)),
        (0x20, itype(1, rs1: 13, funct3: 0, rd: 13)), (0x24, 0x0000_8067),
    ]

    static func indirectCallLoop(indirectTargets: [UInt64]) throws -> RegionFormation.Loop? {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(base), size: 0x1000, permissions: .readWrite)
        for (offset, word) in indirectCallLayout { try memory.store(word, at: base + offset) }
        try memory.protect(at: GuestAddress(base), size: 0x1000, permissions: .readExecute)
        let first = GuestCode.decodeBlock(at: base, memory: memory, limit: BlockCompiler.maxInstructions)
        return RegionFormation.loop(header: base, first: first, memory: memory, indirectTargets: { indirectTargets })
    }

    @Test func aLoopTakesTheFunctionItCallsThroughAPointer() throws {
        // The profiled callee and the call's continuation are the loop's body.
        let loop = try #require(try Self.indirectCallLoop(indirectTargets: [Self.base + 0x20]))
        #expect(loop.blocks.map { [Int($0.pc - Self.base), $0.decoded.count] }.sorted { $0[0] < $1[0] } == [[0x08, 2], [0x20, 2]])
        #expect(loop.indirectTargets == [Self.base + 0x20])
        // Through the frontend and the passes: the callee's return goes on at the continuation
        // (the link register is the constant the call set); a call elsewhere leaves the region.
        let blocks = [loop.header] + loop.blocks
        var region = try #require(
            RegionFrontend.translate(
                blocks.map { RegionFrontend.GuestBlock(pc: $0.pc, instructions: $0.decoded.map(\.instruction)) },
                indirectTargets: loop.indirectTargets))
        try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
        #expect(region.isLoop)
        let text = region.function.text
        #expect(text.components(separatedBy: "exit_indirect").count == 2, "\(text)")  // the call's, not the return's
    }

    @Test func anIndirectCallWithoutACalleeEndsTheWalk() throws {
        // The jump cache's targets near the header include places returns went to (here the
        // call's own continuation): no function entry, so no callee, and the continuation is
        // reached only by leaving the region.
        #expect(try Self.indirectCallLoop(indirectTargets: [Self.base + 0x08]) == nil)
        #expect(try Self.indirectCallLoop(indirectTargets: []) == nil)
    }

    // A loop that calls through a pointer a function far from it, which ends in a tail call
    // to another far one:
    //   0x0000 addi a0,a0,1; jalr ra, 0(a1)
    //   0x0008 addi a2,a2,1; jal x0, 0x0000
    //   0x2000 addi a3,a3,1; jal x0, 0x3004   (a tail call, farther than a page)
    //   0x3004 addi a4,a4,1; ret
    static let farCallLayout: [(UInt64, UInt32)] = [
        (0x0000, itype(1, rs1: 10, funct3: 0, rd: 10)), (0x0004, 11 << 15 | 1 << 7 | 0x67),
        (0x0008, itype(1, rs1: 12, funct3: 0, rd: 12)), (0x000c, jal(rd: 0, -0x0c)),
        (0x2000, itype(1, rs1: 13, funct3: 0, rd: 13)), (0x2004, jal(rd: 0, 0x1000)),
        (0x3004, itype(1, rs1: 14, funct3: 0, rd: 14)), (0x3008, 0x0000_8067),
    ]

    @Test func aCallSitesOwnTargetJoinsTheLoopWithItsTailCall() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(Self.base), size: 0x4000, permissions: .readWrite)
        for (offset, word) in Self.farCallLayout { try memory.store(word, at: Self.base + offset) }
        try memory.protect(at: GuestAddress(Self.base), size: 0x4000, permissions: .readExecute)
        let first = GuestCode.decodeBlock(at: Self.base, memory: memory, limit: BlockCompiler.maxInstructions)
        func loop(siteTargets: [UInt64]) -> RegionFormation.Loop? {
            RegionFormation.loop(
                header: Self.base, first: first, memory: memory, siteTargets: { $0 == Self.base ? siteTargets : [] })
        }
        // The engine's search near the header finds nothing; the call site's own target does.
        #expect(loop(siteTargets: []) == nil)
        let found = try #require(loop(siteTargets: [Self.base + 0x2000]))
        #expect(found.blocks.map { [Int($0.pc - Self.base), $0.decoded.count] }.sorted { $0[0] < $1[0] }
            == [[0x0008, 2], [0x2000, 2], [0x3004, 2]])
        #expect(found.indirectTargets == [Self.base + 0x2000])
    }
}
