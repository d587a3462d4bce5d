import CRivetHost
#if canImport(Glibc)
import Glibc
#endif
import RivetISA
import RivetMachine

/// A host directory the guest may see, at a guest path.
public struct DirectoryGrant: Equatable, Sendable {
    /// Absolute, normalized host path.
    public var hostPath: String
    /// Absolute, normalized guest path where it appears.
    public var guestPath: String
    public var writable: Bool

    public init(hostPath: String, guestPath: String, writable: Bool) {
        self.hostPath = hostPath
        self.guestPath = guestPath
        self.writable = writable
    }
}

/// Everything the Linux layer needs to know about the process it emulates.
public struct LinuxConfiguration: Sendable {
    /// argv, including argv[0].
    public var arguments: [String] = []
    /// envp, as `KEY=VALUE` strings.
    public var environment: [String] = []
    /// Host path of the guest executable: what /proc/self/exe names.
    public var executablePath: String = ""
    /// Directories the guest may see.
    public var grants: [DirectoryGrant] = []
    /// Give the guest the whole host filesystem, as qemu-user does.
    public var hostFilesystem = false
    /// The guest's initial working directory (a guest path).
    public var workingDirectory = "/"
    /// Print every syscall with its arguments and result, strace style.
    public var traceSyscalls = false
    /// Host file descriptors behind the guest's 0, 1 and 2.
    public var standardStreams: (StandardStream, StandardStream, StandardStream) = (
        StandardStream(0), StandardStream(1), StandardStream(2)
    )
    /// Files served from memory, at their guest paths.
    public var memoryFiles: [MemoryFile] = []
    /// Directories that exist only in the guest's view (guest paths), unless a grant has them.
    public var memoryDirectories: [String] = []
    /// Most file descriptors the guest may have open (RLIMIT_NOFILE).
    public var maxOpenFiles = 1024
    /// Allow sockets (socket(2), and naming addresses); without it only socketpair(AF_UNIX).
    public var network = false
    /// When set, AT_RANDOM and getrandom produce this seed's deterministic stream.
    public var randomSeed: UInt64? = nil
    /// How the user widens the guest's view, for the note on a path refused outside every
    /// grant ("grant more with --dir ..."): the embedder's words, or the command line's.
    public var grantAdvice = "grant more with Configuration.directories or Configuration.grantsHostFilesystem"
    /// Where warnings and traces go.
    public var diagnostics: @Sendable (String) -> Void = { message in
        var line = message + "\n"
        line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    public init() {}
}

/// What the run loop does after a syscall.
public enum SyscallOutcome: Equatable, Sendable {
    /// Resume the guest at `pc + 4`.
    case resume
    /// Resume the guest at the pc the syscall set (rt_sigreturn, signal delivery).
    case resumeAtPC
    /// The process exited with this status (exit_group, or exit of its only thread).
    case exit(Int32)
    /// The calling thread exited (exit with other threads alive): its host thread ends.
    case threadExit
    /// The process was killed by this signal.
    case killed(Int32)
    /// A signal the kernel forces on the thread at the current pc, as for a fault (a bad signal
    /// frame at rt_sigreturn): delivered to the guest's handler, or fatal, with `detail` saying
    /// what happened.
    case fault(SignalInfo, detail: String)
}

/// The Linux process a guest program runs in: its memory layout above the ELF, file
/// descriptors, filesystem view, signal state and identity; and the syscall layer acting on them.
public final class LinuxProcess {
    public let memory: GuestMemory
    public var configuration: LinuxConfiguration
    public let files: FileTable
    public let filesystem: Sandbox

    /// brk: where the heap starts and where it ends now.
    public var brkStart: UInt64 = 0
    public var brkEnd: UInt64 = 0
    /// The ELF being run.
    public var program: LoadedProgram?

