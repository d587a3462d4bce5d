import RivetIR
import RivetX64

// Tier 2's register allocator: linear scan after Poletto & Sarkar ("Linear Scan Register
// Allocation", TOPLAS 1999), over a compacted function in layout order.
//
// Assumes: a verified, compacted function (`Function.compacted()`: blocks numbered in layout
// order, values dense). Every value gets one location for its whole life: a host register, a
// spill slot (reused by intervals that do not overlap), or the slot of the guest register it
// stands for at the exits (its home, when the caller names one); a spilled value may also have a
// register in some blocks (split at block boundaries: LinearScan+Splitting.swift). An interval is the
// hull of everything the value is live at: its definition, its uses (operands, block arguments at the branch, exit-state entries at
// the instruction carrying them) and every block it is live into or out of, from a backward
// liveness analysis over blocks; so a value live around a loop covers the whole loop.
//
// Under pressure the interval spilled is the one, of the active ones and the new one, whose
// register saves least per position (its spill weight over its length), not the one that ends
// last as in the paper: in a loop nearly every interval spans the loop, so "ends last" chose
// among them at random and spilled the loop's counter while a value read only at exits kept a
// register. After the scan, spilled values get a second chance at a register (`secondChance`),
// then a register in the blocks where one is free (`split`).
//
// Two register classes: given float registers, values of type f32 and f64 get XMM registers
// (or spill slots), the others general registers; each class is scanned over its own registers,
// and hints join only values of one class (a block parameter has its arguments' type). Without
// float registers, every value takes a general register.
//
// Positions: block b starts at an even position where its parameters are defined; instruction
// k of the layout reads its operands at an even position p and defines its result at p + 1. A
// value whose last use is at p may share its register with the result defined at p + 1: the
// lowering reads every operand before it writes the result.

/// Where a value lives for its whole life (or, for a split value, outside the blocks of its
/// split: `RegisterAllocation.splits`).
public enum ValueLocation: Hashable, Sendable {
    /// A host general register.
    case register(HostRegister)
    /// A host XMM register (a float value: a single in the low 32 bits, a double in the low 64).
    case float(XMMRegister)
    /// The stack slot with this index in the frame's spill area.
    case stack(Int)
    /// The slot of the function's state with this index (`Function.slots`): the guest
    /// register the value stands for at every exit that reads it (its home). A spilled value
    /// kept there needs no spill slot and no write when the code leaves (`LinearScan.allocate`).
    case home(Int)
}

/// A value's live interval: the positions it is live at, as ranges in increasing order with
/// holes between them (where the value is dead: a block of the layout that neither it nor its
/// uses reach), and their hull `start...end`.
public struct LiveInterval: Hashable, Sendable {
    /// The value.
    public var value: Value
    /// Its ranges, disjoint and in increasing order, none adjacent to the next.
    public var ranges: [ClosedRange<Int>]
    /// First position (its definition or the start of the first block it is live into).
    public var start: Int { ranges.first!.lowerBound }
    /// Last position (its last use or the end of the last block it is live out of).
    public var end: Int { ranges.last!.upperBound }
    /// Positions the interval covers.
    public var length: Int { ranges.reduce(0) { $0 + $1.count } }
    /// The interval of `value` over `ranges` (non-empty, increasing, disjoint).
    public init(value: Value, ranges: [ClosedRange<Int>]) {
        self.value = value
        self.ranges = ranges
    }
    /// The interval `start...end` of `value`, without holes.
    public init(value: Value, start: Int, end: Int) { self.init(value: value, ranges: [start...end]) }
    /// Whether two intervals share a position (not merely their hulls).
    public func overlaps(_ other: LiveInterval) -> Bool {
        var i = 0, j = 0
        while i < ranges.count && j < other.ranges.count {
            let a = ranges[i], b = other.ranges[j]
            if a.upperBound < b.lowerBound {
                i += 1
            } else if b.upperBound < a.lowerBound {
                j += 1
            } else {
                return true
            }
        }
        return false
    }
}

