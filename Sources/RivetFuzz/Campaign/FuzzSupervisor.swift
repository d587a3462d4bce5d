#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// Runs a campaign in a worker process (`rivet-fuzz --worker`, spawned from /proc/self/exe)
/// so that a case that crashes or hangs the host is caught: when the worker dies of a signal,
/// exits abnormally, or takes longer than the watchdog over one case (then it is killed), the
/// case it was running becomes a host crash with a reproducer `OUT/crash-SEED-CASE/`, and a
/// new worker carries on from the next case.
///
/// It prints a line of progress every `progressInterval` and a summary at the end; SIGINT and
/// SIGTERM end the campaign early, with the summary.
package final class FuzzSupervisor {
    /// The campaign (its output directory made absolute when it starts).
    package private(set) var options: FuzzCampaignOptions
    /// The program spawned as the worker.
    package let executable: String
    private var statistics = FuzzStatistics()
    private var reproducers: [String] = []
    /// Crashes by where they happened (`CrashSignature`), in the order first seen.
    private var crashSites: [(signature: String, count: Int)] = []
    /// Reproducers kept per crash site; later crashes at the same site are only counted.
    static let reproducersPerSite = 5
    private let factory: FuzzCaseFactory
    private let started = Monotonic.nanoseconds()
    private var lastProgress = Monotonic.nanoseconds()
    private var next: Int

    /// A supervisor for `options`, spawning `executable` as its worker.
    package init(options: FuzzCampaignOptions, executable: String = "/proc/self/exe") {
        self.options = options
        self.executable = executable
        self.factory = FuzzCaseFactory(seed: options.seed, kinds: options.kinds)
        self.next = options.firstCase
    }

    /// Runs the campaign to its end (count, duration, or an interrupt).
    /// - Returns: the exit status: 0 if nothing was found, 1 if a crash or disagreement was,
    ///   2 if the campaign could not run.
    package func run() -> Int32 {
        HostFiles.makeDirectories(options.outputDirectory)
        guard let absolute = realpath(options.outputDirectory, nil) else {
            print("rivet-fuzz: cannot create \(options.outputDirectory)")
            return 2
        }
        options.outputDirectory = String(cString: absolute)
        free(absolute)
        let current = FuzzWorker.currentDirectory(options.outputDirectory)
        HostFiles.makeDirectories(current)

        // SIGINT and SIGTERM stay pending, to be noticed between polls of the worker.
        var stopping = sigset_t()
        sigemptyset(&stopping)
        sigaddset(&stopping, SIGINT)
        sigaddset(&stopping, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &stopping, nil)
        defer { pthread_sigmask(SIG_UNBLOCK, &stopping, nil) }

        let end = options.count.map { options.firstCase + $0 }
        let deadline = options.duration.map { started + Self.nanoseconds($0) }
        let kinds = options.kinds.map(\.rawValue).joined(separator: ",")
        print("rivet-fuzz: seed \(options.seed), kinds \(kinds), reproducers in \(options.outputDirectory)")
        print("rivet-fuzz: rerun a case with: \(options.rerunCommand) --case N")
        flush()

        var interrupted = false
        var fruitless = 0
        while !interrupted, end.map({ next < $0 }) ?? true, deadline.map({ Monotonic.nanoseconds() < $0 }) ?? true {
            let before = next
            guard let worker = spawn(options.workerArguments(first: next, end: end, deadline: deadline), current: current)
            else {
                print("rivet-fuzz: cannot start the worker (\(executable))")
                return 2
            }
            let ending = supervise(worker)
            switch ending {
            case .finished:
                if next == before { fruitless += 1 }
            case .interrupted:
                interrupted = true
            case .died(let why):
                if recordCrash(why, current: current) { fruitless = 0 } else { fruitless += 1 }
            }
            if fruitless >= 3 {
                print("rivet-fuzz: the worker keeps ending without running a case; giving up")
                break
            }
        }
        // Scratch directories of a worker that was killed.
        for name in HostFiles.entries(current) where name.hasPrefix("scratch-") { HostFiles.removeTree(current + "/" + name) }
        let seconds = Double(Monotonic.nanoseconds() - started) / 1e9
        if interrupted { print("rivet-fuzz: interrupted") }
        print(statistics.summary(seed: options.seed, seconds: seconds), terminator: "")
        for path in reproducers { print("  reproducer: \(path)") }
        if !crashSites.isEmpty {
            print("rivet-fuzz: \(crashSites.count) distinct host crash sites:")
            for site in crashSites { print("  \(site.count)x  \(site.signature)") }
        }
        flush()
        return statistics.total.found ? 1 : 0
    }

    // MARK: The worker

    /// A running worker: its process and the read end of its report pipe.
    struct Worker {
        /// Its process id.
        var pid: pid_t
        /// The read end of the pipe it reports on.
        var reports: Int32
    }

    /// How a worker's run ended.
    enum Ending {
        /// It exited with status 0: it reached its end or deadline.
        case finished
        /// The campaign was interrupted; the worker was killed.
        case interrupted
        /// It died (a signal, a bad exit status) or hung; says which.
        case died(String)
    }

    /// Spawns a worker with `arguments`: standard input /dev/null, standard output a pipe to
    /// us, standard error `current/worker-stderr`, in its own process group (so a terminal's
    /// Ctrl-C reaches only the supervisor), with no signal blocked.
    func spawn(_ arguments: [String], current: String) -> Worker? {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addopen(
            &actions, 2, current + "/worker-stderr", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv: [UnsafeMutablePointer<CChar>?] = (["rivet-fuzz"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(fds[1])
        guard spawned == 0 else {
            close(fds[0])
            return nil
        }
        return Worker(pid: pid, reports: fds[0])
    }

    /// Reads the worker's reports until it ends, counting cases, watching the time each case
    /// takes and printing progress.
    private func supervise(_ worker: Worker) -> Ending {
        defer { close(worker.reports) }
        var pending: [UInt8] = []
        var running: (index: Int, since: UInt64)? = nil
        var hung = false
        var interrupted = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        readLoop: while true {
            var poller = pollfd(fd: worker.reports, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready > 0 {
                let n = buffer.withUnsafeMutableBytes { read(worker.reports, $0.baseAddress, $0.count) }
                if n == 0 { break readLoop }
                if n > 0 {
                    pending += buffer[0..<n]
                    while let newline = pending.firstIndex(of: 0x0a) {
                        let line = String(decoding: pending[..<newline], as: UTF8.self)
                        pending.removeSubrange(...newline)
                        handle(line, running: &running)
                    }
                }
            }
            var signals = sigset_t()
            sigpending(&signals)
            if sigismember(&signals, SIGINT) == 1 || sigismember(&signals, SIGTERM) == 1 {
                // Take the signal, so that it does not kill us when unblocked.
                var stopping = sigset_t()
                sigemptyset(&stopping)
                sigaddset(&stopping, sigismember(&signals, SIGINT) == 1 ? SIGINT : SIGTERM)
                var taken: Int32 = 0
                sigwait(&stopping, &taken)
                interrupted = true
                kill(worker.pid, SIGKILL)
                break readLoop
            }
            if let running, Monotonic.nanoseconds() - running.since > Self.nanoseconds(options.watchdog) {
                hung = true
                kill(worker.pid, SIGKILL)
                break readLoop
            }
            progress()
        }
        var status: Int32 = 0
        while waitpid(worker.pid, &status, 0) < 0 && errno == EINTR {}
        if interrupted { return .interrupted }
        if hung {
            let limit = Int(FuzzCampaignOptions.seconds(options.watchdog))
            return .died("it ran this case for more than \(limit) s (a hang); it was killed")
        }
        let signal = status & 0x7f
        if signal != 0 {
            let name = strsignal(signal).map { String(cString: $0) } ?? "?"
            return .died("the worker was killed by signal \(signal) (\(name)) while running this case")
        }
        let exitStatus = (status >> 8) & 0xff
        return exitStatus == 0 ? .finished : .died("the worker exited with status \(exitStatus) while running this case")
    }

    /// Acts on one report line.
    private func handle(_ line: String, running: inout (index: Int, since: UInt64)?) {
        let words = line.split(separator: " ").map(String.init)
        if words.count == 2, words[0] == "start", let index = Int(words[1]) {
            running = (index, Monotonic.nanoseconds())
        } else if words.count == 8, words[0] == "done", let index = Int(words[1]), let kind = FuzzKind(rawValue: words[2]),
            let programs = Int(words[3]), let compiled = UInt64(words[6]), let instructions = UInt64(words[7])
        {
            running = nil
            let disagreed = words[4] == "disagree"
            statistics.recordCase(
                kind, programs: programs, disagreed: disagreed, varies: words[4] == "varies", ending: words[5],
                autoInstructions: (compiled: compiled, all: instructions))
            next = index + 1
            if disagreed {
                let path = options.outputDirectory + "/disagreement-\(options.seed)-\(index)"
                reproducers.append(path)
                print("rivet-fuzz: case \(index) (\(kind.rawValue)): the tiers disagree; reproducer \(path)")
                flush()
            }
        }
    }

    /// Records the case the worker was running when it died as a host crash, with its
    /// reproducer; moves `next` past it.
    /// - Returns: false if the worker died before starting any case.
    private func recordCrash(_ why: String, current: String) -> Bool {
        guard let text = try? HostFiles.read(current + "/case"),
            let index = Int(String(decoding: text, as: UTF8.self).split(separator: "\n").first ?? ""), index >= next
        else {
            print("rivet-fuzz: the worker died before running a case: \(why)")
            return false
        }
        let kind = factory.kind(of: index)
        statistics.recordCrash(kind)
        next = index + 1
        let errors = (try? HostFiles.read(current + "/worker-stderr")) ?? []
        let signature = CrashSignature.of(errorOutput: String(decoding: errors.suffix(65536), as: UTF8.self), why: why)
        let seen: Int
        if let at = crashSites.firstIndex(where: { $0.signature == signature }) {
            crashSites[at].count += 1
            seen = crashSites[at].count
        } else {
            crashSites.append((signature, 1))
            seen = 1
        }
        guard seen <= Self.reproducersPerSite else {
            print("rivet-fuzz: case \(index) (\(kind.rawValue)): host crash at a known site (\(signature)); not kept")
            flush()
            return true
        }
        let path = options.outputDirectory + "/crash-\(options.seed)-\(index)"
        HostFiles.makeDirectories(path)
        var readme: String
        if let program = try? HostFiles.read(current + "/program"), let pending = try? HostFiles.read(current + "/README") {
            try? HostFiles.write(program, to: path + "/program", mode: 0o755)
            readme = String(decoding: pending, as: UTF8.self)
        } else {
            readme = "rivet-fuzz host crash\n\nseed:    \(options.seed)\ncase:    \(index)\nkind:    \(kind.rawValue)\n"
                + "rerun:   \(options.rerunCommand) --case \(index)\n\n"
                + "The crash came before the program was written: while generating it.\n"
        }
        var happened = "\nWhat happened: \(why).\nWhere: \(signature)\n"
        if !errors.isEmpty {
            // From the crash report's start if there is one (the backtrace), else the end.
            let all = String(decoding: errors.suffix(65536), as: UTF8.self).split(separator: "\n")
            let start = all.lastIndex { $0.hasPrefix("*** Signal") || $0.contains("Fatal error") }
            let lines = start.map { all[$0...].prefix(80) } ?? all.suffix(60)
            happened += "The worker's standard error (end):\n" + lines.map { "  | " + $0 }.joined(separator: "\n") + "\n"
        }
        if let at = readme.firstRange(of: "\n== The program ==") {
            readme.insert(contentsOf: happened, at: at.lowerBound)
        } else {
            readme += happened
        }
        try? HostFiles.write(readme, to: path + "/README")
        reproducers.append(path)
        let site = signature == why ? "" : " (\(signature))"
        print("rivet-fuzz: case \(index) (\(kind.rawValue)): host crash: \(why)\(site); reproducer \(path)")
        flush()
        return true
    }

    /// Prints a line of progress if `progressInterval` has passed since the last.
    private func progress() {
        let now = Monotonic.nanoseconds()
        guard now - lastProgress >= Self.nanoseconds(options.progressInterval) else { return }
        lastProgress = now
        let seconds = Double(now - started) / 1e9
        let total = statistics.total
        let rate = seconds > 0 ? Double(total.cases) / seconds : 0
        print(
            "rivet-fuzz: \(Int(seconds.rounded())) s: \(FuzzStatistics.line(total)), "
                + "\((rate * 10).rounded() / 10) cases/s, next case \(next)")
        flush()
    }

    private func flush() { fflush(nil) }

    /// `duration` in nanoseconds (0 for negative ones).
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, FuzzCampaignOptions.seconds(duration) * 1e9))
    }
}
