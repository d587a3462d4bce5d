// Predecessors, successors and a reverse postorder of a function's blocks, as lists indexed by
// block (`IndexedLists`: all blocks' lists in one array). A snapshot: recompute after a pass
// changes branches. The depth-first search keeps its stack in a temporary buffer.

/// The control-flow graph of a function.
public struct ControlFlowGraph {
    /// Successors by block, in branch order, duplicates removed.
    public var successors: BlockLists
    /// Reachable predecessors by block, each once, in layout order of the branching block.
    public var predecessors: BlockLists
    /// Blocks reachable from the entry, in reverse postorder (entry first).
    public var reversePostorder: [Block]
    /// Position of each block in `reversePostorder`, or -1 if unreachable.
    public var rpoIndex: [Int]

    /// Computes the graph of `f`'s layout blocks. (`f` is borrowed: an initializer takes its
    /// arguments owned, and every pass that made a graph copied the whole function for it, each
    /// of its arrays retained and released.)
    public init(_ f: borrowing Function) {
        let n = f.blocks.count
        // The terminator's destinations, read in place (`Function.successors` builds two
        // arrays a block).
        successors = BlockLists(count: n, filler: Block(0)) { append in
            for b in f.layout {
                let (taken, other) = BlockOrder.destinations(f, b)
                if let taken { append(b.id, taken) }
                if let other { append(b.id, other) }
            }
        }
        let order = BlockOrder(f)
        reversePostorder = order.reversePostorder
        rpoIndex = order.rpoIndex
        let successors = self.successors
        predecessors = BlockLists(count: n, filler: Block(0)) { append in
            for b in f.layout where order.isReachable(b) {
                for s in successors[b.id] { append(s.id, b) }
            }
        }
    }

    /// Whether `b` is reachable from the entry.
    @inline(__always) public func isReachable(_ b: Block) -> Bool { rpoIndex[b.id] >= 0 }
}

/// A function's blocks in reverse postorder, without the graph's successor and predecessor
/// lists: what a pass that only walks the blocks in order, or drops the unreachable ones, needs.
public struct BlockOrder {
    /// Blocks reachable from the entry, in reverse postorder (entry first), as
    /// `ControlFlowGraph.reversePostorder`.
    public var reversePostorder: [Block]
    /// Position of each block in `reversePostorder`, or -1 if unreachable.
    public var rpoIndex: [Int]

    /// The order of `f`'s layout blocks: a depth-first search from the entry taking each
    /// block's destinations in branch order. (`f` is borrowed, as by `ControlFlowGraph`.)
    public init(_ f: borrowing Function) {
        let n = f.blocks.count
        var rpoIndex = [Int](filled: -1, count: n)
        var reversePostorder: [Block] = []
        reversePostorder.reserveCapacity(n)
        // Postorder positions are written into `rpoIndex` as blocks finish (a block is visited
        // when its index is no longer -1: -2 while on the stack), then turned around. (The
        // postorder is kept in the search's own memory, not made with
        // `Array(unsafeUninitializedCapacity:)`, whose allocation looked its type up in the
        // runtime: Array+Filled.swift.)
        if let entry = f.layout.first {
            // The search's stack, a block and how many of its destinations were taken as
            // `id << 2 | taken` (a block is pushed once, so `n` entries suffice), then the
            // postorder's ids.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * n) { memory in
                let stack = memory.baseAddress!, postorder = stack + n
                var depth = 1
                var finished = 0
                stack[0] = entry.id << 2
                rpoIndex[entry.id] = -2
                while depth > 0 {
                    let top = stack[depth - 1]
                    let b = Block(top >> 2), taken = top & 3
                    let next: Block?
                    switch (taken, Self.destinations(f, b)) {
                    case (0, (let t?, _)): next = t
                    case (1, (_, let o?)): next = o
                    default: next = nil
                    }
                    guard let s = next else {
                        postorder[finished] = b.id
                        rpoIndex[b.id] = finished
                        finished += 1
                        depth -= 1
                        continue
                    }
                    stack[depth - 1] = top + 1
                    if rpoIndex[s.id] == -1 {
                        rpoIndex[s.id] = -2
                        stack[depth] = s.id << 2
                        depth += 1
                    }
                }
                for k in stride(from: finished - 1, through: 0, by: -1) {
                    rpoIndex[postorder[k]] = finished - 1 - k
                    reversePostorder.append(Block(postorder[k]))
                }
            }
        }
        self.reversePostorder = reversePostorder
        self.rpoIndex = rpoIndex
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
