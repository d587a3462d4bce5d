/// Builders for moves, exchanges, conditions, control transfer and the odd ones out.
extension X64Instruction {
    /// `mov dst,src` on registers.
    @inlinable
    public static func mov(_ size: X64OperandSize, _ dst: HostRegister, _ src: HostRegister) -> X64Instruction {
        X64Instruction(.movRmReg, size: size, reg: src.rawValue, rm: .register(dst.rawValue))
    }

    /// `mov dst,[mem]` (a load).
    @inlinable
    public static func mov(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory) -> X64Instruction {
        X64Instruction(.movRegRm, size: size, reg: dst.rawValue, rm: .memory(src))
    }

    /// `mov [mem],src` (a store).
    @inlinable
    public static func mov(_ size: X64OperandSize, _ dst: X64Memory, _ src: HostRegister) -> X64Instruction {
        X64Instruction(.movRmReg, size: size, reg: src.rawValue, rm: .memory(dst))
    }

    /// `mov dst,imm`: 8 bits `mov r/m8,imm8`; 16 and 32 bits `mov reg,imm` (32-bit writes
    /// zero-extend to 64); 64 bits `mov r/m64,imm32` sign-extended when it fits, else `movabs`.
    @inlinable
    public static func mov(_ size: X64OperandSize, _ dst: HostRegister, imm: Int64) -> X64Instruction {
        switch size {
        case .b8: X64Instruction(.movRmImm, size: size, rm: .register(dst.rawValue), immediate: imm)
        case .b16, .b32: X64Instruction(.movRegImm, size: size, reg: dst.rawValue, immediate: imm)
        case .b64:
            Int64(Int32(truncatingIfNeeded: imm)) == imm
                ? X64Instruction(.movRmImm, size: size, rm: .register(dst.rawValue), immediate: imm)
                : movabs(dst, imm)
        }
    }

    /// The shortest move of the 64-bit constant `value` into `dst`, flags untouched: `mov r32,imm32`
    /// (5-6 bytes, zero-extends) when it fits 32 unsigned bits, `mov r64,imm32` (7 bytes,
    /// sign-extends) when it fits 32 signed bits, else `movabs` (10 bytes).
    @inlinable
    public static func loadConstant(_ dst: HostRegister, _ value: UInt64) -> X64Instruction {
        if value <= UInt64(UInt32.max) {
            return X64Instruction(.movRegImm, size: .b32, reg: dst.rawValue, immediate: Int64(value))
        }
        return mov(.b64, dst, imm: Int64(bitPattern: value))
    }

    /// `mov [mem],imm` (sign-extended from 32 bits for 64-bit stores).
    @inlinable
    public static func mov(_ size: X64OperandSize, _ dst: X64Memory, imm: Int32) -> X64Instruction {
        X64Instruction(.movRmImm, size: size, rm: .memory(dst), immediate: Int64(imm))
    }

    /// `movabs reg,imm64`: a full 64-bit constant (10 bytes; its immediate can be patched).
    @inlinable
    public static func movabs(_ dst: HostRegister, _ imm: Int64) -> X64Instruction {
        X64Instruction(.movabs, size: .b64, reg: dst.rawValue, immediate: imm)
    }

    /// `movzx dst,src`: zero-extends an 8- or 16-bit register (`from`) to `size`.
    @inlinable
    public static func movzx(_ size: X64OperandSize, _ dst: HostRegister, _ src: HostRegister,
                              from: X64OperandSize) -> X64Instruction
    { X64Instruction(extendForm(from, signed: false), size: size, reg: dst.rawValue, rm: .register(src.rawValue)) }

    /// `movzx dst,[mem]`: a zero-extending 8- or 16-bit load.
    @inlinable
    public static func movzx(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory,
                              from: X64OperandSize) -> X64Instruction
    { X64Instruction(extendForm(from, signed: false), size: size, reg: dst.rawValue, rm: .memory(src)) }

    /// `movsx`/`movsxd dst,src`: sign-extends an 8-, 16- or 32-bit register (`from`) to `size`.
    @inlinable
    public static func movsx(_ size: X64OperandSize, _ dst: HostRegister, _ src: HostRegister,
                              from: X64OperandSize) -> X64Instruction
    { X64Instruction(extendForm(from, signed: true), size: size, reg: dst.rawValue, rm: .register(src.rawValue)) }

    /// `movsx`/`movsxd dst,[mem]`: a sign-extending load.
    @inlinable
    public static func movsx(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory,
                              from: X64OperandSize) -> X64Instruction
    { X64Instruction(extendForm(from, signed: true), size: size, reg: dst.rawValue, rm: .memory(src)) }

