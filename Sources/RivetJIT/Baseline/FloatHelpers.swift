import RivetISA
import RivetMachine

/// F and D operations for JIT code, one C-callable function per operation: JIT code passes the
/// operand bits, the resolved rounding mode and a pointer to `fcsr` (whose flags the function
/// ORs in), and stores the returned bits — no decoding at run time. Arithmetic is `SoftFloat`'s
/// (the definition of the instructions, shared by every tier); NaN-boxing is done here.
///
/// Signature of every function: `(a, b, c, rm, fcsr) -> result`, unused arguments ignored.
typealias FloatFunction = @convention(c) (UInt64, UInt64, UInt64, UInt64, UnsafeMutablePointer<UInt64>) -> UInt64

/// How JIT code calls a float function and uses its result.
enum FloatShape {
    /// FP registers in (rs1, rs2, rs3 as they exist), FP register out.
    case toFloat
    /// FP registers in, integer register out (compare, classify, convert to integer).
    case toInteger
    /// Integer register rs1 in, FP register out (convert from integer).
    case fromInteger
}

@inline(__always) private func unbox(_ v: UInt64) -> UInt32 {
    v >> 32 == 0xffff_ffff ? UInt32(truncatingIfNeeded: v) : SoftFloat.canonicalNaN32
}
@inline(__always) private func box(_ v: UInt32) -> UInt64 { 0xffff_ffff_0000_0000 | UInt64(v) }
@inline(__always) private func sext(_ v: Int32) -> UInt64 { UInt64(bitPattern: Int64(v)) }
@inline(__always) private func sext(_ v: UInt32) -> UInt64 { UInt64(bitPattern: Int64(Int32(bitPattern: v))) }
@inline(__always) private func mode(_ rm: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: rm) }

/// Runs `body` with a flags accumulator and ORs the flags into `fcsr`.
@inline(__always)
private func withFlags(_ fcsr: UnsafeMutablePointer<UInt64>, _ body: (inout UInt8) -> UInt64) -> UInt64 {
    var flags: UInt8 = 0
    let result = body(&flags)
    if flags != 0 { fcsr.pointee |= UInt64(flags) }
    return result
}

private let s32: UInt32 = 0x8000_0000
private let s64: UInt64 = 0x8000_0000_0000_0000

