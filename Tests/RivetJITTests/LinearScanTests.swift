import RivetIR
import RivetJIT
import RivetX64
import Testing

/// Tier 2's linear-scan allocator on small hand-built functions: intervals, registers never
/// shared by overlapping intervals, spills under pressure.
@Suite struct LinearScanTests {
    static func parse(_ body: String) throws -> Function {
        let f = try Parser.parse("function %t(slots: x1: i64 @8, x2: i64 @16, x3: i64 @24) {\n" + body + "\n}")
        try Verifier.verify(f)
        return f.compacted()
    }

    /// No two overlapping intervals share a location.
    static func expectDisjoint(_ a: RegisterAllocation, sourceLocation: SourceLocation = #_sourceLocation) {
        let intervals = a.intervals.compactMap { $0 }
        for i in intervals.indices {
            for j in intervals.indices where j > i && intervals[i].overlaps(intervals[j]) {
                // Unallocated values (folded constants) have no location.
                guard let first = a.locations[intervals[i].value.id], let second = a.locations[intervals[j].value.id]
                else { continue }
                #expect(first != second,
                        "\(intervals[i]) and \(intervals[j]) share a location", sourceLocation: sourceLocation)
            }
        }
    }

    /// No split value shares its register, in a block it has it there, with a value live at
    /// the same position of the block in that register (in its whole-life location or its own
    /// split's): `f` is the allocated function.
    static func expectSplitsDisjoint(_ a: RegisterAllocation, _ f: Function, sourceLocation: SourceLocation = #_sourceLocation) {
        let intervals = a.intervals
        var ends = [Int](repeating: .max, count: f.blocks.count)
        for (k, b) in f.layout.enumerated() where k + 1 < f.layout.count { ends[b.id] = a.blockStarts[f.layout[k + 1].id] - 1 }
        func positions(_ v: Int, in b: Int) -> Set<Int> {
            guard let interval = intervals[v] else { return [] }
            var out = Set<Int>()
            for r in interval.ranges {
                let lower = max(r.lowerBound, a.blockStarts[b]), upper = min(r.upperBound, ends[b])
                if lower <= upper { out.formUnion(lower...upper) }
            }
            return out
        }
        for split in a.splits {
            for b in f.layout where split.blocks[b.id] {
                let mine = positions(split.value.id, in: b.id)
                for u in 0..<a.locations.count where u != split.value.id {
                    let there = a.splits.first { $0.value.id == u && $0.blocks[b.id] }?.location ?? a.locations[u]
                    guard there == split.location else { continue }
                    #expect(mine.isDisjoint(with: positions(u, in: b.id)),
                            "v\(split.value.id) split into \(split.location) in block\(b.id) meets v\(u)", sourceLocation: sourceLocation)
                }
            }
        }
    }

    /// A value an outer loop reads, live through an inner loop whose pressure spills it, is
    /// kept in a register in the outer loop's blocks and in its slot through the inner loop.
    @Test func aValueSpilledForAnInnerLoopKeepsARegisterOutsideIt() throws {
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                v2 = get_slot.i64 x3
                v20 = iconst 1
                v21 = iconst 0
                jump block1(v0, v1)
            block1(v3: i64, v4: i64):
                v6 = iadd v4, v4
                v22 = bxor v6, v3
                jump block2(v3, v22)
            block2(v7: i64, v8: i64):
                v9 = imul v7, v2
                v10 = iadd v9, v8
                v11 = isub v7, v20
                v12 = icmp eq v11, v21
                brif v12, block3, block2(v11, v10)
            block3:
                v13 = iadd v6, v10
                v14 = isub v3, v20
                v15 = icmp eq v14, v21
                brif v15, block4, block1(v14, v13)
            block4:
                exit pc=0x200 [x1=v14 x2=v13]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8])
        Self.expectDisjoint(a)
        Self.expectSplitsDisjoint(a, f)
        // Values the outer loop reads in block3 are spilled for the inner loop (block2), and
        // kept in a register in block3.
        let split = a.splits.filter { s in
            !s.blocks[2] && s.blocks[3] && f.blocks[3].insts.contains { f.args($0).contains(s.value) }
        }
        #expect(!split.isEmpty, "\(a.splits.map { ($0.value, $0.location, $0.blocks) }) \(a.locations)")
        for s in split {
            switch a.locations[s.value.id] {
            case .stack?, .home?: break
            default: Issue.record("v\(s.value.id) is split but not spilled")
            }
        }
        // With registers enough, nothing is spilled and nothing split.
        let b = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8, .r9, .r10, .r11, .rbp, .r13, .r14, .r12, .rbx])
        #expect(b.spillSlots == 0 && b.splits.isEmpty)
    }

    @Test func straightLineIntervals() throws {
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = iconst 3
                v2 = iadd v0, v1
                v3 = imul v2, v0
                exit pc=0x10 [x2=v3]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8])
        // Block 0 starts at 0; instructions read at 2, 4, 6, 8, 10 and define at 3, 5, 7, 9.
        #expect(a.intervals[0] == LiveInterval(value: Value(0), start: 3, end: 8))
        #expect(a.intervals[1] == LiveInterval(value: Value(1), start: 5, end: 6))
        #expect(a.intervals[2] == LiveInterval(value: Value(2), start: 7, end: 8))
        #expect(a.intervals[3] == LiveInterval(value: Value(3), start: 9, end: 10))  // the exit state uses it
        #expect(a.spillSlots == 0)
        Self.expectDisjoint(a)
        // v1's register is free again when v3 is defined.
        #expect(a.location(Value(3)) == a.location(Value(1)) || a.location(Value(3)) == a.location(Value(0))
            || a.location(Value(3)) == a.location(Value(2)))
    }

    /// With float registers, f32 and f64 values take them and every other value a general
    /// register: each class spills under its own pressure (three doubles live at once, two XMM
    /// registers; the integers fit).
    @Test func floatValuesTakeTheirOwnClass() throws {
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = bitcast.f64 v0
                v2 = fadd.f64 v1, v1
                v3 = fmul.f64 v2, v1
                v4 = fsub.f64 v3, v2
                v5 = fadd.f64 v4, v1
                v6 = bitcast.i64 v5
                v7 = iadd v0, v6
                exit pc=0x10 [x2=v7 x3=v3]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi], floatRegisters: [.xmm3, .xmm4])
        Self.expectDisjoint(a)
        for v in 0..<f.values.count {
            let isFloat = f.values[v].type == .f64
            switch a.locations[v] {
            case .register?: #expect(!isFloat, "v\(v) is a double in a general register")
            case .float?: #expect(isFloat, "v\(v) is an integer in an XMM register")
            case .stack?: #expect(isFloat, "v\(v): only the doubles lack registers")
            case .home?: Issue.record("v\(v) has a home, but none were given")
            case nil: Issue.record("v\(v) has no location")
            }
        }
        #expect(a.spillSlots > 0)
        #expect(a.usedRegisters.isSubset(of: [.rsi, .rdi]) && a.usedFloatRegisters == [.xmm3, .xmm4])
        // Without float registers, every value takes a general register or a slot, as before.
        let b = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8, .r9, .r10, .r11])
        Self.expectDisjoint(b)
        #expect(b.usedFloatRegisters.isEmpty && b.spillSlots == 0)
    }

    @Test func loopsExtendIntervalsAcrossTheBackEdge() throws {
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = iconst 0
                jump block1(v1)
            block1(v2: i64):
                v3 = iconst 1
                v4 = iadd v2, v3
                v5 = icmp ult v4, v0
                brif v5, block1(v4), block2
            block2:
                exit pc=0x20 [x1=v4]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8, .r9])
        let header = a.blockStarts[1], exitBlock = a.blockStarts[2]
        // v0 is used in the loop: it lives to the end of the loop's last block.
        let v0 = try #require(a.intervals[0])
        #expect(v0.start < header && v0.end >= exitBlock - 1)
        // The parameter starts at the header; v4 is live out of the loop to the exit.
        #expect(a.intervals[2]?.start == header)
        #expect((a.intervals[4]?.end ?? 0) > exitBlock)
        Self.expectDisjoint(a)
    }

    @Test func pressureSpills() throws {
        // Eight values live at once with three registers.
        var body = "block0:\n"
        for k in 0..<8 { body += "    v\(k) = iconst \(k)\n" }
        var sum = 8
        body += "    v8 = iadd v0, v1\n"
        for k in 2..<8 {
            body += "    v\(sum + 1) = iadd v\(sum), v\(k)\n"
            sum += 1
        }
        body += "    exit pc=0x30 [x1=v\(sum)]"
        let f = try Self.parse(body)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8])
        #expect(a.spillSlots > 0)
        #expect(a.usedRegisters.count == 3)
        Self.expectDisjoint(a)
        // With enough registers, nothing spills.
        let b = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8, .r9, .r10, .rbx, .rbp, .r15, .r11])
        #expect(b.spillSlots == 0)
        Self.expectDisjoint(b)
    }

    @Test func theLoopsCounterKeepsARegisterAndAnExitOnlyValueIsSpilled() throws {
        // v0 is read only by the exit; the counter (v3, v5) and the bound (v1) run every pass.
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                v2 = iconst 0
                jump block1(v2)
            block1(v3: i64):
                v4 = iconst 1
                v5 = iadd v3, v4
                v6 = icmp ult v5, v1
                brif v6, block1(v5), block2
            block2:
                exit pc=0x20 [x1=v5 x3=v0]
            """)
        // Two registers; the constants are immediates.
        let a = LinearScan.allocate(
            f, registers: [.rsi, .rdi], unallocated: (0..<f.values.count).map { $0 == 2 || $0 == 4 })
        Self.expectDisjoint(a)
        #expect(a.location(Value(0)) == .stack(0) || a.location(Value(0)) == .stack(1))
        for v in [3, 5] {
            guard case .register = a.location(Value(v)) else {
                Issue.record("v\(v) is at \(a.location(Value(v)))")
                continue
            }
        }
        // Loop depths: the loop is block1 alone.
        #expect(LinearScan.loopDepths(f) == [0, 1, 0])
    }

    @Test func aSpilledValueGoesHomeUnlessAnotherHoldsIt() throws {
        // v0 and v1 are read only by exits, both as x3, and live together: with one register
        // (the counter's), both spill; one goes to x3's slot (slot 2), the other, overlapping
        // it, to a spill slot.
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                v2 = iconst 0
                jump block1(v2)
            block1(v3: i64):
                v4 = iconst 1
                v5 = iadd v3, v4
                v6 = icmp ult v5, v4
                brif v6, block1(v5), block2
            block2:
                v7 = icmp eq v5, v4
                brif v7, block3, block4
            block3:
                exit pc=0x20 [x3=v0]
            block4:
                exit pc=0x24 [x3=v1]
            """)
        var homes = [Int?](repeating: nil, count: f.values.count)
        homes[0] = 2
        homes[1] = 2
        let a = LinearScan.allocate(
            f, registers: [.rsi], unallocated: (0..<f.values.count).map { $0 == 2 || $0 == 4 }, homes: homes)
        Self.expectDisjoint(a)
        let places = [a.location(Value(0)), a.location(Value(1))]
        #expect(places.filter { $0 == .home(2) }.count == 1, "\(places)")
        #expect(places.contains { if case .stack = $0 { true } else { false } }, "\(places)")
        // Without homes, both take spill slots.
        let b = LinearScan.allocate(f, registers: [.rsi], unallocated: (0..<f.values.count).map { $0 == 2 || $0 == 4 })
        #expect(!b.locations.contains { if case .home? = $0 { true } else { false } })
    }

    @Test func aParameterSharesAHomeWithAValueThatEndedInTheBlockBefore() throws {
        // v0 is live out of block0 (block2's exit reads it) but dead in block1, laid out right
        // after: block1's parameter v3 starts where v0's first range ends. With no registers
        // both spill, and both may stay in x3's slot: nothing writes v3 there before v0's last
        // read in block0 (the one-position margin between a slot's intervals applies only
        // where one starts at an instruction's result).
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                v2 = icmp eq v1, v1
                brif v2, block1(v1), block2
            block1(v3: i64):
                exit pc=0x20 [x3=v3]
            block2:
                exit pc=0x24 [x3=v0]
            """)
        var homes = [Int?](repeating: nil, count: f.values.count)
        homes[0] = 2
        homes[3] = 2
        let a = LinearScan.allocate(f, registers: [], homes: homes)
        Self.expectDisjoint(a)
        let v0 = try #require(a.intervals[0]), v3 = try #require(a.intervals[3])
        #expect(v3.start == v0.ranges[0].upperBound + 1, "\(v0) \(v3)")
        #expect(a.location(Value(0)) == .home(2))
        #expect(a.location(Value(3)) == .home(2))
    }

    @Test func aValueSharesARegisterThroughAnothersHole() throws {
        // v0 is read in block0 and by block2's exit, laid out after block1: it is dead in
        // block1, where v2 and v3 need both registers.
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = icmp eq v0, v0
                brif v1, block1, block2
            block1:
                v2 = get_slot.i64 x2
                v3 = get_slot.i64 x3
                v4 = iadd v2, v3
                exit pc=0x10 [x1=v4]
            block2:
                exit pc=0x20 [x2=v0]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi])
        let v0 = try #require(a.intervals[0])
        #expect(v0.ranges.count == 2)
        #expect(v0.ranges.first!.upperBound < a.blockStarts[1] && v0.ranges.last!.lowerBound == a.blockStarts[2])
        #expect(a.spillSlots == 0)
        #expect(a.location(Value(0)) == a.location(Value(2)) || a.location(Value(0)) == a.location(Value(3)))
        Self.expectDisjoint(a)
    }

    @Test func hintsFollowTwoAddressChainsToTheBackEdge() throws {
        // Collatz's step (alu's hot loop): v10 = v8 + v4 goes to the parameter v6, v9 to v5.
        // v8 is allocated before v10 and v5's register is free then: without following the
        // chain v8 -> v10 -> v6, v8 took it and the back edge swapped two registers.
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                v2 = iconst 1
                v3 = get_slot.i64 x3
                jump block1(v0, v1, v1)
            block1(v4: i64, v5: i64, v6: i64):
                v7 = bxor v5, v6
                set_slot x3, v7
                v8 = shl v4, v2
                v9 = band v4, v2
                v10 = iadd v8, v4
                v11 = ushr v4, v2
                v12 = icmp ult v11, v3
                brif v12, block1(v11, v9, v10), block2
            block2:
                exit pc=0x40 [x1=v11 x2=v9 x3=v10]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi, .r8, .r9, .r10, .r11])
        #expect(a.spillSlots == 0)
        // The back edge moves nothing: each argument is where its parameter is.
        for (parameter, argument) in [(4, 11), (5, 9), (6, 10)] {
            #expect(a.location(Value(parameter)) == a.location(Value(argument)), "v\(parameter) and v\(argument)")
        }
        // The addition computes in place: v8 is where v10 is.
        #expect(a.location(Value(8)) == a.location(Value(10)))
        Self.expectDisjoint(a)
    }

    @Test func anIntervalEvictedLateNeverSharesASlotWithOneItOverlaps() throws {
        // Two registers. At block1's start v2 and v3 take them; v4 evicts v3 (it weighs least)
        // to slot 0. In block2, where v2 is dead (a hole), v10 is spilled and takes slot 0
        // (v3 ended). In block3 the chain evicts v2: slot 0 holds only v10, which lies in
        // v2's hole, but v3 overlaps v2 at block1's start. Slots dropped the intervals that
        // ended before the scan's position, so v2 took slot 0 too (bzip2's mainSort read a
        // wrong x11 at a fault).
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                jump block1(v0, v1)
            block1(v2: i64, v3: i64):
                v4 = iadd v2, v2
                v5 = iadd v4, v2
                v6 = iadd v5, v2
                v7 = iadd v6, v2
                v8 = icmp eq v7, v3
                brif v8, block2, block3
            block2:
                v9 = get_slot.i64 x3
                v10 = get_slot.i64 x2
                v11 = get_slot.i64 x1
                v12 = iadd v9, v11
                v13 = iadd v12, v9
                v14 = iadd v13, v11
                v15 = iadd v14, v9
                v16 = iadd v15, v11
                exit pc=0x10 [x1=v16 x2=v10]
            block3:
                v17 = get_slot.i64 x3
                v18 = get_slot.i64 x1
                v19 = iadd v17, v18
                v20 = iadd v19, v17
                v21 = iadd v20, v18
                v22 = iadd v21, v17
                v23 = iadd v22, v18
                v24 = iadd v23, v2
                exit pc=0x20 [x1=v24]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi])
        #expect(a.location(Value(3)) != a.location(Value(2)))
        #expect(a.spillSlots >= 2)
        Self.expectDisjoint(a)
    }

    @Test func aSpilledLoopInvariantTakesARegisterBackFromCheaperValues() throws {
        // Two registers. v0 is read three times a pass of the loop and by the exit at the end;
        // where block0's chain starts the scan compares weights per position, and v0 (live to
        // the end) weighs least per position: it is spilled for its whole life, though the
        // loop leaves it a register. The second chance gives it one: the values there that
        // overlap it (the chains before and after the loop) weigh less in all than v0, and go
        // to slots instead.
        let f = try Self.parse(
            """
            block0:
                v0 = get_slot.i64 x1
                v1 = get_slot.i64 x2
                v2 = get_slot.i64 x3
                v3 = iadd v1, v2
                v4 = iadd v3, v1
                v5 = iadd v4, v3
                set_slot x2, v5
                jump block1
            block1:
                v6 = iadd v0, v0
                v7 = icmp ult v6, v0
                brif v7, block1, block2
            block2:
                v8 = get_slot.i64 x2
                v9 = get_slot.i64 x3
                v10 = iadd v8, v9
                v11 = iadd v10, v8
                v12 = iadd v11, v10
                exit pc=0x20 [x1=v0 x2=v12]
            """)
        let a = LinearScan.allocate(f, registers: [.rsi, .rdi])
        Self.expectDisjoint(a)
        #expect(a.locations[0] == .register(.rsi) || a.locations[0] == .register(.rdi), "\(a.locations)")
        // The loop's values keep their register too; chain values pay for it.
        #expect(a.locations[6] == .register(.rsi) || a.locations[6] == .register(.rdi), "\(a.locations)")
        #expect(a.spillSlots > 0)
    }
}