/// The result of register allocation.
public struct RegisterAllocation: Sendable {
    /// The intervals' ranges, flat (`LinearScan.Intervals`).
    var ranges: LinearScan.Intervals
    /// Intervals by value (values nothing defines in the layout have none).
    public var intervals: [LiveInterval?] {
        ranges.withView { view in
            (0..<ranges.valueCount).map { v in
                view.isEmpty(v)
                    ? nil : LiveInterval(value: Value(v), ranges: view.indices(v).map { view.lower[$0]...view.upper[$0] })
            }
        }
    }
    /// Locations by value.
    public var locations: [ValueLocation?]
    /// Spilled values kept in a register in some of the blocks they live in (`LinearScan.split`).
    public var splits: [Split]
    /// Stack slots used for spilled values.
    public var spillSlots: Int
    /// The general registers given to some value.
    public var usedRegisters: Set<HostRegister>
    /// The XMM registers given to some value.
    public var usedFloatRegisters: Set<XMMRegister>
    /// Position where each block starts, by block.
    public var blockStarts: [Int]
    /// Read position of each instruction, by instruction.
    public var instPositions: [Int]

    /// The location of `v` (every defined value not left unallocated has one).
    @inline(__always) public func location(_ v: Value) -> ValueLocation { locations[v.id]! }
}