    public var signals = SignalState()
    /// Guest address of the rt_sigreturn trampoline signal handlers return to.
    public var signalTrampoline: UInt64 = 0
    public var umask: UInt32 = 0o022
    /// The auxiliary vector the program started with, as the guest reads it (key and value
    /// pairs of little-endian 64-bit words, ending with AT_NULL): what a debugger asks for.
    public internal(set) var auxiliaryVector: [UInt8] = []
    /// RLIMIT_NOFILE's hard limit; the soft limit is `files.limit`.
    public var openFilesHardLimit: Int
    /// The guest's threads by id, the one holding `lock` (whose registers are in the hart),
    /// and the lock they take turns with. See `LinuxProcess+Threads.swift`.
    public internal(set) var threads: [Int64: GuestThread] = [:]
    public internal(set) var current: GuestThread
    /// Signals sent to the process while every thread blocked them; the first thread that does
    /// not (or waits for them) takes them.
    public internal(set) var processPending: UInt64 = 0
    public let lock = HartLock()
    /// The one hart whose registers the running thread uses (set by `start`).
    public internal(set) var hart = HartState()
    /// Starts a host thread for a new guest thread (set by the virtual machine) and returns its
    /// thread id; nil if the host cannot.
    public var startThread: (GuestThread) -> Int64? = { _ in nil }
    /// Forks the host process with the virtual machine in it (set by the virtual machine):
    /// the child's pid in the parent, 0 in the child, or -errno.
    public var forkHost: () -> Int32 = { -Int32(ENOSYS) }
    /// Loads a new program in place of the current one (execve; set by the virtual machine):
    /// 0 with the hart at its entry, or -errno with nothing changed.
    public var replaceImage: (ExecImage) -> Int64 = { _ in -Errno.ENOSYS }
    /// This process was made by a guest fork: when its guest ends, the host process ends too.
    public internal(set) var isForkedChild = false
    /// The guest's live children (host processes made by its forks), which it may signal.
    public internal(set) var children: Set<Int32> = []

    /// Calls per syscall number, for `--stats`.
    public private(set) var syscallCounts: [Int: UInt64] = [:]
    private var warned: Set<String> = []
    /// Whether the note on a path outside the grants was given: a word of memory shared with
    /// every process this one forks, so that it is said once per run, not once per process.
    private let notedOutsideGrants: UnsafeMutablePointer<UInt64>?
    private var random: RandomSource

    /// The guest's interval and POSIX timers, and the clock each POSIX timer was made on.
    let timers = GuestTimers()

    /// Stops the interval timers' thread for good (see `GuestTimers.stop`): what `postSignal`
    /// reaches is going away.
    public func stopTimers() { timers.stop() }

    var timerClocks: [Int: clockid_t] = [:]
    /// Posts a signal to the process from any host thread, without the lock (set by the virtual
    /// machine: as a host signal is, through the watchdog). Timer expiries use it.
    public var postSignal: (Int32) -> Void = { _ in }

    /// Called by riscv_flush_icache and fence.i-like events; the engine drops decoded code.
    public var flushInstructionCache: (UInt64, UInt64) -> Void = { _, _ in }

    /// Has the Swift runtime instantiate, once in this host process, what forked children would
    /// otherwise each instantiate from scratch: a child inherits the parent's runtime caches,
    /// nothing more. The first `Result<Sandbox.Resolution, SandboxError>` a process makes by its
    /// mangled name (an outlined destroy in `openExecutable`, reached by every fork and exec,
    /// where the parent never ran it) demangled the name, built the metadata, and checked
    /// `SandboxError: Error` by a scan of every conformance record in the binary: about 100 µs
    /// of each fork and exec (Performance.md, twenty-ninth session). Unoptimized, so that the
    /// cast is not folded away and the metatype is asked by its mangled name (through the same
    /// cache variable as the outlined destroy's).
    @_optimize(none)
    static func warmRuntimeCaches() {
        let error: Any = SandboxError(0)
        _ = error as? any Error
        let type: Any.Type = Result<Sandbox.Resolution, SandboxError>.self
        _ = type
        // (Destroyed with the old program's ELFFile at every exec: its symbols, read or not.)
        let symbols: Any.Type = [ELFFile.Symbol]?.self
        _ = symbols
        // (The new program's interpreter, and its ELF alone, destroyed in every exec:
        // `replaceImage`; the second was 115 of 19,000 samples of `exec`.)
        let interpreter: Any.Type = (ELFFile, path: String)?.self
        _ = interpreter
        let interpreterELF: Any.Type = ELFFile?.self
        _ = interpreterELF
    }