    @inlinable
    static func extendForm(_ from: X64OperandSize, signed: Bool) -> X64Form {
        switch from {
        case .b8: signed ? .movsxRegRm8 : .movzxRegRm8
        case .b16: signed ? .movsxRegRm16 : .movzxRegRm16
        case .b32:
            // A 32-bit mov zero-extends by itself: there is no movzx from 32 bits.
            if signed { .movsxd } else { preconditionFailure("use a 32-bit mov to zero-extend from 32 bits") }
        case .b64: preconditionFailure("nothing to extend from 64 bits")
        }
    }

    /// `lea dst,[mem]`.
    @inlinable
    public static func lea(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory) -> X64Instruction {
        X64Instruction(.lea, size: size, reg: dst.rawValue, rm: .memory(src))
    }

    /// `xchg a,b` on registers.
    @inlinable
    public static func xchg(_ size: X64OperandSize, _ a: HostRegister, _ b: HostRegister) -> X64Instruction {
        X64Instruction(.xchgRmReg, size: size, reg: b.rawValue, rm: .register(a.rawValue))
    }

    /// `xchg [mem],reg`: atomic even without `lock`.
    @inlinable
    public static func xchg(_ size: X64OperandSize, _ a: X64Memory, _ b: HostRegister) -> X64Instruction {
        X64Instruction(.xchgRmReg, size: size, reg: b.rawValue, rm: .memory(a))
    }

    /// `xadd [mem],reg`: `reg` receives the old value; add `.locked` for atomicity.
    @inlinable
    public static func xadd(_ size: X64OperandSize, _ dst: X64Memory, _ src: HostRegister) -> X64Instruction {
        X64Instruction(.xaddRmReg, size: size, reg: src.rawValue, rm: .memory(dst))
    }

    /// `cmpxchg [mem],reg`: compares with `rax`, stores `reg` if equal, else loads `rax`; add
    /// `.locked` for atomicity.
    @inlinable
    public static func cmpxchg(_ size: X64OperandSize, _ dst: X64Memory, _ src: HostRegister) -> X64Instruction {
        X64Instruction(.cmpxchgRmReg, size: size, reg: src.rawValue, rm: .memory(dst))
    }

    /// `setcc reg8`: writes 1 or 0 to the low byte.
    @inlinable
    public static func setcc(_ condition: X64Condition, _ dst: HostRegister) -> X64Instruction {
        X64Instruction(.setcc, size: .b8, condition: condition, rm: .register(dst.rawValue))
    }

    /// `setcc BYTE PTR [mem]`.
    @inlinable
    public static func setcc(_ condition: X64Condition, _ dst: X64Memory) -> X64Instruction {
        X64Instruction(.setcc, size: .b8, condition: condition, rm: .memory(dst))
    }

    /// `cmovcc dst,src` (16, 32 or 64 bits; a 32-bit cmov zero-extends even when not taken).
    @inlinable
    public static func cmov(_ condition: X64Condition, _ size: X64OperandSize, _ dst: HostRegister,
                             _ src: HostRegister) -> X64Instruction
    { X64Instruction(.cmovcc, size: size, condition: condition, reg: dst.rawValue, rm: .register(src.rawValue)) }

    /// `cmovcc dst,[mem]` (the load happens, and may fault, whatever the condition).
    @inlinable
    public static func cmov(_ condition: X64Condition, _ size: X64OperandSize, _ dst: HostRegister,
                             _ src: X64Memory) -> X64Instruction
    { X64Instruction(.cmovcc, size: size, condition: condition, reg: dst.rawValue, rm: .memory(src)) }

    /// `jcc` with a byte displacement, counted from the end of the 2-byte instruction.
    @inlinable
    public static func jcc(_ condition: X64Condition, rel8: Int8) -> X64Instruction {
        X64Instruction(.jccRel8, condition: condition, immediate: Int64(rel8))
    }

    /// `jcc` with a 32-bit displacement, counted from the end of the 6-byte instruction.
    @inlinable
    public static func jcc(_ condition: X64Condition, rel32: Int32) -> X64Instruction {
        X64Instruction(.jccRel32, condition: condition, immediate: Int64(rel32))
    }

    /// `jmp` with a byte displacement (2 bytes).
    @inlinable
    public static func jmp(rel8: Int8) -> X64Instruction { X64Instruction(.jmpRel8, immediate: Int64(rel8)) }

    /// `jmp` with a 32-bit displacement (5 bytes).
    @inlinable
    public static func jmp(rel32: Int32) -> X64Instruction { X64Instruction(.jmpRel32, immediate: Int64(rel32)) }