/// Linear-scan register allocation.
public enum LinearScan {
    /// Allocates `registers` (in order of preference) to the values of the compacted function
    /// `f`, and `floatRegisters` to its f32 and f64 values if there are any (else those take
    /// general registers too); values that do not fit are spilled to stack slots. Values marked
    /// in `unallocated` (constants the lowering folds into instructions) get an interval but no
    /// location. A spilled value with a home in `homes` (by value: a slot of `f`, see
    /// `ValueLocation.home`) goes there instead of to a stack slot when no value there overlaps
    /// it; the caller vouches that the slot may hold it (`Tier2Backend.homes`). `cfg` is `f`'s
    /// graph if the caller has it.
    public static func allocate(
        _ f: Function, registers: [HostRegister], floatRegisters: [XMMRegister] = [], unallocated: [Bool] = [],
        homes: [Int?] = [], cfg: ControlFlowGraph? = nil
    ) -> RegisterAllocation {
        let cfg = cfg ?? ControlFlowGraph(f)
        let valueCount = f.values.count
        let blockCount = f.blocks.count
        // Positions.
        var blockStarts = [Int](filled: 0, count: blockCount)
        var blockEnds = [Int](filled: 0, count: blockCount)
        var instPositions = [Int](filled: 0, count: f.insts.count)
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

        // Backward liveness over blocks, as bit sets of values (`words` words a block, all
        // blocks' sets in one array).
        let words = (valueCount + 63) / 64
        var uses = [UInt64](filled: 0, count: words * blockCount)
        var defs = uses
        for b in f.layout {
            let base = b.id * words
            for p in f.blocks[b.id].params { defs[base + p.id / 64] |= 1 << UInt64(p.id % 64) }
            for inst in f.blocks[b.id].insts {
                f.forEachUse(inst) { v in
                    if defs[base + v.id / 64] & (1 << UInt64(v.id % 64)) == 0 {
                        uses[base + v.id / 64] |= 1 << UInt64(v.id % 64)
                    }
                }
                if let r = f.insts[inst.id].result { defs[base + r.id / 64] |= 1 << UInt64(r.id % 64) }
            }
        }
        var liveIn = uses
        var liveOut = [UInt64](filled: 0, count: words * blockCount)
        var changed = true
        while changed {
            changed = false
            for b in f.layout.reversed() {
                let base = b.id * words
                let successors = cfg.successors[b.id]
                for w in 0..<words {
                    var out: UInt64 = 0
                    for s in successors { out |= liveIn[s.id * words + w] }
                    let input = uses[base + w] | (out & ~defs[base + w])
                    if out != liveOut[base + w] || input != liveIn[base + w] {
                        liveOut[base + w] = out
                        liveIn[base + w] = input
                        changed = true
                    }
                }
            }
        }

        // Ranges, block by block: from the block's start (live in, or a parameter) or the
        // definition, to the block's end (live out) or the last use in it; a definition nothing
        // uses still covers its own position (the lowering writes it). Each block's pieces are
        // noted in layout order, then grouped by value (`Intervals`).
        var first = [Int](filled: -1, count: valueCount)  // in the current block
        var last = [Int](filled: -1, count: valueCount)
        var touched: [Int] = []
        var pieces: [(value: Int32, lower: Int32, upper: Int32)] = []
        for b in f.layout {
            let bs = blockStarts[b.id], be = blockEnds[b.id]
            for w in 0..<words {
                var bits = liveIn[b.id * words + w]
                while bits != 0 {
                    touch(w * 64 + bits.trailingZeroBitCount, bs, &first, &last, &touched)
                    bits &= bits - 1
                }
            }
            for p in f.blocks[b.id].params { touch(p.id, bs, &first, &last, &touched) }
            for inst in f.blocks[b.id].insts {
                let p = instPositions[inst.id]
                f.forEachUse(inst) { touch($0.id, p, &first, &last, &touched) }
                if let r = f.insts[inst.id].result { touch(r.id, p + 1, &first, &last, &touched) }
            }
            for w in 0..<words {
                var bits = liveOut[b.id * words + w]
                while bits != 0 {
                    touch(w * 64 + bits.trailingZeroBitCount, be, &first, &last, &touched)
                    bits &= bits - 1
                }
            }
            for v in touched {
                pieces.append((Int32(v), Int32(first[v]), Int32(last[v])))
                first[v] = -1
                last[v] = -1
            }
            touched.removeAll(keepingCapacity: true)
        }
        let flat = Intervals(valueCount: valueCount, pieces: pieces)

        // Hints: a block parameter and the arguments passed to it prefer one register, so that
        // the edge needs no move (as regalloc2's and Cranelift's move hints do); so do the
        // result of a two-address operation and its first operand (x86 computes `d = a op b` as
        // `mov d, a; op d, b`: the `mov` goes when `a` dies there and `d` takes its register).
        // Hints are followed through chains of partners not allocated yet: in
        // `v3 = shl v28, 1; v6 = iadd v3, v28; jump block1(.., v6)`, `v3` takes the register of
        // the parameter `v6` goes to before `v6` is allocated.
        // (By value, in one array: an array a value cost an allocation for most of a region's.)
        let partners = IndexedLists<Value>(count: valueCount, filler: Value(0)) { append in
            func pair(_ a: Value, _ b: Value) {
                append(a.id, b)
                append(b.id, a)
            }
            for b in f.layout {
                for inst in f.blocks[b.id].insts {
                    if let r = f.insts[inst.id].result, let operand = twoAddressOperand(f, inst) { pair(r, operand) }
                }
                guard let term = f.terminator(b) else { continue }
                let data = f.insts[term.id]
                guard data.opcode == .jump || data.opcode == .brif else { continue }
                for which in 0..<(data.opcode == .brif ? 2 : 1) {
                    let call = which == 0 ? data.destination0 : data.destination1
                    for (p, a) in zip(f.blocks[call.block.id].params, f.list(call.args)) { pair(p, a) }
                }
            }
        }

        // Spill weights: what keeping a value in a register saves, per position of its interval.
        // Each definition and operand counts 8^(loop depth) of its block (as Chaitin's and LLVM's
        // spill costs do); exit-state entries count nothing, since an exit or a fault reads a
        // spilled value from its slot as cheaply, and only when it leaves. A block parameter and
        // a block argument count an eighth of that, and so does the definition of a value no
        // operand reads: a value a loop only carries for its exits (a guest register the loop
        // overwrites before it reads it) moves at no cost where its partners share its place,
        // and spilled it costs at most a store on the edge; counted in full, such values kept
        // registers around zlib's longest_match loop while its invariants were read from slots
        // every iteration.
        let loops = NaturalLoops(cfg, DominatorTree(cfg))
        let depth = loopDepths(loops, blockCount: blockCount)
        var operandUses = [Bool](filled: false, count: valueCount)
        for b in f.layout {
            for inst in f.blocks[b.id].insts { for v in f.args(inst) { operandUses[v.id] = true } }
        }
        var weights = [Double](filled: 0, count: valueCount)
        for b in f.layout {
            let w = Double(1 << (3 * min(depth[b.id], 6)))
            for p in f.blocks[b.id].params { weights[p.id] += w / 8 }
            for inst in f.blocks[b.id].insts {
                for v in f.args(inst) { weights[v.id] += w }
                let data = f.insts[inst.id]
                if data.opcode == .jump || data.opcode == .brif {
                    for v in f.list(data.destination0.args) { weights[v.id] += w / 8 }
                    if data.opcode == .brif { for v in f.list(data.destination1.args) { weights[v.id] += w / 8 } }
                }
                if let r = f.insts[inst.id].result { weights[r.id] += operandUses[r.id] ? w : w / 8 }
            }
        }

        // The scan, by start. Each register (and spill slot) keeps the intervals given to it
        // that may still meet a later one (those ending before the current start are dropped);
        // an interval fits a register none of whose intervals it overlaps (it may fit a hole).
        // (No local functions capture the scan's state: each access to a captured `var` paid a
        // dynamic exclusivity check, a quarter of the allocator's time.)
        let (locations, spillSlots, used, splits) = flat.withView { intervals in
            var order: [Int] = []
            for v in 0..<valueCount where !intervals.isEmpty(v) && (v >= unallocated.count || !unallocated[v]) {
                order.append(v)
            }
            order.sort { (intervals.start($0), $0) < (intervals.start($1), $1) }
            var locations = [ValueLocation?](filled: nil, count: valueCount)
            // Both classes' registers in one list: general ones first, then XMM ones.
            let places = registers.map { ValueLocation.register($0) } + floatRegisters.map { ValueLocation.float($0) }
            let generalClass = 0..<registers.count, floatClass = registers.count..<places.count
            // The values given to each place (by value number: no interval is copied, so the scan
            // retains nothing).
            var holders = [[Int]](filled: [], count: places.count)
            var used = [Bool](filled: false, count: places.count)
            // By place, no more than the earliest end among its values: a place whose values all
            // end at or after the scan's position has nothing to drop.
            var earliestEnd = [Int](filled: .max, count: places.count)
            // Spill slots are reused by intervals that do not overlap, widened by one position
            // where they start at a result (so that, unlike a register, an operand's last use and
            // the same instruction's result never share one); a block parameter and its arguments
            // prefer one slot (the edge's move vanishes).
            var slotHolders: [[Int]] = []
            // The values kept in each home, by slot of `f`.
            var homeHolders = [[Int]](filled: [], count: homes.isEmpty ? 0 : f.slots.count)
            // By host register number (XMM registers from 32 on): its index in `places`, or -1.
            var registerIndex = [Int](filled: -1, count: 48)
            for (k, place) in places.enumerated() { registerIndex[placeNumber(place)!] = k }
            // The hint search's marks: by value, the position in `order` of the interval that last
            // visited it.
            var seen = [Int](filled: -1, count: valueCount)
            var frontier: [Value] = []
            var next: [Value] = []
            for (n, v) in order.enumerated() {
                let start = intervals.start(v)
                for k in holders.indices where earliestEnd[k] < start {
                    intervals.dropEnded(&holders[k], before: start)
                    earliestEnd[k] = holders[k].lazy.map { intervals.end($0) }.min() ?? .max
                }
                let type = f.type(Value(v))
                let candidates = !floatRegisters.isEmpty && (type == .f32 || type == .f64) ? floatClass : generalClass
                // The nearest partner (breadth first, up to three edges away) whose register fits.
                var choice: Int? = nil
                seen[v] = n
                frontier.removeAll(keepingCapacity: true)
                frontier.append(Value(v))
                search: for _ in 0..<3 {
                    next.removeAll(keepingCapacity: true)
                    for u in frontier {
                        for partner in partners[u.id] where seen[partner.id] != n {
                            seen[partner.id] = n
                            if let number = placeNumber(locations[partner.id]), case let k = registerIndex[number],
                                candidates.contains(k), !intervals.overlapsAny(holders[k], v)
                            {
                                choice = k
                                break search
                            }
                            next.append(partner)
                        }
                    }
                    swap(&frontier, &next)
                }
                if choice == nil {
                    for k in candidates where !intervals.overlapsAny(holders[k], v) {
                        choice = k
                        break
                    }
                }
                if let k = choice {
                    locations[v] = places[k]
                    used[k] = true
                    holders[k].append(v)
                    earliestEnd[k] = min(earliestEnd[k], intervals.end(v))
                    continue
                }
                // No register fits: of the registers' overlapping intervals and this one, spill
                // what saves least per position. A register's cost is the sum over the intervals
                // it would have to give up; if the cheapest costs less than this interval, they go
                // to spill slots and this one takes the register.
                var best: (cost: Double, k: Int)? = nil
                for k in candidates {
                    var cost = 0.0
                    for held in holders[k] where intervals.overlaps(held, v) {
                        cost += weights[held] / Double(intervals.length(held))
                    }
                    if best == nil || cost < best!.cost { best = (cost, k) }
                }
                if let (cost, k) = best, cost < weights[v] / Double(intervals.length(v)) {
                    for spilled in holders[k] where intervals.overlaps(spilled, v) {
                        locations[spilled] = spillLocation(
                            for: spilled, intervals, partners: partners[spilled], homes: homes, locations, &slotHolders,
                            &homeHolders)
                    }
                    holders[k].removeAll { intervals.overlaps($0, v) }
                    locations[v] = places[k]
                    used[k] = true
                    holders[k].append(v)
                    earliestEnd[k] = min(earliestEnd[k], intervals.end(v))
                } else {
                    locations[v] = spillLocation(
                        for: v, intervals, partners: partners[v], homes: homes, locations, &slotHolders, &homeHolders)
                }
            }
            secondChance(
                order: order, intervals, weights: weights, operandUses: operandUses, partners: partners, homes: homes,
                places: places, registerIndex: registerIndex, floatClass: !floatRegisters.isEmpty ? floatClass : nil, f,
                &locations, &used, &slotHolders, &homeHolders)
            let context = SplitContext(
                f: f, cfg: cfg, loops: loops, depth: depth, blockStarts: blockStarts, blockEnds: blockEnds, liveIn: liveIn,
                words: words)
            let splits = split(
                order: order, intervals, weights: weights, operandUses: operandUses, context, places: places,
                registerIndex: registerIndex, floatClass: !floatRegisters.isEmpty ? floatClass : nil, locations: locations,
                used: &used)
            return (locations, slotHolders.count, used, splits)
        }
        let places = registers.count
        let generalClass = 0..<places, floatClass = places..<(places + floatRegisters.count)
        let usedRegisters = Set(generalClass.filter { used[$0] }.map { registers[$0] })
        let usedFloatRegisters = Set(floatClass.filter { used[$0] }.map { floatRegisters[$0 - registers.count] })
        return RegisterAllocation(
            ranges: flat, locations: locations, splits: splits, spillSlots: spillSlots, usedRegisters: usedRegisters,
            usedFloatRegisters: usedFloatRegisters, blockStarts: blockStarts, instPositions: instPositions)
    }

