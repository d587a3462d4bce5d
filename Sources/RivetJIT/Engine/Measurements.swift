import RivetMachine

/// The JIT's inner costs, reachable by the microbenchmarks (Benchmarks/RivetBenchmarks) without
/// a guest program around them.
public enum JITMeasurements {
    /// Decodes and compiles the blocks at `pcs` once each, as the worker threads do (without
    /// installing them). Returns the host code bytes and guest instructions compiled.
    public static func compile(blocksAt pcs: [UInt64], memory: GuestMemory) -> (bytes: Int, instructions: Int) {
        var compiler = BlockCompiler()
        var bytes = 0
        var instructions = 0
        for (k, pc) in pcs.enumerated() {
            guard let request = GuestCode.request(at: pc, id: k + 1, memory: memory, requested: 0, priority: 1),
                let block = compiler.compile(request)
            else { continue }
            bytes += block.code.count
            instructions += request.block.count
        }
        return (bytes, instructions)
    }

    /// A code cache holding translations of the blocks at `pcs`, for measuring lookups,
    /// insertions and removals.
    public final class CodeCacheProbe {
        private let memory: GuestMemory
        private let cache: TranslationCache
        private let runtime: JITRuntime
        private var blocks: [CompiledBlock] = []
        private var compiler = BlockCompiler()

        /// Compiles the blocks at `pcs` into a fresh cache of `cacheSize` bytes.
        public init?(memory: GuestMemory, pcs: [UInt64], cacheSize: Int = 16 << 20) {
            self.memory = memory
            cache = TranslationCache(region: CodeRegion(size: cacheSize), memory: memory)
            guard let runtime = try? JITRuntime(cache: cache, memory: memory) else { return nil }
            self.runtime = runtime
            for pc in pcs {
                guard let id = cache.reserveID(),
                    let request = GuestCode.request(at: pc, id: id, memory: memory, requested: 0, priority: 1),
                    let block = compiler.compile(request)
                else { continue }
                blocks.append(block)
            }
            for block in blocks { _ = install(block) }
        }

        private func install(_ block: CompiledBlock) -> Translation? {
            let lengths = JITRuntime.lengths(of: block)
            guard let offsets = cache.region.allocate(hot: lengths.hot, cold: lengths.cold) else { return nil }
            let t = runtime.place(block, at: offsets)
            cache.insert(t)
            return t
        }

        /// Translations in the cache.
        public var count: Int { cache.count }

        /// Looks up `pc` as the run loop does; true on a hit.
        @inline(never)
        public func lookup(_ pc: UInt64) -> Bool { cache.lookup(pc) != nil }

        /// Removes the translation of block `index` and installs it again (eviction and
        /// insertion, with the code copied and the jump cache and indexes updated).
        public func replace(_ index: Int) {
            let block = blocks[index % blocks.count]
            if let t = cache.lookup(block.request.pc) { cache.evict(t) }
            _ = install(block)
        }

        /// Sets the jump-cache entry of every translation, then probes them: the lookup JIT code
        /// does inline for an indirect jump. Returns the hits.
        public func probeJumpCache(_ pcs: [UInt64]) -> Int {
            let table = cache.jumpCache.table
            var hits = 0
            for pc in pcs {
                let i = JumpCache.index(pc)
                if table[2 * i] == pc, table[2 * i + 1] != 0 { hits += 1 }
            }
            return hits
        }

        /// Fills the jump cache with every translation's entry.
        public func fillJumpCache() {
            for t in cache.all { cache.jumpCache.set(pc: t.guestPC, entry: cache.entry(t)) }
        }
    }
}
