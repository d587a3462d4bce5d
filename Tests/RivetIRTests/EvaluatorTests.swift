import RivetIR
import Testing

@Suite struct EvaluatorTests {
    @Test func divisionIsTotalWithRISCVResults() {
        let minInt = UInt64(bitPattern: Int64.min), minusOne = UInt64.max
        #expect(Semantics.evaluate(.sdiv, type: .i64, imm: 0, 7, 0, 0) == UInt64.max)
        #expect(Semantics.evaluate(.udiv, type: .i64, imm: 0, 7, 0, 0) == UInt64.max)
        #expect(Semantics.evaluate(.srem, type: .i64, imm: 0, 7, 0, 0) == 7)
        #expect(Semantics.evaluate(.urem, type: .i64, imm: 0, 7, 0, 0) == 7)
        #expect(Semantics.evaluate(.sdiv, type: .i64, imm: 0, minInt, minusOne, 0) == minInt)
        #expect(Semantics.evaluate(.srem, type: .i64, imm: 0, minInt, minusOne, 0) == 0)
        #expect(Semantics.evaluate(.srem, type: .i64, imm: 0, UInt64(bitPattern: -7), 2, 0) == UInt64(bitPattern: -1))
    }

    @Test func multiplyHigh() {
        let minusTwo = UInt64(bitPattern: -2)
        #expect(Semantics.evaluate(.imulhu, type: .i64, imm: 0, UInt64.max, 2, 0) == 1)
        #expect(Semantics.evaluate(.imulhs, type: .i64, imm: 0, minusTwo, 3, 0) == UInt64.max)
        #expect(Semantics.evaluate(.imulhsu, type: .i64, imm: 0, minusTwo, UInt64.max, 0) == minusTwo)
        #expect(Semantics.evaluate(.imulhsu, type: .i64, imm: 0, 2, UInt64.max, 0) == 1)
    }

    /// fclass32 and fclass64 against Swift's own classification of the same bits (RISC-V's
    /// order of classes: -inf, -normal, -subnormal, -0, +0, +subnormal, +normal, +inf,
    /// signaling NaN, quiet NaN).
    @Test func floatClassesFollowRISCV() {
        func bit<F: BinaryFloatingPoint>(_ x: F) -> UInt64 {
            let k: Int =
                switch x.floatingPointClass {
                case .negativeInfinity: 0
                case .negativeNormal: 1
                case .negativeSubnormal: 2
                case .negativeZero: 3
                case .positiveZero: 4
                case .positiveSubnormal: 5
                case .positiveNormal: 6
                case .positiveInfinity: 7
                case .signalingNaN: 8
                case .quietNaN: 9
                }
            return 1 << k
        }
        var rng = SystemRandomNumberGenerator()
        var singles: [UInt32] = [0, 0x8000_0000, 1, 0x807f_ffff, 0x0080_0000, 0xff7f_ffff, 0x7f80_0000, 0xff80_0000,
                                 0x7f80_0001, 0xffbf_ffff, 0x7fc0_0000, 0xffff_ffff]
        var doubles: [UInt64] = [0, 1 << 63, 1, 0x800f_ffff_ffff_ffff, 0x0010_0000_0000_0000, 0x7ff0_0000_0000_0000,
                                 0xfff0_0000_0000_0000, 0x7ff0_0000_0000_0001, 0x7ff8_0000_0000_0000, UInt64.max]
        for _ in 0..<2000 {
            // Random signs, fractions and exponents, the extreme exponents often.
            let e32 = [0, 0xff, UInt32.random(in: 0...0xff, using: &rng)][Int.random(in: 0..<3, using: &rng)]
            let f32 = UInt32.random(in: 0..<(1 << 23), using: &rng) >> UInt32.random(in: 0...23, using: &rng)
            singles.append(UInt32.random(in: 0...1, using: &rng) << 31 | e32 << 23 | f32)
            let e64 = [0, 0x7ff, UInt64.random(in: 0...0x7ff, using: &rng)][Int.random(in: 0..<3, using: &rng)]
            let f64 = UInt64.random(in: 0..<(1 << 52), using: &rng) >> UInt64.random(in: 0...52, using: &rng)
            doubles.append(UInt64.random(in: 0...1, using: &rng) << 63 | e64 << 52 | f64)
        }
        for s in singles {
            let junk = UInt64.random(in: 0...UInt64.max, using: &rng) << 32
            let mask = Semantics.evaluate(.fclass32, type: .i64, imm: 0, junk | UInt64(s), 0, 0)
            #expect(mask == bit(Float(bitPattern: s)), "\(s)")
        }
        for d in doubles {
            #expect(Semantics.evaluate(.fclass64, type: .i64, imm: 0, d, 0, 0) == bit(Double(bitPattern: d)), "\(d)")
        }
    }

