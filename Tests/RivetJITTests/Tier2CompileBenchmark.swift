import Foundation
import RivetIR
import RivetJIT
import Testing

/// Measures tier 2's compile time on real regions: every `*.before.rvir` under the directory
/// `RIVET_IR_CORPUS` names (as `RIVET_IR_DUMP=DIR rivet run ...` writes them: the frontend's
/// output), run through the pass pipeline and the backend, three rounds (`RIVET_IR_ROUNDS`), the fastest round's
/// CPU time printed per pass and for the backend. Also prints a digest of the optimized IR and
/// one of the code's shape (its length, exits, fault sites and every value's location), which a
/// change meant to make the compiler faster without changing what it emits must leave as they
/// were. Asserts nothing about time. Run in release:
/// `RIVET_IR_CORPUS=DIR swift test -c release --filter Tier2CompileBenchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["RIVET_IR_CORPUS"] != nil, "set RIVET_IR_CORPUS=DIR to measure"))
struct Tier2CompileBenchmark {
    static func cpuNanoseconds() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }

    /// FNV-1a, folded over each byte.
    static func digest(_ h: inout UInt64, _ bytes: some Sequence<UInt8>) {
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    }

    @Test func corpus() throws {
        let root = ProcessInfo.processInfo.environment["RIVET_IR_CORPUS"]!
        let files = FileManager.default.enumerator(atPath: root)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".before.rvir") }.sorted()
        var functions: [Function] = []
        var irInstructions = 0
        for name in files {
            let text = try String(contentsOfFile: root + "/" + name, encoding: .utf8)
            let f = try Parser.parse(text)
            irInstructions += f.liveInsts.count
            functions.append(f)
        }
        let passes = Pipeline.tier2
        var best: (total: UInt64, passes: [UInt64], backend: UInt64)? = nil
        var codeDigest: UInt64 = 0xcbf2_9ce4_8422_2325, irDigest: UInt64 = 0xcbf2_9ce4_8422_2325
        var codeBytes = 0, failed = 0
        let rounds = Int(ProcessInfo.processInfo.environment["RIVET_IR_ROUNDS"] ?? "") ?? 3
        for round in 0..<rounds {
            var perPass = [UInt64](repeating: 0, count: passes.count)
            var backend: UInt64 = 0
            for original in functions {
                var f = original
                for (k, pass) in passes.enumerated() {
                    let start = Self.cpuNanoseconds()
                    pass.run(&f)
                    perPass[k] += Self.cpuNanoseconds() &- start
                }
                let start = Self.cpuNanoseconds()
                let code = Tier2Backend.compile(f)
                backend += Self.cpuNanoseconds() &- start
                if round == 0 {
                    Self.digest(&irDigest, f.text.utf8)
                    if let code {
                        // Not the bytes themselves: they hold host addresses (helpers, tables)
                        // that differ from run to run.
                        codeBytes += code.assembler.buffer.bytes.count
                        let shape = "\(code.assembler.buffer.bytes.count) \(code.exits.count) \(code.faultSites.count) "
                            + "\(code.allocation.spillSlots) \(code.allocation.locations)"
                        Self.digest(&codeDigest, shape.utf8)
                    } else {
                        failed += 1
                    }
                }
            }
            let total = perPass.reduce(0, +) + backend
            if best == nil || total < best!.total { best = (total, perPass, backend) }
        }
        let b = best!
        func ms(_ ns: UInt64) -> String { String(format: "%8.2f ms", Double(ns) / 1e6) }
        print("tier-2 compile of \(functions.count) regions, \(irInstructions) IR instructions in (best of \(rounds) rounds):")
        print("  total    \(ms(b.total))  (\(String(format: "%.2f", Double(b.total) / Double(irInstructions))) ns per IR instruction)")
        for (k, pass) in passes.enumerated() { print("  " + (k < 10 ? " " : "") + "\(k) " + pass.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0) + ms(b.passes[k])) }
        print("  backend  \(ms(b.backend))")
        print("  code \(codeBytes) bytes, digest \(String(codeDigest, radix: 16)); IR digest \(String(irDigest, radix: 16)); \(failed) not compiled")
    }
}
