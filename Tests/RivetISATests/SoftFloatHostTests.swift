import Glibc
import Testing

@testable import RivetISA

/// SoftFloat against the host FPU on random operands, in the four rounding modes x86 has (see
/// `HostOracle`), and against independent models where the host has no matching instruction.
/// RMM and everything else are covered by `SoftFloatVectorTests`.
///
/// `RIVET_FLOAT_ITERATIONS` sets the operand tuples per operation (default 20000, so about
/// three million checks in all); every run uses the same seeds.
@Suite struct SoftFloatHostTests {
    static let iterations = FloatTest.environmentCount("RIVET_FLOAT_ITERATIONS", 20_000)

    typealias Generate = (inout SplitMix64) -> (UInt64, UInt64, UInt64)
    typealias Soft = (_ a: UInt64, _ b: UInt64, _ c: UInt64, _ rm: UInt8, _ flags: inout UInt8) -> UInt64

    /// Checks one operation on `iterations` generated operand tuples in RNE, RTZ, RDN and RUP.
    func check<F: BinaryFormat>(
        _ name: String, _ operation: HostOracle.Operation, _: F.Type, seed: UInt64,
        _ generate: Generate, _ soft: Soft
    ) {
        var random = SplitMix64(state: seed)
        var failures: [String] = []
        var undecided: [String] = []
        for _ in 0..<Self.iterations {
            let (a, b, c) = generate(&random)
            for rm: UInt8 in 0...3 {
                let operands = "\(FloatTest.hex(a)) \(FloatTest.hex(b)) \(FloatTest.hex(c)) \(FloatTest.modeNames[Int(rm)])"
                guard let (want, wantFlags) = HostOracle.expected(operation, rm, a, b, c, F.self) else {
                    undecided.append(operands)
                    continue
                }
                var flags: UInt8 = 0
                let got = soft(a, b, c, rm, &flags)
                if got != want || flags != wantFlags {
                    failures.append(
                        "\(name) \(operands): got \(FloatTest.hex(got)) \(FloatTest.flagNames(flags)), "
                            + "want \(FloatTest.hex(want)) \(FloatTest.flagNames(wantFlags))")
                }
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
        #expect(undecided.isEmpty, "oracle undecided: \(undecided.prefix(10).joined(separator: "\n"))")
    }

    static func s(_ x: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: x) }

    @Test func binary64Arithmetic() {
        let pair: Generate = { r in let (a, b) = r.pair(Binary64.self); return (a, b, 0) }
        check("add64", .add, Binary64.self, seed: 1, pair) { a, b, _, m, f in SoftFloat.add64(a, b, m, &f) }
        check("sub64", .sub, Binary64.self, seed: 2, pair) { a, b, _, m, f in SoftFloat.sub64(a, b, m, &f) }
        check("mul64", .mul, Binary64.self, seed: 3, pair) { a, b, _, m, f in SoftFloat.mul64(a, b, m, &f) }
        check("div64", .div, Binary64.self, seed: 4, pair) { a, b, _, m, f in SoftFloat.div64(a, b, m, &f) }
        check("sqrt64", .sqrt, Binary64.self, seed: 5, { r in (r.operand(Binary64.self), 0, 0) }) { a, _, _, m, f in
            SoftFloat.sqrt64(a, m, &f)
        }
        check("fma64", .fma, Binary64.self, seed: 6, { r in r.triple(Binary64.self) }) { a, b, c, m, f in
            SoftFloat.fma64(a, b, c, m, &f)
        }
    }

    @Test func binary32Arithmetic() {
        let pair: Generate = { r in let (a, b) = r.pair(Binary32.self); return (a, b, 0) }
        let s = Self.s
        check("add32", .add, Binary32.self, seed: 11, pair) { a, b, _, m, f in UInt64(SoftFloat.add32(s(a), s(b), m, &f)) }
        check("sub32", .sub, Binary32.self, seed: 12, pair) { a, b, _, m, f in UInt64(SoftFloat.sub32(s(a), s(b), m, &f)) }
        check("mul32", .mul, Binary32.self, seed: 13, pair) { a, b, _, m, f in UInt64(SoftFloat.mul32(s(a), s(b), m, &f)) }
        check("div32", .div, Binary32.self, seed: 14, pair) { a, b, _, m, f in UInt64(SoftFloat.div32(s(a), s(b), m, &f)) }
        check("sqrt32", .sqrt, Binary32.self, seed: 15, { r in (r.operand(Binary32.self), 0, 0) }) { a, _, _, m, f in
            UInt64(SoftFloat.sqrt32(Self.s(a), m, &f))
        }
        check("fma32", .fma, Binary32.self, seed: 16, { r in r.triple(Binary32.self) }) { a, b, c, m, f in
            UInt64(SoftFloat.fma32(Self.s(a), Self.s(b), Self.s(c), m, &f))
        }
    }

    @Test func conversionsBetweenFormatsAndFromIntegers() {
        let integer: Generate = { r in (r.integer(), 0, 0) }
        check("i32ToF32", .fromInt32, Binary32.self, seed: 21, integer) { a, _, _, m, f in
            UInt64(SoftFloat.i32ToF32(Int32(truncatingIfNeeded: a), m, &f))
        }
        check("u32ToF32", .fromUInt32, Binary32.self, seed: 22, integer) { a, _, _, m, f in
            UInt64(SoftFloat.u32ToF32(Self.s(a), m, &f))
        }
        check("i64ToF32", .fromInt64, Binary32.self, seed: 23, integer) { a, _, _, m, f in
            UInt64(SoftFloat.i64ToF32(Int64(bitPattern: a), m, &f))
        }
        check("u64ToF32", .fromUInt64, Binary32.self, seed: 24, integer) { a, _, _, m, f in
            UInt64(SoftFloat.u64ToF32(a, m, &f))
        }
        check("i32ToF64", .fromInt32, Binary64.self, seed: 25, integer) { a, _, _, m, f in
            SoftFloat.i32ToF64(Int32(truncatingIfNeeded: a), m, &f)
        }
        check("u32ToF64", .fromUInt32, Binary64.self, seed: 26, integer) { a, _, _, m, f in
            SoftFloat.u32ToF64(Self.s(a), m, &f)
        }
        check("i64ToF64", .fromInt64, Binary64.self, seed: 27, integer) { a, _, _, m, f in
            SoftFloat.i64ToF64(Int64(bitPattern: a), m, &f)
        }
        check("u64ToF64", .fromUInt64, Binary64.self, seed: 28, integer) { a, _, _, m, f in
            SoftFloat.u64ToF64(a, m, &f)
        }
        // binary64 operands around binary32's underflow and overflow thresholds, or anywhere.
        let narrowing: Generate = { r in
            switch r.below(3) {
            case 0: return (r.operand(Binary64.self, near: 1023 - 126 - r.below(30)), 0, 0)
            case 1: return (r.operand(Binary64.self, near: 1023 + 127), 0, 0)
            default: return (r.operand(Binary64.self), 0, 0)
            }
        }
        check("f64ToF32", .narrow, Binary64.self, seed: 29, narrowing) { a, _, _, m, f in
            UInt64(SoftFloat.f64ToF32(a, m, &f))
        }
        check("f32ToF64", .widen, Binary32.self, seed: 30, { r in (r.operand(Binary32.self), 0, 0) }) { a, _, _, _, f in
            SoftFloat.f32ToF64(Self.s(a), &f)
        }
    }

    /// A model of RISC-V's float-to-integer conversion from host rounding (exact) and range
    /// checks: NaN gives the maximum, out-of-range values saturate, both with NV only.
    static func toIntegerModel(
        _ x: Double, _ rm: UInt8, low: Double, high: Double, min: UInt64, max: UInt64
    ) -> (UInt64, UInt8) {
        if x.isNaN { return (max, SoftFloat.invalid) }
        let rules: [FloatingPointRoundingRule] = [
            .toNearestOrEven, .towardZero, .down, .up, .toNearestOrAwayFromZero,
        ]
        let rounded = x.rounded(rules[Int(rm)])
        if rounded < low || rounded > high { return (x < 0 ? min : max, SoftFloat.invalid) }
        let value = rounded < 0 ? UInt64(bitPattern: Int64(rounded)) : UInt64(rounded)
        return (value, rounded != x ? SoftFloat.inexact : 0)
    }

    @Test func floatToIntegerInEveryRoundingMode() {
        typealias Target = (name: String, low: Double, high: Double, min: UInt64, max: UInt64)
        let targets: [Target] = [
            ("w", -0x1p31, 0x1p31 - 1, UInt64(bitPattern: Int64(Int32.min)), UInt64(Int32.max)),
            ("wu", 0, 0x1p32 - 1, 0, UInt64.max),  // RISC-V sign-extends the 32-bit result
            ("l", -0x1p63, 0x1p63.nextDown, UInt64(bitPattern: Int64.min), UInt64(Int64.max)),
            ("lu", 0, 0x1p64.nextDown, 0, UInt64.max),
        ]
        let sext: (Int32) -> UInt64 = { UInt64(bitPattern: Int64($0)) }
        var random = SplitMix64(state: 41)
        var failures: [String] = []
        for _ in 0..<Self.iterations {
            // Values in and around every integer range, with short fractions for exact halves.
            let field64 = 1023 - 2 + random.below(70)
            let a64 = random.below(3) == 0 ? random.operand(Binary64.self) : random.operand(Binary64.self, near: field64)
            let field32 = field64 - 1023 + 127
            let a32 = random.below(3) == 0 ? random.operand(Binary32.self) : random.operand(Binary32.self, near: field32)
            for rm: UInt8 in 0...4 {
                for (index, target) in targets.enumerated() {
                    let hostValues = [Double(bitPattern: a64), Double(Float(bitPattern: Self.s(a32)))]
                    for (formatIndex, x) in hostValues.enumerated() {
                        let want = Self.toIntegerModel(
                            x, rm, low: target.low, high: target.high, min: target.min, max: target.max)
                        var flags: UInt8 = 0
                        let got: UInt64
                        if formatIndex == 0 {
                            switch index {
                            case 0: got = sext(SoftFloat.f64ToI32(a64, rm, &flags))
                            case 1: got = sext(Int32(bitPattern: SoftFloat.f64ToU32(a64, rm, &flags)))
                            case 2: got = UInt64(bitPattern: SoftFloat.f64ToI64(a64, rm, &flags))
                            default: got = SoftFloat.f64ToU64(a64, rm, &flags)
                            }
                        } else {
                            switch index {
                            case 0: got = sext(SoftFloat.f32ToI32(Self.s(a32), rm, &flags))
                            case 1: got = sext(Int32(bitPattern: SoftFloat.f32ToU32(Self.s(a32), rm, &flags)))
                            case 2: got = UInt64(bitPattern: SoftFloat.f32ToI64(Self.s(a32), rm, &flags))
                            default: got = SoftFloat.f32ToU64(Self.s(a32), rm, &flags)
                            }
                        }
                        // fcvt.wu writes the 32-bit result sign-extended.
                        let wantValue = target.name == "wu" ? sext(Int32(truncatingIfNeeded: want.0)) : want.0
                        if got != wantValue || flags != want.1 {
                            let operand = formatIndex == 0 ? FloatTest.hex(a64) : FloatTest.hex(Self.s(a32))
                            failures.append(
                                "fcvt.\(target.name).\(formatIndex == 0 ? "d" : "s") \(operand) "
                                    + "\(FloatTest.modeNames[Int(rm)]): "
                                    + "got \(FloatTest.hex(got)) \(FloatTest.flagNames(flags)), "
                                    + "want \(FloatTest.hex(wantValue)) \(FloatTest.flagNames(want.1))")
                        }
                    }
                }
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }

    @Test func comparisonsMinMaxAndClass() {
        var random = SplitMix64(state: 51)
        var failures: [String] = []
        for _ in 0..<Self.iterations {
            var (a, b) = random.pair(Binary64.self)
            if random.below(8) == 0 { b = random.below(2) == 0 ? a : a ^ Binary64.signBit }
            let x = Double(bitPattern: a)
            let y = Double(bitPattern: b)
            let signaling = Binary64.isSignalingNaN(a) || Binary64.isSignalingNaN(b)
            let unordered = x.isNaN || y.isNaN
            var flags: UInt8 = 0
            let eq = SoftFloat.eq64(a, b, &flags)
            if eq != (x == y) || flags != (signaling ? SoftFloat.invalid : 0) { failures.append("feq \(a) \(b)") }
            flags = 0
            let lt = SoftFloat.lt64(a, b, &flags)
            if lt != (x < y) || flags != (unordered ? SoftFloat.invalid : 0) { failures.append("flt \(a) \(b)") }
            flags = 0
            let le = SoftFloat.le64(a, b, &flags)
            if le != (x <= y) || flags != (unordered ? SoftFloat.invalid : 0) { failures.append("fle \(a) \(b)") }
            // minimumNumber / maximumNumber, -0 < +0.
            let wantMin: UInt64
            let wantMax: UInt64
            if x.isNaN && y.isNaN {
                (wantMin, wantMax) = (Binary64.canonicalNaN, Binary64.canonicalNaN)
            } else if x.isNaN || y.isNaN {
                (wantMin, wantMax) = x.isNaN ? (b, b) : (a, a)
            } else if x < y || (x == y && x.sign == .minus) {
                (wantMin, wantMax) = (a, b)
            } else {
                (wantMin, wantMax) = (b, a)
            }
            flags = 0
            let min = SoftFloat.min64(a, b, &flags)
            if min != wantMin || flags != (signaling ? SoftFloat.invalid : 0) { failures.append("fmin \(a) \(b)") }
            flags = 0
            let max = SoftFloat.max64(a, b, &flags)
            if max != wantMax || flags != (signaling ? SoftFloat.invalid : 0) { failures.append("fmax \(a) \(b)") }
            let classes: [FloatingPointClassification] = [
                .negativeInfinity, .negativeNormal, .negativeSubnormal, .negativeZero, .positiveZero,
                .positiveSubnormal, .positiveNormal, .positiveInfinity, .signalingNaN, .quietNaN,
            ]
            let wantClass = UInt64(1) << UInt64(classes.firstIndex(of: x.floatingPointClass)!)
            if SoftFloat.classify64(a) != wantClass { failures.append("fclass.d \(a)") }
            let f = Float(bitPattern: Self.s(a))
            let wantClass32 = UInt64(1) << UInt64(classes.firstIndex(of: f.floatingPointClass)!)
            if SoftFloat.classify32(Self.s(a)) != wantClass32 { failures.append("fclass.s \(Self.s(a))") }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }

    /// The RNE fast paths and the exact path agree on every operand (the host oracle mostly
    /// exercises the fast path in RNE).
    @Test func fastPathsAgreeWithExactPath() {
        var random = SplitMix64(state: 61)
        var failures: [String] = []
        for _ in 0..<Self.iterations {
            let (a, b, c) = random.triple(Binary64.self)
            let (a32, b32, c32) = random.triple(Binary32.self)
            let (x, y, z) = (Self.s(a32), Self.s(b32), Self.s(c32))
            let (d, f) = (Binary64.self, Binary32.self)
            let n = Int64(bitPattern: a)
            typealias Pair = (String, (inout UInt8) -> UInt64, (inout UInt8) -> UInt64)
            let pairs: [Pair] = [
                ("add64", { SoftFloat.add64(a, b, 0, &$0) }, { SoftFloat.add(a, b, 0, &$0, d) }),
                ("mul64", { SoftFloat.mul64(a, b, 0, &$0) }, { SoftFloat.mul(a, b, 0, &$0, d) }),
                ("div64", { SoftFloat.div64(a, b, 0, &$0) }, { SoftFloat.div(a, b, 0, &$0, d) }),
                ("sqrt64", { SoftFloat.sqrt64(a, 0, &$0) }, { SoftFloat.sqrt(a, 0, &$0, d) }),
                ("fma64", { SoftFloat.fma64(a, b, c, 0, &$0) }, { SoftFloat.fma(a, b, c, 0, &$0, d) }),
                ("f64ToF32", { UInt64(SoftFloat.f64ToF32(a, 0, &$0)) }, { SoftFloat.convert(a, 0, &$0, from: d, to: f) }),
                ("i64ToF64", { SoftFloat.i64ToF64(n, 0, &$0) }, { SoftFloat.fromInteger(n < 0, n.magnitude, 0, &$0, d) }),
                ("u64ToF64", { SoftFloat.u64ToF64(a, 0, &$0) }, { SoftFloat.fromInteger(false, a, 0, &$0, d) }),
                ("i64ToF32", { UInt64(SoftFloat.i64ToF32(n, 0, &$0)) }, { SoftFloat.fromInteger(n < 0, n.magnitude, 0, &$0, f) }),
                ("u64ToF32", { UInt64(SoftFloat.u64ToF32(a, 0, &$0)) }, { SoftFloat.fromInteger(false, a, 0, &$0, f) }),
                ("add32", { UInt64(SoftFloat.add32(x, y, 0, &$0)) }, { SoftFloat.add(a32, b32, 0, &$0, f) }),
                ("mul32", { UInt64(SoftFloat.mul32(x, y, 0, &$0)) }, { SoftFloat.mul(a32, b32, 0, &$0, f) }),
                ("div32", { UInt64(SoftFloat.div32(x, y, 0, &$0)) }, { SoftFloat.div(a32, b32, 0, &$0, f) }),
                ("sqrt32", { UInt64(SoftFloat.sqrt32(x, 0, &$0)) }, { SoftFloat.sqrt(a32, 0, &$0, f) }),
                ("fma32", { UInt64(SoftFloat.fma32(x, y, z, 0, &$0)) }, { SoftFloat.fma(a32, b32, c32, 0, &$0, f) }),
                ("f32ToF64", { SoftFloat.f32ToF64(x, &$0) }, { SoftFloat.convert(a32, 0, &$0, from: f, to: d) }),
            ]
            for (name, fast, exact) in pairs {
                var fastFlags: UInt8 = 0
                var exactFlags: UInt8 = 0
                let fastResult = fast(&fastFlags)
                let exactResult = exact(&exactFlags)
                if fastResult != exactResult || fastFlags != exactFlags {
                    let operands = [a, b, c, a32, b32, c32].map { FloatTest.hex($0) }.joined(separator: " ")
                    failures.append(
                        "\(name) \(operands): fast \(FloatTest.hex(fastResult)) \(FloatTest.flagNames(fastFlags)), "
                            + "exact \(FloatTest.hex(exactResult)) \(FloatTest.flagNames(exactFlags))")
                }
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20).joined(separator: "\n"))")
    }
}
