// Guest-state forwarding: promotes guest-state slots to SSA values across the function and
// defers their write-back to the exits.
//
// The pass tracks, at each point, for each slot, its current value (an SSA value, or unknown)
// and whether the state struct is stale for it ("dirty": a `set_slot` happened and was not
// written back). Walking blocks in reverse postorder:
//  - `get_slot s` with a known current value is replaced by it; otherwise its result becomes
//    the current value (clean);
//  - `set_slot s, v` is removed: v becomes current, the slot dirty (unless it was clean with
//    current value v: the struct already holds v);
//  - an instruction with an exit state (a load, store or helper that may fault; `exit`;
//    `exit_indirect`) gets `s=current` entries for every dirty slot it does not already name
//    (an entry already there is the truth at that exit and stays);
//  - before a call of a helper that reads or writes guest state, and before `trap`, every dirty
//    slot is written back with one `set_slot` (the only ones left); after a call that writes
//    state, every slot is unknown and clean;
//  - at a join whose predecessors are all visited, a dirty slot whose predecessors disagree gets
//    a new block parameter (a predecessor that does not know the value reads it with a
//    `get_slot` before its branch: it is clean there, so the struct holds it); clean slots on
//    which predecessors disagree become unknown;
//  - at a loop header (a predecessor not yet visited), slots set in the loop (or anywhere, if
//    the loop is not natural) or dirty on entry get a parameter, considered dirty; back edges
//    pass their current values when their block is visited.
// So a loop that updates guest registers keeps them in SSA values and writes none back on the
// way round: its exits and faulting instructions carry them (this is Braun et al.'s SSA
// construction, "Simple and Efficient Construction of SSA Form" (2013), applied to guest
// state, as LuaJIT's and dynarmic's register-allocation-of-guest-state passes do locally).
// Parameters this adds may be trivial (the same value on every edge): copyprop and dce remove
// them.
//
// Unreachable blocks are removed first (they would branch to blocks given new parameters).
//
// Assumes: a verified function whose exit states list only state not yet in the struct.
// Preserves: the guest state observable at every exit and fault (struct + exit entries) and
// at every helper that reads or writes guest state; all other instructions and their order.

/// The guest-state forwarding pass.
public enum StateForwarding {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        // Swapped in and out, not copied: the arrays stay uniquely referenced (no copy on write).
        var pass = Forwarding(f: Function(name: ""))
        swap(&pass.f, &f)
        pass.run()
        swap(&pass.f, &f)
    }
}

private struct Forwarding {
    var f: Function
    var map: [Value] = []
    var outCurrent: [[Value?]] = []
    var outDirty: [[Bool]] = []
    var visited: [Bool] = []
    /// Slots given parameters at loop headers, in parameter order.
    var headerSlots: [[Slot]] = []

    init(f: Function) { self.f = f }

    func resolve(_ v: Value) -> Value {
        var v = v
        while map[v.id] != v { v = map[v.id] }
        return v
    }

