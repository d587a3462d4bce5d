/// The two-operand integer operations that share one opcode pattern (Intel's "group 1").
public enum X64ALUOp: CaseIterable, Sendable {
    case add, or, adc, sbb, and, sub, xor, cmp

    /// The forms `op r/m,reg`, `op reg,r/m`, `op r/m,imm8`, `op r/m,imm`.
    @inlinable
    public var forms: (rmReg: X64Form, regRm: X64Form, rmImm8: X64Form, rmImm: X64Form) {
        switch self {
        case .add: (.addRmReg, .addRegRm, .addRmImm8, .addRmImm)
        case .or: (.orRmReg, .orRegRm, .orRmImm8, .orRmImm)
        case .adc: (.adcRmReg, .adcRegRm, .adcRmImm8, .adcRmImm)
        case .sbb: (.sbbRmReg, .sbbRegRm, .sbbRmImm8, .sbbRmImm)
        case .and: (.andRmReg, .andRegRm, .andRmImm8, .andRmImm)
        case .sub: (.subRmReg, .subRegRm, .subRmImm8, .subRmImm)
        case .xor: (.xorRmReg, .xorRegRm, .xorRmImm8, .xorRmImm)
        case .cmp: (.cmpRmReg, .cmpRegRm, .cmpRmImm8, .cmpRmImm)
        }
    }
}

/// Shifts and rotates.
public enum X64ShiftOp: CaseIterable, Sendable {
    case rol, ror, shl, shr, sar

    /// The forms `op r/m,cl` and `op r/m,imm8`.
    @inlinable
    public var forms: (byCL: X64Form, byImmediate: X64Form) {
        switch self {
        case .rol: (.rolRmCl, .rolRmImm)
        case .ror: (.rorRmCl, .rorRmImm)
        case .shl: (.shlRmCl, .shlRmImm)
        case .shr: (.shrRmCl, .shrRmImm)
        case .sar: (.sarRmCl, .sarRmImm)
        }
    }
}

/// One-operand integer operations. `mul`, `imul`, `div` and `idiv` work on `rdx:rax`.
public enum X64UnaryOp: CaseIterable, Sendable {
    case not, neg, mul, imul, div, idiv, inc, dec

    /// The form `op r/m`.
    @inlinable
    public var form: X64Form {
        switch self {
        case .not: .not
        case .neg: .neg
        case .mul: .mul
        case .imul: .imulRm
        case .div: .div
        case .idiv: .idiv
        case .inc: .inc
        case .dec: .dec
        }
    }
}

/// Builders for integer instructions. Destination first, as in Intel syntax.
extension X64Instruction {
    @inline(__always)
    @inlinable
    static func rr(_ form: X64Form, _ size: X64OperandSize, _ reg: HostRegister, _ rm: HostRegister)
        -> X64Instruction
    {
        X64Instruction(form, size: size, reg: reg.rawValue, rm: .register(rm.rawValue))
    }

    @inline(__always)
    @inlinable
    static func rm(_ form: X64Form, _ size: X64OperandSize, _ reg: HostRegister, _ rm: X64Memory)
        -> X64Instruction
    {
        X64Instruction(form, size: size, reg: reg.rawValue, rm: .memory(rm))
    }

    @inline(__always)
    @inlinable
    static func aluImmediate(_ op: X64ALUOp, _ size: X64OperandSize, _ rm: X64RM, _ imm: Int32)
        -> X64Instruction
    {
        let short = size != .b8 && Int32(Int8(truncatingIfNeeded: imm)) == imm
        return X64Instruction(short ? op.forms.rmImm8 : op.forms.rmImm, size: size, rm: rm, immediate: Int64(imm))
    }

    /// `op dst,src` on registers.
    @inlinable
    public static func alu(_ op: X64ALUOp, _ size: X64OperandSize, _ dst: HostRegister, _ src: HostRegister)
        -> X64Instruction
    { rr(op.forms.rmReg, size, src, dst) }

