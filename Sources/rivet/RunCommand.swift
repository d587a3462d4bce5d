import ArgumentParser
import Rivet

#if canImport(Glibc)
import Glibc
#endif

/// `rivet run [options] PROGRAM [ARGS...]`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a riscv64 Linux program.",
        discussion: """
            The guest sees only the current directory (read-write) and the directories granted \
            with --dir and --dir-ro; --host-fs shows it the whole host filesystem. Dynamically \
            linked programs load their interpreter and libraries from the sysroot, which the \
            guest sees read-only as /. The exit status is the guest's, or 128 + the signal that \
            killed it, as a shell reports it.
            """)

    @Option(name: .customLong("env"), help: ArgumentHelp("Set an environment variable for the guest.", valueName: "KEY=VALUE"))
    var setEnvironment: [String] = []

    @Option(name: .customLong("unset-env"), help: ArgumentHelp("Remove a variable from the guest's environment.", valueName: "KEY"))
    var unsetEnvironment: [String] = []

    @Flag(name: .customLong("clear-env"), help: "Start the guest with an empty environment instead of the host's.")
    var clearEnvironment = false

    @Option(name: .customLong("dir"), help: ArgumentHelp("Grant a host directory read-write, at GUEST (default: the same path).", valueName: "HOST[:GUEST]"))
    var writableDirectories: [String] = []

    @Option(name: .customLong("dir-ro"), help: ArgumentHelp("Grant a host directory read-only.", valueName: "HOST[:GUEST]"))
    var readOnlyDirectories: [String] = []

    @Flag(name: .customLong("no-cwd"), help: "Do not grant the current directory.")
    var noWorkingDirectory = false

    @Flag(name: .customLong("host-fs"), help: "Let the guest see the whole host filesystem, like qemu-user.")
    var hostFilesystem = false

    @Flag(name: .customLong("net"), help: "Let the guest use sockets and the host's network (Unix-socket paths obey the grants).")
    var network = false

    @Option(help: ArgumentHelp("Where dynamically linked programs find their interpreter and libraries.", valueName: "PATH"))
    var sysroot: String?

    @Option(name: .customLong("max-insns"), help: ArgumentHelp("Stop the guest after N instructions (exit status 124).", valueName: "N"))
    var maxInstructions: UInt64?

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Stop the guest after this many seconds (exit status 124).", valueName: "SECONDS"))
    var timeout: Double?

    @Option(name: .customLong("memory-limit"), help: ArgumentHelp("Most guest memory, e.g. 512M or 4G.", valueName: "SIZE"))
    var memoryLimit: String?

    @Option(help: ArgumentHelp(
        "Which tiers run guest code: interp (interpreter only), baseline (compile every block at once), auto (compile hot blocks, then hot loops again optimized), opt (compile every block at once, optimized where tier 2 can).",
        valueName: "TIER"))
    var tier: String = RunOptions.defaultTier

    @Option(name: .customLong("tier-threshold"), help: ArgumentHelp(
        "Executions before a block moves up a tier: T1 to the baseline JIT, T2 (iterations of a loop) to the optimizing tier.", valueName: "T1=N,T2=M"))
    var tierThreshold: String?

    @Flag(name: .customLong("fixed-threshold"), help: "Keep the threshold fixed instead of adapting it to the compile queue and the interpreter's share.")
    var fixedThreshold = false

    @Flag(name: .customLong("exact-counts"), help: "Count every run of every compiled block, for exact --stats figures (by default a block stops counting after 20,000 runs); slower by up to a tenth on code-heavy programs.")
    var exactCounts = false

    @Option(name: .customLong("jit-threads"), help: ArgumentHelp(
        "Threads compiling in the background (default 0: compiles on the guest thread).",
        valueName: "N"))
    var jitThreads: Int?

    @Option(name: .customLong("compile-timeout"), help: ArgumentHelp(
        "Microseconds a compile may take (default 10000); a slower one is discarded and counted, and its block stays interpreted and backs off.",
        valueName: "US"))
    var compileTimeout: Int?

    @Option(name: .customLong("code-cache"), help: ArgumentHelp(
        "Memory for compiled code, e.g. 64K or 64M (default 64M); when full, code is evicted piece by piece.",
        valueName: "SIZE"))
    var codeCache: String?

    @Flag(name: .customLong("w-xor-x"), help: "Write compiled code through a mapping of its own, never where it runs (no page both writable and executable); every fork then copies the code cache.")
    var writeXorExecute = false

    @Option(name: .customLong("interp-cache"), help: ArgumentHelp(
        "Memory for the interpreter's decoded blocks, e.g. 4M (default 32M); when full, blocks are evicted and decoded again.",
        valueName: "SIZE"))
    var interpreterCache: String?

    @Option(name: .customLong("cache-policy"), help: ArgumentHelp(
        "What the code cache evicts first: lru, lfu or value (compile cost × reuse / size); flush (empty it all) exists for comparison.",
        valueName: "POLICY"))
    var cachePolicy: String?

    @Option(name: .customLong("stats-json"), help: ArgumentHelp("Write the statistics as JSON to FILE at exit.", valueName: "FILE"))
    var statsJSON: String?

    @Flag(name: .customLong("perf-map"), help: "Write /tmp/perf-PID.map so that perf report names compiled code.")
    var perfMap = false

    @Flag(help: "Print a summary at exit: where the time went (loading, compiled code, interpreter, compiling, syscalls, waiting), instructions, MIPS, tiers, caches, syscalls.")
    var stats = false

    @Flag(help: "Print each executed instruction with its disassembly and changed registers.")
    var trace = false

    @Flag(name: .customLong("trace-syscalls"), help: "Print every syscall with its arguments and result.")
    var traceSyscalls = false

    @Option(name: [.customShort("g"), .customLong("gdb")], help: ArgumentHelp(
        "Wait for gdb on 127.0.0.1:PORT before the first instruction (target remote :PORT); the guest then runs in the interpreter only.",
        valueName: "PORT"))
    var gdbPort: UInt16?

    @Option(name: .customLong("argv0"), help: ArgumentHelp("The guest's argv[0] (default: PROGRAM as given).", valueName: "NAME"))
    var argv0: String?

    @Option(help: ArgumentHelp("Seed AT_RANDOM and getrandom, for reproducible runs.", valueName: "N"))
    var seed: UInt64?

    @Argument(help: "The riscv64 ELF program to run.")
    var program: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the program.")
    var arguments: [String] = []

    /// These options, as the plain values `RunOptions.run` works from.
    var options: RunOptions {
        var o = RunOptions(program: program, arguments: arguments)
        o.setEnvironment = setEnvironment
        o.unsetEnvironment = unsetEnvironment
        o.clearEnvironment = clearEnvironment
        o.writableDirectories = writableDirectories
        o.readOnlyDirectories = readOnlyDirectories
        o.noWorkingDirectory = noWorkingDirectory
        o.hostFilesystem = hostFilesystem
        o.network = network
        o.sysroot = sysroot
        o.maxInstructions = maxInstructions
        o.timeout = timeout
        o.memoryLimit = memoryLimit
        o.tier = tier
        o.tierThreshold = tierThreshold
        o.fixedThreshold = fixedThreshold
        o.exactCounts = exactCounts
        o.jitThreads = jitThreads
        o.compileTimeout = compileTimeout
        o.codeCache = codeCache
        o.writeXorExecute = writeXorExecute
        o.interpreterCache = interpreterCache
        o.cachePolicy = cachePolicy
        o.statsJSON = statsJSON
        o.perfMap = perfMap
        o.stats = stats
        o.trace = trace
        o.traceSyscalls = traceSyscalls
        o.gdbPort = gdbPort
        o.argv0 = argv0
        o.seed = seed
        return o
    }

    func run() throws { try options.run() }
}

