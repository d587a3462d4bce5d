/// Every x86-64 instruction form the assembler knows: one case per row of `X64FormTable`, in
/// the table's order.
///
/// A form is one line of the Intel manual's opcode table with the operand size left open: the
/// name is the mnemonic followed by where each operand goes, in Intel operand order (`Reg` for
/// the ModRM.reg field, `Rm` for ModRM.rm, `Imm8`/`Imm` for an immediate, `Cl` for the count
/// register, `Rel8`/`Rel32` for a branch displacement). Forms with a single operand pattern are
/// named by their mnemonic alone. Switches over this enum have no `default:`.
public enum X64Form: UInt8, CaseIterable, Sendable {
    // Integer arithmetic and logic.
    case addRmReg, addRegRm, addRmImm8, addRmImm
    case orRmReg, orRegRm, orRmImm8, orRmImm
    case adcRmReg, adcRegRm, adcRmImm8, adcRmImm
    case sbbRmReg, sbbRegRm, sbbRmImm8, sbbRmImm
    case andRmReg, andRegRm, andRmImm8, andRmImm
    case subRmReg, subRegRm, subRmImm8, subRmImm
    case xorRmReg, xorRegRm, xorRmImm8, xorRmImm
    case cmpRmReg, cmpRegRm, cmpRmImm8, cmpRmImm
    case testRmReg, testRmImm
    case not, neg, mul, imulRm, div, idiv, inc, dec
    case imulRegRm, imulRegRmImm8, imulRegRmImm
    case cdq, cqo, cdqe
    // Shifts and rotates.
    case rolRmCl, rolRmImm, rorRmCl, rorRmImm
    case shlRmCl, shlRmImm, shrRmCl, shrRmImm, sarRmCl, sarRmImm
    // Moves and exchanges.
    case movRmReg, movRegRm, movRmImm, movRegImm, movabs
    case movzxRegRm8, movzxRegRm16, movsxRegRm8, movsxRegRm16, movsxd
    case lea
    case xchgRmReg, xchgRegAcc, xaddRmReg, cmpxchgRmReg
    // Bits.
    case btRmReg, btRmImm, btsRmReg, btsRmImm, btrRmReg, btrRmImm, btcRmReg, btcRmImm
    case bsf, bsr, bswap, lzcnt, tzcnt, popcnt
    // Conditions.
    case setcc, cmovcc, jccRel8, jccRel32
    // Control transfer and the stack.
    case jmpRel8, jmpRel32, jmpRm, callRel32, callRm, ret
    case pushReg, pushRm, popReg, popRm
    // Miscellaneous.
    case nop, nopRm, ud2, int3, pause, mfence, lfence, sfence, ldmxcsr, stmxcsr
    // SSE moves.
    case movssRegRm, movssRmReg, movsdRegRm, movsdRmReg, movaps
    case movdRegRm, movdRmReg, movqRegRm, movqRmReg
    // SSE scalar arithmetic and comparison.
    case addss, addsd, subss, subsd, mulss, mulsd, divss, divsd
    case minss, minsd, maxss, maxsd, sqrtss, sqrtsd
    case ucomiss, ucomisd, comiss, comisd
    // SSE logic on whole registers.
    case andps, andpd, andnps, andnpd, orps, orpd, xorps, xorpd
    // SSE conversions and rounding.
    case cvtss2sd, cvtsd2ss, cvtsi2ss, cvtsi2sd, cvttss2si, cvttsd2si, cvtss2si, cvtsd2si
    case roundss, roundsd
    // Fused multiply-add (FMA3, VEX-encoded): dst = src1 * dst + src2.
    case vfmadd213ss, vfmadd213sd
    // Unordered compares that raise no exception flag at all, not even for a signaling NaN
    // (AVX-512, EVEX-encoded with {sae}; registers only).
    case vucomissSAE, vucomisdSAE

    /// The form's row in the table.
    @inline(__always)
    public var row: X64FormRow { X64FormTable.rows[Int(rawValue)] }
}

/// What an operand of a form is and where the encoding puts it.
public enum X64OperandKind: UInt8, Sendable {
    /// No operand (fills unused slots).
    case none
    /// A general register in ModRM.reg, of the instruction's size.
    case reg
    /// A general register or memory in ModRM.rm, of the instruction's size.
    case rm
    /// A general register or memory in ModRM.rm, of a fixed size whatever the instruction's.
    case rm8, rm16, rm32
    /// Memory in ModRM.rm whose size does not matter (`lea`'s address).
    case mem
    /// 4 bytes of memory in ModRM.rm, never a register (`ldmxcsr`, `stmxcsr`).
    case mem32
    /// A general register in the low three bits of the opcode, of the instruction's size.
    case opReg
    /// The accumulator (`al`/`ax`/`eax`/`rax`), implied by the opcode.
    case acc
    /// `cl`, implied by the opcode (shift counts).
    case cl
    /// An XMM register in ModRM.reg.
    case xreg
    /// An XMM register in VEX.vvvv (the instruction's `immediate` holds its number).
    case xvex
    /// An XMM register or 4, 8 or 16 bytes of memory in ModRM.rm.
    case xrm32, xrm64, xrm128
    /// A byte immediate, sign-extended to the operand size.
    case imm8
    /// A byte immediate taken as unsigned (counts, bit numbers, rounding controls).
    case uimm8
    /// An immediate of the operand size, but 4 bytes sign-extended for 64-bit operands.
    case immZ
    /// An immediate of the full operand size, 8 bytes for 64-bit operands (`movabs`).
    case immV
    /// A branch displacement of 1 or 4 bytes, counted from the end of the instruction.
    case rel8, rel32

