/// One decoded instruction: the operation and its operands, independent of how it was encoded.
///
/// A compressed instruction decodes to the 32-bit instruction it expands to, with `length == 2`
/// and `raw` holding the 16-bit parcel. Register fields hold architectural register numbers
/// (0...31); whether each names an integer or an FP register follows from `opcode.format`.
public struct Instruction: Equatable, Sendable {
    public var opcode: Opcode
    public var rd: UInt8
    public var rs1: UInt8
    public var rs2: UInt8
    public var rs3: UInt8
    /// The rounding mode for FP operations, the aq/rl bits (aq = 2, rl = 1) for atomics.
    public var rm: UInt8
    /// Length of the encoding in bytes: 2 (compressed) or 4.
    public var length: UInt8
    /// The sign-extended immediate, branch or jump offset, shift amount, CSR number (csr
    /// formats) or fence bits (`fm << 8 | pred << 4 | succ`).
    public var imm: Int64
    /// The instruction's bits as fetched: a 16-bit parcel for compressed instructions.
    public var raw: UInt32

    public init(
        opcode: Opcode, rd: UInt8 = 0, rs1: UInt8 = 0, rs2: UInt8 = 0, rs3: UInt8 = 0,
        rm: UInt8 = 0, length: UInt8 = 4, imm: Int64 = 0, raw: UInt32 = 0
    ) {
        self.opcode = opcode
        self.rd = rd
        self.rs1 = rs1
        self.rs2 = rs2
        self.rs3 = rs3
        self.rm = rm
        self.length = length
        self.imm = imm
        self.raw = raw
    }

    /// The illegal instruction for the given bits.
    public static func illegal(raw: UInt32, length: UInt8) -> Instruction {
        Instruction(opcode: .illegal, length: length, raw: raw)
    }

    /// Whether this came from a 16-bit (RVC) encoding.
    public var isCompressed: Bool { length == 2 }
}

/// Rounding modes as encoded in the `rm` field and in `frm`.
public enum RoundingMode: UInt8, Sendable {
    case rne = 0, rtz = 1, rdn = 2, rup = 3, rmm = 4
    /// In an instruction's `rm` field only: use the dynamic mode in `frm`.
    case dyn = 7
}

extension Instruction {
    /// Whether this instruction ends a basic block: it transfers control, traps into the
    /// environment, or changes what later instructions mean.
    public var endsBlock: Bool {
        switch opcode {
        // cbo.inval raises SIGILL in user mode, as Linux leaves it disabled there.
        case .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .ecall, .ebreak, .fence_i, .illegal,
            .cbo_inval:
            true
        case .lui, .auipc, .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd, .addi, .slti,
            .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .add, .sub, .sll, .slt, .sltu, .xor,
            .srl, .sra, .or, .and, .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw,
            .sraw, .fence, .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .mul, .mulh, .mulhsu,
            .mulhu, .div, .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw, .lr_w, .sc_w,
            .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w,
            .amominu_w, .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d,
            .amoor_d, .amomin_d, .amomax_d, .amominu_d, .amomaxu_d, .flw, .fsw, .fmadd_s,
            .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s,
            .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s,
            .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s, .fcvt_s_w, .fcvt_s_wu,
            .fcvt_s_l, .fcvt_s_lu, .fmv_w_x, .fld, .fsd, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d,
            .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d,
            .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d, .fclass_d, .fcvt_w_d,
            .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d, .fcvt_d_w, .fcvt_d_wu, .fcvt_d_l,
            .fcvt_d_lu, .fmv_d_x, .sh1add, .sh2add, .sh3add, .add_uw, .sh1add_uw, .sh2add_uw,
            .sh3add_uw, .slli_uw, .andn, .orn, .xnor, .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max,
            .maxu, .min, .minu, .sext_b, .sext_h, .zext_h, .rol, .rolw, .ror, .rori, .roriw, .rorw,
            .orc_b, .rev8, .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti, .czero_eqz,
            .czero_nez, .cbo_clean, .cbo_flush, .cbo_zero, .fli_s, .fminm_s, .fmaxm_s, .fround_s,
            .froundnx_s, .fleq_s, .fltq_s, .fli_d, .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d,
            .fltq_d, .fcvtmod_w_d:
            false
        }
    }
}