    public init(memory: GuestMemory, configuration: LinuxConfiguration) {
        self.memory = memory
        self.configuration = configuration
        self.random = RandomSource(seed: configuration.randomSeed)
        self.filesystem = Sandbox(
            grants: configuration.grants, hostFilesystem: configuration.hostFilesystem,
            workingDirectory: configuration.workingDirectory, memoryFiles: configuration.memoryFiles,
            memoryDirectories: configuration.memoryDirectories)
        self.files = FileTable(standardStreams: configuration.standardStreams, limit: configuration.maxOpenFiles)
        self.openFilesHardLimit = configuration.maxOpenFiles
        let program = configuration.executablePath.isEmpty ? (configuration.arguments.first ?? "") : configuration.executablePath
        self.current = GuestThread(
            tid: Int64(getpid()), name: Array((program.split(separator: "/").last.map { Array($0.utf8) } ?? []).prefix(15)))
        self.threads = [current.tid: current]
        // One shared anonymous page, which fork keeps shared (nil if the host refuses one: the
        // note is then said once per process).
        let page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        notedOutsideGrants = page == MAP_FAILED ? nil : page?.bindMemory(to: UInt64.self, capacity: 1)
        rivet_ignore_host_sigpipe()
        Self.warmRuntimeCaches()
        timers.fire = { [weak self] signal, _ in self?.postSignal(signal) }
        filesystem.outsideGrantsObserver = { [weak self] path in self?.noteOutsideGrants(path) }
    }

    deinit {
        if let notedOutsideGrants { munmap(notedOutsideGrants, 4096) }
    }

    /// Says once per run that `path` was refused because no grant covers it, and how to grant
    /// more: the guest sees ENOENT, as for a missing file, and the user should know why.
    private func noteOutsideGrants(_ path: String) {
        if let notedOutsideGrants {
            // Another process of this run (a fork) may have said it already.
            guard rivet_compare_and_swap64(notedOutsideGrants, 0, 1) != 0 else { return }
        }
        configuration.diagnostics(
            "rivet: note: \(path) is outside the directories granted to the guest, which sees ENOENT (\(configuration.grantAdvice))")
    }

    /// Prints a warning once per key (`syscall 12`, `ioctl 0x5401` ...).
    public func warnOnce(_ key: String, _ message: String) {
        guard warned.insert(key).inserted else { return }
        configuration.diagnostics("rivet: warning: " + message)
    }

    /// Fills `buffer` with random bytes (getrandom, AT_RANDOM).
    public func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
        random.fill(buffer)
    }

    /// Handles the `ecall` at `hart.pc`: the syscall number is in a7, arguments in a0...a5,
    /// the result goes to a0.
    public func syscall(_ hart: HartState) -> SyscallOutcome {
        let number = Int(truncatingIfNeeded: hart[x: 17])
        let args = SyscallArguments(
            hart[x: 10], hart[x: 11], hart[x: 12], hart[x: 13], hart[x: 14], hart[x: 15])
        syscallCounts[number, default: 0] += 1
        // For the time sampler: the host work of syscalls, but for their blocking host calls.
        let activity = hart.activity
        hart.activity = .syscall
        defer { hart.activity = activity }
        var result = dispatch(number, args, hart)
        // Host code faulted on guest memory (a file shrank under a mapping the syscall read or
        // wrote): the access completed with zeros, and the syscall fails as Linux's would.
        if memory.settleHostFaults(hart.slots) != nil, case .value = result { result = .efault }
        // A blocking host call ended with EINTR: a host signal reached the hart's thread (a
        // forwarded one, or the watchdog's). Unless the run is over, the guest sees what Linux
        // would: nothing if the signal is one it ignores or blocks (the call runs again), else
        // the handler, then the call again (SA_RESTART) or EINTR.
        while case .value(-Errno.EINTR) = result,
            hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_STOPS_BLOCKING == 0
        {
            rivet_clear_attention(hart.slots, RIVET_ATTENTION_INTERRUPT)
            acceptPostedSignals(hart)
            let ready = signals.pending & ~signals.mask
            guard ready != 0 else {
                result = dispatch(number, args, hart)
                continue
            }
            let action = signals.actions[ready.trailingZeroBitCount + 1]
            if configuration.traceSyscalls { trace(number, args, -Errno.EINTR) }
            if action.handler > SignalAction.ignoreHandler, action.flags & SignalFlag.restart != 0,
                Self.restartsAfterSignals(number)
            {
                hart[x: 10] = args[0]
            } else {
                hart[x: 10] = UInt64(bitPattern: -Errno.EINTR)
                hart.pc += 4
            }
            return deliverPendingSignals(hart) ?? .resumeAtPC
        }
        // The run stops resumably (a pause, a limit): the call runs again, whole, when the
        // guest resumes, as Linux restarts a call a stopped process was blocked in.
        if case .value(-Errno.EINTR) = result,
            hart.slots[HartState.Slot.attention] & (RIVET_ATTENTION_DEADLINE | RIVET_ATTENTION_PAUSE) != 0,
            hart.slots[HartState.Slot.attention] & RIVET_ATTENTION_ENDING == 0
        {
            hart[x: 10] = args[0]
            return .resumeAtPC
        }
        switch result {
        case .value(let value):
            if configuration.traceSyscalls { trace(number, args, value) }
            hart[x: 10] = UInt64(bitPattern: value)
            if value == -Errno.EPIPE, Self.raisesSIGPIPE(number, args) {
                // Linux sends SIGPIPE with EPIPE; the handler, if any, runs on the way back.
                hart.pc += 4
                let info = SignalInfo(signal: Signal.SIGPIPE, code: 0, senderPID: Int32(truncatingIfNeeded: pid))
                return deliver(info, hart: hart, synchronous: false) ?? deliverPendingSignals(hart) ?? .resumeAtPC
            }
            // Signals that arrived meanwhile are delivered on the way back, as on Linux.
            acceptPostedSignals(hart)
            if signals.pending & ~signals.mask != 0 {
                hart.pc += 4
                return deliverPendingSignals(hart) ?? .resumeAtPC
            }
            return .resume
        case .outcome(let outcome):
            if configuration.traceSyscalls { trace(number, args, nil) }
            return outcome
        }
    }

