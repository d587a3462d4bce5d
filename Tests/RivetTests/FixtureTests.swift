import Rivet
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A guest-program fixture: Fixtures/NAME.{c,S}, its binary, and what it must do.
struct Fixture: CustomStringConvertible, Sendable {
    static let directory = repositoryRoot + "/Tests/RivetTests/Fixtures"

    let name: String
    let source: String

    var binary: String { Self.directory + "/bin/" + name }
    var description: String { name }

    /// Every fixture with a committed binary.
    static let all: [Fixture] = {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [(String, String)] = []
        while let entry = readdir(dir) {
            let file = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            for ext in [".c", ".cpp", ".S"] where file.hasSuffix(ext) {
                names.append((String(file.dropLast(ext.count)), file))
            }
        }
        return names.sorted { $0.0 < $1.0 }.map { Fixture(name: $0.0, source: directory + "/" + $0.1) }
    }()

    /// A directive's value from the source (`rivet-fixture: args a b`).
    func directive(_ key: String) -> String? {
        guard let text = try? readText(source) else { return nil }
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: "rivet-fixture: " + key) else { continue }
            var value = line[range.upperBound...]
            if let end = value.range(of: "*/") { value = value[..<end.lowerBound] }
            return String(value).trimmingCharacters(in: " ")
        }
        return nil
    }

    var arguments: [String] { directive("args").map { $0.split(separator: " ").map(String.init) } ?? [] }
    var expectedOutput: String { (try? readText(Self.directory + "/expected/\(name).stdout")) ?? "<missing>" }
    var expectedStatus: Int32 {
        Int32((try? readText(Self.directory + "/expected/\(name).status"))?.trimmingCharacters(in: "\n") ?? "") ?? -1
    }

    /// Fixtures that fork run as a `rivet` process of their own, never inside the test runner,
    /// whose other threads a fork would leave behind holding their locks.
    var makesProcesses: Bool { directive("processes") != nil }

    /// Runs the fixture with the `rivet` command in a fresh scratch directory (its working
    /// directory, granted read-write), under `setup`'s options.
    /// - Returns: its standard output and exit status.
    func runCommand(_ setup: EngineSetup) throws -> (output: String, errors: String, status: Int32?) {
        let scratch = try ScratchDirectory()
        let process = try HostProcess(
            [rivetCommand, "run", "--sysroot", "/usr/riscv64-linux-gnu", "--clear-env", "--env", "RIVET_FIXTURE=1",
             "--seed", "42", "--timeout", "60"] + setup.commandLine + ["--", binary] + arguments,
            directory: scratch.path)
        let status = process.wait(timeout: .seconds(90))
        return (process.standardOutput, process.standardError, status)
    }

    /// Runs the fixture under Rivet in a fresh scratch directory, granted read-write (with the
    /// network grant if the source says `rivet-fixture: net`).
    func run(configure: (inout Configuration) -> Void = { _ in }) throws -> GuestRun {
        let scratch = try ScratchDirectory()
        return try runGuest(binary, arguments: arguments) {
            $0.programName = binary
            $0.workingDirectory = scratch.path
            $0.directories = [DirectoryGrant(hostPath: scratch.path, isWritable: true)]
            $0.sysroot = "/usr/riscv64-linux-gnu"
            $0.environment = ["RIVET_FIXTURE=1"]
            $0.network = directive("net") != nil
            configure(&$0)
        }
    }
}

/// The engine set-ups every fixture runs under: each tier, and stress set-ups whose tiny code
/// cache forces constant eviction while blocks tier up at once, compiled on the guest thread or
/// by two workers, under each eviction policy (one with the code cache's two views, W^X).
enum EngineSetup: String, CaseIterable, Sendable, CustomStringConvertible {
    case interp, baseline, auto, opt
    case tinyCacheGuestThread = "auto/64K cache/jit-threads 0/threshold 2/lru"
    case tinyCacheTwoWorkers = "auto/64K cache/jit-threads 2/threshold 2/lfu"
    case tinyCacheBaseline = "baseline/64K cache/value/W^X"
    case tinyCacheOpt = "opt/64K cache/lru"

