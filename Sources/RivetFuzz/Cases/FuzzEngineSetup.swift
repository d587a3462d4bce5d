import Rivet

/// The engine set-up a case's compiled tiers run with, drawn per case so that long runs meet
/// small code caches, every eviction policy and compiling on the guest's thread.
package struct FuzzEngineSetup: Sendable, Equatable {
    /// `Configuration.codeCacheBytes`.
    package var codeCacheBytes: Int
    /// `Configuration.compileThreads` (0: compile on the guest's thread).
    package var compileThreads: Int
    /// `Configuration.cachePolicy`.
    package var cachePolicy: CachePolicy

    /// A set-up with the given code cache, compile threads and eviction policy.
    package init(codeCacheBytes: Int = 16 << 20, compileThreads: Int = 1, cachePolicy: CachePolicy = .lru) {
        self.codeCacheBytes = codeCacheBytes
        self.compileThreads = compileThreads
        self.cachePolicy = cachePolicy
    }

    /// `code cache 64 KiB, 1 compile thread, lru`.
    package var description: String {
        let cache = codeCacheBytes >= 1 << 20 ? "\(codeCacheBytes >> 20) MiB" : "\(codeCacheBytes >> 10) KiB"
        let threads = compileThreads == 1 ? "1 compile thread" : "\(compileThreads) compile threads"
        return "code cache \(cache), \(threads), \(cachePolicy.rawValue)"
    }
}
