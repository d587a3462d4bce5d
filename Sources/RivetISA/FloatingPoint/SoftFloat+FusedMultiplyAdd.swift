/// The exact path for the fused multiply-add `a × b + c`, rounded once, for either format.
///
/// The interpreter builds `fmsub`, `fnmsub` and `fnmadd` from this by flipping operand signs
/// first, which gives the signs of exact-zero results that RISC-V specifies.
extension SoftFloat {
    /// `a × b + c` with a single rounding.
    ///
    /// NV is raised for a signaling NaN operand, for ∞ × 0 (even when `c` is a quiet NaN, as
    /// RISC-V requires), and for ∞ − ∞ between the product and `c`.
    @inline(never)
    static func fma<F: BinaryFormat>(
        _ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: UInt8, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        let infinityTimesZero =
            (F.isInfinity(a) && F.isZero(b)) || (F.isZero(a) && F.isInfinity(b))
        if F.isNaN(a) || F.isNaN(b) || F.isNaN(c) {
            if F.isSignalingNaN(a) || F.isSignalingNaN(b) || F.isSignalingNaN(c) || infinityTimesZero {
                flags |= invalid
            }
            return F.canonicalNaN
        }
        let negative = F.isNegative(a) != F.isNegative(b)
        if F.isInfinity(a) || F.isInfinity(b) {
            if infinityTimesZero || (F.isInfinity(c) && F.isNegative(c) != negative) {
                flags |= invalid
                return F.canonicalNaN
            }
            return F.signBits(negative) | F.infinity
        }
        if F.isInfinity(c) { return c }
        if F.isZero(a) || F.isZero(b) {
            // An exact zero product: c itself, except that two zeros of opposite signs sum to
            // the rounding mode's zero.
            if F.isZero(c) && F.isNegative(c) != negative { return exactZeroSum(rm, F.self) }
            return c
        }
        let x = unpack(a, F.self)
        let y = unpack(b, F.self)
        // The exact product, normalized to bit 127: value = product × 2^(exp − 127).
        let (high, low) = x.sig.multipliedFullWidth(by: y.sig)
        var product = UInt128(high) << 64 | UInt128(low)
        var exp = x.exp + y.exp + 1
        if high >> 63 == 0 {
            product <<= 1
            exp -= 1
        }
        if F.isZero(c) { return roundPack(negative, exp, narrowJam(product), rm, &flags, F.self) }
        let z = unpack(c, F.self)
        return addWide(negative, exp, product, z.negative, z.exp, UInt128(z.sig) << 64, rm, &flags, F.self)
    }

    /// The rounded sum of two finite nonzero values given as 128-bit significands normalized to
    /// bit 127: `(-1)^negative × sig × 2^(exp − 127)`.
    @inline(__always)
    static func addWide<F: BinaryFormat>(
        _ xNegative: Bool, _ xExp: Int, _ xSig: UInt128,
        _ yNegative: Bool, _ yExp: Int, _ ySig: UInt128,
        _ rm: UInt8, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        let swapped = xExp < yExp
        let (bigNegative, bigExp, bigSig) = swapped ? (yNegative, yExp, ySig) : (xNegative, xExp, xSig)
        let (smallNegative, smallExp, smallSig) = swapped ? (xNegative, xExp, xSig) : (yNegative, yExp, ySig)
        // As in `addFinite`: one bit of headroom; with an exponent difference below 2 nothing is
        // shifted out (both significands end in at least 22 zero bits), and above it the
        // cancellation is at most 2 bits, far from the rounding position in the high word.
        let high = bigSig >> 1
        let low = shiftRightJam(smallSig >> 1, bigExp - smallExp)
        var negative = bigNegative
        let sum: UInt128
        if bigNegative == smallNegative {
            sum = high + low
        } else if high >= low {
            sum = high - low
        } else {
            sum = low - high
            negative = smallNegative
        }
        if sum == 0 { return exactZeroSum(rm, F.self) }
        let zeros = sum.leadingZeroBitCount
        return roundPack(negative, bigExp + 1 - zeros, narrowJam(sum << UInt128(zeros)), rm, &flags, F.self)
    }
}
