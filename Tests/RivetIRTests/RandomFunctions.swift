import RivetIR

/// Generates random well-formed functions: straight-line code, forward branches, loops (back
/// edges are taken only while a counter carried through every block is small, so every run
/// ends), guest state, loads and stores (mostly to mapped memory), helper calls, floats, exits
/// with and without state, singles NaN-boxed in i64 values.
struct RandomFunctionGenerator {
    var rng: TestRandom
    var b = FunctionBuilder(name: "random")
    var slots: [Slot] = []
    var helpers: [String: HelperRef] = [:]
    var pc: UInt64 = 0x10000

    init(seed: UInt64) { rng = TestRandom(seed: seed) }

    static func make(seed: UInt64) -> Function {
        var g = RandomFunctionGenerator(seed: seed)
        return g.generate()
    }

    mutating func nextPC() -> GuestAddress {
        pc += 4
        return GuestAddress(pc)
    }

    mutating func pick(_ values: [Value]) -> Value { values[rng.below(values.count)] }

    mutating func generate() -> Function {
        for (i, name) in ["x1", "x2", "x3", "x4"].enumerated() { slots.append(b.declareSlot(name, .i64, offset: 8 * (i + 1))) }
        slots.append(b.declareSlot("f1", .f64, offset: 40))
        helpers["mix"] = b.declareHelper("mix", params: [.i64, .i64], result: .i64, effects: [.isPure])
        helpers["sum_state"] = b.declareHelper("sum_state", params: [], result: .i64, effects: [.readsState])
        helpers["bump"] = b.declareHelper("bump", params: [], result: nil, effects: [.readsState, .writesState])
        helpers["poke"] = b.declareHelper("poke", params: [.i64, .i64], result: nil, effects: [.writesMemory, .canFault])
        helpers["check"] = b.declareHelper("check", params: [.i64], result: nil, effects: [.canFault])

        let blockCount = 1 + rng.below(6)
        let loopLimit = Int64(2 + rng.below(5))
        var blocks = [b.current]
        var counters: [Value] = []
        var extraParams: [[Value]] = [[]]
        for _ in 1..<blockCount { blocks.append(b.appendBlock()) }
        for block in blocks.dropFirst() {
            counters.append(b.appendParam(block, .i64))
            var extra: [Value] = []
            for _ in 0..<rng.below(3) { extra.append(b.appendParam(block, rng.chance(75) ? .i64 : .f64)) }
            extraParams.append(extra)
        }
        var entryValues: [Value] = []
        for (i, block) in blocks.enumerated() {
            b.switchTo(block)
            var ints: [Value] = entryValues.filter { b.function.type($0) == .i64 }
            var floats: [Value] = entryValues.filter { b.function.type($0) == .f64 }
            var bools: [Value] = entryValues.filter { b.function.type($0) == .b1 }
            let counter: Value
            if i == 0 {
                counter = b.iconst(Int64(0))
                ints.append(b.iconst(memoryBase))
                floats.append(b.f64const(bits: 0x3ff8_0000_0000_0000))
            } else {
                counter = counters[i - 1]
            }
            ints.append(counter)
            for p in extraParams[i] {
                if b.function.type(p) == .i64 { ints.append(p) } else { floats.append(p) }
            }
            // A third of the time the entry block is a prologue (reads of slots and pure values,
            // then a jump), the shape tier 2's frontend makes and floatforms guards in.
            let prologue = i == 0 && blockCount > 1 && rng.chance(35)
            for _ in 0..<(2 + rng.below(10)) {
                if prologue { pureInstruction(&ints, &floats) } else { instruction(&ints, &floats, &bools) }
            }
            if i == 0 { entryValues = ints + floats + bools }
            // Terminator.
            let one = b.iconst(Int64(1))
            let next = b.binary(.iadd, counter, one)
            func args(_ destination: Int) -> [Value] {
                guard destination > 0 else { return [] }
                var a = [next]
                for p in extraParams[destination] {
                    a.append(b.function.type(p) == .i64 ? pick(ints) : pick(floats))
                }
                return a
            }
            let forward = i + 1 < blockCount ? i + 1 + rng.below(blockCount - i - 1) : nil
            if prologue {
                b.jump(blocks[1], args(1))
                continue
            }
            switch (forward, rng.below(7)) {
            case (nil, _), (_, 0):
                if rng.chance(20) {
                    b.exitIndirect(pick(ints), exitEntries(ints, floats))
                } else {
                    b.exit(ExitState(pc: nextPC(), entries: exitEntries(ints, floats)))
                }
            case (let f?, 1), (let f?, 2):
                b.jump(blocks[f], args(f))
            case (let f?, 3), (let f?, 4), (let f?, 5):
                // A loop: back to an earlier block (not the entry) while the counter is small.
                let back = i == 0 ? f : 1 + rng.below(i)
                let limit = b.iconst(loopLimit)
                let more = b.icmp(.slt, counter, limit)
                let aBack = args(back), aForward = args(f)
                b.brif(more, blocks[back], aBack, blocks[f], aForward)
            case (let f?, _):
                let g = i + 1 + rng.below(blockCount - i - 1)
                let c = bools.isEmpty ? b.icmp(.ult, pick(ints), pick(ints)) : pick(bools)
                let aF = args(f), aG = args(g)
                b.brif(c, blocks[f], aF, blocks[g], aG)
            }
        }
        return b.function
    }