    /// Gives registers back to spilled values. The scan spills for good, comparing weights per
    /// position at the spilled interval's start: a register freed later (its holder ended, or
    /// was evicted by a shorter interval) stays empty for the rest of that interval's life, and
    /// in a loop nearly every interval starts before the loop. (bzip2's `mainSort` region read
    /// three loop invariants and three loop-carried guest registers from their slots every pass
    /// while `r8` held one value, for two positions, after the loop.) Spilled values some
    /// instruction reads, most weight first, take a register of their class none of whose
    /// values they overlap (a partner's first); failing that, the register whose overlapping
    /// values weigh least in all, if less than the value: those are spilled instead (weights
    /// count what a value costs spilled, so the exchange saves the difference). A value given
    /// a register takes its spilled partners (block parameters and arguments, two-address
    /// operands) along where they fit, so that the edges' moves go. Values only exits and
    /// edges read stay where they are: in a register they would cost a store at each exit.
    static func secondChance(
        order: [Int], _ intervals: Intervals.View, weights: [Double], operandUses: [Bool], partners: IndexedLists<Value>,
        homes: [Int?], places: [ValueLocation], registerIndex: [Int], floatClass: Range<Int>?, _ f: Function,
        _ locations: inout [ValueLocation?], _ used: inout [Bool], _ slotHolders: inout [[Int]], _ homeHolders: inout [[Int]]
    ) {
        var holders = [[Int]](filled: [], count: places.count)
        var spilled: [Int] = []
        for v in order {
            switch locations[v] {
            case .register?, .float?: holders[registerIndex[placeNumber(locations[v])!]].append(v)
            case .stack?, .home?: if operandUses[v] { spilled.append(v) }
            case nil: break
            }
        }
        guard !spilled.isEmpty else { return }
        spilled.sort { (weights[$0], -$0) > (weights[$1], -$1) }
        let generalClass = 0..<(floatClass?.lowerBound ?? places.count)
        var chain: [Int] = []
        for v in spilled where placeNumber(locations[v]) == nil {
            let type = f.type(Value(v))
            let candidates = floatClass != nil && (type == .f32 || type == .f64) ? floatClass! : generalClass
            var choice: Int? = nil
            for partner in partners[v] {
                if let number = placeNumber(locations[partner.id]), case let k = registerIndex[number], candidates.contains(k),
                    !intervals.overlapsAny(holders[k], v)
                {
                    choice = k
                    break
                }
            }
            if choice == nil { choice = candidates.first { !intervals.overlapsAny(holders[$0], v) } }
            if choice == nil {
                var best: (cost: Double, k: Int)? = nil
                for k in candidates {
                    var cost = 0.0
                    for held in holders[k] where intervals.overlaps(held, v) { cost += weights[held] }
                    if best == nil || cost < best!.cost { best = (cost, k) }
                }
                if let (cost, k) = best, cost < weights[v] {
                    for evicted in holders[k] where intervals.overlaps(evicted, v) {
                        locations[evicted] = spillLocation(
                            for: evicted, intervals, partners: partners[evicted], homes: homes, locations, &slotHolders,
                            &homeHolders)
                    }
                    holders[k].removeAll { intervals.overlaps($0, v) }
                    choice = k
                }
            }
            guard let k = choice else { continue }
            // `v`, then its spilled partners that fit the same register, transitively.
            chain.removeAll(keepingCapacity: true)
            chain.append(v)
            locations[v] = places[k]
            holders[k].append(v)
            used[k] = true
            while let u = chain.popLast() {
                for partner in partners[u] where weights[partner.id] > 0 {
                    switch locations[partner.id] {
                    case .stack?, .home?:
                        guard !intervals.overlapsAny(holders[k], partner.id) else { continue }
                        locations[partner.id] = places[k]
                        holders[k].append(partner.id)
                        chain.append(partner.id)
                    default:
                        continue
                    }
                }
            }
        }
    }