    /// Whether a syscall interrupted by a handler runs again when the handler has SA_RESTART:
    /// all but those signal(7) lists as never restarted (sleeps, waits with a timeout, signal
    /// waits).
    static func restartsAfterSignals(_ number: Int) -> Bool {
        switch number {
        case 101, 115, 72, 73, 22, 441, 133, 137, 4, 192, 189, 188: return false
        default: return true
        }
    }

    /// Whether an EPIPE from this syscall comes with SIGPIPE: writes of every kind, and sends
    /// without MSG_NOSIGNAL.
    static func raisesSIGPIPE(_ number: Int, _ args: SyscallArguments) -> Bool {
        switch number {
        case 64, 66, 68, 70, 287, 71, 76, 77, 285: return true  // write(v), pwrite(v)(2), sendfile, splice, tee, copy_file_range
        case 206: return args[3] & 0x4000 == 0  // sendto
        case 211: return args[2] & 0x4000 == 0  // sendmsg
        case 269: return args[3] & 0x4000 == 0  // sendmmsg
        default: return false
        }
    }

    private func trace(_ number: Int, _ args: SyscallArguments, _ result: Int64?) {
        let rendered = SyscallTracer.render(number: number, args: args, result: result, process: self)
        configuration.diagnostics(rendered)
    }
}

/// The six argument registers of a syscall.
public struct SyscallArguments: Sendable {
    public var a: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    public init(_ a0: UInt64, _ a1: UInt64, _ a2: UInt64, _ a3: UInt64, _ a4: UInt64, _ a5: UInt64) {
        a = (a0, a1, a2, a3, a4, a5)
    }
    public subscript(_ n: Int) -> UInt64 {
        switch n {
        case 0: a.0
        case 1: a.1
        case 2: a.2
        case 3: a.3
        case 4: a.4
        default: a.5
        }
    }
    /// Argument `n` as a signed int (e.g. a file descriptor or `AT_FDCWD`).
    public func int(_ n: Int) -> Int32 { Int32(truncatingIfNeeded: self[n]) }
}

/// A syscall's result: a value for a0 (negative errno on failure) or an outcome for the run loop.
public enum SyscallResult: Sendable {
    case value(Int64)
    case outcome(SyscallOutcome)
}

/// A deterministic or host-seeded stream of random bytes (xoshiro256**).
struct RandomSource {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    init(seed: UInt64?) {
        var seed = seed ?? 0
        if seed == 0 {
            var bytes: UInt64 = 0
            // One system call (a machine starts in tens of microseconds: open, read and close
            // of /dev/urandom were a tenth of it).
            _ = withUnsafeMutableBytes(of: &bytes) { rivet_random_bytes($0.baseAddress, 8) }
            seed = bytes ^ UInt64(truncatingIfNeeded: time(nil)) | 1
        }
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9e37_79b9_7f4a_7c15
            var z = x
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        s = (splitmix(&seed), splitmix(&seed), splitmix(&seed), splitmix(&seed))
    }

    mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    mutating func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var k = 0
        while k < buffer.count {
            var word = next()
            for _ in 0..<8 where k < buffer.count {
                buffer[k] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                k += 1
            }
        }
    }
}
