/// A host directory a guest may see.
public struct DirectoryGrant: Equatable, Sendable {
    /// The host directory.
    public var hostPath: String
    /// Where the guest sees it (an absolute guest path).
    public var guestPath: String
    /// Whether the guest may create, change and delete files in it.
    public var isWritable: Bool

    /// Grants `hostPath` at `guestPath` (by default the same path).
    public init(hostPath: String, guestPath: String? = nil, isWritable: Bool) {
        self.hostPath = hostPath
        self.guestPath = guestPath ?? hostPath
        self.isWritable = isWritable
    }
}

/// Which execution tiers run guest code.
public enum ExecutionTier: String, Sendable, CaseIterable {
    /// Only the interpreter (tier 0).
    case interpreter = "interp"
    /// Every block is compiled by the baseline JIT at its first execution (for testing).
    case baseline
    /// Blocks start in the interpreter and are compiled when they turn hot; the hottest loops
    /// are compiled again by the optimizing tier in the background.
    case auto
    /// Every block is compiled at its first execution by the optimizing tier where it can, else
    /// by the baseline JIT (for testing the optimizing tier).
    case optimizing = "opt"
}

/// Which compiled code the bounded code cache evicts first.
public enum CachePolicy: String, Sendable, CaseIterable {
    /// Least recently used.
    case lru
    /// Least frequently used (recent use, decaying).
    case lfu
    /// Lowest value: compile cost × recent reuse / code size.
    case value
    /// Empty the whole cache when full: not for use, only to measure what the others save.
    case flush
}

/// Bounds on what a guest may consume. A guest that reaches one stops with an `ExitReason`
/// saying which.
public struct Limits: Equatable, Sendable {
    /// Most guest instructions to execute; nil for no bound.
    public var instructions: UInt64?
    /// Most bytes of memory for the guest: its mappings, and what Rivet allocates on its
    /// behalf — the code cache and the decoded blocks (cut to a quarter and an eighth of this
    /// when they would not fit) and about 2 MiB of fixed tables. The guest's mappings get the
    /// rest, at least half, and the same in every tier (the code cache counts under the
    /// interpreter too), so that the tier never decides whether a program fits.
    public var memoryBytes: UInt64
    /// Most open file descriptors.
    public var openFiles: Int
    /// Most wall-clock time; nil for no bound.
    public var wallTime: Duration?

    /// No instruction or time bound, 64 GiB of memory, 1024 files.
    public init(instructions: UInt64? = nil, memoryBytes: UInt64 = 64 << 30, openFiles: Int = 1024, wallTime: Duration? = nil) {
        self.instructions = instructions
        self.memoryBytes = memoryBytes
        self.openFiles = openFiles
        self.wallTime = wallTime
    }
}

