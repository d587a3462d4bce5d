/// The exact path's common ground: unpacking finite values to integer significands, and rounding
/// an exact (or sticky-jammed) result back to a format, with IEEE 754 flags as RISC-V raises them.
///
/// Every operation of the exact path reduces its operands to `Unpacked` values, computes the
/// result's significand with integer arithmetic to at least `precision + 2` bits, ORs any further
/// nonzero bits into bit 0 (the sticky or "jam" bit), and hands it to `roundPack`. A jammed bit is
/// enough because rounding only asks on which side of the halfway point the discarded part lies,
/// and whether it is zero.
extension SoftFloat {
    /// Round to nearest, ties to even.
    static let rne: UInt8 = 0
    /// Round towards zero.
    static let rtz: UInt8 = 1
    /// Round down (towards -inf).
    static let rdn: UInt8 = 2
    /// Round up (towards +inf).
    static let rup: UInt8 = 3
    /// Round to nearest, ties to max magnitude.
    static let rmm: UInt8 = 4

    /// A finite nonzero value: `(-1)^negative × sig × 2^(exp − 63)`, with bit 63 of `sig` set.
    /// `exp` is therefore the unbiased exponent of the leading significand bit.
    struct Unpacked {
        var negative: Bool
        var exp: Int
        var sig: UInt64
    }

    /// Unpacks a finite nonzero value of format `F` (subnormals are normalized).
    @inline(__always)
    static func unpack<F: BinaryFormat>(_ x: UInt64, _: F.Type) -> Unpacked {
        let field = Int(truncatingIfNeeded: (x >> UInt64(F.fractionBits)) & F.maxField)
        let fraction = x & F.fractionMask
        if field == 0 {
            let zeros = fraction.leadingZeroBitCount
            return Unpacked(
                negative: F.isNegative(x), exp: F.minExponent - F.fractionBits + 63 - zeros,
                sig: fraction << UInt64(zeros))
        }
        return Unpacked(
            negative: F.isNegative(x), exp: field - F.bias,
            sig: (fraction | F.hiddenBit) << UInt64(63 - F.fractionBits))
    }

    /// Whether rounding moves the kept significand away from zero by one unit.
    /// - Parameters:
    ///   - rm: the rounding mode.
    ///   - negative: the value's sign.
    ///   - odd: whether the kept significand is odd.
    ///   - rest: the discarded bits (nonzero when the result is inexact).
    ///   - half: the discarded bits' value exactly halfway to the next unit.
    @inline(__always)
    static func roundsAway(_ rm: UInt8, _ negative: Bool, _ odd: Bool, _ rest: UInt64, _ half: UInt64) -> Bool {
        if rest == 0 { return false }
        switch rm {
        case rne: return rest > half || (rest == half && odd)
        case rtz: return false
        case rdn: return negative
        case rup: return !negative
        default: return rest >= half
        }
    }

    /// Rounds `(-1)^negative × sig × 2^(exp − 63)` to format `F` and packs it.
    ///
    /// `sig` must have bit 63 set; bits below the format's precision are the discarded part, with
    /// bit 0 possibly a sticky bit. Raises NX when inexact, UF when tiny and inexact (tininess
    /// detected after rounding, as RISC-V does: the value rounded to `precision` bits with an
    /// unbounded exponent is below the smallest normal), OF (with NX) when the rounded value
    /// exceeds the largest finite number.
    @inline(__always)
    static func roundPack<F: BinaryFormat>(
        _ negative: Bool, _ exp: Int, _ sig: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        let shift = UInt64(64 - F.precision)
        let half: UInt64 = 1 << (shift - 1)
        let mask: UInt64 = (1 << shift) - 1
        var exp = exp
        var sig = sig
        var tiny = false
        if exp < F.minExponent {
            // Tiny unless rounding with an unbounded exponent carries up to 2^minExponent.
            let carries =
                exp == F.minExponent - 1 && sig >> shift == (1 << UInt64(F.precision)) - 1
                && roundsAway(rm, negative, true, sig & mask, half)
            tiny = !carries
            sig = shiftRightJam(sig, F.minExponent - exp)
            exp = F.minExponent
        }
        let rest = sig & mask
        var kept = sig >> shift
        if rest != 0 {
            flags |= tiny ? inexact | underflow : inexact
            if roundsAway(rm, negative, kept & 1 != 0, rest, half) { kept += 1 }
        }
        // For a normal result `kept` holds the hidden bit, which adds the 1 that the biased
        // exponent below lacks; a carry out of the significand bumps the exponent the same way.
        // A subnormal has exp == minExponent, so its biased exponent term is 0.
        let bits = (UInt64(exp + F.bias - 1) << UInt64(F.fractionBits)) &+ kept
        if bits >= F.infinity { return overflowResult(negative, rm, &flags, F.self) }
        return F.signBits(negative) | bits
    }

    /// The result of an overflow: infinity or the largest finite value, as the rounding mode
    /// directs, with OF and NX raised.
    @inline(__always)
    static func overflowResult<F: BinaryFormat>(
        _ negative: Bool, _ rm: UInt8, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        flags |= overflow | inexact
        let toInfinity: Bool
        switch rm {
        case rtz: toInfinity = false
        case rdn: toInfinity = negative
        case rup: toInfinity = !negative
        default: toInfinity = true
        }
        return F.signBits(negative) | (toInfinity ? F.infinity : F.maxFinite)
    }

    /// The NaN result of an operation with a NaN operand: NV when any operand is signaling.
    @inline(__always)
    static func nanResult<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8, _: F.Type) -> UInt64 {
        if F.isSignalingNaN(a) || F.isSignalingNaN(b) { flags |= invalid }
        return F.canonicalNaN
    }

    /// The exact zero that a sum of opposite-signed equal magnitudes yields: -0 when rounding
    /// down, +0 otherwise.
    @inline(__always)
    static func exactZeroSum<F: BinaryFormat>(_ rm: UInt8, _: F.Type) -> UInt64 {
        rm == rdn ? F.signBit : 0
    }

    /// `x >> n` with every shifted-out 1 ORed into bit 0; any `n >= 0`.
    @inline(__always)
    static func shiftRightJam(_ x: UInt64, _ n: Int) -> UInt64 {
        if n == 0 { return x }
        if n >= 64 { return x != 0 ? 1 : 0 }
        return x >> UInt64(n) | (x << UInt64(64 - n) != 0 ? 1 : 0)
    }

    /// `x >> n` with every shifted-out 1 ORed into bit 0; any `n >= 0`.
    @inline(__always)
    static func shiftRightJam(_ x: UInt128, _ n: Int) -> UInt128 {
        if n == 0 { return x }
        if n >= 128 { return x != 0 ? 1 : 0 }
        return x >> UInt128(n) | (x << UInt128(128 - n) != 0 ? 1 : 0)
    }

    /// The high 64 bits of `x`, with a sticky bit for the low 64.
    @inline(__always)
    static func narrowJam(_ x: UInt128) -> UInt64 {
        UInt64(truncatingIfNeeded: x >> 64) | (UInt64(truncatingIfNeeded: x) != 0 ? 1 : 0)
    }
}