    /// `jmp reg`.
    @inlinable
    public static func jmp(_ target: HostRegister) -> X64Instruction {
        X64Instruction(.jmpRm, size: .b64, rm: .register(target.rawValue))
    }

    /// `jmp QWORD PTR [mem]`.
    @inlinable
    public static func jmp(_ target: X64Memory) -> X64Instruction {
        X64Instruction(.jmpRm, size: .b64, rm: .memory(target))
    }

    /// `call` with a 32-bit displacement (5 bytes).
    @inlinable
    public static func call(rel32: Int32) -> X64Instruction { X64Instruction(.callRel32, immediate: Int64(rel32)) }

    /// `call reg`.
    @inlinable
    public static func call(_ target: HostRegister) -> X64Instruction {
        X64Instruction(.callRm, size: .b64, rm: .register(target.rawValue))
    }

    /// `call QWORD PTR [mem]`.
    @inlinable
    public static func call(_ target: X64Memory) -> X64Instruction {
        X64Instruction(.callRm, size: .b64, rm: .memory(target))
    }

    /// `ret`.
    public static let ret = X64Instruction(.ret)

    /// `push reg`.
    @inlinable
    public static func push(_ reg: HostRegister) -> X64Instruction {
        X64Instruction(.pushReg, size: .b64, reg: reg.rawValue)
    }

    /// `push QWORD PTR [mem]`.
    @inlinable
    public static func push(_ src: X64Memory) -> X64Instruction {
        X64Instruction(.pushRm, size: .b64, rm: .memory(src))
    }

    /// `pop reg`.
    @inlinable
    public static func pop(_ reg: HostRegister) -> X64Instruction {
        X64Instruction(.popReg, size: .b64, reg: reg.rawValue)
    }

    /// `pop QWORD PTR [mem]`.
    @inlinable
    public static func pop(_ dst: X64Memory) -> X64Instruction {
        X64Instruction(.popRm, size: .b64, rm: .memory(dst))
    }

    /// The one-byte `nop`.
    public static let nop = X64Instruction(.nop)

    /// The single recommended no-op of `length` bytes, 1-9 (Intel SDM vol. 2, NOP): `nop`,
    /// `xchg ax,ax`, then `nop` with a memory operand whose encoding is padded to length.
    @inlinable
    public static func nop(length: Int) -> X64Instruction {
        let rax = X64Memory.at(.rax), raxIndexed = X64Memory.at(.rax, index: .rax)
        switch length {
        case 1: return .nop
        case 2: return X64Instruction(.xchgRegAcc, size: .b16, reg: 0)
        case 3: return X64Instruction(.nopRm, rm: .memory(rax))
        case 4: return X64Instruction(.nopRm, rm: .memory(rax.withDisplacementWidth(.byte)))
        case 5: return X64Instruction(.nopRm, rm: .memory(raxIndexed.withDisplacementWidth(.byte)))
        case 6: return X64Instruction(.nopRm, size: .b16, rm: .memory(raxIndexed.withDisplacementWidth(.byte)))
        case 7: return X64Instruction(.nopRm, rm: .memory(rax.withDisplacementWidth(.dword)))
        case 8: return X64Instruction(.nopRm, rm: .memory(raxIndexed.withDisplacementWidth(.dword)))
        case 9: return X64Instruction(.nopRm, size: .b16, rm: .memory(raxIndexed.withDisplacementWidth(.dword)))
        default: preconditionFailure("a single nop is 1 to 9 bytes")
        }
    }

    /// `ud2`: raises #UD (an unreachable point; the fault handler can recognise it).
    public static let ud2 = X64Instruction(.ud2)
    /// `int3`: a breakpoint.
    public static let int3 = X64Instruction(.int3)
    /// `pause`: a spin-wait hint.
    public static let pause = X64Instruction(.pause)
    /// `ldmxcsr DWORD PTR [mem]`: loads the SSE control and status register (rounding,
    /// exception masks, sticky exception flags).
    @inlinable
    public static func ldmxcsr(_ src: X64Memory) -> X64Instruction { X64Instruction(.ldmxcsr, rm: .memory(src)) }

    /// `stmxcsr DWORD PTR [mem]`: stores the SSE control and status register.
    @inlinable
    public static func stmxcsr(_ dst: X64Memory) -> X64Instruction { X64Instruction(.stmxcsr, rm: .memory(dst)) }

    /// `mfence`: orders all earlier loads and stores before all later ones.
    public static let mfence = X64Instruction(.mfence)
    /// `lfence`: orders loads (and serialises instruction dispatch).
    public static let lfence = X64Instruction(.lfence)
    /// `sfence`: orders stores.
    public static let sfence = X64Instruction(.sfence)
}
