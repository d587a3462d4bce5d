// What the pure opcodes compute, on bit patterns (an i64 as its 64 bits, a b1 as 0 or 1, an
// f32 in the low 32 bits, an f64 as its bits). Shared by the evaluator and constant folding so
// that the two cannot disagree; the x86-64 backend must produce the same bits.

/// The canonical quiet NaN of binary64 (RISC-V's).
public let canonicalNaN64: UInt64 = 0x7ff8_0000_0000_0000
/// The canonical quiet NaN of binary32 (RISC-V's).
public let canonicalNaN32: UInt64 = 0x7fc0_0000

/// Pure operations on bit patterns.
public enum Semantics {
    /// The result of pure `op` (controlling type `type`, immediate `imm`) on operands `a b c`
    /// (unused ones ignored), or nil if `op` is not pure (a load, a call, a terminator, ...).
    public static func evaluate(_ op: Opcode, type: IRType, imm: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64? {
        switch op {
        case .iconst, .bconst, .f32const, .f64const: return imm
        case .iadd: return a &+ b
        case .isub: return a &- b
        case .imul: return a &* b
        case .imulhs: return UInt64(bitPattern: Int64(bitPattern: a).multipliedFullWidth(by: Int64(bitPattern: b)).high)
        case .imulhu: return a.multipliedFullWidth(by: b).high
        case .imulhsu:
            // signed(a) * unsigned(b): the unsigned product, less b * 2^64 when a is negative.
            let high = a.multipliedFullWidth(by: b).high
            return Int64(bitPattern: a) < 0 ? high &- b : high
        case .sdiv:
            let x = Int64(bitPattern: a), y = Int64(bitPattern: b)
            if y == 0 { return UInt64.max }
            if x == Int64.min && y == -1 { return a }
            return UInt64(bitPattern: x / y)
        case .udiv: return b == 0 ? UInt64.max : a / b
        case .srem:
            let x = Int64(bitPattern: a), y = Int64(bitPattern: b)
            if y == 0 { return a }
            if x == Int64.min && y == -1 { return 0 }
            return UInt64(bitPattern: x % y)
        case .urem: return b == 0 ? a : a % b
        case .band: return a & b
        case .bor: return a | b
        case .bxor: return a ^ b
        case .bnot: return ~a
        case .ineg: return 0 &- a
        case .shl: return a << (b & 63)
        case .ushr: return a >> (b & 63)
        case .sshr: return UInt64(bitPattern: Int64(bitPattern: a) >> Int64(b & 63))
        case .rotl:
            let n = b & 63
            return n == 0 ? a : (a << n) | (a >> (64 - n))
        case .rotr:
            let n = b & 63
            return n == 0 ? a : (a >> n) | (a << (64 - n))
        case .sext8: return UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: a)))
        case .sext16: return UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: a)))
        case .sext32: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: a)))
        case .zext8: return a & 0xff
        case .zext16: return a & 0xffff
        case .zext32: return a & 0xffff_ffff
        case .clz: return UInt64(a.leadingZeroBitCount)
        case .ctz: return UInt64(a.trailingZeroBitCount)
        case .popcnt: return UInt64(a.nonzeroBitCount)
        case .bswap: return a.byteSwapped
        case .fclass32: return floatClass(a & 0xffff_ffff, exponentBits: 8, fractionBits: 23)
        case .fclass64: return floatClass(a, exponentBits: 11, fractionBits: 52)
        case .icmp:
            guard let cond = IntCondition(rawValue: UInt8(truncatingIfNeeded: imm)) else { return nil }
            return cond.holds(a, b) ? 1 : 0
        case .select: return a & 1 != 0 ? b : c
        case .bint: return a & 1
        case .fadd: return floatBinary(.add, type, a, b)
        case .fsub: return floatBinary(.sub, type, a, b)
        case .fmul: return floatBinary(.mul, type, a, b)
        case .fdiv: return floatBinary(.div, type, a, b)
        case .fmin: return floatBinary(.min, type, a, b)
        case .fmax: return floatBinary(.max, type, a, b)
        case .fsqrt:
            if type == .f32 {
                let r = Float(bitPattern: UInt32(truncatingIfNeeded: a)).squareRoot()
                return r.isNaN ? canonicalNaN32 : UInt64(r.bitPattern)
            }
            let r = Double(bitPattern: a).squareRoot()
            return r.isNaN ? canonicalNaN64 : r.bitPattern
        case .ffma:
            // Swift's addingProduct is fused (one rounding).
            if type == .f32 {
                let x = Float(bitPattern: UInt32(truncatingIfNeeded: a)), y = Float(bitPattern: UInt32(truncatingIfNeeded: b))
                let r = Float(bitPattern: UInt32(truncatingIfNeeded: c)).addingProduct(x, y)
                return r.isNaN ? canonicalNaN32 : UInt64(r.bitPattern)
            }
            let r = Double(bitPattern: c).addingProduct(Double(bitPattern: a), Double(bitPattern: b))
            return r.isNaN ? canonicalNaN64 : r.bitPattern
        case .fneg: return type == .f32 ? (a ^ 0x8000_0000) & 0xffff_ffff : a ^ (1 << 63)
        case .fabs: return type == .f32 ? a & 0x7fff_ffff : a & ~(1 << 63)
        case .fcmp, .fcmpSilent:
            guard let cond = FloatCondition(rawValue: UInt8(truncatingIfNeeded: imm)) else { return nil }
            let x = type == .f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: a))) : Double(bitPattern: a)
            let y = type == .f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: b))) : Double(bitPattern: b)
            return cond.holds(x, y) ? 1 : 0
        case .bitcast: return a
        case .f32FromBits: return a & 0xffff_ffff
        case .f32ToBits: return a & 0xffff_ffff
        case .sitof:
            let n = Int64(bitPattern: a)
            return type == .f32 ? UInt64(Float(n).bitPattern) : Double(n).bitPattern
        case .ftosi32, .ftosi64:
            // Every binary32 is exactly a binary64: one path for both.
            let x = type == .f32 ? Double(Float(bitPattern: UInt32(truncatingIfNeeded: a))) : Double(bitPattern: a)
            if op == .ftosi32 {
                if x.isNaN || x >= 2_147_483_648 { return UInt64(bitPattern: Int64(Int32.max)) }
                if x <= -2_147_483_649 { return UInt64(bitPattern: Int64(Int32.min)) }
                return UInt64(bitPattern: Int64(Int32(x.rounded(.towardZero))))
            }
            if x.isNaN || x >= 9_223_372_036_854_775_808 { return UInt64(bitPattern: Int64.max) }
            if x < -9_223_372_036_854_775_808 { return UInt64(bitPattern: Int64.min) }
            return UInt64(bitPattern: Int64(x.rounded(.towardZero)))
        case .fpromote:
            let r = Double(Float(bitPattern: UInt32(truncatingIfNeeded: a)))
            return r.isNaN ? canonicalNaN64 : r.bitPattern
        case .fdemote:
            let r = Float(Double(bitPattern: a))
            return r.isNaN ? canonicalNaN32 : UInt64(r.bitPattern)
        case .getSlot, .setSlot, .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .loadF32,
            .loadF64, .store8, .store16, .store32, .store64, .storeF32, .storeF64, .call, .jump, .brif, .exit,
            .exitIndirect, .trap:
            return nil
        }
    }

    private enum FloatOp { case add, sub, mul, div, min, max }

    /// RISC-V's fclass mask of the float with these `bits` (sign, exponent, fraction; nothing
    /// above): 1 << k for k = -inf, negative normal, negative subnormal, -0, +0, positive
    /// subnormal, positive normal, +inf, signaling NaN, quiet NaN.
    static func floatClass(_ bits: UInt64, exponentBits: Int, fractionBits: Int) -> UInt64 {
        let fraction = bits & ((1 << fractionBits) - 1)
        let exponent = (bits >> fractionBits) & ((1 << exponentBits) - 1)
        let negative = bits >> (fractionBits + exponentBits) & 1 != 0
        let k: Int
        if exponent == (1 << exponentBits) - 1 {
            guard fraction == 0 else { return fraction >> (fractionBits - 1) != 0 ? 1 << 9 : 1 << 8 }
            k = 7
        } else if exponent == 0 {
            k = fraction == 0 ? 4 : 5
        } else {
            k = 6
        }
        return 1 << (negative ? 7 - k : k)
    }

    private static func floatBinary(_ op: FloatOp, _ type: IRType, _ a: UInt64, _ b: UInt64) -> UInt64 {
        type == .f32 ? floatBinary32(op, a, b) : floatBinary64(op, a, b)
    }

    /// minimumNumber / maximumNumber with -0 < +0: which of a and b (nil: canonical NaN).
    private static func pick<F: BinaryFloatingPoint>(_ op: FloatOp, _ x: F, _ y: F) -> Bool? {
        if x.isNaN && y.isNaN { return nil }
        if x.isNaN { return false }
        if y.isNaN { return true }
        if x == 0 && y == 0 && x.sign != y.sign { return (op == .min) == (x.sign == .minus) }
        return (op == .min) == (x <= y)
    }

    private static func floatBinary64(_ op: FloatOp, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let x = Double(bitPattern: a), y = Double(bitPattern: b)
        let r: Double
        switch op {
        case .add: r = x + y
        case .sub: r = x - y
        case .mul: r = x * y
        case .div: r = x / y
        case .min, .max:
            guard let first = pick(op, x, y) else { return canonicalNaN64 }
            return first ? a : b
        }
        return r.isNaN ? canonicalNaN64 : r.bitPattern
    }

    private static func floatBinary32(_ op: FloatOp, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let x = Float(bitPattern: UInt32(truncatingIfNeeded: a)), y = Float(bitPattern: UInt32(truncatingIfNeeded: b))
        let r: Float
        switch op {
        case .add: r = x + y
        case .sub: r = x - y
        case .mul: r = x * y
        case .div: r = x / y
        case .min, .max:
            guard let first = pick(op, x, y) else { return canonicalNaN32 }
            return (first ? a : b) & 0xffff_ffff
        }
        return r.isNaN ? canonicalNaN32 : UInt64(r.bitPattern)
    }
}