/// How to run a guest program.
public struct Configuration: Sendable {
    /// argv[1...]: the arguments after the program name.
    public var arguments: [String] = []
    /// argv[0]; by default the program path as given.
    public var programName: String? = nil
    /// The environment, in order, as `KEY=VALUE` strings. Empty by default.
    public var environment: [String] = []
    /// Host directories the guest may see. None by default.
    public var directories: [DirectoryGrant] = []
    /// Let the guest see the whole host filesystem (read-write), as qemu-user does.
    public var grantsHostFilesystem = false
    /// How a user gives the guest more of the filesystem, in the words of the program that
    /// embeds Rivet. The first time the guest is refused a host path because it lies outside
    /// every grant (it sees ENOENT, which reads like a missing file), Rivet writes one note to
    /// `diagnostics`: "rivet: note: PATH is outside the directories granted to the guest, which
    /// sees ENOENT (ADVICE)". nil: advice naming `directories` and `grantsHostFilesystem`.
    public var grantAdvice: String? = nil
    /// Let the guest use sockets: AF_UNIX, AF_INET and AF_INET6, with the host's network;
    /// Unix-domain socket paths obey `directories` as open(2) does. Without it, socket(2) and
    /// every call naming an address fail with EACCES (one warning); socketpair(AF_UNIX) works.
    public var network = false
    /// The guest's initial working directory.
    public var workingDirectory = "/"
    /// Where dynamically linked programs find their interpreter and libraries: it is granted
    /// read-only at the guest's `/`, beneath the other grants. nil: static programs only.
    public var sysroot: String? = nil
    /// Resource limits.
    public var limits = Limits()
    /// Which tiers run guest code.
    public var tier: ExecutionTier = .auto
    /// Bytes of executable memory for compiled code; when full, code is evicted piece by piece.
    public var codeCacheBytes = 64 << 20
    /// Bytes of decoded blocks the interpreter keeps; past it, blocks are evicted and decoded
    /// again when next run.
    public var decodedBlockCacheBytes = 32 << 20
    /// Which compiled code is evicted first when the code cache is full.
    public var cachePolicy: CachePolicy = .lru
    /// Interpreter executions of a block before `auto` compiles it (the tier-1 threshold).
    public var tierUpThreshold: UInt32 = 50
    /// Executions (of a loop's iterations) before `auto` gives a block to the optimizing tier.
    public var optimizingThreshold: UInt32 = 10_000
    /// Most guest instructions compiled code runs in `auto` before it comes back to the run
    /// loop, which is where a hot loop moves to the optimizing tier (4,194,304 by default).
    /// Smaller slices let short programs reach tier 2 as long ones do: for tests and fuzzing
    /// (each slice's end costs a trip through the run loop).
    public var sliceInstructions: UInt64 = 1 << 22
    /// Whether `auto` compiles a tier-2 region on the guest's thread as soon as it is formed,
    /// instead of on the optimizing tier's worker: for tests and fuzzing, where a short program
    /// would end before a worker's region arrived. (It stalls the guest for each compile.)
    public var optimizesOnGuestThread = false
    /// Runs of a compiled block after which its code stops counting them (at least twice
    /// `optimizingThreshold`): counting costs a store per block run, up to a tenth of the time
    /// of a program with much warm code, and tiering needs counts only up to there. Past it,
    /// such blocks' figures in `Statistics.hottestBlocks` and the chained transfers are lower
    /// bounds. 0: every run is counted.
    public var countingLimit: UInt32 = 20_000
    /// Whether every compiled block counts its runs from its compile on (up to `countingLimit`),
    /// for `Statistics.hottestBlocks` and the chained transfers. Under `.baseline`, by default,
    /// a block counts only while the code cache is under pressure (for eviction's ranking): its
    /// code then has no counting instruction, 5-9% of the time of a program with much warm code,
    /// and `Statistics` lists few of its blocks. (`rivet run --stats` sets this; under `.auto`
    /// the optimizing tier chooses loops by the counts, and every block counts.)
    public var countsEveryBlock = false
    /// Adapt the threshold: raise it while the compile queue is long, lower it (down to 1) while
    /// the interpreter runs a large share of the instructions, many blocks turn hot and the
    /// queue is short.
    public var adaptsThresholds = true
    /// Threads compiling in the background; nil or 0: compile on the guest's thread (the
    /// default: a tier-1 compile takes a few microseconds, less than handing it to a worker and
    /// installing its result cost the guest's thread, and on a machine with few cores the
    /// worker competes with the guest for one; see Documentation/Performance.md, "Large code").
    public var compileThreads: Int? = nil
    /// A compile that takes longer is discarded and counted; its block stays in the tier below
    /// (and backs off before it is tried again). Tier-1 compiles take microseconds; this bounds
    /// the cost of an anomaly (a worker descheduled mid-compile, a pathological block).
    public var compileTimeLimit: Duration = .milliseconds(10)
    /// Keep compiled code where it is written apart from where it runs (W^X: two views of one
    /// memory, no page ever writable and executable through the same one). Off by default:
    /// then the code cache is one mapping, which a guest's fork shares copy-on-write, where
    /// with two views every fork copies the whole code cache for the child (12% of busybox
    /// sh's time under `auto`). Guest code can write neither: this guards only against a bug
    /// in Rivet itself. A host that refuses memory both writable and executable (SELinux's
    /// `execmem`) gets the two views either way.
    public var separatesCodeViews = false
    /// Write /tmp/perf-PID.map so that `perf report` names compiled code by guest symbol.
    public var writesPerfMap = false
    /// Sample where the guest's time goes, for `Statistics.time`: a thread of Rivet's looks at
    /// what each guest thread does (compiled code, the interpreter, compiling, a syscall,
    /// waiting), often at first and less often as the run goes on (100 looks in the first
    /// 10 ms, 300 in a second, then 50 a second). It is not free: on a 2-core virtual machine
    /// a 0.1 s run took about 10% longer with it (fp32 under `auto`, 15 interleaved runs; as
    /// much with looks ten times rarer at first: Documentation/Performance.md, twenty-first
    /// session), so time runs without it.
    /// Without it, `Statistics.time` has only the wall and loading times. `rivet run --stats`
    /// sets it.
    public var measuresTime = false
    /// Print every syscall with its arguments and result (strace style) to standard error.
    public var tracesSyscalls = false
    /// Print every executed instruction with its disassembly and changed registers.
    public var tracesInstructions = false
    /// What the guest reads from its standard input: by default this process's own (host
    /// descriptor 0); `.bytes`, `.text`, `.empty` or `.stream` supply it from memory.
    public var standardInput: GuestInput = .fileDescriptor(0)
    /// Where the guest's standard output goes: by default this process's own (host descriptor
    /// 1); `.handler`, `.buffer` or `.discarded` keep it in the embedder's hands.
    public var standardOutput: GuestOutput = .fileDescriptor(1)
    /// Where the guest's standard error goes: by default this process's own (host descriptor 2).
    public var standardError: GuestOutput = .fileDescriptor(2)
    /// Files and directories served from memory at guest paths, beside (and above) the granted
    /// `directories`. None by default.
    public var files: [VirtualFile] = []
    /// A fixed seed for AT_RANDOM and getrandom, for reproducible runs; nil uses the host's.
    public var randomSeed: UInt64? = nil
    /// Where warnings (unsupported syscalls) and traces are written; standard error by default.
    public var diagnostics: (@Sendable (String) -> Void)? = nil
    /// Deliver the signals this process receives (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
    /// SIGUSR2, SIGWINCH, SIGCHLD) to the guest while it runs, to its handlers or its default
    /// action, as qemu-user does. For a command-line tool running one guest; it replaces the
    /// process's handlers for those signals.
    public var forwardsHostSignals = false
    /// A TCP port of 127.0.0.1 on which a GDB remote stub waits for gdb before the guest's first
    /// instruction (`target remote :PORT`); 0 lets the host pick one (`VirtualMachine.debuggerPort`
    /// says which). Under a debugger the guest runs in the interpreter only, one instruction at a
    /// time, whatever `tier` says, so that breakpoints hold in all of its code. nil: no stub.
    public var debugger: UInt16? = nil

    /// The defaults: no arguments, an empty environment, no directory granted, no network,
    /// no limits but memory's, the tiers chosen automatically, and this process's standard
    /// streams.
    public init() {}
}
