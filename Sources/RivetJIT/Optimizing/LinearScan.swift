import RivetIR
import RivetX64

// Tier 2's register allocator: linear scan after Poletto & Sarkar ("Linear Scan Register
// Allocation", TOPLAS 1999), over a compacted function in layout order.
//
// Assumes: a verified, compacted function (`Function.compacted()`: blocks numbered in layout
// order, values dense). Every value gets one location for its whole life (no splitting): a host
// register or a stack slot of the frame. An interval is the hull of everything the value is live
// at: its definition, its uses (operands, block arguments at the branch, exit-state entries at
// the instruction carrying them) and every block it is live into or out of, from a backward
// liveness analysis over blocks; so a value live around a loop covers the whole loop.
//
// Under pressure the interval spilled is the one, of the active ones and the new one, whose
// register saves least per position (its spill weight over its length), not the one that ends
// last as in the paper: in a loop nearly every interval spans the loop, so "ends last" chose
// among them at random and spilled the loop's counter while a value read only at exits kept a
// register.
//
// Positions: block b starts at an even position where its parameters are defined; instruction
// k of the layout reads its operands at an even position p and defines its result at p + 1. A
// value whose last use is at p may share its register with the result defined at p + 1: the
// lowering reads every operand before it writes the result.

/// Where a value lives for its whole life.
package enum ValueLocation: Hashable, Sendable {
    /// A host register.
    case register(HostRegister)
    /// The stack slot with this index in the frame's spill area.
    case stack(Int)
}

/// A value's live interval: positions `start...end` (inclusive).
package struct LiveInterval: Hashable, Sendable {
    /// The value.
    package var value: Value
    /// First position (its definition or the start of the first block it is live into).
    package var start: Int
    /// Last position (its last use or the end of the last block it is live out of).
    package var end: Int
    /// The interval `start...end` of `value`.
    package init(value: Value, start: Int, end: Int) {
        self.value = value
        self.start = start
        self.end = end
    }
    /// Whether two intervals share a position.
    package func overlaps(_ other: LiveInterval) -> Bool { start <= other.end && other.start <= end }
}

/// The result of register allocation.
package struct RegisterAllocation: Sendable {
    /// Intervals by value (values nothing defines in the layout have none).
    package var intervals: [LiveInterval?]
    /// Locations by value.
    package var locations: [ValueLocation?]
    /// Stack slots used for spilled values.
    package var spillSlots: Int
    /// The registers given to some value.
    package var usedRegisters: Set<HostRegister>
    /// Position where each block starts, by block.
    package var blockStarts: [Int]
    /// Read position of each instruction, by instruction.
    package var instPositions: [Int]

    /// The location of `v` (every defined value not left unallocated has one).
    @inline(__always) package func location(_ v: Value) -> ValueLocation { locations[v.id]! }
}