// binary32
private let fmaddS: FloatFunction = { a, b, c, rm, f in withFlags(f) { box(SoftFloat.fma32(unbox(a), unbox(b), unbox(c), mode(rm), &$0)) } }
private let fmsubS: FloatFunction = { a, b, c, rm, f in withFlags(f) { box(SoftFloat.fma32(unbox(a), unbox(b), unbox(c) ^ s32, mode(rm), &$0)) } }
private let fnmsubS: FloatFunction = { a, b, c, rm, f in withFlags(f) { box(SoftFloat.fma32(unbox(a) ^ s32, unbox(b), unbox(c), mode(rm), &$0)) } }
private let fnmaddS: FloatFunction = { a, b, c, rm, f in
    withFlags(f) { box(SoftFloat.fma32(unbox(a) ^ s32, unbox(b), unbox(c) ^ s32, mode(rm), &$0)) }
}
private let faddS: FloatFunction = { a, b, _, rm, f in withFlags(f) { box(SoftFloat.add32(unbox(a), unbox(b), mode(rm), &$0)) } }
private let fsubS: FloatFunction = { a, b, _, rm, f in withFlags(f) { box(SoftFloat.sub32(unbox(a), unbox(b), mode(rm), &$0)) } }
private let fmulS: FloatFunction = { a, b, _, rm, f in withFlags(f) { box(SoftFloat.mul32(unbox(a), unbox(b), mode(rm), &$0)) } }
private let fdivS: FloatFunction = { a, b, _, rm, f in withFlags(f) { box(SoftFloat.div32(unbox(a), unbox(b), mode(rm), &$0)) } }
private let fsqrtS: FloatFunction = { a, _, _, rm, f in withFlags(f) { box(SoftFloat.sqrt32(unbox(a), mode(rm), &$0)) } }
private let fsgnjS: FloatFunction = { a, b, _, _, _ in box((unbox(a) & ~s32) | (unbox(b) & s32)) }
private let fsgnjnS: FloatFunction = { a, b, _, _, _ in box((unbox(a) & ~s32) | (~unbox(b) & s32)) }
private let fsgnjxS: FloatFunction = { a, b, _, _, _ in box(unbox(a) ^ (unbox(b) & s32)) }
private let fminS: FloatFunction = { a, b, _, _, f in withFlags(f) { box(SoftFloat.min32(unbox(a), unbox(b), &$0)) } }
private let fmaxS: FloatFunction = { a, b, _, _, f in withFlags(f) { box(SoftFloat.max32(unbox(a), unbox(b), &$0)) } }
private let fcvtWS: FloatFunction = { a, _, _, rm, f in withFlags(f) { sext(SoftFloat.f32ToI32(unbox(a), mode(rm), &$0)) } }
private let fcvtWUS: FloatFunction = { a, _, _, rm, f in withFlags(f) { sext(SoftFloat.f32ToU32(unbox(a), mode(rm), &$0)) } }
private let fcvtLS: FloatFunction = { a, _, _, rm, f in withFlags(f) { UInt64(bitPattern: SoftFloat.f32ToI64(unbox(a), mode(rm), &$0)) } }
private let fcvtLUS: FloatFunction = { a, _, _, rm, f in withFlags(f) { SoftFloat.f32ToU64(unbox(a), mode(rm), &$0) } }
private let fmvXW: FloatFunction = { a, _, _, _, _ in sext(UInt32(truncatingIfNeeded: a)) }
private let fclassS: FloatFunction = { a, _, _, _, _ in SoftFloat.classify32(unbox(a)) }
private let feqS: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.eq32(unbox(a), unbox(b), &$0) ? 1 : 0 } }
private let fltS: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.lt32(unbox(a), unbox(b), &$0) ? 1 : 0 } }
private let fleS: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.le32(unbox(a), unbox(b), &$0) ? 1 : 0 } }
private let fcvtSW: FloatFunction = { x, _, _, rm, f in withFlags(f) { box(SoftFloat.i32ToF32(Int32(truncatingIfNeeded: x), mode(rm), &$0)) } }
private let fcvtSWU: FloatFunction = { x, _, _, rm, f in withFlags(f) { box(SoftFloat.u32ToF32(UInt32(truncatingIfNeeded: x), mode(rm), &$0)) } }
private let fcvtSL: FloatFunction = { x, _, _, rm, f in withFlags(f) { box(SoftFloat.i64ToF32(Int64(bitPattern: x), mode(rm), &$0)) } }
private let fcvtSLU: FloatFunction = { x, _, _, rm, f in withFlags(f) { box(SoftFloat.u64ToF32(x, mode(rm), &$0)) } }
private let fmvWX: FloatFunction = { x, _, _, _, _ in box(UInt32(truncatingIfNeeded: x)) }

