/// RISC-V floating-point semantics on raw bit patterns (PLACEHOLDER: host arithmetic; not exact).
///
/// Conventions for every function:
/// - Operands and results are raw IEEE 754 bits: `UInt32` binary32, `UInt64` binary64.
/// - `rm` is a resolved rounding mode (`RoundingMode` raw value 0...4, never `dyn`).
/// - `flags` accumulates exception flags as in `fflags`: NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16.
/// - NaN results are the canonical NaN (0x7fc00000 / 0x7ff8000000000000).
package enum SoftFloat {
    package static let canonicalNaN32: UInt32 = 0x7fc0_0000
    package static let canonicalNaN64: UInt64 = 0x7ff8_0000_0000_0000

    package static let inexact: UInt8 = 1
    package static let underflow: UInt8 = 2
    package static let overflow: UInt8 = 4
    package static let divideByZero: UInt8 = 8
    package static let invalid: UInt8 = 16

    // MARK: binary32 arithmetic

    package static func add32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f32(Float(bitPattern: a) + Float(bitPattern: b))
    }
    package static func sub32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f32(Float(bitPattern: a) - Float(bitPattern: b))
    }
    package static func mul32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f32(Float(bitPattern: a) * Float(bitPattern: b))
    }
    package static func div32(_ a: UInt32, _ b: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f32(Float(bitPattern: a) / Float(bitPattern: b))
    }
    package static func sqrt32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f32(Float(bitPattern: a).squareRoot())
    }
    /// `a × b + c` with a single rounding.
    package static func fma32(_ a: UInt32, _ b: UInt32, _ c: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 {
        f32(Float(bitPattern: c).addingProduct(Float(bitPattern: a), Float(bitPattern: b)))
    }
    /// RISC-V `fmin.s`: IEEE 754-2019 minimumNumber, -0 < +0, NV on a signaling NaN.
    package static func min32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        f32(Float.minimum(Float(bitPattern: a), Float(bitPattern: b)))
    }
    package static func max32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> UInt32 {
        f32(Float.maximum(Float(bitPattern: a), Float(bitPattern: b)))
    }
    /// Quiet comparison: NV only for signaling NaN operands.
    package static func eq32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        Float(bitPattern: a) == Float(bitPattern: b)
    }
    /// Signaling comparison: NV for any NaN operand.
    package static func lt32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        Float(bitPattern: a) < Float(bitPattern: b)
    }
    package static func le32(_ a: UInt32, _ b: UInt32, _ flags: inout UInt8) -> Bool {
        Float(bitPattern: a) <= Float(bitPattern: b)
    }
    /// The `fclass.s` mask (bit 0 = -inf ... bit 9 = quiet NaN).
    package static func classify32(_ a: UInt32) -> UInt64 { 0 }

    // MARK: binary64 arithmetic

    package static func add64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64(Double(bitPattern: a) + Double(bitPattern: b))
    }
    package static func sub64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64(Double(bitPattern: a) - Double(bitPattern: b))
    }
    package static func mul64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64(Double(bitPattern: a) * Double(bitPattern: b))
    }
    package static func div64(_ a: UInt64, _ b: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64(Double(bitPattern: a) / Double(bitPattern: b))
    }
    package static func sqrt64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64(Double(bitPattern: a).squareRoot())
    }
    package static func fma64(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 {
        f64(Double(bitPattern: c).addingProduct(Double(bitPattern: a), Double(bitPattern: b)))
    }
    package static func min64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        f64(Double.minimum(Double(bitPattern: a), Double(bitPattern: b)))
    }
    package static func max64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> UInt64 {
        f64(Double.maximum(Double(bitPattern: a), Double(bitPattern: b)))
    }
    package static func eq64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        Double(bitPattern: a) == Double(bitPattern: b)
    }
    package static func lt64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        Double(bitPattern: a) < Double(bitPattern: b)
    }
    package static func le64(_ a: UInt64, _ b: UInt64, _ flags: inout UInt8) -> Bool {
        Double(bitPattern: a) <= Double(bitPattern: b)
    }
    package static func classify64(_ a: UInt64) -> UInt64 { 0 }

    // MARK: Conversions (saturating, NV on out-of-range or NaN, NX when inexact)

    package static func f32ToI32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> Int32 { Int32(Float(bitPattern: a)) }
    package static func f32ToU32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { UInt32(Float(bitPattern: a)) }
    package static func f32ToI64(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> Int64 { Int64(Float(bitPattern: a)) }
    package static func f32ToU64(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 { UInt64(Float(bitPattern: a)) }
    package static func f64ToI32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> Int32 { Int32(Double(bitPattern: a)) }
    package static func f64ToU32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { UInt32(Double(bitPattern: a)) }
    package static func f64ToI64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> Int64 { Int64(Double(bitPattern: a)) }
    package static func f64ToU64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 { UInt64(Double(bitPattern: a)) }

    package static func i32ToF32(_ a: Int32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { f32(Float(a)) }
    package static func u32ToF32(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { f32(Float(a)) }
    package static func i64ToF32(_ a: Int64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { f32(Float(a)) }
    package static func u64ToF32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { f32(Float(a)) }
    package static func i32ToF64(_ a: Int32, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 { f64(Double(a)) }
    package static func u32ToF64(_ a: UInt32, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 { f64(Double(a)) }
    package static func i64ToF64(_ a: Int64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 { f64(Double(a)) }
    package static func u64ToF64(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64 { f64(Double(a)) }

    package static func f32ToF64(_ a: UInt32, _ flags: inout UInt8) -> UInt64 { f64(Double(Float(bitPattern: a))) }
    package static func f64ToF32(_ a: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt32 { f32(Float(Double(bitPattern: a))) }

    private static func f32(_ v: Float) -> UInt32 { v.isNaN ? canonicalNaN32 : v.bitPattern }
    private static func f64(_ v: Double) -> UInt64 { v.isNaN ? canonicalNaN64 : v.bitPattern }
}
