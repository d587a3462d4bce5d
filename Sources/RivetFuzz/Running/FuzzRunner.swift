#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// Runs a guest program in-process under one tier, as the fuzzer does: a fresh scratch
/// directory as the only grant (the guest's `/scratch` and working directory), standard input
/// from /dev/null, standard output and error captured, limits on instructions, time and memory,
/// a fixed random seed.
package struct FuzzRunner: Sendable {
    /// Bytes of standard output an outcome keeps (all of it is hashed).
    package static let outputKept = 1 << 16
    /// Bytes of standard error an outcome keeps.
    static let diagnosticsKept = 4096

    /// The bounds of each run.
    package var limits: FuzzLimits
    /// Where the runs' scratch directories are made (`scratch-XXXXXX`); nil for `TMPDIR` or /tmp.
    package var scratchParent: String?

    /// A runner with `limits`, making scratch directories in `scratchParent`.
    package init(limits: FuzzLimits = FuzzLimits(), scratchParent: String? = nil) {
        self.limits = limits
        self.scratchParent = scratchParent
    }

    /// Runs the program at `programPath` under `tier`, with `setup` for the compiled tiers.
    /// - Parameter randomSeed: the guest's AT_RANDOM and getrandom seed.
    /// - Returns: the outcome; a host failure to set up the run (no temporary file) is a
    ///   `.rejected` outcome naming it.
    package func run(programPath: String, tier: FuzzTier, setup: FuzzEngineSetup, randomSeed: UInt64) -> FuzzOutcome {
        let scratch: String
        let output: CapturedOutput
        let errors: CapturedOutput
        do {
            scratch = try HostFiles.makeTemporaryDirectory(
                scratchParent == nil ? "rivet-fuzz-scratch" : "scratch", in: scratchParent)
            output = try CapturedOutput()
            errors = try CapturedOutput()
        } catch {
            return FuzzOutcome(ending: .rejected("host: \(error.message)"))
        }
        defer { HostFiles.removeTree(scratch) }
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(input) }

        var configuration = Configuration()
        configuration.programName = "/program"
        configuration.directories = [DirectoryGrant(hostPath: scratch, guestPath: "/scratch", isWritable: true)]
        configuration.workingDirectory = "/scratch"
        configuration.standardInput = .fileDescriptor(input)
        configuration.standardOutput = .fileDescriptor(output.fd)
        configuration.standardError = .fileDescriptor(errors.fd)
        // Rivet's warnings (unsupported syscalls) go with the guest's standard error, not the host's.
        let diagnostics = errors.fd
        configuration.diagnostics = { message in
            let bytes = Array((message.hasSuffix("\n") ? message : message + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(diagnostics, $0.baseAddress, $0.count) }
        }
        configuration.randomSeed = randomSeed | 1
        configuration.limits = Limits(
            instructions: limits.instructions, memoryBytes: limits.memoryBytes, openFiles: 1024, wallTime: limits.wallTime)
        tier.configure(&configuration)
        configuration.codeCacheBytes = setup.codeCacheBytes
        configuration.compileThreads = setup.compileThreads
        configuration.cachePolicy = setup.cachePolicy

        var outcome: FuzzOutcome
        do {
            let vm = try VirtualMachine(programPath: programPath, configuration: configuration)
            let reason = vm.run()
            let ending: FuzzOutcome.Ending
            var detail = ""
            switch reason {
            case .exited(let status): ending = .exited(status)
            case .signaled(let signal, let text):
                ending = .signaled(signal)
                detail = text ?? ""
            case .instructionLimitReached: ending = .instructionLimit
            case .timeLimitReached: ending = .timeLimit
            case .paused, .cancelled: ending = .timeLimit  // the fuzzer neither pauses nor cancels
            }
            let printed = output.contents(limit: Self.outputKept)
            outcome = FuzzOutcome(
                ending: ending, instructions: vm.statistics.instructions, output: printed.bytes, outputSize: printed.size,
                outputHash: printed.hash, files: HostFiles.listTree(scratch))
            outcome.detail = detail
            let compiled = vm.statistics.tiers.filter { $0.name != "interp" }
            outcome.compiledInstructions = compiled.reduce(0) { $0 + $1.instructions }
        } catch {
            outcome = FuzzOutcome(ending: .rejected(error.message), files: HostFiles.listTree(scratch))
        }
        let stderr = errors.contents(limit: Self.diagnosticsKept)
        outcome.diagnostics = String(decoding: stderr.bytes, as: UTF8.self)
        return outcome
    }
}