    /// A register's number among both classes (XMM registers from 32 on), or nil for a stack
    /// slot or no location.
    @inline(__always)
    static func placeNumber(_ location: ValueLocation?) -> Int? {
        switch location {
        case .register(let r)?: Int(r.rawValue)
        case .float(let x)?: 32 + Int(x.rawValue)
        case .stack?, .home?, nil: nil
        }
    }

    /// Notes value `v` at position `p` of the current block (its first and last there).
    @inline(__always)
    static func touch(_ v: Int, _ p: Int, _ first: inout [Int], _ last: inout [Int], _ touched: inout [Int]) {
        if first[v] < 0 {
            first[v] = p
            touched.append(v)
        }
        last[v] = max(last[v], p)
    }

    /// Where a spilled value `v` goes: its home (`homes`) if no value kept there overlaps it
    /// (with the margin of `slot(for:...)`), else a spill slot.
    static func spillLocation(
        for v: Int, _ intervals: Intervals.View, partners: IndexedLists<Value>.List, homes: [Int?], _ locations: [ValueLocation?],
        _ slotHolders: inout [[Int]], _ homeHolders: inout [[Int]]
    ) -> ValueLocation {
        if v < homes.count, let home = homes[v], !intervals.overlapsAnyWidened(homeHolders[home], v) {
            homeHolders[home].append(v)
            return .home(home)
        }
        return .stack(slot(for: v, intervals, partners: partners, locations, &slotHolders))
    }

