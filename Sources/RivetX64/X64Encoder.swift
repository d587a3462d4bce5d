/// Where an encoded instruction's parts landed, relative to its first byte.
public struct X64Encoding: Sendable, Equatable {
    /// The number of bytes written.
    public var length: Int
    /// The offset of a memory operand's displacement, -1 if it has none.
    public var displacementOffset: Int
    /// The offset of the immediate or branch displacement, -1 if it has none.
    public var immediateOffset: Int

    @inlinable
    init(length: Int, displacementOffset: Int, immediateOffset: Int) {
        self.length = length
        self.displacementOffset = displacementOffset
        self.immediateOffset = immediateOffset
    }
}

/// The generic encoder: turns an `X64Instruction` into bytes by reading its form's row.
///
/// Layout (Intel SDM vol. 2, chapter 2): [lock] [0x66 operand size] [mandatory prefix] [REX]
/// opcode [ModRM [SIB] [displacement]] [immediate].
public enum X64Encoder {
    /// The most bytes one instruction may take.
    public static let maximumLength = 15
    /// The room an encoding needs at its destination: the encoder stores a displacement as 4
    /// bytes and an immediate as 8 whatever their width, then counts only the width (one store
    /// instead of a loop of bytes), so it may write up to this many bytes past its start; what
    /// lies past the instruction's length is garbage for the next instruction to overwrite.
    public static let room = 24

    /// Encodes `inst` at `out`, which must have room for `room` bytes.
    ///
    /// Traps if the operands do not suit the form (a size the form lacks, an immediate that
    /// does not fit, a register where memory is needed): such an instruction is a JIT bug.
    @inline(__always)
    public static func encode(_ inst: X64Instruction, into out: UnsafeMutablePointer<UInt8>) -> X64Encoding {
        encode(inst, row: X64FormTable.storage + Int(inst.form.rawValue), into: out)
    }

    /// Encodes `inst`, whose form's row is at `row` (in `X64FormTable.storage`), at `out`.
    @inlinable @inline(__always)
    static func encode(
        _ inst: X64Instruction, row: UnsafePointer<X64FormRow>, into out: UnsafeMutablePointer<UInt8>
    ) -> X64Encoding {
        let plan = row.pointee.plan
        precondition(plan.sizes & (1 << inst.size.rawValue) != 0, "operand size not allowed for this form")
        if _slowPath(plan.has(X64EncodingPlan.vex | X64EncodingPlan.evexSAE)) {
            return encodeExtended(inst, row, into: out)
        }
        return encodeOperands(inst, plan, into: out, at: encodeLegacy(inst, plan, into: out))
    }

    /// A VEX or EVEX form's encoding, out of the JIT's inlined path (FMA and {sae} compares only).
    @inline(never) @usableFromInline
    static func encodeExtended(
        _ inst: X64Instruction, _ row: UnsafePointer<X64FormRow>, into out: UnsafeMutablePointer<UInt8>
    ) -> X64Encoding {
        let plan = row.pointee.plan
        let n = plan.has(X64EncodingPlan.vex)
            ? encodeVEX(inst, row.pointee, into: out) : encodeEVEXSAE(inst, row.pointee, into: out)
        return encodeOperands(inst, plan, into: out, at: n)
    }

