#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// The process that runs a campaign's cases for the supervisor (`rivet-fuzz --worker`).
///
/// Before each case it leaves in `OUT/.current/` the case's number (`case`), then its program
/// (`program`, which the tiers run) and the start of its reproducer (`README`), so that if
/// the case kills the process the supervisor still has all it needs. The runs' scratch
/// directories are made there too, so that the next worker removes those a crash left. It reports on standard
/// output, a line per event: `start CASE` before a case, `done CASE KIND PROGRAMS agree ENDING
/// COMPILED INSTRUCTIONS` (or `disagree`; ENDING is how the reference tier's run ended,
/// `FuzzOutcome.Ending.category`; the last two count the `auto` tier's instructions run in
/// compiled code and in all) after it. Disagreements' reproducers it writes itself.
package struct FuzzWorker {
    /// The campaign; `firstCase` is where this worker starts.
    package var options: FuzzCampaignOptions
    /// The case to stop before; nil for no bound.
    package var end: Int?
    /// `CLOCK_MONOTONIC` nanoseconds after which no case is started; nil for no bound.
    package var deadline: UInt64?

    /// A worker for `options`, stopping before case `end` or at `deadline`.
    package init(options: FuzzCampaignOptions, end: Int?, deadline: UInt64?) {
        self.options = options
        self.end = end
        self.deadline = deadline
    }

    /// The directory a worker keeps the current case in.
    package static func currentDirectory(_ outputDirectory: String) -> String { outputDirectory + "/.current" }

    /// Runs cases until `end` or `deadline`.
    /// - Returns: the exit status: 0, or 2 if the output directory cannot be written.
    package func run() -> Int32 {
        let current = Self.currentDirectory(options.outputDirectory)
        HostFiles.makeDirectories(current)
        // Scratch directories a crashed worker left behind.
        for name in HostFiles.entries(current) where name.hasPrefix("scratch-") { HostFiles.removeTree(current + "/" + name) }
        let session = FuzzSession(
            factory: FuzzCaseFactory(seed: options.seed, kinds: options.kinds),
            runner: FuzzRunner(limits: options.limits, scratchParent: current),
            programPath: current + "/program", outputDirectory: options.outputDirectory,
            rerunCommand: options.rerunCommand)
        var index = options.firstCase
        while end.map({ index < $0 }) ?? true, deadline.map({ Monotonic.nanoseconds() < $0 }) ?? true {
            unlink(current + "/program")
            unlink(current + "/README")
            do {
                try HostFiles.write("\(index)\n", to: current + "/case")
            } catch {
                return 2
            }
            report("start \(index)")
            let result: FuzzCaseResult
            do {
                let fuzzCase = try session.prepare(index)
                let header = FuzzReproducer.header(
                    title: "rivet-fuzz host crash", fuzzCase: fuzzCase, rerunCommand: options.rerunCommand,
                    limits: options.limits)
                try HostFiles.write(header + "\n== The program ==\n" + fuzzCase.listing + "\n", to: current + "/README")
                // Standard error (a file the supervisor reads after a crash) holds this case only.
                _ = ftruncate(2, 0)
                result = session.run(fuzzCase)
            } catch {
                return 2
            }
            let kind = result.fuzzCase.kind.rawValue
            let ending = result.outcomes.first?.outcome.ending.category ?? "rejected"
            let auto = result.outcomes.first { $0.tier.tier == .auto }?.outcome
            report(
                "done \(index) \(kind) \(result.outcomes.count) \(result.verdict) \(ending) "
                    + "\(auto?.compiledInstructions ?? 0) \(auto?.instructions ?? 0)")
            index += 1
        }
        return 0
    }

    /// Writes one protocol line to standard output, unbuffered.
    private func report(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { exit(3) }  // The supervisor is gone.
            done += n
        }
    }
}
