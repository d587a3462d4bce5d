// Global value numbering (common-subexpression elimination over the dominator tree).
//
// Walks the dominator tree in preorder with a scoped table from (opcode, type, immediate,
// operands) to the value that first computed it; an identical pure instruction dominated by
// that one is replaced by it (Briggs, Cooper and Simpson's dominator-based value numbering,
// without the phi part: block parameters are always distinct values). Operands of commutative
// operations are put in a fixed order first, so `iadd a, b` and `iadd b, a` match (a comparison
// swaps its condition).
//
// Loads are merged only inside one block, and only while nothing that may write memory (a
// store, a call of a helper that writes memory) comes between: the second load then cannot
// fault if the first did not and reads the same bytes. Loads are never merged across blocks.
// Calls of pure helpers are merged like pure instructions. Guest state reads are mostly state
// forwarding's business; this pass merges only `get_slot`s of one slot in one block with no
// `set_slot` of it or state-writing call between (LICM leaves such reads, hoisted from several
// blocks of a loop, side by side in the preheader).
//
// Assumes: a verified function. Preserves: every effect and its order; removed instructions
// had pure results replaced by identical ones computed earlier on every path.

/// The global value numbering pass.
public enum GlobalValueNumbering {
    fileprivate struct Key: Hashable {
        var opcode: Opcode
        var type: IRType
        var imm: UInt64
        var a: Value
        var b: Value
        var c: Value
        var count: Int

        /// One combine of a cheap mix instead of hashing each field.
        func hash(into hasher: inout Hasher) { hasher.combine(mix) }

        /// The fields mixed into one word.
        var mix: UInt64 {
            var h = imm &* 0x9e37_79b9_7f4a_7c15
            h ^= UInt64(opcode.rawValue) | UInt64(type.rawValue) << 8 | UInt64(count) << 16
            h = (h ^ UInt64(a.index)) &* 0xbf58_476d_1ce4_e5b9
            h = (h ^ UInt64(b.index)) &* 0x94d0_49bb_1331_11eb
            h ^= UInt64(c.index) << 32
            return h
        }
    }

