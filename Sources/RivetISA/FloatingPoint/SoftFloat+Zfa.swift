/// The Zfa operations (chapter "Zfa" of the RISC-V Unprivileged ISA manual, version 1.0):
/// IEEE 754-2019 minimum/maximum, round to integral, quiet comparisons, the modular conversion
/// and the immediate constants. Same conventions as `SoftFloat`.
extension SoftFloat {
    // MARK: Generic

    /// `fminm`/`fmaxm` (IEEE 754-2019 minimum/maximum): like `fmin`/`fmax`, but a NaN operand
    /// gives the canonical NaN; NV only for a signaling NaN.
    @inline(__always)
    static func minMaxPropagatingNaN<F: BinaryFormat>(
        _ a: UInt64, _ b: UInt64, max: Bool, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        if F.isNaN(a) || F.isNaN(b) {
            if F.isSignalingNaN(a) || F.isSignalingNaN(b) { flags |= invalid }
            return F.canonicalNaN
        }
        return orderedLess(a, b, F.self) != max ? a : b
    }

    /// `fltq`/`fleq`: `a < b` or `a <= b`, quiet (NV only for a signaling NaN).
    @inline(__always)
    static func quietLess<F: BinaryFormat>(
        _ a: UInt64, _ b: UInt64, orEqual: Bool, _ flags: inout UInt8, _: F.Type
    ) -> Bool {
        if F.isNaN(a) || F.isNaN(b) {
            if F.isSignalingNaN(a) || F.isSignalingNaN(b) { flags |= invalid }
            return false
        }
        if orEqual { return a == b || orderedLess(a, b, F.self) || F.isZero(a | b) }
        return orderedLess(a, b, F.self) && !F.isZero(a | b)
    }

    /// `fround`/`froundnx` (IEEE 754 roundToIntegral, roundToIntegralExact when `exact`): `a`
    /// rounded to an integral value in mode `rm`, in its own format. Zeros and infinities are
    /// returned as they are; a NaN gives the canonical NaN (NV for a signaling one); an
    /// integral result of 0 keeps the operand's sign. Only `exact` raises NX, when the result
    /// differs from `a`.
    @inline(never)
    static func roundToIntegral<F: BinaryFormat>(
        _ a: UInt64, _ rm: UInt8, exact: Bool, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        if F.isNaN(a) {
            if F.isSignalingNaN(a) { flags |= invalid }
            return F.canonicalNaN
        }
        if F.isInfinity(a) || F.isZero(a) { return a }
        let negative = F.isNegative(a)
        let field = Int((a >> UInt64(F.fractionBits)) & F.maxField)
        let exponent = field - F.bias  // of the leading bit; subnormals are below -bias + 1
        if exponent >= F.fractionBits { return a }  // no fraction bits: already integral
        let significand = (a & F.fractionMask) | (field == 0 ? 0 : F.hiddenBit)
        let magnitude: UInt64
        let rest: UInt64
        if exponent < 0 {
            // |a| < 1: the integral part is 0. In units where 1 is 2^62 (one half 2^61), the
            // rest is the significand for 1/2 <= |a| < 1, and anything nonzero below one half
            // for smaller values (only its comparison with one half matters).
            let half: UInt64 = 1 << 61
            rest = exponent == -1 ? significand << UInt64(61 - F.fractionBits) : 1
            magnitude = roundsAway(rm, negative, false, rest, half) ? 1 : 0
        } else {
            let fractionBits = UInt64(F.fractionBits - exponent)
            let integral = significand >> fractionBits
            rest = significand & ((1 << fractionBits) - 1)
            let away = roundsAway(rm, negative, integral & 1 != 0, rest, 1 << (fractionBits - 1))
            magnitude = away ? integral + 1 : integral
        }
        if exact && rest != 0 { flags |= inexact }
        if magnitude == 0 { return F.signBits(negative) }
        // An integer below 2^precision: exact in the format, no flags.
        var none: UInt8 = 0
        return fromInteger(negative, magnitude, rne, &none, F.self)
    }

    // MARK: binary32

