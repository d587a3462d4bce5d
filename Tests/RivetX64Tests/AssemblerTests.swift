import RivetX64
import Testing

/// Finishes `asm` and returns its bytes in hex.
private func finishedHex(_ asm: inout X64Assembler) throws -> String {
    try asm.finish()
    return hex(asm.buffer.bytes)
}

@Suite struct AssemblerTests {
    @Test func backwardJumpWithinReachIsShort() throws {
        var asm = X64Assembler()
        let top = asm.newLabel()
        asm.bind(top)
        asm.emit(.unary(.dec, .b64, .rdi))
        asm.jcc(.ne, to: top)
        asm.jmp(to: top)
        // dec rdi (3 bytes); jne -5; jmp -7
        #expect(try finishedHex(&asm) == "48 ff cf 75 fb eb f9")
    }

    @Test func backwardJumpOutOfReachIsNear() throws {
        var asm = X64Assembler()
        let top = asm.newLabel()
        asm.bind(top)
        asm.nop(length: 200)
        let jcc = asm.jcc(.e, to: top)
        let jmp = asm.jmp(to: top)
        try asm.finish()
        #expect(jcc.end - jcc.start == 6 && jmp.end - jmp.start == 5)
        #expect(asm.buffer.readInt32(at: jcc.immediateOffset) == -206)
        #expect(asm.buffer.readInt32(at: jmp.immediateOffset) == -211)
    }

    @Test func forwardJumpsAreNearUnlessShortIsAsked() throws {
        var asm = X64Assembler()
        let done = asm.newLabel()
        asm.jcc(.e, to: done)
        asm.jmp(to: done, short: true)
        asm.call(to: done)
        asm.bind(done)
        asm.emit(.ret)
        // je +7 (rel32), jmp +5 (rel8), call +0
        #expect(try finishedHex(&asm) == "0f 84 07 00 00 00 eb 05 e8 00 00 00 00 c3")
    }

    @Test func shortJumpOutOfReachThrows() {
        var asm = X64Assembler()
        let far = asm.newLabel()
        asm.jmp(to: far, short: true)
        asm.nop(length: 128)
        asm.bind(far)
        #expect(throws: X64Error.shortJumpOutOfRange(label: 0, referencedAt: 1, distance: 128)) { try asm.finish() }
    }

    @Test func unboundLabelThrows() {
        var asm = X64Assembler()
        let nowhere = asm.newLabel()
        asm.jmp(to: nowhere)
        #expect(throws: X64Error.unboundLabel(label: 0, referencedAt: 1)) { try asm.finish() }
    }

    @Test func ripRelativeReferenceToALabel() throws {
        var asm = X64Assembler()
        let constant = asm.newLabel()
        asm.emit(.mov(.b64, .rax, .rip()), ripRelativeTo: constant)
        asm.emit(.ret)
        asm.bind(constant)
        asm.emitData(UInt64(0x1122_3344_5566_7788))
        #expect(try finishedHex(&asm) == "48 8b 05 01 00 00 00 c3 88 77 66 55 44 33 22 11")
    }

    @Test func emittedOffsetsLocateDisplacementAndImmediate() {
        var asm = X64Assembler()
        asm.emit(.nop)
        let store = asm.emit(.mov(.b32, .rip(0x10), imm: 7))  // c7 05 disp32 imm32
        #expect(store == X64Emitted(start: 1, end: 11, displacementOffset: 3, immediateOffset: 7))
        let load = asm.emit(.movabs(.rax, 1))
        #expect(load == X64Emitted(start: 11, end: 21, displacementOffset: -1, immediateOffset: 13))
    }

    @Test func alignmentPadsWithTheFewestNops() throws {
        var asm = X64Assembler()
        asm.emit(.ret)
        asm.align(16)
        #expect(asm.count == 16)
        asm.align(16)
        #expect(asm.count == 16)
        asm.nop(length: 23)
        #expect(asm.count == 39)
        // 15 bytes of padding: one 9-byte and one 6-byte nop.
        #expect(try finishedHex(&asm).hasPrefix("c3 66 0f 1f 84 00 00 00 00 00 66 0f 1f 44 00 00"))
        #expect(asm.requiredAlignment == 16)
    }

    @Test func nopsOfEveryLengthHaveThatLength() {
        for length in 1...9 {
            #expect(X64Instruction.nop(length: length).length == length)
        }
    }

