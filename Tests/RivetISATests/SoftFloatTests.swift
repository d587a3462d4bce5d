import Testing

@testable import RivetISA

/// Hand-written special cases for every F and D operation: zeros, infinities, NaNs (quiet,
/// signaling, with payloads and signs), subnormals, the largest and smallest numbers, ties in
/// every rounding mode, and the overflow and underflow boundaries.
///
/// Each row: instruction, operands (hex bits; integer operands as 64-bit register values),
/// rounding modes (comma-separated, `*` for all five or for instructions without one), the
/// 64-bit value written to the destination (binary32 unboxed, 32-bit integers sign-extended)
/// and the `fflags` raised (`-` for none). Instructions are performed as the interpreter
/// performs them (see `SoftFloatVectorTests.instructions`).
@Suite struct SoftFloatTests {
    static let table = """
        # --- Addition: ties, signs of zero, invalid, NaNs, overflow
        fadd.d 3ff0000000000000 3ca0000000000000  rne,rtz,rdn 3ff0000000000000 NX  # 1 + ulp/2
        fadd.d 3ff0000000000000 3ca0000000000000  rup,rmm 3ff0000000000001 NX
        fadd.d 3ff0000000000001 3ca0000000000000  rne,rup,rmm 3ff0000000000002 NX  # odd + ulp/2: to even
        fadd.d 3ff0000000000001 3ca0000000000000  rtz,rdn 3ff0000000000001 NX
        fadd.d bff0000000000000 bca0000000000000  rne,rtz,rup bff0000000000000 NX
        fadd.d bff0000000000000 bca0000000000000  rdn,rmm bff0000000000001 NX
        fadd.d 3ff0000000000000 3c90000000000000  rne,rtz,rdn,rmm 3ff0000000000000 NX  # 1 + ulp/4
        fadd.d 3ff0000000000000 3c90000000000000  rup 3ff0000000000001 NX
        fadd.d 0000000000000000 8000000000000000  rne,rtz,rup,rmm 0000000000000000 -
        fadd.d 0000000000000000 8000000000000000  rdn 8000000000000000 -
        fadd.d 8000000000000000 8000000000000000  * 8000000000000000 -
        fsub.d 3ff0000000000000 3ff0000000000000  rne,rtz,rup,rmm 0000000000000000 -  # x - x
        fsub.d 3ff0000000000000 3ff0000000000000  rdn 8000000000000000 -
        fadd.d 0000000000000000 bff0000000000000  * bff0000000000000 -
        fadd.d 7ff0000000000000 fff0000000000000  * 7ff8000000000000 NV  # inf - inf
        fsub.d 7ff0000000000000 7ff0000000000000  * 7ff8000000000000 NV
        fadd.d 7ff0000000000000 7ff0000000000000  * 7ff0000000000000 -
        fadd.d fff0000000000000 7fefffffffffffff  * fff0000000000000 -
        fadd.d 7ff0000000000001 3ff0000000000000  * 7ff8000000000000 NV  # signaling NaN
        fadd.d 3ff0000000000000 fff4000000000000  * 7ff8000000000000 NV
        fadd.d fff8000000000123 3ff0000000000000  * 7ff8000000000000 -   # quiet NaN, payload, sign
        fadd.d 7ff8000000000000 7ff0000000000000  * 7ff8000000000000 -
        fadd.d 7fefffffffffffff 7fefffffffffffff  rne,rup,rmm 7ff0000000000000 OF|NX
        fadd.d 7fefffffffffffff 7fefffffffffffff  rtz,rdn 7fefffffffffffff OF|NX
        fadd.d ffefffffffffffff ffefffffffffffff  rne,rdn,rmm fff0000000000000 OF|NX
        fadd.d ffefffffffffffff ffefffffffffffff  rtz,rup ffefffffffffffff OF|NX
        fadd.d 7fefffffffffffff 7c90000000000000  rne,rup,rmm 7ff0000000000000 OF|NX  # max + ulp/2
        fadd.d 7fefffffffffffff 7c90000000000000  rtz,rdn 7fefffffffffffff NX
        fadd.d 7fefffffffffffff 7c80000000000000  rne,rtz,rdn,rmm 7fefffffffffffff NX  # max + ulp/4
        fadd.d 7fefffffffffffff 7c80000000000000  rup 7ff0000000000000 OF|NX
        fadd.d 0000000000000001 0000000000000001  * 0000000000000002 -  # subnormal sums are exact
        fadd.d 000fffffffffffff 0000000000000001  * 0010000000000000 -
        fsub.d 0010000000000000 0000000000000001  * 000fffffffffffff -
        fadd.s 3f800000 33800000  rne,rtz,rdn 3f800000 NX
        fadd.s 3f800000 33800000  rup,rmm 3f800001 NX
        fadd.s 7f7fffff 7f7fffff  rne,rup,rmm 7f800000 OF|NX
        fadd.s 7f7fffff 7f7fffff  rtz,rdn 7f7fffff OF|NX
        fadd.s 7f800000 ff800000  * 7fc00000 NV
        fadd.s 7f800001 00000000  * 7fc00000 NV
        fsub.s 3f800000 3f800000  rdn 80000000 -
        fsub.s 3f800000 3f800000  rne 00000000 -

        # --- Multiplication: subnormal results, tininess after rounding, overflow
        fmul.d 0010000000000000 3fe0000000000000  * 0008000000000000 -  # tiny but exact: no UF
        fmul.d 0010000000000001 3fe0000000000000  rne,rtz,rdn 0008000000000000 UF|NX  # subnormal tie
        fmul.d 0010000000000001 3fe0000000000000  rup,rmm 0008000000000001 UF|NX
        fmul.d 000fffffffffffff 3ff0000000000001  rne,rup,rmm 0010000000000000 NX  # not tiny after rounding
        fmul.d 000fffffffffffff 3ff0000000000001  rtz,rdn 000fffffffffffff UF|NX
        fmul.d 0000000000000001 0000000000000001  rne,rtz,rdn,rmm 0000000000000000 UF|NX
        fmul.d 0000000000000001 0000000000000001  rup 0000000000000001 UF|NX
        fmul.d 0000000000000001 8000000000000001  rne,rtz,rup,rmm 8000000000000000 UF|NX
        fmul.d 0000000000000001 8000000000000001  rdn 8000000000000001 UF|NX
        fmul.d 0000000000000001 3fe0000000000000  rne,rtz,rdn 0000000000000000 UF|NX  # half the smallest
        fmul.d 0000000000000001 3fe0000000000000  rup,rmm 0000000000000001 UF|NX
        fmul.d 7fefffffffffffff 4000000000000000  rne,rup,rmm 7ff0000000000000 OF|NX
        fmul.d 7fefffffffffffff 4000000000000000  rtz,rdn 7fefffffffffffff OF|NX
        fmul.d 7fefffffffffffff c000000000000000  rtz,rup ffefffffffffffff OF|NX
        fmul.d 0000000000000000 7ff0000000000000  * 7ff8000000000000 NV
        fmul.d fff0000000000000 8000000000000000  * 7ff8000000000000 NV
        fmul.d 8000000000000000 4014000000000000  * 8000000000000000 -
        fmul.d fff0000000000000 bff0000000000000  * 7ff0000000000000 -
        fmul.d 7ff8000000000000 0000000000000000  * 7ff8000000000000 -
        fmul.d 3ff8000000000000 3ff8000000000000  * 4002000000000000 -
        fmul.s 00800001 3f000000  rne,rtz,rdn 00400000 UF|NX
        fmul.s 00800001 3f000000  rup,rmm 00400001 UF|NX
        fmul.s 007fffff 3f800001  rne,rup,rmm 00800000 NX
        fmul.s 007fffff 3f800001  rtz,rdn 007fffff UF|NX
        fmul.s 7f7fffff 40000000  rne,rup,rmm 7f800000 OF|NX
        fmul.s 7f7fffff 40000000  rtz,rdn 7f7fffff OF|NX

        # --- Division
        fdiv.d 3ff0000000000000 0000000000000000  * 7ff0000000000000 DZ
        fdiv.d bff0000000000000 0000000000000000  * fff0000000000000 DZ
        fdiv.d 3ff0000000000000 8000000000000000  * fff0000000000000 DZ
        fdiv.d 0000000000000000 0000000000000000  * 7ff8000000000000 NV
        fdiv.d 7ff0000000000000 7ff0000000000000  * 7ff8000000000000 NV
        fdiv.d 7ff0000000000000 0000000000000000  * 7ff0000000000000 -  # inf / 0: no DZ
        fdiv.d 0000000000000000 7ff0000000000000  * 0000000000000000 -
        fdiv.d 7ff8000000000000 0000000000000000  * 7ff8000000000000 -
        fdiv.d 7ff4000000000000 0000000000000000  * 7ff8000000000000 NV
        fdiv.d 3ff0000000000000 4008000000000000  rne,rtz,rdn,rmm 3fd5555555555555 NX  # 1/3
        fdiv.d 3ff0000000000000 4008000000000000  rup 3fd5555555555556 NX
        fdiv.d bff0000000000000 4008000000000000  rdn bfd5555555555556 NX
        fdiv.d 0010000000000000 4000000000000000  * 0008000000000000 -
        fdiv.d 0000000000000001 4000000000000000  rne,rtz,rdn 0000000000000000 UF|NX
        fdiv.d 0000000000000001 4000000000000000  rup,rmm 0000000000000001 UF|NX
        fdiv.d 7fefffffffffffff 3fe0000000000000  rne,rup,rmm 7ff0000000000000 OF|NX
        fdiv.d 7fefffffffffffff 3fe0000000000000  rtz,rdn 7fefffffffffffff OF|NX
        fdiv.s 3f800000 40400000  rne,rup,rmm 3eaaaaab NX
        fdiv.s 3f800000 40400000  rtz,rdn 3eaaaaaa NX
        fdiv.s 3f800000 00000000  * 7f800000 DZ

        # --- Square root
        fsqrt.d 8000000000000000  * 8000000000000000 -  # sqrt(-0) = -0
        fsqrt.d bff0000000000000  * 7ff8000000000000 NV
        fsqrt.d fff0000000000000  * 7ff8000000000000 NV
        fsqrt.d 7ff0000000000000  * 7ff0000000000000 -
        fsqrt.d 7ff0000000000001  * 7ff8000000000000 NV
        fsqrt.d fff8000000000000  * 7ff8000000000000 -
        fsqrt.d 4010000000000000  * 4000000000000000 -
        fsqrt.d 4000000000000000  rne,rup,rmm 3ff6a09e667f3bcd NX
        fsqrt.d 4000000000000000  rtz,rdn 3ff6a09e667f3bcc NX
        fsqrt.d 0000000000000001  * 1e60000000000000 -  # sqrt(2^-1074) = 2^-537
        fsqrt.s 40000000  rne,rtz,rdn,rmm 3fb504f3 NX
        fsqrt.s 40000000  rup 3fb504f4 NX
        fsqrt.s bf800000  * 7fc00000 NV
        fsqrt.s 80000000  * 80000000 -

        # --- Fused multiply-add: one rounding, invalid cases, signs of zero, tininess
        fmadd.d 0000000000000000 7ff0000000000000 7ff8000000000000  * 7ff8000000000000 NV  # 0 × inf + qNaN
        fmadd.d 7ff0000000000000 8000000000000000 7ff8000000000000  * 7ff8000000000000 NV
        fmadd.d 7ff8000000000000 0000000000000000 7ff0000000000000  * 7ff8000000000000 -
        fmadd.d 7ff0000000000000 3ff0000000000000 fff0000000000000  * 7ff8000000000000 NV  # inf - inf
        fmadd.d 7ff0000000000000 3ff0000000000000 7ff0000000000000  * 7ff0000000000000 -
        fmadd.d 3ff0000000000000 3ff0000000000000 7ff0000000000001  * 7ff8000000000000 NV
        fmadd.d 3ff0000000000000 3ff0000000000000 fff0000000000000  * fff0000000000000 -
        fmadd.d 3ff0000000000000 0000000000000000 8000000000000000  rne,rtz,rup,rmm 0000000000000000 -
        fmadd.d 3ff0000000000000 0000000000000000 8000000000000000  rdn 8000000000000000 -
        fmadd.d bff0000000000000 0000000000000000 8000000000000000  * 8000000000000000 -
        fmadd.d 3ff0000000000000 0000000000000000 3ff0000000000000  * 3ff0000000000000 -
        fnmadd.d 3ff0000000000000 0000000000000000 0000000000000000  * 8000000000000000 -
        fnmsub.d 3ff0000000000000 0000000000000000 0000000000000000  rne 0000000000000000 -
        fnmsub.d 3ff0000000000000 0000000000000000 0000000000000000  rdn 8000000000000000 -
        fmsub.d 3ff0000000000000 3ff0000000000000 3ff0000000000000  rne,rtz,rup,rmm 0000000000000000 -
        fmsub.d 3ff0000000000000 3ff0000000000000 3ff0000000000000  rdn 8000000000000000 -
        fmadd.d 3ff0000000000001 3fefffffffffffff bff0000000000000  * 3c9ffffffffffffe -  # no double rounding
        fmadd.d 3ff0000000000000 3ff0000000000000 3ca0000000000000  rne,rtz,rdn 3ff0000000000000 NX
        fmadd.d 3ff0000000000000 3ff0000000000000 3ca0000000000000  rup,rmm 3ff0000000000001 NX
        fmadd.d 1d90000000000000 9d90000000000000 0010000000000000  rne,rup,rmm 0010000000000000 NX
        fmadd.d 1d90000000000000 9d90000000000000 0010000000000000  rtz,rdn 000fffffffffffff UF|NX
        fmadd.d 7fefffffffffffff 4000000000000000 ffefffffffffffff  * 7fefffffffffffff -  # no overflow inside
        fmadd.d 0000000000000001 0000000000000001 0000000000000000  rne 0000000000000000 UF|NX
        fmadd.d 0000000000000001 0000000000000001 8000000000000000  rdn 0000000000000000 UF|NX
        fmadd.s 00000000 7f800000 7fc00000  * 7fc00000 NV
        fmadd.s 3f800001 3f7fffff bf800000  * 337ffffe -
        fmadd.s 3f800000 3f800000 33800000  rne 3f800000 NX
        fmadd.s 3f800000 3f800000 33800000  rmm 3f800001 NX

        # --- fmin / fmax: minimumNumber / maximumNumber
        fmin.d 8000000000000000 0000000000000000  * 8000000000000000 -
        fmin.d 0000000000000000 8000000000000000  * 8000000000000000 -
        fmax.d 8000000000000000 0000000000000000  * 0000000000000000 -
        fmax.d 0000000000000000 8000000000000000  * 0000000000000000 -
        fmin.d 7ff8000000000000 3ff0000000000000  * 3ff0000000000000 -
        fmax.d 3ff0000000000000 fff8000000000001  * 3ff0000000000000 -
        fmin.d 7ff0000000000001 3ff0000000000000  * 3ff0000000000000 NV
        fmax.d 3ff0000000000000 7ff4000000000000  * 3ff0000000000000 NV
        fmin.d 7ff8000000000000 7ff8000000000000  * 7ff8000000000000 -
        fmin.d 7ff0000000000001 7ff8000000000000  * 7ff8000000000000 NV
        fmax.d fff8000000000123 fff0000000000000  * fff0000000000000 -
        fmin.d fff0000000000000 7ff0000000000000  * fff0000000000000 -
        fmax.d 0000000000000001 8000000000000001  * 0000000000000001 -
        fmin.s 7fc00000 3f800000  * 3f800000 -
        fmin.s ffc00001 ff800001  * 7fc00000 NV
        fmax.s 80000000 00000000  * 00000000 -
        fmin.s 80000000 00000000  * 80000000 -

        # --- Comparisons: feq quiet, flt/fle signaling
        feq.d 7ff8000000000000 3ff0000000000000  * 0 -
        feq.d 7ff8000000000000 7ff8000000000000  * 0 -
        feq.d 7ff0000000000001 3ff0000000000000  * 0 NV
        feq.d 8000000000000000 0000000000000000  * 1 -
        feq.d 3ff0000000000000 3ff0000000000000  * 1 -
        flt.d 7ff8000000000000 3ff0000000000000  * 0 NV
        fle.d 3ff0000000000000 fff8000000000000  * 0 NV
        flt.d 8000000000000000 0000000000000000  * 0 -
        fle.d 8000000000000000 0000000000000000  * 1 -
        fle.d 0000000000000000 8000000000000000  * 1 -
        flt.d fff0000000000000 7ff0000000000000  * 1 -
        flt.d bff0000000000000 bfe0000000000000  * 1 -
        flt.d bfe0000000000000 bff0000000000000  * 0 -
        fle.d 3ff0000000000000 3ff0000000000000  * 1 -
        feq.s 7fa00000 7fa00000  * 0 NV
        flt.s 7fc00000 3f800000  * 0 NV
        fle.s 80000000 00000000  * 1 -

        # --- fclass
        fclass.d fff0000000000000  * 001 -
        fclass.d bff0000000000000  * 002 -
        fclass.d 800fffffffffffff  * 004 -
        fclass.d 8000000000000000  * 008 -
        fclass.d 0000000000000000  * 010 -
        fclass.d 0000000000000001  * 020 -
        fclass.d 0010000000000000  * 040 -
        fclass.d 7ff0000000000000  * 080 -
        fclass.d 7ff0000000000001  * 100 -
        fclass.d 7ff8000000000000  * 200 -
        fclass.d fff4000000000000  * 100 -
        fclass.s ff800000  * 001 -
        fclass.s bf800000  * 002 -
        fclass.s 807fffff  * 004 -
        fclass.s 80000000  * 008 -
        fclass.s 00000000  * 010 -
        fclass.s 00000001  * 020 -
        fclass.s 00800000  * 040 -
        fclass.s 7f800000  * 080 -
        fclass.s 7f800001  * 100 -
        fclass.s 7fc00000  * 200 -

        # --- Float to integer: saturation, NaN, ties, negative to unsigned
        fcvt.w.d 7ff8000000000000  * 000000007fffffff NV
        fcvt.w.d fff8000000000000  * 000000007fffffff NV
        fcvt.w.d 7ff0000000000000  * 000000007fffffff NV
        fcvt.w.d fff0000000000000  * ffffffff80000000 NV
        fcvt.w.d 41e0000000000000  * 000000007fffffff NV  # 2^31
        fcvt.w.d c1e0000000000000  * ffffffff80000000 -   # -2^31
        fcvt.w.d c1e0000000100000  rne,rtz,rup ffffffff80000000 NX  # -2^31 - 0.5
        fcvt.w.d c1e0000000100000  rdn,rmm ffffffff80000000 NV
        fcvt.w.d 41dfffffffe00000  rne,rup,rmm 000000007fffffff NV  # 2^31 - 0.5
        fcvt.w.d 41dfffffffe00000  rtz,rdn 000000007fffffff NX
        fcvt.w.d 4004000000000000  rne,rtz,rdn 0000000000000002 NX  # 2.5
        fcvt.w.d 4004000000000000  rup,rmm 0000000000000003 NX
        fcvt.w.d c004000000000000  rne,rtz,rup fffffffffffffffe NX  # -2.5
        fcvt.w.d c004000000000000  rdn,rmm fffffffffffffffd NX
        fcvt.w.d 3ff8000000000000  rne,rup,rmm 0000000000000002 NX  # 1.5
        fcvt.w.d 3ff8000000000000  rtz,rdn 0000000000000001 NX
        fcvt.w.d 0000000000000001  rne,rtz,rdn,rmm 0000000000000000 NX
        fcvt.w.d 0000000000000001  rup 0000000000000001 NX
        fcvt.w.d 8000000000000001  rdn ffffffffffffffff NX
        fcvt.w.d 8000000000000000  * 0000000000000000 -
        fcvt.wu.d bfe0000000000000  rne,rtz,rup 0000000000000000 NX  # -0.5
        fcvt.wu.d bfe0000000000000  rdn,rmm 0000000000000000 NV
        fcvt.wu.d bff0000000000000  * 0000000000000000 NV
        fcvt.wu.d 41efffffffe00000  * ffffffffffffffff -  # 2^32 - 1, sign-extended
        fcvt.wu.d 41f0000000000000  * ffffffffffffffff NV
        fcvt.wu.d 7ff8000000000000  * ffffffffffffffff NV
        fcvt.wu.d fff0000000000000  * 0000000000000000 NV
        fcvt.wu.d 41e0000000000000  * ffffffff80000000 -  # 2^31
        fcvt.l.d 43e0000000000000  * 7fffffffffffffff NV  # 2^63
        fcvt.l.d c3e0000000000000  * 8000000000000000 -
        fcvt.l.d c3e0000000000001  * 8000000000000000 NV
        fcvt.l.d 7ff8000000000000  * 7fffffffffffffff NV
        fcvt.l.d fff0000000000000  * 8000000000000000 NV
        fcvt.l.d 43dfffffffffffff  * 7ffffffffffffc00 -
        fcvt.l.d 4004000000000000  rmm 0000000000000003 NX
        fcvt.lu.d 43f0000000000000  * ffffffffffffffff NV  # 2^64
        fcvt.lu.d 43efffffffffffff  * fffffffffffff800 -
        fcvt.lu.d 8000000000000000  * 0000000000000000 -
        fcvt.lu.d 7ff8000000000000  * ffffffffffffffff NV
        fcvt.lu.d bff0000000000000  * 0000000000000000 NV
        fcvt.w.s 7fc00000  * 000000007fffffff NV
        fcvt.w.s cf000000  * ffffffff80000000 -
        fcvt.w.s 4f000000  * 000000007fffffff NV
        fcvt.w.s 3fc00000  rne,rup,rmm 0000000000000002 NX
        fcvt.w.s 40200000  rne 0000000000000002 NX
        fcvt.w.s 40200000  rmm 0000000000000003 NX
        fcvt.wu.s 4f800000  * ffffffffffffffff NV
        fcvt.wu.s bf000000  rne 0000000000000000 NX
        fcvt.wu.s bf000000  rmm 0000000000000000 NV
        fcvt.l.s df000000  * 8000000000000000 -
        fcvt.l.s 5f000000  * 7fffffffffffffff NV
        fcvt.lu.s 5f800000  * ffffffffffffffff NV
        fcvt.lu.s 5f7fffff  * ffffff0000000000 -
        fcvt.lu.s ff800000  * 0000000000000000 NV

        # --- Integer to float: ties in every mode
        fcvt.s.w 0000000001000001  rne,rtz,rdn 4b800000 NX  # 2^24 + 1
        fcvt.s.w 0000000001000001  rup,rmm 4b800001 NX
        fcvt.s.w fffffffffeffffff  rne,rtz,rup cb800000 NX  # -(2^24 + 1)
        fcvt.s.w fffffffffeffffff  rdn,rmm cb800001 NX
        fcvt.s.w 0000000080000000  * cf000000 -  # the low 32 bits: -2^31
        fcvt.s.wu 00000000ffffffff  rne,rup,rmm 4f800000 NX
        fcvt.s.wu 00000000ffffffff  rtz,rdn 4f7fffff NX
        fcvt.s.l 8000000000000000  * df000000 -
        fcvt.s.lu ffffffffffffffff  rne,rup,rmm 5f800000 NX
        fcvt.s.lu ffffffffffffffff  rtz,rdn 5f7fffff NX
        fcvt.s.lu 0000000000000000  * 00000000 -
        fcvt.d.l 0020000000000001  rne,rtz,rdn 4340000000000000 NX  # 2^53 + 1
        fcvt.d.l 0020000000000001  rup,rmm 4340000000000001 NX
        fcvt.d.l ffdfffffffffffff  rdn,rmm c340000000000001 NX
        fcvt.d.l ffdfffffffffffff  rne,rtz,rup c340000000000000 NX
        fcvt.d.l 7fffffffffffffff  rne,rup,rmm 43e0000000000000 NX
        fcvt.d.l 7fffffffffffffff  rtz,rdn 43dfffffffffffff NX
        fcvt.d.lu ffffffffffffffff  rne,rup,rmm 43f0000000000000 NX
        fcvt.d.lu ffffffffffffffff  rtz,rdn 43efffffffffffff NX
        fcvt.d.lu 0000000000000000  * 0000000000000000 -
        fcvt.d.wu 0000000000000000  * 0000000000000000 -
        fcvt.d.w 00000000ffffffff  * bff0000000000000 -
        fcvt.d.wu ffffffffffffffff  * 41efffffffe00000 -

        # --- Between formats
        fcvt.s.d 7ff0000000000001  * 7fc00000 NV
        fcvt.s.d fff8000000000123  * 7fc00000 -
        fcvt.s.d fff0000000000000  * ff800000 -
        fcvt.s.d 8000000000000000  * 80000000 -
        fcvt.s.d 7fefffffffffffff  rne,rup,rmm 7f800000 OF|NX
        fcvt.s.d 7fefffffffffffff  rtz,rdn 7f7fffff OF|NX
        fcvt.s.d 47efffffefffffff  rne,rtz,rdn,rmm 7f7fffff NX  # just below max + ulp/2
        fcvt.s.d 47efffffefffffff  rup 7f800000 OF|NX
        fcvt.s.d 47efffffF0000000  rne,rup,rmm 7f800000 OF|NX  # max + ulp/2
        fcvt.s.d 380ffffff8000000  rne,rup,rmm 00800000 NX  # (1 - 2^-30) × 2^-126: not tiny
        fcvt.s.d 380ffffff8000000  rtz,rdn 007fffff UF|NX
        fcvt.s.d 36a0000000000000  * 00000001 -  # 2^-149 exactly
        fcvt.s.d 3690000000000000  rne,rtz,rdn 00000000 UF|NX  # 2^-150: a tie with zero
        fcvt.s.d 3690000000000000  rup,rmm 00000001 UF|NX
        fcvt.s.d 3ff0000010000000  rne,rtz,rdn 3f800000 NX  # 1 + 2^-24
        fcvt.s.d 3ff0000010000000  rup,rmm 3f800001 NX
        fcvt.s.d 0000000000000001  rup 00000001 UF|NX
        fcvt.s.d 0000000000000001  rne 00000000 UF|NX
        fcvt.d.s 7f800001  * 7ff8000000000000 NV
        fcvt.d.s ffc00001  * 7ff8000000000000 -
        fcvt.d.s 00000001  * 36a0000000000000 -
        fcvt.d.s 807fffff  * b80fffffc0000000 -
        fcvt.d.s ff800000  * fff0000000000000 -
        """