    /// `op dst,[mem]`.
    @inlinable
    public static func alu(_ op: X64ALUOp, _ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory)
        -> X64Instruction
    { rm(op.forms.regRm, size, dst, src) }

    /// `op [mem],src`.
    @inlinable
    public static func alu(_ op: X64ALUOp, _ size: X64OperandSize, _ dst: X64Memory, _ src: HostRegister)
        -> X64Instruction
    { rm(op.forms.rmReg, size, src, dst) }

    /// `op dst,imm`, with a byte immediate when it fits. For 64-bit operands the immediate is
    /// sign-extended from 32 bits; for 8- and 16-bit ones it must fit the size.
    @inlinable
    public static func alu(_ op: X64ALUOp, _ size: X64OperandSize, _ dst: HostRegister, imm: Int32)
        -> X64Instruction
    { aluImmediate(op, size, .register(dst.rawValue), imm) }

    /// `op [mem],imm`, with a byte immediate when it fits.
    @inlinable
    public static func alu(_ op: X64ALUOp, _ size: X64OperandSize, _ dst: X64Memory, imm: Int32) -> X64Instruction {
        aluImmediate(op, size, .memory(dst), imm)
    }

    /// `test a,b`: sets flags from `a & b`.
    @inlinable
    public static func test(_ size: X64OperandSize, _ a: HostRegister, _ b: HostRegister) -> X64Instruction {
        rr(.testRmReg, size, b, a)
    }

    /// `test [mem],reg`.
    @inlinable
    public static func test(_ size: X64OperandSize, _ a: X64Memory, _ b: HostRegister) -> X64Instruction {
        rm(.testRmReg, size, b, a)
    }

    /// `test reg,imm`.
    @inlinable
    public static func test(_ size: X64OperandSize, _ a: HostRegister, imm: Int32) -> X64Instruction {
        X64Instruction(.testRmImm, size: size, rm: .register(a.rawValue), immediate: Int64(imm))
    }

    /// `test [mem],imm`.
    @inlinable
    public static func test(_ size: X64OperandSize, _ a: X64Memory, imm: Int32) -> X64Instruction {
        X64Instruction(.testRmImm, size: size, rm: .memory(a), immediate: Int64(imm))
    }

    /// `op reg` (`not`, `neg`, `mul`, `imul`, `div`, `idiv`, `inc`, `dec`).
    @inlinable
    public static func unary(_ op: X64UnaryOp, _ size: X64OperandSize, _ operand: HostRegister) -> X64Instruction {
        X64Instruction(op.form, size: size, rm: .register(operand.rawValue))
    }

    /// `op [mem]`.
    @inlinable
    public static func unary(_ op: X64UnaryOp, _ size: X64OperandSize, _ operand: X64Memory) -> X64Instruction {
        X64Instruction(op.form, size: size, rm: .memory(operand))
    }

    /// `imul dst,src` (16, 32 or 64 bits).
    @inlinable
    public static func imul(_ size: X64OperandSize, _ dst: HostRegister, _ src: HostRegister) -> X64Instruction {
        rr(.imulRegRm, size, dst, src)
    }

    /// `imul dst,[mem]`.
    @inlinable
    public static func imul(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory) -> X64Instruction {
        rm(.imulRegRm, size, dst, src)
    }

    /// `imul dst,src,imm`, with a byte immediate when it fits.
    @inlinable
    public static func imul(_ size: X64OperandSize, _ dst: HostRegister, _ src: HostRegister, imm: Int32)
        -> X64Instruction
    { imulImmediate(size, dst, .register(src.rawValue), imm) }

    /// `imul dst,[mem],imm`.
    @inlinable
    public static func imul(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64Memory, imm: Int32)
        -> X64Instruction
    { imulImmediate(size, dst, .memory(src), imm) }

