import Glibc

@testable import RivetISA

/// The host FPU (x86-64 SSE through Glibc's `fenv.h`) as an oracle for the rounding modes it
/// has (RNE, RTZ, RDN, RUP), with its flags translated to RISC-V's and its known differences
/// from RISC-V resolved here rather than by weakening the comparison:
/// - x86 returns a NaN of its own choice; RISC-V the canonical NaN.
/// - Tininess: RISC-V detects it after rounding, and so does SSE (measured on this project's
///   machines: (1 + 2^-52) × (2^-1022 - 2^-1074) rounds to 2^-1022, inexact, without underflow
///   in every mode that rounds it there, and with underflow in those that round it below).
///   Detection before rounding would differ only when the result is ±2^emin; should a host
///   flag underflow there, the operation is repeated with operands scaled exactly by 2^k, so
///   that nothing is tiny, and the scaled result decides.
/// - RISC-V raises NV for ∞ × 0 in a fused multiply-add even when the addend is a quiet NaN.
/// - The compiler converts unsigned integers with tricks that give -0 for 0 when rounding down;
///   the runners convert through signed instructions only (halving, with a sticky bit, above
///   2^63), which round once in the current mode.
enum HostOracle {
    /// An operation the host can perform in every one of its rounding modes.
    enum Operation: CaseIterable {
        case add, sub, mul, div, sqrt, fma
        case fromInt32, fromUInt32, fromInt64, fromUInt64
        /// binary64 to binary32 (only for the binary64 runner).
        case narrow
        /// binary32 to binary64 (only for the binary32 runner).
        case widen
    }

    /// The Glibc rounding mode for `rm` 0...3.
    static func hostMode(_ rm: UInt8) -> Int32 {
        switch rm {
        case 0: return FE_TONEAREST
        case 1: return FE_TOWARDZERO
        case 2: return FE_DOWNWARD
        default: return FE_UPWARD
        }
    }

    static let allExceptions: Int32 = FE_INEXACT | FE_UNDERFLOW | FE_OVERFLOW | FE_DIVBYZERO | FE_INVALID

    /// Glibc's raised exceptions as `fflags`.
    static func riscvFlags(_ raised: Int32) -> UInt8 {
        var flags: UInt8 = 0
        if raised & FE_INEXACT != 0 { flags |= SoftFloat.inexact }
        if raised & FE_UNDERFLOW != 0 { flags |= SoftFloat.underflow }
        if raised & FE_OVERFLOW != 0 { flags |= SoftFloat.overflow }
        if raised & FE_DIVBYZERO != 0 { flags |= SoftFloat.divideByZero }
        if raised & FE_INVALID != 0 { flags |= SoftFloat.invalid }
        return flags
    }

    /// Runs `operation` on the binary64 (or integer) operands `io[0...2]` in rounding mode `rm`,
    /// stores the result bits in `io[3]` and returns the raised flags.
    ///
    /// The operands are loaded through `io` after `fesetround` and the result stored before
    /// `fetestexcept`: the optimizer must assume those calls read and write `*io`, so it can
    /// neither fold the operation nor move it across them.
    @inline(never)
    static func run64(_ operation: Operation, _ rm: UInt8, _ io: UnsafeMutablePointer<UInt64>) -> UInt8 {
        feclearexcept(allExceptions)
        fesetround(hostMode(rm))
        let x = Double(bitPattern: io[0])
        let y = Double(bitPattern: io[1])
        let z = Double(bitPattern: io[2])
        switch operation {
        case .add: io[3] = (x + y).bitPattern
        case .sub: io[3] = (x - y).bitPattern
        case .mul: io[3] = (x * y).bitPattern
        case .div: io[3] = (x / y).bitPattern
        case .sqrt: io[3] = x.squareRoot().bitPattern
        case .fma: io[3] = z.addingProduct(x, y).bitPattern
        case .fromInt32: io[3] = Double(Int32(truncatingIfNeeded: io[0])).bitPattern
        case .fromUInt32: io[3] = Double(Int64(UInt32(truncatingIfNeeded: io[0]))).bitPattern
        case .fromInt64: io[3] = Double(Int64(bitPattern: io[0])).bitPattern
        case .fromUInt64:
            let u = io[0]
            io[3] = (u >> 63 == 0 ? Double(Int64(u)) : Double(Int64((u >> 1) | (u & 1))) * 2).bitPattern
        case .narrow: io[3] = UInt64(Float(x).bitPattern)
        case .widen: io[3] = 0
        }
        let raised = fetestexcept(allExceptions)
        fesetround(FE_TONEAREST)
        return riscvFlags(raised)
    }

    /// `run64` for binary32 operands (in the low 32 bits of `io[0...2]`).
    @inline(never)
    static func run32(_ operation: Operation, _ rm: UInt8, _ io: UnsafeMutablePointer<UInt64>) -> UInt8 {
        feclearexcept(allExceptions)
        fesetround(hostMode(rm))
        let x = Float(bitPattern: UInt32(truncatingIfNeeded: io[0]))
        let y = Float(bitPattern: UInt32(truncatingIfNeeded: io[1]))
        let z = Float(bitPattern: UInt32(truncatingIfNeeded: io[2]))
        switch operation {
        case .add: io[3] = UInt64((x + y).bitPattern)
        case .sub: io[3] = UInt64((x - y).bitPattern)
        case .mul: io[3] = UInt64((x * y).bitPattern)
        case .div: io[3] = UInt64((x / y).bitPattern)
        case .sqrt: io[3] = UInt64(x.squareRoot().bitPattern)
        case .fma: io[3] = UInt64(z.addingProduct(x, y).bitPattern)
        case .fromInt32: io[3] = UInt64(Float(Int32(truncatingIfNeeded: io[0])).bitPattern)
        case .fromUInt32: io[3] = UInt64(Float(Int64(UInt32(truncatingIfNeeded: io[0]))).bitPattern)
        case .fromInt64: io[3] = UInt64(Float(Int64(bitPattern: io[0])).bitPattern)
        case .fromUInt64:
            let u = io[0]
            io[3] = UInt64((u >> 63 == 0 ? Float(Int64(u)) : Float(Int64((u >> 1) | (u & 1))) * 2).bitPattern)
        case .narrow: io[3] = 0
        case .widen: io[3] = Double(x).bitPattern
        }
        let raised = fetestexcept(allExceptions)
        fesetround(FE_TONEAREST)
        return riscvFlags(raised)
    }

