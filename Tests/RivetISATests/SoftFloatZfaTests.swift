import Testing

@testable import RivetISA

/// The Zfa operations against independent models: the host's roundToIntegral (`rounded(_:)`)
/// and remainder for fround/froundnx and fcvtmod.w.d, the host's ordered comparisons for
/// fltq/fleq, the specification's table for fli, and its definitions for fminm/fmaxm.
@Suite struct SoftFloatZfaTests {
    static let iterations = FloatTest.environmentCount("RIVET_FLOAT_ITERATIONS", 20_000)
    static let rules: [FloatingPointRoundingRule] = [
        .toNearestOrEven, .towardZero, .down, .up, .toNearestOrAwayFromZero,
    ]

    @Test func roundToIntegralMatchesTheHost() {
        var random = SplitMix64(state: 0x2fa1)
        var failures: [String] = []
        for k in 0..<Self.iterations {
            // Exponents around 1 and 2^52 (2^23), where the fraction bits run out, and anything.
            let a64 = random.operand(Binary64.self, near: k % 3 == 0 ? 1023 + 52 : k % 3 == 1 ? 1023 : -1)
            let a32 = UInt32(truncatingIfNeeded: random.operand(Binary32.self, near: k % 3 == 0 ? 127 + 23 : k % 3 == 1 ? 127 : -1))
            for (rm, rule) in Self.rules.enumerated() {
                for exact in [false, true] {
                    var flags: UInt8 = 0
                    let got = SoftFloat.roundToIntegral64(a64, UInt8(rm), exact: exact, &flags)
                    let x = Double(bitPattern: a64)
                    let want: UInt64 = x.isNaN ? SoftFloat.canonicalNaN64 : x.rounded(rule).bitPattern
                    var wantFlags: UInt8 = x.isSignalingNaN ? SoftFloat.invalid : 0
                    if exact && !x.isNaN && want != a64 { wantFlags |= SoftFloat.inexact }
                    if got != want || flags != wantFlags {
                        failures.append("fround64 \(FloatTest.hex(a64)) rm \(rm) exact \(exact): got \(FloatTest.hex(got)) \(FloatTest.flagNames(flags))")
                    }
                    var flags32: UInt8 = 0
                    let got32 = SoftFloat.roundToIntegral32(a32, UInt8(rm), exact: exact, &flags32)
                    let y = Float(bitPattern: a32)
                    let want32: UInt32 = y.isNaN ? SoftFloat.canonicalNaN32 : y.rounded(rule).bitPattern
                    var wantFlags32: UInt8 = y.isSignalingNaN ? SoftFloat.invalid : 0
                    if exact && !y.isNaN && want32 != a32 { wantFlags32 |= SoftFloat.inexact }
                    if got32 != want32 || flags32 != wantFlags32 {
                        failures.append("fround32 \(FloatTest.hex(a32)) rm \(rm) exact \(exact): got \(FloatTest.hex(got32)) \(FloatTest.flagNames(flags32))")
                    }
                }
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }

    @Test func modularConversionMatchesTheHost() {
        var random = SplitMix64(state: 0xfc7)
        var failures: [String] = []
        for k in 0..<Self.iterations {
            let a = random.operand(Binary64.self, near: k % 2 == 0 ? 1023 + 31 + random.below(60) - 10 : -1)
            let x = Double(bitPattern: a)
            var flags: UInt8 = 0
            let got = SoftFloat.f64ToI32Modular(a, &flags)
            // The truncated value modulo 2^32 is exact in binary64 (IEEE remainder is exact).
            let want: Int32 =
                x.isFinite ? Int32(truncatingIfNeeded: Int64(x.rounded(.towardZero).truncatingRemainder(dividingBy: 0x1p32))) : 0
            var wantFlags: UInt8 = 0
            _ = SoftFloat.f64ToI32(a, 1, &wantFlags)
            if got != want || flags != wantFlags {
                failures.append("fcvtmod \(FloatTest.hex(a)): got \(got) \(FloatTest.flagNames(flags)), want \(want)")
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
        var flags: UInt8 = 0
        #expect(SoftFloat.f64ToI32Modular(0x1p31.bitPattern, &flags) == Int32.min && flags == SoftFloat.invalid)
        flags = 0
        #expect(SoftFloat.f64ToI32Modular((-1.5).bitPattern, &flags) == -1 && flags == SoftFloat.inexact)
        flags = 0
        #expect(SoftFloat.f64ToI32Modular(Double.infinity.bitPattern, &flags) == 0 && flags == SoftFloat.invalid)
    }

    @Test func quietComparisonsAndMinimumMaximum() {
        var random = SplitMix64(state: 0xc0a)
        var failures: [String] = []
        for _ in 0..<Self.iterations {
            let (a, b) = random.pair(Binary64.self)
            let (x, y) = (Double(bitPattern: a), Double(bitPattern: b))
            let signaling = x.isSignalingNaN || y.isSignalingNaN
            let nv: UInt8 = signaling ? SoftFloat.invalid : 0
            var flags: UInt8 = 0
            if SoftFloat.quietLT64(a, b, &flags) != (x < y) || flags != nv { failures.append("fltq.d \(x) \(y)") }
            flags = 0
            if SoftFloat.quietLE64(a, b, &flags) != (x <= y) || flags != nv { failures.append("fleq.d \(x) \(y)") }
            // minimum/maximum: NaN in, canonical NaN out; else the lesser/greater, -0 < +0.
            for max in [false, true] {
                flags = 0
                let got = max ? SoftFloat.maximum64(a, b, &flags) : SoftFloat.minimum64(a, b, &flags)
                let want: UInt64
                if x.isNaN || y.isNaN {
                    want = SoftFloat.canonicalNaN64
                } else if x == y {
                    want = (x.sign == .minus) != max ? a : b
                } else {
                    want = (x < y) != max ? a : b
                }
                if got != want || flags != nv { failures.append("f\(max ? "max" : "min")m.d \(x) \(y): \(FloatTest.hex(got))") }
            }
            let (c, d) = (UInt32(truncatingIfNeeded: a >> 32), UInt32(truncatingIfNeeded: b >> 32))
            let (u, v) = (Float(bitPattern: c), Float(bitPattern: d))
            let nv32: UInt8 = u.isSignalingNaN || v.isSignalingNaN ? SoftFloat.invalid : 0
            flags = 0
            if SoftFloat.quietLT32(c, d, &flags) != (u < v) || flags != nv32 { failures.append("fltq.s \(u) \(v)") }
            flags = 0
            if SoftFloat.quietLE32(c, d, &flags) != (u <= v) || flags != nv32 { failures.append("fleq.s \(u) \(v)") }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }

    @Test func fliLoadsTheTable() {
        // The table's values, as the specification lists them (entries 1, 30, 31: min, inf, nan).
        let values: [Double] = [
            -1, 0, 1.0 / 65536, 1.0 / 32768, 1.0 / 256, 1.0 / 128, 0.0625, 0.125, 0.25, 0.3125, 0.375,
            0.4375, 0.5, 0.625, 0.75, 0.875, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 8, 16, 128, 256, 32768,
            65536, .infinity, 0,
        ]
        for k in 0..<32 where k != 1 && k != 31 {
            #expect(SoftFloat.fli64(k) == values[k].bitPattern, "fli.d \(k)")
            #expect(SoftFloat.fli32(k) == Float(values[k]).bitPattern, "fli.s \(k)")
        }
        #expect(SoftFloat.fli64(1) == Double.leastNormalMagnitude.bitPattern)
        #expect(SoftFloat.fli32(1) == Float.leastNormalMagnitude.bitPattern)
        #expect(SoftFloat.fli64(31) == SoftFloat.canonicalNaN64 && SoftFloat.fli32(31) == SoftFloat.canonicalNaN32)
    }
}
