import RivetISA
import RivetMachine
import Testing

@testable import RivetJIT

/// The baseline JIT's range check of a guest access's base register.
@Suite struct GuestAccessTranslationTests {
    static let base: UInt64 = 0x10000

    /// The host code compiled for instruction `k` of the block `words` at `base`.
    func hostCode(of k: Int, in words: [UInt32]) throws -> [UInt8] {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(Self.base), size: 0x1000, permissions: .readWrite)
        for (n, word) in words.enumerated() { try memory.store(word, at: Self.base + UInt64(4 * n)) }
        try memory.protect(at: GuestAddress(Self.base), size: 0x1000, permissions: .readExecute)
        var compiler = BlockCompiler()
        let request = try #require(GuestCode.request(at: Self.base, id: 1, memory: memory, requested: 0, priority: 1))
        let result = compiler.compile(request)
        let compiled = try #require(result)
        let starts = compiled.instructionStarts
        return Array(compiled.code[Int(starts[k])..<Int(starts[k + 1])])
    }

    /// `cmp rcx, [rbx + 8 × addressSpaceSize]`: the range check's comparison.
    static let check: [UInt8] = [0x48, 0x3b, 0x8b] + withUnsafeBytes(of: Int32(8 * HartState.Slot.addressSpaceSize).littleEndian, Array.init)

    /// Whether `code` contains `pattern`.
    func contains(_ code: [UInt8], _ pattern: [UInt8]) -> Bool {
        code.count >= pattern.count && (0...(code.count - pattern.count)).contains { Array(code[$0..<$0 + pattern.count]) == pattern }
    }

    /// A load from a register holding a constant address inside the space (`auipc`, `lui`: a
    /// global's address) needs no range check; from a constant outside it (below 2048, or
    /// past the space), or from a register the block did not set, the check stays.
    @Test(arguments: [
        (0x0000_0717 as UInt32, false),  // auipc a4, 0: the block's own address
        (0x0001_0737, false),  // lui a4, 0x10
        (0x7ff0_0713, true),  // li a4, 2047 (the range starts at 2048)
        (0x8000_0737, true),  // lui a4, 0x80000: 0xffffffff80000000
        (0x0005_0713, true),  // mv a4, a0
    ] as [(UInt32, Bool)])
    func aConstantBaseInsideTheSpaceIsNotChecked(_ setBase: UInt32, _ checked: Bool) throws {
        let load: UInt32 = 0x0087_3783  // ld a5, 8(a4)
        let ret: UInt32 = 0x0000_8067  // jalr x0, 0(ra)
        let code = try hostCode(of: 1, in: [setBase, load, ret])
        #expect(contains(code, Self.check) == checked)
    }
}
