import RivetIR

// Splitting at block boundaries, after the scan and its second chance: a value that found no
// register for its whole interval may find one free through some of the blocks it lives in.
// It then lives in that register there and in its slot elsewhere, and the edges between the
// two kinds of block move it: a load where it enters the register's blocks, a store where it
// leaves them (only if it was defined in the register: a value defined in its slot stays there,
// unchanged, for its whole life).
//
// The blocks are chosen by gain: what the value's operands and definition save in the blocks
// it is in a register (8^loop depth each, as spill weights count), less the moves on the edges
// between (8^ the smaller loop depth of the edge's ends). Starting from every block where the
// register is free over the value's ranges, whole loops that hold a block where it is not
// are taken out when that gains (so the value does not enter and leave the register at every
// iteration of an inner loop that needs the register), then blocks without a use are
// added or taken out one at a time where that gains. The register with the most gain wins,
// if it gains anything.
//
// bzip2's `mainSort` carries three guest registers round an outer loop that reads them and
// through an inner loop that only hands them to its exits: the inner loop's pressure spilled
// them, and the scan's one-place-per-value kept them in their slots in the outer loop too,
// while `r8` held one value for two positions in the inner loop.

extension RegisterAllocation {
    /// A spilled value kept in a register in some blocks (`LinearScan.split`): `locations`
    /// names its slot, which holds it everywhere else.
    public struct Split: Hashable, Sendable {
        /// The value.
        public var value: Value
        /// Its register in `blocks`.
        public var location: ValueLocation
        /// By block id: whether the value is in `location` there (where it is live).
        public var blocks: [Bool]
        /// The blocks the value is live into (not as a parameter): the edges into them move it
        /// where the blocks at the two ends disagree.
        public var liveInto: [Block]
        /// Whether the value is defined in one of `blocks`, so its slot does not hold it until
        /// an edge out of them stores it.
        public var definedInRegister: Bool
    }
}

extension LinearScan {
    /// What splitting reads of the function and its liveness (`allocate` computed them).
    struct SplitContext {
        let f: Function
        let cfg: ControlFlowGraph
        let loops: NaturalLoops
        let depth: [Int]
        let blockStarts: [Int]
        let blockEnds: [Int]
        /// Live-in sets, `words` words a block.
        let liveIn: [UInt64]
        let words: Int
    }