    mutating func exitEntries(_ ints: [Value], _ floats: [Value]) -> [ExitEntry] {
        var entries: [ExitEntry] = []
        for s in slots where rng.chance(25) {
            let v = b.function.slots[s.id].type == .i64 ? pick(ints) : pick(floats)
            entries.append(ExitEntry(slot: s, value: v))
        }
        return entries
    }

    mutating func address(_ ints: [Value]) -> Value {
        let v = pick(ints)
        if rng.chance(10) { return v }
        let mask = b.iconst(UInt64(memorySize - 8))
        let masked = b.binary(.band, v, mask)
        let base = b.iconst(memoryBase)
        return b.binary(.iadd, masked, base)
    }

    /// An instruction with no effect and no exit: a slot read, a constant, integer arithmetic
    /// that cannot trap, a single's (boxed) bits.
    mutating func pureInstruction(_ ints: inout [Value], _ floats: inout [Value]) {
        switch rng.below(5) {
        case 0, 1:
            let s = slots[rng.below(slots.count)]
            let v = b.getSlot(s)
            if b.function.slots[s.id].type == .i64 { ints.append(v) } else { floats.append(v) }
        case 2:
            ints.append(b.iconst(rng.chance(50) ? UInt64(0xffff_ffff_0000_0000) | UInt64(rng.below(1 << 30)) : UInt64(rng.below(8))))
        case 3:
            let ops: [Opcode] = [.iadd, .isub, .band, .bor, .bxor]
            ints.append(b.binary(ops[rng.below(ops.count)], pick(ints), pick(ints)))
        default:
            let x = b.unary(.f32FromBits, pick(ints))
            let bits = b.unary(.f32ToBits, b.binary(.fadd, x, x, type: .f32))
            ints.append(b.binary(.bor, bits, b.iconst(UInt64(0xffff_ffff_0000_0000))))
        }
    }