    var description: String { rawValue }

    /// The same set-up as `rivet run` options.
    var commandLine: [String] {
        switch self {
        case .interp: ["--tier", "interp"]
        case .baseline: ["--tier", "baseline"]
        case .auto: ["--tier", "auto"]
        case .opt: ["--tier", "opt"]
        case .tinyCacheGuestThread:
            ["--tier", "auto", "--code-cache", "64K", "--jit-threads", "0", "--tier-threshold", "T1=2", "--cache-policy", "lru"]
        case .tinyCacheTwoWorkers:
            ["--tier", "auto", "--code-cache", "64K", "--jit-threads", "2", "--tier-threshold", "T1=2", "--cache-policy", "lfu"]
        case .tinyCacheBaseline: ["--tier", "baseline", "--code-cache", "64K", "--cache-policy", "value", "--w-xor-x"]
        case .tinyCacheOpt: ["--tier", "opt", "--code-cache", "64K", "--cache-policy", "lru"]
        }
    }

    func configure(_ c: inout Configuration) {
        switch self {
        case .interp: c.tier = .interpreter
        case .baseline: c.tier = .baseline
        case .auto: c.tier = .auto
        case .opt: c.tier = .optimizing
        case .tinyCacheGuestThread:
            c.tier = .auto
            c.codeCacheBytes = 64 << 10
            c.compileThreads = 0
            c.tierUpThreshold = 2
            c.cachePolicy = .lru
        case .tinyCacheTwoWorkers:
            c.tier = .auto
            c.codeCacheBytes = 64 << 10
            c.compileThreads = 2
            c.tierUpThreshold = 2
            c.cachePolicy = .lfu
        case .tinyCacheBaseline:
            c.tier = .baseline
            c.codeCacheBytes = 64 << 10
            c.cachePolicy = .value
            c.separatesCodeViews = true
        case .tinyCacheOpt:
            c.tier = .optimizing
            c.codeCacheBytes = 64 << 10
            c.cachePolicy = .lru
        }
    }
}

@Suite struct FixtureTests {
    /// With qemu installed, each fixture (but those whose behaviour differs on purpose) also runs
    /// under qemu-riscv64 now, and must still do what was recorded: the recorded expectation is
    /// the outside reference's, not a snapshot of Rivet.
    @Test(.enabled(if: QemuReference.isAvailable), arguments: Fixture.all.filter { $0.directive("no-qemu") == nil })
    func qemuStillAgreesWithTheExpectation(_ fixture: Fixture) throws {
        let scratch = try ScratchDirectory()
        let result = try QemuReference.run(
            arguments: ["-L", "/usr/riscv64-linux-gnu", "-E", "RIVET_FIXTURE=1", fixture.binary] + fixture.arguments,
            directory: scratch.path)
        #expect(String(decoding: result.output, as: UTF8.self) == fixture.expectedOutput)
        #expect(result.status == fixture.expectedStatus)
    }

    /// A compile over the time limit is discarded and counted, never fatal: with a limit of zero
    /// every compile times out, the guest runs wholly in the interpreter, and its result is the
    /// same; the blocks back off instead of asking again at every threshold.
    @Test(arguments: ["isa_muldiv", "stress_codegen"])
    func compilesOverTheTimeLimitLeaveTheBlockInTheInterpreter(_ name: String) throws {
        let fixture = try #require(Fixture.all.first { $0.name == name })
        for threads in [0, 1] {
            let result = try fixture.run {
                $0.tier = .auto
                $0.tierUpThreshold = 2
                $0.adaptsThresholds = false
                $0.compileThreads = threads
                $0.compileTimeLimit = .zero
            }
            #expect(result.standardOutput == fixture.expectedOutput)
            #expect(result.reason.shellStatus == fixture.expectedStatus)
            let s = result.statistics
            #expect(s.timedOutCompiles > 0)
            #expect(s.tiers.first { $0.name == "baseline" }?.instructions ?? 0 == 0)
            #expect(s.backoffs > 0, "timed-out blocks should back off")
        }
    }