    /// The 4-byte EVEX prefix of a register-to-register form with {sae} and the opcode's last
    /// byte (Intel SDM vol. 2, 2.7): 62, then ~R ~X ~B ~R' 0 0 mm, then W ~vvvv 1 pp, then
    /// z L'L b ~V' aaa with b set. Returns the bytes written.
    @inline(never) @usableFromInline
    static func encodeEVEXSAE(_ inst: X64Instruction, _ row: X64FormRow, into out: UnsafeMutablePointer<UInt8>) -> Int {
        guard case .register(let rm) = inst.rm else { preconditionFailure("{sae} takes registers only") }
        precondition(inst.reg < 16 && rm < 16 && row.opcode.count == 2, "an EVEX {sae} form of registers 0-15 in map 0F")
        let r: UInt8 = inst.reg >= 8 ? 1 : 0, b: UInt8 = rm >= 8 ? 1 : 0
        let pp: UInt8 = row.prefix == .p66 ? 1 : row.prefix == .pF3 ? 2 : row.prefix == .pF2 ? 3 : 0
        out[0] = 0x62
        out[1] = (r ^ 1) << 7 | 1 << 6 | (b ^ 1) << 5 | 1 << 4 | 1
        out[2] = (inst.size == .b64 ? 0x80 : 0) | 0xF << 3 | 1 << 2 | pp
        out[3] = 0x18
        out[4] = UInt8(truncatingIfNeeded: row.opcode.packed >> 8)
        return 5
    }

