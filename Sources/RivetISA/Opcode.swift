/// Every instruction of RV64IMAFDC + Zicsr + Zifencei and of the extensions current toolchains
/// emit (Zba, Zbb, Zbs, Zicond, Zicbom, Zicboz, Zfa), one case per operation. `pause` (Zihintpause)
/// is a `fence` encoding and has no case of its own.
///
/// Compressed instructions have no cases of their own: the decoder expands them to the 32-bit
/// operation they stand for. The raw values are dense so that tiers can index tables by them.
/// Where an encoding and its mnemonic live is `EncodingTable.rows`; a switch over this enum never
/// has a `default:`, so a new case breaks the build wherever something must be decided about it.
public enum Opcode: UInt8, CaseIterable, Sendable {
    /// An encoding that is not a valid RV64GC instruction. Executing it raises SIGILL.
    case illegal

    // RV64I
    case lui, auipc, jal, jalr
    case beq, bne, blt, bge, bltu, bgeu
    case lb, lh, lw, ld, lbu, lhu, lwu
    case sb, sh, sw, sd
    case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    case addiw, slliw, srliw, sraiw
    case addw, subw, sllw, srlw, sraw
    case fence, ecall, ebreak

    // Zifencei
    case fence_i

    // Zicsr
    case csrrw, csrrs, csrrc, csrrwi, csrrsi, csrrci

    // M
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
    case mulw, divw, divuw, remw, remuw

    // A
    case lr_w, sc_w, amoswap_w, amoadd_w, amoxor_w, amoand_w, amoor_w
    case amomin_w, amomax_w, amominu_w, amomaxu_w
    case lr_d, sc_d, amoswap_d, amoadd_d, amoxor_d, amoand_d, amoor_d
    case amomin_d, amomax_d, amominu_d, amomaxu_d

    // F
    case flw, fsw
    case fmadd_s, fmsub_s, fnmsub_s, fnmadd_s
    case fadd_s, fsub_s, fmul_s, fdiv_s, fsqrt_s
    case fsgnj_s, fsgnjn_s, fsgnjx_s, fmin_s, fmax_s
    case fcvt_w_s, fcvt_wu_s, fcvt_l_s, fcvt_lu_s
    case fmv_x_w, fclass_s, feq_s, flt_s, fle_s
    case fcvt_s_w, fcvt_s_wu, fcvt_s_l, fcvt_s_lu, fmv_w_x

    // D
    case fld, fsd
    case fmadd_d, fmsub_d, fnmsub_d, fnmadd_d
    case fadd_d, fsub_d, fmul_d, fdiv_d, fsqrt_d
    case fsgnj_d, fsgnjn_d, fsgnjx_d, fmin_d, fmax_d
    case fcvt_s_d, fcvt_d_s
    case feq_d, flt_d, fle_d, fclass_d
    case fcvt_w_d, fcvt_wu_d, fcvt_l_d, fcvt_lu_d
    case fmv_x_d
    case fcvt_d_w, fcvt_d_wu, fcvt_d_l, fcvt_d_lu, fmv_d_x

    // Zba
    case sh1add, sh2add, sh3add, add_uw, sh1add_uw, sh2add_uw, sh3add_uw, slli_uw

    // Zbb
    case andn, orn, xnor, clz, clzw, ctz, ctzw, cpop, cpopw, max, maxu, min, minu
    case sext_b, sext_h, zext_h, rol, rolw, ror, rori, roriw, rorw, orc_b, rev8

    // Zbs
    case bclr, bclri, bext, bexti, binv, binvi, bset, bseti

    // Zicond
    case czero_eqz, czero_nez

    // Zicbom, Zicboz
    case cbo_clean, cbo_flush, cbo_inval, cbo_zero

    // Zfa (RV64: fmvh.x.d and fmvp.d.x are RV32-only)
    case fli_s, fminm_s, fmaxm_s, fround_s, froundnx_s, fleq_s, fltq_s
    case fli_d, fminm_d, fmaxm_d, fround_d, froundnx_d, fleq_d, fltq_d, fcvtmod_w_d
}

extension Opcode {
    /// The assembler mnemonic, as the RISC-V manual and GNU as spell it (`fcvt.w.d`, `lr.w`).
    public var mnemonic: String { EncodingTable.row(for: self).mnemonic }

    /// The operand layout of the instruction's 32-bit encoding.
    public var format: Format { EncodingTable.row(for: self).format }

    /// The extension the instruction belongs to.
    public var isa: Extension { EncodingTable.row(for: self).isa }
}

/// Bytes in the cache block a `cbo.*` instruction acts on (the naturally aligned block holding
/// its address); riscv_hwprobe reports it as the Zicbom and Zicboz block size.
public let cacheBlockSize: UInt64 = 64