    /// A spill slot for value `v`: a partner's (`partners`, with their `locations`) if it fits,
    /// else the first that fits, else a new one. Nothing is dropped from a slot's values: an
    /// interval evicted from a register started before the scan's position and may overlap any
    /// of them (dropping those that ended before the position let two parameters of one block
    /// share a slot, and bzip2's mainSort read the wrong x11 at a fault). Intervals are widened
    /// by one position, both ways.
    static func slot(
        for v: Int, _ intervals: Intervals.View, partners: IndexedLists<Value>.List, _ locations: [ValueLocation?],
        _ slotHolders: inout [[Int]]
    ) -> Int {
        var choice: Int? = nil
        for partner in partners {
            if case .stack(let k) = locations[partner.id], !intervals.overlapsAnyWidened(slotHolders[k], v) {
                choice = k
                break
            }
        }
        if choice == nil {
            for k in slotHolders.indices where !intervals.overlapsAnyWidened(slotHolders[k], v) {
                choice = k
                break
            }
        }
        if let k = choice {
            slotHolders[k].append(v)
            return k
        }
        slotHolders.append([v])
        return slotHolders.count - 1
    }

    /// Every value's live interval, flat, in one array: the ranges of value v are
    /// `lower[k]...upper[k]` for k in `first[v]..<first[v + 1]`, increasing and disjoint. (An
    /// array of ranges per interval made the scan retain and release an array at each look;
    /// the scan reads them through a `View`, which retains nothing.)
    struct Intervals: Sendable {
        let valueCount: Int
        /// `first` (valueCount + 1), `lengths` (valueCount), then `lower` and `upper` (one per range).
        private var storage: [Int]

