/// Where an encoded instruction's parts landed, relative to its first byte.
public struct X64Encoding: Sendable, Equatable {
    /// The number of bytes written.
    public var length: Int
    /// The offset of a memory operand's displacement, -1 if it has none.
    public var displacementOffset: Int
    /// The offset of the immediate or branch displacement, -1 if it has none.
    public var immediateOffset: Int
}

/// The generic encoder: turns an `X64Instruction` into bytes by reading its form's row.
///
/// Layout (Intel SDM vol. 2, chapter 2): [lock] [0x66 operand size] [mandatory prefix] [REX]
/// opcode [ModRM [SIB] [displacement]] [immediate].
public enum X64Encoder {
    /// The most bytes one instruction may take; callers provide at least this much room.
    public static let maximumLength = 15

    private static let rexW: UInt8 = 0x08, rexR: UInt8 = 0x04, rexX: UInt8 = 0x02, rexB: UInt8 = 0x01

    /// Encodes `inst` at `out`, which must have room for `maximumLength` bytes.
    ///
    /// Traps if the operands do not suit the form (a size the form lacks, an immediate that
    /// does not fit, a register where memory is needed): such an instruction is a JIT bug.
    @inline(__always)
    public static func encode(_ inst: X64Instruction, into out: UnsafeMutablePointer<UInt8>) -> X64Encoding {
        let row = inst.form.row
        let size = inst.size
        precondition(row.sizes.contains(size), "operand size not allowed for this form")
        var n = 0
        if row.flags.contains(.vex) {
            n = encodeVEX(inst, row, into: out)
        } else if row.flags.contains(.evexSAE) {
            n = encodeEVEXSAE(inst, row, into: out)
        } else {
            n = encodeLegacy(inst, row, into: out)
        }
        return encodeOperands(inst, row, into: out, at: n)
    }

