/// An IEEE 754 binary interchange format, described by the two numbers the exact software path
/// needs; everything else (bias, masks, special encodings) follows from them.
///
/// Values of every format travel as raw bits in a `UInt64` (binary32 in the low 32 bits), so one
/// generic implementation serves both formats. The optimizer specializes it per format, which
/// turns every property below into a constant.
protocol BinaryFormat {
    /// Significand bits, including the implicit leading bit: 24 or 53.
    static var precision: Int { get }
    /// Width of the biased exponent field: 8 or 11.
    static var exponentBits: Int { get }
}

/// IEEE 754 binary32 (RISC-V F).
enum Binary32: BinaryFormat {
    static var precision: Int { 24 }
    static var exponentBits: Int { 8 }
}

/// IEEE 754 binary64 (RISC-V D).
enum Binary64: BinaryFormat {
    static var precision: Int { 53 }
    static var exponentBits: Int { 11 }
}

extension BinaryFormat {
    /// Stored fraction bits: 23 or 52.
    @inline(__always) static var fractionBits: Int { precision - 1 }
    /// Exponent bias: 127 or 1023.
    @inline(__always) static var bias: Int { (1 << (exponentBits - 1)) - 1 }
    /// The exponent of the smallest normal number: -126 or -1022.
    @inline(__always) static var minExponent: Int { 1 - bias }
    /// The largest biased exponent field (infinities and NaNs): 0xff or 0x7ff.
    @inline(__always) static var maxField: UInt64 { (1 << UInt64(exponentBits)) - 1 }
    /// The sign bit in place.
    @inline(__always) static var signBit: UInt64 { 1 << UInt64(fractionBits + exponentBits) }
    /// Positive infinity's bits.
    @inline(__always) static var infinity: UInt64 { maxField << UInt64(fractionBits) }
    /// The largest finite positive value's bits.
    @inline(__always) static var maxFinite: UInt64 { infinity - 1 }
    /// The implicit leading significand bit, in place.
    @inline(__always) static var hiddenBit: UInt64 { 1 << UInt64(fractionBits) }
    /// The stored fraction field.
    @inline(__always) static var fractionMask: UInt64 { hiddenBit - 1 }
    /// The fraction bit that marks a NaN as quiet.
    @inline(__always) static var quietBit: UInt64 { 1 << UInt64(fractionBits - 1) }
    /// The canonical NaN RISC-V returns for every NaN result: positive, quiet, zero payload.
    @inline(__always) static var canonicalNaN: UInt64 { infinity | quietBit }

    /// Whether `x` is a NaN (quiet or signaling).
    @inline(__always) static func isNaN(_ x: UInt64) -> Bool { x & ~signBit > infinity }
    /// Whether `x` is a signaling NaN (a NaN with the quiet bit clear).
    @inline(__always) static func isSignalingNaN(_ x: UInt64) -> Bool { isNaN(x) && x & quietBit == 0 }
    /// Whether `x` is an infinity of either sign.
    @inline(__always) static func isInfinity(_ x: UInt64) -> Bool { x & ~signBit == infinity }
    /// Whether `x` is a zero of either sign.
    @inline(__always) static func isZero(_ x: UInt64) -> Bool { x & ~signBit == 0 }
    /// Whether `x` has its sign bit set (NaNs included).
    @inline(__always) static func isNegative(_ x: UInt64) -> Bool { x & signBit != 0 }
    /// The sign bit in place when `negative`, else 0.
    @inline(__always) static func signBits(_ negative: Bool) -> UInt64 { negative ? signBit : 0 }
}