    /// The 3-byte VEX prefix and the opcode's last byte (Intel SDM vol. 2, 2.3): C4, then
    /// ~R ~X ~B mmmmm, then W ~vvvv L pp. Returns the bytes written.
    @inline(never) @usableFromInline
    static func encodeVEX(_ inst: X64Instruction, _ row: X64FormRow, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var r: UInt8 = 0, x: UInt8 = 0, b: UInt8 = 0
        if inst.reg >= 8 { r = 1 }
        switch inst.rm {
        case .register(let n): if n >= 8 { b = 1 }
        case .memory(let m):
            if case .register(let base) = m.base, base.rawValue >= 8 { b = 1 }
            if let index = m.index, index.rawValue >= 8 { x = 1 }
        }
        let opcode = row.opcode
        precondition(opcode.count >= 2, "a VEX opcode starts with 0F")
        let second = UInt8(truncatingIfNeeded: opcode.packed >> 8)
        let map: UInt8 = opcode.count == 2 ? 1 : second == 0x38 ? 2 : 3
        let pp: UInt8 = row.prefix == .p66 ? 1 : row.prefix == .pF3 ? 2 : row.prefix == .pF2 ? 3 : 0
        let vvvv = UInt8(truncatingIfNeeded: inst.immediate) & 15
        out[0] = 0xC4
        out[1] = (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | map
        out[2] = (inst.size == .b64 ? 0x80 : 0) | (~vvvv & 15) << 3 | pp
        out[3] = UInt8(truncatingIfNeeded: opcode.packed >> (8 * (opcode.count - 1)))
        return 4
    }

    /// Legacy prefixes, REX and the opcode. Returns the bytes written.
    @inlinable @inline(__always)
    static func encodeLegacy(_ inst: X64Instruction, _ plan: X64EncodingPlan, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let size = inst.size
        var n = 0

        // Legacy prefixes.
        if inst.isLocked {
            out[n] = 0xF0
            n += 1
        }
        if size == .b16 {
            out[n] = 0x66
            n += 1
        }
        if plan.prefix != 0 {
            out[n] = plan.prefix
            n += 1
        }

        // REX: W for 64-bit operands, R/X/B extend the register fields; an empty REX selects
        // spl/bpl/sil/dil instead of ah/ch/dh/bh for byte registers 4-7.
        var rex: UInt8 = size == .b64 ? plan.rexW : 0
        var needsREX = false
        let reg = inst.reg
        if reg >= 8 { rex |= plan.regREX }
        let byteOperands = size == .b8
        if byteOperands, plan.has(X64EncodingPlan.regSized), reg & 0x0C == 4 { needsREX = true }
        if plan.has(X64EncodingPlan.hasModRM) {
            switch inst.rm {
            case .register(let r):
                precondition(!plan.has(X64EncodingPlan.rmMemoryOnly), "this form needs a memory operand")
                if r >= 8 { rex |= 0x01 }  // REX.B
                if r & 0x0C == 4,
                    plan.has(X64EncodingPlan.rmByte) || (byteOperands && plan.has(X64EncodingPlan.rmSized))
                {
                    needsREX = true
                }
            case .memory(let m):
                if case .register(let base) = m.base, base.rawValue >= 8 { rex |= 0x01 }  // REX.B
                if let index = m.index, index.rawValue >= 8 { rex |= 0x02 }  // REX.X
            }
        }
        if rex != 0 || needsREX {
            out[n] = 0x40 | rex
            n += 1
        }

        // Opcode: the bytes before the last in one store; the last takes the w bit, the
        // condition, or a register.
        UnsafeMutableRawPointer(out + n).storeBytes(of: plan.leading.littleEndian, as: UInt16.self)
        n += plan.leadingCount
        var last = plan.last
        if byteOperands && plan.has(X64EncodingPlan.w) { last &= 0xFE }
        if plan.has(X64EncodingPlan.conditional) { last |= inst.condition.rawValue }
        if plan.has(X64EncodingPlan.regInOpcode) {
            precondition(inst.form != .xchgRegAcc || reg != 0 || size == .b16, "xchg eax/rax,eax/rax is nop")
            last |= reg & 7
        }
        out[n] = last
        return n + 1
    }

    /// ModRM, SIB, displacement and immediate after the opcode at `n`.
    @inlinable @inline(__always)
    static func encodeOperands(
        _ inst: X64Instruction, _ plan: X64EncodingPlan, into out: UnsafeMutablePointer<UInt8>, at start: Int
    ) -> X64Encoding {
        let size = inst.size
        var n = start

        // ModRM, SIB, displacement.
        var displacementOffset = -1
        if plan.has(X64EncodingPlan.hasModRM) {
            // The digit of a `/digit` form, else the register operand (or 0).
            let field = plan.modRMField(inst.reg)
            switch inst.rm {
            case .register(let r):
                out[n] = 0xC0 | field | r & 7
                n += 1
            case .memory(let m):
                let bytes = m.encodedDisplacementBytes
                switch m.base {
                case .rip:
                    out[n] = field | 0b101
                    n += 1
                case .none:
                    out[n] = field | 0b100
                    out[n + 1] = m.scale.rawValue << 6 | ((m.index?.rawValue ?? 4) & 7) << 3 | 0b101
                    n += 2
                case .register(let base):
                    let mod: UInt8 = bytes == 0 ? 0x00 : bytes == 1 ? 0x40 : 0x80
                    if let index = m.index {
                        out[n] = mod | field | 0b100
                        out[n + 1] = m.scale.rawValue << 6 | (index.rawValue & 7) << 3 | base.rawValue & 7
                        n += 2
                    } else if base.rawValue & 7 == 4 {
                        // rsp and r12 as a base need a SIB byte with "no index".
                        out[n] = mod | field | 0b100
                        out[n + 1] = 0x24
                        n += 2
                    } else {
                        out[n] = mod | field | base.rawValue & 7
                        n += 1
                    }
                }
                if bytes != 0 {
                    // Four bytes stored, `bytes` of them kept (`room`).
                    displacementOffset = n
                    UnsafeMutableRawPointer(out + n).storeBytes(of: m.displacement.littleEndian, as: Int32.self)
                    n += bytes
                }
            }
        }

        // Immediate or branch displacement.
        let width = plan.width(size)
        guard width != 0 else {
            return X64Encoding(length: n, displacementOffset: displacementOffset, immediateOffset: -1)
        }
        let value = inst.immediate
        if width < 8 {
            let bits = Int64(width * 8)
            let low = -(Int64(1) << (bits - 1)), highSigned = (Int64(1) << (bits - 1)) - 1
            let highUnsigned = (Int64(1) << bits) - 1
            switch plan.check {
            case X64EncodingPlan.ImmediateCheck.signed.rawValue:
                precondition(value >= low && value <= highSigned, "immediate does not fit")
            case X64EncodingPlan.ImmediateCheck.unsigned.rawValue:
                precondition(value >= 0 && value <= highUnsigned, "immediate does not fit")
            case X64EncodingPlan.ImmediateCheck.either.rawValue:
                precondition(value >= low && value <= highUnsigned, "immediate does not fit")
            default:
                precondition(value >= low && value <= (size == .b64 ? highSigned : highUnsigned), "immediate does not fit")
            }
        }
        // Eight bytes stored, `width` of them kept (`room`).
        UnsafeMutableRawPointer(out + n).storeBytes(of: value.littleEndian, as: Int64.self)
        return X64Encoding(length: n + width, displacementOffset: displacementOffset, immediateOffset: n)
    }
}

/// What the encoder reads of a form, derived once from its row (`X64FormRow.plan`) and packed
/// into one word and a half, so that encoding keeps it in registers rather than spilling a
/// dozen fields: a legacy instruction's prefixes, REX and opcode then take a few tests of bits.
@usableFromInline
struct X64EncodingPlan: Sendable {
    // Bits 0-9 of `word`: properties.
    @inlinable static var hasModRM: UInt64 { 1 }
    @inlinable static var regSized: UInt64 { 2 }
    @inlinable static var rmSized: UInt64 { 4 }
    @inlinable static var rmByte: UInt64 { 8 }
    @inlinable static var rmMemoryOnly: UInt64 { 16 }
    @inlinable static var w: UInt64 { 32 }
    @inlinable static var conditional: UInt64 { 64 }
    @inlinable static var regInOpcode: UInt64 { 128 }
    @inlinable static var vex: UInt64 { 256 }
    @inlinable static var evexSAE: UInt64 { 512 }
    /// Bit 63: ModRM.reg holds the register operand, not a `/digit`.
    @inlinable static var modRMFromRegister: UInt64 { 1 << 63 }