    /// The splits of the spilled values some instruction reads, most weight first (see the top
    /// of this file). `locations` and `used` are the scan's; `used` gains the registers given.
    static func split(
        order: [Int], _ intervals: Intervals.View, weights: [Double], operandUses: [Bool], _ c: SplitContext,
        places: [ValueLocation], registerIndex: [Int], floatClass: Range<Int>?, locations: [ValueLocation?],
        used: inout [Bool]
    ) -> [RegisterAllocation.Split] {
        let f = c.f
        // Values of the general class only: no real region split a float value (none in the
        // 1,618 regions of fp32 and fp64 compiled eagerly), and the random tests that check
        // splits run integer code.
        var candidates: [Int] = []
        for v in order where f.type(Value(v)) != .f32 && f.type(Value(v)) != .f64 {
            switch locations[v] {
            case .stack?, .home?: if operandUses[v] { candidates.append(v) }
            default: break
            }
        }
        guard !candidates.isEmpty else { return [] }
        candidates.sort { (weights[$0], -$0) > (weights[$1], -$1) }
        let blockCount = f.blocks.count
        var candidateIndex = [Int](filled: -1, count: f.values.count)
        for (k, v) in candidates.enumerated() { candidateIndex[v] = k }

        // What each candidate's operands and definition weigh in each block, and its block.
        var useWeight = [Double](filled: 0, count: candidates.count * blockCount)
        var definedIn = [Int](filled: -1, count: candidates.count)
        for b in f.layout {
            let w = Double(1 << (3 * min(c.depth[b.id], 6)))
            for p in f.blocks[b.id].params where candidateIndex[p.id] >= 0 { definedIn[candidateIndex[p.id]] = b.id }
            for inst in f.blocks[b.id].insts {
                for a in f.args(inst) where candidateIndex[a.id] >= 0 { useWeight[candidateIndex[a.id] * blockCount + b.id] += w }
                if let r = f.insts[inst.id].result, candidateIndex[r.id] >= 0 {
                    useWeight[candidateIndex[r.id] * blockCount + b.id] += w
                    definedIn[candidateIndex[r.id]] = b.id
                }
            }
        }

        let weightsByBlock = useWeight
        // By place: the positions its values hold it, as sorted disjoint ranges.
        var occupied = [[ClosedRange<Int>]](filled: [], count: places.count)
        for v in order {
            guard let number = placeNumber(locations[v]) else { continue }
            let k = registerIndex[number]
            for r in intervals.indices(v) { occupied[k].append(intervals.lower[r]...intervals.upper[r]) }
        }
        for k in occupied.indices { occupied[k] = merged(occupied[k]) }

        // Blocks in layout order by start, to find a position's block.
        let layoutStarts = f.layout.map { c.blockStarts[$0.id] }
        func blockIndex(at position: Int) -> Int {
            var lo = 0, hi = layoutStarts.count - 1
            while lo < hi {
                let mid = (lo + hi + 1) / 2
                if layoutStarts[mid] <= position { lo = mid } else { hi = mid - 1 }
            }
            return lo
        }
        // Innermost loops first.
        let loops = c.loops.loops.sorted { $0.size < $1.size }
        let generalClass = 0..<(floatClass?.lowerBound ?? places.count)

        var splits: [RegisterAllocation.Split] = []
        var live = [Bool](filled: false, count: blockCount)
        var free = [Bool](filled: false, count: blockCount)
        var inside = [Bool](filled: false, count: blockCount)
        var into = [Bool](filled: false, count: blockCount)
        for (n, v) in candidates.enumerated() {
            // The blocks it lives in, and those it lives into.
            var found: [Int] = []
            for r in intervals.indices(v) {
                for k in blockIndex(at: intervals.lower[r])...blockIndex(at: intervals.upper[r]) {
                    let b = f.layout[k].id
                    if !live[b] {
                        live[b] = true
                        found.append(b)
                    }
                }
            }
            let liveBlocks = found
            let liveInto = liveBlocks.filter { c.liveIn[$0 * c.words + v / 64] & (1 << UInt64(v % 64)) != 0 }
            for b in liveInto { into[b] = true }
            let weightIn = { (b: Int) in weightsByBlock[n * blockCount + b] }
            let defined = definedIn[n]
            // What the moves on the edges between `p` and `t` (v live into `t`) cost.
            func edgeCost(_ inside: [Bool], _ p: Int, _ t: Int, stores: Bool) -> Double {
                inside[p] != inside[t] && (inside[t] || stores) ? Double(1 << (3 * min(c.depth[p], c.depth[t], 6))) : 0
            }
            // What the moves on the edges into and out of `b` cost (b not v's block).
            func edgesCost(_ inside: [Bool], _ b: Int) -> Double {
                let stores = defined >= 0 && inside[defined]
                var cost = 0.0
                if into[b] { for p in c.cfg.predecessors[b] { cost += edgeCost(inside, p.id, b, stores: stores) } }
                for t in c.cfg.successors[b] where into[t.id] { cost += edgeCost(inside, b, t.id, stores: stores) }
                return cost
            }
            // What keeping `v` in a register in the blocks marked in `inside` gains.
            func gain(_ inside: [Bool]) -> Double {
                var g = 0.0
                for b in liveBlocks where inside[b] { g += weightIn(b) }
                let stores = defined >= 0 && inside[defined]
                for t in liveInto {
                    for p in c.cfg.predecessors[t] { g -= edgeCost(inside, p.id, t, stores: stores) }
                }
                return g
            }

            var best: (gain: Double, k: Int, blocks: [Bool])? = nil
            for k in generalClass {
                // Free where none of the place's ranges meets one of v's in the block.
                for b in liveBlocks { free[b] = true }
                var i = intervals.indices(v).lowerBound
                let iEnd = intervals.indices(v).upperBound
                // From the first of the place's ranges that does not end before v starts.
                var j = 0, high = occupied[k].count
                let start = intervals.start(v), end = intervals.end(v)
                while j < high {
                    let mid = (j + high) / 2
                    if occupied[k][mid].upperBound < start { j = mid + 1 } else { high = mid }
                }
                while i < iEnd && j < occupied[k].count && occupied[k][j].lowerBound <= end {
                    let a = intervals.lower[i]...intervals.upper[i], o = occupied[k][j]
                    if a.upperBound < o.lowerBound {
                        i += 1
                    } else if o.upperBound < a.lowerBound {
                        j += 1
                    } else {
                        let shared = max(a.lowerBound, o.lowerBound)...min(a.upperBound, o.upperBound)
                        for x in blockIndex(at: shared.lowerBound)...blockIndex(at: shared.upperBound) {
                            free[f.layout[x].id] = false
                        }
                        if a.upperBound < o.upperBound { i += 1 } else { j += 1 }
                    }
                }
                var useful = false
                for b in liveBlocks {
                    inside[b] = free[b]
                    if free[b] && weightIn(b) > 0 { useful = true }
                }
                guard useful else { continue }
                var current = gain(inside)
                // Out of the loops the register is not free throughout, where that gains.
                let taken = liveBlocks.filter { !free[$0] }
                for loop in loops where taken.contains(where: { loop.body[$0] }) {
                    let out = liveBlocks.filter { loop.body[$0] && inside[$0] }
                    guard !out.isEmpty else { continue }
                    for b in out { inside[b] = false }
                    let g = gain(inside)
                    if g >= current {
                        current = g
                    } else {
                        for b in out { inside[b] = true }
                    }
                }
                // Blocks without uses in or out, one at a time (only the block's edges change,
                // unless it is v's own).
                for _ in 0..<2 {
                    for b in liveBlocks where weightIn(b) == 0 && (free[b] || inside[b]) {
                        if b == defined {
                            inside[b].toggle()
                            let g = gain(inside)
                            if g > current { current = g } else { inside[b].toggle() }
                            continue
                        }
                        let before = edgesCost(inside, b)
                        inside[b].toggle()
                        let g = current + before - edgesCost(inside, b)
                        if g > current { current = g } else { inside[b].toggle() }
                    }
                }
                if current > 0, best == nil || current > best!.gain {
                    var blocks = [Bool](filled: false, count: blockCount)
                    for b in liveBlocks where inside[b] { blocks[b] = true }
                    best = (current, k, blocks)
                }
            }
            for b in liveBlocks {
                live[b] = false
                inside[b] = false
                into[b] = false
            }
            guard let (_, k, blocks) = best else { continue }
            splits.append(
                RegisterAllocation.Split(
                    value: Value(v), location: places[k], blocks: blocks, liveInto: liveInto.map { Block($0) },
                    definedInRegister: defined >= 0 && blocks[defined]))
            used[k] = true
            // The place now holds v's ranges in those blocks (in order: merged in one pass).
            var pieces: [ClosedRange<Int>] = []
            for r in intervals.indices(v) {
                for x in blockIndex(at: intervals.lower[r])...blockIndex(at: intervals.upper[r]) {
                    let b = f.layout[x].id
                    guard blocks[b] else { continue }
                    let lower = max(intervals.lower[r], c.blockStarts[b]), upper = min(intervals.upper[r], c.blockEnds[b])
                    pieces.append(lower...upper)
                }
            }
            occupied[k] = merged(occupied[k], pieces)
        }
        return splits
    }

    /// `ranges` sorted, with overlapping and adjacent ones joined.
    static func merged(_ ranges: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) { join(&result, r) }
        return result
    }

    /// Two lists of ranges each in increasing order, as one with overlapping and adjacent
    /// ranges joined.
    static func merged(_ a: [ClosedRange<Int>], _ b: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        var result: [ClosedRange<Int>] = []
        result.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].lowerBound <= b[j].lowerBound) {
                join(&result, a[i])
                i += 1
            } else {
                join(&result, b[j])
                j += 1
            }
        }
        return result
    }

    /// Appends `r` (starting at or after the last range's start) to `ranges`, joined with the
    /// last range if they overlap or touch.
    @inline(__always)
    static func join(_ ranges: inout [ClosedRange<Int>], _ r: ClosedRange<Int>) {
        if let last = ranges.last, last.upperBound + 1 >= r.lowerBound {
            ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
        } else {
            ranges.append(r)
        }
    }
}
