/// The storage behind `MemoryMap`: its regions in a treap keyed by start address, so that
/// finding, splitting and replacing regions costs O(log n) in the number of regions.
///
/// Nodes live in a pool (`nodes`, with a free list) and name their children by index, so the
/// tree is plain data: a copy of the tree is a copy of three arrays (copy-on-write), and walking
/// or rebalancing it costs no reference counting. The regions themselves, which hold a string and
/// a `FileBacking`, sit in a parallel array that only changes when a node is made or freed. A
/// node's bounds never change: a region that shrinks or splits is replaced by new nodes.
///
/// Every node also sums up its subtree (lowest start, highest end, largest gap between two
/// neighbouring regions, bytes mapped), which lets `highestFreeStart` skip whole subtrees whose
/// gaps are too small and `mappedBytes` count a range from two root-to-leaf walks.
///
/// Priorities come from a fixed-seed xorshift generator: the tree's shape, and so everything it
/// does, is deterministic. The treap is expected O(log n) deep; recursion follows that depth.
struct RegionTree: Sendable {
    /// One region's place in the tree, and the summary of the subtree below it.
    private struct Node {
        /// The child holding lower starts, or `RegionTree.none`.
        var left: Int32
        /// The child holding higher starts, or `RegionTree.none`.
        var right: Int32
        /// Heap order: no child has a higher priority than its parent.
        var priority: UInt32
        /// The region's start address (the key).
        var start: UInt64
        /// The region's end address (exclusive).
        var end: UInt64
        /// The lowest start in the subtree.
        var minStart: UInt64
        /// The highest end in the subtree.
        var maxEnd: UInt64
        /// The largest gap between two neighbouring regions of the subtree (0 if there are none).
        var maxGap: UInt64
        /// The bytes the subtree's regions cover.
        var bytes: UInt64
        /// How many neighbouring regions of the subtree have free space between them.
        var gaps: UInt32
    }

    /// The index meaning "no node".
    private static let none: Int32 = -1
    /// What a freed node's payload holds, so that it keeps no `FileBacking` alive (the last
    /// region of a file mapping closes its descriptor).
    private static let vacant = MemoryRegion(start: GuestAddress(0), end: GuestAddress(0), permissions: .none)

    /// The node pool; freed slots are listed in `freeList`.
    private var nodes: [Node] = []
    /// The region of each node, by the same index.
    private var payloads: [MemoryRegion] = []
    /// Slots of `nodes` free for reuse.
    private var freeList: [Int32] = []
    /// The root node, or `none` when the tree is empty.
    private var root: Int32 = RegionTree.none
    /// The xorshift64 state priorities come from.
    private var randomState: UInt64 = 0x2545_F491_4F6C_DD1D

    /// An empty tree.
    init() {}

    /// The number of regions.
    var count: Int { nodes.count - freeList.count }

    /// How many neighbouring regions have free space between them. O(1).
    var gaps: Int { root == Self.none ? 0 : Int(nodes[Int(root)].gaps) }

    // MARK: Queries

    /// Every region, in address order. O(n).
    var all: [MemoryRegion] {
        var result: [MemoryRegion] = []
        result.reserveCapacity(count)
        appendAll(root, to: &result)
        return result
    }

    /// The regions with `end > start` and `start < end` (those intersecting `[start, end)`), in
    /// address order. O(log n + k) for k regions reported.
    func regions(overlapping start: GuestAddress, _ end: GuestAddress) -> [MemoryRegion] {
        var result: [MemoryRegion] = []
        appendOverlapping(root, start.rawValue, end.rawValue, to: &result)
        return result
    }

    /// The region with the highest start at or below `address`, if any. O(log n).
    func last(startingAtOrBelow address: GuestAddress) -> MemoryRegion? {
        let index = lastIndex(startingAtOrBelow: address.rawValue)
        return index == Self.none ? nil : payloads[Int(index)]
    }

    /// Whether some region has `end > start` and `start < end`. O(log n).
    func overlaps(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        guard end.rawValue > 0 else { return false }
        let index = lastIndex(startingAtOrBelow: end.rawValue - 1)
        return index != Self.none && nodes[Int(index)].end > start.rawValue
    }

    /// The bytes of `[start, end)` that regions cover (0 for an empty range). O(log n).
    func mappedBytes(in start: GuestAddress, _ end: GuestAddress) -> UInt64 {
        guard start < end else { return 0 }
        return mappedBytes(below: end.rawValue) - mappedBytes(below: start.rawValue)
    }

    /// The highest `hi - size` over the free gaps `[lo, hi)` that lie within `[lowest, highest)`
    /// and hold at least `max(size, 1)` bytes; the gaps include those below the first region and
    /// above the last. O(log n): only subtrees that straddle `lowest` or `highest` can be entered
    /// without holding an answer, and there are at most two of those per level.
    func highestFreeStart(size: UInt64, lowest: GuestAddress, highest: GuestAddress) -> GuestAddress? {
        let search = GapSearch(size: size, lowest: lowest.rawValue, highest: highest.rawValue)
        guard root != Self.none else { return search.fit(0, search.highest) }
        let top = nodes[Int(root)]
        if let found = search.fit(top.maxEnd, search.highest) { return found }
        if let found = highestInteriorFit(root, search) { return found }
        return search.fit(0, top.minStart)
    }

