/// The operand layout of an instruction: which fields of the encoding are operands, what kind of
/// register each names, and how the immediate is assembled.
public enum Format: UInt8, Sendable {
    /// No operands are decoded (the illegal instruction).
    case none
    /// `rd, rs1, rs2`: integer registers.
    case r
    /// `rd, rs1, imm12`.
    case i
    /// `rd, imm12(rs1)`: integer loads.
    case load
    /// `rd, rs1, shamt6`: RV64 shifts by an immediate.
    case shift64
    /// `rd, rs1, shamt5`: `*W` shifts by an immediate.
    case shift32
    /// `rs2, imm12(rs1)`: integer stores.
    case s
    /// `rs1, rs2, offset13`: conditional branches.
    case b
    /// `rd, imm20 << 12`.
    case u
    /// `rd, offset21`: `jal`.
    case j
    /// `rd, imm12(rs1)`: `jalr`.
    case jalr
    /// The fence bits `fm | pred | succ` in `imm`.
    case fence
    /// No operands: `ecall`, `ebreak`, `fence.i`.
    case system
    /// `rd, csr, rs1`; the CSR number is in `imm`.
    case csr
    /// `rd, csr, uimm5`; the CSR number is in `imm`, the 5-bit immediate in `rs1`.
    case csrImm
    /// `rd, rs2, (rs1)`; the aq/rl bits are in `rm` (aq = 2, rl = 1).
    case amo
    /// `rd, (rs1)`; the aq/rl bits are in `rm`.
    case lr
    /// `fd, imm12(rs1)`: FP loads.
    case fload
    /// `fs2, imm12(rs1)`: FP stores.
    case fstore
    /// `fd, fs1, fs2, fs3, rm`: fused multiply-add.
    case fr4
    /// `fd, fs1, fs2, rm`.
    case frm
    /// `fd, fs1, fs2`: sign injection, min, max.
    case fr
    /// `fd, fs1, rm`: square root and FP-to-FP conversions.
    case funaryRM
    /// `rd, fs1, fs2`: comparisons writing an integer register.
    case fcmp
    /// `rd, fs1, rm`: FP-to-integer conversions.
    case fToInt
    /// `rd, fs1`: moves and classification writing an integer register.
    case fToIntRaw
    /// `fd, rs1, rm`: integer-to-FP conversions.
    case intToF
    /// `fd, rs1`: moves from an integer register.
    case intToFRaw
    /// `rd, rs1`: integer operations of one register (`clz`, `sext.b`, `rev8`).
    case unary
    /// `(rs1)`: cache-block operations on the block holding the address in rs1.
    case cbo
    /// `fd, constant`: `fli`; the rs1 field (the constant's number) is in `imm`.
    case fli
}

/// Which register file an operand names.
public enum RegisterClass: UInt8, Sendable {
    case none, integer, float
}

extension Format {
    /// The register file `rd` names.
    public var rdClass: RegisterClass {
        switch self {
        case .r, .i, .load, .shift64, .shift32, .u, .j, .jalr, .csr, .csrImm, .amo, .lr, .fcmp,
            .fToInt, .fToIntRaw, .unary:
            .integer
        case .fload, .fr4, .frm, .fr, .funaryRM, .intToF, .intToFRaw, .fli:
            .float
        case .none, .s, .b, .fence, .system, .fstore, .cbo:
            .none
        }
    }

    /// The register file `rs1` names.
    public var rs1Class: RegisterClass {
        switch self {
        case .r, .i, .load, .shift64, .shift32, .s, .b, .jalr, .csr, .amo, .lr, .fload, .fstore,
            .intToF, .intToFRaw, .unary, .cbo:
            .integer
        case .fr4, .frm, .fr, .funaryRM, .fcmp, .fToInt, .fToIntRaw:
            .float
        case .none, .u, .j, .fence, .system, .csrImm, .fli:
            .none
        }
    }

    /// The register file `rs2` names.
    public var rs2Class: RegisterClass {
        switch self {
        case .r, .s, .b, .amo:
            .integer
        case .fstore, .fr4, .frm, .fr, .fcmp:
            .float
        case .none, .i, .load, .shift64, .shift32, .u, .j, .jalr, .fence, .system, .csr, .csrImm,
            .lr, .fload, .funaryRM, .fToInt, .fToIntRaw, .intToF, .intToFRaw, .unary, .cbo, .fli:
            .none
        }
    }

    /// The register file `rs3` names.
    public var rs3Class: RegisterClass { self == .fr4 ? .float : .none }

    /// Whether the `rm` field is a rounding mode (and values 5 and 6 make the encoding illegal).
    public var hasRoundingMode: Bool {
        switch self {
        case .fr4, .frm, .funaryRM, .fToInt, .intToF: true
        case .none, .r, .i, .load, .shift64, .shift32, .s, .b, .u, .j, .jalr, .fence, .system,
            .csr, .csrImm, .amo, .lr, .fload, .fstore, .fr, .fcmp, .fToIntRaw, .intToFRaw, .unary, .cbo,
            .fli:
            false
        }
    }
}