    /// Whether the operand lives in ModRM.rm.
    public var isInModRMRm: Bool {
        switch self {
        case .rm, .rm8, .rm16, .rm32, .mem, .mem32, .xrm32, .xrm64, .xrm128: true
        case .none, .reg, .opReg, .acc, .cl, .xreg, .xvex, .imm8, .uimm8, .immZ, .immV, .rel8, .rel32: false
        }
    }

    /// Whether the operand is an immediate or a branch displacement.
    public var isImmediate: Bool {
        switch self {
        case .imm8, .uimm8, .immZ, .immV, .rel8, .rel32: true
        case .none, .reg, .rm, .rm8, .rm16, .rm32, .mem, .mem32, .opReg, .acc, .cl, .xreg, .xvex, .xrm32, .xrm64, .xrm128:
            false
        }
    }
}

/// The mandatory prefix of an SSE form (its raw value is the prefix byte, 0 for none).
public enum X64Prefix: UInt8, Sendable {
    case none = 0
    case p66 = 0x66
    case pF2 = 0xF2
    case pF3 = 0xF3
}

/// Properties of a form beyond its opcode and operands.
public struct X64FormFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The opcode's last byte has a `w` bit (bit 0): clear for 8-bit operands, set otherwise.
    public static let w = X64FormFlags(rawValue: 1)
    /// 64-bit operands need no REX.W (near branches, `push`, `pop`).
    public static let default64 = X64FormFlags(rawValue: 2)
    /// A condition code is added to the opcode's last byte and its suffix to the mnemonic.
    public static let conditional = X64FormFlags(rawValue: 4)
    /// A `lock` prefix is allowed when the destination is memory.
    public static let lockable = X64FormFlags(rawValue: 8)
    /// VEX-encoded (3-byte C4 prefix): the row's prefix is VEX.pp, the opcode's leading
    /// 0F / 0F 38 / 0F 3A bytes are VEX.mmmmm, a 64-bit size sets VEX.W; no legacy prefix or REX.
    public static let vex = X64FormFlags(rawValue: 16)
    /// EVEX-encoded (4-byte 62 prefix) with {sae}, "suppress all exceptions" (EVEX.b set,
    /// EVEX.L'L clear): the row's prefix is EVEX.pp, its leading 0F EVEX.mm, a 64-bit size sets
    /// EVEX.W; both operands are registers 0-15, no vvvv.
    public static let evexSAE = X64FormFlags(rawValue: 32)
}

/// One to three opcode bytes, the first in the low byte.
public struct X64Opcode: Sendable, Equatable {
    /// The bytes, first in bits 0-7.
    public let packed: UInt32
    /// How many bytes, 1-3.
    public let count: Int

    /// Packs `bytes` (1-3 of them).
    public init(_ bytes: [UInt8]) {
        precondition((1...3).contains(bytes.count))
        var packed: UInt32 = 0
        for (k, byte) in bytes.enumerated() { packed |= UInt32(byte) << (8 * k) }
        self.packed = packed
        self.count = bytes.count
    }

    /// The bytes in order.
    public var bytes: [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: packed >> (8 * $0)) } }
}

/// One form: everything the encoder and the printer need, as data.
public struct X64FormRow: Sendable {
    /// The form this row describes.
    public let form: X64Form
    /// The mnemonic as objdump prints it (the condition suffix is added for conditional forms).
    public let mnemonic: StaticString
    /// The mandatory prefix (SSE), before REX.
    public let prefix: X64Prefix
    /// The opcode bytes; a `w` bit, condition or register is added to the last one.
    public let opcode: X64Opcode
    /// The ModRM.reg digit of forms written `/0`-`/7` in the Intel manual.
    public let modRMExtension: UInt8?
    /// The operands in Intel order (destination first), `.none` for unused slots.
    public let operands: (X64OperandKind, X64OperandKind, X64OperandKind)
    /// The operand sizes the form accepts.
    public let sizes: X64SizeSet
    /// Further properties.
    public let flags: X64FormFlags

    /// Whether a ModRM byte follows the opcode.
    public var hasModRM: Bool { plan.has(X64EncodingPlan.hasModRM) }
    /// The immediate or displacement operand, `.none` without one.
    public let immediate: X64OperandKind
    /// What the encoder needs of the row, derived once and packed (it reads the row through a
    /// pointer).
    @usableFromInline let plan: X64EncodingPlan

    init(
        form: X64Form, mnemonic: StaticString, prefix: X64Prefix, opcode: [UInt8], modRMExtension: UInt8?,
        operands: [X64OperandKind], sizes: X64SizeSet, flags: X64FormFlags
    ) {
        precondition(operands.count <= 3)
        let padded = operands + Array(repeating: X64OperandKind.none, count: 3 - operands.count)
        self.form = form
        self.mnemonic = mnemonic
        self.prefix = prefix
        self.opcode = X64Opcode(opcode)
        self.modRMExtension = modRMExtension
        self.operands = (padded[0], padded[1], padded[2])
        self.sizes = sizes
        self.flags = flags
        immediate = operands.first(where: \.isImmediate) ?? .none
        plan = X64EncodingPlan(
            prefix: prefix, opcode: self.opcode, modRMExtension: modRMExtension, operands: operands, sizes: sizes,
            flags: flags, immediate: immediate)
    }

    /// The operands in Intel order, without unused slots.
    public var operandList: [X64OperandKind] {
        [operands.0, operands.1, operands.2].filter { $0 != .none }
    }

    /// Whether the form has a ModRM.rm operand (register or memory).
    public var hasRm: Bool { operandList.contains(where: \.isInModRMRm) }
}
