// Predecessors, successors and a reverse postorder of a function's blocks, as lists indexed by
// block. A snapshot: recompute after a pass changes branches.
//
// The passes and the backend build a graph a dozen times a region, so it is built without an
// array a block (`BlockLists`: every block's list in one array) and its searches keep their
// stacks in temporary buffers: as `[[Block]]` and arrays of tuples, the allocations and the
// runtime's metadata lookups for them were a tenth of tier 2's compile time.

/// A list of blocks for each block of a function, all in one array.
public struct BlockLists: RandomAccessCollection, Sendable {
    /// Where each block's list starts in `items`; `starts[n]` is the end.
    @usableFromInline var starts: [Int32]
    /// The lists, one after another.
    @usableFromInline var items: [Block]

    /// Lists of `counts[b]` blocks, to be filled with `fill` in the order each list reads.
    @inlinable
    init(counts: [Int32], _ fill: (_ append: (Int, Block) -> Void) -> Void) {
        var starts = [Int32](repeating: 0, count: counts.count + 1)
        for (b, c) in counts.enumerated() { starts[b + 1] = starts[b] + c }
        var next = starts
        var items = [Block](repeating: Block(0), count: Int(starts[counts.count]))
        fill { b, block in
            items[Int(next[b])] = block
            next[b] += 1
        }
        self.starts = starts
        self.items = items
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { starts.count - 1 }
    /// The list of block `b` (by id).
    @inlinable public subscript(b: Int) -> BlockList {
        BlockList(items: items, base: Int(starts[b]), count: Int(starts[b + 1] - starts[b]))
    }
}

/// One list of `BlockLists`, indexed from 0.
public struct BlockList: RandomAccessCollection, Equatable, Sendable {
    @usableFromInline let items: [Block]
    @usableFromInline let base: Int
    public let count: Int
    @inlinable init(items: [Block], base: Int, count: Int) {
        self.items = items
        self.base = base
        self.count = count
    }
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    @inlinable public subscript(i: Int) -> Block { items[base + i] }
    public static func == (a: BlockList, b: BlockList) -> Bool { a.elementsEqual(b) }
}

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

    /// Computes the graph of `f`'s layout blocks.
    public init(_ f: Function) {
        let n = f.blocks.count
        // The terminator's destinations, read in place (`Function.successors` builds two
        // arrays a block).
        var successorCounts = [Int32](repeating: 0, count: n)
        for b in f.layout {
            switch BlockOrder.destinations(f, b) {
            case (_?, _?): successorCounts[b.id] = 2
            case (_?, nil): successorCounts[b.id] = 1
            default: continue
            }
        }
        successors = BlockLists(counts: successorCounts) { append in
            for b in f.layout {
                let (taken, other) = BlockOrder.destinations(f, b)
                if let taken { append(b.id, taken) }
                if let other { append(b.id, other) }
            }
        }
        let order = BlockOrder(f)
        reversePostorder = order.reversePostorder
        rpoIndex = order.rpoIndex
        var predecessorCounts = [Int32](repeating: 0, count: n)
        for b in f.layout where order.isReachable(b) {
            for s in successors[b.id] { predecessorCounts[s.id] += 1 }
        }
        let successors = self.successors
        predecessors = BlockLists(counts: predecessorCounts) { append in
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
    /// block's destinations in branch order.
    public init(_ f: Function) {
        let n = f.blocks.count
        var rpoIndex = [Int](repeating: -1, count: n)
        // Postorder positions are written into `rpoIndex` as blocks finish (a block is visited
        // when its index is no longer -1: -2 while on the stack), then turned around.
        var finished = 0
        let postorder = [Block](unsafeUninitializedCapacity: n) { buffer, count in
            guard let entry = f.layout.first else {
                count = 0
                return
            }
            // The search's stack: a block and how many of its destinations were taken, as
            // `id << 2 | taken`. A block is pushed once, so `n` entries suffice.
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n) { stack in
                var depth = 1
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
                        buffer[finished] = b
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
            }
            count = finished
        }
        reversePostorder = postorder.reversed()
        for b in postorder { rpoIndex[b.id] = finished - 1 - rpoIndex[b.id] }
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
