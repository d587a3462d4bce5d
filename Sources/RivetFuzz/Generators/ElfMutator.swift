/// A small deterministic generator (SplitMix64), the one the loader fuzz test has always used:
/// its seeds name the same mutations on every host.
package struct SplitMix64 {
    /// The generator's state; any value is a valid seed.
    package var state: UInt64

    /// A generator seeded with `state`.
    package init(state: UInt64) { self.state = state }

    /// The next 64 random bits.
    package mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in `0..<n`.
    package mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Corrupts ELF files: headers (where the loader's decisions are), segments, code and data.
package enum ElfMutator {
    /// Bytes of the ELF header and of the first eight program headers, where most mutations go.
    static let headerBytes = 64 + 56 * 8

    /// Mutates the headers most of the time (where the loader's decisions are), sometimes
    /// anywhere, sometimes by truncation.
    /// - Parameters:
    ///   - bytes: an ELF file.
    ///   - g: the source of randomness; advanced.
    /// - Returns: the mutated file (possibly empty, when truncated to nothing).
    package static func mutate(_ bytes: [UInt8], _ g: inout SplitMix64) -> [UInt8] {
        var out = bytes
        guard !out.isEmpty else { return out }
        switch g.below(6) {
        case 0:
            out = Array(out.prefix(g.below(out.count)))
        case 1:
            // Write an extreme value into a random 8-byte field of the ELF or program headers.
            let values: [UInt64] = [0, 1, 0xfff, 0x1000, 1 << 38, (1 << 38) - 1, 1 << 63, .max, .max - 0xfff, 0x7fff_ffff]
            let offset = g.below(headerBytes - 8)
            let value = values[g.below(values.count)]
            for k in 0..<8 where offset + k < out.count { out[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        case 2:
            for _ in 0..<(1 + g.below(8)) {
                let offset = g.below(min(out.count, headerBytes))
                out[offset] ^= UInt8(truncatingIfNeeded: g.next() | 1)
            }
        case 3:
            // Make two PT_LOAD segments overlap, or point one past the end of the file.
            let phoff = 64
            let k = g.below(4)
            let base = phoff + 56 * k
            if base + 56 <= out.count {
                out[base + 16 + g.below(3)] = UInt8(truncatingIfNeeded: g.next())
                out[base + 8 + g.below(4)] = UInt8(truncatingIfNeeded: g.next())
            }
        default:
            for _ in 0..<(1 + g.below(16)) {
                let offset = g.below(out.count)
                out[offset] = UInt8(truncatingIfNeeded: g.next())
            }
        }
        return out
    }

    /// Overwrites `count` random bytes at file offsets in `range` (clamped to the file), leaving
    /// the headers alone: the program loads, then meets corrupted code or data.
    package static func corrupt(_ bytes: [UInt8], in range: Range<Int>, count: Int, _ g: inout SplitMix64) -> [UInt8] {
        var out = bytes
        let low = max(0, min(range.lowerBound, out.count))
        let high = max(low, min(range.upperBound, out.count))
        guard high > low else { return out }
        for _ in 0..<count {
            let offset = low + g.below(high - low)
            if g.below(2) == 0 {
                out[offset] = UInt8(truncatingIfNeeded: g.next())
            } else {
                out[offset] ^= UInt8(1) << UInt8(g.below(8))
            }
        }
        return out
    }

    /// The file offset that holds the entry point's code, from the first PT_LOAD segment that
    /// maps it; nil when the headers do not say (a truncated or corrupt file).
    package static func entryFileOffset(_ bytes: [UInt8]) -> Int? {
        func field(_ at: Int, _ size: Int) -> UInt64? {
            guard at >= 0, at + size <= bytes.count else { return nil }
            var value: UInt64 = 0
            for k in 0..<size { value |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            return value
        }
        guard bytes.count >= 64, bytes[0] == 0x7f, let entry = field(24, 8), let phoff = field(32, 8),
            let phnum = field(56, 2), phoff < UInt64(bytes.count)
        else { return nil }
        for k in 0..<Int(min(phnum, 64)) {
            let header = Int(phoff) + 56 * k
            guard let type = field(header, 4), let offset = field(header + 8, 8), let address = field(header + 16, 8),
                let fileSize = field(header + 32, 8)
            else { return nil }
            if type == 1, entry >= address, entry &- address < fileSize {
                let at = offset &+ (entry &- address)
                return at < UInt64(bytes.count) ? Int(at) : nil
            }
        }
        return nil
    }
}
