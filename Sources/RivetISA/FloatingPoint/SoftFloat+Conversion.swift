/// The exact path for conversions between formats and to and from integers.
extension SoftFloat {
    /// Rounds `a` (format `F`) to an integer in the range [-maxNegative, maxPositive], returned as
    /// a 64-bit two's-complement pattern (the caller truncates it to 32 bits when needed).
    ///
    /// RISC-V saturates: a NaN gives `maxPositive`; a value whose rounded result is out of range
    /// gives the nearer bound. Both raise NV (and never NX); an in-range inexact result raises NX.
    /// Unsigned conversions pass `maxNegative` 0, so a negative value that rounds to 0 gives 0
    /// with NX only.
    @inline(never)
    static func toInteger<F: BinaryFormat>(
        _ a: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type, maxPositive: UInt64, maxNegative: UInt64
    ) -> UInt64 {
        let negative = F.isNegative(a)
        if F.isNaN(a) || F.isInfinity(a) || F.isZero(a) {
            if F.isZero(a) { return 0 }
            flags |= invalid
            return F.isNaN(a) || !negative ? maxPositive : 0 &- maxNegative
        }
        let x = unpack(a, F.self)
        if x.exp >= 64 {
            flags |= invalid
            return negative ? 0 &- maxNegative : maxPositive
        }
        // The integer part, and the fraction scaled so that one half is 2^63.
        var magnitude: UInt64
        let fraction: UInt64
        if x.exp >= 0 {
            magnitude = x.sig >> UInt64(63 - x.exp)
            fraction = x.exp == 63 ? 0 : x.sig << UInt64(x.exp + 1)
        } else {
            magnitude = 0
            fraction = shiftRightJam(x.sig, -x.exp - 1)
        }
        // Only an exponent of 63 fills all 64 bits, and then there is no fraction: no overflow.
        if roundsAway(rm, negative, magnitude & 1 != 0, fraction, 1 << 63) { magnitude += 1 }
        if magnitude > (negative ? maxNegative : maxPositive) {
            flags |= invalid
            return negative ? 0 &- maxNegative : maxPositive
        }
        if fraction != 0 { flags |= inexact }
        return negative ? 0 &- magnitude : magnitude
    }

    /// `(-1)^negative × magnitude` rounded to format `F`: only NX can arise.
    @inline(__always)
    static func fromInteger<F: BinaryFormat>(
        _ negative: Bool, _ magnitude: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        if magnitude == 0 { return 0 }
        let zeros = magnitude.leadingZeroBitCount
        return roundPack(negative, 63 - zeros, magnitude << UInt64(zeros), rm, &flags, F.self)
    }

    /// Converts `a` from format `From` to format `To`, rounding when `To` is narrower.
    /// A signaling NaN raises NV; every NaN becomes the canonical NaN.
    @inline(never)
    static func convert<From: BinaryFormat, To: BinaryFormat>(
        _ a: UInt64, _ rm: UInt8, _ flags: inout UInt8, from: From.Type, to: To.Type
    ) -> UInt64 {
        let negative = From.isNegative(a)
        if From.isNaN(a) {
            if From.isSignalingNaN(a) { flags |= invalid }
            return To.canonicalNaN
        }
        if From.isInfinity(a) { return To.signBits(negative) | To.infinity }
        if From.isZero(a) { return To.signBits(negative) }
        let x = unpack(a, From.self)
        return roundPack(negative, x.exp, x.sig, rm, &flags, To.self)
    }
}

// MARK: The conversion API