    @inlinable
    static func imulImmediate(_ size: X64OperandSize, _ dst: HostRegister, _ src: X64RM, _ imm: Int32)
        -> X64Instruction
    {
        let short = Int32(Int8(truncatingIfNeeded: imm)) == imm
        return X64Instruction(short ? .imulRegRmImm8 : .imulRegRmImm, size: size, reg: dst.rawValue, rm: src,
                              immediate: Int64(imm))
    }

    /// `cdq`: sign-extends `eax` into `edx`.
    public static let cdq = X64Instruction(.cdq, size: .b32)
    /// `cqo`: sign-extends `rax` into `rdx`.
    public static let cqo = X64Instruction(.cqo, size: .b64)
    /// `cdqe`: sign-extends `eax` into `rax`.
    public static let cdqe = X64Instruction(.cdqe, size: .b64)

    /// `op reg,count` with a constant count.
    @inlinable
    public static func shift(_ op: X64ShiftOp, _ size: X64OperandSize, _ dst: HostRegister, _ count: UInt8)
        -> X64Instruction
    { X64Instruction(op.forms.byImmediate, size: size, rm: .register(dst.rawValue), immediate: Int64(count)) }

    /// `op [mem],count`.
    @inlinable
    public static func shift(_ op: X64ShiftOp, _ size: X64OperandSize, _ dst: X64Memory, _ count: UInt8)
        -> X64Instruction
    { X64Instruction(op.forms.byImmediate, size: size, rm: .memory(dst), immediate: Int64(count)) }

    /// `op reg,cl`.
    @inlinable
    public static func shiftByCL(_ op: X64ShiftOp, _ size: X64OperandSize, _ dst: HostRegister) -> X64Instruction {
        X64Instruction(op.forms.byCL, size: size, rm: .register(dst.rawValue))
    }

    /// `op [mem],cl`.
    @inlinable
    public static func shiftByCL(_ op: X64ShiftOp, _ size: X64OperandSize, _ dst: X64Memory) -> X64Instruction {
        X64Instruction(op.forms.byCL, size: size, rm: .memory(dst))
    }

    /// `bt a,b`: copies bit `b` of `a` to the carry flag.
    @inlinable
    public static func bt(_ size: X64OperandSize, _ a: HostRegister, _ bit: HostRegister) -> X64Instruction {
        rr(.btRmReg, size, bit, a)
    }

    /// `bt [mem],reg` (the bit offset may reach beyond the addressed word).
    @inlinable
    public static func bt(_ size: X64OperandSize, _ a: X64Memory, _ bit: HostRegister) -> X64Instruction {
        rm(.btRmReg, size, bit, a)
    }

    /// `bt reg,imm8`.
    @inlinable
    public static func bt(_ size: X64OperandSize, _ a: HostRegister, _ bit: UInt8) -> X64Instruction {
        X64Instruction(.btRmImm, size: size, rm: .register(a.rawValue), immediate: Int64(bit))
    }

    /// `bt [mem],imm8`.
    @inlinable
    public static func bt(_ size: X64OperandSize, _ a: X64Memory, _ bit: UInt8) -> X64Instruction {
        X64Instruction(.btRmImm, size: size, rm: .memory(a), immediate: Int64(bit))
    }

    /// `op a,b` for `bts`, `btr`, `btc`: copies bit `b` of `a` to the carry flag and sets,
    /// clears or flips it (for a register `a`, `b` counts modulo the operand size).
    @inlinable
    public static func bitModify(_ op: X64BitModifyOp, _ size: X64OperandSize, _ a: HostRegister,
                                  _ bit: HostRegister) -> X64Instruction
    { rr(op.forms.byRegister, size, bit, a) }

    /// `op [mem],reg` for `bts`, `btr`, `btc` (the bit offset may reach beyond the addressed word).
    @inlinable
    public static func bitModify(_ op: X64BitModifyOp, _ size: X64OperandSize, _ a: X64Memory,
                                  _ bit: HostRegister) -> X64Instruction
    { rm(op.forms.byRegister, size, bit, a) }