    @Test func floatNaNsAreCanonicalAndMinMaxFollowRISCV() {
        let inf = Double.infinity.bitPattern, negZero = (-0.0).bitPattern, one = 1.0.bitPattern
        let sNaN: UInt64 = 0x7ff0_0000_0000_0001
        #expect(Semantics.evaluate(.fsub, type: .f64, imm: 0, inf, inf, 0) == canonicalNaN64)
        #expect(Semantics.evaluate(.fadd, type: .f64, imm: 0, sNaN, one, 0) == canonicalNaN64)
        #expect(Semantics.evaluate(.fmin, type: .f64, imm: 0, sNaN, one, 0) == one)
        #expect(Semantics.evaluate(.fmin, type: .f64, imm: 0, 0, negZero, 0) == negZero)
        #expect(Semantics.evaluate(.fmax, type: .f64, imm: 0, negZero, 0, 0) == 0)
        #expect(Semantics.evaluate(.fsqrt, type: .f32, imm: 0, UInt64(Float(-1).bitPattern), 0, 0) == canonicalNaN32)
        #expect(Semantics.evaluate(.fneg, type: .f32, imm: 0, UInt64(Float(1).bitPattern), 0, 0) == UInt64(Float(-1).bitPattern))
        #expect(Semantics.evaluate(.fcmp, type: .f64, imm: UInt64(FloatCondition.ne.rawValue), canonicalNaN64, one, 0) == 1)
    }

    @Test func helperFaultsCarryTheCallsExitState() throws {
        let f = try Parser.parse(
            """
            function %h(slots: x1: i64 @8; helpers: @check(i64) can_fault) {
            block0:
                v0 = get_slot.i64 x1
                v1 = iconst 1
                v2 = iadd v0, v1
                call @check(v0) [pc=0x30 x1=v2]
                exit pc=0x34
            }
            """)
        var env = Environment(slots: [0], helpers: ["check": { _, a in a[0] == 0 ? .fault : .none }])
        #expect(Evaluator.run(f, &env) == .fault(at: f.blocks[0].insts[3], pc: GuestAddress(0x30), address: 0, updates: [SlotUpdate(slot: Slot(0), bits: 1)]))
        var env2 = Environment(slots: [5], helpers: ["check": { _, a in a[0] == 0 ? .fault : .none }])
        #expect(Evaluator.run(f, &env2) == .exit(pc: GuestAddress(0x34), updates: []))
        var env3 = Environment(slots: [5])
        #expect(Evaluator.run(f, &env3) == .badHelper("check"))
    }

    @Test func loopRunsAndExitsWithState() throws {
        let f = try Parser.parse(
            """
            function %count(slots: x1: i64 @8, x2: i64 @16) {
            block0:
                v0 = iconst 0
                jump block1(v0)
            block1(v1: i64):
                v2 = iconst 1
                v3 = iadd v1, v2
                v4 = iconst 10
                v5 = icmp ult v3, v4
                brif v5, block1(v3), block2
            block2:
                set_slot x1, v3
                exit pc=0x40 [x2=v4]
            }
            """)
        var env = Environment(slots: [0, 0])
        let outcome = Evaluator.run(f, &env)
        #expect(outcome == .exit(pc: GuestAddress(0x40), updates: [SlotUpdate(slot: Slot(1), bits: 10)]))
        #expect(env.slots == [10, 0])
        var env2 = Environment(slots: [0, 0])
        #expect(Evaluator.run(f, &env2, stepLimit: 20) == .stepLimit)
    }

    @Test func faultsReportTheExitState() throws {
        let f = try Parser.parse(
            """
            function %fault(slots: x1: i64 @8) {
            block0:
                v0 = get_slot.i64 x1
                store32 v0, v0 [pc=0x10]
                v1 = uload16 v0 [pc=0x14 x1=v0]
                exit pc=0x18
            }
            """)
        var memory = EvalMemory()
        memory.map(0x1000, size: 0x100)
        var env = Environment(slots: [0x10fe], memory: memory)
        // The store crosses into an unmapped page: it faults and writes nothing.
        #expect(Evaluator.run(f, &env) == .fault(at: f.blocks[0].insts[1], pc: GuestAddress(0x10), address: 0x10fe, updates: []))
        #expect(env.memory.load(0x10fe, 2) == 0)
        var env2 = Environment(slots: [0x2000], memory: memory)
        #expect(Evaluator.run(f, &env2).withoutUpdates == .fault(at: Inst(0), pc: GuestAddress(0x10), address: 0x2000, updates: []))
        var env3 = Environment(slots: [0x1000], memory: memory)
        #expect(Evaluator.run(f, &env3) == .exit(pc: GuestAddress(0x18), updates: []))
        #expect(env3.memory.load(0x1000, 4) == 0x1000)
    }
}