// binary64
private let fmaddD: FloatFunction = { a, b, c, rm, f in withFlags(f) { SoftFloat.fma64(a, b, c, mode(rm), &$0) } }
private let fmsubD: FloatFunction = { a, b, c, rm, f in withFlags(f) { SoftFloat.fma64(a, b, c ^ s64, mode(rm), &$0) } }
private let fnmsubD: FloatFunction = { a, b, c, rm, f in withFlags(f) { SoftFloat.fma64(a ^ s64, b, c, mode(rm), &$0) } }
private let fnmaddD: FloatFunction = { a, b, c, rm, f in withFlags(f) { SoftFloat.fma64(a ^ s64, b, c ^ s64, mode(rm), &$0) } }
private let faddD: FloatFunction = { a, b, _, rm, f in withFlags(f) { SoftFloat.add64(a, b, mode(rm), &$0) } }
private let fsubD: FloatFunction = { a, b, _, rm, f in withFlags(f) { SoftFloat.sub64(a, b, mode(rm), &$0) } }
private let fmulD: FloatFunction = { a, b, _, rm, f in withFlags(f) { SoftFloat.mul64(a, b, mode(rm), &$0) } }
private let fdivD: FloatFunction = { a, b, _, rm, f in withFlags(f) { SoftFloat.div64(a, b, mode(rm), &$0) } }
private let fsqrtD: FloatFunction = { a, _, _, rm, f in withFlags(f) { SoftFloat.sqrt64(a, mode(rm), &$0) } }
private let fminD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.min64(a, b, &$0) } }
private let fmaxD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.max64(a, b, &$0) } }
private let fcvtSD: FloatFunction = { a, _, _, rm, f in withFlags(f) { box(SoftFloat.f64ToF32(a, mode(rm), &$0)) } }
private let fcvtDS: FloatFunction = { a, _, _, _, f in withFlags(f) { SoftFloat.f32ToF64(unbox(a), &$0) } }
private let feqD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.eq64(a, b, &$0) ? 1 : 0 } }
private let fltD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.lt64(a, b, &$0) ? 1 : 0 } }
private let fleD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.le64(a, b, &$0) ? 1 : 0 } }
private let fclassD: FloatFunction = { a, _, _, _, _ in SoftFloat.classify64(a) }
private let fcvtWD: FloatFunction = { a, _, _, rm, f in withFlags(f) { sext(SoftFloat.f64ToI32(a, mode(rm), &$0)) } }
private let fcvtWUD: FloatFunction = { a, _, _, rm, f in withFlags(f) { sext(SoftFloat.f64ToU32(a, mode(rm), &$0)) } }
private let fcvtLD: FloatFunction = { a, _, _, rm, f in withFlags(f) { UInt64(bitPattern: SoftFloat.f64ToI64(a, mode(rm), &$0)) } }
private let fcvtLUD: FloatFunction = { a, _, _, rm, f in withFlags(f) { SoftFloat.f64ToU64(a, mode(rm), &$0) } }
private let fcvtDW: FloatFunction = { x, _, _, rm, f in withFlags(f) { SoftFloat.i32ToF64(Int32(truncatingIfNeeded: x), mode(rm), &$0) } }
private let fcvtDWU: FloatFunction = { x, _, _, rm, f in withFlags(f) { SoftFloat.u32ToF64(UInt32(truncatingIfNeeded: x), mode(rm), &$0) } }
private let fcvtDL: FloatFunction = { x, _, _, rm, f in withFlags(f) { SoftFloat.i64ToF64(Int64(bitPattern: x), mode(rm), &$0) } }
private let fcvtDLU: FloatFunction = { x, _, _, rm, f in withFlags(f) { SoftFloat.u64ToF64(x, mode(rm), &$0) } }

// Zfa
private let fminmS: FloatFunction = { a, b, _, _, f in withFlags(f) { box(SoftFloat.minimum32(unbox(a), unbox(b), &$0)) } }
private let fmaxmS: FloatFunction = { a, b, _, _, f in withFlags(f) { box(SoftFloat.maximum32(unbox(a), unbox(b), &$0)) } }
private let froundS: FloatFunction = { a, _, _, rm, f in
    withFlags(f) { box(SoftFloat.roundToIntegral32(unbox(a), mode(rm), exact: false, &$0)) }
}
private let froundnxS: FloatFunction = { a, _, _, rm, f in
    withFlags(f) { box(SoftFloat.roundToIntegral32(unbox(a), mode(rm), exact: true, &$0)) }
}
private let fleqS: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.quietLE32(unbox(a), unbox(b), &$0) ? 1 : 0 } }
private let fltqS: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.quietLT32(unbox(a), unbox(b), &$0) ? 1 : 0 } }
private let fminmD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.minimum64(a, b, &$0) } }
private let fmaxmD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.maximum64(a, b, &$0) } }
private let froundD: FloatFunction = { a, _, _, rm, f in withFlags(f) { SoftFloat.roundToIntegral64(a, mode(rm), exact: false, &$0) } }
private let froundnxD: FloatFunction = { a, _, _, rm, f in withFlags(f) { SoftFloat.roundToIntegral64(a, mode(rm), exact: true, &$0) } }
private let fleqD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.quietLE64(a, b, &$0) ? 1 : 0 } }
private let fltqD: FloatFunction = { a, b, _, _, f in withFlags(f) { SoftFloat.quietLT64(a, b, &$0) ? 1 : 0 } }
private let fcvtmodWD: FloatFunction = { a, _, _, _, f in withFlags(f) { sext(SoftFloat.f64ToI32Modular(a, &$0)) } }