        /// The intervals made of `pieces`: ranges of values in the order they were found (each
        /// value's in increasing order), merged where one reaches the next.
        init(valueCount: Int, pieces: [(value: Int32, lower: Int32, upper: Int32)]) {
            self.valueCount = valueCount
            var counts = [Int](filled: 0, count: valueCount + 1)
            for piece in pieces { counts[Int(piece.value) + 1] += 1 }
            for v in 0..<valueCount { counts[v + 1] += counts[v] }
            var next = counts
            var sorted = [(lower: Int, upper: Int)](filled: (0, 0), count: pieces.count)
            for piece in pieces {
                let k = next[Int(piece.value)]
                sorted[k] = (Int(piece.lower), Int(piece.upper))
                next[Int(piece.value)] = k + 1
            }
            var first = [Int](filled: 0, count: valueCount + 1)
            var lengths = [Int](filled: 0, count: valueCount)
            var lower: [Int] = [], upper: [Int] = []
            lower.reserveCapacity(pieces.count)
            upper.reserveCapacity(pieces.count)
            for v in 0..<valueCount {
                first[v] = lower.count
                for k in counts[v]..<counts[v + 1] {
                    if lower.count > first[v], upper[upper.count - 1] + 1 >= sorted[k].lower {
                        upper[upper.count - 1] = max(upper[upper.count - 1], sorted[k].upper)
                    } else {
                        lower.append(sorted[k].lower)
                        upper.append(sorted[k].upper)
                    }
                }
                for k in first[v]..<lower.count { lengths[v] += upper[k] - lower[k] + 1 }
            }
            first[valueCount] = lower.count
            storage = first + lengths + lower + upper
        }

        /// Runs `body` with a view of the intervals.
        func withView<R>(_ body: (View) -> R) -> R {
            storage.withUnsafeBufferPointer { buffer in
                let rangeCount = (buffer.count - 2 * valueCount - 1) / 2
                return body(View(base: buffer.baseAddress!, valueCount: valueCount, rangeCount: rangeCount))
            }
        }