    mutating func run() {
        let slotCount = f.slots.count
        guard slotCount > 0 else { return }
        map = (0..<f.values.count).map { Value($0) }
        // Unreachable blocks go first: they would branch to blocks given new parameters.
        f.removeUnreachableBlocks(BlockOrder(f))
        let cfg = ControlFlowGraph(f)
        let tree = DominatorTree(cfg)
        let n = f.blocks.count
        outCurrent = Array(filled: [], count: n)
        outDirty = Array(filled: [], count: n)
        visited = Array(filled: false, count: n)
        headerSlots = Array(filled: [], count: n)
        var setAnywhere = [Bool](filled: false, count: slotCount)
        for inst in f.liveInsts where f.insts[inst.id].opcode == .setSlot { setAnywhere[Int(f.insts[inst.id].imm)] = true }

        for b in cfg.reversePostorder {
            var current = [Value?](filled: nil, count: slotCount)
            var dirty = [Bool](filled: false, count: slotCount)
            let preds = cfg.predecessors[b.id]
            let forward = preds.filter { visited[$0.id] }
            var pending = [[Value]](filled: [], count: forward.count)
            let isHeader = forward.count < preds.count
            var setInLoop = setAnywhere
            if isHeader { setInLoop = slotsSet(inLoopOf: b, cfg, tree) ?? setAnywhere }
            for s in 0..<slotCount where b != f.entry {
                // What the forward predecessors hold for the slot: one value they agree on, if
                // any, and whether one has it dirty. (Without an array a slot and a block: those
                // were half the pass's time.)
                var first: Value? = nil
                var same = true
                var dirtyAny = false
                for (k, pred) in forward.enumerated() {
                    let v = outCurrent[pred.id][s]
                    if k == 0 { first = v } else if v != first { same = false }
                    if outDirty[pred.id][s] { dirtyAny = true }
                }
                let agreed: Value? = first != nil && same ? first : nil
                let needsParam = isHeader ? (setInLoop[s] || dirtyAny) : (dirtyAny && agreed == nil)
                if needsParam {
                    let p = f.appendParam(b, f.slots[s].type)
                    map.append(p)
                    current[s] = p
                    dirty[s] = true
                    if isHeader { headerSlots[b.id].append(Slot(s)) }
                    for (k, pred) in forward.enumerated() {
                        pending[k].append(outCurrent[pred.id][s] ?? readAtEnd(pred, Slot(s)))
                    }
                } else if !isHeader {
                    current[s] = agreed
                    dirty[s] = dirtyAny
                }
            }
            // Each forward edge's new arguments, appended at once (one new list an edge).
            for (k, pred) in forward.enumerated() where !pending[k].isEmpty { appendArgs(from: pred, to: b, pending[k]) }
            visit(b, &current, &dirty)
            visited[b.id] = true
            // Retreating edges go to visited loop headers: write back what a header has no
            // parameter for (it assumed those clean), then pass its slot parameters.
            let retreating = cfg.successors[b.id].filter { visited[$0.id] }
            for d in retreating {
                for s in 0..<slotCount where dirty[s] && !headerSlots[d.id].contains(Slot(s)) {
                    writeBackAtEnd(b, Slot(s), current[s]!)
                    dirty[s] = false
                }
            }
            for d in retreating where !headerSlots[d.id].isEmpty {
                var args: [Value] = []
                for slot in headerSlots[d.id] { args.append(current[slot.id] ?? readAtEnd(b, slot)) }
                appendArgs(from: b, to: d, args)
            }
            outCurrent[b.id] = current
            outDirty[b.id] = dirty
        }
        f.rewriteUses(map)
    }