/// What `rivet run` was asked, as plain values. `RunCommand` parses them with ArgumentParser,
/// whose reflection over 30 property wrappers took a fifth of a short run (`rivet run
/// Examples/hello`: about 1.8 of 8.6 ms, `perf record`), so the common command line with no
/// option before the program skips it (`plain`); the defaults here are `RunCommand`'s.
struct RunOptions {
    /// The tier when none is given.
    static let defaultTier = "auto"

    var setEnvironment: [String] = []
    var unsetEnvironment: [String] = []
    var clearEnvironment: Bool = false
    var writableDirectories: [String] = []
    var readOnlyDirectories: [String] = []
    var noWorkingDirectory: Bool = false
    var hostFilesystem: Bool = false
    var network: Bool = false
    var sysroot: String?
    var maxInstructions: UInt64?
    var timeout: Double?
    var memoryLimit: String?
    var tier: String = RunOptions.defaultTier
    var tierThreshold: String?
    var fixedThreshold: Bool = false
    var exactCounts: Bool = false
    var jitThreads: Int?
    var compileTimeout: Int?
    var codeCache: String?
    var writeXorExecute: Bool = false
    var interpreterCache: String?
    var cachePolicy: String?
    var statsJSON: String?
    var perfMap: Bool = false
    var stats: Bool = false
    var trace: Bool = false
    var traceSyscalls: Bool = false
    var gdbPort: UInt16?
    var argv0: String?
    var seed: UInt64?
    var program: String
    var arguments: [String] = []