    // MARK: Changes

    /// Takes out every region with `end > start` and `start < end` and puts in their place the
    /// regions `replacement` returns for them. Both lists are in address order. O(log n + k) for
    /// k regions taken and put.
    ///
    /// - Parameter replacement: Given the regions taken out, returns their replacement: regions
    ///   in address order, non-empty, not overlapping, and clear of every region not taken out.
    ///   Broken rules stop the process: the tree would be corrupt.
    mutating func replace(
        overlapping start: GuestAddress, _ end: GuestAddress,
        with replacement: (_ taken: [MemoryRegion]) -> [MemoryRegion]
    ) {
        // Split below the region straddling `start`, if any, and below `end`: the middle part
        // holds exactly the regions that overlap.
        var lower = start.rawValue
        let straddling = lastIndex(startingAtOrBelow: start.rawValue)
        if straddling != Self.none, nodes[Int(straddling)].end > start.rawValue {
            lower = nodes[Int(straddling)].start
        }
        let (before, rest) = split(root, below: lower)
        let (middle, after) = split(rest, below: end.rawValue)
        var taken: [MemoryRegion] = []
        takeAll(middle, into: &taken)
        let regions = replacement(taken)

        var floor = before == Self.none ? 0 : nodes[Int(before)].maxEnd
        for region in regions {
            precondition(region.start < region.end && region.start.rawValue >= floor, "overlapping replacement")
            floor = region.end.rawValue
        }
        precondition(after == Self.none || floor <= nodes[Int(after)].minStart, "overlapping replacement")
        root = merge(merge(before, build(regions)), after)
    }

    // MARK: Tree internals

    /// The bounds and size of one `highestFreeStart` search.
    private struct GapSearch {
        /// The bytes asked for.
        let size: UInt64
        /// The bytes a gap must hold: `size`, but at least one.
        let need: UInt64
        /// The lowest address the answer may use.
        let lowest: UInt64
        /// The address the answer must end at or below.
        let highest: UInt64

        /// A search for `size` bytes within `[lowest, highest)`.
        init(size: UInt64, lowest: UInt64, highest: UInt64) {
            self.size = size
            self.need = max(size, 1)
            self.lowest = lowest
            self.highest = highest
        }

        /// The answer the gap `[lo, hi)` gives, clipped to the search's bounds, if it is big enough.
        func fit(_ lo: UInt64, _ hi: UInt64) -> GuestAddress? {
            let low = max(lo, lowest)
            let high = min(hi, highest)
            return high > low && high - low >= need ? GuestAddress(high - size) : nil
        }

        /// Whether no gap inside `[lo, hi)` can be big enough once clipped.
        func excludes(_ lo: UInt64, _ hi: UInt64) -> Bool {
            let low = max(lo, lowest)
            let high = min(hi, highest)
            return high <= low || high - low < need
        }
    }

    /// The highest answer among the gaps between neighbouring regions of the subtree at `index`.
    private func highestInteriorFit(_ index: Int32, _ search: GapSearch) -> GuestAddress? {
        let node = nodes[Int(index)]
        guard node.maxGap >= search.need, !search.excludes(node.minStart, node.maxEnd) else { return nil }
        if node.right != Self.none {
            if let found = highestInteriorFit(node.right, search) { return found }
            if let found = search.fit(node.end, nodes[Int(node.right)].minStart) { return found }
        }
        if node.left != Self.none {
            if let found = search.fit(nodes[Int(node.left)].maxEnd, node.start) { return found }
            return highestInteriorFit(node.left, search)
        }
        return nil
    }

    /// The node with the highest start at or below `key`, or `none`.
    private func lastIndex(startingAtOrBelow key: UInt64) -> Int32 {
        var index = root
        var found = Self.none
        while index != Self.none {
            let node = nodes[Int(index)]
            if node.start <= key {
                found = index
                index = node.right
            } else {
                index = node.left
            }
        }
        return found
    }

    /// The bytes regions cover below `address`.
    private func mappedBytes(below address: UInt64) -> UInt64 {
        var index = root
        var total: UInt64 = 0
        while index != Self.none {
            let node = nodes[Int(index)]
            if address <= node.start {
                index = node.left
            } else {
                // Everything on the left ends at or below this node's start, so below `address`.
                if node.left != Self.none { total += nodes[Int(node.left)].bytes }
                total += min(node.end, address) - node.start
                index = node.right
            }
        }
        return total
    }

    /// Appends the subtree's regions to `result`, in order.
    private func appendAll(_ index: Int32, to result: inout [MemoryRegion]) {
        guard index != Self.none else { return }
        let node = nodes[Int(index)]
        appendAll(node.left, to: &result)
        result.append(payloads[Int(index)])
        appendAll(node.right, to: &result)
    }

