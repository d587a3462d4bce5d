// Dead code elimination: removes blocks unreachable from the entry, instructions whose results
// are unused and that have no effect but reading (pure operations, `get_slot`, calls of helpers
// that neither write nor fault), and block parameters that nothing live uses (with the
// corresponding argument at every branch).
//
// Liveness is computed by marking from the roots (instructions with effects, terminators) and
// following operands, exit-state values, and, for a live block parameter, the arguments
// branches pass to it: so a loop-carried value used only by itself dies (Cytron et al.'s
// "aggressive" DCE restricted to data, without control dependence).
//
// Assumes: a verified function. Preserves: everything with an effect, every exit state, the
// order of what remains; values and blocks keep their numbers.

/// The dead-code elimination pass.
public enum DeadCodeElimination {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        f.removeUnreachableBlocks(BlockOrder(f))

        // Branches into each block, to follow a live parameter to its arguments (and to drop
        // the arguments of a dead one).
        let incoming = IncomingBranches.of(f, from: f.layout)
        var liveValue = [Bool](filled: false, count: f.values.count)
        var liveInst = [Bool](filled: false, count: f.insts.count)
        var work: [Value] = []
        func markValue(_ v: Value) {
            if !liveValue[v.id] {
                liveValue[v.id] = true
                work.append(v)
            }
        }
        func markInst(_ inst: Inst) {
            guard !liveInst[inst.id] else { return }
            liveInst[inst.id] = true
            // Operands and exit states; not block arguments (they live with their parameter).
            let data = f.insts[inst.id]
            for v in f.list(data.args) { markValue(v) }
            if data.exitState >= 0 { for e in f.exitStates[Int(data.exitState)].entries { markValue(e.value) } }
        }
        let effects: Effects = [.writesState, .writesMemory, .canFault, .isTerminator, .raisesFPFlags]
        for b in f.layout {
            for inst in f.blocks[b.id].insts where !f.effects(inst).isDisjoint(with: effects) { markInst(inst) }
        }
        while let v = work.popLast() {
            switch f.values[v.id].def {
            case .none: break
            case .inst(let d): markInst(d)
            case .param(let b, let i): for branch in incoming[b.id] { markValue(f.pool[Int(branch.args.start) + i]) }
            }
        }
        f.removeInsts { !liveInst[$0.id] }

        // Parameters nothing live uses.
        for b in f.layout where b != f.entry {
            let params = f.blocks[b.id].params
            guard params.contains(where: { !liveValue[$0.id] }) else { continue }
            let keep = params.map { liveValue[$0.id] }
            f.blocks[b.id].params = params.filter { liveValue[$0.id] }
            for (i, p) in f.blocks[b.id].params.enumerated() { f.values[p.id].def = .param(b, i) }
            for p in params where !liveValue[p.id] { f.values[p.id].def = .none }
            for branch in incoming[b.id] {
                let t = branch.terminator, which = branch.destination
                let call = which == 0 ? f.insts[t.id].destination0 : f.insts[t.id].destination1
                // Copied out before the pool grows (a slice of it would make the append copy it).
                let values = zip(f.list(call.args), keep).filter { $0.1 }.map(\.0)
                let kept = f.makeList(values)
                if which == 0 { f.insts[t.id].destination0.args = kept } else { f.insts[t.id].destination1.args = kept }
            }
        }
    }
}
