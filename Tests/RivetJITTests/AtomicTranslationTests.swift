import RivetISA
import RivetMachine
import Testing

@testable import RivetJIT

/// The baseline JIT's `fence` and its A-extension helper.
@Suite struct AtomicTranslationTests {
    static let base: UInt64 = 0x10000

    /// The host code compiled for the first instruction of the block `words` at `base`.
    func hostCodeOfFirstInstruction(_ words: [UInt32]) throws -> [UInt8] {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(Self.base), size: 0x1000, permissions: .readWrite)
        for (k, word) in words.enumerated() { try memory.store(word, at: Self.base + UInt64(4 * k)) }
        try memory.protect(at: GuestAddress(Self.base), size: 0x1000, permissions: .readExecute)
        var compiler = BlockCompiler()
        let request = try #require(GuestCode.request(at: Self.base, id: 1, memory: memory, requested: 0, priority: 1))
        let result = compiler.compile(request)
        let compiled = try #require(result)
        let starts = compiled.instructionStarts
        return Array(compiled.code[Int(starts[0])..<Int(starts[1])])
    }

    /// `fence rw,rw` (and `fence`, `fence w,r`) is exactly one `mfence`; a fence that leaves
    /// stores before loads unordered (`fence.tso`, `fence rw,w`, `fence r,rw`, `pause`) is no
    /// host code at all.
    @Test(arguments: [
        (0x0330_000f, true), (0x0ff0_000f, true), (0x0120_000f, true), (0x8330_000f, false),
        (0x0310_000f, false), (0x0230_000f, false), (0x0100_000f, false),
    ] as [(UInt32, Bool)])
    func onlyStoreToLoadFencesBecomeMfence(_ fence: UInt32, _ barrier: Bool) throws {
        let addi: UInt32 = 0x0015_0513  // addi a0, a0, 1
        let ret: UInt32 = 0x0000_8067  // jalr x0, 0(ra)
        let code = try hostCodeOfFirstInstruction([fence, addi, ret])
        #expect(code == (barrier ? [0x0f, 0xae, 0xf0] : []))
    }

    /// The helper runs the shared implementation on the hart's slots: rd gets the old value
    /// (x0 stays zero), LR/SC use the reservation, and a misaligned address changes nothing.
    @Test func theHelperUsesTheSharedImplementation() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(Self.base), size: 0x1000, permissions: .readWrite)
        let hart = HartState()
        let context = HelperContext(memory: memory)
        let s = hart.slots
        s[HartState.Slot.helperContext] = UInt64(UInt(bitPattern: Unmanaged.passUnretained(context).toOpaque()))
        defer { withExtendedLifetime(context) {} }
        func run(_ opcode: Opcode, rd: UInt8, rs2: UInt8 = 12) -> Bool {
            JITAtomic.execute(s, BlockTranslator.pack(Instruction(opcode: opcode, rd: rd, rs1: 11, rs2: rs2)))
        }
        try memory.store(UInt64(0xffff_ffff_8000_0000), at: Self.base)
        s[11] = Self.base
        s[12] = 0x8000_0001
        #expect(run(.amoadd_w, rd: 10))
        #expect(s[10] == 0xffff_ffff_8000_0000)
        #expect(try memory.load(UInt64.self, at: Self.base) == 0xffff_ffff_0000_0001)
        #expect(run(.amoswap_d, rd: 0))
        #expect(s[0] == 0)
        #expect(try memory.load(UInt64.self, at: Self.base) == 0x8000_0001)

        #expect(run(.lr_d, rd: 10, rs2: 0))
        #expect(s[10] == 0x8000_0001)
        #expect(s[HartState.Slot.reservationValue] == 0x8000_0001)
        try memory.store(UInt64(5), at: Self.base)  // another hart's store
        #expect(run(.sc_d, rd: 10))
        #expect(s[10] == 1)
        #expect(run(.lr_w, rd: 10, rs2: 0))
        #expect(run(.sc_w, rd: 10))
        #expect(s[10] == 0)
        #expect(try memory.load(UInt64.self, at: Self.base) == 0x8000_0001)

        s[11] = Self.base + 4
        s[10] = 77
        #expect(!run(.amoadd_d, rd: 10))
        #expect(s[10] == 77)
        #expect(try memory.load(UInt64.self, at: Self.base) == 0x8000_0001)
    }
}
