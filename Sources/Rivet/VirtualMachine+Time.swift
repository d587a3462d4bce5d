import CRivetHost
import RivetMachine

/// The measurements behind `Statistics.time`: loading and the run are timed; what the guest's
/// threads do meanwhile is sampled (CRivetHost's `rivet_sampler_*`, reading each hart's
/// `HartState.Slot.activity`).
///
/// The sampler is set before the run's first thread starts and cleared after the last ended,
/// so the threads that add and remove harts read it without a lock.
final class TimeKeeper: @unchecked Sendable {
    /// How often the sampler looks: every fiftieth of the time so far, within these bounds
    /// (nanoseconds): about 100 looks in the first 10 ms, 200 in 100 ms, 300 in a second,
    /// then 50 a second.
    static let shortestPeriod: UInt64 = 100_000
    static let longestPeriod: UInt64 = 20_000_000

    /// When the virtual machine began to be made (CLOCK_MONOTONIC nanoseconds).
    private let created = VirtualMachine.monotonicNanoseconds()
    /// Loading: making the virtual machine, and each run's setup before its first instruction.
    private(set) var loading: UInt64 = 0
    private var sampler: OpaquePointer?
    /// What the sampler measured: nanoseconds per `HartActivity` of the first thread and of
    /// all threads summed, the threads, the sampler's looks.
    private var first = [UInt64](repeating: 0, count: HartActivity.allCases.count)
    private var all = [UInt64](repeating: 0, count: HartActivity.allCases.count)
    private var threads = 0
    private var samples: UInt64 = 0
    private var isSampled = false

    /// The virtual machine is made: loading so far.
    func loaded() { loading = VirtualMachine.monotonicNanoseconds() &- created }

    /// The run's setup is done (setup since `runStarted` counts as loading), its first
    /// instruction comes next; with `sampling`, the sampler starts with the first thread's hart.
    func beginRun(setupSince runStarted: UInt64, first: HartState, sampling: Bool) {
        let now = VirtualMachine.monotonicNanoseconds()
        loading &+= now &- runStarted
        guard sampling, let sampler = rivet_sampler_start(Self.shortestPeriod, Self.longestPeriod) else { return }
        self.sampler = sampler
        rivet_sampler_add(sampler, first.slots)
    }

    /// A guest thread starts (its hart is sampled until `remove`).
    func add(_ hart: HartState) {
        if let sampler { rivet_sampler_add(sampler, hart.slots) }
    }

    /// A guest thread ends: its time so far counts among all threads'.
    func remove(_ hart: HartState) {
        if let sampler { rivet_sampler_remove(sampler, hart.slots) }
    }

    /// The run is over (every guest thread ended): the sampler stops and says what it saw.
    func endRun() {
        guard let sampler else { return }
        self.sampler = nil
        var report = rivet_sampler_report()
        rivet_sampler_stop(sampler, &report)
        // A second run (after the first stopped early) adds to the first's figures.
        for (k, n) in Self.values(report.first).enumerated() { first[k] &+= n }
        for (k, n) in Self.values(report.all).enumerated() { all[k] &+= n }
        threads = max(threads, Int(report.harts))
        samples &+= report.samples
        isSampled = true
    }

    /// A C array of nanoseconds per activity (imported as a tuple).
    private static func values<Tuple>(_ tuple: Tuple) -> [UInt64] {
        withUnsafeBytes(of: tuple) { Array($0.bindMemory(to: UInt64.self).prefix(HartActivity.allCases.count)) }
    }

    /// In a forked child: the sampler's thread did not come along (and its lock may have been
    /// held at the fork). The child never reports statistics; it just stops using it.
    func abandonInForkedChild() { sampler = nil }

    /// The figures, with the compile workers' CPU time; `run` is the time in `run()`, the wall
    /// time after loading when the run was not sampled.
    func breakdown(run: Duration, backgroundCompile: UInt64, workers: Int) -> TimeBreakdown {
        var t = TimeBreakdown()
        t.loading = .nanoseconds(Int64(clamping: loading))
        t.isSampled = isSampled
        t.samples = samples
        t.threads = threads
        t.firstThread = Self.activities(first)
        t.allThreads = Self.activities(all)
        t.wall = t.loading + (isSampled ? t.firstThread.total : run)
        t.backgroundCompiling = .nanoseconds(Int64(clamping: backgroundCompile))
        t.compileWorkers = workers
        return t
    }

    private static func activities(_ nanoseconds: [UInt64]) -> TimeBreakdown.Activities {
        var a = TimeBreakdown.Activities()
        for activity in HartActivity.allCases {
            let time = Duration.nanoseconds(Int64(clamping: nanoseconds[Int(activity.rawValue)]))
            switch activity {
            case .runLoop: a.runLoop = time
            case .compiled: a.compiledCode = time
            case .interpreter: a.interpreter = time
            case .syscall: a.syscalls = time
            case .blocked: a.blocked = time
            case .lock: a.lockWait = time
            case .compiling: a.compiling = time
            }
        }
        return a
    }
}