    /// Slots set in the natural loop headed by `header`, or nil if a retreating edge into it
    /// does not come from a block it dominates (an irreducible loop).
    func slotsSet(inLoopOf header: Block, _ cfg: ControlFlowGraph, _ tree: DominatorTree) -> [Bool]? {
        var inLoop = [Bool](filled: false, count: f.blocks.count)
        inLoop[header.id] = true
        var work: [Block] = []
        for p in cfg.predecessors[header.id] where cfg.rpoIndex[p.id] >= cfg.rpoIndex[header.id] {
            guard tree.dominates(header, p) else { return nil }
            if !inLoop[p.id] {
                inLoop[p.id] = true
                work.append(p)
            }
        }
        while let b = work.popLast() {
            for p in cfg.predecessors[b.id] where !inLoop[p.id] {
                inLoop[p.id] = true
                work.append(p)
            }
        }
        var set = [Bool](filled: false, count: f.slots.count)
        for b in f.layout where inLoop[b.id] {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                if data.opcode == .setSlot { set[Int(data.imm)] = true }
            }
        }
        return set
    }

    mutating func visit(_ b: Block, _ current: inout [Value?], _ dirty: inout [Bool]) {
        var out: [Inst] = []
        out.reserveCapacity(f.blocks[b.id].insts.count)
        // The entries of an exit state that had none (the frontend's), while no dirty slot
        // changes: exits in a row share one array (and the passes after this one read, and
        // the backend compiles, the shared entries without copying them).
        var entries: [ExitEntry]? = nil
        func writeBack(_ current: [Value?], _ dirty: inout [Bool]) {
            entries = nil
            for s in dirty.indices where dirty[s] {
                let w = f.makeInst(.setSlot, imm: UInt64(s), args: [current[s]!])
                f.insts[w.id].block = b
                out.append(w)
                dirty[s] = false
            }
        }
        for inst in f.blocks[b.id].insts {
            let data = f.insts[inst.id]
            let effects = f.effects(inst)
            switch data.opcode {
            case .getSlot:
                let s = Int(data.imm)
                if let v = current[s] {
                    map[data.result!.id] = v
                    f.insts[inst.id].block = nil
                    continue
                }
                current[s] = data.result!
            case .setSlot:
                let s = Int(data.imm)
                let v = resolve(f.arg(inst, 0))
                // Writing back the value the struct holds (clean and current) changes nothing.
                if current[s] != v || dirty[s] { dirty[s] = true }
                current[s] = v
                entries = nil
                f.insts[inst.id].block = nil
                continue
            case .trap:
                writeBack(current, &dirty)
            case .call:
                if !effects.isDisjoint(with: [.readsState, .writesState]) { writeBack(current, &dirty) }
            case .iconst, .bconst, .f32const, .f64const, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv,
                .srem, .urem, .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16,
                .sext32, .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .icmp, .select,
                .bint, .fadd, .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .bitcast,
                .f32FromBits, .f32ToBits, .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .loadI64, .uload8, .sload8,
                .uload16, .sload16, .uload32, .sload32, .loadF32, .loadF64, .store8, .store16, .store32, .store64,
                .storeF32, .storeF64, .jump, .brif, .exit, .exitIndirect:
                break
            }
            if data.exitState >= 0 {
                if f.exitStates[Int(data.exitState)].entries.isEmpty {
                    // The dirty slots, in slot order (as `setExitState` sorts them).
                    if entries == nil {
                        entries = dirty.indices.filter { dirty[$0] }.map { ExitEntry(slot: Slot($0), value: current[$0]!) }
                    }
                    f.exitStates[Int(data.exitState)].entries = entries!
                } else {
                    var state = f.exitStates[Int(data.exitState)]
                    for s in dirty.indices where dirty[s] && !state.entries.contains(where: { $0.slot.id == s }) {
                        state.entries.append(ExitEntry(slot: Slot(s), value: current[s]!))
                    }
                    f.setExitState(inst, state)
                }
            }
            out.append(inst)
            if data.opcode == .call && effects.contains(.writesState) {
                for s in current.indices { current[s] = nil }
                entries = nil
            }
        }
        f.blocks[b.id].insts = out
    }

    /// A `get_slot` of `slot` inserted before the terminator of the visited block `b`.
    mutating func readAtEnd(_ b: Block, _ slot: Slot) -> Value {
        let inst = f.makeInst(.getSlot, type: f.slots[slot.id].type, imm: UInt64(slot.index))
        map.append(f.result(inst))
        f.insert(inst, into: b, at: f.blocks[b.id].insts.count - 1)
        return f.result(inst)
    }

    /// A `set_slot` inserted before the terminator of `b`.
    mutating func writeBackAtEnd(_ b: Block, _ slot: Slot, _ v: Value) {
        let inst = f.makeInst(.setSlot, imm: UInt64(slot.index), args: [v])
        f.insert(inst, into: b, at: f.blocks[b.id].insts.count - 1)
    }

    /// Appends `args` to every branch from `pred` to `block`.
    mutating func appendArgs(from pred: Block, to block: Block, _ args: [Value]) {
        guard let t = f.terminator(pred) else { return }
        for which in 0..<f.destinations(t).count {
            let call = which == 0 ? f.insts[t.id].destination0 : f.insts[t.id].destination1
            guard call.block == block else { continue }
            let list = f.makeList(Array(f.list(call.args)) + args)
            if which == 0 { f.insts[t.id].destination0.args = list } else { f.insts[t.id].destination1.args = list }
        }
    }
}
