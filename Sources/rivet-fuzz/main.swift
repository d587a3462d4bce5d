import ArgumentParser
import RivetFuzz

/// `rivet-fuzz`: the long-running differential fuzzer. Parses the command line and hands over
/// to `RivetFuzz`: a supervisor and its worker process, or one case rerun in-process.
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rivet-fuzz",
        abstract: "Fuzz Rivet: run random guest programs under every tier and compare them.",
        discussion: """
            Each case is a random instruction stream, a random control-flow program, a mutated ELF \
            file or a program of random syscalls, run under the interpreter, the baseline JIT and \
            auto (tier-up after 2 executions). A case whose tiers end, print or leave files \
            differently is a disagreement (reproducer OUT/disagreement-SEED-CASE/); one that kills \
            or hangs the host process is a host crash (OUT/crash-SEED-CASE/). Cases run in a worker \
            process that is restarted after a crash. Exits with 1 if anything was found.
            """)

    @Option(help: ArgumentHelp("The campaign's seed, decimal or 0x-hex (default: random, printed).", valueName: "N"))
    var seed: String?

    @Option(help: ArgumentHelp("Run this many cases.", valueName: "N"))
    var count: Int?

    @Option(help: ArgumentHelp(
        "Run for this long (without --count or --duration: until interrupted).", valueName: "SECONDS"))
    var duration: Double?

    @Option(help: ArgumentHelp("The kinds of case, comma-separated.", valueName: "instructions,control,elf,syscalls"))
    var kinds = FuzzKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(
        name: .customLong("case"),
        help: ArgumentHelp("Rerun this one case in-process and print every tier's outcome.", valueName: "I"))
    var caseIndex: Int?

    @Option(help: ArgumentHelp("Where reproducers go.", valueName: "DIR"))
    var out = "fuzz-out"

    @Option(name: .customLong("max-insns"), help: ArgumentHelp("Instruction limit of each run.", valueName: "N"))
    var maxInstructions: UInt64 = FuzzLimits().instructions

    @Option(help: ArgumentHelp("Wall-time limit of each run.", valueName: "SECONDS"))
    var timeout: Double = FuzzCampaignOptions.seconds(FuzzLimits().wallTime)

    @Flag(help: .hidden)
    var worker = false

    @Option(help: .hidden)
    var first = 0

    @Option(help: .hidden)
    var end: Int?

    @Option(help: .hidden)
    var deadline: UInt64?

    func validate() throws {
        if let seed, Self.number(seed) == nil { throw ValidationError("--seed: not a number: \(seed)") }
        if FuzzKind.list(kinds) == nil {
            throw ValidationError("--kinds: expected some of instructions,control,elf,syscalls")
        }
        if let count, count < 0 { throw ValidationError("--count must not be negative") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        var options = FuzzCampaignOptions(seed: seed.flatMap(Self.number) ?? UInt64.random(in: 0...UInt64.max))
        options.kinds = FuzzKind.list(kinds) ?? FuzzKind.allCases
        options.count = count
        options.duration = duration.map { .microseconds(Int64($0 * 1_000_000)) }
        options.firstCase = first
        options.outputDirectory = out
        options.limits.instructions = maxInstructions
        options.limits.wallTime = .microseconds(Int64(timeout * 1_000_000))
        let status: Int32
        if worker {
            status = FuzzWorker(options: options, end: end, deadline: deadline).run()
        } else if let caseIndex {
            status = FuzzRerun.run(options, index: caseIndex)
        } else {
            status = FuzzSupervisor(options: options).run()
        }
        throw ExitCode(status)
    }

    /// A decimal or 0x-hexadecimal number.
    static func number(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }
}

FuzzCommand.main()
