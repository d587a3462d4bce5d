/// The ISA extension an instruction belongs to.
public enum Extension: String, CaseIterable, Sendable {
    case i = "I", m = "M", a = "A", f = "F", d = "D", zicsr = "Zicsr", zifencei = "Zifencei"
    case zba = "Zba", zbb = "Zbb", zbs = "Zbs", zicond = "Zicond", zicbom = "Zicbom", zicboz = "Zicboz"
    case zfa = "Zfa"
    /// `pause`, a `fence` encoding: no rows of its own, but it changes how a fence prints.
    case zihintpause = "Zihintpause"

    /// Every extension Rivet executes.
    public static let all = Set(allCases)
    /// RV64GC's extensions: what objdump decodes in a file that names no others.
    public static let rv64gc: Set<Extension> = [.i, .m, .a, .f, .d, .zicsr, .zifencei]
    /// The extensions GNU objdump 2.40 can decode when a file names them: all but Zicond and
    /// Zfa, which binutils supports from 2.41 on.
    public static let binutils240 = all.subtracting([.zicond, .zfa])

    /// The extension an ISA string spells `name` (`zba`, `m`; any case), or nil.
    public init?(isaStringName name: some StringProtocol) {
        guard let found = Self.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }) else {
            return nil
        }
        self = found
    }
}

/// One row per 32-bit instruction form: the single description of the encodings that the
/// decoder, the disassembler and the tests are derived from.
///
/// A word `w` encodes the row's instruction when `w & mask == match`. Fields outside the mask are
/// operands, laid out as `format` says. The values follow the RISC-V Unprivileged ISA manual,
/// chapter "RV32/64G Instruction Set Listings".
public struct EncodingRow: Sendable {
    public let opcode: Opcode
    public let mnemonic: String
    public let match: UInt32
    public let mask: UInt32
    public let format: Format
    public let isa: Extension
}

public enum EncodingTable {
    private static func row(
        _ opcode: Opcode, _ mnemonic: String, _ match: UInt32, _ mask: UInt32, _ format: Format,
        _ isa: Extension
    ) -> EncodingRow {
        EncodingRow(opcode: opcode, mnemonic: mnemonic, match: match, mask: mask, format: format, isa: isa)
    }

    // Masks shared by many rows.
    private static let opc: UInt32 = 0x0000_007f  // opcode only
    private static let f3: UInt32 = 0x0000_707f  // opcode + funct3
    private static let f7: UInt32 = 0xfe00_707f  // opcode + funct3 + funct7
    private static let sh6: UInt32 = 0xfc00_707f  // opcode + funct3 + funct6 (RV64 shifts)
    private static let amo: UInt32 = 0xf800_707f  // opcode + funct3 + funct5
    private static let lr: UInt32 = 0xf9f0_707f  // amo + rs2 = 0
    private static let fr4: UInt32 = 0x0600_007f  // opcode + fmt
    private static let frm: UInt32 = 0xfe00_007f  // opcode + funct7, any rm
    private static let fun: UInt32 = 0xfff0_007f  // opcode + funct7 + rs2, any rm
    private static let funR: UInt32 = 0xfff0_707f  // opcode + funct7 + rs2 + funct3
    private static let cbo: UInt32 = 0xfff0_7fff  // opcode + funct3 + imm12 + rd = 0

