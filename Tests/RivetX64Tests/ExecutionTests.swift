import Glibc
import RivetX64
import Testing

/// A page of executable memory holding assembled code: mapped read-write, filled, then
/// switched to read-execute, as the JIT's code cache will do (with a second mapping instead).
private final class ExecutablePage {
    static let size = 4096
    let base: UnsafeMutableRawPointer
    var address: HostAddress { HostAddress(base) }

    init() throws {
        let pointer = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        try #require(pointer != MAP_FAILED)
        base = pointer!
    }

    deinit { munmap(base, Self.size) }

    /// Places `asm`'s code at `offset`.
    func place(_ asm: inout X64Assembler, at offset: Int = 0) throws {
        try asm.finish()
        try asm.copy(to: UnsafeMutableRawBufferPointer(start: base + offset, count: Self.size - offset),
                     address: address + offset)
    }

    func makeExecutable() throws { try #require(mprotect(base, Self.size, PROT_READ | PROT_EXEC) == 0) }
    func makeWritable() throws { try #require(mprotect(base, Self.size, PROT_READ | PROT_WRITE) == 0) }

    /// The code at `offset` as a C function.
    func function<F>(at offset: Int = 0, as type: F.Type) -> F {
        // Unsafe: the caller asserts the code at `offset` follows the SysV ABI for `F`.
        unsafeBitCast(base + offset, to: type)
    }
}

private typealias Binary = @convention(c) (Int64, Int64) -> Int64
private typealias Unary = @convention(c) (Int64) -> Int64
private typealias BinaryDouble = @convention(c) (Double, Double) -> Double
private typealias PointerOp = @convention(c) (UnsafeMutablePointer<Int64>, Int64) -> Int64

/// Assembles `body` (SysV: arguments in rdi, rsi, ...; xmm0, xmm1; result in rax or xmm0) and
/// returns it placed in a fresh executable page.
private func compile(_ body: (inout X64Assembler) -> Void) throws -> ExecutablePage {
    var asm = X64Assembler()
    body(&asm)
    let page = try ExecutablePage()
    try page.place(&asm)
    try page.makeExecutable()
    return page
}

@Suite struct ExecutionTests {
    @Test func sumOfTwoArguments() throws {
        let page = try compile { asm in
            asm.emit(.lea(.b64, .rax, .at(.rdi, index: .rsi)))
            asm.emit(.ret)
        }
        let sum = page.function(as: Binary.self)
        #expect(sum(2, 40) == 42)
        #expect(sum(-7, 3) == -4)
    }

    /// Code in two sections placed apart (a translation's hot code and its cold exit stubs):
    /// the jumps between them, both ways, reach once `placeApart` mends them.
    @Test func sectionsPlacedApartJumpToEachOther() throws {
        var asm = X64Assembler()
        let cold = asm.newLabel(), back = asm.newLabel()
        asm.emit(.test(.b64, .rdi, .rdi))
        asm.jcc(.ne, to: cold)
        asm.emit(.mov(.b64, .rax, imm: 1))
        asm.emit(.ret)
        asm.bind(back)
        asm.emit(.alu(.add, .b64, .rax, imm: 100))
        asm.emit(.ret)
        asm.startColdSection()
        asm.bind(cold)
        asm.emit(.mov(.b64, .rax, .rdi))
        asm.jmp(to: back)  // bound and near, but across: rel32
        try asm.finish()
        let coldStart = asm.coldStart, crossings = asm.crossings
        let split = try #require(coldStart)
        #expect(crossings.count == 2)
        let page = try ExecutablePage()
        let bytes = asm.buffer.bytes
        bytes.withUnsafeBytes { code in
            page.base.copyMemory(from: code.baseAddress!, byteCount: split)
            (page.base + 2048).copyMemory(from: code.baseAddress! + split, byteCount: code.count - split)
        }
        X64Assembler.placeApart(hot: page.base, cold: page.base + 2048, coldStart: split, crossings: crossings, delta: 2048 - split)
        try page.makeExecutable()
        let f = page.function(as: Unary.self)
        #expect(f(0) == 1)
        #expect(f(5) == 105)

        // A short jump cannot cross: the sections may land anywhere.
        var short = X64Assembler()
        let far = short.newLabel()
        short.jcc(.ne, to: far, short: true)
        short.emit(.ret)
        short.startColdSection()
        short.bind(far)
        short.emit(.ret)
        #expect(throws: X64Error.shortJumpOutOfRange(label: 0, referencedAt: 1, distance: 1)) { try short.finish() }
    }

    /// `cmp a, b; setcc c` and `cmp b, a; setcc c.swapped` agree for every condition that
    /// compares, on values around the signed and unsigned boundaries (tier 1 branches on
    /// `blt x0, rs` as `test rs, rs` and the swapped condition).
    @Test func swappedConditionsAgreeWhenTheOperandsSwap() throws {
        let comparing: [X64Condition] = [.e, .ne, .b, .ae, .be, .a, .l, .ge, .le, .g]
        let values: [Int64] = [0, 1, -1, 2, -2, .max, .min, .max - 1, .min + 1, 0x8000_0000, -0x8000_0000]
        for c in comparing {
            #expect(c.swapped.swapped == c)
            let page = try compile { asm in
                asm.emit(.alu(.cmp, .b64, .rdi, .rsi))
                asm.emit(.setcc(c, .rax))
                asm.emit(.alu(.cmp, .b64, .rsi, .rdi))
                asm.emit(.setcc(c.swapped, .rcx))
                // rax = 2 × (cmp a, b holds) + (cmp b, a holds, swapped): 0 or 3 when they agree.
                asm.emit(.alu(.and, .b32, .rax, imm: 1))
                asm.emit(.alu(.and, .b32, .rcx, imm: 1))
                asm.emit(.alu(.add, .b64, .rax, .rax))
                asm.emit(.alu(.add, .b64, .rax, .rcx))
                asm.emit(.ret)
            }
            let f = page.function(as: Binary.self)
            for a in values {
                for b in values {
                    let r = f(a, b)
                    #expect(r == 0 || r == 3, "\(c) on \(a), \(b)")
                }
            }
        }
    }

    @Test func loopWithLabels() throws {
        // rax = n + (n-1) + ... + 1
        let page = try compile { asm in
            let loop = asm.newLabel(), done = asm.newLabel()
            asm.emit(.alu(.xor, .b32, .rax, .rax))
            asm.emit(.test(.b64, .rdi, .rdi))
            asm.jcc(.le, to: done, short: true)
            asm.bind(loop)
            asm.emit(.alu(.add, .b64, .rax, .rdi))
            asm.emit(.unary(.dec, .b64, .rdi))
            asm.jcc(.ne, to: loop)
            asm.bind(done)
            asm.emit(.ret)
        }
        let triangle = page.function(as: Unary.self)
        #expect(triangle(0) == 0)
        #expect(triangle(10) == 55)
        #expect(triangle(100_000) == 5_000_050_000)
    }

    @Test func highMultiplyAndDivision() throws {
        let mulh = try compile { asm in
            asm.emit(.mov(.b64, .rax, .rdi))
            asm.emit(.unary(.imul, .b64, .rsi))
            asm.emit(.mov(.b64, .rax, .rdx))
            asm.emit(.ret)
        }
        let divide = try compile { asm in
            asm.emit(.mov(.b64, .rax, .rdi))
            asm.emit(.cqo)
            asm.emit(.unary(.idiv, .b64, .rsi))
            asm.emit(.ret)
        }
        let high = mulh.function(as: Binary.self), quotient = divide.function(as: Binary.self)
        for (a, b) in [(Int64.max, Int64.max), (Int64.min, 3), (-5, 7), (0x1234_5678_9ABC, -0x0FED_CBA9_8765)] {
            #expect(high(a, b) == a.multipliedFullWidth(by: b).high)
        }
        #expect(quotient(-100, 7) == -14)
        #expect(quotient(Int64.max, -2) == Int64.max / -2)
    }

    @Test func scalarDoubleArithmetic() throws {
        let page = try compile { asm in
            // sqrt(a * a + b * b), rounded toward zero to a whole number
            asm.emit(.sse(.mulsd, .xmm0, .xmm0))
            asm.emit(.sse(.mulsd, .xmm1, .xmm1))
            asm.emit(.sse(.addsd, .xmm0, .xmm1))
            asm.emit(.sse(.sqrtsd, .xmm8, .xmm0))
            asm.emit(.round(double: true, .xmm0, .xmm8, control: 0x0B))
            asm.emit(.ret)
        }
        let hypot = page.function(as: BinaryDouble.self)
        #expect(hypot(3, 4) == 5)
        #expect(hypot(2, 2) == 2)
    }

    @Test func conversionsAndMovesBetweenRegisterFiles() throws {
        // (Int64(Double(a) * 0.5)) ^ bitPattern(Double(b)) & 0 ... keep it simple:
        // returns Int64(Double(a) / Double(b)) truncated, via movq and cvt round trips.
        let page = try compile { asm in
            asm.emit(.cvtsi2f(.b64, double: true, .xmm0, .rdi))
            asm.emit(.movXMMToGPR(.b64, .r10, .xmm0))
            asm.emit(.movGPRToXMM(.b64, .xmm12, .r10))
            asm.emit(.cvtsi2f(.b64, double: true, .xmm1, .rsi))
            asm.emit(.sse(.divsd, .xmm12, .xmm1))
            asm.emit(.cvtf2si(.cvttsd2si, .b64, .rax, .xmm12))
            asm.emit(.ret)
        }
        let divide = page.function(as: Binary.self)
        #expect(divide(7, 2) == 3)
        #expect(divide(-7, 2) == -3)
    }

    @Test func atomicsOnMemory() throws {
        let fetchAdd = try compile { asm in
            asm.emit(.mov(.b64, .rax, .rsi))
            asm.emit(.xadd(.b64, .at(.rdi), .rax).locked)
            asm.emit(.ret)
        }
        // Stores rsi if the word is 0; returns the old word.
        let compareSwap = try compile { asm in
            asm.emit(.alu(.xor, .b32, .rax, .rax))
            asm.emit(.cmpxchg(.b64, .at(.rdi), .rsi).locked)
            asm.emit(.ret)
        }
        var word: Int64 = 40
        #expect(fetchAdd.function(as: PointerOp.self)(&word, 2) == 40)
        #expect(word == 42)
        #expect(compareSwap.function(as: PointerOp.self)(&word, 7) == 42)
        #expect(word == 42)
        word = 0
        #expect(compareSwap.function(as: PointerOp.self)(&word, 7) == 0)
        #expect(word == 7)
    }

    @Test func constantLoadedRelativeToRIP() throws {
        let page = try compile { asm in
            let constant = asm.newLabel()
            asm.emit(.mov(.b64, .rax, .rip()), ripRelativeTo: constant)
            asm.emit(.alu(.add, .b64, .rax, .rdi))
            asm.emit(.ret)
            asm.align(8)
            asm.bind(constant)
            asm.emitData(UInt64(0x1_0000_0000))
        }
        #expect(page.function(as: Unary.self)(5) == 0x1_0000_0005)
    }

    @Test func callThroughARelocationAndRetargetAPatchableJump() throws {
        let page = try ExecutablePage()
        // A helper at offset 0x800: rax = rdi * 3.
        var helper = X64Assembler()
        helper.emit(.lea(.b64, .rax, .at(.rdi, index: .rdi, scale: .x2)))
        helper.emit(.ret)
        try page.place(&helper, at: 0x800)
        // Main: call the helper by absolute address, then jump (patchably) to "add 1".
        var main = X64Assembler()
        let addOne = main.newLabel(), addTwo = main.newLabel()
        main.emit(.push(.rbx))  // keeps the stack 16-byte aligned across the call
        main.call(absolute: page.address + 0x800)
        main.emit(.pop(.rbx))
        let jump = main.patchableJump(to: addOne)
        main.bind(addOne)
        main.emit(.alu(.add, .b64, .rax, imm: 1))
        main.emit(.ret)
        main.bind(addTwo)
        main.emit(.alu(.add, .b64, .rax, imm: 2))
        main.emit(.ret)
        try page.place(&main)
        let boundOffset = main.offset(of: addTwo)
        let addTwoOffset = try #require(boundOffset)
        try page.makeExecutable()
        let function = page.function(as: Unary.self)
        #expect(function(10) == 31)
        try page.makeWritable()
        try jump.retarget(code: page.base, codeAddress: page.address, to: page.address + addTwoOffset)
        try page.makeExecutable()
        #expect(function(10) == 32)
    }

    @Test func byteRegistersAndFlags() throws {
        // rax = (a < b signed) ? 1 : 0, through sil/dil byte registers.
        let page = try compile { asm in
            asm.emit(.alu(.cmp, .b64, .rdi, .rsi))
            asm.emit(.setcc(.l, .rsi))
            asm.emit(.movzx(.b32, .rax, .rsi, from: .b8))
            asm.emit(.ret)
        }
        let less = page.function(as: Binary.self)
        #expect(less(-1, 0) == 1)
        #expect(less(5, 5) == 0)
        #expect(less(0x200, 0x100) == 0)
    }
}
