#if Benchmarks
import Benchmark

/// The JIT's inner costs: the place for RivetJIT's microbenchmarks. Register them here (and add
/// "RivetJIT" to the RivetBenchmarks dependencies in Package.swift):
///
/// - "JIT:tier1_compile_per_block": translate a fixed set of guest blocks (e.g. the blocks
///   of Examples/hello's hot loop, or the GuestLoop programs of InterpreterBenchmarks.swift)
///   with a fresh code cache each iteration; report µs per block and code bytes per guest
///   instruction as custom metrics.
/// - "JIT:code_cache_lookup": look up guest pcs that hit (and a share that miss) in a cache
///   filled with N translations; ns per lookup.
/// - "JIT:jump_cache_hit": the indirect-branch fast path (guest pc → host code) on a warm
///   jump cache; ns per lookup, and the GuestLoop call/return loop run under tier 1 for MIPS
///   next to the interpreter's figure.
///
/// Use `Suite.configuration` so thresholds and iteration counts match the other suites, then
/// record the thresholds again (Benchmarks/README.md). Names: no spaces or slashes.
func registerJITBenchmarks() {}
#endif
