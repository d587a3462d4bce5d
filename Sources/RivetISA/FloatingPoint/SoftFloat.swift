/// RISC-V floating-point semantics (F and D extensions) on raw bit patterns, bit-exact with the
/// ISA manual and IEEE 754-2019 as RISC-V profiles it.
///
/// Conventions for every function:
/// - Operands and results are raw IEEE 754 bits: `UInt32` binary32, `UInt64` binary64.
/// - `rm` is a resolved rounding mode (`RoundingMode` raw value 0...4, never `dyn`):
///   RNE, RTZ, RDN, RUP, RMM.
/// - `flags` accumulates exception flags as in `fflags`: NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16.
///   Underflow is tininess detected after rounding, and inexact.
/// - NaN results are the canonical NaN (0x7fc00000 / 0x7ff8000000000000).
///
/// Structure: each operation first tries a fast path on the host FPU, taken only where the host
/// result is provably the RISC-V result (rounding mode RNE, result finite and normal and not at
/// the underflow boundary), with the inexact flag computed exactly (error-free transformations,
/// or integer checks on the significands). Everything else goes to the exact software path
/// (`SoftFloat+Arithmetic.swift` and its siblings), which computes on integer significands (the
/// square root takes the host's correctly rounded root and settles the rounding direction with
/// an exact integer comparison).
///
/// The fast paths assume the host FPU is in its default state: round to nearest, no
/// flush-to-zero, no denormals-are-zero (Rivet never changes it).
public enum SoftFloat {
    /// The canonical binary32 NaN.
    public static let canonicalNaN32: UInt32 = 0x7fc0_0000
    /// The canonical binary64 NaN.
    public static let canonicalNaN64: UInt64 = 0x7ff8_0000_0000_0000

    /// `fflags` NX: inexact.
    public static let inexact: UInt8 = 1
    /// `fflags` UF: underflow.
    public static let underflow: UInt8 = 2
    /// `fflags` OF: overflow.
    public static let overflow: UInt8 = 4
    /// `fflags` DZ: divide by zero.
    public static let divideByZero: UInt8 = 8
    /// `fflags` NV: invalid operation.
    public static let invalid: UInt8 = 16

    // MARK: binary32 arithmetic

