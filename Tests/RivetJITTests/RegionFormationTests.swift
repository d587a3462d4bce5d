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
}
