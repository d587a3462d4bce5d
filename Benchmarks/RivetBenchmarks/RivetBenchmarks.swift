// Microbenchmarks of Rivet's inner costs, with package-benchmark (ordo-one/benchmark).
//
// Everything here builds only under the package trait `Benchmarks`, which also brings in the
// package-benchmark dependency:
//
//     swift package --traits Benchmarks benchmark
//
// Without the trait (a plain `swift build` or `swift test`) this target is the stub at the end
// of this file, and package-benchmark is neither resolved nor built. Benchmarks/README.md says
// how to record and compare baselines.
//
// Benchmark names have no spaces or slashes: package-benchmark names the threshold files after
// them with those characters replaced, but looks them up by the raw name.
//
// The suites, one file each:
//   DecoderBenchmarks.swift      RivetISA: decode throughput on real and synthetic code
//   InterpreterBenchmarks.swift  RivetInterpreter: guest MIPS on fixed loops built in memory
//   LoaderBenchmarks.swift       RivetLinux: ELF parse and load time
//   JITBenchmarks.swift          RivetJIT: tier-1 compile time per block,
//                                code-cache lookup and replacement, jump-cache hit path

#if Benchmarks
import Benchmark

@main
struct BenchmarkRunner: BenchmarkRunnerHooks {
    static func registerBenchmarks() {
        registerDecoderBenchmarks()
        registerInterpreterBenchmarks()
        registerLoaderBenchmarks()
        registerJITBenchmarks()
    }
}

/// Settings shared by the suites: a fixed number of iterations and a time cap, so one run of
/// the whole target takes well under a minute, and the tolerances `baseline check` and
/// `thresholds check` apply.
enum Suite {
    static func configuration(metrics: [BenchmarkMetric], iterations: Int = 100) -> Benchmark.Configuration {
        var thresholds: [BenchmarkMetric: BenchmarkThresholds] = [:]
        for metric in metrics {
            // Times and rates vary with the machine's load: compare the fast quartile, the median
            // and the p90 (which Benchmarks/Thresholds/ records) with room for noise. Allocation
            // counts should not move, but the runtime adds a few now and then.
            thresholds[metric] =
                metric == .mallocCountTotal
                ? BenchmarkThresholds(relative: [.p50: 10.0, .p90: 10.0])
                : BenchmarkThresholds(relative: [.p25: 20.0, .p50: 35.0, .p90: 50.0])
        }
        return .init(
            metrics: metrics,
            timeUnits: .microseconds,
            warmupIterations: 3,
            maxDuration: .seconds(3),
            maxIterations: iterations,
            thresholds: thresholds)
    }

    /// Host CPU time of the measured work on its thread, in nanoseconds. Unlike wall time it
    /// hardly moves when other processes share the cores, so the recorded thresholds use it.
    static let cpuTime = BenchmarkMetric.custom("thread CPU ns", polarity: .prefersSmaller, useScalingFactor: false)

    /// Guest instructions per second of thread CPU time, in millions: higher is better.
    static let guestMIPS = BenchmarkMetric.custom("guest MIPS", polarity: .prefersLarger, useScalingFactor: false)

    /// Runs `work` once and records its thread CPU time; with `rate`, also records the count
    /// `work` returns per CPU second, in millions.
    static func measure(_ benchmark: Benchmark, rate: BenchmarkMetric? = nil, _ work: () -> Int) {
        let start = Fixtures.threadCPUNanoseconds()
        let count = work()
        let elapsed = max(1, Fixtures.threadCPUNanoseconds() - start)
        benchmark.measurement(cpuTime, elapsed)
        if let rate { benchmark.measurement(rate, Int(Double(count) * 1e3 / Double(elapsed))) }
    }
}

#else

/// Without the `Benchmarks` trait the benchmarks are not built; say how to build them.
@main
enum RivetBenchmarksDisabled {
    static func main() {
        print(
            "RivetBenchmarks was built without the Benchmarks trait; run: "
                + "swift package --traits Benchmarks benchmark")
    }
}

#endif
