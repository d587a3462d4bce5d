#if canImport(Glibc)
import Glibc
#endif
import RivetInterpreter
import RivetJIT
import RivetLinux
import RivetMachine

extension VirtualMachine {
    /// Statistics of the run so far.
    public var statistics: Statistics {
        var calls: [String: UInt64] = [:]
        for (number, count) in process.syscallCounts { calls[SyscallNames.name(number), default: 0] += count }
        var s = Statistics(instructions: instructionsRetired.load(ordering: .relaxed), wallTime: wallTime, syscalls: calls)
        s.time = timeKeeper.breakdown(
            run: wallTime, backgroundCompile: engine.backgroundCompileNanoseconds, workers: engine.queueStatistics?.workers ?? 0)
        let e = engine.statistics
        var interp = Statistics.Tier(name: "interp")
        interp.blocks = interpreter.decodedBlocks
        interp.instructions = e.interpretedInstructions
        s.tiers = [interp]
        if engine.mode != .interpreter {
            var baseline = Statistics.Tier(name: "baseline")
            baseline.blocks = UInt64(engine.translationCount)
            baseline.compiles = e.translatedBlocks
            baseline.compileTime = .nanoseconds(Int64(e.compileNanoseconds))
            baseline.meanCompileMicroseconds = e.meanCompileMicroseconds
            baseline.p99CompileMicroseconds = e.compilePercentile(99)
            baseline.codeBytes = e.codeBytes
            let optimizedInstructions = min(e.jitInstructions, engine.optimizedInstructionsExecuted)
            baseline.instructions = e.jitInstructions - optimizedInstructions
            s.tiers.append(baseline)
            if engine.mode == .auto || engine.mode == .optimizing {
                var opt = Statistics.Tier(name: "opt")
                opt.blocks = UInt64(engine.optimizedRegionCount)
                opt.compiles = e.optimizedRegions
                opt.compileTime = .nanoseconds(Int64(e.optimizedCompileNanoseconds))
                opt.meanCompileMicroseconds = e.meanOptimizingMicroseconds
                opt.p99CompileMicroseconds = e.compilePercentile(99, optimizing: true)
                opt.codeBytes = e.optimizedCodeBytes
                opt.instructions = optimizedInstructions
                s.tiers.append(opt)
                s.optimizing = Statistics.Optimizing(
                    requests: e.optimizeRequests, failures: e.optimizeFailures, partialRegions: e.partialRegions,
                    guardFailures: e.guardFailures, demotedRegions: e.demotedRegions,
                    thrashingRegions: e.thrashingRegions, exits: engine.optimizedExits,
                    guestInstructions: e.optimizedInstructions, irInstructionsBefore: e.optimizedIRBefore,
                    irInstructionsAfter: e.optimizedIRAfter)
            }
        }
        if let q = engine.queueStatistics {
            s.compileThreads = q.workers
            s.queueMaxLength = q.maxLength
            s.queueMeanWaitMicroseconds = q.meanWaitMicroseconds
        }
        s.queuedRequests = e.queued
        s.guestThreadCompiles = e.guestThreadCompiles
        s.compiledForChildren = e.compiledForChildren
        s.decodedForChildren = e.decodedForChildren
        s.guestThreadCompileTime = .nanoseconds(Int64(clamping: e.guestThreadCompileNanoseconds))
        s.mergedRequests = e.mergedRequests
        s.failedCompiles = e.failedCompiles
        s.staleCompiles = e.staleCompiles
        s.timedOutCompiles = e.timedOutCompiles
        s.threshold = engine.currentThreshold
        s.codeCacheSize = engine.codeCacheSize
        s.codeCacheUsed = engine.codeCacheUsed
        s.cacheHits = e.lookupHits
        s.cacheMisses = e.lookupMisses
        s.evictions = engine.evictions
        s.evictionEpisodes = e.evictionEpisodes
        s.invalidations = engine.invalidations
        s.codePagesKeptAtExec = codePagesKeptAtExec
        s.deopts = e.deopts
        s.backoffs = e.backoffs
        s.exitsToRunLoop = e.jitEntries
        let entries = engine.blockEntries
        s.chainedTransfers = entries &- min(entries, e.jitEntries)
        s.indirectJumps = hart.slots[HartState.Slot.indirectJumps]
        s.jumpCacheHits = s.indirectJumps &- min(s.indirectJumps, e.exits[3])
        s.exitsByKind = engine.exitsByKind
        s.compiledCodeFaults = e.hostFaults
        s.codeWriteFaults = e.codeWriteFaults
        s.hottestBlocks = hottestBlocks(total: max(1, instructionsRetired.load(ordering: .relaxed)))
        s.countingLimit = engine.countingLimit
        s.countingStops = engine.countingStops
        s.structures =
            [
                Statistics.Structure(
                    name: "guest memory", entries: memory.map.count, bytes: Int(memory.mappedBytes),
                    limit: Int(memory.limit), bound: "bytes", dropped: 0)
            ]
            + engine.structures.map {
                Statistics.Structure(
                    name: $0.name, entries: $0.entries, bytes: $0.bytes, limit: $0.limit, bound: $0.bound, dropped: $0.dropped)
            }
        s.peakHostMemory = Self.peakResidentBytes()
        return s
    }

    /// The host process's peak resident memory (VmHWM in /proc/self/status), in bytes.
    static func peakResidentBytes() -> Int {
        let fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 8192)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { return 0 }
        for line in String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.dropFirst(6).filter { $0.isNumber }
            return (Int(String(digits)) ?? 0) * 1024
        }
        return 0
    }

    /// The ten blocks with the most executed instructions, across tiers.
    private func hottestBlocks(total: UInt64) -> [Statistics.HotBlock] {
        var interpreted: [UInt64: UInt64] = [:]
        for b in interpreter.retiredInstructionsByBlock() {
            interpreted[b.pc, default: 0] &+= b.instructions
        }
        let compiled = engine.compiledInstructionsByPC()
        let regions = engine.optimizedRegionsByPC()
        let lowerBounds = engine.lowerBoundPCs()
        var totals = interpreted
        for (pc, n) in compiled { totals[pc, default: 0] &+= n }
        return totals.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(10).map { pc, n in
            var name: String? = nil
            if let (symbol, offset) = program.symbol(containing: pc), offset < max(symbol.size, 1) {
                name = offset == 0 ? symbol.name : "\(symbol.name)+0x\(String(offset, radix: 16))"
            }
            // Compiled code runs the block's instructions: tier 2's if most of them ran there.
            let jit = compiled[pc] ?? 0
            let region = regions[pc]
            let inRegion = region?.instructions ?? 0
            let tier = jit < (interpreted[pc] ?? 0) ? "interp" : inRegion > 0 && inRegion &* 2 >= jit ? "opt" : "baseline"
            var block = Statistics.HotBlock(address: pc, symbol: name, tier: tier, instructions: n, share: Double(n) / Double(total))
            block.isLowerBound = lowerBounds.contains(pc)
            if tier == "opt", let region {
                block.regionEntries = region.entries
                block.regionInstructions = region.instructions
            }
            return block
        }
    }
}
