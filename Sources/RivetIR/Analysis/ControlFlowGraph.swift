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
            switch BlockOrder.destinations(f, b) {
            case (let taken?, let other?): successors[b.id] = [taken, other]
            case (let taken?, nil): successors[b.id] = [taken]
            default: continue
            }
        }
        let order = BlockOrder(f)
        reversePostorder = order.reversePostorder
        rpoIndex = order.rpoIndex
        for b in f.layout where order.isReachable(b) {
            for s in successors[b.id] { predecessors[s.id].append(b) }
        }
    }

    /// Whether `b` is reachable from the entry.
    @inline(__always) public func isReachable(_ b: Block) -> Bool { rpoIndex[b.id] >= 0 }
}

/// A function's blocks in reverse postorder, without the graph's successor and predecessor
/// lists: what a pass that only walks the blocks in order, or drops the unreachable ones, needs
/// (the lists were most of the graph's cost, and the passes build one a dozen times a region).
public struct BlockOrder {
    /// Blocks reachable from the entry, in reverse postorder (entry first), as
    /// `ControlFlowGraph.reversePostorder`.
    public var reversePostorder: [Block]
    /// Position of each block in `reversePostorder`, or -1 if unreachable.
    public var rpoIndex: [Int]

    /// The order of `f`'s layout blocks: a depth-first search from the entry taking each
    /// block's destinations in branch order.
    public init(_ f: Function) {
        let n = f.blocks.count
        rpoIndex = [Int](repeating: -1, count: n)
        var visited = [Bool](repeating: false, count: n)
        var postorder: [Block] = []
        postorder.reserveCapacity(f.layout.count)
        var stack: [(Block, Int)] = []
        if let entry = f.layout.first {
            visited[entry.id] = true
            stack.append((entry, 0))
        }
        while let (b, i) = stack.last {
            let next: Block?
            switch (i, Self.destinations(f, b)) {
            case (0, (let taken?, _)): next = taken
            case (1, (_, let other?)): next = other
            default: next = nil
            }
            guard let s = next else {
                postorder.append(b)
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].1 += 1
            if !visited[s.id] {
                visited[s.id] = true
                stack.append((s, 0))
            }
        }
        reversePostorder = postorder.reversed()
        for (i, b) in reversePostorder.enumerated() { rpoIndex[b.id] = i }
    }

    /// Whether `b` is reachable from the entry.
    @inline(__always) public func isReachable(_ b: Block) -> Bool { rpoIndex[b.id] >= 0 }

    /// The destinations of `b`'s terminator, in branch order, the second nil for a jump or a
    /// `brif` whose two edges go to one block (both nil for a block that leaves the function).
    @inline(__always)
    static func destinations(_ f: Function, _ b: Block) -> (Block?, Block?) {
        guard let term = f.terminator(b) else { return (nil, nil) }
        let data = f.insts[term.id]
        switch data.opcode {
        case .jump: return (data.destination0.block, nil)
        case .brif:
            let taken = data.destination0.block, other = data.destination1.block
            return (taken, taken == other ? nil : other)
        default: return (nil, nil)
        }
    }
}
