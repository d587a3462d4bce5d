#if Benchmarks
import Benchmark
import RivetISA
import RivetInterpreter
import RivetJIT
import RivetMachine

/// The JIT's inner costs, on the blocks of the interpreter suite's guest loops (GuestLoop):
///
/// - `JIT:tier1_compile_per_block`: decode and compile every block of the four loops; the
///   custom metric is nanoseconds of CPU per block (the worker threads' cost per compile).
/// - `JIT:code_cache_lookup`: the run loop's lookup of a guest pc among the translations
///   (1,000 lookups of pcs that hit and pcs that miss).
/// - `JIT:code_cache_replace`: evicting a translation and installing it again (code copied,
///   indexes and page tracking updated).
/// - `JIT:jump_cache_hit`: the probe JIT code does inline for an indirect jump, on a warm cache.
/// - `JIT:call_return_loop`: the call/return loop run by the engine in `baseline`: calls chain,
///   returns go through the jump cache; guest MIPS next to the interpreter's figure.
func registerJITBenchmarks() {
    let loops = GuestLoop.all()
    let blocks = loops.map { ($0.memory, JITBlocks.starts(of: $0)) }
    let perBlock = BenchmarkMetric.custom("ns per block", polarity: .prefersSmaller, useScalingFactor: false)
    Benchmark("JIT:tier1_compile_per_block", configuration: Suite.configuration(metrics: [Suite.cpuTime, perBlock])) {
        benchmark in
        let start = Fixtures.threadCPUNanoseconds()
        var count = 0
        for (memory, pcs) in blocks {
            count += pcs.count
            blackHole(JITMeasurements.compile(blocksAt: pcs, memory: memory))
        }
        let elapsed = max(1, Fixtures.threadCPUNanoseconds() - start)
        benchmark.measurement(Suite.cpuTime, elapsed)
        benchmark.measurement(perBlock, elapsed / max(1, count))
    }

    let (memory, pcs) = blocks[0]
    guard let probe = JITMeasurements.CodeCacheProbe(memory: memory, pcs: pcs) else { return }
    let lookups = (0..<1000).map { k in k % 4 == 3 ? UInt64(0x5_0000 + 2 * k) : pcs[k % pcs.count] }
    Benchmark("JIT:code_cache_lookup", configuration: Suite.configuration(metrics: [Suite.cpuTime])) { benchmark in
        Suite.measure(benchmark) {
            var hits = 0
            for pc in lookups where probe.lookup(pc) { hits += 1 }
            return hits
        }
    }
    Benchmark("JIT:code_cache_replace", configuration: Suite.configuration(metrics: [Suite.cpuTime])) { benchmark in
        Suite.measure(benchmark) {
            for k in 0..<100 { probe.replace(k) }
            return probe.count
        }
    }
    probe.fillJumpCache()
    Benchmark("JIT:jump_cache_hit", configuration: Suite.configuration(metrics: [Suite.cpuTime])) { benchmark in
        Suite.measure(benchmark) { (0..<100).reduce(0) { total, _ in total + probe.probeJumpCache(lookups) } }
    }

    let calls = GuestLoop.calls()
    if let engine = try? Engine(interpreter: calls.interpreter, configuration: JITBlocks.baseline) {
        Benchmark(
            "JIT:call_return_loop",
            configuration: Suite.configuration(metrics: [.wallClock, Suite.cpuTime, Suite.guestMIPS], iterations: 50)
        ) { benchmark in
            Suite.measure(benchmark, rate: Suite.guestMIPS) { Int(JITBlocks.run(calls, engine)) }
        }
    }
}

enum JITBlocks {
    static var baseline: EngineConfiguration {
        var c = EngineConfiguration()
        c.mode = .baseline
        return c
    }

    /// The pcs that start blocks in a guest loop's code: its entry, and the instruction after
    /// each control transfer.
    static func starts(of loop: GuestLoop) -> [UInt64] {
        var starts: [UInt64] = [GuestLoop.codeBase]
        var pc = GuestLoop.codeBase
        while loop.memory.permissions(at: pc).contains(.execute), pc < GuestLoop.codeBase + 0x1000 {
            let low = loop.memory.host(pc).loadUnaligned(as: UInt16.self)
            let high = loop.memory.host(pc + 2).loadUnaligned(as: UInt16.self)
            let inst = Decoder.decode(low: low, high: high)
            if inst.opcode == .illegal { break }
            pc += UInt64(inst.length)
            if inst.endsBlock { starts.append(pc) }
        }
        return starts
    }

    /// Runs the loop once under the engine; the guest instructions retired.
    static func run(_ loop: GuestLoop, _ engine: Engine) -> UInt64 {
        for register in 1..<32 { loop.hart[x: register] = 0 }
        loop.hart.pc = loop.entry
        let before = loop.hart.instret
        let reason = engine.run(budget: .max)
        guard reason == .ecall else { fatalError("guest loop \(loop.name) stopped with \(reason) under the JIT") }
        return loop.hart.instret - before
    }
}
#endif
