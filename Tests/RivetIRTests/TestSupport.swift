import RivetIR

/// SplitMix64: a small deterministic generator for test inputs.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9e37_79b9_7f4a_7c15 &+ 0x1234_5678 }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    /// A number in `0..<n`.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Mapped guest memory in test environments: [memoryBase, memoryBase + memorySize).
let memoryBase: UInt64 = 0x1000
let memorySize: UInt64 = 0x400

/// Helpers every filetest and random function may declare, by name.
let helperLibrary: [String: HelperImplementation] = [
    "div": { _, a in .value(Semantics.evaluate(.sdiv, type: .i64, imm: 0, a[0], a[1], 0)!) },
    "mix": { _, a in .value(a[0] &* 31 ^ a[1]) },
    "bump": { env, _ in
        if !env.slots.isEmpty { env.slots[0] &+= 1 }
        return .none
    },
    "sum_state": { env, _ in .value(env.slots.reduce(0, &+)) },
    "poke": { env, a in env.memory.store(a[0], 8, a[1]) ? .none : .fault },
    "peek": { env, a in env.memory.load(a[0], 8).map { .value($0) } ?? .fault },
    "check": { _, a in a[0] == 0 ? .fault : .none },
]

/// A pseudo-random environment for `f`: slot values that are often small numbers or mapped
/// addresses, random memory contents.
func randomEnvironment(_ f: Function, seed: UInt64) -> Environment {
    var rng = TestRandom(seed: seed)
    var slots: [UInt64] = []
    for s in f.slots {
        var v: UInt64
        switch rng.below(5) {
        case 0: v = UInt64(rng.below(16))
        case 1: v = memoryBase + UInt64(rng.below(Int(memorySize) - 8))
        case 2: v = 0x3ff0_0000_0000_0000 | (rng.next() >> 16)
        case 3: v = 0xffff_ffff_0000_0000 | (rng.next() >> 32)  // a NaN-boxed single
        default: v = rng.next()
        }
        if s.type == .f32 { v &= 0xffff_ffff }
        if s.type == .b1 { v &= 1 }
        slots.append(v)
    }
    var memory = EvalMemory()
    memory.map(memoryBase, size: memorySize)
    var a = memoryBase
    while a < memoryBase + memorySize {
        _ = memory.store(a, 8, rng.chance(50) ? memoryBase + UInt64(rng.below(Int(memorySize))) : rng.next())
        a += 8
    }
    return Environment(slots: slots, memory: memory, helpers: helperLibrary)
}

/// Runs `before` and `after` in the same environments and returns a description of the first
/// difference in what they do (outcome, final guest state with exit updates applied, memory),
/// or nil. Runs where `before` hits the step limit are skipped.
func semanticDifference(_ before: Function, _ after: Function, seeds: Range<UInt64>, stepLimit: Int = 20_000) -> String? {
    for seed in seeds {
        var env1 = randomEnvironment(before, seed: seed)
        var env2 = env1
        let o1 = Evaluator.run(before, &env1, stepLimit: stepLimit)
        if o1 == .stepLimit { continue }
        let o2 = Evaluator.run(after, &env2, stepLimit: stepLimit * 4)
        // An entry guard the passes added failed: the lower tiers run the code (nothing ran).
        if case .deoptimized = o2 {
            let fresh = randomEnvironment(before, seed: seed)
            if env2.slots == fresh.slots && env2.memory == fresh.memory { continue }
        }
        if o1.withoutUpdates != o2.withoutUpdates { return "seed \(seed): outcome \(o1) before, \(o2) after" }
        for u in o1.updates { env1.slots[u.slot.id] = u.bits }
        for u in o2.updates { env2.slots[u.slot.id] = u.bits }
        if env1.slots != env2.slots {
            return "seed \(seed): outcome \(o1); guest state \(env1.slots.map { String($0, radix: 16) }) before, \(env2.slots.map { String($0, radix: 16) }) after (\(o2))"
        }
        if env1.memory != env2.memory { return "seed \(seed): memory differs (outcome \(o1))" }
    }
    return nil
}