    /// The raw host result and flags.
    static func host<F: BinaryFormat>(
        _ operation: Operation, _ rm: UInt8, _ a: UInt64, _ b: UInt64, _ c: UInt64, _: F.Type
    ) -> (UInt64, UInt8) {
        var io: [UInt64] = [a, b, c, 0]
        let flags = io.withUnsafeMutableBufferPointer {
            F.precision == 53 ? run64(operation, rm, $0.baseAddress!) : run32(operation, rm, $0.baseAddress!)
        }
        return (io[3], flags)
    }

    /// The result RISC-V specifies for `operation` in rounding mode `rm` (0...3), derived from
    /// the host's; nil when the oracle cannot decide (an operand the scaling cannot handle).
    /// `F` is the operands' format (the result's for integer operands).
    static func expected<F: BinaryFormat>(
        _ operation: Operation, _ rm: UInt8, _ a: UInt64, _ b: UInt64, _ c: UInt64, _: F.Type
    ) -> (UInt64, UInt8)? {
        var (result, flags) = host(operation, rm, a, b, c, F.self)
        // The result's format.
        let resultIsBinary64 = operation == .widen || (operation != .narrow && F.precision == 53)
        let (resultSign, resultMinNormal, resultInfinity, canonical): (UInt64, UInt64, UInt64, UInt64) =
            resultIsBinary64
            ? (Binary64.signBit, Binary64.hiddenBit, Binary64.infinity, Binary64.canonicalNaN)
            : (Binary32.signBit, Binary32.hiddenBit, Binary32.infinity, Binary32.canonicalNaN)
        if result & ~resultSign > resultInfinity { result = canonical }
        if operation == .fma && ((F.isInfinity(a) && F.isZero(b)) || (F.isZero(a) && F.isInfinity(b))) {
            flags |= SoftFloat.invalid
        }
        if flags & SoftFloat.underflow != 0 && result & ~resultSign == resultMinNormal {
            guard let tiny = tinyAfterRounding(operation, rm, a, b, c, F.self) else { return nil }
            if !tiny { flags &= ~SoftFloat.underflow }
        }
        return (result, flags)
    }

    /// Whether the exact result, rounded to the result's precision with an unbounded exponent,
    /// is below the smallest normal: the operation repeated on operands scaled exactly by 2^k.
    static func tinyAfterRounding<F: BinaryFormat>(
        _ operation: Operation, _ rm: UInt8, _ a: UInt64, _ b: UInt64, _ c: UInt64, _: F.Type
    ) -> Bool? {
        let k = F.precision == 53 ? 64 : 32
        // Scales x by 2^k when that is exact: its magnitude stays below 2^(emax - k).
        func scaled(_ x: UInt64) -> UInt64? {
            if F.isZero(x) { return x }
            guard !F.isNaN(x) && !F.isInfinity(x) else { return nil }
            let field = Int((x >> UInt64(F.fractionBits)) & F.maxField)
            guard field + k < Int(F.maxField) - 1 else { return nil }
            if field == 0 {
                // A subnormal: multiply by 2^k, which is exact.
                return host(.mul, 0, x, UInt64(F.bias + k) << UInt64(F.fractionBits), 0, F.self).0
            }
            return x + (UInt64(k) << UInt64(F.fractionBits))
        }
        let scaledResult: UInt64
        switch operation {
        case .mul:
            // Scale the smaller operand.
            let (small, large) = a & ~F.signBit <= b & ~F.signBit ? (a, b) : (b, a)
            guard let s = scaled(small) else { return nil }
            scaledResult = host(.mul, rm, s, large, 0, F.self).0
        case .div:
            guard let s = scaled(a) else { return nil }
            scaledResult = host(.div, rm, s, b, 0, F.self).0
        case .fma:
            guard let sc = scaled(c) else { return nil }
            if let sa = scaled(a) {
                scaledResult = host(.fma, rm, sa, b, sc, F.self).0
            } else {
                guard let sb = scaled(b) else { return nil }
                scaledResult = host(.fma, rm, a, sb, sc, F.self).0
            }
        case .narrow:
            guard let s = scaled(a) else { return nil }
            let (narrowed, _) = host(.narrow, rm, s, 0, 0, F.self)
            // The operand was scaled by 2^64; binary32's smallest normal, 2^-126, by as much has
            // the biased exponent 1 + 64.
            return narrowed & ~Binary32.signBit < UInt64(1 + 64) << 23
        default:
            return nil  // Sums, roots and integer conversions are never tiny and inexact.
        }
        return scaledResult & ~F.signBit < UInt64(1 + k) << UInt64(F.fractionBits)
    }
}
