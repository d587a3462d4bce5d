import Rivet
import RivetFuzz
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Guests written as attackers: each tries one way to escape the sandbox, crash the host,
/// outlive a limit or disagree across tiers, and the test checks what the guest saw against
/// Linux, that the host survived, and that nothing outside the grants changed. The programs are
/// fixtures named `adv_*` (so the fixture matrix also runs each under every engine set-up);
/// here they run in the configurations that make them dangerous.
@Suite struct AdversarialTests {
    static let tiers: [ExecutionTier] = [.interpreter, .baseline, .auto, .optimizing]

    static func fixture(_ name: String) throws -> Fixture {
        try #require(Fixture.all.first { $0.name == name })
    }

    // MARK: Escapes

    /// PT_INTERP is a guest path: it resolves in the sandbox (the sysroot and the grants), so
    /// `..` stops at the guest's root and a symlink's target is a guest path too. Whether a host
    /// file outside exists must not change the error.
    @Test func anInterpreterPathCannotLeaveTheSysroot() throws {
        let scratch = try ScratchDirectory()
        let sysroot = scratch.path + "/sysroot"
        let outside = scratch.path + "/outside"
        mkdir(sysroot, 0o755)
        mkdir(sysroot + "/lib", 0o755)
        mkdir(outside, 0o755)
        // A real, loadable program outside the sysroot: if it were loaded, the guest would run.
        try writeBytes(try readBytes(repositoryRoot + "/Examples/hello"), to: outside + "/evil")
        symlink(outside + "/evil", sysroot + "/lib/absolute-link")
        symlink("../../outside/evil", sysroot + "/lib/relative-link")
        let climb = String(repeating: "../", count: 32) + String(outside.dropFirst())
        let attempts = [
            climb + "/evil", "/lib/" + climb + "/evil", outside + "/evil", "/lib/absolute-link", "/lib/relative-link",
            "lib/../../" + climb + "/evil", "/proc/self/exe", "/dev/zero",
        ]
        func message(_ interpreter: String) -> (RivetError.Code, String)? {
            let program = scratch.path + "/dynamic"
            let text = ElfWriter(
                entry: 0x10000,
                segments: [.init(address: 0x10000, bytes: [0x73, 0, 0, 0], memorySize: 4096, executable: true)],
                interpreter: interpreter)
            try? text.write(to: program)
            var configuration = Configuration()
            configuration.sysroot = sysroot
            do {
                _ = try VirtualMachine(programPath: program, configuration: configuration)
                return nil
            } catch {
                return (error.code, error.message.split(separator: interpreter, omittingEmptySubsequences: false).joined(separator: "X"))
            }
        }
        let reference = try #require(message("/lib/missing"))
        #expect(reference.0 == .missingInterpreter)
        for attempt in attempts {
            let result = message(attempt)
            #expect(result?.0 == reference.0, "\(attempt) was loaded")
            #expect(result?.1 == reference.1, "\(attempt): \(result?.1 ?? "loaded")")
        }
    }

    /// Under `--host-fs` the host's /proc is visible, but not Rivet's own process: its threads'
    /// ids (compile workers, this test's threads) are handed to the guest, which tries
    /// `/proc/TID/mem` and the rest through every name.
    @Test(arguments: tiers)
    func rivetsOwnProcessIsNotInTheHostsProc(_ tier: ExecutionTier) throws {
        let worker = ParkedWorker()
        var ids: [String] = []
        if let dir = opendir("/proc/self/task") {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if let id = Int32(name), id != getpid() { ids.append(name) }
            }
            closedir(dir)
        }
        #expect(ids.contains(String(worker.tid)))
        let result = try runGuest(try Self.fixture("adv_proc_self").binary, arguments: ids) {
            $0.tier = tier
            $0.grantsHostFilesystem = true
        }
        #expect(result.reason == .exited(0), "\(result.standardOutput)")
        #expect(result.standardOutput.contains("rivet threads probed: \(ids.count), leaks: 0"))
        #expect(!result.standardOutput.contains("LEAK"))
        _ = worker
    }
}

