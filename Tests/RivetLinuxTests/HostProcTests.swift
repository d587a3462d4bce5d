import RivetLinux
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A host thread that waits until released, standing in for a compile worker: its id names a
/// directory of Rivet's own process in the host's /proc.
final class ParkedThread: @unchecked Sendable {
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

/// No grant reaches the host's /proc entries of Rivet's own process or its threads: through
/// `mem` a guest could read and write Rivet's memory (issue: escapes, /proc/<id>/mem).
@Suite struct HostProcTests {
    static let pid = String(getpid())

    /// The paths naming this process in the host's /proc, as a guest under `--host-fs` would
    /// try them; none may resolve.
    static func ownProcessPaths(worker: Int32) -> [String] {
        let tid = String(worker)
        return [
            "/proc/self/mem", "/proc/self/pagemap", "/proc/self/task/\(pid)/mem", "/proc/self/root/etc/hostname",
            "/proc/\(pid)/mem", "/proc/\(pid)/pagemap", "/proc/\(pid)/task/\(pid)/mem",
            "/proc/thread-self/mem", "/proc/thread-self/pagemap",
            "/proc/\(tid)/mem", "/proc/\(tid)/environ", "/proc/\(tid)/maps", "/proc/\(pid)/task/\(tid)/mem",
            "/proc/self/task/\(tid)/mem",
        ]
    }

    @Test func theWholeHostFilesystemStillHidesRivetsOwnProcess() throws {
        let worker = ParkedThread()
        // The worker's directory exists on the host: the test is about the sandbox, not a typo.
        #expect(access("/proc/\(worker.tid)/mem", F_OK) == 0)
        let sandbox = Sandbox(grants: [], hostFilesystem: true, workingDirectory: "/")
        for path in Self.ownProcessPaths(worker: worker.tid) {
            #expect(sandbox.resolve(path).errno == Errno.ENOENT, "\(path) resolved")
        }
        // The guest's own /proc/self is the emulated one.
        #expect(sandbox.resolve("/proc/self/maps").target == .emulated(.generated(.maps)))
        #expect(sandbox.resolve("/proc/\(Self.pid)/environ").target == .emulated(.generated(.environ)))
        #expect(sandbox.resolve("/proc/self/task/\(Self.pid)/maps").target == .emulated(.generated(.maps)))
        #expect(sandbox.resolve("/proc/thread-self/environ").target == .emulated(.generated(.environ)))
        #expect(sandbox.resolve("/proc/self/task").target == .virtualDirectory([Self.pid]))
        guard case .virtualDirectory(let names)? = sandbox.resolve("/proc/self").target else {
            Issue.record("/proc/self is not the emulated directory")
            return
        }
        #expect(names.contains("maps") && names.contains("task") && !names.contains("mem"))
        // Other processes' entries are the host's, as with qemu-user.
        #expect(sandbox.resolve("/proc/1/comm").target == .host("/proc/1/comm", writable: true, grant: 0))
        #expect(sandbox.resolve("/proc/cpuinfo").target == .emulated(.generated(.cpuinfo)))
    }

    @Test func aGrantOfTheHostsProcUnderAnotherNameHidesRivetsOwnProcess() throws {
        let worker = ParkedThread()
        let sandbox = Sandbox(
            grants: [
                DirectoryGrant(hostPath: "/proc", guestPath: "/hostproc", writable: false),
                DirectoryGrant(hostPath: "/proc/self", guestPath: "/me", writable: false),
                DirectoryGrant(hostPath: "/proc/\(worker.tid)", guestPath: "/worker", writable: false),
            ], hostFilesystem: false, workingDirectory: "/")
        for path in Self.ownProcessPaths(worker: worker.tid) where path.hasPrefix("/proc/") {
            let moved = "/hostproc/" + path.dropFirst("/proc/".count)
            #expect(sandbox.resolve(moved).errno == Errno.ENOENT, "\(moved) resolved")
        }
        for path in ["/me/mem", "/me/environ", "/me", "/worker/mem", "/worker/status"] {
            #expect(sandbox.resolve(path).errno == Errno.ENOENT, "\(path) resolved")
        }
        #expect(sandbox.resolve("/hostproc/1/comm").target == .host("/proc/1/comm", writable: false, grant: 0))
    }

    @Test func procfsMountsAreFoundInMountinfo() {
        #expect(Sandbox.procMounts.contains(["proc"]))
        #expect(Sandbox.namesHostProcess("/proc/self"))
        #expect(Sandbox.namesHostProcess("/proc/\(Self.pid)/mem"))
        #expect(!Sandbox.namesHostProcess("/proc/1/mem"))
        #expect(!Sandbox.namesHostProcess("/proc"))
        #expect(!Sandbox.namesHostProcess("/procfoo/self"))
    }
}
