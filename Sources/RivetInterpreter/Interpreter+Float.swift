import RivetISA
import RivetMachine

@inline(__always) private func unbox(_ v: UInt64) -> UInt32 {
    v >> 32 == 0xffff_ffff ? UInt32(truncatingIfNeeded: v) : SoftFloat.canonicalNaN32
}
@inline(__always) private func box(_ v: UInt32) -> UInt64 { 0xffff_ffff_0000_0000 | UInt64(v) }
@inline(__always) private func sext(_ v: Int32) -> UInt64 { UInt64(bitPattern: Int64(v)) }
@inline(__always) private func sext(_ v: UInt32) -> UInt64 { UInt64(bitPattern: Int64(Int32(bitPattern: v))) }

extension Interpreter {
    /// Executes an F, D or Zfa computational instruction on the slots `r`. Returns false when the
    /// rounding mode is invalid (an illegal instruction). Single-precision operands are
    /// unboxed (an improperly NaN-boxed value reads as the canonical NaN) and results boxed.
    @inline(never)
    static func float(_ instruction: UnsafeMutablePointer<Inst>, _ r: UnsafeMutablePointer<UInt64>) -> Bool {
        // (By pointer, and read here in one load: passed by value, the caller assembled it from
        // its fields, and `fp32` under `--tier interp` took 15% longer.)
        let i = instruction.pointee
        let fcsr = HartState.Slot.fcsr
        let m = i.rm == RoundingMode.dyn.rawValue ? UInt8(truncatingIfNeeded: (r[fcsr] >> 5) & 7) : i.rm
        let rd = Int(i.rd)
        let a = r[Int(i.rs1)]
        let b = r[Int(i.rs2)]
        var fl: UInt8 = 0
        switch i.op {
        case .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s,
            .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s, .fcvt_lu_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_lu,
            .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d,
            .fcvt_s_d, .fcvt_d_s, .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fcvt_d_w, .fcvt_d_wu,
            .fcvt_d_l, .fcvt_d_lu, .fround_s, .froundnx_s, .fround_d, .froundnx_d:
            if m > 4 { return false }
        default:
            break
        }
        let sign32: UInt32 = 0x8000_0000
        let sign64: UInt64 = 0x8000_0000_0000_0000
        switch i.op {
        // binary32
        case .fmadd_s: r[rd] = box(SoftFloat.fma32(unbox(a), unbox(b), unbox(r[Int(i.rs3)]), m, &fl))
        case .fmsub_s: r[rd] = box(SoftFloat.fma32(unbox(a), unbox(b), unbox(r[Int(i.rs3)]) ^ sign32, m, &fl))
        case .fnmsub_s: r[rd] = box(SoftFloat.fma32(unbox(a) ^ sign32, unbox(b), unbox(r[Int(i.rs3)]), m, &fl))
        case .fnmadd_s:
            r[rd] = box(SoftFloat.fma32(unbox(a) ^ sign32, unbox(b), unbox(r[Int(i.rs3)]) ^ sign32, m, &fl))
        case .fadd_s: r[rd] = box(SoftFloat.add32(unbox(a), unbox(b), m, &fl))
        case .fsub_s: r[rd] = box(SoftFloat.sub32(unbox(a), unbox(b), m, &fl))
        case .fmul_s: r[rd] = box(SoftFloat.mul32(unbox(a), unbox(b), m, &fl))
        case .fdiv_s: r[rd] = box(SoftFloat.div32(unbox(a), unbox(b), m, &fl))
        case .fsqrt_s: r[rd] = box(SoftFloat.sqrt32(unbox(a), m, &fl))
        case .fsgnj_s: r[rd] = box((unbox(a) & ~sign32) | (unbox(b) & sign32))
        case .fsgnjn_s: r[rd] = box((unbox(a) & ~sign32) | (~unbox(b) & sign32))
        case .fsgnjx_s: r[rd] = box(unbox(a) ^ (unbox(b) & sign32))
        case .fmin_s: r[rd] = box(SoftFloat.min32(unbox(a), unbox(b), &fl))
        case .fmax_s: r[rd] = box(SoftFloat.max32(unbox(a), unbox(b), &fl))
        case .fcvt_w_s: r[rd] = sext(SoftFloat.f32ToI32(unbox(a), m, &fl))
        case .fcvt_wu_s: r[rd] = sext(SoftFloat.f32ToU32(unbox(a), m, &fl))
        case .fcvt_l_s: r[rd] = UInt64(bitPattern: SoftFloat.f32ToI64(unbox(a), m, &fl))
        case .fcvt_lu_s: r[rd] = SoftFloat.f32ToU64(unbox(a), m, &fl)
        case .fmv_x_w: r[rd] = sext(UInt32(truncatingIfNeeded: a))
        case .fclass_s: r[rd] = SoftFloat.classify32(unbox(a))
        case .feq_s: r[rd] = SoftFloat.eq32(unbox(a), unbox(b), &fl) ? 1 : 0
        case .flt_s: r[rd] = SoftFloat.lt32(unbox(a), unbox(b), &fl) ? 1 : 0
        case .fle_s: r[rd] = SoftFloat.le32(unbox(a), unbox(b), &fl) ? 1 : 0
        case .fcvt_s_w: r[rd] = box(SoftFloat.i32ToF32(Int32(truncatingIfNeeded: a), m, &fl))
        case .fcvt_s_wu: r[rd] = box(SoftFloat.u32ToF32(UInt32(truncatingIfNeeded: a), m, &fl))
        case .fcvt_s_l: r[rd] = box(SoftFloat.i64ToF32(Int64(bitPattern: a), m, &fl))
        case .fcvt_s_lu: r[rd] = box(SoftFloat.u64ToF32(a, m, &fl))
        case .fmv_w_x: r[rd] = box(UInt32(truncatingIfNeeded: a))

        // binary64
        case .fmadd_d: r[rd] = SoftFloat.fma64(a, b, r[Int(i.rs3)], m, &fl)
        case .fmsub_d: r[rd] = SoftFloat.fma64(a, b, r[Int(i.rs3)] ^ sign64, m, &fl)
        case .fnmsub_d: r[rd] = SoftFloat.fma64(a ^ sign64, b, r[Int(i.rs3)], m, &fl)
        case .fnmadd_d: r[rd] = SoftFloat.fma64(a ^ sign64, b, r[Int(i.rs3)] ^ sign64, m, &fl)
        case .fadd_d: r[rd] = SoftFloat.add64(a, b, m, &fl)
        case .fsub_d: r[rd] = SoftFloat.sub64(a, b, m, &fl)
        case .fmul_d: r[rd] = SoftFloat.mul64(a, b, m, &fl)
        case .fdiv_d: r[rd] = SoftFloat.div64(a, b, m, &fl)
        case .fsqrt_d: r[rd] = SoftFloat.sqrt64(a, m, &fl)
        case .fsgnj_d: r[rd] = (a & ~sign64) | (b & sign64)
        case .fsgnjn_d: r[rd] = (a & ~sign64) | (~b & sign64)
        case .fsgnjx_d: r[rd] = a ^ (b & sign64)
        case .fmin_d: r[rd] = SoftFloat.min64(a, b, &fl)
        case .fmax_d: r[rd] = SoftFloat.max64(a, b, &fl)
        case .fcvt_s_d: r[rd] = box(SoftFloat.f64ToF32(a, m, &fl))
        case .fcvt_d_s: r[rd] = SoftFloat.f32ToF64(unbox(a), &fl)
        case .feq_d: r[rd] = SoftFloat.eq64(a, b, &fl) ? 1 : 0
        case .flt_d: r[rd] = SoftFloat.lt64(a, b, &fl) ? 1 : 0
        case .fle_d: r[rd] = SoftFloat.le64(a, b, &fl) ? 1 : 0
        case .fclass_d: r[rd] = SoftFloat.classify64(a)
        case .fcvt_w_d: r[rd] = sext(SoftFloat.f64ToI32(a, m, &fl))
        case .fcvt_wu_d: r[rd] = sext(SoftFloat.f64ToU32(a, m, &fl))
        case .fcvt_l_d: r[rd] = UInt64(bitPattern: SoftFloat.f64ToI64(a, m, &fl))
        case .fcvt_lu_d: r[rd] = SoftFloat.f64ToU64(a, m, &fl)
        case .fmv_x_d: r[rd] = a
        case .fcvt_d_w: r[rd] = SoftFloat.i32ToF64(Int32(truncatingIfNeeded: a), m, &fl)
        case .fcvt_d_wu: r[rd] = SoftFloat.u32ToF64(UInt32(truncatingIfNeeded: a), m, &fl)
        case .fcvt_d_l: r[rd] = SoftFloat.i64ToF64(Int64(bitPattern: a), m, &fl)
        case .fcvt_d_lu: r[rd] = SoftFloat.u64ToF64(a, m, &fl)
        case .fmv_d_x: r[rd] = a

        // Zfa
        case .fli_s: r[rd] = box(SoftFloat.fli32(Int(i.imm)))
        case .fminm_s: r[rd] = box(SoftFloat.minimum32(unbox(a), unbox(b), &fl))
        case .fmaxm_s: r[rd] = box(SoftFloat.maximum32(unbox(a), unbox(b), &fl))
        case .fround_s: r[rd] = box(SoftFloat.roundToIntegral32(unbox(a), m, exact: false, &fl))
        case .froundnx_s: r[rd] = box(SoftFloat.roundToIntegral32(unbox(a), m, exact: true, &fl))
        case .fleq_s: r[rd] = SoftFloat.quietLE32(unbox(a), unbox(b), &fl) ? 1 : 0
        case .fltq_s: r[rd] = SoftFloat.quietLT32(unbox(a), unbox(b), &fl) ? 1 : 0
        case .fli_d: r[rd] = SoftFloat.fli64(Int(i.imm))
        case .fminm_d: r[rd] = SoftFloat.minimum64(a, b, &fl)
        case .fmaxm_d: r[rd] = SoftFloat.maximum64(a, b, &fl)
        case .fround_d: r[rd] = SoftFloat.roundToIntegral64(a, m, exact: false, &fl)
        case .froundnx_d: r[rd] = SoftFloat.roundToIntegral64(a, m, exact: true, &fl)
        case .fleq_d: r[rd] = SoftFloat.quietLE64(a, b, &fl) ? 1 : 0
        case .fltq_d: r[rd] = SoftFloat.quietLT64(a, b, &fl) ? 1 : 0
        case .fcvtmod_w_d: r[rd] = sext(SoftFloat.f64ToI32Modular(a, &fl))
        default:
            return false
        }
        r[fcsr] |= UInt64(fl)
        return true
    }
}