    /// Every instruction form, in the order of the Opcode enum.
    public static let rows: [EncodingRow] = [
        row(.illegal, "illegal", 0, 0, .none, .i),

        row(.lui, "lui", 0x37, opc, .u, .i),
        row(.auipc, "auipc", 0x17, opc, .u, .i),
        row(.jal, "jal", 0x6f, opc, .j, .i),
        row(.jalr, "jalr", 0x67, f3, .jalr, .i),
        row(.beq, "beq", 0x0063, f3, .b, .i),
        row(.bne, "bne", 0x1063, f3, .b, .i),
        row(.blt, "blt", 0x4063, f3, .b, .i),
        row(.bge, "bge", 0x5063, f3, .b, .i),
        row(.bltu, "bltu", 0x6063, f3, .b, .i),
        row(.bgeu, "bgeu", 0x7063, f3, .b, .i),
        row(.lb, "lb", 0x0003, f3, .load, .i),
        row(.lh, "lh", 0x1003, f3, .load, .i),
        row(.lw, "lw", 0x2003, f3, .load, .i),
        row(.ld, "ld", 0x3003, f3, .load, .i),
        row(.lbu, "lbu", 0x4003, f3, .load, .i),
        row(.lhu, "lhu", 0x5003, f3, .load, .i),
        row(.lwu, "lwu", 0x6003, f3, .load, .i),
        row(.sb, "sb", 0x0023, f3, .s, .i),
        row(.sh, "sh", 0x1023, f3, .s, .i),
        row(.sw, "sw", 0x2023, f3, .s, .i),
        row(.sd, "sd", 0x3023, f3, .s, .i),
        row(.addi, "addi", 0x0013, f3, .i, .i),
        row(.slti, "slti", 0x2013, f3, .i, .i),
        row(.sltiu, "sltiu", 0x3013, f3, .i, .i),
        row(.xori, "xori", 0x4013, f3, .i, .i),
        row(.ori, "ori", 0x6013, f3, .i, .i),
        row(.andi, "andi", 0x7013, f3, .i, .i),
        row(.slli, "slli", 0x1013, sh6, .shift64, .i),
        row(.srli, "srli", 0x5013, sh6, .shift64, .i),
        row(.srai, "srai", 0x4000_5013, sh6, .shift64, .i),
        row(.add, "add", 0x0033, f7, .r, .i),
        row(.sub, "sub", 0x4000_0033, f7, .r, .i),
        row(.sll, "sll", 0x1033, f7, .r, .i),
        row(.slt, "slt", 0x2033, f7, .r, .i),
        row(.sltu, "sltu", 0x3033, f7, .r, .i),
        row(.xor, "xor", 0x4033, f7, .r, .i),
        row(.srl, "srl", 0x5033, f7, .r, .i),
        row(.sra, "sra", 0x4000_5033, f7, .r, .i),
        row(.or, "or", 0x6033, f7, .r, .i),
        row(.and, "and", 0x7033, f7, .r, .i),
        row(.addiw, "addiw", 0x001b, f3, .i, .i),
        row(.slliw, "slliw", 0x101b, f7, .shift32, .i),
        row(.srliw, "srliw", 0x501b, f7, .shift32, .i),
        row(.sraiw, "sraiw", 0x4000_501b, f7, .shift32, .i),
        row(.addw, "addw", 0x003b, f7, .r, .i),
        row(.subw, "subw", 0x4000_003b, f7, .r, .i),
        row(.sllw, "sllw", 0x103b, f7, .r, .i),
        row(.srlw, "srlw", 0x503b, f7, .r, .i),
        row(.sraw, "sraw", 0x4000_503b, f7, .r, .i),
        row(.fence, "fence", 0x000f, f3, .fence, .i),
        row(.ecall, "ecall", 0x0000_0073, 0xffff_ffff, .system, .i),
        row(.ebreak, "ebreak", 0x0010_0073, 0xffff_ffff, .system, .i),

        row(.fence_i, "fence.i", 0x100f, f3, .system, .zifencei),

        row(.csrrw, "csrrw", 0x1073, f3, .csr, .zicsr),
        row(.csrrs, "csrrs", 0x2073, f3, .csr, .zicsr),
        row(.csrrc, "csrrc", 0x3073, f3, .csr, .zicsr),
        row(.csrrwi, "csrrwi", 0x5073, f3, .csrImm, .zicsr),
        row(.csrrsi, "csrrsi", 0x6073, f3, .csrImm, .zicsr),
        row(.csrrci, "csrrci", 0x7073, f3, .csrImm, .zicsr),

        row(.mul, "mul", 0x0200_0033, f7, .r, .m),
        row(.mulh, "mulh", 0x0200_1033, f7, .r, .m),
        row(.mulhsu, "mulhsu", 0x0200_2033, f7, .r, .m),
        row(.mulhu, "mulhu", 0x0200_3033, f7, .r, .m),
        row(.div, "div", 0x0200_4033, f7, .r, .m),
        row(.divu, "divu", 0x0200_5033, f7, .r, .m),
        row(.rem, "rem", 0x0200_6033, f7, .r, .m),
        row(.remu, "remu", 0x0200_7033, f7, .r, .m),
        row(.mulw, "mulw", 0x0200_003b, f7, .r, .m),
        row(.divw, "divw", 0x0200_403b, f7, .r, .m),
        row(.divuw, "divuw", 0x0200_503b, f7, .r, .m),
        row(.remw, "remw", 0x0200_603b, f7, .r, .m),
        row(.remuw, "remuw", 0x0200_703b, f7, .r, .m),

        row(.lr_w, "lr.w", 0x1000_202f, lr, .lr, .a),
        row(.sc_w, "sc.w", 0x1800_202f, amo, .amo, .a),
        row(.amoswap_w, "amoswap.w", 0x0800_202f, amo, .amo, .a),
        row(.amoadd_w, "amoadd.w", 0x0000_202f, amo, .amo, .a),
        row(.amoxor_w, "amoxor.w", 0x2000_202f, amo, .amo, .a),
        row(.amoand_w, "amoand.w", 0x6000_202f, amo, .amo, .a),
        row(.amoor_w, "amoor.w", 0x4000_202f, amo, .amo, .a),
        row(.amomin_w, "amomin.w", 0x8000_202f, amo, .amo, .a),
        row(.amomax_w, "amomax.w", 0xa000_202f, amo, .amo, .a),
        row(.amominu_w, "amominu.w", 0xc000_202f, amo, .amo, .a),
        row(.amomaxu_w, "amomaxu.w", 0xe000_202f, amo, .amo, .a),
        row(.lr_d, "lr.d", 0x1000_302f, lr, .lr, .a),
        row(.sc_d, "sc.d", 0x1800_302f, amo, .amo, .a),
        row(.amoswap_d, "amoswap.d", 0x0800_302f, amo, .amo, .a),
        row(.amoadd_d, "amoadd.d", 0x0000_302f, amo, .amo, .a),
        row(.amoxor_d, "amoxor.d", 0x2000_302f, amo, .amo, .a),
        row(.amoand_d, "amoand.d", 0x6000_302f, amo, .amo, .a),
        row(.amoor_d, "amoor.d", 0x4000_302f, amo, .amo, .a),
        row(.amomin_d, "amomin.d", 0x8000_302f, amo, .amo, .a),
        row(.amomax_d, "amomax.d", 0xa000_302f, amo, .amo, .a),
        row(.amominu_d, "amominu.d", 0xc000_302f, amo, .amo, .a),
        row(.amomaxu_d, "amomaxu.d", 0xe000_302f, amo, .amo, .a),

        row(.flw, "flw", 0x2007, f3, .fload, .f),
        row(.fsw, "fsw", 0x2027, f3, .fstore, .f),
        row(.fmadd_s, "fmadd.s", 0x43, fr4, .fr4, .f),
        row(.fmsub_s, "fmsub.s", 0x47, fr4, .fr4, .f),
        row(.fnmsub_s, "fnmsub.s", 0x4b, fr4, .fr4, .f),
        row(.fnmadd_s, "fnmadd.s", 0x4f, fr4, .fr4, .f),
        row(.fadd_s, "fadd.s", 0x0000_0053, frm, .frm, .f),
        row(.fsub_s, "fsub.s", 0x0800_0053, frm, .frm, .f),
        row(.fmul_s, "fmul.s", 0x1000_0053, frm, .frm, .f),
        row(.fdiv_s, "fdiv.s", 0x1800_0053, frm, .frm, .f),
        row(.fsqrt_s, "fsqrt.s", 0x5800_0053, fun, .funaryRM, .f),
        row(.fsgnj_s, "fsgnj.s", 0x2000_0053, f7, .fr, .f),
        row(.fsgnjn_s, "fsgnjn.s", 0x2000_1053, f7, .fr, .f),
        row(.fsgnjx_s, "fsgnjx.s", 0x2000_2053, f7, .fr, .f),
        row(.fmin_s, "fmin.s", 0x2800_0053, f7, .fr, .f),
        row(.fmax_s, "fmax.s", 0x2800_1053, f7, .fr, .f),
        row(.fcvt_w_s, "fcvt.w.s", 0xc000_0053, fun, .fToInt, .f),
        row(.fcvt_wu_s, "fcvt.wu.s", 0xc010_0053, fun, .fToInt, .f),
        row(.fcvt_l_s, "fcvt.l.s", 0xc020_0053, fun, .fToInt, .f),
        row(.fcvt_lu_s, "fcvt.lu.s", 0xc030_0053, fun, .fToInt, .f),
        row(.fmv_x_w, "fmv.x.w", 0xe000_0053, funR, .fToIntRaw, .f),
        row(.fclass_s, "fclass.s", 0xe000_1053, funR, .fToIntRaw, .f),
        row(.feq_s, "feq.s", 0xa000_2053, f7, .fcmp, .f),
        row(.flt_s, "flt.s", 0xa000_1053, f7, .fcmp, .f),
        row(.fle_s, "fle.s", 0xa000_0053, f7, .fcmp, .f),
        row(.fcvt_s_w, "fcvt.s.w", 0xd000_0053, fun, .intToF, .f),
        row(.fcvt_s_wu, "fcvt.s.wu", 0xd010_0053, fun, .intToF, .f),
        row(.fcvt_s_l, "fcvt.s.l", 0xd020_0053, fun, .intToF, .f),
        row(.fcvt_s_lu, "fcvt.s.lu", 0xd030_0053, fun, .intToF, .f),
        row(.fmv_w_x, "fmv.w.x", 0xf000_0053, funR, .intToFRaw, .f),

        row(.fld, "fld", 0x3007, f3, .fload, .d),
        row(.fsd, "fsd", 0x3027, f3, .fstore, .d),
        row(.fmadd_d, "fmadd.d", 0x0200_0043, fr4, .fr4, .d),
        row(.fmsub_d, "fmsub.d", 0x0200_0047, fr4, .fr4, .d),
        row(.fnmsub_d, "fnmsub.d", 0x0200_004b, fr4, .fr4, .d),
        row(.fnmadd_d, "fnmadd.d", 0x0200_004f, fr4, .fr4, .d),
        row(.fadd_d, "fadd.d", 0x0200_0053, frm, .frm, .d),
        row(.fsub_d, "fsub.d", 0x0a00_0053, frm, .frm, .d),
        row(.fmul_d, "fmul.d", 0x1200_0053, frm, .frm, .d),
        row(.fdiv_d, "fdiv.d", 0x1a00_0053, frm, .frm, .d),
        row(.fsqrt_d, "fsqrt.d", 0x5a00_0053, fun, .funaryRM, .d),
        row(.fsgnj_d, "fsgnj.d", 0x2200_0053, f7, .fr, .d),
        row(.fsgnjn_d, "fsgnjn.d", 0x2200_1053, f7, .fr, .d),
        row(.fsgnjx_d, "fsgnjx.d", 0x2200_2053, f7, .fr, .d),
        row(.fmin_d, "fmin.d", 0x2a00_0053, f7, .fr, .d),
        row(.fmax_d, "fmax.d", 0x2a00_1053, f7, .fr, .d),
        row(.fcvt_s_d, "fcvt.s.d", 0x4010_0053, fun, .funaryRM, .d),
        row(.fcvt_d_s, "fcvt.d.s", 0x4200_0053, fun, .funaryRM, .d),
        row(.feq_d, "feq.d", 0xa200_2053, f7, .fcmp, .d),
        row(.flt_d, "flt.d", 0xa200_1053, f7, .fcmp, .d),
        row(.fle_d, "fle.d", 0xa200_0053, f7, .fcmp, .d),
        row(.fclass_d, "fclass.d", 0xe200_1053, funR, .fToIntRaw, .d),
        row(.fcvt_w_d, "fcvt.w.d", 0xc200_0053, fun, .fToInt, .d),
        row(.fcvt_wu_d, "fcvt.wu.d", 0xc210_0053, fun, .fToInt, .d),
        row(.fcvt_l_d, "fcvt.l.d", 0xc220_0053, fun, .fToInt, .d),
        row(.fcvt_lu_d, "fcvt.lu.d", 0xc230_0053, fun, .fToInt, .d),
        row(.fmv_x_d, "fmv.x.d", 0xe200_0053, funR, .fToIntRaw, .d),
        row(.fcvt_d_w, "fcvt.d.w", 0xd200_0053, fun, .intToF, .d),
        row(.fcvt_d_wu, "fcvt.d.wu", 0xd210_0053, fun, .intToF, .d),
        row(.fcvt_d_l, "fcvt.d.l", 0xd220_0053, fun, .intToF, .d),
        row(.fcvt_d_lu, "fcvt.d.lu", 0xd230_0053, fun, .intToF, .d),
        row(.fmv_d_x, "fmv.d.x", 0xf200_0053, funR, .intToFRaw, .d),

        // The bit-manipulation extensions, version 1.0.0 of "RISC-V Bit-Manipulation ISA-extensions".
        row(.sh1add, "sh1add", 0x2000_2033, f7, .r, .zba),
        row(.sh2add, "sh2add", 0x2000_4033, f7, .r, .zba),
        row(.sh3add, "sh3add", 0x2000_6033, f7, .r, .zba),
        row(.add_uw, "add.uw", 0x0800_003b, f7, .r, .zba),
        row(.sh1add_uw, "sh1add.uw", 0x2000_203b, f7, .r, .zba),
        row(.sh2add_uw, "sh2add.uw", 0x2000_403b, f7, .r, .zba),
        row(.sh3add_uw, "sh3add.uw", 0x2000_603b, f7, .r, .zba),
        row(.slli_uw, "slli.uw", 0x0800_101b, sh6, .shift64, .zba),

        row(.andn, "andn", 0x4000_7033, f7, .r, .zbb),
        row(.orn, "orn", 0x4000_6033, f7, .r, .zbb),
        row(.xnor, "xnor", 0x4000_4033, f7, .r, .zbb),
        row(.clz, "clz", 0x6000_1013, funR, .unary, .zbb),
        row(.clzw, "clzw", 0x6000_101b, funR, .unary, .zbb),
        row(.ctz, "ctz", 0x6010_1013, funR, .unary, .zbb),
        row(.ctzw, "ctzw", 0x6010_101b, funR, .unary, .zbb),
        row(.cpop, "cpop", 0x6020_1013, funR, .unary, .zbb),
        row(.cpopw, "cpopw", 0x6020_101b, funR, .unary, .zbb),
        row(.max, "max", 0x0a00_6033, f7, .r, .zbb),
        row(.maxu, "maxu", 0x0a00_7033, f7, .r, .zbb),
        row(.min, "min", 0x0a00_4033, f7, .r, .zbb),
        row(.minu, "minu", 0x0a00_5033, f7, .r, .zbb),
        row(.sext_b, "sext.b", 0x6040_1013, funR, .unary, .zbb),
        row(.sext_h, "sext.h", 0x6050_1013, funR, .unary, .zbb),
        row(.zext_h, "zext.h", 0x0800_403b, funR, .unary, .zbb),  // RV64: packw rd, rs1, x0
        row(.rol, "rol", 0x6000_1033, f7, .r, .zbb),
        row(.rolw, "rolw", 0x6000_103b, f7, .r, .zbb),
        row(.ror, "ror", 0x6000_5033, f7, .r, .zbb),
        row(.rori, "rori", 0x6000_5013, sh6, .shift64, .zbb),
        row(.roriw, "roriw", 0x6000_501b, f7, .shift32, .zbb),
        row(.rorw, "rorw", 0x6000_503b, f7, .r, .zbb),
        row(.orc_b, "orc.b", 0x2870_5013, funR, .unary, .zbb),
        row(.rev8, "rev8", 0x6b80_5013, funR, .unary, .zbb),  // RV64 encoding

        row(.bclr, "bclr", 0x4800_1033, f7, .r, .zbs),
        row(.bclri, "bclri", 0x4800_1013, sh6, .shift64, .zbs),
        row(.bext, "bext", 0x4800_5033, f7, .r, .zbs),
        row(.bexti, "bexti", 0x4800_5013, sh6, .shift64, .zbs),
        row(.binv, "binv", 0x6800_1033, f7, .r, .zbs),
        row(.binvi, "binvi", 0x6800_1013, sh6, .shift64, .zbs),
        row(.bset, "bset", 0x2800_1033, f7, .r, .zbs),
        row(.bseti, "bseti", 0x2800_1013, sh6, .shift64, .zbs),

        // Version 1.0.1 of "RISC-V Integer Conditional (Zicond) operations extension".
        row(.czero_eqz, "czero.eqz", 0x0e00_5033, f7, .r, .zicond),
        row(.czero_nez, "czero.nez", 0x0e00_7033, f7, .r, .zicond),

        // Version 1.0 of "RISC-V Base Cache Management Operation ISA Extensions".
        row(.cbo_clean, "cbo.clean", 0x0010_200f, cbo, .cbo, .zicbom),
        row(.cbo_flush, "cbo.flush", 0x0020_200f, cbo, .cbo, .zicbom),
        row(.cbo_inval, "cbo.inval", 0x0000_200f, cbo, .cbo, .zicbom),
        row(.cbo_zero, "cbo.zero", 0x0040_200f, cbo, .cbo, .zicboz),

        // Chapter "Zfa", version 1.0, of the RISC-V Unprivileged ISA manual.
        row(.fli_s, "fli.s", 0xf010_0053, funR, .fli, .zfa),
        row(.fminm_s, "fminm.s", 0x2800_2053, f7, .fr, .zfa),
        row(.fmaxm_s, "fmaxm.s", 0x2800_3053, f7, .fr, .zfa),
        row(.fround_s, "fround.s", 0x4040_0053, fun, .funaryRM, .zfa),
        row(.froundnx_s, "froundnx.s", 0x4050_0053, fun, .funaryRM, .zfa),
        row(.fleq_s, "fleq.s", 0xa000_4053, f7, .fcmp, .zfa),
        row(.fltq_s, "fltq.s", 0xa000_5053, f7, .fcmp, .zfa),
        row(.fli_d, "fli.d", 0xf210_0053, funR, .fli, .zfa),
        row(.fminm_d, "fminm.d", 0x2a00_2053, f7, .fr, .zfa),
        row(.fmaxm_d, "fmaxm.d", 0x2a00_3053, f7, .fr, .zfa),
        row(.fround_d, "fround.d", 0x4240_0053, fun, .funaryRM, .zfa),
        row(.froundnx_d, "froundnx.d", 0x4250_0053, fun, .funaryRM, .zfa),
        row(.fleq_d, "fleq.d", 0xa200_4053, f7, .fcmp, .zfa),
        row(.fltq_d, "fltq.d", 0xa200_5053, f7, .fcmp, .zfa),
        row(.fcvtmod_w_d, "fcvtmod.w.d", 0xc280_1053, funR, .fToInt, .zfa),  // rm must be RTZ
    ]

    /// The row describing `opcode`. Rows are stored in enum order, which a test checks.
    @inline(__always)
    public static func row(for opcode: Opcode) -> EncodingRow { rows[Int(opcode.rawValue)] }
}
