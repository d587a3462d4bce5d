/// What the engine did, for `--stats`.
public struct EngineStatistics: Sendable {
    /// Blocks translated by the baseline JIT.
    public var translatedBlocks: UInt64 = 0
    /// Guest instructions in those blocks.
    public var translatedInstructions: UInt64 = 0
    /// Host code bytes emitted.
    public var codeBytes: UInt64 = 0
    /// Total translation time (the compiler's alone, as the code cache's eviction weighs it).
    public var compileNanoseconds: UInt64 = 0
    /// Compiles made on the guest thread (`Engine.compileNow`), and their whole time: decoding
    /// the block, compiling it and installing the code (placing it, the cache's indexes, the
    /// page faults of both), about twice `compileNanoseconds` for tier 1.
    public var guestThreadCompiles: UInt64 = 0
    public var guestThreadCompileNanoseconds: UInt64 = 0
    /// Translation times in 0.25 µs buckets up to 4 ms (the last bucket holds longer ones),
    /// for percentiles in fixed memory however long the run.
    public var compileHistogram = [UInt32](repeating: 0, count: 16_000)
    /// Translations that failed (the block stayed in the interpreter).
    public var failedCompiles: UInt64 = 0
    /// Blocks compiled, and blocks decoded, because forked children reported doing so
    /// (`ChildReports`).
    public var compiledForChildren: UInt64 = 0
    public var decodedForChildren: UInt64 = 0
    /// Instructions executed by the interpreter and by JIT code.
    public var interpretedInstructions: UInt64 = 0
    public var jitInstructions: UInt64 = 0
    /// Calls from the run loop into JIT code.
    public var jitEntries: UInt64 = 0
    /// Exits from JIT code to the run loop, by `ExitKind`.
    public var exits = [UInt64](repeating: 0, count: 16)
    /// Block entries of translations no longer in the cache.
    public var removedEntries: UInt64 = 0
    /// Faults in JIT code, and those that were writes to translated code.
    public var hostFaults: UInt64 = 0
    public var codeWriteFaults: UInt64 = 0

    /// Run-loop lookups of a pc that found a translation, and that did not.
    public var lookupHits: UInt64 = 0
    public var lookupMisses: UInt64 = 0
    /// Translations dropped because their code changed (deoptimizations), and tier-up requests
    /// held back because their block keeps being invalidated.
    public var deopts: UInt64 = 0
    public var backoffs: UInt64 = 0
    /// Requests queued, merged into one already waiting, and compiles dropped at install
    /// because the guest code had changed meanwhile.
    public var queued: UInt64 = 0
    public var mergedRequests: UInt64 = 0
    /// Tier-up requests refused because the compile queue was full.
    public var refusedRequests: UInt64 = 0
    public var staleCompiles: UInt64 = 0
    /// Compiles discarded because they took longer than the engine's time limit.
    public var timedOutCompiles: UInt64 = 0
    /// Times the code cache was full and evicted to make room.
    public var evictionEpisodes: UInt64 = 0
    /// Adjustments of the adaptive threshold.
    public var thresholdChanges: UInt64 = 0
    /// Decays of the hotness counts.
    public var decays: UInt64 = 0

    // The optimizing tier (tier 2).
    /// Regions compiled and installed, the guest instructions they cover, their host code bytes.
    public var optimizedRegions: UInt64 = 0
    public var optimizedInstructions: UInt64 = 0
    public var optimizedCodeBytes: UInt64 = 0
    /// IR instructions of the regions before and after the passes.
    public var optimizedIRBefore: UInt64 = 0
    public var optimizedIRAfter: UInt64 = 0
    /// Compile time of the installed regions, and its histogram (as `compileHistogram`, in
    /// buckets of `optimizedBucketNanoseconds`: regions take milliseconds, up to the 50 ms a
    /// compile may take).
    public var optimizedCompileNanoseconds: UInt64 = 0
    static let optimizedBucketNanoseconds: UInt64 = 4_000
    public var optimizedCompileHistogram = [UInt32](repeating: 0, count: 16_000)
    /// Requests sent to the optimizing tier's queue; compiles it could not do (the region's
    /// first instruction or something in it not supported); regions dropped because they
    /// stopped before the block's end.
    public var optimizeRequests: UInt64 = 0
    public var optimizeFailures: UInt64 = 0
    public var partialRegions: UInt64 = 0
    /// Regions removed because their entry guard failed (`frm` not `rne`): deoptimizations.
    public var guardFailures: UInt64 = 0
    /// Regions removed because they were left every few instructions (`demoteLosingRegions`).
    public var demotedRegions: UInt64 = 0
    /// `--tier opt`: compiles the baseline did because the pc backs off (its region was
    /// evicted, or deoptimized: a code cache too small for the regions' working set thrashes).
    public var thrashingRegions: UInt64 = 0
    /// Instructions executed in tier-2 regions no longer cached.
    public var removedOptimizedInstructions: UInt64 = 0
    /// Exits from tier-2 regions no longer in the cache.
    public var removedOptimizedExits: UInt64 = 0