    /// The walk's table: open addressing with linear probing, at most half full (an entry an
    /// instruction at most), whose entries leave in the reverse order they came (the walk's
    /// scopes nest): emptying the newest entry's slot leaves every older entry findable, since
    /// none was placed while it was there. (A `Dictionary` hashed each key with SipHash and
    /// deleted with tombstones: most of the pass's time.)
    fileprivate struct ScopedTable {
        private var keys: [Key]
        private var values: [UInt32]
        private let mask: Int
        /// Slots filled, in order: `mark` and `restore(to:)` undo a scope's.
        private var filled: [Int] = []
        static let empty = UInt32.max

        init(capacity: Int) {
            var size = 16
            while size < 2 * capacity { size <<= 1 }
            mask = size - 1
            let none = Value(UInt32.max)
            keys = [Key](filled: Key(opcode: .iconst, type: .i64, imm: 0, a: none, b: none, c: none, count: 0), count: size)
            values = [UInt32](filled: Self.empty, count: size)
        }

        @inline(__always) private func start(_ key: Key) -> Int { Int(truncatingIfNeeded: (key.mix &* 0x9e37_79b9_7f4a_7c15) >> 32) & mask }

        /// The value recorded for `key`, if any.
        func find(_ key: Key) -> Value? {
            var i = start(key)
            while values[i] != Self.empty {
                if keys[i] == key { return Value(values[i]) }
                i = (i + 1) & mask
            }
            return nil
        }

        /// Records `value` for `key`, which has none.
        mutating func insert(_ key: Key, _ value: Value) {
            var i = start(key)
            while values[i] != Self.empty { i = (i + 1) & mask }
            keys[i] = key
            values[i] = value.index
            filled.append(i)
        }

        var mark: Int { filled.count }

        /// Removes the entries recorded since `mark`.
        mutating func restore(to mark: Int) {
            while filled.count > mark { values[filled.removeLast()] = Self.empty }
        }
    }

    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        // Swapped in and out, not copied: the arrays stay uniquely referenced (no copy on write).
        var state = Numbering(f: f)
        f = Function(name: "")
        state.run()
        swap(&state.f, &f)
    }

    /// The walk's state, as a struct so that its fields are not captured by closures.
    fileprivate struct Numbering {
        var f: Function
        var map: [Value]
        var table: ScopedTable
        var loads: [Key: Value] = [:]
        var slotReads: [UInt64: Value] = [:]
        var removed: [Bool]
        let none = Value(UInt32.max)

        init(f: Function) {
            self.f = f
            map = (0..<f.values.count).map { Value($0) }
            removed = [Bool](filled: false, count: f.insts.count)
            table = ScopedTable(capacity: f.insts.count)
        }

        mutating func run() {
            let tree = DominatorTree(ControlFlowGraph(f))
            // Preorder walk with scopes: entering a block records the undo mark; leaving pops.
            guard let entry = tree.preorder.first else { return }
            var stack: [(block: Block, child: Int, mark: Int)] = [(entry, 0, 0)]
            visit(entry)
            while let top = stack.last {
                let children = tree.children[top.block.id]
                if top.child < children.count {
                    stack[stack.count - 1].child += 1
                    let c = children[top.child]
                    stack.append((c, 0, table.mark))
                    visit(c)
                } else {
                    table.restore(to: top.mark)
                    stack.removeLast()
                }
            }
            let removed = self.removed
            f.removeInsts { removed[$0.id] }
            f.rewriteUses(map)
        }

        mutating func visit(_ block: Block) {
            loads.removeAll(keepingCapacity: true)
            slotReads.removeAll(keepingCapacity: true)
            for inst in f.blocks[block.id].insts {
                let data = f.insts[inst.id]
                let effects = f.effects(inst)
                if effects.contains(.writesMemory) { loads.removeAll(keepingCapacity: true) }
                // Slots by offset: two declarations of one field are one slot here.
                if data.opcode == .setSlot {
                    slotReads[UInt64(f.slots[Int(data.imm)].offset)] = nil
                } else if effects.contains(.writesState) {
                    slotReads.removeAll(keepingCapacity: true)
                }
                guard let result = data.result else { continue }
                if data.opcode == .getSlot {
                    let offset = UInt64(f.slots[Int(data.imm)].offset)
                    if let existing = slotReads[offset], f.type(existing) == f.type(result) {
                        map[result.id] = existing
                        removed[inst.id] = true
                    } else {
                        slotReads[offset] = result
                    }
                    continue
                }
                let isLoad = data.opcode.info.format == .load
                guard effects.contains(.isPure) || isLoad else { continue }
                let count = Int(data.args.count), start = Int(data.args.start)
                guard count <= 3 else { continue }
                var key = Key(
                    opcode: data.opcode, type: data.type, imm: data.imm,
                    a: count > 0 ? map[f.pool[start].id] : none, b: count > 1 ? map[f.pool[start + 1].id] : none,
                    c: count > 2 ? map[f.pool[start + 2].id] : none, count: count)
                GlobalValueNumbering.normalize(&key)
                if isLoad {
                    if let existing = loads[key] {
                        map[result.id] = existing
                        removed[inst.id] = true
                    } else {
                        loads[key] = result
                    }
                } else if let existing = table.find(key) {
                    map[result.id] = existing
                    removed[inst.id] = true
                } else {
                    table.insert(key, result)
                }
            }
        }
    }

    /// Orders the operands of commutative operations.
    fileprivate static func normalize(_ key: inout Key) {
        func sort() {
            if key.b < key.a { swap(&key.a, &key.b) }
        }
        switch key.opcode {
        case .iadd, .imul, .imulhs, .imulhu, .band, .bor, .bxor, .fadd, .fmul, .fmin, .fmax:
            sort()
        case .icmp:
            if key.b < key.a, let cond = IntCondition(rawValue: UInt8(truncatingIfNeeded: key.imm)) {
                swap(&key.a, &key.b)
                key.imm = UInt64(cond.swapped.rawValue)
            }
        case .fcmp, .fcmpSilent:
            let cond = FloatCondition(rawValue: UInt8(truncatingIfNeeded: key.imm))
            if cond == .eq || cond == .ne || cond == .uno || cond == .ord { sort() }
        case .iconst, .bconst, .f32const, .f64const, .isub, .imulhsu, .sdiv, .udiv, .srem, .urem, .bnot, .ineg, .shl,
            .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32, .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap,
            .fclass32, .fclass64, .select, .bint, .fsub, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .bitcast, .f32FromBits,
            .f32ToBits, .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .getSlot, .setSlot, .loadI64, .uload8, .sload8,
            .uload16, .sload16, .uload32, .sload32, .loadF32, .loadF64, .store8, .store16, .store32, .store64,
            .storeF32, .storeF64, .call, .jump, .brif, .exit, .exitIndirect, .trap:
            break
        }
    }
}