extension AdversarialTests {
    // MARK: Host crashes

    /// A file shrinks behind Rivet's back (the host truncates it while the guest waits): the
    /// guest's touches of pages past the new end are its own SIGBUS (or EFAULT in a syscall),
    /// exactly as when it truncates the file itself, and the host survives. In the interpreter
    /// such a fault reaches the guest at the end of the block that took it.
    @Test(arguments: tiers)
    func aFileShrinkingBehindRivetsBackIsTheGuestsSIGBUS(_ tier: ExecutionTier) throws {
        let fixture = try Self.fixture("adv_file_shrinks")
        let scratch = try ScratchDirectory()
        var input: [Int32] = [0, 0]
        var output: [Int32] = [0, 0]
        guard pipe(&input) == 0, pipe(&output) == 0 else { throw RivetError(.invalidConfiguration, "pipe") }
        defer { for fd in input + output { close(fd) } }
        var configuration = Configuration()
        configuration.arguments = ["external"]
        configuration.standardInput = .fileDescriptor(input[0])
        configuration.standardOutput = .fileDescriptor(output[1])
        configuration.standardError = .fileDescriptor(output[1])
        configuration.workingDirectory = scratch.path
        configuration.directories = [DirectoryGrant(hostPath: scratch.path, isWritable: true)]
        configuration.tier = tier
        let vm = try VirtualMachine(programPath: fixture.binary, configuration: configuration)
        nonisolated(unsafe) var reason: ExitReason? = nil
        let thread = HostThread { reason = vm.run() }
        let before = read(output[0], until: "ready\n")
        #expect(truncate(scratch.path + "/shrinking.bin", 4096) == 0)
        var go: UInt8 = 1
        _ = write(input[1], &go, 1)
        thread.join()
        close(output[1])
        output[1] = -1
        let after = read(output[0], until: "\u{0}")
        var expected = fixture.expectedOutput.split(separator: "\n", omittingEmptySubsequences: false)
        expected.removeAll { $0.contains("regrown") }
        expected.insert("ready", at: 2)
        #expect(before + after == expected.joined(separator: "\n"))
        #expect(reason == .exited(0))
    }

    /// rt_sigreturn with a stack pointer at nothing: SIGSEGV, and the report names the pc.
    @Test(arguments: tiers)
    func aGarbageSignalFrameIsReportedWithItsPC(_ tier: ExecutionTier) throws {
        let result = try runGuest(try Self.fixture("adv_sigreturn_garbage").binary) { $0.tier = tier }
        guard case .signaled(let signal, let detail) = result.reason else {
            Issue.record("not killed: \(result.reason)")
            return
        }
        #expect(signal == 11)
        #expect(detail?.contains("rt_sigreturn") == true && detail?.contains("at pc 0x") == true, "\(detail ?? "")")
    }
}

extension AdversarialTests {
    // MARK: Limits and signals

    static let stubbornGuests = ["sleep", "stdin", "pipe", "fault-loop", "spin"]