    /// Bits 0-9 the properties above; 10-13 the sizes the form accepts (`X64SizeSet`); 16-23
    /// the mandatory prefix byte (0: none); 24-39 the opcode's bytes before the last, first
    /// lowest; 40-41 how many (0-2); 42-43 how an immediate is checked (`ImmediateCheck`);
    /// 48-55 the opcode's last byte; 56 REX.W for 64-bit operands; 57-59 the REX bit a
    /// register operand numbered 8-15 sets (R for ModRM.reg, B for the opcode, 0 for none);
    /// 60-62 a `/digit` form's digit; 63 `modRMFromRegister`.
    @usableFromInline let word: UInt64
    /// The immediate's width in bytes, 4 bits for each operand size (`X64OperandSize` k at 4k).
    @usableFromInline let widths: UInt16

    /// How the encoder checks that an immediate fits its width.
    @usableFromInline
    enum ImmediateCheck: UInt64 {
        /// As a signed value (`imm8`, `rel8`, `rel32`).
        case signed
        /// As an unsigned value (`uimm8`).
        case unsigned
        /// As either (`immV`; `immZ` below 64 bits).
        case either
        /// As a signed value for 64-bit operands, sign-extended, else as either (`immZ`).
        case signedIf64
    }

    @inlinable @inline(__always) func has(_ bit: UInt64) -> Bool { word & bit != 0 }
    @inlinable @inline(__always) var sizes: UInt8 { UInt8(truncatingIfNeeded: word >> 10) & 15 }
    @inlinable @inline(__always) var prefix: UInt8 { UInt8(truncatingIfNeeded: word >> 16) }
    @inlinable @inline(__always) var leading: UInt16 { UInt16(truncatingIfNeeded: word >> 24) }
    @inlinable @inline(__always) var leadingCount: Int { Int(truncatingIfNeeded: word >> 40) & 3 }
    @inlinable @inline(__always) var check: UInt64 { (word >> 42) & 3 }
    @inlinable @inline(__always) var last: UInt8 { UInt8(truncatingIfNeeded: word >> 48) }
    @inlinable @inline(__always) var rexW: UInt8 { UInt8(truncatingIfNeeded: word >> 53) & 0x08 }
    @inlinable @inline(__always) var regREX: UInt8 { UInt8(truncatingIfNeeded: word >> 57) & 7 }
    /// ModRM.reg for register operand `reg`: the form's digit, or the register's low bits.
    @inlinable @inline(__always) func modRMField(_ reg: UInt8) -> UInt8 {
        has(Self.modRMFromRegister) ? (reg & 7) << 3 : UInt8(truncatingIfNeeded: word >> 57) & 0x38
    }
    @inlinable @inline(__always) func width(_ size: X64OperandSize) -> Int {
        Int(truncatingIfNeeded: widths >> (4 * UInt16(size.rawValue))) & 15
    }

