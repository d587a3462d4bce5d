// Dominators of the reachable blocks, by the iterative algorithm of Cooper, Harvey and Kennedy,
// "A Simple, Fast Dominance Algorithm" (2001): intersect the predecessors' immediate
// dominators in reverse postorder until nothing changes. Also the tree's children and a
// preorder, for passes that walk it (GVN), and instruction-level dominance.

/// The dominator tree of a function's reachable blocks.
public struct DominatorTree {
    /// Children in the tree, by block, in reverse postorder.
    public var children: BlockLists
    /// Blocks in a preorder of the tree (entry first).
    public var preorder: [Block]
    /// By block, the idom's block index (-1 if unreachable).
    private var doms: [Int]
    /// Position of each block in `preorder` and one past its subtree's last, for O(1) queries.
    private var enter: [Int]
    private var leave: [Int]

    /// Computes the tree from a control-flow graph.
    public init(_ cfg: borrowing ControlFlowGraph) {
        let n = cfg.rpoIndex.count
        let rpo = cfg.reversePostorder
        var doms = [Int](filled: -1, count: n)
        if let entry = rpo.first { doms[entry.id] = entry.id }
        func intersect(_ a: Int, _ b: Int) -> Int {
            var x = a, y = b
            while x != y {
                while cfg.rpoIndex[x] > cfg.rpoIndex[y] { x = doms[x] }
                while cfg.rpoIndex[y] > cfg.rpoIndex[x] { y = doms[y] }
            }
            return x
        }
        var changed = true
        while changed {
            changed = false
            for b in rpo.dropFirst() {
                var newIdom = -1
                for p in cfg.predecessors[b.id] where doms[p.id] >= 0 {
                    newIdom = newIdom < 0 ? p.id : intersect(p.id, newIdom)
                }
                if newIdom >= 0 && doms[b.id] != newIdom {
                    doms[b.id] = newIdom
                    changed = true
                }
            }
        }
        let children = BlockLists(count: n, filler: Block(0)) { append in
            for b in rpo.dropFirst() { append(doms[b.id], b) }
        }
        var preorder: [Block] = []
        preorder.reserveCapacity(rpo.count)
        var enter = [Int](filled: -1, count: n)
        var leave = [Int](filled: -1, count: n)
        if let entry = rpo.first {
            // The walk's stack: a block and how many of its children were visited, as
            // `id << 32 | visited`; a block is pushed once.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: rpo.count) { stack in
                var depth = 1
                stack[0] = entry.id << 32
                enter[entry.id] = 0
                preorder.append(entry)
                while depth > 0 {
                    let top = stack[depth - 1]
                    let b = top >> 32, i = top & 0xffff_ffff
                    let list = children[b]
                    if i < list.count {
                        stack[depth - 1] = top + 1
                        let c = list[i]
                        enter[c.id] = preorder.count
                        preorder.append(c)
                        stack[depth] = c.id << 32
                        depth += 1
                    } else {
                        leave[b] = preorder.count
                        depth -= 1
                    }
                }
            }
        }
        self.doms = doms
        self.children = children
        self.preorder = preorder
        self.enter = enter
        self.leave = leave
    }

    /// The immediate dominator of `b` (the entry's is itself), nil if `b` is unreachable.
    @inline(__always)
    public func immediateDominator(_ b: Block) -> Block? { doms[b.id] < 0 ? nil : Block(doms[b.id]) }

    /// Whether `a` dominates `b` (every block dominates itself). False if either is unreachable.
    @inline(__always)
    public func dominates(_ a: Block, _ b: Block) -> Bool {
        let ea = enter[a.id], eb = enter[b.id]
        return ea >= 0 && eb >= 0 && ea <= eb && eb < leave[a.id]
    }

    /// Whether `b` is reachable (in the tree).
    @inline(__always) public func contains(_ b: Block) -> Bool { enter[b.id] >= 0 }
}

/// Positions of instructions in their blocks, for instruction-level dominance.
public struct InstPositions {
    /// Index of each instruction in its block (-1 if in none).
    public var position: [Int]

    /// Records the positions of `f`'s instructions.
    public init(_ f: borrowing Function) {
        position = [Int](filled: -1, count: f.insts.count)
        for b in f.layout { for (i, inst) in f.blocks[b.id].insts.enumerated() { position[inst.id] = i } }
    }

    /// Whether `v`'s definition dominates a use at `inst` (a block parameter is defined at
    /// its block's start; a result just after its instruction).
    public func dominates(_ f: Function, _ tree: DominatorTree, _ v: Value, use inst: Inst) -> Bool {
        guard let useBlock = f.insts[inst.id].block else { return false }
        switch f.values[v.id].def {
        case .none: return false
        case .param(let b, _):
            return f.blocks[b.id].params.contains(v) && tree.dominates(b, useBlock)
        case .inst(let d):
            guard let defBlock = f.insts[d.id].block, f.insts[d.id].result == v else { return false }
            if defBlock == useBlock { return position[d.id] < position[inst.id] }
            return tree.dominates(defBlock, useBlock)
        }
    }
}
