// Float forms: floats stay floats between memory, arithmetic and the guest state.
//
// A frontend that keeps float registers as the 64 bits of integer slots (RISC-V's f registers
// are NaN-boxed bits) loads a double as `load.i64` and reinterprets it (`bitcast.f64`), and
// gives exits and stores the bits back (`bitcast.i64`). A backend with float registers then
// moves every such value between its register classes, and keeps both forms alive. Rewritten:
//  - `v = load.i64 a` with a use `bitcast.f64 v` → `w = load.f64 a` (same exit state) and
//    `v = bitcast.i64 w` in the load's place; each `bitcast.f64 v` becomes `w`;
//  - an exit-state entry `bitcast.i64 x` of a double `x` → `x`, and one that is a single's
//    NaN-box → the single (a float may stand for an i64 slot: see `ExitEntry`);
//  - `store64 a, (bitcast.i64 x)` of a double → `store.f64 a, x`;
//  - the same for singles: `uload32` read by `f32_from_bits` → `load.f32` (its bits by
//    `f32_to_bits`), `store32` of `f32_to_bits x` or of `x`'s NaN-box → `store.f32 a, x`;
//  - an i64 block parameter that receives a double's bits becomes an f64 (`retypeParameters`);
//  - an i64 block parameter that receives a single's NaN-box round a loop becomes an f32 when
//    its other values are boxes too or the region's entry values, each of which then gets a
//    guard at entry (`retypeSingleParameters`);
//  - `f32_from_bits` of a single's NaN-box (or of the frontend's unboxing of it) → the single.
// The bitcasts left without uses go with dce.
//
// Assumes: a verified function. Preserves: every value's bits at every use, blocks, effects,
// exit states (only their entries' values change, to values with the same bits); adds entry
// guards (see `nanBoxedHelper`).