    /// `a + b` (`fadd.s`).
    public static func add32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            let x = Float(bitPattern: a)
            let y = Float(bitPattern: b)
            let sum = x + y
            // A finite host sum means finite operands and no overflow; a sum never underflows
            // inexactly. TwoSum's error term is exact barring an intermediate overflow.
            if sum.isFinite {
                let error = twoSumError(x, y, sum)
                if error == 0 { return sum.bitPattern }
                if error.isFinite {
                    flags |= inexact
                    return sum.bitPattern
                }
            }
        }
        return UInt32(truncatingIfNeeded: add(UInt64(a), UInt64(b), rm, &flags, Binary32.self))
    }

    /// `a − b` (`fsub.s`).
    public static func sub32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        add32(a, b ^ 0x8000_0000, rm, &flags)
    }

    /// `a × b` (`fmul.s`).
    public static func mul32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            // The binary64 product of two binary32 values is exact; one rounding to binary32.
            let product = Double(Float(bitPattern: a)) * Double(Float(bitPattern: b))
            let result = Float(product)
            if isSafeNormal32(result) {
                if Double(result) != product { flags |= inexact }
                return result.bitPattern
            }
        }
        return UInt32(truncatingIfNeeded: mul(UInt64(a), UInt64(b), rm, &flags, Binary32.self))
    }

    /// `a ÷ b` (`fdiv.s`).
    public static func div32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            // Rounding the binary64 quotient to binary32 is correct: 53 >= 2 × 24 + 2 (Figueroa).
            let x = Double(Float(bitPattern: a))
            let y = Double(Float(bitPattern: b))
            let result = Float(x / y)
            if isSafeNormal32(result) {
                // The product of two binary32 values is exact in binary64.
                if Double(result) * y != x { flags |= inexact }
                return result.bitPattern
            }
        }
        return UInt32(truncatingIfNeeded: div(UInt64(a), UInt64(b), rm, &flags, Binary32.self))
    }

    /// `√a` (`fsqrt.s`).
    public static func sqrt32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        // Positive, finite, nonzero: the root is a normal number.
        if rm == rne && a &- 1 < 0x7f7f_ffff {
            let x = Double(Float(bitPattern: a))
            let result = Float(x.squareRoot())
            let wide = Double(result)
            if wide * wide != x { flags |= inexact }
            return result.bitPattern
        }
        return UInt32(truncatingIfNeeded: sqrt(UInt64(a), rm, &flags, Binary32.self))
    }

    /// `a × b + c` with a single rounding (`fmadd.s`).
    public static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        if rm == rne {
            // The product is exact in binary64; the sum is rounded to odd in binary64 (from the
            // RNE sum and its exact TwoSum error), and 53 >= 24 + 2 makes the final rounding to
            // binary32 the correctly rounded result (Boldo and Melquiond).
            let product = Double(Float(bitPattern: a)) * Double(Float(bitPattern: b))
            let addend = Double(Float(bitPattern: c))
            let sum = product + addend
            let error = twoSumError(product, addend, sum)
            var odd = sum
            if error != 0 && sum.bitPattern & 1 == 0 {
                let away = (error > 0) == (sum > 0)
                odd = Double(bitPattern: away ? sum.bitPattern &+ 1 : sum.bitPattern &- 1)
            }
            let result = Float(odd)
            if isSafeNormal32(result) {
                if error != 0 || Double(result) != odd { flags |= inexact }
                return result.bitPattern
            }
        }
        return UInt32(truncatingIfNeeded: fma(UInt64(a), UInt64(b), UInt64(c), rm, &flags, Binary32.self))
    }

    /// RISC-V `fmin.s`: IEEE 754-2019 minimumNumber, -0 < +0, NV on a signaling NaN.
    public static func min32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: minMax(UInt64(a), UInt64(b), max: false, &flags, Binary32.self))
    }
    /// RISC-V `fmax.s`: IEEE 754-2019 maximumNumber, -0 < +0, NV on a signaling NaN.
    public static func max32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        UInt32(truncatingIfNeeded: minMax(UInt64(a), UInt64(b), max: true, &flags, Binary32.self))
    }
    /// `feq.s`, a quiet comparison: NV only for signaling NaN operands.
    public static func eq32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        equal(UInt64(a), UInt64(b), &flags, Binary32.self)
    }
    /// `flt.s`, a signaling comparison: NV for any NaN operand.
    public static func lt32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        less(UInt64(a), UInt64(b), &flags, Binary32.self)
    }
    /// `fle.s`, a signaling comparison: NV for any NaN operand.
    public static func le32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        lessOrEqual(UInt64(a), UInt64(b), &flags, Binary32.self)
    }
    /// The `fclass.s` mask (bit 0 = -inf ... bit 9 = quiet NaN).
    public static func classify32(_ a: UInt32) -> UInt64 { classify(UInt64(a), Binary32.self) }

    // MARK: binary64 arithmetic

    /// `a + b` (`fadd.d`).
    public static func add64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        if rm == rne {
            let x = Double(bitPattern: a)
            let y = Double(bitPattern: b)
            let sum = x + y
            // As in `add32`.
            if sum.isFinite {
                let error = twoSumError(x, y, sum)
                if error == 0 { return sum.bitPattern }
                if error.isFinite {
                    flags |= inexact
                    return sum.bitPattern
                }
            }
        }
        return add(a, b, rm, &flags, Binary64.self)
    }

    /// `a − b` (`fsub.d`).
    public static func sub64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        add64(a, b ^ Binary64.signBit, rm, &flags)
    }

    /// `a × b` (`fmul.d`).
    public static func mul64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        if rm == rne {
            let result = Double(bitPattern: a) * Double(bitPattern: b)
            if isSafeNormal64(result) {
                // Exact iff the product of the significands' odd parts fits in 53 bits.
                let (high, low) = oddSignificand64(a).multipliedFullWidth(by: oddSignificand64(b))
                if high != 0 || low >> 53 != 0 { flags |= inexact }
                return result.bitPattern
            }
        }
        return mul(a, b, rm, &flags, Binary64.self)
    }

    /// `a ÷ b` (`fdiv.d`).
    public static func div64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        if rm == rne {
            let result = Double(bitPattern: a) / Double(bitPattern: b)
            if isSafeNormal64(result) {
                // Exact iff result × b == a. Comparing odd parts suffices: a rounded quotient is
                // never off by a power of two.
                let (high, low) = oddSignificand64(result.bitPattern).multipliedFullWidth(by: oddSignificand64(b))
                if high != 0 || low != oddSignificand64(a) { flags |= inexact }
                return result.bitPattern
            }
        }
        return div(a, b, rm, &flags, Binary64.self)
    }

    /// `√a` (`fsqrt.d`).
    public static func sqrt64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        // Positive, finite, nonzero: the root is a normal number.
        if rm == rne && a &- 1 < 0x7fef_ffff_ffff_ffff {
            let result = Double(bitPattern: a).squareRoot().bitPattern
            // Exact iff result² == a; as for division, odd parts suffice.
            let odd = oddSignificand64(result)
            let (high, low) = odd.multipliedFullWidth(by: odd)
            if high != 0 || low != oddSignificand64(a) { flags |= inexact }
            return result
        }
        return sqrt(a, rm, &flags, Binary64.self)
    }

    /// `a × b + c` with a single rounding (`fmadd.d`).
    public static func fma64(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        if rm == rne {
            let x = Double(bitPattern: a)
            let y = Double(bitPattern: b)
            let z = Double(bitPattern: c)
            let result = z.addingProduct(x, y)
            let product = x * y
            // The result is exact iff result − c == x × y. With the product's exponent field at
            // least 54, x × y is exactly product + (its rounding error, a binary64 number), and
            // result − c is exactly difference + (TwoSum's error) barring overflow. Each pair is
            // the unique (rounded value, error) decomposition of its exact value, so the two
            // values are equal iff the pairs are; the cheap comparison of the rounded values
            // settles most inexact cases without computing the product's error.
            if isSafeNormal64(result) && (product.bitPattern >> 52) & 0x7ff &- 54 < 2047 - 54 {
                let difference = result - z
                if difference.isFinite {
                    if difference != product {
                        flags |= inexact
                        return result.bitPattern
                    }
                    let differenceError = twoSumError(result, -z, difference)
                    if differenceError.isFinite {
                        if differenceError != (-product).addingProduct(x, y) { flags |= inexact }
                        return result.bitPattern
                    }
                }
            }
        }
        return fma(a, b, c, rm, &flags, Binary64.self)
    }

    /// RISC-V `fmin.d`: IEEE 754-2019 minimumNumber, -0 < +0, NV on a signaling NaN.
    public static func min64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        minMax(a, b, max: false, &flags, Binary64.self)
    }
    /// RISC-V `fmax.d`: IEEE 754-2019 maximumNumber, -0 < +0, NV on a signaling NaN.
    public static func max64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        minMax(a, b, max: true, &flags, Binary64.self)
    }
    /// `feq.d`, a quiet comparison: NV only for signaling NaN operands.
    public static func eq64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        equal(a, b, &flags, Binary64.self)
    }
    /// `flt.d`, a signaling comparison: NV for any NaN operand.
    public static func lt64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        less(a, b, &flags, Binary64.self)
    }
    /// `fle.d`, a signaling comparison: NV for any NaN operand.
    public static func le64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        lessOrEqual(a, b, &flags, Binary64.self)
    }
    /// The `fclass.d` mask (bit 0 = -inf ... bit 9 = quiet NaN).
    public static func classify64(_ a: UInt64) -> UInt64 { classify(a, Binary64.self) }

    // MARK: Fast-path helpers

    /// The rounding error of `sum = x + y` (Knuth's TwoSum): exact unless an intermediate
    /// overflows, in which case it is not finite.
    @inline(__always)
    static func twoSumError<T: BinaryFloatingPoint>(_ x: T, _ y: T, _ sum: T) -> T {
        let yPart = sum - x
        let xPart = sum - yPart
        return (x - xPart) + (y - yPart)
    }

    /// Whether a host binary32 result is finite and normal with an exponent field of at least 2:
    /// then neither overflow nor (RISC-V, after rounding) tininess can have occurred.
    @inline(__always)
    static func isSafeNormal32(_ x: Float) -> Bool { (x.bitPattern >> 23) & 0xff &- 2 < 253 }

    /// Whether a host binary64 result is finite and normal with an exponent field of at least 2.
    @inline(__always)
    static func isSafeNormal64(_ x: Double) -> Bool { (x.bitPattern >> 52) & 0x7ff &- 2 < 2045 }

    /// The significand of a finite nonzero binary64 value as an integer, without trailing zeros.
    @inline(__always)
    static func oddSignificand64(_ x: UInt64) -> UInt64 {
        let fraction = x & Binary64.fractionMask
        let significand = x & Binary64.infinity == 0 ? fraction : fraction | Binary64.hiddenBit
        return oddPart(significand)
    }

    /// `x` without its trailing zero bits (0 for 0: the masking shift by 64 is a shift by 0).
    @inline(__always)
    static func oddPart(_ x: UInt64) -> UInt64 { x &>> UInt64(x.trailingZeroBitCount) }
}