    init(program: String, arguments: [String]) {
        self.program = program
        self.arguments = arguments
    }

    /// `run PROGRAM [ARGS...]` with no option before the program: its options without parsing
    /// (everything after the program is the program's, as `RunCommand` captures it); nil for
    /// any other command line.
    static func plain(_ commandLine: [String]) -> RunOptions? {
        guard commandLine.count >= 2, commandLine[0] == "run", !commandLine[1].hasPrefix("-"), !commandLine[1].isEmpty
        else { return nil }
        return RunOptions(program: commandLine[1], arguments: Array(commandLine[2...]))
    }

    /// Runs the program and ends the process with its status (straight away: ArgumentParser's
    /// `exit(withError:)` built a help message for an `ExitCode` too, a millisecond of a short
    /// run); throws only for a bad option.
    func run() throws -> Never {
        var configuration = Configuration()
        configuration.arguments = arguments
        configuration.environment = environment()
        let cwd = currentDirectory()
        configuration.workingDirectory = cwd
        if !noWorkingDirectory { configuration.directories.append(DirectoryGrant(hostPath: cwd, isWritable: true)) }
        for spec in writableDirectories { configuration.directories.append(try grant(spec, writable: true)) }
        for spec in readOnlyDirectories { configuration.directories.append(try grant(spec, writable: false)) }
        configuration.grantsHostFilesystem = hostFilesystem
        configuration.grantAdvice =
            "by default rivet grants only the working directory, read-write; "
            + "grant more with --dir HOST[:GUEST], --dir-ro HOST[:GUEST] or --host-fs"
        if let argv0 { configuration.programName = argv0 }
        configuration.network = network
        if let sysroot {
            configuration.sysroot = sysroot
        } else if let named = getenv("RIVET_SYSROOT"), named.pointee != 0 {
            configuration.sysroot = String(cString: named)
        } else if access("/usr/riscv64-linux-gnu", R_OK) == 0 {
            configuration.sysroot = "/usr/riscv64-linux-gnu"
        }
        configuration.limits.instructions = maxInstructions
        if let timeout {
            guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
            configuration.limits.wallTime = .nanoseconds(Int64(timeout * 1e9))
        }
        if let memoryLimit {
            guard let bytes = parseSize(memoryLimit) else { throw ValidationError("bad --memory-limit \(memoryLimit)") }
            configuration.limits.memoryBytes = bytes
        }
        guard let tier = ExecutionTier(rawValue: tier) else {
            throw ValidationError("unknown tier '\(tier)'; choose one of: \(ExecutionTier.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        configuration.tier = tier
        if let tierThreshold {
            for part in tierThreshold.split(separator: ",") {
                let pair = part.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let value = UInt32(pair[1]), value > 0 else {
                    throw ValidationError("bad --tier-threshold '\(tierThreshold)'; expected T1=N,T2=M")
                }
                switch pair[0].uppercased() {
                case "T1": configuration.tierUpThreshold = value
                case "T2": configuration.optimizingThreshold = value
                default: throw ValidationError("bad --tier-threshold '\(tierThreshold)'; tiers are T1 and T2")
                }
            }
        }
        configuration.adaptsThresholds = !fixedThreshold
        if exactCounts { configuration.countingLimit = 0 }
        if let jitThreads {
            guard jitThreads >= 0, jitThreads <= 64 else { throw ValidationError("--jit-threads must be 0...64") }
            configuration.compileThreads = jitThreads
        }
        configuration.separatesCodeViews = writeXorExecute
        if let compileTimeout {
            guard compileTimeout >= 0 else { throw ValidationError("--compile-timeout must be 0 or more microseconds") }
            configuration.compileTimeLimit = .microseconds(compileTimeout)
        }
        if let codeCache {
            guard let bytes = parseSize(codeCache), bytes >= 16 << 10, bytes <= 1 << 32 else {
                throw ValidationError("bad --code-cache \(codeCache); give a size from 16K to 4G")
            }
            configuration.codeCacheBytes = Int(bytes)
        }
        if let interpreterCache {
            guard let bytes = parseSize(interpreterCache), bytes >= 64 << 10, bytes <= 1 << 32 else {
                throw ValidationError("bad --interp-cache \(interpreterCache); give a size from 64K to 4G")
            }
            configuration.decodedBlockCacheBytes = Int(bytes)
        }
        if let cachePolicy {
            guard let policy = CachePolicy(rawValue: cachePolicy) else {
                throw ValidationError("unknown --cache-policy '\(cachePolicy)'; choose one of: lru, lfu, value, flush")
            }
            configuration.cachePolicy = policy
        }
        configuration.writesPerfMap = perfMap
        configuration.tracesInstructions = trace
        configuration.tracesSyscalls = traceSyscalls
        configuration.measuresTime = stats || statsJSON != nil
        // The statistics' hottest blocks need every block's counts.
        configuration.countsEveryBlock = stats || statsJSON != nil
        configuration.randomSeed = seed
        configuration.forwardsHostSignals = true
        configuration.debugger = gdbPort

        let vm: VirtualMachine
        do {
            vm = try VirtualMachine(programPath: program, configuration: configuration)
        } catch {
            printError("rivet: \(error.message)")
            Glibc.exit(127)
        }
        if let port = vm.debuggerPort { printError("rivet: waiting for gdb on 127.0.0.1:\(port)") }
        let reason = vm.run()
        switch reason {
        case .exited: break
        case .signaled(let signal, let detail):
            printError("rivet: guest killed by \(signalName(signal))" + (detail.map { ": \($0)" } ?? ""))
        case .instructionLimitReached:
            printError("rivet: instruction limit reached (\(maxInstructions ?? 0) instructions)")
        case .timeLimitReached:
            printError("rivet: time limit reached (\(timeout ?? 0) s)")
        case .paused, .cancelled:
            printError("rivet: guest stopped (\(reason))")
        }
        if stats { printError(vm.statistics.summary) }
        if let statsJSON {
            let fd = open(statsJSON, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else { throw ValidationError("cannot write --stats-json \(statsJSON)") }
            var text = vm.statistics.json
            text.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        Glibc.exit(reason.shellStatus)
    }

    private func environment() -> [String] {
        var variables: [String] = []
        if !clearEnvironment {
            var cursor = environ
            while let entry = cursor.pointee {
                variables.append(String(cString: entry))
                cursor += 1
            }
        }
        func key(_ variable: String) -> Substring { variable.prefix { $0 != "=" } }
        let removed = Set(unsetEnvironment.map { Substring($0) })
        variables.removeAll { removed.contains(key($0)) }
        for assignment in setEnvironment {
            variables.removeAll { key($0) == key(assignment) }
            variables.append(assignment.contains("=") ? assignment : assignment + "=")
        }
        return variables
    }

    private func grant(_ spec: String, writable: Bool) throws -> DirectoryGrant {
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard let host = parts.first, !host.isEmpty else { throw ValidationError("bad directory grant '\(spec)'") }
        let absoluteHost = host.hasPrefix("/") ? host : currentDirectory() + "/" + host
        let guest = parts.count > 1 ? parts[1] : absoluteHost
        guard guest.hasPrefix("/") else { throw ValidationError("guest path in '\(spec)' must be absolute") }
        return DirectoryGrant(hostPath: absoluteHost, guestPath: guest, isWritable: writable)
    }
}

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard getcwd(&buffer, buffer.count) != nil else { return "/" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func parseSize(_ text: String) -> UInt64? {
    let units: [Character: UInt64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var digits = Substring(text.uppercased())
    var scale: UInt64 = 1
    if digits.hasSuffix("IB") { digits = digits.dropLast(2) } else if digits.hasSuffix("B") { digits = digits.dropLast() }
    if let last = digits.last, let unit = units[last] {
        scale = unit
        digits = digits.dropLast()
    }
    guard let value = UInt64(digits), value > 0 else { return nil }
    let (product, overflow) = value.multipliedReportingOverflow(by: scale)
    return overflow ? nil : product
}

func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV",
        13: "SIGPIPE", 15: "SIGTERM", 1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 10: "SIGUSR1", 12: "SIGUSR2", 14: "SIGALRM",
    ]
    return names[signal] ?? "signal \(signal)"
}