    /// `--timeout` stops a guest that will not stop: blocked in a syscall, looping in a fault
    /// handler, or spinning in compiled code. (Measured: the limit plus 10-60 ms, process start
    /// included; the bound here is loose so that a loaded machine cannot fail it.)
    @Test(arguments: stubbornGuests, tiers)
    func theTimeoutStopsAGuestThatWillNotStop(_ how: String, _ tier: ExecutionTier) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let process = try HostProcess([
            rivetCommand, "run", "--no-cwd", "--tier", tier.rawValue, "--timeout", "0.5", try Self.fixture("adv_blocking").binary, how,
        ])
        let status = process.wait(timeout: .seconds(30))
        let elapsed = clock.now - start
        #expect(status == 124, "\(process.standardError)")
        #expect(elapsed < .milliseconds(1500), "took \(elapsed)")
        #expect(process.standardError.contains("time limit reached"))
    }

    /// `Limits.wallTime` does the same for an embedded guest sleeping in a syscall.
    @Test(arguments: tiers)
    func theWallTimeLimitStopsASleepingEmbeddedGuest(_ tier: ExecutionTier) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try runGuest(try Self.fixture("adv_blocking").binary, arguments: ["sleep"]) {
            $0.tier = tier
            $0.limits.wallTime = .milliseconds(300)
        }
        #expect(result.reason == .timeLimitReached)
        #expect(clock.now - start < .milliseconds(1300))
    }

    /// Signals sent to Rivet reach the guest's handlers (SA_RESTART: the interrupted read goes
    /// on), as under qemu-user.
    @Test(arguments: tiers)
    func hostSignalsReachTheGuestsHandlers(_ tier: ExecutionTier) throws {
        let process = try HostProcess([
            rivetCommand, "run", "--no-cwd", "--tier", tier.rawValue, try Self.fixture("adv_blocking").binary, "signals",
        ])
        #expect(process.waitForOutput("ready"))
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGCHLD, SIGWINCH] {
            kill(process.pid, signal)
            usleep(5000)
        }
        var status: Int32? = nil
        for _ in 0..<200 where status == nil {
            process.send("x")
            status = process.wait(timeout: .milliseconds(50))
        }
        #expect(status == 0, "\(process.standardError)")
        #expect(process.standardOutput.contains("read returned 1 after the handlers; all received: yes"))
    }

    /// Without a handler, a host signal's default action ends the guest with 128 + the signal,
    /// wherever it is (in a syscall, in compiled code); SIGWINCH and SIGCHLD are ignored.
    @Test(arguments: ["sleep", "spin"], tiers)
    func hostSignalsDefaultActionsApplyToTheGuest(_ how: String, _ tier: ExecutionTier) throws {
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCHLD] {
            let process = try HostProcess([
                rivetCommand, "run", "--no-cwd", "--tier", tier.rawValue, try Self.fixture("adv_blocking").binary, how,
            ])
            #expect(process.waitForOutput("ready"))
            kill(process.pid, signal)
            if signal == SIGWINCH || signal == SIGCHLD {
                #expect(process.wait(timeout: .milliseconds(300)) == nil, "signal \(signal) ended the guest")
                kill(process.pid, SIGKILL)
                _ = process.wait()
            } else {
                #expect(process.wait() == 128 + signal, "signal \(signal): \(process.standardError)")
                #expect(process.standardError.contains("guest killed by"))
            }
        }
    }
}

/// A host thread that waits until released: its id is a directory of this process in /proc.
final class ParkedWorker: @unchecked Sendable {
    private var thread = pthread_t()
    private let release: (Int32, Int32)
    let tid: Int32

    init() {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        release = (fds[0], fds[1])
        var ready: [Int32] = [0, 0]
        _ = pipe(&ready)
        let box = UnsafeMutablePointer<Int32>.allocate(capacity: 2)
        box[0] = fds[0]
        box[1] = ready[1]
        pthread_create(&thread, nil, { raw in
            let box = raw!.assumingMemoryBound(to: Int32.self)
            let (wait, ready) = (box[0], box[1])
            typealias Raw = @convention(c) (Int) -> Int
            let syscall = unsafeBitCast(dlsym(nil, "syscall"), to: Raw.self)
            var tid = Int32(truncatingIfNeeded: syscall(186))  // gettid
            _ = write(ready, &tid, 4)
            var byte: UInt8 = 0
            _ = read(wait, &byte, 1)
            return nil
        }, box)
        var tid: Int32 = 0
        _ = read(ready[0], &tid, 4)
        self.tid = tid
        close(ready[0])
        close(ready[1])
        box.deallocate()
    }

    deinit {
        var byte: UInt8 = 0
        _ = write(release.1, &byte, 1)
        pthread_join(thread, nil)
        close(release.0)
        close(release.1)
    }
}

