// Predecessors, successors and a reverse postorder of a function's blocks, as arrays indexed by
// block. A snapshot: recompute after a pass changes branches.

/// The control-flow graph of a function.
public struct ControlFlowGraph {
    /// Successors by block, in branch order, duplicates removed.
    public var successors: [[Block]]
    /// Reachable predecessors by block, each once, in layout order of the branching block.
    public var predecessors: [[Block]]
    /// Blocks reachable from the entry, in reverse postorder (entry first).
    public var reversePostorder: [Block]
    /// Position of each block in `reversePostorder`, or -1 if unreachable.
    public var rpoIndex: [Int]

    /// Computes the graph of `f`'s layout blocks.
    public init(_ f: Function) {
        let n = f.blocks.count
        successors = Array(repeating: [], count: n)
        predecessors = Array(repeating: [], count: n)
        for b in f.layout {
            // The terminator's destinations, read in place (`Function.successors` builds two
            // arrays a block; the passes build this graph a dozen times a region).
            guard let term = f.terminator(b) else { continue }
            let data = f.insts[term.id]
            switch data.opcode {
            case .jump:
                successors[b.id] = [data.destination0.block]
            case .brif:
                let taken = data.destination0.block, other = data.destination1.block
                successors[b.id] = taken == other ? [taken] : [taken, other]
            default:
                continue
            }
        }
        // Iterative depth-first search for the postorder.
        var visited = [Bool](repeating: false, count: n)
        var postorder: [Block] = []
        var stack: [(Block, Int)] = []
        if let entry = f.layout.first {
            visited[entry.id] = true
            stack.append((entry, 0))
        }
        while let (b, i) = stack.last {
            if i < successors[b.id].count {
                stack[stack.count - 1].1 += 1
                let s = successors[b.id][i]
                if !visited[s.id] {
                    visited[s.id] = true
                    stack.append((s, 0))
                }
            } else {
                postorder.append(b)
                stack.removeLast()
            }
        }
        reversePostorder = postorder.reversed()
        rpoIndex = [Int](repeating: -1, count: n)
        for (i, b) in reversePostorder.enumerated() { rpoIndex[b.id] = i }
        for b in f.layout where visited[b.id] {
            for s in successors[b.id] { predecessors[s.id].append(b) }
        }
    }

    /// Whether `b` is reachable from the entry.
    @inline(__always) public func isReachable(_ b: Block) -> Bool { rpoIndex[b.id] >= 0 }
}