    mutating func instruction(_ ints: inout [Value], _ floats: inout [Value], _ bools: inout [Value]) {
        let binaries: [Opcode] = [
            .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv, .srem, .urem, .band, .bor, .bxor, .shl,
            .ushr, .sshr, .rotl, .rotr,
        ]
        let unaries: [Opcode] = [
            .bnot, .ineg, .sext8, .sext16, .sext32, .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32,
            .fclass64,
        ]
        switch rng.below(23) {
        case 0, 1, 2, 3:
            ints.append(b.binary(binaries[rng.below(binaries.count)], pick(ints), pick(ints)))
        case 4:
            ints.append(b.unary(unaries[rng.below(unaries.count)], pick(ints)))
        case 5:
            let k: UInt64 = rng.chance(50) ? UInt64(rng.below(8)) : rng.next()
            ints.append(b.iconst(k))
        case 6:
            let cond = IntCondition.allCases[rng.below(IntCondition.allCases.count)]
            bools.append(b.icmp(cond, pick(ints), pick(ints)))
        case 7:
            if !bools.isEmpty {
                let c = pick(bools)
                if rng.chance(50) { ints.append(b.select(c, pick(ints), pick(ints))) } else { ints.append(b.unary(.bint, c)) }
            }
        case 8, 9:
            let s = slots[rng.below(slots.count)]
            let v = b.getSlot(s)
            if b.function.slots[s.id].type == .i64 { ints.append(v) } else { floats.append(v) }
        case 10, 11:
            let s = slots[rng.below(slots.count)]
            b.setSlot(s, b.function.slots[s.id].type == .i64 ? pick(ints) : pick(floats))
        case 12, 13:
            let ops: [Opcode] = [.loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32]
            let a = address(ints)
            let entries = exitEntries(ints, floats)
            ints.append(b.load(ops[rng.below(ops.count)], a, exit: ExitState(pc: nextPC(), entries: entries)))
        case 14:
            let ops: [Opcode] = [.store8, .store16, .store32, .store64]
            let a = address(ints)
            let entries = exitEntries(ints, floats)
            b.store(ops[rng.below(ops.count)], a, pick(ints), exit: ExitState(pc: nextPC(), entries: entries))
        case 15:
            switch rng.below(5) {
            case 0: ints.append(b.call(helpers["mix"]!, [pick(ints), pick(ints)])!)
            case 1: ints.append(b.call(helpers["sum_state"]!, [])!)
            case 2: b.call(helpers["bump"]!, [])
            case 3:
                let a = address(ints)
                let entries = exitEntries(ints, floats)
                b.call(helpers["poke"]!, [a, pick(ints)], exit: ExitState(pc: nextPC(), entries: entries))
            default:
                let entries = exitEntries(ints, floats)
                b.call(helpers["check"]!, [pick(ints)], exit: ExitState(pc: nextPC(), entries: entries))
            }
        case 16, 17:
            let ops: [Opcode] = [.fadd, .fsub, .fmul, .fdiv, .fmin, .fmax]
            if rng.chance(20) {
                floats.append(b.unary(rng.chance(50) ? .fsqrt : .fneg, pick(floats), type: .f64))
            } else {
                floats.append(b.binary(ops[rng.below(ops.count)], pick(floats), pick(floats), type: .f64))
            }
        case 18:
            if rng.chance(50) {
                ints.append(b.unary(.bitcast, pick(floats), type: .i64))
            } else {
                floats.append(b.unary(.bitcast, pick(ints), type: .f64))
            }
        case 19:
            let cond = FloatCondition.allCases[rng.below(FloatCondition.allCases.count)]
            bools.append(b.fcmp(cond, pick(floats), pick(floats)))
        case 20:
            // Single precision, through its bits.
            let x = b.unary(.f32FromBits, pick(ints))
            let y = b.unary(.f32FromBits, pick(ints))
            let ops: [Opcode] = [.fadd, .fsub, .fmul, .fdiv, .fmin, .fmax]
            var r = b.binary(ops[rng.below(ops.count)], x, y, type: .f32)
            if rng.chance(30) { r = b.unary([.fsqrt, .fneg, .fabs][rng.below(3)], r, type: .f32) }
            if rng.chance(30) { bools.append(b.fcmp(.lt, r, x)) }
            let bits = b.unary(.f32ToBits, r)
            // Half the time NaN-boxed, as an f register holds a single (what floatforms retypes
            // when it goes round a loop).
            ints.append(rng.chance(50) ? b.binary(.bor, bits, b.iconst(UInt64(0xffff_ffff_0000_0000))) : bits)
        default:
            let a = address(ints)
            let entries = exitEntries(ints, floats)
            switch rng.below(4) {
            case 0: floats.append(b.load(.loadF64, a, exit: ExitState(pc: nextPC(), entries: entries)))
            case 1: b.store(.storeF64, a, pick(floats), exit: ExitState(pc: nextPC(), entries: entries))
            case 2:
                let v = b.load(.loadF32, a, exit: ExitState(pc: nextPC(), entries: entries))
                ints.append(b.unary(.f32ToBits, v))
            default:
                let v = b.unary(.f32FromBits, pick(ints))
                b.store(.storeF32, a, v, exit: ExitState(pc: nextPC(), entries: entries))
            }
        }
    }
}