    /// Appends the subtree's regions with `end > start` and `start < end` to `result`, in order.
    private func appendOverlapping(_ index: Int32, _ start: UInt64, _ end: UInt64, to result: inout [MemoryRegion]) {
        guard index != Self.none else { return }
        let node = nodes[Int(index)]
        guard node.maxEnd > start, node.minStart < end else { return }
        appendOverlapping(node.left, start, end, to: &result)
        if node.end > start, node.start < end { result.append(payloads[Int(index)]) }
        appendOverlapping(node.right, start, end, to: &result)
    }

    /// Recomputes the summary of the node at `index` from its own region and its children's summaries.
    private mutating func refresh(_ index: Int32) {
        let node = nodes[Int(index)]
        var minStart = node.start
        var maxEnd = node.end
        var maxGap: UInt64 = 0
        var bytes = node.end - node.start
        var gaps: UInt32 = 0
        if node.left != Self.none {
            let left = nodes[Int(node.left)]
            minStart = left.minStart
            maxGap = max(left.maxGap, node.start - left.maxEnd)
            bytes += left.bytes
            gaps += left.gaps + (node.start > left.maxEnd ? 1 : 0)
        }
        if node.right != Self.none {
            let right = nodes[Int(node.right)]
            maxEnd = right.maxEnd
            maxGap = max(maxGap, right.maxGap, right.minStart - node.end)
            bytes += right.bytes
            gaps += right.gaps + (right.minStart > node.end ? 1 : 0)
        }
        nodes[Int(index)].minStart = minStart
        nodes[Int(index)].maxEnd = maxEnd
        nodes[Int(index)].maxGap = maxGap
        nodes[Int(index)].bytes = bytes
        nodes[Int(index)].gaps = gaps
    }

    /// Splits the subtree at `index` into the regions starting below `key` and the others.
    private mutating func split(_ index: Int32, below key: UInt64) -> (Int32, Int32) {
        guard index != Self.none else { return (Self.none, Self.none) }
        if nodes[Int(index)].start < key {
            let (low, high) = split(nodes[Int(index)].right, below: key)
            nodes[Int(index)].right = low
            refresh(index)
            return (index, high)
        }
        let (low, high) = split(nodes[Int(index)].left, below: key)
        nodes[Int(index)].left = high
        refresh(index)
        return (low, index)
    }

    /// Joins two subtrees, every region of `low` lying below every region of `high`.
    private mutating func merge(_ low: Int32, _ high: Int32) -> Int32 {
        if low == Self.none { return high }
        if high == Self.none { return low }
        if nodes[Int(low)].priority > nodes[Int(high)].priority {
            nodes[Int(low)].right = merge(nodes[Int(low)].right, high)
            refresh(low)
            return low
        }
        nodes[Int(high)].left = merge(low, nodes[Int(high)].left)
        refresh(high)
        return high
    }

    /// Builds a subtree of `regions` (in order, not overlapping) in O(k): a Cartesian tree over
    /// the new nodes' priorities, its right spine kept on a stack. A node leaves the stack only
    /// when its subtree is complete, and its summary is computed then.
    private mutating func build(_ regions: [MemoryRegion]) -> Int32 {
        var spine: [Int32] = []
        for region in regions {
            let index = allocate(region)
            var lastPopped = Self.none
            while let top = spine.last, nodes[Int(top)].priority < nodes[Int(index)].priority {
                spine.removeLast()
                refresh(top)
                lastPopped = top
            }
            nodes[Int(index)].left = lastPopped
            if let top = spine.last { nodes[Int(top)].right = index }
            spine.append(index)
        }
        let subtreeRoot = spine.first ?? Self.none
        while let top = spine.popLast() { refresh(top) }
        return subtreeRoot
    }

    /// Appends the subtree's regions to `taken`, in order, and frees its nodes.
    private mutating func takeAll(_ index: Int32, into taken: inout [MemoryRegion]) {
        guard index != Self.none else { return }
        let node = nodes[Int(index)]
        takeAll(node.left, into: &taken)
        taken.append(payloads[Int(index)])
        payloads[Int(index)] = Self.vacant
        freeList.append(index)
        takeAll(node.right, into: &taken)
    }

    /// A new childless node for `region`, in a free slot if there is one.
    private mutating func allocate(_ region: MemoryRegion) -> Int32 {
        let start = region.start.rawValue
        let end = region.end.rawValue
        let node = Node(
            left: Self.none, right: Self.none, priority: nextPriority(), start: start, end: end, minStart: start,
            maxEnd: end, maxGap: 0, bytes: end - start, gaps: 0)
        if let index = freeList.popLast() {
            nodes[Int(index)] = node
            payloads[Int(index)] = region
            return index
        }
        nodes.append(node)
        payloads.append(region)
        return Int32(nodes.count - 1)
    }

    /// The next priority, from the xorshift64 generator.
    private mutating func nextPriority() -> UInt32 {
        randomState ^= randomState << 13
        randomState ^= randomState >> 7
        randomState ^= randomState << 17
        return UInt32(truncatingIfNeeded: randomState >> 32)
    }
}
