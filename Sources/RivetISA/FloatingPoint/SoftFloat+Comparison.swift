/// Comparisons, `fmin`/`fmax` and `fclass`, for either format: all on the raw bits, no rounding.
extension SoftFloat {
    /// `a == b`, quiet: NV only for a signaling NaN operand; any NaN compares unequal.
    @inline(__always)
    static func equal<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8, _: F.Type) -> Bool {
        if F.isNaN(a) || F.isNaN(b) {
            if F.isSignalingNaN(a) || F.isSignalingNaN(b) { flags |= invalid }
            return false
        }
        return a == b || F.isZero(a | b)
    }

    /// `a < b`, signaling: NV for any NaN operand.
    @inline(__always)
    static func less<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8, _: F.Type) -> Bool {
        if F.isNaN(a) || F.isNaN(b) {
            flags |= invalid
            return false
        }
        return orderedLess(a, b, F.self) && !F.isZero(a | b)
    }

    /// `a <= b`, signaling: NV for any NaN operand.
    @inline(__always)
    static func lessOrEqual<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8, _: F.Type) -> Bool {
        if F.isNaN(a) || F.isNaN(b) {
            flags |= invalid
            return false
        }
        return a == b || orderedLess(a, b, F.self) || F.isZero(a | b)
    }

    /// The total order on non-NaN bit patterns in which -0 < +0.
    @inline(__always)
    static func orderedLess<F: BinaryFormat>(_ a: UInt64, _ b: UInt64, _: F.Type) -> Bool {
        let aNegative = F.isNegative(a)
        if aNegative != F.isNegative(b) { return aNegative }
        return aNegative ? a > b : a < b
    }

    /// RISC-V `fmin`/`fmax` (IEEE 754-2019 minimumNumber/maximumNumber): a NaN operand yields
    /// the other operand, two NaNs the canonical NaN, NV only for a signaling NaN, -0 < +0.
    @inline(__always)
    static func minMax<F: BinaryFormat>(
        _ a: UInt64, _ b: UInt64, max: Bool, _ flags: inout UInt8, _: F.Type
    ) -> UInt64 {
        let aNaN = F.isNaN(a)
        let bNaN = F.isNaN(b)
        if aNaN || bNaN {
            if F.isSignalingNaN(a) || F.isSignalingNaN(b) { flags |= invalid }
            if aNaN && bNaN { return F.canonicalNaN }
            return aNaN ? b : a
        }
        return orderedLess(a, b, F.self) != max ? a : b
    }

    /// The `fclass` mask: bit 0 -∞, 1 negative normal, 2 negative subnormal, 3 -0, 4 +0,
    /// 5 positive subnormal, 6 positive normal, 7 +∞, 8 signaling NaN, 9 quiet NaN.
    @inline(__always)
    static func classify<F: BinaryFormat>(_ a: UInt64, _: F.Type) -> UInt64 {
        let negative = F.isNegative(a)
        let magnitude = a & ~F.signBit
        let bit: UInt64
        if magnitude > F.infinity {
            bit = a & F.quietBit != 0 ? 9 : 8
        } else if magnitude == F.infinity {
            bit = negative ? 0 : 7
        } else if magnitude >= F.hiddenBit {
            bit = negative ? 1 : 6
        } else if magnitude != 0 {
            bit = negative ? 2 : 5
        } else {
            bit = negative ? 3 : 4
        }
        return 1 << bit
    }
}
