/// Where the wall time of a run went: loading, then what the guest's threads did — compiled
/// code, the interpreter, compiling, syscalls, waiting, the run loop — and, beside them, the
/// compile workers' CPU time (`Statistics.time`; the "time" section of `rivet run --stats`).
///
/// Loading and the wall time are measured; the rest is sampled: each thread's run loop says
/// what it does at its coarse boundaries (entering compiled code or the interpreter, a
/// syscall, a blocking host call) with one store, and a sampling thread looks every fiftieth
/// of the time so far (every 0.1 ms at first, every 20 ms at most), counting the time since its
/// previous look to what each thread does now. The figures are estimates, as good as the number
/// of looks (100 in the first 10 ms, 300 in a second: a share is right to within a few
/// percent); each thread's add up to its lifetime. Only with `Configuration.measuresTime`.
public struct TimeBreakdown: Equatable, Sendable {
    /// The time one guest thread (or all of them, summed) spent in each activity.
    public struct Activities: Equatable, Sendable {
        /// In compiled (tier-1) code, with the helpers it calls.
        public var compiledCode: Duration = .zero
        /// In the interpreter (tier 0).
        public var interpreter: Duration = .zero
        /// Compiling on the guest's thread (no compile workers, or `ExecutionTier.baseline`).
        public var compiling: Duration = .zero
        /// The host work of syscalls (not their waits).
        public var syscalls: Duration = .zero
        /// Waiting in syscalls that block (futex, poll, reads of pipes and terminals, sleeps),
        /// and the first thread waiting for the others to end.
        public var blocked: Duration = .zero
        /// Waiting for the process's lock, which another guest thread held (for its syscall).
        public var lockWait: Duration = .zero
        /// The run loop: looking up code, transitions between the tiers, installing compiled
        /// code, delivering signals.
        public var runLoop: Duration = .zero

        /// Waiting of either kind: in blocking syscalls, and for the process's lock.
        public var waiting: Duration { blocked + lockWait }

        /// All of it: the thread's sampled lifetime.
        public var total: Duration { compiledCode + interpreter + compiling + syscalls + blocked + lockWait + runLoop }

        /// Creates the figures of a thread that did nothing.
        public init() {}

        /// The activities with their names, as the summary and the JSON list them.
        var named: [(label: String, key: String, time: Duration)] {
            [
                ("compiled code", "compiled_code", compiledCode), ("interpreter", "interpreter", interpreter),
                ("compiling", "compiling", compiling), ("syscalls", "syscalls", syscalls),
                ("waiting in syscalls", "waiting_syscalls", blocked), ("waiting for the lock", "waiting_lock", lockWait),
                ("run loop, transitions", "run_loop", runLoop),
            ]
        }
    }

    /// Loading plus the first thread's run: `loading + firstThread.total`.
    public var wall: Duration = .zero
    /// Loading the program and setting up before its first instruction (reading the ELF file,
    /// the address space, the initial stack, the engine, the watchdog).
    public var loading: Duration = .zero
    /// Whether the run was sampled (`Configuration.measuresTime`); if not, only `wall` and
    /// `loading` are known.
    public var isSampled = false
    /// The sampling thread's looks.
    public var samples: UInt64 = 0
    /// The first guest thread (the one that ran `main`): with `loading`, its figures add up to
    /// `wall`.
    public var firstThread = Activities()
    /// Guest threads the run had, the first included.
    public var threads = 0
    /// Every guest thread's figures summed (thread time, more than the wall time when threads
    /// ran at once).
    public var allThreads = Activities()
    /// CPU time of the background compile workers: beside the guest's threads, not part of
    /// `wall`.
    public var backgroundCompiling: Duration = .zero
    /// Background compile workers (0: compiles ran on the guest's thread, in `compiling`).
    public var compileWorkers = 0

    /// Creates an empty breakdown.
    public init() {}

    /// The "time" section of the summary.
    var summary: [String] {
        guard isSampled else {
            return [
                "time            \(duration(wall)) wall, of which loading \(duration(loading)) (no breakdown: Configuration.measuresTime is off)"
            ]
        }
        var lines = [
            "time            \(duration(wall)) wall; sampled (\(grouped(samples)) looks)"
                + (threads > 1 ? ", \(threads) guest threads" : "")
        ]
        let several = threads > 1
        var header = ["", several ? "first thread" : "time", "share"]
        if several { header += ["all threads, summed", "share"] }
        var rows = [header]
        let firstTotal = max(seconds(wall), 1e-12)
        let allTotal = max(seconds(loading + allThreads.total), 1e-12)
        func cells(_ first: Duration, _ all: Duration) -> [String] {
            var row = [duration(first), percent(seconds(first) / firstTotal)]
            if several { row += [duration(all), percent(seconds(all) / allTotal)] }
            return row
        }
        rows.append(["loading"] + cells(loading, loading))
        for (a, b) in zip(firstThread.named, allThreads.named) { rows.append([a.label] + cells(a.time, b.time)) }
        rows.append(["total"] + cells(wall, loading + allThreads.total))
        lines += table(rows, rightAligned: Set(1..<header.count)).map { "  " + $0 }
        if compileWorkers > 0 {
            lines.append(
                "  background compiling: \(duration(backgroundCompiling)) of CPU in \(compileWorkers) worker thread\(compileWorkers == 1 ? "" : "s"), beside the guest (not in the wall time)"
            )
        }
        return lines
    }

    /// The "time" object of the JSON.
    var json: JSONValue {
        func object(_ a: Activities) -> JSONValue {
            var o = JSONObject()
            for (_, key, time) in a.named { o[key + "_seconds"] = .number(seconds(time)) }
            o["total_seconds"] = .number(seconds(a.total))
            return .object(o)
        }
        var o = JSONObject()
        o["wall_seconds"] = .number(seconds(wall))
        o["loading_seconds"] = .number(seconds(loading))
        o["sampled"] = .bool(isSampled)
        o["samples"] = .int(samples)
        o["first_thread"] = object(firstThread)
        o["threads"] = .int(UInt64(threads))
        o["all_threads"] = object(allThreads)
        o["background_compile_cpu_seconds"] = .number(seconds(backgroundCompiling))
        o["compile_workers"] = .int(UInt64(compileWorkers))
        return .object(o)
    }
}

/// `0.0123 s` as `12.3 ms`; a second or more as `1.234 s`.
func duration(_ d: Duration) -> String {
    let s = seconds(d)
    return s < 1 ? formatted(s * 1000, digits: 1) + " ms" : formatted(s, digits: 3) + " s"
}

/// A share (0...1) as `12.3%`.
func percent(_ share: Double) -> String { formatted(share * 100, digits: 1) + "%" }
