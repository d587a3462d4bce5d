/// Which translations the bounded code cache evicts first when it needs room
/// (DESIGN.md decision 6). Eviction is piece by piece: victims leave one at a time until the new
/// code fits, never the whole cache.
package enum EvictionPolicy: String, Sendable, CaseIterable {
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

    /// Takes a sample: which translations ran since the last one, and how much.
    mutating func sample(_ cache: TranslationCache) {
        epoch += 1
        for t in cache.all {
            let count = cache.counters[t.id]
            let delta = count &- t.sampledCount
            t.sampledCount = count
            if delta != 0 { t.lastActiveEpoch = epoch }
            t.recentInstructions = t.recentInstructions / 2 + Double(delta)
        }
    }

    /// The live translations, the first to evict first.
    func victims(_ cache: TranslationCache, policy: EvictionPolicy) -> [Translation] {
        let all = cache.all
        switch policy {
        case .lru:
            return all.sorted { ($0.lastActiveEpoch, $0.recentInstructions) < ($1.lastActiveEpoch, $1.recentInstructions) }
        case .lfu:
            return all.sorted { ($0.recentInstructions, $0.lastActiveEpoch) < ($1.recentInstructions, $1.lastActiveEpoch) }
        case .flush:
            return all
        case .value:
            func value(_ t: Translation) -> Double {
                Double(t.compileNanoseconds + 1) * (t.recentInstructions + 1) / Double(t.hostLength)
            }
            return all.sorted { value($0) < value($1) }
        }
    }
}