    /// One parsed row.
    struct Row {
        let line: String
        let name: String
        let operands: [UInt64]
        let modes: [UInt8]
        let result: UInt64
        let flags: UInt8
    }

    static func parse(_ text: String) -> [Row] {
        let flagValues: [String: UInt8] = ["-": 0, "NX": 1, "UF": 2, "OF": 4, "DZ": 8, "NV": 16]
        var rows: [Row] = []
        for raw in text.split(separator: "\n") {
            let line = String(raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0])
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 4 else { continue }
            let operands = fields[1..<(fields.count - 3)].map { UInt64($0, radix: 16)! }
            let modeField = fields[fields.count - 3]
            let modes: [UInt8] =
                modeField == "*"
                ? FloatTest.modes
                : modeField.split(separator: ",").map { UInt8(FloatTest.modeNames.firstIndex(of: String($0))!) }
            let flagField = fields[fields.count - 1]
            let flags = flagField.split(separator: "|").reduce(UInt8(0)) { $0 | flagValues[String($1)]! }
            rows.append(
                Row(line: String(raw), name: fields[0], operands: operands, modes: modes,
                    result: UInt64(fields[fields.count - 2], radix: 16)!, flags: flags))
        }
        return rows
    }

    @Test(arguments: parse(table).map(\.line))
    func specialCase(_ line: String) throws {
        let row = try #require(Self.parse(line).first)
        let instruction = try #require(SoftFloatVectorTests.instructions[row.name], "unknown \(row.name)")
        #expect(row.operands.count == instruction.operands)
        for rm in instruction.rounds ? row.modes : [0] {
            var flags: UInt8 = 0
            let result = instruction.semantics(row.operands, rm, &flags)
            #expect(
                result == row.result && flags == row.flags,
                "\(FloatTest.modeNames[Int(rm)]): got \(FloatTest.hex(result)) \(FloatTest.flagNames(flags))")
        }
    }
}