        /// The intervals, read in place.
        struct View {
            let first: UnsafePointer<Int>
            let lengths: UnsafePointer<Int>
            let lower: UnsafePointer<Int>
            let upper: UnsafePointer<Int>

            init(base: UnsafePointer<Int>, valueCount: Int, rangeCount: Int) {
                first = base
                lengths = base + valueCount + 1
                lower = lengths + valueCount
                upper = lower + rangeCount
            }

            @inline(__always) func indices(_ v: Int) -> Range<Int> { first[v]..<first[v + 1] }
            @inline(__always) func isEmpty(_ v: Int) -> Bool { first[v] == first[v + 1] }
            @inline(__always) func start(_ v: Int) -> Int { lower[first[v]] }
            @inline(__always) func end(_ v: Int) -> Int { upper[first[v + 1] - 1] }
            @inline(__always) func length(_ v: Int) -> Int { lengths[v] }

            /// Whether the intervals of `a` and `b`, `b`'s ranges widened by `margin` positions
            /// to the left where they start at an instruction's result (an odd position), share
            /// a position (with no margin, as `LiveInterval.overlaps`). A range starting at a
            /// block's start (a parameter, or a value live into the block) is not widened: what
            /// ends just before it ended in another block, and the edge's parallel move reads
            /// its sources before it writes.
            @inline(__always)
            func overlaps(_ a: Int, _ b: Int, margin: Int = 0) -> Bool {
                var i = first[a], j = first[b]
                let iEnd = first[a + 1], jEnd = first[b + 1]
                while i < iEnd && j < jEnd {
                    if upper[i] < lower[j] - (lower[j] & 1) * margin {
                        i += 1
                    } else if upper[j] < lower[i] {
                        j += 1
                    } else {
                        return true
                    }
                }
                return false
            }

            /// Removes from `held` the values whose intervals end before `position`.
            @inline(__always)
            func dropEnded(_ held: inout [Int], before position: Int) {
                var kept = 0
                for k in held.indices where end(held[k]) >= position {
                    held[kept] = held[k]
                    kept += 1
                }
                if kept < held.count { held.removeLast(held.count - kept) }
            }

            /// Whether `v` overlaps one of `held`.
            @inline(__always)
            func overlapsAny(_ held: [Int], _ v: Int) -> Bool { held.contains { overlaps($0, v) } }

            /// Whether `v` overlaps one of `held` with each side's ranges widened by one position
            /// where they start at a result.
            @inline(__always)
            func overlapsAnyWidened(_ held: [Int], _ v: Int) -> Bool {
                held.contains { overlaps($0, v, margin: 1) || overlaps(v, $0, margin: 1) }
            }
        }
    }

    /// The operand whose register `inst`'s result best shares: the first of a two-address
    /// operation (`binary`, `shift`, `imul`, one-operand operations, `floatArithmetic` in
    /// Lowering+Instructions).
    static func twoAddressOperand(_ f: Function, _ inst: Inst) -> Value? {
        switch f.insts[inst.id].opcode {
        case .iadd, .isub, .band, .bor, .bxor, .imul, .shl, .ushr, .sshr, .rotl, .rotr, .bnot, .ineg, .bswap, .bint,
            .fadd, .fsub, .fmul, .fdiv:
            return f.arg(inst, 0)
        default:
            return nil
        }
    }

    /// By block: how many natural loops contain it (`NaturalLoops`; 0 for unreachable blocks).
    public static func loopDepths(_ f: Function) -> [Int] {
        let cfg = ControlFlowGraph(f)
        return loopDepths(NaturalLoops(cfg, DominatorTree(cfg)), blockCount: f.blocks.count)
    }

    /// `loops`' depths, by block (all 0 when there are no loops).
    static func loopDepths(_ loops: NaturalLoops, blockCount: Int) -> [Int] {
        loops.loops.isEmpty ? [Int](filled: 0, count: blockCount) : loops.depths
    }
}