    /// `fminm.s`.
    public static func minimum32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: minMaxPropagatingNaN(UInt64(a), UInt64(b), max: false, &flags, Binary32.self))
    }
    /// `fmaxm.s`.
    public static func maximum32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: minMaxPropagatingNaN(UInt64(a), UInt64(b), max: true, &flags, Binary32.self))
    }
    /// `fltq.s`.
    public static func quietLT32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        quietLess(UInt64(a), UInt64(b), orEqual: false, &flags, Binary32.self)
    }
    /// `fleq.s`.
    public static func quietLE32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        quietLess(UInt64(a), UInt64(b), orEqual: true, &flags, Binary32.self)
    }
    /// `fround.s` (`exact`: `froundnx.s`).
    public static func roundToIntegral32(_ a: UInt32, _ rm: UInt8, exact: Bool, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: roundToIntegral(UInt64(a), rm, exact: exact, &flags, Binary32.self))
    }

    // MARK: binary64

    /// `fminm.d`.
    public static func minimum64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        minMaxPropagatingNaN(a, b, max: false, &flags, Binary64.self)
    }
    /// `fmaxm.d`.
    public static func maximum64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        minMaxPropagatingNaN(a, b, max: true, &flags, Binary64.self)
    }
    /// `fltq.d`.
    public static func quietLT64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        quietLess(a, b, orEqual: false, &flags, Binary64.self)
    }
    /// `fleq.d`.
    public static func quietLE64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        quietLess(a, b, orEqual: true, &flags, Binary64.self)
    }
    /// `fround.d` (`exact`: `froundnx.d`).
    public static func roundToIntegral64(_ a: UInt64, _ rm: UInt8, exact: Bool, _ flags: inout UInt8) -> UInt64 {
        roundToIntegral(a, rm, exact: exact, &flags, Binary64.self)
    }

    /// `fcvtmod.w.d`: `a` truncated toward zero to an integer of unbounded width, whose low 32
    /// bits are the result (±∞ and NaN give 0); the flags are those `fcvt.w.d` with RTZ raises.
    public static func f64ToI32Modular(_ a: UInt64, _ flags: inout UInt8) -> Int32 {
        _ = f64ToI32(a, rtz, &flags)
        let field = Int((a >> 52) & 0x7ff)
        if field == 0x7ff { return 0 }
        let significand = (a & Binary64.fractionMask) | (field == 0 ? 0 : Binary64.hiddenBit)
        let shift = field - Binary64.bias - 52  // a = significand × 2^shift
        let low: UInt64
        if shift >= 0 {
            low = shift >= 64 ? 0 : significand << UInt64(shift)
        } else {
            low = -shift >= 64 ? 0 : significand >> UInt64(-shift)
        }
        let value = Binary64.isNegative(a) ? 0 &- low : low
        return Int32(truncatingIfNeeded: value)
    }

    // MARK: Constants

    /// The 32 values `fli.s`/`fli.d` load, by the instruction's rs1 field, as binary64 bits
    /// (table "Immediate values loaded by the FLI.S instruction"): -1, the smallest normal
    /// (format-dependent: see `fli32`/`fli64`), 2^-16, 2^-15, 2^-8, 2^-7, 0.0625 ... 2^16, +∞,
    /// the canonical NaN.
    private static let fliValues: [Double] = [
        -1, 0, 0x1p-16, 0x1p-15, 0x1p-8, 0x1p-7, 0.0625, 0.125, 0.25, 0.3125, 0.375, 0.4375, 0.5,
        0.625, 0.75, 0.875, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 8, 16, 128, 256, 0x1p15, 0x1p16,
        .infinity, 0,
    ]

    /// `fli.s`'s constant number `index` (0...31).
    public static func fli32(_ index: Int) -> UInt32 {
        switch index & 31 {
        case 1: 0x0080_0000
        case 31: canonicalNaN32
        case let k: Float(fliValues[k]).bitPattern
        }
    }

    /// `fli.d`'s constant number `index` (0...31).
    public static func fli64(_ index: Int) -> UInt64 {
        switch index & 31 {
        case 1: 0x0010_0000_0000_0000
        case 31: canonicalNaN64
        case let k: fliValues[k].bitPattern
        }
    }
}