extension BlockTranslator {
    /// The function and call shape of an F/D computational instruction, or nil for the
    /// instructions the translator emits inline (sign injection of doubles, moves) and for
    /// every non-FP instruction.
    static func floatFunction(_ opcode: Opcode) -> (function: FloatFunction, shape: FloatShape)? {
        switch opcode {
        case .fmadd_s: (fmaddS, .toFloat)
        case .fmsub_s: (fmsubS, .toFloat)
        case .fnmsub_s: (fnmsubS, .toFloat)
        case .fnmadd_s: (fnmaddS, .toFloat)
        case .fadd_s: (faddS, .toFloat)
        case .fsub_s: (fsubS, .toFloat)
        case .fmul_s: (fmulS, .toFloat)
        case .fdiv_s: (fdivS, .toFloat)
        case .fsqrt_s: (fsqrtS, .toFloat)
        case .fsgnj_s: (fsgnjS, .toFloat)
        case .fsgnjn_s: (fsgnjnS, .toFloat)
        case .fsgnjx_s: (fsgnjxS, .toFloat)
        case .fmin_s: (fminS, .toFloat)
        case .fmax_s: (fmaxS, .toFloat)
        case .fcvt_w_s: (fcvtWS, .toInteger)
        case .fcvt_wu_s: (fcvtWUS, .toInteger)
        case .fcvt_l_s: (fcvtLS, .toInteger)
        case .fcvt_lu_s: (fcvtLUS, .toInteger)
        case .fmv_x_w: (fmvXW, .toInteger)
        case .fclass_s: (fclassS, .toInteger)
        case .feq_s: (feqS, .toInteger)
        case .flt_s: (fltS, .toInteger)
        case .fle_s: (fleS, .toInteger)
        case .fcvt_s_w: (fcvtSW, .fromInteger)
        case .fcvt_s_wu: (fcvtSWU, .fromInteger)
        case .fcvt_s_l: (fcvtSL, .fromInteger)
        case .fcvt_s_lu: (fcvtSLU, .fromInteger)
        case .fmv_w_x: (fmvWX, .fromInteger)
        case .fmadd_d: (fmaddD, .toFloat)
        case .fmsub_d: (fmsubD, .toFloat)
        case .fnmsub_d: (fnmsubD, .toFloat)
        case .fnmadd_d: (fnmaddD, .toFloat)
        case .fadd_d: (faddD, .toFloat)
        case .fsub_d: (fsubD, .toFloat)
        case .fmul_d: (fmulD, .toFloat)
        case .fdiv_d: (fdivD, .toFloat)
        case .fsqrt_d: (fsqrtD, .toFloat)
        case .fmin_d: (fminD, .toFloat)
        case .fmax_d: (fmaxD, .toFloat)
        case .fcvt_s_d: (fcvtSD, .toFloat)
        case .fcvt_d_s: (fcvtDS, .toFloat)
        case .feq_d: (feqD, .toInteger)
        case .flt_d: (fltD, .toInteger)
        case .fle_d: (fleD, .toInteger)
        case .fclass_d: (fclassD, .toInteger)
        case .fcvt_w_d: (fcvtWD, .toInteger)
        case .fcvt_wu_d: (fcvtWUD, .toInteger)
        case .fcvt_l_d: (fcvtLD, .toInteger)
        case .fcvt_lu_d: (fcvtLUD, .toInteger)
        case .fcvt_d_w: (fcvtDW, .fromInteger)
        case .fcvt_d_wu: (fcvtDWU, .fromInteger)
        case .fcvt_d_l: (fcvtDL, .fromInteger)
        case .fcvt_d_lu: (fcvtDLU, .fromInteger)
        case .fminm_s: (fminmS, .toFloat)
        case .fmaxm_s: (fmaxmS, .toFloat)
        case .fround_s: (froundS, .toFloat)
        case .froundnx_s: (froundnxS, .toFloat)
        case .fleq_s: (fleqS, .toInteger)
        case .fltq_s: (fltqS, .toInteger)
        case .fminm_d: (fminmD, .toFloat)
        case .fmaxm_d: (fmaxmD, .toFloat)
        case .fround_d: (froundD, .toFloat)
        case .froundnx_d: (froundnxD, .toFloat)
        case .fleq_d: (fleqD, .toInteger)
        case .fltq_d: (fltqD, .toInteger)
        case .fcvtmod_w_d: (fcvtmodWD, .toInteger)
        case .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmv_x_d, .fmv_d_x, .fli_s, .fli_d:
            nil
        case .illegal, .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .lb, .lh, .lw, .ld,
            .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd, .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli,
            .srai, .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and, .addiw, .slliw, .srliw,
            .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .fence, .ecall, .ebreak, .fence_i, .csrrw, .csrrs,
            .csrrc, .csrrwi, .csrrsi, .csrrci, .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
            .mulw, .divw, .divuw, .remw, .remuw, .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w,
            .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w, .amomaxu_w, .lr_d, .sc_d, .amoswap_d,
            .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d, .amominu_d, .amomaxu_d,
            .flw, .fsw, .fld, .fsd, .sh1add, .sh2add, .sh3add, .add_uw, .sh1add_uw, .sh2add_uw, .sh3add_uw,
            .slli_uw, .andn, .orn, .xnor, .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max, .maxu, .min, .minu,
            .sext_b, .sext_h, .zext_h, .rol, .rolw, .ror, .rori, .roriw, .rorw, .orc_b, .rev8, .bclr, .bclri,
            .bext, .bexti, .binv, .binvi, .bset, .bseti, .czero_eqz, .czero_nez, .cbo_clean, .cbo_flush,
            .cbo_inval, .cbo_zero:
            nil
        }
    }