    init(
        prefix: X64Prefix, opcode: X64Opcode, modRMExtension: UInt8?, operands: [X64OperandKind], sizes: X64SizeSet,
        flags: X64FormFlags, immediate: X64OperandKind
    ) {
        let regInModRM = operands.contains(.reg) || operands.contains(.xreg)
        let regInOpcode = operands.contains(.opReg)
        var word: UInt64 = 0
        if modRMExtension != nil || regInModRM || operands.contains(where: \.isInModRMRm) { word |= Self.hasModRM }
        // A general register sized by the instruction (8 bits need care), in ModRM.reg or the opcode.
        if operands.contains(.reg) || operands.contains(.opReg) { word |= Self.regSized }
        // ModRM.rm: a general register of the instruction's size, always a byte one, or memory only (`lea`).
        if operands.contains(.rm) { word |= Self.rmSized }
        if operands.contains(.rm8) { word |= Self.rmByte }
        if operands.contains(.mem) || operands.contains(.mem32) { word |= Self.rmMemoryOnly }
        if flags.contains(.w) { word |= Self.w }
        if flags.contains(.conditional) { word |= Self.conditional }
        if regInOpcode { word |= Self.regInOpcode }
        if flags.contains(.vex) { word |= Self.vex }
        if flags.contains(.evexSAE) { word |= Self.evexSAE }
        word |= UInt64(sizes.rawValue) << 10
        word |= UInt64(prefix.rawValue) << 16
        let leadingCount = UInt64(opcode.count - 1)
        word |= (UInt64(opcode.packed) & ((1 << (8 * leadingCount)) - 1)) << 24
        word |= leadingCount << 40
        let check: ImmediateCheck
        var widths: UInt16 = 0
        switch immediate {
        case .imm8, .rel8, .rel32: check = .signed
        case .uimm8: check = .unsigned
        case .immV: check = .either
        case .immZ: check = .signedIf64
        case .none, .reg, .rm, .rm8, .rm16, .rm32, .mem, .mem32, .opReg, .acc, .cl, .xreg, .xvex, .xrm32, .xrm64, .xrm128:
            check = .signed
        }
        for size in X64OperandSize.allCases {
            let width: Int
            switch immediate {
            case .imm8, .rel8, .uimm8: width = 1
            case .immZ: width = size == .b8 ? 1 : size == .b16 ? 2 : 4
            case .immV: width = size.bytes
            case .rel32: width = 4
            case .none, .reg, .rm, .rm8, .rm16, .rm32, .mem, .mem32, .opReg, .acc, .cl, .xreg, .xvex, .xrm32, .xrm64, .xrm128:
                width = 0
            }
            widths |= UInt16(width) << (4 * UInt16(size.rawValue))
        }
        word |= check.rawValue << 42
        word |= UInt64(opcode.packed >> (8 * UInt32(leadingCount)) & 0xFF) << 48
        if !flags.contains(.default64) { word |= 1 << 56 }
        word |= UInt64(regInModRM ? 0x04 : regInOpcode ? 0x01 : 0) << 57
        if let modRMExtension { word |= UInt64(modRMExtension & 7) << 60 } else { word |= Self.modRMFromRegister }
        self.word = word
        self.widths = widths
    }
}
