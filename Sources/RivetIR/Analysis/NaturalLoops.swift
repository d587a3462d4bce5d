// Natural loops: a header h with back edges from blocks it dominates (its latches); the body is
// h and every block that reaches a latch without passing h. Back edges to one header make one
// loop. Used by LICM (innermost loops first) and by tier 2's register allocator (loop depth
// weighs spill costs).
//
// Assumes: a CFG and its dominator tree of the same function. Irreducible cycles (no header
// dominating the rest) are no loops here.

/// The natural loops of a function.
public struct NaturalLoops {
    /// One loop: its header, its body as a membership mask by block id, and its block count.
    public struct Loop {
        public var header: Block
        public var body: [Bool]
        public var size: Int
    }

    /// The loops, one per header, in reverse postorder of their headers.
    public var loops: [Loop] = []

    /// The natural loops of the function `cfg` and `tree` describe.
    public init(_ cfg: borrowing ControlFlowGraph, _ tree: borrowing DominatorTree) {
        let blockCount = cfg.predecessors.count
        for h in cfg.reversePostorder {
            let latches = cfg.predecessors[h.id].filter { tree.dominates(h, $0) }
            guard !latches.isEmpty else { continue }
            var body = [Bool](filled: false, count: blockCount)
            body[h.id] = true
            var work = latches.filter { $0 != h }
            for l in work { body[l.id] = true }
            var size = 1 + work.count
            while let b = work.popLast() {
                for p in cfg.predecessors[b.id] where !body[p.id] {
                    body[p.id] = true
                    size += 1
                    work.append(p)
                }
            }
            loops.append(Loop(header: h, body: body, size: size))
        }
    }

    /// By block id: how many loops contain the block.
    public var depths: [Int] {
        var depth = [Int](filled: 0, count: loops.first?.body.count ?? 0)
        for loop in loops {
            for (b, inside) in loop.body.enumerated() where inside { depth[b] += 1 }
        }
        return depth
    }
}