extension AdversarialTests {
    // MARK: Host memory

    /// A program of `count` distinct blocks (`addi a0, a0, 1; jal` to the next), run `rounds`
    /// times; it exits with the number of blocks run, modulo 256.
    static func manyBlocks(_ count: Int, rounds: Int) -> ElfWriter {
        let base: UInt64 = 0x10000
        func addi(_ rd: UInt32, _ rs: UInt32, _ imm: Int) -> UInt32 {
            UInt32(bitPattern: Int32(imm & 0xfff)) << 20 | rs << 15 | rd << 7 | 0x13
        }
        func lui(_ rd: UInt32, _ imm: Int) -> UInt32 { UInt32(imm & 0xfffff) << 12 | rd << 7 | 0x37 }
        var words: [UInt32] = [lui(11, (rounds + 0x800) >> 12), addi(11, 11, rounds - (((rounds + 0x800) >> 12) << 12))]
        let start = base + UInt64(4 * words.count)
        for _ in 0..<count { words += [addi(10, 10, 1), 0x0040_006f] }  // jal x0, +4
        let hi = Int((start + 0x800) >> 12)
        words += [
            addi(11, 11, -1), 0x0005_8863,  // beqz a1, +16
            lui(5, hi), addi(5, 5, Int(start) - (hi << 12)), 0x0002_8067,  // jr t0
            addi(17, 0, 93), 0x0000_0073,  // exit(a0)
        ]
        var bytes: [UInt8] = []
        for word in words { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * k))) } }
        let size = (UInt64(bytes.count) + 4095) & ~4095
        return ElfWriter(entry: base, segments: [.init(address: base, bytes: bytes, memorySize: size, executable: true)])
    }

    /// Every structure Rivet keeps per guest block stays within its bound when the program's
    /// blocks far outnumber what the caches hold, and the guest still runs exactly.
    @Test(arguments: tiers)
    func perBlockStructuresStayWithinTheirBounds(_ tier: ExecutionTier) throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/blocks"
        try Self.manyBlocks(1 << 15, rounds: 6).write(to: path)
        let result = try runGuest(path) {
            $0.tier = tier
            $0.codeCacheBytes = 256 << 10
            $0.decodedBlockCacheBytes = 512 << 10
            $0.tierUpThreshold = 3
            $0.adaptsThresholds = false
        }
        #expect(result.reason == .exited(Int32((6 << 15) & 0xff)))
        for s in result.statistics.structures where s.name != "guest memory" {
            if s.bound == "bytes" {
                #expect(s.bytes <= s.limit, "\(s.name): \(s.bytes) of \(s.limit)")
            } else {
                #expect(s.entries <= s.limit, "\(s.name): \(s.entries) of \(s.limit)")
            }
        }
        // The cache the tier fills had to evict.
        let name = tier == .baseline || tier == .optimizing ? "translations" : "decoded blocks"
        let cache = try #require(result.statistics.structures.first { $0.name == name })
        #expect(cache.dropped > 0, "\(name) never had to evict")
    }

    /// The host memory of a process running a quarter of a million blocks is bounded by the
    /// caches, whatever their size: the child's own peak resident memory (VmHWM), as its
    /// `--stats-json` reports it. (Not wait4's ru_maxrss: posix_spawn's child shares the test
    /// runner's memory until it execs, and Linux counts that peak as the child's.)
    @Test(arguments: ["16K", "64M"])
    func hostMemoryIsBoundedByTheCaches(_ codeCache: String) throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/blocks"
        try Self.manyBlocks(1 << 18, rounds: 4).write(to: path)
        let json = scratch.path + "/stats.json"
        let process = try HostProcess([
            rivetCommand, "run", "--no-cwd", "--code-cache", codeCache, "--stats-json", json, path,
        ])
        let status = process.wait(timeout: .seconds(300))
        #expect(status == Int32((4 << 18) & 0xff), "\(process.standardError)")
        let text = try readText(json)
        let field = try #require(text.range(of: "\"peak_host_bytes\":"))
        let peak = Int(text[field.upperBound...].prefix { $0.isNumber || $0 == " " }.filter { $0.isNumber }) ?? 0
        // 32 MiB of decoded blocks, the code cache, the guest's 2 MiB, Rivet itself (~30 MiB).
        let bound = (codeCache == "16K" ? 96 : 160) << 20
        #expect(peak > 0 && peak < bound, "peak \(peak)")
    }
}

