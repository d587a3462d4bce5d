// Loop-invariant code motion.
//
// Loops are natural loops (`NaturalLoops`): a header h with back edges from blocks it
// dominates; the body is what reaches a back edge's source without passing h. Inner loops
// (smaller bodies) are done
// first, so what they hoist into their preheader can move on out of an enclosing loop. Each
// loop gets a preheader: the single outside predecessor if it ends with a jump to h, else a
// new block (taking h's parameters) that all outside predecessors branch to instead.
//
// Moved to the end of the preheader, in body order (dominators first), when every operand is
// defined outside the loop (or already moved):
//  - pure instructions (arithmetic, constants, pure helper calls): they cannot fault, so running
//    them even when the loop body would not have is harmless;
//  - `get_slot s` when nothing in the loop sets s or calls a helper that writes guest state;
//  - loads, only if nothing in the loop may write memory, the load is in the header (which runs
//    at least once whenever the preheader does), every instruction before it in the header is
//    free of effects and faults, and its exit state names only values defined outside the loop:
//    then a fault in the preheader is the fault the first iteration would have taken, with the
//    same exit state, and later iterations would read the same bytes.
// A faulting load in the body proper (which may run zero times) is never moved. Neither is
// `iadd x, k` with a constant k that fits 32 signed bits: an address or an offset, which x86
// computes for free in the addressing mode of the access that uses it (or in one `add`/`lea`).
// Hoisted, each would hold a register across the loop: a loop reading 30 fields of a struct
// hoisted 30 addresses, and needed over 64 spill slots.
//
// Assumes: a verified function. Preserves: every effect and fault, in order; block numbers.

/// The loop-invariant code motion pass.
public enum LoopInvariantCodeMotion {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        var done = [Bool](filled: false, count: f.blocks.count)
        // The graph and its loops, kept while no hoist makes a preheader (moving instructions
        // into an existing block changes no branch).
        var analysis: (cfg: ControlFlowGraph, loops: [NaturalLoops.Loop])? = nil
        while true {
            if analysis == nil {
                let cfg = ControlFlowGraph(f)
                analysis = (cfg, NaturalLoops(cfg, DominatorTree(cfg)).loops)
            }
            let (cfg, loops) = analysis!
            // The innermost loop not yet done.
            let best = loops.filter { $0.header.id < done.count && !done[$0.header.id] }.min { $0.size < $1.size }
            guard let loop = best else { return }
            done[loop.header.id] = true
            let blockCount = f.blocks.count
            hoist(&f, loop.header, loop.body, cfg)
            if f.blocks.count != blockCount { analysis = nil }
            while done.count < f.blocks.count { done.append(false) }
        }
    }

    private static func hoist(_ f: inout Function, _ header: Block, _ body: [Bool], _ cfg: ControlFlowGraph) {
        let blocks = cfg.reversePostorder.filter { body[$0.id] }
        var writesMemory = false, writesAnyState = false
        var slotWritten = [Bool](filled: false, count: f.slots.count)
        for b in blocks {
            for inst in f.blocks[b.id].insts {
                let e = f.effects(inst)
                if e.contains(.writesMemory) { writesMemory = true }
                if f.insts[inst.id].opcode == .setSlot {
                    slotWritten[Int(f.insts[inst.id].imm)] = true
                } else if e.contains(.writesState) {
                    writesAnyState = true
                }
            }
        }
        func isInvariant(_ v: Value) -> Bool {
            switch f.values[v.id].def {
            case .none: return false
            case .param(let b, _): return !body[b.id]
            case .inst(let d):
                guard let b = f.insts[d.id].block else { return false }
                return b.id >= body.count || !body[b.id]
            }
        }
        var preheader: Block? = nil
        for b in blocks {
            var kept: [Inst] = []
            var quietSoFar = b == header
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                let effects = f.effects(inst)
                var movable = false
                if data.result != nil && f.args(inst).allSatisfy(isInvariant) && !isOffset(f, inst) {
                    if effects.contains(.isPure) {
                        movable = true
                    } else if data.opcode == .getSlot {
                        movable = !writesAnyState && !slotWritten[Int(data.imm)]
                    } else if data.opcode.info.format == .load {
                        movable =
                            quietSoFar && !writesMemory
                            && (f.exitState(inst)?.entries.allSatisfy { isInvariant($0.value) } ?? true)
                    }
                }
                if movable {
                    if preheader == nil { preheader = makePreheader(&f, header, body, cfg) }
                    let ph = preheader!
                    f.insert(inst, into: ph, at: f.blocks[ph.id].insts.count - 1)
                    continue
                }
                if !effects.isDisjoint(with: [.canFault, .writesMemory, .writesState, .isTerminator, .raisesFPFlags])
                    || (effects.contains(.callsHelper) && !effects.contains(.isPure))
                {
                    quietSoFar = false
                }
                kept.append(inst)
            }
            f.blocks[b.id].insts = kept
        }
    }

    /// Whether `inst` is `iadd x, k` (either order) with a non-constant x and a constant k that
    /// fits 32 signed bits.
    private static func isOffset(_ f: Function, _ inst: Inst) -> Bool {
        guard f.insts[inst.id].opcode == .iadd else { return false }
        let a = f.iconstValue(f.arg(inst, 0)), b = f.iconstValue(f.arg(inst, 1))
        guard (a == nil) != (b == nil), let k = a ?? b else { return false }
        return Int64(bitPattern: k) == Int64(Int32(truncatingIfNeeded: k))
    }

    /// The loop's preheader, made if needed.
    private static func makePreheader(_ f: inout Function, _ header: Block, _ body: [Bool], _ cfg: ControlFlowGraph) -> Block {
        let outside = cfg.predecessors[header.id].filter { !body[$0.id] }
        if outside.count == 1, let t = f.terminator(outside[0]), f.insts[t.id].opcode == .jump {
            return outside[0]
        }
        let ph = f.makeBlock()
        var params: [Value] = []
        for p in f.blocks[header.id].params { params.append(f.appendParam(ph, f.type(p))) }
        let jump = f.makeInst(.jump, destinations: (BlockCall(block: header, args: f.makeList(params)), BlockCall(block: Block(0), args: .empty)))
        f.insert(jump, into: ph)
        for p in outside {
            let t = f.terminator(p)!
            for which in 0..<f.destinations(t).count {
                if which == 0 && f.insts[t.id].destination0.block == header { f.insts[t.id].destination0.block = ph }
                if which == 1 && f.insts[t.id].destination1.block == header { f.insts[t.id].destination1.block = ph }
            }
        }
        f.layout.insert(ph, at: f.layout.firstIndex(of: header)!)
        return ph
    }
}
