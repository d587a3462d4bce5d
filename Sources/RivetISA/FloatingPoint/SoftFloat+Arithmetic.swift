/// The exact path for addition, multiplication, division and square root, for either format.
///
/// These handle every operand and rounding mode; the API functions in `SoftFloat.swift` call
/// them when their host fast path does not apply. Special operands (NaN, infinity, zero) are
/// settled first; finite nonzero operands are unpacked and the result's significand computed
/// with integer arithmetic (see `SoftFloat+Rounding.swift` for the representation).
extension SoftFloat {
    /// `a + b`.
    @inline(never)
    static func add<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type) -> UInt64 {
        if F.isNaN(a) || F.isNaN(b) { return nanResult(a, b, &flags, F.self) }
        if F.isInfinity(a) {
            if F.isInfinity(b) && F.isNegative(a) != F.isNegative(b) {
                flags |= invalid
                return F.canonicalNaN
            }
            return a
        }
        if F.isInfinity(b) { return b }
        if F.isZero(a) {
            if F.isZero(b) { return F.isNegative(a) == F.isNegative(b) ? a : exactZeroSum(rm, F.self) }
            return b
        }
        if F.isZero(b) { return a }
        return addFinite(unpack(a, F.self), unpack(b, F.self), rm, &flags, F.self)
    }

    /// `x + y` for finite nonzero operands.
    @inline(__always)
    static func addFinite<F: BinaryFormat>(
        _ x: Unpacked, _ y: Unpacked, _ rm: UInt8, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        let (big, small) = x.exp >= y.exp ? (x, y) : (y, x)
        // One bit of headroom for a carry. With an exponent difference of 2 or more, the
        // difference loses at most 2 leading bits, so the sticky bit stays well below the
        // rounding position (at least 11 bits of guard below the precision).
        let high = big.sig >> 1
        let low = shiftRightJam(small.sig >> 1, big.exp - small.exp)
        var negative = big.negative
        let sum: UInt64
        if big.negative == small.negative {
            sum = high + low
        } else if high >= low {
            sum = high - low
        } else {
            sum = low - high
            negative = small.negative
        }
        if sum == 0 { return exactZeroSum(rm, F.self) }
        let zeros = sum.leadingZeroBitCount
        return roundPack(negative, big.exp + 1 - zeros, sum << UInt64(zeros), rm, &flags, F.self)
    }

    /// `a × b`.
    @inline(never)
    static func mul<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type) -> UInt64 {
        if F.isNaN(a) || F.isNaN(b) { return nanResult(a, b, &flags, F.self) }
        let negative = F.isNegative(a) != F.isNegative(b)
        if F.isInfinity(a) || F.isInfinity(b) {
            if F.isZero(a) || F.isZero(b) {
                flags |= invalid
                return F.canonicalNaN
            }
            return F.signBits(negative) | F.infinity
        }
        if F.isZero(a) || F.isZero(b) { return F.signBits(negative) }
        let x = unpack(a, F.self)
        let y = unpack(b, F.self)
        let (high, low) = x.sig.multipliedFullWidth(by: y.sig)
        // The product of two significands in [2^63, 2^64) lies in [2^126, 2^128).
        if high >> 63 != 0 {
            return roundPack(negative, x.exp + y.exp + 1, high | (low != 0 ? 1 : 0), rm, &flags, F.self)
        }
        let sig = high << 1 | low >> 63 | (low << 1 != 0 ? 1 : 0)
        return roundPack(negative, x.exp + y.exp, sig, rm, &flags, F.self)
    }

    /// `a ÷ b`.
    @inline(never)
    static func div<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type) -> UInt64 {
        if F.isNaN(a) || F.isNaN(b) { return nanResult(a, b, &flags, F.self) }
        let negative = F.isNegative(a) != F.isNegative(b)
        if F.isInfinity(a) {
            if F.isInfinity(b) {
                flags |= invalid
                return F.canonicalNaN
            }
            return F.signBits(negative) | F.infinity
        }
        if F.isInfinity(b) { return F.signBits(negative) }
        if F.isZero(b) {
            if F.isZero(a) {
                flags |= invalid
                return F.canonicalNaN
            }
            flags |= divideByZero
            return F.signBits(negative) | F.infinity
        }
        if F.isZero(a) { return F.signBits(negative) }
        let x = unpack(a, F.self)
        let y = unpack(b, F.self)
        // x.sig × 2^63 ÷ y.sig: the high word x.sig >> 1 is below the divisor, and the quotient,
        // in (2^62, 2^64), carries at least 63 significant bits.
        let (quotient, remainder) = y.sig.dividingFullWidth((x.sig >> 1, x.sig << 63))
        let sticky: UInt64 = remainder != 0 ? 1 : 0
        if quotient >> 63 != 0 {
            return roundPack(negative, x.exp - y.exp, quotient | sticky, rm, &flags, F.self)
        }
        return roundPack(negative, x.exp - y.exp - 1, quotient << 1 | sticky, rm, &flags, F.self)
    }

    /// `√a`.
    ///
    /// The host's square root is correctly rounded to nearest (IEEE 754 requires it), so it is
    /// the RNE result; an exact integer comparison of its square with `a` tells on which side of
    /// the exact root it lies, which gives the directed results (one unit away at most). A
    /// square root is never exactly halfway between two numbers (the midpoint's square has too
    /// many significant bits), so RMM agrees with RNE; it is never tiny, and never overflows.
    @inline(never)
    static func sqrt<F: BinaryFormat>(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type) -> UInt64 {
        if F.isNaN(a) { return nanResult(a, a, &flags, F.self) }
        if F.isZero(a) { return a }
        if F.isNegative(a) {
            flags |= invalid
            return F.canonicalNaN
        }
        if F.isInfinity(a) { return a }
        let root =
            F.precision == 53
            ? Double(bitPattern: a).squareRoot().bitPattern
            : UInt64(Float(bitPattern: UInt32(truncatingIfNeeded: a)).squareRoot().bitPattern)
        // Compare root² with a: root² = y.sig² × 2^(2 y.exp − 126) and a = x.sig × 2^(x.exp − 63),
        // so a = (x.sig << (x.exp − 2 y.exp + 63)) × 2^(2 y.exp − 126); the shift is 62...64
        // because the root's exponent is about half of a's.
        let x = unpack(a, F.self)
        let y = unpack(root, F.self)
        let (high, low) = y.sig.multipliedFullWidth(by: y.sig)
        let square = UInt128(high) << 64 | UInt128(low)
        let scaled = UInt128(x.sig) << UInt128(x.exp - 2 * y.exp + 63)
        if square == scaled { return root }
        flags |= inexact
        switch rm {
        case rtz, rdn: return square > scaled ? root - 1 : root
        case rup: return square < scaled ? root + 1 : root
        default: return root
        }
    }
}