extension AdversarialTests {
    /// `Limits.memoryBytes` covers what Rivet allocates for the guest: with a 64 MiB limit the
    /// code cache (16 MiB, counted in every tier although the interpreter alone keeps a 16 KiB
    /// stub), the decoded blocks (8 MiB) and the fixed tables (2 MiB) come first, and the
    /// guest's own mappings get the rest, so 60 MiB of mappings are refused with ENOMEM.
    @Test(arguments: tiers)
    func theMemoryLimitCoversWhatRivetHoldsForTheGuest(_ tier: ExecutionTier) throws {
        let result = try runGuest(try Self.fixture("adv_memory_limit").binary, arguments: ["60"]) {
            $0.tier = tier
            $0.limits.memoryBytes = 64 << 20
        }
        #expect(result.reason == .exited(1))
        #expect(result.standardOutput.hasPrefix("refused after "))
        #expect(result.standardOutput.hasSuffix("MiB: ENOMEM\n"))
        let structures = result.statistics.structures
        let codeCache = tier == .interpreter ? 16 << 10 : 16 << 20
        #expect(structures.first { $0.name == "translations" }?.limit == codeCache)
        #expect(structures.first { $0.name == "decoded blocks" }?.limit == 8 << 20)
        #expect(structures.first { $0.name == "guest memory" }?.limit == (64 << 20) - (16 << 20) - (8 << 20) - (2 << 20))
    }
}

extension AdversarialTests {
    // MARK: Memory limit

    /// A program whose writable segment takes `size` bytes of guest memory; it exits with 7.
    static func bigSegment(_ size: UInt64) -> ElfWriter {
        // addi a0, zero, 7; addi a7, zero, 93; ecall
        let words: [UInt32] = [0x0070_0513, 0x05d0_0893, 0x0000_0073]
        var bytes: [UInt8] = []
        for word in words { for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: word >> (8 * k))) } }
        return ElfWriter(
            entry: 0x10000,
            segments: [
                .init(address: 0x10000, bytes: bytes, memorySize: 4096, executable: true),
                .init(address: 0x100000, bytes: [1], memorySize: size, writable: true),
            ])
    }

    /// Whether a program fits in `Limits.memoryBytes` does not depend on the tier: the limit is
    /// shared with a code cache even in the interpreter, which allocates none. (rivet-fuzz found
    /// an ELF file whose 208 MiB segment loaded under the interpreter with 256 MiB and was
    /// refused under the other tiers.)
    @Test func theMemoryLimitAdmitsTheSameProgramsInEveryTier() throws {
        let scratch = try ScratchDirectory()
        for (size, fits) in [(UInt64(100) << 20, true), (UInt64(208) << 20, false)] {
            let path = scratch.path + "/segment-\(size >> 20)M"
            try Self.bigSegment(size).write(to: path)
            for tier in Self.tiers {
                let outcome: String
                do {
                    let run = try runGuest(path) {
                        $0.tier = tier
                        $0.limits.memoryBytes = 256 << 20
                    }
                    outcome = "\(run.reason)"
                } catch {
                    outcome = (error as? RivetError).map { "\($0.code)" } ?? "\(error)"
                }
                #expect(outcome == (fits ? "\(ExitReason.exited(7))" : "\(RivetError.Code.invalidProgram)"),
                        "\(size >> 20) MiB under \(tier)")
            }
        }
    }
}