    /// Sign injection of doubles, inline: rd = magnitude of rs1 with a sign from rs2.
    mutating func emitSignInjection(_ i: Instruction) {
        assembler.emit(.mov(.b64, .rax, f(i.rs1)))
        assembler.emit(.mov(.b64, .rcx, f(i.rs2)))
        switch i.opcode {
        case .fsgnj_d, .fsgnjn_d:
            if i.opcode == .fsgnjn_d { assembler.emit(.unary(.not, .b64, .rcx)) }
            assembler.emit(.shift(.shl, .b64, .rax, 1))
            assembler.emit(.shift(.shr, .b64, .rax, 1))
            assembler.emit(.shift(.shr, .b64, .rcx, 63))
            assembler.emit(.shift(.shl, .b64, .rcx, 63))
            assembler.emit(.alu(.or, .b64, .rax, .rcx))
        default:  // fsgnjx.d
            assembler.emit(.shift(.shr, .b64, .rcx, 63))
            assembler.emit(.shift(.shl, .b64, .rcx, 63))
            assembler.emit(.alu(.xor, .b64, .rax, .rcx))
        }
        assembler.emit(.mov(.b64, f(i.rd), .rax))
    }

    /// Emits a call of the float function for `i` (instruction `k`): the rounding mode into rcx
    /// (the dynamic one read from `frm`, leaving through the helper-failure exit when it is
    /// invalid); operands into rdi, rsi, rdx; `&fcsr` into r8; the result stored to rd. The
    /// integer source of a conversion is read from its slot, written back just before.
    mutating func emitFloatCall(_ i: Instruction, function: FloatFunction, shape: FloatShape, index k: Int) {
        let fcsr = HartState.Slot.fcsr
        writeBackRegisters()
        if i.opcode.format.hasRoundingMode {
            if i.rm == RoundingMode.dyn.rawValue {
                assembler.emit(.mov(.b32, .rcx, slot(fcsr)))
                assembler.emit(.shift(.shr, .b32, .rcx, 5))
                assembler.emit(.alu(.and, .b32, .rcx, imm: 7))
                assembler.emit(.alu(.cmp, .b32, .rcx, imm: 4))
                exitIf(.a, .helperFailure, k)
            } else {
                assembler.emit(.mov(.b32, .rcx, imm: Int64(i.rm)))
            }
        }
        // Operands last: rdi, rsi and r8 are cache registers, and the exit above writes the
        // cached registers back from them.
        switch shape {
        case .toFloat, .toInteger:
            assembler.emit(.mov(.b64, .rdi, f(i.rs1)))
            if i.opcode.format.rs2Class == .float { assembler.emit(.mov(.b64, .rsi, f(i.rs2))) }
            if i.opcode.format.rs3Class == .float { assembler.emit(.mov(.b64, .rdx, f(i.rs3))) }
        case .fromInteger:
            assembler.emit(.mov(.b64, .rdi, x(i.rs1)))
        }
        assembler.emit(.lea(.b64, .r8, slot(fcsr)))
        assembler.emit(.loadConstant(.rax, UInt64(unsafeBitCast(function, to: UInt.self))))
        assembler.emit(.call(.rax))
        clearFloatFlags()
        switch shape {
        case .toFloat, .fromInteger:
            assembler.emit(.mov(.b64, f(i.rd), .rax))
        case .toInteger:
            if i.rd != 0 { assembler.emit(.mov(.b64, x(i.rd), .rax)) }
        }
        reloadCache()
    }
}
