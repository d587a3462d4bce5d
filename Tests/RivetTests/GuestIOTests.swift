import Rivet
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The embedder's I/O without host descriptors: standard input from bytes and from an
/// `AsyncSequence`, output to a buffer, a closure or nowhere, and files served from memory,
/// through the `VirtualMachine` API under every tier (fixture `io_virtual`).
@Suite struct GuestIOTests {
    static let program = Fixture.directory + "/bin/io_virtual"

    /// A configuration running `io_virtual MODE` with nothing in or out and no grants.
    func configuration(_ tier: ExecutionTier, _ mode: String) -> Configuration {
        var configuration = Configuration()
        configuration.arguments = [mode]
        configuration.tier = tier
        configuration.randomSeed = 42
        configuration.limits.instructions = 2_000_000_000
        configuration.limits.wallTime = .seconds(60)
        configuration.standardInput = .empty
        configuration.standardOutput = .discarded
        configuration.standardError = .discarded
        return configuration
    }

    /// Bytes that are not text, long enough to fill a pipe several times over.
    static let input: [UInt8] = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

    @Test("stdin bytes → stdout buffer", arguments: ExecutionTier.allCases)
    func bytesThroughBuffer(tier: ExecutionTier) throws {
        let output = OutputBuffer()
        let errors = OutputBuffer()
        var configuration = configuration(tier, "cat")
        configuration.standardInput = .bytes(Self.input)
        configuration.standardOutput = .buffer(output)
        configuration.standardError = .buffer(errors)
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(vm.run() == .exited(0))
        #expect(output.bytes == Self.input)
        #expect(errors.text == "cat: 200000 bytes\n")
    }

    @Test("stdout and stderr into one buffer keep their order", arguments: ExecutionTier.allCases)
    func sharedBuffer(tier: ExecutionTier) throws {
        let output = OutputBuffer()
        var configuration = configuration(tier, "cat")
        configuration.standardInput = .text("one line\n")
        configuration.standardOutput = .buffer(output)
        configuration.standardError = .buffer(output)
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(vm.run() == .exited(0))
        #expect(output.text == "one line\ncat: 9 bytes\n")
    }

    @Test("stdout to a closure, stderr discarded", arguments: ExecutionTier.allCases)
    func closureAndDiscarded(tier: ExecutionTier) throws {
        let received = Mutex<[UInt8]>([])
        var configuration = configuration(tier, "cat")
        configuration.standardInput = .text("through a closure\n")
        configuration.standardOutput = .handler { bytes in received.withLock { $0 += bytes } }
        configuration.standardError = .discarded
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(vm.run() == .exited(0))
        #expect(received.withLock { String(decoding: $0, as: UTF8.self) } == "through a closure\n")
    }

    @Test("what standard input is", arguments: ExecutionTier.allCases)
    func inputKinds(tier: ExecutionTier) throws {
        func kind(_ input: GuestInput) throws -> String {
            let output = OutputBuffer()
            var configuration = configuration(tier, "kind")
            configuration.standardInput = input
            configuration.standardOutput = .buffer(output)
            let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
            #expect(vm.run() == .exited(0))
            return output.text
        }
        #expect(try kind(.bytes([1, 2, 3])) == "regular\n")
        #expect(try kind(.empty) == "regular\n")
        #expect(try kind(.stream(AsyncStream<[UInt8]> { $0.finish() })) == "fifo\n")
        let null = open("/dev/null", O_RDONLY)
        defer { close(null) }
        #expect(try kind(.fileDescriptor(null)) == "char\n")
    }

    @Test("stdin from an AsyncStream fed slowly, waited for in ppoll and in epoll", arguments: ExecutionTier.allCases, ["pollcat", "epollcat"])
    func slowStream(tier: ExecutionTier, mode: String) throws {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        let chunks = ["first\n", "second\n", "", "third\n", "fourth, the last\n"]
        let pieces = Mutex<[[UInt8]]>([])
        var configuration = configuration(tier, mode)
        configuration.standardInput = .stream(stream)
        configuration.standardOutput = .handler { bytes in pieces.withLock { $0.append(bytes) } }
        // The host feeds while the guest runs, from a thread of its own.
        let producer = HostThread {
            for chunk in chunks {
                usleep(50_000)
                continuation.yield(Array(chunk.utf8))
            }
            continuation.finish()
        }
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        let reason = vm.run()
        producer.join()
        #expect(reason == .exited(0))
        let received = pieces.withLock { $0 }
        #expect(String(decoding: received.joined(), as: UTF8.self) == chunks.joined())
        #expect(received.count >= 2, "the output came as the input did, not all at the end")
    }

    @Test("text and byte streams", arguments: ExecutionTier.allCases)
    func elementStreams(tier: ExecutionTier) throws {
        func run(_ input: GuestInput) throws -> String {
            let output = OutputBuffer()
            var configuration = configuration(tier, "cat")
            configuration.standardInput = input
            configuration.standardOutput = .buffer(output)
            let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
            #expect(vm.run() == .exited(0))
            return output.text
        }
        #expect(try run(.stream(AsyncStream<String> { $0.yield("text "); $0.yield("chunks\n"); $0.finish() })) == "text chunks\n")
        #expect(try run(.stream(AsyncStream<UInt8> { for byte in "bytes\n".utf8 { $0.yield(byte) }; $0.finish() })) == "bytes\n")
    }