extension SoftFloat {
    /// `fcvt.w.s`: binary32 to a signed 32-bit integer (saturating).
    public static func f32ToI32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> Int32 {
        f64ToI32(Double(Float(bitPattern: a)).bitPattern, rm, &flags)
    }
    /// `fcvt.wu.s`: binary32 to an unsigned 32-bit integer (saturating).
    public static func f32ToU32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f64ToU32(Double(Float(bitPattern: a)).bitPattern, rm, &flags)
    }
    /// `fcvt.l.s`: binary32 to a signed 64-bit integer (saturating).
    public static func f32ToI64(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> Int64 {
        f64ToI64(Double(Float(bitPattern: a)).bitPattern, rm, &flags)
    }
    /// `fcvt.lu.s`: binary32 to an unsigned 64-bit integer (saturating).
    public static func f32ToU64(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64ToU64(Double(Float(bitPattern: a)).bitPattern, rm, &flags)
    }

    /// `x` rounded to an integral value in mode `rm` on the host, for |x| < 2^52 (nil otherwise,
    /// NaN included). Every step is exact there: truncation, its adjustment by one, the
    /// fraction `x − t`, and the classic round-to-nearest-even by adding and subtracting 2^52.
    @inline(__always)
    static func hostIntegral(_ x: Double, _ rm: UInt8) -> Double? {
        guard x.magnitude < 0x1p52 else { return nil }
        let truncated = Double(Int64(x))
        switch rm {
        case rtz: return truncated
        case rdn: return truncated > x ? truncated - 1 : truncated
        case rup: return truncated < x ? truncated + 1 : truncated
        case rmm: return (x - truncated).magnitude >= 0.5 ? truncated + (x < 0 ? -1 : 1) : truncated
        default:
            let magnitude = x.magnitude + 0x1p52 - 0x1p52
            return x < 0 ? -magnitude : magnitude
        }
    }

    // The binary64 conversions take the host path when the value is below 2^52 in magnitude and
    // its rounded value in range; the rest (NaN, saturation, huge values) takes `toInteger`.

    /// `fcvt.w.d`: binary64 to a signed 32-bit integer (saturating).
    public static func f64ToI32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> Int32 {
        let x = Double(bitPattern: a)
        if let rounded = hostIntegral(x, rm), rounded >= -0x1p31 && rounded < 0x1p31 {
            if rounded != x { flags |= inexact }
            return Int32(rounded)
        }
        let result = toInteger(a, rm, &flags, Binary64.self, maxPositive: 0x7fff_ffff, maxNegative: 1 << 31)
        return Int32(truncatingIfNeeded: result)
    }
    /// `fcvt.wu.d`: binary64 to an unsigned 32-bit integer (saturating).
    public static func f64ToU32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        let x = Double(bitPattern: a)
        if let rounded = hostIntegral(x, rm), rounded >= 0 && rounded < 0x1p32 {
            if rounded != x { flags |= inexact }
            return UInt32(rounded)
        }
        return UInt32(truncatingIfNeeded: toInteger(a, rm, &flags, Binary64.self, maxPositive: 0xffff_ffff, maxNegative: 0))
    }
    /// `fcvt.l.d`: binary64 to a signed 64-bit integer (saturating).
    public static func f64ToI64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> Int64 {
        let x = Double(bitPattern: a)
        if let rounded = hostIntegral(x, rm) {
            if rounded != x { flags |= inexact }
            return Int64(rounded)
        }
        let result = toInteger(a, rm, &flags, Binary64.self, maxPositive: UInt64(Int64.max), maxNegative: 1 << 63)
        return Int64(bitPattern: result)
    }
    /// `fcvt.lu.d`: binary64 to an unsigned 64-bit integer (saturating).
    public static func f64ToU64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        let x = Double(bitPattern: a)
        if let rounded = hostIntegral(x, rm), rounded >= 0 {
            if rounded != x { flags |= inexact }
            return UInt64(rounded)
        }
        return toInteger(a, rm, &flags, Binary64.self, maxPositive: .max, maxNegative: 0)
    }

    // Integer to floating point: the host conversion rounds to nearest, and the result is exact
    // iff the integer has at most `precision` significant bits.

    /// `fcvt.s.w`: a signed 32-bit integer to binary32.
    public static func i32ToF32(_ a: Int32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        i64ToF32(Int64(a), rm, &flags)
    }
    /// `fcvt.s.wu`: an unsigned 32-bit integer to binary32.
    public static func u32ToF32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        i64ToF32(Int64(a), rm, &flags)
    }
    /// `fcvt.s.l`: a signed 64-bit integer to binary32.
    public static func i64ToF32(_ a: Int64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            if oddPart(a.magnitude) >> 24 != 0 { flags |= inexact }
            return Float(a).bitPattern
        }
        return UInt32(truncatingIfNeeded: fromInteger(a < 0, a.magnitude, rm, &flags, Binary32.self))
    }
    /// `fcvt.s.lu`: an unsigned 64-bit integer to binary32.
    public static func u64ToF32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            if oddPart(a) >> 24 != 0 { flags |= inexact }
            return Float(a).bitPattern
        }
        return UInt32(truncatingIfNeeded: fromInteger(false, a, rm, &flags, Binary32.self))
    }
    /// `fcvt.d.w`: a signed 32-bit integer to binary64 (always exact).
    public static func i32ToF64(_ a: Int32, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        Double(a).bitPattern
    }
    /// `fcvt.d.wu`: an unsigned 32-bit integer to binary64 (always exact).
    public static func u32ToF64(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        Double(a).bitPattern
    }
    /// `fcvt.d.l`: a signed 64-bit integer to binary64.
    public static func i64ToF64(_ a: Int64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        if rm == rne {
            if oddPart(a.magnitude) >> 53 != 0 { flags |= inexact }
            return Double(a).bitPattern
        }
        return fromInteger(a < 0, a.magnitude, rm, &flags, Binary64.self)
    }
    /// `fcvt.d.lu`: an unsigned 64-bit integer to binary64.
    public static func u64ToF64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        if rm == rne {
            if oddPart(a) >> 53 != 0 { flags |= inexact }
            return Double(a).bitPattern
        }
        return fromInteger(false, a, rm, &flags, Binary64.self)
    }

    /// `fcvt.d.s`: binary32 to binary64 (exact; a signaling NaN raises NV).
    public static func f32ToF64(_ a: UInt32, _ flags: inout UInt8) -> UInt64 {
        if a & 0x7f80_0000 != 0x7f80_0000 { return Double(Float(bitPattern: a)).bitPattern }
        return convert(UInt64(a), rne, &flags, from: Binary32.self, to: Binary64.self)
    }
    /// `fcvt.s.d`: binary64 to binary32, rounded.
    public static func f64ToF32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            let wide = Double(bitPattern: a)
            let result = Float(wide)
            if isSafeNormal32(result) {
                if Double(result) != wide { flags |= inexact }
                return result.bitPattern
            }
        }
        return UInt32(truncatingIfNeeded: convert(a, rm, &flags, from: Binary64.self, to: Binary32.self))
    }
}