    /// The 4-byte EVEX prefix of a register-to-register form with {sae} and the opcode's last
    /// byte (Intel SDM vol. 2, 2.7): 62, then ~R ~X ~B ~R' 0 0 mm, then W ~vvvv 1 pp, then
    /// z L'L b ~V' aaa with b set. Returns the bytes written.
    private static func encodeEVEXSAE(_ inst: X64Instruction, _ row: X64FormRow, into out: UnsafeMutablePointer<UInt8>) -> Int {
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
    @inline(__always)
    private static func encodeVEX(_ inst: X64Instruction, _ row: X64FormRow, into out: UnsafeMutablePointer<UInt8>) -> Int {
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
    @inline(__always)
    private static func encodeLegacy(_ inst: X64Instruction, _ row: X64FormRow, into out: UnsafeMutablePointer<UInt8>) -> Int {
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
        if row.prefix != .none {
            out[n] = row.prefix.rawValue
            n += 1
        }

        // REX: W for 64-bit operands, R/X/B extend the register fields; an empty REX selects
        // spl/bpl/sil/dil instead of ah/ch/dh/bh for byte registers 4-7.
        var rex: UInt8 = size == .b64 && !row.flags.contains(.default64) ? rexW : 0
        var needsREX = false
        let byteOperands = size == .b8
        let reg = inst.reg
        if row.regInModRM || row.regInOpcode {
            if reg >= 8 { rex |= row.regInModRM ? rexR : rexB }
            if row.regSized && byteOperands && reg & 0x0C == 4 { needsREX = true }
        }
        if row.hasModRM {
            switch inst.rm {
            case .register(let r):
                precondition(!row.rmMemoryOnly, "this form needs a memory operand")
                if r >= 8 { rex |= rexB }
                if (row.rmByte || (row.rmSized && byteOperands)) && r & 0x0C == 4 { needsREX = true }
            case .memory(let m):
                if case .register(let base) = m.base, base.rawValue >= 8 { rex |= rexB }
                if let index = m.index, index.rawValue >= 8 { rex |= rexX }
            }
        }
        if rex != 0 || needsREX {
            out[n] = 0x40 | rex
            n += 1
        }

        // Opcode; the last byte takes the w bit, the condition, or a register.
        let opcode = row.opcode
        var k = 0
        while k < opcode.count - 1 {
            out[n] = UInt8(truncatingIfNeeded: opcode.packed >> (8 * k))
            n += 1
            k += 1
        }
        var last = UInt8(truncatingIfNeeded: opcode.packed >> (8 * k))
        if row.flags.contains(.w) && byteOperands { last &= 0xFE }
        if row.flags.contains(.conditional) { last |= inst.condition.rawValue }
        if row.regInOpcode {
            precondition(row.form != .xchgRegAcc || reg != 0 || size == .b16, "xchg eax/rax,eax/rax is nop")
            last |= reg & 7
        }
        out[n] = last
        n += 1
        return n
    }

    /// ModRM, SIB, displacement and immediate after the opcode at `n`.
    @inline(__always)
    private static func encodeOperands(
        _ inst: X64Instruction, _ row: X64FormRow, into out: UnsafeMutablePointer<UInt8>, at start: Int
    ) -> X64Encoding {
        let size = inst.size
        let reg = inst.reg
        var n = start

        // ModRM, SIB, displacement.
        var displacementOffset = -1
        if row.hasModRM {
            let field = (row.modRMExtension ?? (reg & 7)) << 3
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
                if bytes == 1 {
                    displacementOffset = n
                    out[n] = UInt8(truncatingIfNeeded: m.displacement)
                    n += 1
                } else if bytes == 4 {
                    displacementOffset = n
                    UnsafeMutableRawPointer(out + n).storeBytes(of: m.displacement.littleEndian, as: Int32.self)
                    n += 4
                }
            }
        }

        // Immediate or branch displacement.
        var immediateOffset = -1
        let value = inst.immediate
        let width: Int
        switch row.immediate {
        case .none: width = 0
        case .imm8, .rel8:
            precondition(value >= -128 && value <= 127, "immediate does not fit a signed byte")
            width = 1
        case .uimm8:
            precondition(value >= 0 && value <= 255, "immediate does not fit an unsigned byte")
            width = 1
        case .immZ:
            width = size == .b8 ? 1 : size == .b16 ? 2 : 4
            precondition(fits(value, bytes: width, signExtended: size == .b64), "immediate does not fit")
        case .immV:
            width = size.bytes
            precondition(fits(value, bytes: width, signExtended: false), "immediate does not fit")
        case .rel32:
            precondition(value >= -0x8000_0000 && value <= 0x7FFF_FFFF, "displacement does not fit 32 bits")
            width = 4
        case .reg, .rm, .rm8, .rm16, .rm32, .mem, .mem32, .opReg, .acc, .cl, .xreg, .xvex, .xrm32, .xrm64, .xrm128:
            preconditionFailure("not an immediate kind")
        }
        if width != 0 {
            immediateOffset = n
            if width == 8 {
                UnsafeMutableRawPointer(out + n).storeBytes(of: value.littleEndian, as: Int64.self)
            } else {
                var v = value
                for i in 0..<width {
                    out[n + i] = UInt8(truncatingIfNeeded: v)
                    v >>= 8
                }
            }
            n += width
        }
        return X64Encoding(length: n, displacementOffset: displacementOffset, immediateOffset: immediateOffset)
    }

    /// Whether `value` can be encoded in `bytes` bytes: as a signed value when the encoding is
    /// sign-extended to 64 bits, else as either a signed or an unsigned value of that width.
    @inline(__always)
    private static func fits(_ value: Int64, bytes: Int, signExtended: Bool) -> Bool {
        if bytes >= 8 { return true }
        let bits = Int64(bytes * 8)
        let low = -(Int64(1) << (bits - 1))
        let high = signExtended ? (Int64(1) << (bits - 1)) - 1 : (Int64(1) << bits) - 1
        return value >= low && value <= high
    }
}
