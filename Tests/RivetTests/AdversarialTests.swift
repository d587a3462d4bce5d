import Rivet
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
    static let tiers: [ExecutionTier] = [.interpreter, .baseline, .auto]

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
        configuration.standardInput = input[0]
        configuration.standardOutput = output[1]
        configuration.standardError = output[1]
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