    /// The A-extension stress test with a 16 KiB code cache: its blocks (atomics, LR/SC loops,
    /// the spin lock) are evicted and compiled again while the other guest threads run them, and
    /// every total must still be exact.
    @Test(arguments: [ExecutionTier.baseline, .auto])
    func atomicsStayExactUnderATinyCodeCache(_ tier: ExecutionTier) throws {
        let fixture = try #require(Fixture.all.first { $0.name == "threads_amo_stress" })
        let result = try fixture.run {
            $0.tier = tier
            $0.codeCacheBytes = 16 << 10
        }
        #expect(result.standardOutput == fixture.expectedOutput)
        #expect(result.reason.shellStatus == fixture.expectedStatus, "stderr: \(result.standardError)")
    }

    /// `--tier opt` with a code cache too small for a program's regions: a cyclic working set
    /// evicts every region on every turn, and each region costs 20-50 baseline compiles.
    /// A header whose region was evicted backs off and gets the baseline's code: the result is the
    /// same, and the regions compiled are a few times those of a cache that holds them all
    /// (without the fallback, `fp_math` compiled 122,413 regions against 1,474: 9.6 s of compiling
    /// for 0.9 million instructions).
    @Test func regionsThatTheCacheKeepsEvictingGoToTheBaseline() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "fp_math" })
        var compiles: [UInt64] = []
        for cache in [64 << 20, 64 << 10] {
            let result = try fixture.run {
                $0.tier = .optimizing
                $0.codeCacheBytes = cache
                $0.cachePolicy = .lru
            }
            #expect(result.standardOutput == fixture.expectedOutput)
            #expect(result.reason.shellStatus == fixture.expectedStatus, "stderr: \(result.standardError)")
            let s = result.statistics
            compiles.append(s.tiers.first { $0.name == "opt" }?.compiles ?? 0)
            #expect((s.optimizing?.thrashingRegions ?? 0 > 0) == (cache < 1 << 20), "\(s.summary)")
        }
        #expect(compiles[0] > 1000 && compiles[1] < 10 * compiles[0], "\(compiles)")
    }

    /// Compiled blocks that count from the start (`countsEveryBlock`, as under `--stats`) stop
    /// counting after `countingLimit` runs (their code patched while it may run, by other guest
    /// threads too): the results stay exact, and `--stats` says its counts are lower bounds;
    /// with the limit at 0 every run is counted.
    @Test(arguments: ["stress_codegen", "threads_amo_stress", "threads_smc"], [ExecutionTier.baseline, .auto])
    func blocksStopCountingAndTheResultsStayExact(_ name: String, _ tier: ExecutionTier) throws {
        let fixture = try #require(Fixture.all.first { $0.name == name })
        var transfers: [UInt64] = []
        for limit: UInt32 in [2, 0] {
            let result = try fixture.run {
                $0.tier = tier
                $0.optimizingThreshold = 1
                $0.countingLimit = limit
                $0.countsEveryBlock = true
            }
            #expect(result.standardOutput == fixture.expectedOutput)
            #expect(result.reason.shellStatus == fixture.expectedStatus, "stderr: \(result.standardError)")
            let s = result.statistics
            #expect(s.countingLimit == UInt64(limit))
            #expect(limit == 0 ? s.countingStops == 0 : s.countingStops > 0, "\(s.summary)")
            #expect((s.summary.contains("at least") && s.summary.contains("stopped counting")) == (limit != 0), "\(s.summary)")
            transfers.append(s.chainedTransfers)
        }
        #expect(transfers[0] < transfers[1])
    }

    /// The share of a fixture's instructions tier 2 must run under `auto` to show that its loop
    /// moved there (without the mechanism a test checks, the share is 0). Tier 2 compiles on a
    /// background worker, so on a loaded machine its regions arrive later: with four busy loops
    /// beside it on two cores, `opt_calls` ran 37-54% in tier 2 (46% in one CI run, which a bound
    /// of 50% failed), `opt_big_region` 56-81%, `opt_syscall_loop` 57-91%, idle 60-97%.
    static let autoTier2Share = 0.25

    /// The optimizing tier runs the hot loop of `opt_loop_fault` (integers) and `opt_fp_fault`
    /// (doubles, raising flags): in `opt` from its first iteration, in `auto` once it ran long
    /// enough (a loop the baseline's code runs moves to tier 2 between slices, while it runs);
    /// the fault in it is rebuilt from tier 2's metadata, with the float flags it raised.
    @Test(arguments: ["opt_loop_fault", "opt_fp_fault"], [ExecutionTier.optimizing, .auto])
    func theOptimizingTierRunsTheHotLoop(_ name: String, _ tier: ExecutionTier) throws {
        let fixture = try #require(Fixture.all.first { $0.name == name })
        let result = try fixture.run { $0.tier = tier }
        #expect(result.standardOutput == fixture.expectedOutput)
        #expect(result.reason.shellStatus == fixture.expectedStatus)
        let s = result.statistics
        let opt = try #require(s.tiers.first { $0.name == "opt" })
        let share = tier == .auto ? Self.autoTier2Share : 0.5
        #expect(Double(opt.instructions) > share * Double(s.instructions), "\(s.summary)")
        #expect(opt.compiles > 0 && opt.codeBytes > 0)
        #expect(s.compiledCodeFaults >= 1, "the fault happened in compiled code")
        if tier == .auto { #expect((s.optimizing?.requests ?? 0) >= 1) }
        // Its exits count its entries: the loop stays in tier 2 for many iterations per entry
        // (a region left at each iteration would average a few dozen instructions).
        let exits = try #require(s.optimizing?.exits)
        #expect(exits >= 1 && opt.instructions / max(1, exits) >= 1_000, "\(s.summary)")
        // Under `opt`, the hottest block is the region's header, with its entries and
        // instructions per entry (in the summary's table and the JSON; under `auto` on a loaded
        // machine the baseline's code may run most of the header's instructions, and the row
        // is the baseline's). Only a region's row has them.
        #expect(s.hottestBlocks.allSatisfy { ($0.regionEntries == nil) == ($0.tier != "opt") }, "\(s.summary)")
        if tier == .optimizing {
            let hottest = try #require(s.hottestBlocks.first)
            #expect(hottest.tier == "opt" && (hottest.regionEntries ?? 0) >= 1 && (hottest.instructionsPerEntry ?? 0) >= 1_000, "\(s.summary)")
            #expect(hottest.regionEntries ?? 0 <= exits && (hottest.regionInstructions ?? 0) <= opt.instructions)
            #expect(s.summary.contains("per entry") && s.json.contains("\"region_entries\":"))
        }
        // Under `opt` nearly everything runs in tier 2, so transfers are few (in `auto` the
        // baseline's code runs the loop until tier 2 takes over, with a transfer per block).
        if tier == .optimizing { #expect(s.chainedTransfers < s.instructions / 100, "\(s.summary)") }
    }

    /// Under `--tier baseline` blocks count on demand: entered past their counting entry, only
    /// blocks that loop to themselves count while the code cache has room (fewer block entries
    /// counted, so fewer chained transfers, than with `countsEveryBlock`), and the others count, entered at their counting
    /// entries (then past them once more), while a small cache evicts; the results are exact
    /// all the same, with other guest threads running the code meanwhile.
    @Test(arguments: ["stress_codegen", "threads_amo_stress", "threads_smc"])
    func baselineBlocksCountOnDemand(_ name: String) throws {
        let fixture = try #require(Fixture.all.first { $0.name == name })
        var counted: [UInt64] = []
        for (cache, everyBlock) in [(64 << 20, false), (64 << 20, true), (64 << 10, false)] {
            let result = try fixture.run {
                $0.tier = .baseline
                $0.codeCacheBytes = cache
                $0.countsEveryBlock = everyBlock
            }
            #expect(result.standardOutput == fixture.expectedOutput)
            #expect(result.reason.shellStatus == fixture.expectedStatus, "stderr: \(result.standardError)")
            counted.append(result.statistics.chainedTransfers)
        }
        #expect(counted[0] < counted[1], "\(counted)")
    }

    /// `opt_single_guard`'s loop carries singles, which tier 2 keeps as singles behind a guard
    /// at the region's entry: under `opt` the region is compiled when the loop first runs, with
    /// a double's bits in the accumulator, so the guard fails at once and the region goes (the
    /// lower tiers run the loop); every bit of the results matches qemu's, in `auto` too.
    @Test(arguments: [ExecutionTier.optimizing, .auto])
    func aRegionEnteredWithoutANaNBoxLeavesByItsGuard(_ tier: ExecutionTier) throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_single_guard" })
        let result = try fixture.run { $0.tier = tier }
        #expect(result.standardOutput == fixture.expectedOutput)
        #expect(result.reason.shellStatus == fixture.expectedStatus)
        if tier == .optimizing { #expect((result.statistics.optimizing?.guardFailures ?? 0) >= 1, "\(result.statistics.summary)") }
    }

    /// `opt_one_region`'s loop nest (a hash-chain walk with a byte-compare loop inside, called
    /// from a loop over a buffer), in slices short enough to end at each of its blocks many
    /// times, tier 2 compiling on the guest's thread (so that the run repeats): a slice that
    /// ends at a block of a loop a region has, run in the baseline's code after a side exit,
    /// starts no other region of that loop headed there. Five regions are made (seven without
    /// the check), and tier 2 runs 99% of the instructions (97% with the seven).
    @Test func aLoopInARegionStartsNoOther() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_one_region" })
        let result = try fixture.run {
            $0.tier = .auto
            $0.sliceInstructions = 4_096
            $0.optimizingThreshold = 256
            $0.adaptsThresholds = false
            $0.optimizesOnGuestThread = true
        }
        #expect(result.standardOutput == fixture.expectedOutput)
        let s = result.statistics
        let opt = try #require(s.tiers.first { $0.name == "opt" }, "\(s.summary)")
        #expect(opt.compiles <= 5, "\(s.summary)")
        #expect(Double(opt.instructions) > 0.98 * Double(s.instructions), "\(s.summary)")
    }

    /// `opt_loop_entry`'s `step` runs straight into its loop's head (six instructions, then the
    /// loop, two passes of 15). Once tier 2 has the loop, the baseline block at `step`'s entry
    /// must end at the loop's head and chain into the region, rather than run the first pass
    /// itself on every call: the block then runs 6 instructions a call, 21 before (21 million
    /// over the million calls; the bound leaves room for tier 2 arriving late).
    @Test func runningIntoARegionsHeaderEntersIt() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_loop_entry" })
        let result = try fixture.run { $0.tier = .auto }
        #expect(result.standardOutput == fixture.expectedOutput)
        let s = result.statistics
        let entry = try #require(s.hottestBlocks.first { $0.symbol == "step" && $0.tier == "baseline" }, "\(s.summary)")
        #expect(entry.instructions < 15_000_000, "\(s.summary)")
        #expect((s.tiers.first { $0.name == "opt" }?.instructions ?? 0) > 0)
    }

    /// `opt_calls`' hot loops call functions (and fmaxf/fminf, written with `fclass`): tier 2
    /// takes the callees into the loop's region, so under `auto` a large share of the
    /// instructions runs in tier 2 (`autoTier2Share`) and a region is not left at every
    /// iteration. (Before regions crossed calls, none of these loops made a
    /// region: the walk stopped at the call, and the loop did not close.) The outputs are
    /// checked under every engine set-up by `fixtureMatchesItsExpectation`.
    @Test func theOptimizingTiersRegionsTakeTheFunctionsLoopsCall() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_calls" })
        let result = try fixture.run { $0.tier = .auto }
        #expect(result.standardOutput == fixture.expectedOutput)
        let s = result.statistics
        let opt = try #require(s.tiers.first { $0.name == "opt" })
        #expect(Double(opt.instructions) > Self.autoTier2Share * Double(s.instructions), "\(s.summary)")
        // Which regions form depends on when slices end and compiles finish; the recursion's
        // region (fib) leaves at its outermost return. Measured: 676-1,069 guest instructions per
        // entry. A region left at every pass through `two_sites`' loop (12 instructions and two
        // calls) would average about 20.
        let exits = try #require(s.optimizing?.exits)
        #expect(opt.instructions / max(1, exits) >= 100, "\(s.summary)")
    }

    /// `opt_syscall_loop`'s hot loop makes a syscall every 12,000 instructions: tier 2's slices
    /// run on across those exits, so the loop meets a slice's end and moves to tier 2 (when
    /// every exit began a new slice, it never did: 0 requests).
    @Test func aLoopThatMakesSyscallsStillMovesToTier2() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_syscall_loop" })
        let result = try fixture.run { $0.tier = .auto }
        #expect(result.standardOutput == fixture.expectedOutput)
        let s = result.statistics
        let opt = try #require(s.tiers.first { $0.name == "opt" })
        #expect(Double(opt.instructions) > Self.autoTier2Share * Double(s.instructions), "\(s.summary)")
    }

    /// `opt_big_region`'s loop is 640 instructions of loads and additions with ten sums live: its
    /// region needs more than 64 spill slots (refused before there were 192), and its code was
    /// 176 KiB while each access's bounds stub wrote the live registers, which stopped the host
    /// on a 64 KiB precondition (a region's code may now pass 64 KiB). With the shared
    /// bounds-fault code it is about 25 KiB.
    @Test func aRegionWithManySpillsRunsInTier2() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_big_region" })
        let result = try fixture.run { $0.tier = .auto }
        #expect(result.standardOutput == fixture.expectedOutput)
        let s = result.statistics
        let opt = try #require(s.tiers.first { $0.name == "opt" })
        #expect(Double(opt.instructions) > Self.autoTier2Share * Double(s.instructions), "\(s.summary)")
        #expect(opt.codeBytes < 65_536, "\(s.summary)")
    }

    /// `opt_switch`'s dispatch loop jumps through a jump table: tier 2 takes the cases the
    /// jump went to into the loop's region (before, the walk stopped at the indirect jump: a
    /// region of the header alone, left every 4 instructions), and the program's later jumps
    /// to a case never taken before and to the default leave by the jump cache correctly.
    @Test func aDispatchLoopsRegionTakesItsCases() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_switch" })
        let result = try fixture.run { $0.tier = .auto }
        #expect(result.standardOutput == fixture.expectedOutput)
        let s = result.statistics
        let opt = try #require(s.tiers.first { $0.name == "opt" })
        #expect(Double(opt.instructions) > Self.autoTier2Share * Double(s.instructions), "\(s.summary)")
        let exits = try #require(s.optimizing?.exits)
        #expect(opt.instructions / max(1, exits) >= 100, "\(s.summary)")
    }

    /// `opt_short_trips`'s loop turns hot in long entries, then is entered 1.5 million times
    /// for one iteration: its region, left every few instructions, is demoted (the baseline's
    /// code is cheaper to enter), and the sum stays the interpreter's.
    @Test func aRegionLeftEveryFewInstructionsIsDemoted() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "opt_short_trips" })
        let result = try fixture.run { $0.tier = .auto }
        #expect(result.standardOutput == fixture.expectedOutput)
        #expect(result.reason.shellStatus == fixture.expectedStatus)
        let optimizing = try #require(result.statistics.optimizing)
        #expect(optimizing.demotedRegions >= 1, "\(result.statistics.summary)")
    }

    /// `fp_edge` runs float code under every rounding mode: a tier-2 region compiled for round
    /// to nearest meets another `frm`, its entry guard fails, the region is removed and the
    /// lower tiers give the exact results.
    @Test func aFailedRoundingGuardRemovesTheRegion() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "fp_edge" })
        let result = try fixture.run { $0.tier = .optimizing }
        #expect(result.standardOutput == fixture.expectedOutput)
        let optimizing = try #require(result.statistics.optimizing)
        #expect(optimizing.guardFailures >= 1, "\(result.statistics.summary)")
        #expect(result.statistics.deopts >= optimizing.guardFailures)
    }

    /// A program that execs itself in its own process: the new image is the same bytes, so the
    /// first run's code stays, every page of it, and none of it is invalidated (each
    /// invalidation counted as a deoptimization, 695 of them under `--tier baseline` when an
    /// unmap dropped the translations one by one, and backed off at its pc for the next
    /// program). Linked dynamically, the dynamic linker's code stays too, and the C library's
    /// (mapped by the dynamic linker later) goes without counting as invalidated.
    /// `proc_exec_rewrite` checks that only the same bytes keep their code.
    @Test(arguments: [ExecutionTier.interpreter, .baseline, .auto, .optimizing], ["proc_exec_self", "proc_exec_self_dynamic"])
    func anExecKeepsTheCodeItsNewProgramRepeats(_ tier: ExecutionTier, _ name: String) throws {
        let fixture = try #require(Fixture.all.first { $0.name == name })
        let scratch = try ScratchDirectory()
        let json = scratch.path + "/stats.json"
        let process = try HostProcess([
            rivetCommand, "run", "--no-cwd", "--tier", tier.rawValue, "--stats-json", json, fixture.binary,
        ])
        #expect(process.wait(timeout: .seconds(60)) == 3, "\(process.standardError)")
        #expect(process.standardOutput == fixture.expectedOutput)
        let text = try readText(json)
        func value(_ field: String) throws -> Int? {
            let at = try #require(text.range(of: "\"\(field)\":"), "\(field) in \(text)")
            return Int(text[at.upperBound...].prefix { $0.isNumber || $0 == " " }.filter { $0.isNumber })
        }
        for field in ["deopts", "invalidations"] {
            #expect(try value(field) == 0, "\(tier): \(field)")
        }
        #expect(try value("code_pages_kept_at_exec") ?? 0 > 0, "\(tier)")
    }

    /// A parent decodes (and compiles, where its tier compiles) the blocks its forked children
    /// report (`ChildReports`), so that later children inherit them.
    @Test(arguments: [ExecutionTier.interpreter, .baseline, .auto])
    func aParentTakesOverWhatItsChildrenDecodedAndCompiled(_ tier: ExecutionTier) throws {
        let fixture = try #require(Fixture.all.first { $0.name == "proc_fork" })
        let scratch = try ScratchDirectory()
        let json = scratch.path + "/stats.json"
        let process = try HostProcess([
            rivetCommand, "run", "--no-cwd", "--tier", tier.rawValue, "--stats-json", json, fixture.binary,
        ])
        #expect(process.wait(timeout: .seconds(60)) == fixture.expectedStatus, "\(process.standardError)")
        #expect(process.standardOutput == fixture.expectedOutput)
        let text = try readText(json)
        func value(_ field: String) throws -> Int {
            let at = try #require(text.range(of: "\"\(field)\":"), "\(field) in \(text)")
            return Int(text[at.upperBound...].prefix { $0.isNumber || $0 == " " }.filter { $0.isNumber }) ?? -1
        }
        switch tier {
        case .baseline: #expect(try value("compiled_for_children") > 0)
        default: #expect(try value("decoded_for_children") > 0)
        }
    }

    /// Every fixture under every engine set-up must give exactly the recorded (qemu's) result.
    @Test(arguments: Fixture.all, EngineSetup.allCases)
    func fixtureMatchesItsExpectation(_ fixture: Fixture, _ setup: EngineSetup) throws {
        if fixture.makesProcesses {
            let result = try fixture.runCommand(setup)
            #expect(result.output == fixture.expectedOutput)
            #expect(result.status == fixture.expectedStatus, "stderr: \(result.errors)")
            return
        }
        let result = try fixture.run { setup.configure(&$0) }
        #expect(result.standardOutput == fixture.expectedOutput)
        #expect(result.reason.shellStatus == fixture.expectedStatus, "stderr: \(result.standardError)")
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}

/// Reads a whole host file as UTF-8.
func readText(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw RivetError(.unreadableProgram, "cannot open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// A temporary directory, removed with its contents when released.
final class ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/rivet-scratch-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw RivetError(.invalidConfiguration, "mkdtemp failed") }
        path = String(decoding: UnsafeRawBufferPointer(start: made, count: strlen(made)), as: UTF8.self)
    }

    deinit {
        _ = system("rm -rf '\(path)'")
    }
}
