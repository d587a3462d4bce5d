import RivetJIT
import Testing

/// The run loop's pc → translation index against a Dictionary, under random inserts,
/// replacements and removals (backward-shift deletion is easy to get subtly wrong), with pcs
/// chosen to collide: many share a home slot, and the table grows several times.
@Suite struct PCIndexTests {
    @Test(arguments: [1, 2, 3])
    func matchesADictionary(seed: UInt64) {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        var index = PCIndex(capacity: 8)
        var reference: [UInt64: PCIndex.Entry] = [:]
        // Even pcs from a small range, so probe runs are long and wrap around the table.
        func pc() -> UInt64 { 0x10000 + 2 * (next() % 3000) }
        for step in 0..<60_000 {
            let key = pc()
            switch next() % 3 {
            case 0, 1:
                let entry = PCIndex.Entry(
                    id: Int32(next() % 1_000_000), instructions: UInt32(next() % 64), hostEntry: UInt(next() >> 16))
                index.set(key, entry)
                reference[key] = entry
            default:
                index.remove(key)
                reference[key] = nil
            }
            if step % 1000 == 0 {
                for probe in stride(from: UInt64(0x10000), to: 0x10000 + 6000, by: 2) {
                    #expect(index.find(probe) == reference[probe], "pc 0x\(String(probe, radix: 16)) at step \(step)")
                }
            }
            #expect(index.find(key) == reference[key])
        }
        #expect(index.count == reference.count)
        for (key, entry) in reference { #expect(index.find(key) == entry) }
        #expect(index.find(PCIndex.empty) == nil)
        index.remove(PCIndex.empty)
        #expect(index.count == reference.count)
    }
}
