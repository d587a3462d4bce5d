import Testing

@testable import RivetISA

/// Which fences order earlier stores before later loads, from encodings GNU as 2.40 produced
/// (`riscv64-linux-gnu-as -march=rv64gc_zihintpause`, checked with objdump).
@Suite struct FenceOrderingTests {
    struct Case: Sendable, CustomStringConvertible {
        let word: UInt32
        let name: String
        let ordersStoresBeforeLoads: Bool
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(word: 0x0330_000f, name: "fence rw,rw", ordersStoresBeforeLoads: true),
        Case(word: 0x0ff0_000f, name: "fence", ordersStoresBeforeLoads: true),
        Case(word: 0x0120_000f, name: "fence w,r", ordersStoresBeforeLoads: true),
        Case(word: 0x05a0_000f, name: "fence ow,ir", ordersStoresBeforeLoads: true),
        Case(word: 0x8330_000f, name: "fence.tso", ordersStoresBeforeLoads: false),
        Case(word: 0x0100_000f, name: "pause", ordersStoresBeforeLoads: false),
        Case(word: 0x0230_000f, name: "fence r,rw", ordersStoresBeforeLoads: false),
        Case(word: 0x0310_000f, name: "fence rw,w", ordersStoresBeforeLoads: false),
        Case(word: 0x0110_000f, name: "fence w,w", ordersStoresBeforeLoads: false),
        Case(word: 0x0220_000f, name: "fence r,r", ordersStoresBeforeLoads: false),
        Case(word: 0x0480_000f, name: "fence o,i", ordersStoresBeforeLoads: false),
    ]

    @Test(arguments: cases)
    func onlyStoreToLoadFencesNeedAHostBarrier(_ c: Case) {
        let inst = Decoder.decode32(c.word)
        #expect(inst.opcode == .fence)
        #expect(FenceOrdering(bits: inst.imm).ordersStoresBeforeLoads == c.ordersStoresBeforeLoads)
    }

    @Test func fieldsComeFromBits31To20() {
        let fence = FenceOrdering(bits: Decoder.decode32(0x8330_000f).imm)
        #expect(fence == FenceOrdering(bits: 0x833))
        #expect(fence.mode == 8 && fence.isTotalStoreOrder)
        #expect(fence.predecessors == FenceOrdering.read | FenceOrdering.write)
        #expect(fence.successors == FenceOrdering.read | FenceOrdering.write)
        let io = FenceOrdering(bits: Decoder.decode32(0x05a0_000f).imm)
        #expect(io.predecessors == FenceOrdering.output | FenceOrdering.write)
        #expect(io.successors == FenceOrdering.input | FenceOrdering.read)
        #expect(!io.isTotalStoreOrder)
    }
}