    /// Adds another hart's counts.
    mutating func add(_ o: EngineStatistics) {
        translatedBlocks += o.translatedBlocks
        translatedInstructions += o.translatedInstructions
        codeBytes += o.codeBytes
        compileNanoseconds += o.compileNanoseconds
        guestThreadCompiles += o.guestThreadCompiles
        guestThreadCompileNanoseconds += o.guestThreadCompileNanoseconds
        for k in compileHistogram.indices where o.compileHistogram[k] != 0 { compileHistogram[k] &+= o.compileHistogram[k] }
        failedCompiles += o.failedCompiles
        interpretedInstructions &+= o.interpretedInstructions
        jitInstructions &+= o.jitInstructions
        jitEntries += o.jitEntries
        for k in exits.indices { exits[k] += o.exits[k] }
        removedEntries &+= o.removedEntries
        hostFaults += o.hostFaults
        codeWriteFaults += o.codeWriteFaults
        lookupHits += o.lookupHits
        lookupMisses += o.lookupMisses
        deopts += o.deopts
        backoffs += o.backoffs
        queued += o.queued
        mergedRequests += o.mergedRequests
        compiledForChildren += o.compiledForChildren
        decodedForChildren += o.decodedForChildren
        refusedRequests += o.refusedRequests
        staleCompiles += o.staleCompiles
        timedOutCompiles += o.timedOutCompiles
        evictionEpisodes += o.evictionEpisodes
        thresholdChanges += o.thresholdChanges
        decays += o.decays
        optimizedRegions += o.optimizedRegions
        optimizedInstructions += o.optimizedInstructions
        optimizedCodeBytes += o.optimizedCodeBytes
        optimizedIRBefore += o.optimizedIRBefore
        optimizedIRAfter += o.optimizedIRAfter
        optimizedCompileNanoseconds += o.optimizedCompileNanoseconds
        for k in optimizedCompileHistogram.indices where o.optimizedCompileHistogram[k] != 0 {
            optimizedCompileHistogram[k] &+= o.optimizedCompileHistogram[k]
        }
        optimizeRequests += o.optimizeRequests
        optimizeFailures += o.optimizeFailures
        partialRegions += o.partialRegions
        guardFailures += o.guardFailures
        demotedRegions += o.demotedRegions
        thrashingRegions += o.thrashingRegions
        removedOptimizedInstructions &+= o.removedOptimizedInstructions
        removedOptimizedExits &+= o.removedOptimizedExits
    }

    mutating func recordCompile(_ t: Translation) {
        let ns = t.compileNanoseconds
        if let optimized = t.optimized {
            optimizedRegions += 1
            optimizedInstructions += UInt64(optimized.pcs.count)  // every block's, callees' too
            optimizedCodeBytes += UInt64(t.regionBytes)
            optimizedIRBefore += UInt64(optimized.irInstructions.before)
            optimizedIRAfter += UInt64(optimized.irInstructions.after)
            optimizedCompileNanoseconds += ns
            optimizedCompileHistogram[min(Int(ns / Self.optimizedBucketNanoseconds), optimizedCompileHistogram.count - 1)] &+= 1
            return
        }
        translatedBlocks += 1
        translatedInstructions += UInt64(t.instructionCount)
        codeBytes += UInt64(t.regionBytes)
        compileNanoseconds += ns
        compileHistogram[min(Int(ns / 250), compileHistogram.count - 1)] &+= 1
    }

    /// Mean translation time per block, in microseconds.
    public var meanCompileMicroseconds: Double {
        translatedBlocks == 0 ? 0 : Double(compileNanoseconds) / Double(translatedBlocks) / 1000
    }

    /// Mean tier-2 compile time per region, in microseconds.
    public var meanOptimizingMicroseconds: Double {
        optimizedRegions == 0 ? 0 : Double(optimizedCompileNanoseconds) / Double(optimizedRegions) / 1000
    }

    /// The p-th percentile (0...100) of translation times (tier 2's with `optimizing`), in
    /// microseconds (to 0.25 µs; tier 2's to 4 µs).
    public func compilePercentile(_ p: Double, optimizing: Bool = false) -> Double {
        let compileHistogram = optimizing ? optimizedCompileHistogram : compileHistogram
        let width = optimizing ? Double(Self.optimizedBucketNanoseconds) / 1000 : 0.25
        let total = compileHistogram.reduce(UInt64(0)) { $0 + UInt64($1) }
        guard total > 0 else { return 0 }
        let rank = UInt64((p / 100 * Double(total - 1)).rounded()) + 1
        var seen: UInt64 = 0
        for (bucket, count) in compileHistogram.enumerated() {
            seen += UInt64(count)
            if seen >= rank { return Double(bucket + 1) * width }
        }
        return Double(compileHistogram.count) * width
    }
}
