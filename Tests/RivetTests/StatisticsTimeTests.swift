import Rivet
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `Statistics.time`: where the wall time went. The figures are sampled, so the bounds are
/// loose — each check asks only which activity took most of the time of a guest built to spend
/// it in one place, never for a timing.
@Suite struct StatisticsTimeTests {
    static func fixture(_ name: String) throws -> Fixture {
        try #require(Fixture.all.first { $0.name == name })
    }

    /// Loading plus the first thread's activities is the wall time, and every thread's
    /// activities add up to at least the first thread's.
    static func expectConsistent(_ t: TimeBreakdown, _ context: String) {
        #expect(t.isSampled, "\(context)")
        #expect(t.samples > 0, "\(context)")
        #expect(t.threads >= 1, "\(context)")
        #expect(t.loading > .zero, "\(context)")
        #expect(t.wall == t.loading + t.firstThread.total, "\(context)")
        #expect(t.allThreads.total >= t.firstThread.total, "\(context)")
    }

    static func share(_ part: Duration, of whole: Duration) -> Double {
        whole > .zero ? part / whole : 0
    }

    /// A guest asleep in nanosleep spends its time waiting, whatever the tier.
    @Test(arguments: [ExecutionTier.interpreter, .auto])
    func aSleepingGuestSpendsItsTimeWaiting(_ tier: ExecutionTier) throws {
        let result = try runGuest(try Self.fixture("adv_blocking").binary, arguments: ["sleep"]) {
            $0.tier = tier
            $0.measuresTime = true
            $0.limits.wallTime = .milliseconds(300)
        }
        #expect(result.reason == .timeLimitReached)
        let t = result.statistics.time
        Self.expectConsistent(t, "\(tier)")
        #expect(t.wall >= .milliseconds(250), "\(t)")
        #expect(Self.share(t.firstThread.waiting, of: t.wall) > 0.5, "\(t)")
        #expect(t.firstThread.waiting > t.firstThread.interpreter + t.firstThread.compiledCode, "\(t)")
    }

    /// A loop that never leaves guest code spends its time in the tier that runs it: the
    /// interpreter under `--tier interp`, compiled code under `--tier baseline`.
    @Test(arguments: [ExecutionTier.interpreter, .baseline])
    func aComputeLoopSpendsItsTimeInItsTier(_ tier: ExecutionTier) throws {
        let result = try runGuest(try Self.fixture("adv_blocking").binary, arguments: ["spin"]) {
            $0.tier = tier
            $0.measuresTime = true
            $0.limits.wallTime = .milliseconds(400)
        }
        #expect(result.reason == .timeLimitReached)
        let t = result.statistics.time
        Self.expectConsistent(t, "\(tier)")
        let guest = tier == .interpreter ? t.firstThread.interpreter : t.firstThread.compiledCode
        let other = tier == .interpreter ? t.firstThread.compiledCode : t.firstThread.interpreter
        #expect(Self.share(guest, of: t.wall) > 0.5, "\(t)")
        #expect(guest > other + t.firstThread.waiting + t.firstThread.syscalls, "\(t)")
        if tier == .interpreter { #expect(t.firstThread.compiledCode == .zero && t.firstThread.compiling == .zero, "\(t)") }
    }

    /// Threads: each one's time is sampled from its start to its end, summed in `allThreads`;
    /// compile workers' CPU time is counted beside the wall time.
    @Test func threadsAreSummedAndCompileWorkersCounted() throws {
        let result = try runGuest(try Self.fixture("threads_sync").binary) {
            $0.measuresTime = true
            $0.compileThreads = 1
            $0.tierUpThreshold = 2
        }
        #expect(result.reason == .exited(0), "\(result.standardError)")
        let t = result.statistics.time
        Self.expectConsistent(t, "threads_sync")
        #expect(t.threads > 1, "\(t)")
        #expect(t.compileWorkers == 1)
        #expect(t.backgroundCompiling > .zero, "\(t)")
    }

    /// Without `measuresTime` nothing is sampled: only the wall and loading times are known.
    /// With compiles on the guest's thread, there is no background compiling.
    @Test func withoutMeasuringOnlyWallAndLoadingAreKnown() throws {
        let result = try runGuest(repositoryRoot + "/Examples/hello") { $0.compileThreads = 0 }
        let t = result.statistics.time
        #expect(!t.isSampled)
        #expect(t.samples == 0 && t.firstThread.total == .zero && t.allThreads.total == .zero)
        #expect(t.loading > .zero && t.wall > t.loading)
        #expect(t.compileWorkers == 0 && t.backgroundCompiling == .zero)
        #expect(result.statistics.summary.contains("no breakdown"))
    }

    /// The compiles made on the guest thread are counted with their whole time (decoding,
    /// compiling, installing), which holds the compiler's own time that the tier reports.
    @Test(arguments: [ExecutionTier.baseline, .auto])
    func compilesOnTheGuestThreadCountTheirWholeTime(_ tier: ExecutionTier) throws {
        let result = try runGuest(try Self.fixture("isa_muldiv").binary) {
            $0.tier = tier
            $0.tierUpThreshold = 2
        }
        #expect(result.reason == .exited(0))
        let s = result.statistics
        let baseline = try #require(s.tiers.first { $0.name == "baseline" })
        #expect(baseline.compiles > 0)
        #expect(s.guestThreadCompiles >= baseline.compiles, "\(s.summary)")
        #expect(s.guestThreadCompileTime >= baseline.compileTime, "\(s.summary)")
        #expect(s.summary.contains("compiled on guest threads in "), "\(s.summary)")
    }

    /// `--stats` prints the breakdown and `--stats-json` writes it.
    @Test func theCommandLinePrintsAndWritesTheBreakdown() throws {
        let scratch = try ScratchDirectory()
        let json = scratch.path + "/stats.json"
        let process = try HostProcess([
            rivetCommand, "run", "--no-cwd", "--stats", "--stats-json", json, "--tier", "interp", "--timeout", "0.2",
            try Self.fixture("adv_blocking").binary, "sleep",
        ])
        #expect(process.wait(timeout: .seconds(30)) == 124, "\(process.standardError)")
        for row in ["loading", "compiled code", "interpreter", "compiling", "syscalls", "waiting in syscalls", "run loop, transitions"] {
            #expect(process.standardError.contains("\n  \(row) "), "\(row): \(process.standardError)")
        }
        let text = try readText(json)
        for key in ["\"time\":{", "\"sampled\":true", "\"first_thread\":{", "\"waiting_syscalls_seconds\":", "\"all_threads\":{"] {
            #expect(text.contains(key), "\(key): \(text)")
        }
    }
}
