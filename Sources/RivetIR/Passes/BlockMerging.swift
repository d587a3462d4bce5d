// Branch folding and block merging, repeated until nothing changes:
//  - `brif c, b(args), b(args)` (one destination twice, same arguments) becomes `jump b(args)`;
//  - a block that only jumps on (`jump d(args)`, not to itself) is bypassed: each predecessor
//    branches straight to d, with the arguments the block would have passed (its own
//    parameters replaced by what that predecessor passed); the block, now unreachable, goes;
//  - a block whose only predecessor ends with a jump to it is appended to that predecessor,
//    its parameters replaced by the jump's arguments.
// Finally blocks no longer reachable are removed from the layout.
//
// Bypassing keeps SSA: a value the bypassed block passes on (other than its parameters) is
// defined in a block D that dominates it; every path to a predecessor P continued by the edge
// into the block passes D, so D dominates P or is P. A block whose parameters are used beyond
// its own jump (by blocks it dominates) is not bypassed. The entry block is never merged into
// another or bypassed. Each change rewrites uses at once, so the function stays consistent.
//
// Assumes: a verified function. Preserves: every instruction (in order along every path),
// every exit state; block numbers of the blocks that remain.

/// The branch-folding and block-merging pass.
public enum BlockMerging {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        var changed = true
        while changed {
            changed = false
            for b in f.layout {
                guard let t = f.terminator(b), f.insts[t.id].opcode == .brif else { continue }
                let d0 = f.insts[t.id].destination0, d1 = f.insts[t.id].destination1
                if d0.block == d1.block && f.list(d0.args) == f.list(d1.args) {
                    f.makeJump(t, d0)
                }
            }
            let cfg = ControlFlowGraph(f)
            if bypassOne(&f, cfg) || mergeOne(&f, cfg) { changed = true }
        }
        f.removeUnreachableBlocks(BlockOrder(f))
    }

    /// Bypasses one block that only jumps on; returns whether it did.
    private static func bypassOne(_ f: inout Function, _ cfg: ControlFlowGraph) -> Bool {
        for c in f.layout where c != f.entry && cfg.isReachable(c) {
            let insts = f.blocks[c.id].insts
            guard insts.count == 1, f.insts[insts[0].id].opcode == .jump else { continue }
            let onward = f.insts[insts[0].id].destination0
            let preds = cfg.predecessors[c.id]
            guard onward.block != c, !preds.contains(c), !preds.isEmpty else { continue }
            let params = f.blocks[c.id].params
            if !params.isEmpty && usesParams(f, of: c, besides: insts[0]) { continue }
            for p in preds {
                let t = f.terminator(p)!
                for which in 0..<f.destinations(t).count {
                    let call = which == 0 ? f.insts[t.id].destination0 : f.insts[t.id].destination1
                    guard call.block == c else { continue }
                    let passed = Array(f.list(call.args))
                    let args = f.list(onward.args).map { v -> Value in
                        if let i = params.firstIndex(of: v) { return passed[i] }
                        return v
                    }
                    let redirected = BlockCall(block: onward.block, args: f.makeList(args))
                    if which == 0 { f.insts[t.id].destination0 = redirected } else { f.insts[t.id].destination1 = redirected }
                }
            }
            return true
        }
        return false
    }

    /// Appends one block to its only predecessor, which jumps to it; returns whether it did.
    private static func mergeOne(_ f: inout Function, _ cfg: ControlFlowGraph) -> Bool {
        for b in f.layout where cfg.isReachable(b) {
            guard let t = f.terminator(b), f.insts[t.id].opcode == .jump else { continue }
            let call = f.insts[t.id].destination0
            let c = call.block
            guard c != b, c != f.entry, cfg.predecessors[c.id].elementsEqual([b]) else { continue }
            var map = (0..<f.values.count).map { Value($0) }
            for (p, a) in zip(f.blocks[c.id].params, f.list(call.args)) { map[p.id] = a }
            f.blocks[b.id].insts.removeLast()
            f.insts[t.id].block = nil
            for inst in f.blocks[c.id].insts {
                f.insts[inst.id].block = b
                f.blocks[b.id].insts.append(inst)
            }
            f.blocks[c.id].insts = []
            f.layout.removeAll { $0 == c }
            f.rewriteUses(map)
            return true
        }
        return false
    }

    /// Whether an instruction other than `jump` uses a parameter of `block`.
    private static func usesParams(_ f: Function, of block: Block, besides jump: Inst) -> Bool {
        var used = false
        for b in f.layout where !used {
            for inst in f.blocks[b.id].insts where inst != jump {
                f.forEachUse(inst) { v in
                    if case .param(let pb, _) = f.values[v.id].def, pb == block { used = true }
                }
            }
        }
        return used
    }
}
