/// Which translations the bounded code cache evicts first when it needs room
/// (DESIGN.md decision 6). Eviction is piece by piece: victims leave one at a time until the new
/// code fits, never the whole cache.
public enum EvictionPolicy: String, Sendable, CaseIterable {
    /// Least recently used: the translation whose counter stopped moving longest ago.
    case lru
    /// Least frequently used: the lowest recent instruction count (decayed at every sample).
    case lfu
    /// Lowest value: compile cost × recent reuse / code size. Cheap, big, idle code goes first.
    case value
    /// Not a policy to use: empties the whole cache when it is full, as simple JITs do; kept
    /// to measure what evicting piece by piece saves.
    case flush
}

/// Samples the translations' execution counters into usage figures the policies rank by.
struct UsageTracker {
    private(set) var epoch: UInt64 = 0

    /// Takes a sample: which translations ran since the last one, and how much. `underPressure`:
    /// the code cache evicted code (now or before), and blocks that count on demand count.
    mutating func sample(_ cache: TranslationCache, underPressure: Bool) {
        epoch += 1
        let epoch = epoch
        cache.forEachLive { t in
            let count = cache.count(t.id)
            let delta = count &- t.sampledCount
            t.sampledCount = count
            if delta != 0 { t.lastActiveEpoch = epoch }
            t.recentInstructions = t.recentInstructions / 2 + Double(delta)
            // A block that stopped counting ran often since it started (again): it counts
            // again now, so that the next sample shows whether it still runs. One that counts
            // on demand, only while the cache is under pressure: entered at its counting entry,
            // each run takes a jump more, and its code another cache line, until it ran
            // `countingLimit` times.
            if t.counterStopped, t.countingEntry == 0 || underPressure { cache.resumeCounting(t) }
        }
    }

    /// Evicts live translations in the policy's order, the first to go first, until `done`
    /// says enough — or all of them under `flush`. Ranked lazily on plain keys in a binary heap:
    /// an episode that evicts k of n translations costs O(n + k log n) and no reference
    /// counting, not a full sort.
    func evict(from cache: TranslationCache, policy: EvictionPolicy, until done: () -> Bool) {
        if policy == .flush {
            cache.forEachLive { cache.evict($0) }
            return
        }
        typealias Key = (primary: Double, secondary: Double, id: Int32)
        var heap: [Key] = []
        heap.reserveCapacity(cache.count)
        cache.forEachLive { t in
            let id = Int32(truncatingIfNeeded: t.id)
            switch policy {
            case .lru: heap.append((Double(t.lastActiveEpoch), t.recentInstructions, id))
            case .lfu: heap.append((t.recentInstructions, Double(t.lastActiveEpoch), id))
            case .value:
                let value = Double(t.compileNanoseconds + 1) * (t.recentInstructions + 1) / Double(t.regionBytes)
                heap.append((value, 0, id))
            case .flush: break
            }
        }
        func less(_ a: Key, _ b: Key) -> Bool { (a.primary, a.secondary, a.id) < (b.primary, b.secondary, b.id) }
        func siftDown(_ start: Int, _ count: Int) {
            var i = start
            while true {
                let left = 2 * i + 1
                guard left < count else { return }
                var smallest = left
                if left + 1 < count, less(heap[left + 1], heap[left]) { smallest = left + 1 }
                guard less(heap[smallest], heap[i]) else { return }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        var count = heap.count
        for i in stride(from: count / 2 - 1, through: 0, by: -1) { siftDown(i, count) }
        while count > 0, !done() {
            if let t = cache.translation(id: Int(heap[0].id)) { cache.evict(t) }
            count -= 1
            heap.swapAt(0, count)
            siftDown(0, count)
        }
    }
}
