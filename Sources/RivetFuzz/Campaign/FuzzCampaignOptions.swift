/// What a fuzzing campaign runs: the seed, the kinds, how long, where reports go. The command
/// line of `rivet-fuzz` fills it; the supervisor passes it on to its worker as arguments
/// (`workerArguments`), which the same command line parses back.
package struct FuzzCampaignOptions: Sendable {
    /// The campaign's seed.
    package var seed: UInt64
    /// The kinds of case to make.
    package var kinds: [FuzzKind] = FuzzKind.allCases
    /// Cases to run; nil to run until `duration` ends (or for ever when both are nil).
    package var count: Int? = nil
    /// How long to run; nil to run `count` cases.
    package var duration: Duration? = nil
    /// The first case's number.
    package var firstCase = 0
    /// Where reproducers go.
    package var outputDirectory = "fuzz-out"
    /// The bounds of each run.
    package var limits = FuzzLimits()
    /// How long one case may take before the supervisor declares the worker hung.
    package var watchdog: Duration = .seconds(30)
    /// How often the supervisor prints progress.
    package var progressInterval: Duration = .seconds(10)

    /// Options for `seed`, every kind, running for ever.
    package init(seed: UInt64) {
        self.seed = seed
    }

    /// The command that reruns a case of this campaign (without `--case`): the seed, and the
    /// kinds and limits when they are not the defaults.
    package var rerunCommand: String {
        var command = "swift run -c release rivet-fuzz --seed \(seed)"
        if kinds != FuzzKind.allCases { command += " --kinds " + kinds.map(\.rawValue).joined(separator: ",") }
        if limits.instructions != FuzzLimits().instructions { command += " --max-insns \(limits.instructions)" }
        if limits.wallTime != FuzzLimits().wallTime { command += " --timeout \(Self.seconds(limits.wallTime))" }
        return command
    }

    /// The arguments of a worker running cases `first...` (up to `end` exclusive, or until the
    /// monotonic clock reaches `deadline` nanoseconds).
    package func workerArguments(first: Int, end: Int?, deadline: UInt64?) -> [String] {
        var arguments = [
            "--worker", "--seed", "\(seed)", "--first", "\(first)", "--kinds", kinds.map(\.rawValue).joined(separator: ","),
            "--out", outputDirectory, "--max-insns", "\(limits.instructions)",
            "--timeout", "\(Self.seconds(limits.wallTime))",
        ]
        if let end { arguments += ["--end", "\(end)"] }
        if let deadline { arguments += ["--deadline", "\(deadline)"] }
        return arguments
    }

    /// `duration` in seconds.
    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
