import RivetISA
import RivetMachine

/// F and D computational instructions for JIT code, on the hart's slots. Arithmetic is
/// `SoftFloat`'s (the definition of what the instructions mean, shared by every tier); the
/// register handling (NaN-boxing, rounding-mode resolution, flags) is this tier's own.
enum JITFloat {
    @inline(__always) static func unbox(_ v: UInt64) -> UInt32 {
        v >> 32 == 0xffff_ffff ? UInt32(truncatingIfNeeded: v) : SoftFloat.canonicalNaN32
    }
    @inline(__always) static func box(_ v: UInt32) -> UInt64 { 0xffff_ffff_0000_0000 | UInt64(v) }
    @inline(__always) static func sext(_ v: Int32) -> UInt64 { UInt64(bitPattern: Int64(v)) }
    @inline(__always) static func sext(_ v: UInt32) -> UInt64 { UInt64(bitPattern: Int64(Int32(bitPattern: v))) }

    /// Executes the instruction; false if its rounding mode is invalid (illegal instruction).
    static func execute(_ s: UnsafeMutablePointer<UInt64>, _ packed: UInt64) -> Bool {
        let i = PackedInstruction(packed)
        let fcsr = HartState.Slot.fcsr
        let fb = HartState.Slot.f
        let m = i.rm == 7 ? UInt8(truncatingIfNeeded: (s[fcsr] >> 5) & 7) : i.rm
        if i.opcode.format.hasRoundingMode && m > 4 { return false }
        let fa = s[fb + i.rs1]
        let fbv = s[fb + i.rs2]
        let fc = s[fb + i.rs3]
        let xa = s[i.rs1]
        let sign32: UInt32 = 0x8000_0000
        let sign64: UInt64 = 0x8000_0000_0000_0000
        var fl: UInt8 = 0
        var fd: UInt64? = nil  // FP destination value
        var xd: UInt64? = nil  // integer destination value
        switch i.opcode {
        case .fmadd_s: fd = box(SoftFloat.fma32(unbox(fa), unbox(fbv), unbox(fc), m, &fl))
        case .fmsub_s: fd = box(SoftFloat.fma32(unbox(fa), unbox(fbv), unbox(fc) ^ sign32, m, &fl))
        case .fnmsub_s: fd = box(SoftFloat.fma32(unbox(fa) ^ sign32, unbox(fbv), unbox(fc), m, &fl))
        case .fnmadd_s: fd = box(SoftFloat.fma32(unbox(fa) ^ sign32, unbox(fbv), unbox(fc) ^ sign32, m, &fl))
        case .fadd_s: fd = box(SoftFloat.add32(unbox(fa), unbox(fbv), m, &fl))
        case .fsub_s: fd = box(SoftFloat.sub32(unbox(fa), unbox(fbv), m, &fl))
        case .fmul_s: fd = box(SoftFloat.mul32(unbox(fa), unbox(fbv), m, &fl))
        case .fdiv_s: fd = box(SoftFloat.div32(unbox(fa), unbox(fbv), m, &fl))
        case .fsqrt_s: fd = box(SoftFloat.sqrt32(unbox(fa), m, &fl))
        case .fsgnj_s: fd = box((unbox(fa) & ~sign32) | (unbox(fbv) & sign32))
        case .fsgnjn_s: fd = box((unbox(fa) & ~sign32) | (~unbox(fbv) & sign32))
        case .fsgnjx_s: fd = box(unbox(fa) ^ (unbox(fbv) & sign32))
        case .fmin_s: fd = box(SoftFloat.min32(unbox(fa), unbox(fbv), &fl))
        case .fmax_s: fd = box(SoftFloat.max32(unbox(fa), unbox(fbv), &fl))
        case .fcvt_w_s: xd = sext(SoftFloat.f32ToI32(unbox(fa), m, &fl))
        case .fcvt_wu_s: xd = sext(SoftFloat.f32ToU32(unbox(fa), m, &fl))
        case .fcvt_l_s: xd = UInt64(bitPattern: SoftFloat.f32ToI64(unbox(fa), m, &fl))
        case .fcvt_lu_s: xd = SoftFloat.f32ToU64(unbox(fa), m, &fl)
        case .fmv_x_w: xd = sext(UInt32(truncatingIfNeeded: fa))
        case .fclass_s: xd = SoftFloat.classify32(unbox(fa))
        case .feq_s: xd = SoftFloat.eq32(unbox(fa), unbox(fbv), &fl) ? 1 : 0
        case .flt_s: xd = SoftFloat.lt32(unbox(fa), unbox(fbv), &fl) ? 1 : 0
        case .fle_s: xd = SoftFloat.le32(unbox(fa), unbox(fbv), &fl) ? 1 : 0
        case .fcvt_s_w: fd = box(SoftFloat.i32ToF32(Int32(truncatingIfNeeded: xa), m, &fl))
        case .fcvt_s_wu: fd = box(SoftFloat.u32ToF32(UInt32(truncatingIfNeeded: xa), m, &fl))
        case .fcvt_s_l: fd = box(SoftFloat.i64ToF32(Int64(bitPattern: xa), m, &fl))
        case .fcvt_s_lu: fd = box(SoftFloat.u64ToF32(xa, m, &fl))
        case .fmv_w_x: fd = box(UInt32(truncatingIfNeeded: xa))
        case .fmadd_d: fd = SoftFloat.fma64(fa, fbv, fc, m, &fl)
        case .fmsub_d: fd = SoftFloat.fma64(fa, fbv, fc ^ sign64, m, &fl)
        case .fnmsub_d: fd = SoftFloat.fma64(fa ^ sign64, fbv, fc, m, &fl)
        case .fnmadd_d: fd = SoftFloat.fma64(fa ^ sign64, fbv, fc ^ sign64, m, &fl)
        case .fadd_d: fd = SoftFloat.add64(fa, fbv, m, &fl)
        case .fsub_d: fd = SoftFloat.sub64(fa, fbv, m, &fl)
        case .fmul_d: fd = SoftFloat.mul64(fa, fbv, m, &fl)
        case .fdiv_d: fd = SoftFloat.div64(fa, fbv, m, &fl)
        case .fsqrt_d: fd = SoftFloat.sqrt64(fa, m, &fl)
        case .fsgnj_d: fd = (fa & ~sign64) | (fbv & sign64)
        case .fsgnjn_d: fd = (fa & ~sign64) | (~fbv & sign64)
        case .fsgnjx_d: fd = fa ^ (fbv & sign64)
        case .fmin_d: fd = SoftFloat.min64(fa, fbv, &fl)
        case .fmax_d: fd = SoftFloat.max64(fa, fbv, &fl)
        case .fcvt_s_d: fd = box(SoftFloat.f64ToF32(fa, m, &fl))
        case .fcvt_d_s: fd = SoftFloat.f32ToF64(unbox(fa), &fl)
        case .feq_d: xd = SoftFloat.eq64(fa, fbv, &fl) ? 1 : 0
        case .flt_d: xd = SoftFloat.lt64(fa, fbv, &fl) ? 1 : 0
        case .fle_d: xd = SoftFloat.le64(fa, fbv, &fl) ? 1 : 0
        case .fclass_d: xd = SoftFloat.classify64(fa)
        case .fcvt_w_d: xd = sext(SoftFloat.f64ToI32(fa, m, &fl))
        case .fcvt_wu_d: xd = sext(SoftFloat.f64ToU32(fa, m, &fl))
        case .fcvt_l_d: xd = UInt64(bitPattern: SoftFloat.f64ToI64(fa, m, &fl))
        case .fcvt_lu_d: xd = SoftFloat.f64ToU64(fa, m, &fl)
        case .fmv_x_d: xd = fa
        case .fcvt_d_w: fd = SoftFloat.i32ToF64(Int32(truncatingIfNeeded: xa), m, &fl)
        case .fcvt_d_wu: fd = SoftFloat.u32ToF64(UInt32(truncatingIfNeeded: xa), m, &fl)
        case .fcvt_d_l: fd = SoftFloat.i64ToF64(Int64(bitPattern: xa), m, &fl)
        case .fcvt_d_lu: fd = SoftFloat.u64ToF64(xa, m, &fl)
        case .fmv_d_x: fd = xa
        default: return false
        }
        if let fd { s[fb + i.rd] = fd }
        if let xd, i.rd != 0 { s[i.rd] = xd }
        s[fcsr] |= UInt64(fl)
        return true
    }
}