    @Test("a guest blocked on a never-ending stream stops at the wall-time limit", arguments: ExecutionTier.allCases)
    func blockedStreamTimesOut(tier: ExecutionTier) throws {
        let output = OutputBuffer()
        var configuration = configuration(tier, "block")
        configuration.standardInput = .stream(AsyncStream<[UInt8]> { _ in })
        configuration.standardOutput = .buffer(output)
        configuration.limits.wallTime = .milliseconds(500)
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        let clock = ContinuousClock()
        let started = clock.now
        #expect(vm.run() == .timeLimitReached)
        #expect(clock.now - started < .seconds(10))
        #expect(output.text == "blocking\n")
    }

    static let files: [VirtualFile] = [
        .file("/data/motd", text: "Hello, virtual world\n"),
        .file("/data/sub/../out.txt", text: "to be replaced", isWritable: true),
        .directory("/data/sub"),
    ]

    static let expectedFiles = """
        open /data/motd: 3
        read: Hello, virtual world
        fstat: mode 0100444 nlink 1 size 21
        stat: mode 0100444 nlink 1 size 21
        statx: mode 0100444 size 21
        lseek end: 21
        pread at 6:  virt
        mmap: Jello
        mmap shared writable: EACCES
        poll: 1 revents 5
        epoll_ctl: EPERM
        write: EBADF
        open O_RDWR: EROFS
        open O_TRUNC: EROFS
        access W_OK: EROFS
        access R_OK: 0
        unlink: EROFS
        readlink: EINVAL
        reopen O_RDWR: EACCES
        open /data/../etc/passwd: ENOENT
        open /data/motd/../../etc/passwd: ENOTDIR
        open /data/motd/x: ENOTDIR
        open /data/sub/../../../../etc/passwd: ENOENT
        open /etc/passwd: ENOENT
        create /data/new: ENOENT
        mkdir /data/sub/dir: ENOENT
        open /data/motd as a directory: ENOTDIR
        open /data: 3
        entry . type 4
        entry .. type 4
        entry motd type 8
        entry out.txt type 8
        entry sub type 4
        stat /data/sub: mode 040555 nlink 2 size 0
        open /data/out.txt: 3
        write: 21
        append: 13
        read back: written by the guest
        and appended
        access W_OK: 0

        """

    @Test("virtual files: read, stat, list, map, write; nothing leads out", arguments: ExecutionTier.allCases)
    func virtualFiles(tier: ExecutionTier) throws {
        let output = OutputBuffer()
        var configuration = configuration(tier, "files")
        configuration.files = Self.files
        configuration.standardOutput = .buffer(output)
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(vm.run() == .exited(0))
        #expect(output.text == Self.expectedFiles)
        // The host reads what the guest wrote; the read-only file is as it was.
        #expect(vm.contentsOfVirtualFile(at: "/data/out.txt") == Array("written by the guest\nand appended\n".utf8))
        #expect(vm.contentsOfVirtualFile(at: "/data/motd") == Array("Hello, virtual world\n".utf8))
        #expect(vm.contentsOfVirtualFile(at: "/data/sub") == nil)
    }

    @Test("virtual files beside a granted host directory, which they cannot open a way into")
    func besideGrants() throws {
        let scratch = try ScratchDirectory()
        try writeBytes(Array("host file\n".utf8), to: scratch.path + "/host.txt")
        let output = OutputBuffer()
        var configuration = configuration(.interpreter, "files")
        configuration.files = Self.files
        // The host directory is granted elsewhere: /data/.. and the virtual files' paths lead
        // only to what the guest's view has there.
        configuration.directories = [DirectoryGrant(hostPath: scratch.path, guestPath: "/grant", isWritable: true)]
        configuration.standardOutput = .buffer(output)
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(vm.run() == .exited(0))
        #expect(output.text == Self.expectedFiles)
        #expect(try readBytes(scratch.path + "/host.txt") == Array("host file\n".utf8))
    }

    @Test("README's example of streams and virtual files")
    func readmeExample() throws {
        let requestBody = AsyncStream<[UInt8]> { $0.yield(Array("request\n".utf8)); $0.finish() }
        let log = Mutex<[UInt8]>([])
        var configuration = Configuration()
        configuration.arguments = ["cat"]
        let output = OutputBuffer()
        configuration.standardInput = .stream(requestBody)
        configuration.standardOutput = .buffer(output)
        configuration.standardError = .handler { bytes in log.withLock { $0 += bytes } }
        configuration.files = [
            .file("/etc/config.json", text: "{}"),
            .file("/out/result.txt", contents: [], isWritable: true),
            .directory("/tmp"),
        ]
        let vm = try VirtualMachine(programPath: Self.program, configuration: configuration)
        #expect(vm.run() == .exited(0))
        #expect(output.text == "request\n")
        #expect(log.withLock { $0 } == Array("cat: 8 bytes\n".utf8))
        #expect(vm.contentsOfVirtualFile(at: "/out/result.txt") == [])
    }

    @Test("invalid virtual files are refused")
    func invalidFiles() {
        func refused(_ files: [VirtualFile]) -> Bool {
            var configuration = configuration(.interpreter, "none")
            configuration.files = files
            do {
                _ = try VirtualMachine(programPath: Self.program, configuration: configuration)
                return false
            } catch {
                return error.code == .invalidConfiguration
            }
        }
        #expect(refused([.file("relative", text: "")]))
        #expect(refused([.file("/a", text: ""), .file("/b/../a", text: "")]))
        #expect(refused([.file("/a", text: ""), .file("/a/b", text: "")]))
        #expect(refused([.file("/", text: "")]))
        #expect(!refused([.file("/a/b", text: ""), .directory("/a")]))
    }
}