    @Test func patchableJumpHasAnAlignedDisplacement() throws {
        for prefix in 0..<4 {
            var asm = X64Assembler()
            let target = asm.newLabel()
            asm.nop(length: prefix)
            let jump = asm.patchableJump(to: target)
            let branch = asm.patchableJump(.ne, to: target)
            asm.bind(target)
            try asm.finish()
            #expect(jump.displacementOffset % 4 == 0 && branch.displacementOffset % 4 == 0)
            #expect(asm.buffer[jump.displacementOffset - 1] == 0xE9)
            #expect(asm.buffer[branch.displacementOffset - 2] == 0x0F)
            #expect(asm.buffer.readInt32(at: branch.displacementOffset) == 0)
        }
    }

    @Test func copyResolvesAbsoluteReferencesForTheDestination() throws {
        var asm = X64Assembler()
        asm.call(absolute: HostAddress(0x1000_0000))
        asm.emit(.sse(.addsd, .xmm0, .rip()), ripRelativeTo: HostAddress(0x0FFF_FF00))
        let jump = asm.patchableJump(absolute: HostAddress(0x2000_0000))
        try asm.finish()
        var destination = [UInt8](repeating: 0, count: asm.count)
        try destination.withUnsafeMutableBytes { try asm.copy(to: $0, address: HostAddress(0x1000_0000)) }
        // call: target - (address + 5) = -5; addsd: 0x0FFFFF00 - (0x10000000 + 13) = -0x10d.
        #expect(hex(Array(destination[0..<13])) == "e8 fb ff ff ff f2 0f 58 05 f3 fe ff ff")
        let rel = Int32(destination[jump.displacementOffset]) | Int32(destination[jump.displacementOffset + 1]) << 8
            | Int32(destination[jump.displacementOffset + 2]) << 16 | Int32(destination[jump.displacementOffset + 3]) << 24
        #expect(Int(rel) == 0x1000_0000 - jump.end)
    }

    @Test func copyChecksRangeSizeAndAlignment() throws {
        var asm = X64Assembler()
        asm.call(absolute: HostAddress(0x7000_0000_0000))
        asm.align(16)
        try asm.finish()
        var small = [UInt8](repeating: 0, count: 4)
        #expect(throws: X64Error.destinationTooSmall(needed: 16, available: 4)) {
            try small.withUnsafeMutableBytes { try asm.copy(to: $0, address: HostAddress(0x1000)) }
        }
        var destination = [UInt8](repeating: 0, count: 16)
        #expect(throws: X64Error.misalignedDestination(address: HostAddress(0x1008), alignment: 16)) {
            try destination.withUnsafeMutableBytes { try asm.copy(to: $0, address: HostAddress(0x1008)) }
        }
        #expect(throws: X64Error.relocationOutOfRange(
            offset: 1, target: HostAddress(0x7000_0000_0000), codeAddress: HostAddress(0x1000))) {
            try destination.withUnsafeMutableBytes { try asm.copy(to: $0, address: HostAddress(0x1000)) }
        }
    }

    @Test func resetKeepsNothingButStorage() throws {
        var asm = X64Assembler(capacity: 16)
        for _ in 0..<100 { asm.emit(.movabs(.r15, -1)) }  // grows past the initial capacity
        #expect(asm.count == 1000)
        let label = asm.newLabel()
        asm.jmp(to: label)
        asm.reset()
        #expect(asm.count == 0)
        try asm.finish()  // the dangling reference went with the reset
        asm.emit(.ret)
        #expect(asm.buffer.bytes == [0xC3])
    }

    @Test func loadConstantPicksTheShortestForm() {
        #expect(X64Instruction.loadConstant(.rax, 0).description == "mov eax,0x0")
        #expect(X64Instruction.loadConstant(.r9, 0xFFFF_FFFF).description == "mov r9d,0xffffffff")
        #expect(X64Instruction.loadConstant(.rax, UInt64(bitPattern: -2)).description == "mov rax,0xfffffffffffffffe")
        #expect(X64Instruction.loadConstant(.rax, 0x1_0000_0000).description == "movabs rax,0x100000000")
    }

    @Test func conditionNegation() {
        for condition in X64Condition.allCases {
            #expect(condition.negated.negated == condition && condition.negated != condition)
        }
        #expect(X64Condition.e.negated == .ne && X64Condition.l.negated == .ge)
    }

    @Test func invalidOperandsTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = X64Instruction.mov(.b8, .rax, imm: 0x100).bytes
        }
        await #expect(processExitsWith: .failure) {
            _ = X64Instruction(.lea, size: .b64, reg: 0, rm: .register(1)).bytes
        }
        await #expect(processExitsWith: .failure) {
            _ = X64Instruction(.movsxd, size: .b32, reg: 0, rm: .register(1)).bytes
        }
    }
}