/// Linear-scan register allocation.
package enum LinearScan {
    /// Allocates `registers` (in order of preference) to the values of the compacted function
    /// `f`; values that do not fit are spilled to stack slots. Values marked in `unallocated`
    /// (constants the lowering folds into instructions) get an interval but no location.
    package static func allocate(_ f: Function, registers: [HostRegister], unallocated: [Bool] = [])
        -> RegisterAllocation
    {
        let valueCount = f.values.count
        let blockCount = f.blocks.count
        // Positions.
        var blockStarts = [Int](repeating: 0, count: blockCount)
        var blockEnds = [Int](repeating: 0, count: blockCount)
        var instPositions = [Int](repeating: 0, count: f.insts.count)
        var position = 0
        for b in f.layout {
            blockStarts[b.id] = position
            position += 2
            for inst in f.blocks[b.id].insts {
                instPositions[inst.id] = position
                position += 2
            }
            blockEnds[b.id] = position - 1
        }

        // Backward liveness over blocks, as bit sets of values.
        let words = (valueCount + 63) / 64
        var uses = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: blockCount)
        var defs = uses
        for b in f.layout {
            for p in f.blocks[b.id].params { defs[b.id][p.id / 64] |= 1 << UInt64(p.id % 64) }
            for inst in f.blocks[b.id].insts {
                f.forEachUse(inst) { v in
                    if defs[b.id][v.id / 64] & (1 << UInt64(v.id % 64)) == 0 {
                        uses[b.id][v.id / 64] |= 1 << UInt64(v.id % 64)
                    }
                }
                if let r = f.insts[inst.id].result { defs[b.id][r.id / 64] |= 1 << UInt64(r.id % 64) }
            }
        }
        var liveIn = uses
        var liveOut = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: blockCount)
        var changed = true
        while changed {
            changed = false
            for b in f.layout.reversed() {
                var out = [UInt64](repeating: 0, count: words)
                for s in f.successors(b) {
                    for w in 0..<words { out[w] |= liveIn[s.id][w] }
                }
                var input = out
                for w in 0..<words { input[w] = uses[b.id][w] | (out[w] & ~defs[b.id][w]) }
                if out != liveOut[b.id] || input != liveIn[b.id] {
                    liveOut[b.id] = out
                    liveIn[b.id] = input
                    changed = true
                }
            }
        }

        // Intervals: the hull of definitions, uses and live-in/live-out blocks.
        var starts = [Int](repeating: Int.max, count: valueCount)
        var ends = [Int](repeating: -1, count: valueCount)
        func cover(_ v: Value, _ p: Int) {
            starts[v.id] = min(starts[v.id], p)
            ends[v.id] = max(ends[v.id], p)
        }
        for b in f.layout {
            for p in f.blocks[b.id].params { cover(p, blockStarts[b.id]) }
            for inst in f.blocks[b.id].insts {
                let p = instPositions[inst.id]
                f.forEachUse(inst) { cover($0, p) }
                if let r = f.insts[inst.id].result { cover(r, p + 1) }
            }
            for w in 0..<words {
                var bits = liveIn[b.id][w]
                while bits != 0 {
                    let v = Value(w * 64 + bits.trailingZeroBitCount)
                    bits &= bits - 1
                    cover(v, blockStarts[b.id])
                }
                bits = liveOut[b.id][w]
                while bits != 0 {
                    let v = Value(w * 64 + bits.trailingZeroBitCount)
                    bits &= bits - 1
                    cover(v, blockEnds[b.id])
                }
            }
        }
        var intervals = [LiveInterval?](repeating: nil, count: valueCount)
        for v in 0..<valueCount where ends[v] >= 0 {
            intervals[v] = LiveInterval(value: Value(v), start: starts[v], end: ends[v])
        }

        // Hints: a block parameter and the arguments passed to it prefer one register, so that
        // the edge needs no move (as regalloc2's and Cranelift's move hints do).
        var partners = [[Value]](repeating: [], count: valueCount)
        for b in f.layout {
            guard let term = f.terminator(b) else { continue }
            for call in f.destinations(term) {
                for (p, a) in zip(f.blocks[call.block.id].params, f.list(call.args)) {
                    partners[p.id].append(a)
                    partners[a.id].append(p)
                }
            }
        }

        // Spill weights: what keeping a value in a register saves, per position of its interval.
        // Each definition, operand and block argument counts 8^(loop depth) of its block (as
        // Chaitin's and LLVM's spill costs do); exit-state entries count nothing, since an exit or
        // a fault reads a spilled value from its slot as cheaply, and only when it leaves.
        let depth = loopDepths(f)
        var weights = [Double](repeating: 0, count: valueCount)
        for b in f.layout {
            let w = Double(1 << (3 * min(depth[b.id], 6)))
            for p in f.blocks[b.id].params { weights[p.id] += w }
            for inst in f.blocks[b.id].insts {
                for v in f.args(inst) { weights[v.id] += w }
                for call in f.destinations(inst) {
                    for v in f.list(call.args) { weights[v.id] += w }
                }
                if let r = f.insts[inst.id].result { weights[r.id] += w }
            }
        }
        func priority(_ i: LiveInterval) -> Double { weights[i.value.id] / Double(i.end - i.start + 1) }

        // The scan: intervals by start; `active` sorted by end.
        let order = intervals.compactMap { $0 }.filter { $0.value.id >= unallocated.count || !unallocated[$0.value.id] }.sorted { ($0.start, $0.value) < ($1.start, $1.value) }
        var locations = [ValueLocation?](repeating: nil, count: valueCount)
        var free = Array(registers.reversed())  // popped from the end: the first preferred
        var active: [LiveInterval] = []
        var spillSlots = 0
        var used = Set<HostRegister>()
        for interval in order {
            // Expire intervals that end before this one starts.
            while let first = active.first, first.end < interval.start {
                active.removeFirst()
                if case .register(let r) = locations[first.value.id]! { free.append(r) }
            }
            let hinted = partners[interval.value.id].lazy.compactMap { partner -> Int? in
                guard case .register(let r) = locations[partner.id] else { return nil }
                return free.lastIndex(of: r)
            }.first
            if let k = hinted {
                let r = free.remove(at: k)
                locations[interval.value.id] = .register(r)
                used.insert(r)
                insertActive(&active, interval)
            } else if let r = free.popLast() {
                locations[interval.value.id] = .register(r)
                used.insert(r)
                insertActive(&active, interval)
            } else {
                // No register is free: of the active intervals and this one, spill the one whose
                // register saves least per position (on a tie, the one that lives longest, as
                // Poletto and Sarkar do); if it is an active one, this one takes its register.
                var victim: Int? = nil
                var best = (priority(interval), -interval.end)
                for (k, a) in active.enumerated() {
                    let candidate = (priority(a), -a.end)
                    if candidate < best {
                        best = candidate
                        victim = k
                    }
                }
                if let k = victim {
                    let spilled = active.remove(at: k)
                    locations[interval.value.id] = locations[spilled.value.id]
                    locations[spilled.value.id] = .stack(spillSlots)
                    insertActive(&active, interval)
                } else {
                    locations[interval.value.id] = .stack(spillSlots)
                }
                spillSlots += 1
            }
        }
        return RegisterAllocation(
            intervals: intervals, locations: locations, spillSlots: spillSlots, usedRegisters: used,
            blockStarts: blockStarts, instPositions: instPositions)
    }

    /// By block: how many loops contain it. A loop is the natural loop of a back edge, an edge to
    /// a block at or before its source in the layout (the blocks that reach the source without
    /// passing the target); a layout that is not in reverse postorder only misjudges weights.
    package static func loopDepths(_ f: Function) -> [Int] {
        var order = [Int](repeating: -1, count: f.blocks.count)
        for (k, b) in f.layout.enumerated() { order[b.id] = k }
        var predecessors = [[Block]](repeating: [], count: f.blocks.count)
        for b in f.layout { for s in f.successors(b) { predecessors[s.id].append(b) } }
        var bodies: [Int: Set<Int>] = [:]  // by header
        for b in f.layout {
            for s in f.successors(b) where order[s.id] >= 0 && order[s.id] <= order[b.id] {
                var body = bodies[s.id] ?? [s.id]
                var work = body.contains(b.id) ? [] : [b]
                body.insert(b.id)
                while let x = work.popLast() {
                    for p in predecessors[x.id] where order[p.id] >= 0 && !body.contains(p.id) {
                        body.insert(p.id)
                        work.append(p)
                    }
                }
                bodies[s.id] = body
            }
        }
        var depth = [Int](repeating: 0, count: f.blocks.count)
        for body in bodies.values { for b in body { depth[b] += 1 } }
        return depth
    }

    private static func insertActive(_ active: inout [LiveInterval], _ interval: LiveInterval) {
        let index = active.firstIndex { $0.end > interval.end } ?? active.count
        active.insert(interval, at: index)
    }
}