    /// `op reg,imm8` for `bts`, `btr`, `btc`.
    @inlinable
    public static func bitModify(_ op: X64BitModifyOp, _ size: X64OperandSize, _ a: HostRegister,
                                  _ bit: UInt8) -> X64Instruction
    { X64Instruction(op.forms.byImmediate, size: size, rm: .register(a.rawValue), immediate: Int64(bit)) }

    /// `op [mem],imm8` for `bts`, `btr`, `btc`.
    @inlinable
    public static func bitModify(_ op: X64BitModifyOp, _ size: X64OperandSize, _ a: X64Memory,
                                  _ bit: UInt8) -> X64Instruction
    { X64Instruction(op.forms.byImmediate, size: size, rm: .memory(a), immediate: Int64(bit)) }

    /// `bsf dst,src` / `bsr dst,src`: the index of the lowest / highest set bit of `src`; ZF is
    /// set and `dst` undefined when `src` is 0. Baseline x86-64, unlike `tzcnt`/`lzcnt`.
    @inlinable
    public static func bitScan(_ op: X64BitScanOp, _ size: X64OperandSize, _ dst: HostRegister,
                                _ src: HostRegister) -> X64Instruction
    { rr(op.form, size, dst, src) }

    /// `bsf dst,[mem]` / `bsr dst,[mem]`.
    @inlinable
    public static func bitScan(_ op: X64BitScanOp, _ size: X64OperandSize, _ dst: HostRegister,
                                _ src: X64Memory) -> X64Instruction
    { rm(op.form, size, dst, src) }

    /// `bswap reg` (32 or 64 bits).
    @inlinable
    public static func bswap(_ size: X64OperandSize, _ reg: HostRegister) -> X64Instruction {
        X64Instruction(.bswap, size: size, reg: reg.rawValue)
    }

    /// `op dst,src` for `lzcnt`, `tzcnt`, `popcnt`.
    @inlinable
    public static func bitCount(_ op: X64BitCountOp, _ size: X64OperandSize, _ dst: HostRegister,
                                 _ src: HostRegister) -> X64Instruction
    { rr(op.form, size, dst, src) }

    /// `op dst,[mem]` for `lzcnt`, `tzcnt`, `popcnt`.
    @inlinable
    public static func bitCount(_ op: X64BitCountOp, _ size: X64OperandSize, _ dst: HostRegister,
                                 _ src: X64Memory) -> X64Instruction
    { rm(op.form, size, dst, src) }
}

/// Bit counts (LZCNT needs ABM/LZCNT, TZCNT BMI1, POPCNT its own CPUID bit).
public enum X64BitCountOp: CaseIterable, Sendable {
    case lzcnt, tzcnt, popcnt

    /// The form `op reg,r/m`.
    @inlinable
    public var form: X64Form {
        switch self {
        case .lzcnt: .lzcnt
        case .tzcnt: .tzcnt
        case .popcnt: .popcnt
        }
    }
}

/// Bit test-and-modify operations.
public enum X64BitModifyOp: CaseIterable, Sendable {
    /// Set the bit.
    case bts
    /// Clear (reset) the bit.
    case btr
    /// Flip (complement) the bit.
    case btc

    /// The forms `op r/m,reg` and `op r/m,imm8`.
    @inlinable
    public var forms: (byRegister: X64Form, byImmediate: X64Form) {
        switch self {
        case .bts: (.btsRmReg, .btsRmImm)
        case .btr: (.btrRmReg, .btrRmImm)
        case .btc: (.btcRmReg, .btcRmImm)
        }
    }
}

/// Bit scans.
public enum X64BitScanOp: CaseIterable, Sendable {
    /// Bit scan forward: the lowest set bit.
    case bsf
    /// Bit scan reverse: the highest set bit.
    case bsr

    /// The form `op reg,r/m`.
    @inlinable
    public var form: X64Form {
        switch self {
        case .bsf: .bsf
        case .bsr: .bsr
        }
    }
}
