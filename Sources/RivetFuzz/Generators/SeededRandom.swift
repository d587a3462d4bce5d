/// A small deterministic generator (xoshiro256**, seeded through SplitMix64), so a seed names
/// the same sequences on every host and Swift version.
package struct SeededRandom {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence follows from `seed`.
    package init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9e37_79b9_7f4a_7c15
            var z = x
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// A number in `0..<n`.
    package mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// A number in `range`.
    package mutating func inRange(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }
    /// True `percent` times in a hundred.
    package mutating func percent(_ percent: Int) -> Bool { below(100) < percent }
    /// One of `items` (which must not be empty).
    package mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}