/// The float-forms pass.
public enum FloatForms {
    /// The guard helper `nanboxed(bits)`: returns if `bits` is a single's NaN-box (its high 32
    /// bits all ones), and otherwise leaves the region at its entry, before anything ran (its
    /// exit state: the entry pc, no updates), for the lower tiers: a deoptimization (the
    /// evaluator's `Outcome.deoptimized`, built in; a backend's entry-guard exit).
    public static let nanBoxedHelper = "nanboxed"

    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        // Every rewrite starts from a reinterpretation: with none, nothing to do (integer code,
        // where the walks below were a tenth of the pipeline's time).
        guard f.layout.contains(where: { b in f.blocks[b.id].insts.contains { isReinterpretation(f.insts[$0.id].opcode) } })
        else { return }
        // Values reinterpreted as a double, or as a single.
        var asDouble = [Bool](filled: false, count: f.values.count)
        var asSingle = asDouble
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                if data.opcode == .bitcast && data.type == .f64 { asDouble[f.arg(inst, 0).id] = true }
                if data.opcode == .f32FromBits { asSingle[f.arg(inst, 0).id] = true }
            }
        }
        var loadedAsFloat = [Value?](filled: nil, count: f.values.count)
        for b in f.layout {
            var k = 0
            while k < f.blocks[b.id].insts.count {
                let inst = f.blocks[b.id].insts[k]
                k += 1
                let opcode = f.insts[inst.id].opcode
                guard (opcode == .loadI64 && asDouble[f.result(inst).id]) || (opcode == .uload32 && asSingle[f.result(inst).id])
                else { continue }
                let v = f.result(inst)
                let single = opcode == .uload32
                let load = f.makeInst(single ? .loadF32 : .loadF64, args: [f.arg(inst, 0)], exit: f.exitState(inst))
                f.insert(load, into: b, at: k - 1)
                k += 1
                let w = f.result(load)
                // The bits as the integer load gave them (a single's zero-extended).
                f.insts[inst.id].opcode = single ? .f32ToBits : .bitcast
                f.insts[inst.id].type = .i64
                f.insts[inst.id].args = f.makeList([w])
                f.insts[inst.id].exitState = -1
                loadedAsFloat[v.id] = w
            }
        }
        var map = (0..<f.values.count).map { Value($0) }
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                guard (data.opcode == .bitcast && data.type == .f64) || data.opcode == .f32FromBits,
                    let w = loadedAsFloat[f.arg(inst, 0).id], f.type(w) == f.type(f.result(inst))
                else { continue }
                map[f.result(inst).id] = w
            }
        }
        f.rewriteUses(map)

        retypeParameters(&f)
        retypeSingleParameters(&f)
        func double(_ v: Value) -> Value? { Self.double(f, v) }

        // Singles unboxed from their own box.
        var unboxed = (0..<f.values.count).map { Value($0) }
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .f32FromBits {
                if let x = unbox(f, f.arg(inst, 0)) { unboxed[f.result(inst).id] = x }
            }
        }
        f.rewriteUses(unboxed)
        for s in f.exitStates.indices {
            for e in f.exitStates[s].entries.indices where f.slots[f.exitStates[s].entries[e].slot.id].type == .i64 {
                let v = f.exitStates[s].entries[e].value
                if let x = double(v) ?? box(f, v) { f.exitStates[s].entries[e].value = x }
            }
        }
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .store64 || f.insts[inst.id].opcode == .store32 {
                let address = f.arg(inst, 0)
                if f.insts[inst.id].opcode == .store64, let x = double(f.arg(inst, 1)) {
                    f.insts[inst.id].opcode = .storeF64
                    f.insts[inst.id].args = f.makeList([address, x])
                } else if f.insts[inst.id].opcode == .store32, let x = singleBits(f, f.arg(inst, 1)) {
                    // The low 32 bits of the box, or of the zero-extended bits: the single's.
                    f.insts[inst.id].opcode = .storeF32
                    f.insts[inst.id].args = f.makeList([address, x])
                }
            }
        }
    }

    /// Whether `opcode` reinterprets bits as a float or a float as bits.
    static func isReinterpretation(_ opcode: Opcode) -> Bool {
        switch opcode {
        case .bitcast, .f32FromBits, .f32ToBits: true
        default: false
        }
    }

    /// The double whose bits `v` is (`bitcast.i64 x`), if it is one.
    static func double(_ f: Function, _ v: Value) -> Value? {
        guard case .inst(let d) = f.values[v.id].def, f.insts[d.id].opcode == .bitcast, f.insts[d.id].type == .i64
        else { return nil }
        return f.arg(d, 0)
    }

    /// The single `x` whose NaN-box `v` is (`bor (f32_to_bits x), 0xffffffff00000000`, either
    /// order), if it is one.
    static func box(_ f: Function, _ v: Value) -> Value? {
        guard case .inst(let d) = f.values[v.id].def, f.insts[d.id].opcode == .bor else { return nil }
        for (bits, mask) in [(f.arg(d, 0), f.arg(d, 1)), (f.arg(d, 1), f.arg(d, 0))] {
            guard f.iconstValue(mask) == 0xffff_ffff_0000_0000, case .inst(let e) = f.values[bits.id].def,
                f.insts[e.id].opcode == .f32ToBits
            else { continue }
            return f.arg(e, 0)
        }
        return nil
    }

    /// The single `x` whose bits are `v`'s low 32: `f32_to_bits x` or `x`'s box.
    static func singleBits(_ f: Function, _ v: Value) -> Value? {
        if case .inst(let d) = f.values[v.id].def, f.insts[d.id].opcode == .f32ToBits { return f.arg(d, 0) }
        return box(f, v)
    }

    /// The single `x` if `v`, read as a single's bits (`f32_from_bits v`), is `x`: `v` is
    /// `x`'s box, or the frontend's unboxing of it (`select (icmp eq (sshr B, 32), -1), B, k`
    /// with `B` the box: always `B`), or that unboxing with its condition folded (constant
    /// folding knows the box's high bits: `select true, B, k`).
    static func unbox(_ f: Function, _ v: Value) -> Value? {
        if let x = box(f, v) { return x }
        guard case .inst(let select) = f.values[v.id].def, f.insts[select.id].opcode == .select,
            let x = box(f, f.arg(select, 1))
        else { return nil }
        if case .inst(let c) = f.values[f.arg(select, 0).id].def, f.insts[c.id].opcode == .bconst {
            return f.insts[c.id].imm & 1 != 0 ? x : nil
        }
        guard case .inst(let compare) = f.values[f.arg(select, 0).id].def,
            f.insts[compare.id].opcode == .icmp, f.insts[compare.id].imm == UInt64(IntCondition.eq.rawValue),
            f.iconstValue(f.arg(compare, 1)) == UInt64.max, case .inst(let shift) = f.values[f.arg(compare, 0).id].def,
            f.insts[shift.id].opcode == .sshr, f.arg(shift, 0) == f.arg(select, 1), f.iconstValue(f.arg(shift, 1)) == 32
        else { return nil }
        return x
    }

    /// The edges into each block: where from, and the call (its arguments) of the terminator.
    static func edges(into f: Function) -> [[(from: Block, call: BlockCall)]] {
        var incoming = [[(from: Block, call: BlockCall)]](filled: [], count: f.blocks.count)
        for b in f.layout {
            guard let t = f.terminator(b) else { continue }
            for call in f.destinations(t) { incoming[call.block.id].append((b, call)) }
        }
        return incoming
    }

    /// Block parameters that carry a double's bits (an f register around a loop) become f64:
    /// an i64 parameter receiving `bitcast.i64 x` of a double on some edge, or another such
    /// parameter (to a fixed point). Each edge then passes the double (`x`, or a
    /// `bitcast.f64` of its argument added before the branch), and the parameter's old uses
    /// read `bitcast.i64` of it, made at the block's start (copyprop and the rewrites after
    /// this fold what reads it back as a double; dce removes it if nothing else does).
    static func retypeParameters(_ f: inout Function) {
        let incoming = edges(into: f)
        var retyped = [Bool](filled: false, count: f.values.count)
        var changed = true
        while changed {
            changed = false
            for b in f.layout where b != f.entry {
                for (i, p) in f.blocks[b.id].params.enumerated() where !retyped[p.id] && f.type(p) == .i64 {
                    let carriesDouble = incoming[b.id].contains { edge in
                        let a = f.pool[Int(edge.call.args.start) + i]
                        return double(f, a) != nil || retyped[a.id]
                    }
                    if carriesDouble {
                        retyped[p.id] = true
                        changed = true
                    }
                }
            }
        }
        guard retyped.contains(true) else { return }
        // The old uses read the bits: `pi = bitcast.i64 p` at the block's start.
        var map = (0..<f.values.count).map { Value($0) }
        var bits: [(inst: Inst, param: Value)] = []
        for b in f.layout where b != f.entry {
            var position = 0
            for p in f.blocks[b.id].params where retyped[p.id] {
                let cast = f.makeInst(.bitcast, type: .i64, args: [p])
                f.insert(cast, into: b, at: position)
                position += 1
                map.append(f.result(cast))
                map[p.id] = f.result(cast)
                bits.append((cast, p))
            }
        }
        f.rewriteUses(map)
        for (cast, p) in bits {
            f.insts[cast.id].args = f.makeList([p])
            f.values[p.id].type = .f64
        }
        // Each edge passes a double.
        for b in f.layout where b != f.entry {
            for (i, p) in f.blocks[b.id].params.enumerated() where retyped[p.id] {
                for edge in incoming[b.id] {
                    let at = Int(edge.call.args.start) + i
                    let a = f.pool[at]
                    if let x = double(f, a) {
                        f.pool[at] = x
                    } else {
                        let cast = f.makeInst(.bitcast, type: .f64, args: [a])
                        f.insert(cast, into: edge.from, at: f.blocks[edge.from.id].insts.count - 1)
                        f.pool[at] = f.result(cast)
                    }
                }
            }
        }
    }

    /// Block parameters that carry a single's NaN-box round a loop (an f register a loop
    /// computes in single precision) become f32, so that the loop neither unboxes nor boxes it
    /// on every pass: an i64 parameter qualifies when one of its values is a box (`bor
    /// (f32_to_bits x), 0xffffffff00000000`, or a constant one) or another such parameter, and each of the others
    /// is one of these or a `get_slot` of the entry block (the register at the region's entry).
    /// Such an entry value is a box only if the guest put a single there: a `nanboxed` guard
    /// after its `get_slot` leaves the region otherwise, before anything ran, and its edge
    /// passes `f32_from_bits` of it. The parameter's old uses read its box, made at the block's
    /// start (the unboxing rewrite then reads the single).
    static func retypeSingleParameters(_ f: inout Function) {
        let incoming = edges(into: f)
        // The entry block must be a prologue (reads of slots and pure values, then a jump to
        // the region's first guest block), so that a guard in it leaves before anything ran.
        guard let jump = f.terminator(f.entry), f.insts[jump.id].opcode == .jump else { return }
        let prologue = f.blocks[f.entry.id].insts.dropLast().allSatisfy { inst in
            let data = f.insts[inst.id]
            let effects: Set<Opcode> = [.call, .setSlot, .store8, .store16, .store32, .store64, .storeF32, .storeF64]
            return data.exitState < 0 && !effects.contains(data.opcode)
        }
        let first = f.insts[jump.id].destination0.block
        guard let pc = f.blocks[first.id].insts.compactMap({ f.exitState($0)?.pc }).first else { return }
        func isEntryValue(_ v: Value) -> Bool {
            guard prologue, case .inst(let d) = f.values[v.id].def, f.insts[d.id].opcode == .getSlot else { return false }
            return f.insts[d.id].block == f.entry && f.type(v) == .i64
        }
        // Candidates: every value on every edge a box, an entry value or a candidate (to a fixed
        // point); of those, the ones a single's box reaches (an integer that starts as a
        // negative constant is no single). A box: of a single, or a constant one (`fmv.w.x
        // fa0, zero`).
        func isBox(_ v: Value) -> Bool { box(f, v) != nil || (f.iconstValue(v).map { $0 >> 32 == 0xffff_ffff } ?? false) }
        var candidate = [Bool](filled: false, count: f.values.count)
        for b in f.layout where b != f.entry {
            for p in f.blocks[b.id].params where f.type(p) == .i64 { candidate[p.id] = true }
        }
        func values(_ b: Block, _ i: Int) -> [Value] {
            incoming[b.id].map { f.pool[Int($0.call.args.start) + i] }
        }
        var changed = true
        while changed {
            changed = false
            for b in f.layout where b != f.entry {
                for (i, p) in f.blocks[b.id].params.enumerated() where candidate[p.id] {
                    let vs = values(b, i)
                    if vs.isEmpty || !vs.allSatisfy({ isBox($0) || candidate[$0.id] || isEntryValue($0) }) {
                        candidate[p.id] = false
                        changed = true
                    }
                }
            }
        }
        // A single's parameters also take the candidates that flow into them (whose values are
        // boxes, entry values or candidates too): each edge into a single must pass a single.
        // (Without it, a candidate reached by no box of its own stayed an i64 on such an edge.)
        var single = [Bool](filled: false, count: f.values.count)
        changed = true
        while changed {
            changed = false
            for b in f.layout where b != f.entry {
                for (i, p) in f.blocks[b.id].params.enumerated() where candidate[p.id] {
                    let vs = values(b, i)
                    if !single[p.id], vs.contains(where: { box(f, $0) != nil || single[$0.id] }) {
                        single[p.id] = true
                        changed = true
                    }
                    guard single[p.id] else { continue }
                    for v in vs where candidate[v.id] && !single[v.id] {
                        single[v.id] = true
                        changed = true
                    }
                }
            }
        }
        candidate = single
        guard candidate.contains(true) else { return }
        let helper: Int
        if let k = f.helpers.firstIndex(where: { $0.name == nanBoxedHelper }) {
            helper = k
        } else {
            f.helpers.append(HelperDecl(name: nanBoxedHelper, params: [.i64], result: nil, effects: [.canFault]))
            helper = f.helpers.count - 1
        }
        // The old uses read the box: `pt = f32_to_bits p; pb = bor pt, mask` at the block's start.
        var map = (0..<f.values.count).map { Value($0) }
        var boxes: [(bits: Inst, param: Value)] = []
        for b in f.layout where b != f.entry {
            var position = 0
            for p in f.blocks[b.id].params where candidate[p.id] {
                let bits = f.makeInst(.f32ToBits, type: .i64, args: [p])
                let mask = f.makeInst(.iconst, type: .i64, imm: 0xffff_ffff_0000_0000)
                let boxed = f.makeInst(.bor, type: .i64, args: [f.result(bits), f.result(mask)])
                for inst in [bits, mask, boxed] {
                    f.insert(inst, into: b, at: position)
                    position += 1
                }
                map[p.id] = f.result(boxed)
                boxes.append((bits, p))
            }
        }
        while map.count < f.values.count { map.append(Value(map.count)) }
        f.rewriteUses(map)
        for (bits, p) in boxes {
            f.insts[bits.id].args = f.makeList([p])
            f.values[p.id].type = .f32
        }
        // Each edge passes a single: the boxed one (a retyped parameter's old uses read its
        // box too), a constant's, or an entry value's (guarded); one of each.
        var guarded: [Value: Value] = [:]
        var constants: [UInt64: Value] = [:]
        for b in f.layout where b != f.entry {
            for (i, p) in f.blocks[b.id].params.enumerated() where candidate[p.id] {
                for edge in incoming[b.id] {
                    let at = Int(edge.call.args.start) + i
                    let a = f.pool[at]
                    if let x = box(f, a) {
                        f.pool[at] = x
                    } else if let bits = f.iconstValue(a) {
                        if constants[bits] == nil {
                            let single = f.makeInst(.f32const, imm: bits & 0xffff_ffff)
                            f.insert(single, into: f.entry, at: 0)
                            constants[bits] = f.result(single)
                        }
                        f.pool[at] = constants[bits]!
                    } else if let single = guarded[a] {
                        f.pool[at] = single
                    } else {
                        // The guard right after the entry value's `get_slot`; the single after it.
                        guard case .inst(let d) = f.values[a.id].def,
                            let k = f.blocks[f.entry.id].insts.firstIndex(of: d)
                        else { preconditionFailure("floatforms: an entry value outside the entry block") }
                        let check = f.makeInst(.call, imm: UInt64(helper), args: [a], exit: ExitState(pc: pc))
                        let single = f.makeInst(.f32FromBits, args: [a])
                        f.insert(check, into: f.entry, at: k + 1)
                        f.insert(single, into: f.entry, at: k + 2)
                        guarded[a] = f.result(single)
                        f.pool[at] = f.result(single)
                    }
                }
            }
        }
    }
}
