#if canImport(Glibc)
import Glibc
#endif
import Rivet
import Testing

/// gdb-multiarch, a real client, drives `rivet run -g PORT` over TCP: breakpoints, steps,
/// registers, memory read and write, signals, watchpoints, threads, the guest's files and maps,
/// and the exit. Skipped without gdb-multiarch
/// (Debian: `gdb-multiarch`), unless `RIVET_REQUIRE_PROGRAMS` is set (as `.ci/run` does).
@Suite(.serialized, .enabled(if: GDBClient.shouldRun, "gdb-multiarch is not installed (Debian: gdb-multiarch)"))
struct GDBStubTests {
    static let gdb = GDBClient.path
    static let fixtures = repositoryRoot + "/Tests/RivetTests/Fixtures/bin/"

    /// A port of 127.0.0.1 nothing listens on now (the host's pick for port 0).
    func freePort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1
            }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Starts `rivet run -g PORT program arguments` and waits until it listens (another
    /// process may take the port first: then again with another).
    func startRivet(_ program: String, _ arguments: [String]) throws -> (HostProcess, UInt16) {
        var failure = ""
        for _ in 0..<5 {
            let port = freePort()
            let rivet = try HostProcess([rivetCommand, "run", "-g", String(port), program] + arguments)
            rivet.closeInput()
            let clock = ContinuousClock()
            let end = clock.now + .seconds(20)
            while clock.now < end {
                if rivet.standardError.contains("waiting for gdb on 127.0.0.1:\(port)") { return (rivet, port) }
                if rivet.wait(timeout: .milliseconds(1)) != nil { break }
            }
            failure = rivet.standardError
        }
        Issue.record("rivet did not listen: \(failure)")
        throw GDBTestError()
    }

    /// Runs gdb-multiarch in batch mode on `program` (nil: none, gdb asks the stub): `setup`,
    /// then attached to `port`, `commands`; its output (standard output and error).
    func runGDB(_ program: String?, port: UInt16, _ commands: [String], setup: [String] = []) throws -> String {
        let before = ["set architecture riscv:rv64"] + setup + ["target remote 127.0.0.1:\(port)"]
        let arguments = [Self.gdb, "-batch", "-nx"] + (before + commands).flatMap { ["-ex", $0] } + (program.map { [$0] } ?? [])
        let gdb = try HostProcess(arguments)
        gdb.closeInput()
        let status = gdb.wait(timeout: .seconds(120))
        #expect(status == 0, "gdb: \(gdb.standardError)")
        return gdb.standardOutput + gdb.standardError
    }

    /// The hex number after `prefix` in `text` (`$1 = 0x10552`).
    func number(after prefix: String, in text: String) -> UInt64? {
        guard let range = text.range(of: prefix) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isHexDigit }
        return UInt64(digits, radix: 16)
    }

    @Test func gdbStopsAtMainStepsReadsAndWritesMemoryAndTheProgramRunsToItsExit() throws {
        let program = Self.fixtures + "hello_static"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let (rivet, port) = try startRivet(program, ["one", "two"])
        let output = try runGDB(
            program, port: port,
            [
                "p/x &main",  // $1: main's address, from the ELF's symbols
                "break *main", "continue",
                "p/x $pc",  // $2: at main
                "info registers pc",
                "stepi",
                "p/x $pc",  // $3: one instruction on
                "x/2i $pc",
                "x/s *(char**)($a1+8)",  // argv[1], read through m packets
                "set var *(char*)(*(char**)($a1+8)) = 'O'",  // and written through M
                "p/x $fcsr",
                "continue",
            ])
        let status = rivet.wait(timeout: .seconds(60))
        guard let main = number(after: "$1 = 0x", in: output) else {
            Issue.record("no address for main in: \(output)")
            return
        }
        #expect(output.contains("Breakpoint 1, 0x" + String(repeating: "0", count: 16 - String(main, radix: 16).count) + String(main, radix: 16) + " in main ()"), "\(output)")
        #expect(number(after: "$2 = 0x", in: output) == main, "\(output)")
        #expect(output.contains("<main>"), "info registers pc names main: \(output)")
        let stepped = number(after: "$3 = 0x", in: output)
        #expect(stepped == main + 2 || stepped == main + 4, "stepi advanced one instruction: \(output)")
        #expect(output.contains("=> 0x\(String(stepped ?? 0, radix: 16)) <main+"), "x/2i disassembles at the pc: \(output)")
        #expect(output.contains("\"one\""), "memory reads: \(output)")
        #expect(output.contains("$4 = 0x0"), "fcsr reads: \(output)")
        #expect(output.contains("exited with code 05"), "\(output)")
        #expect(status == 5, "\(rivet.standardError)")
        #expect(rivet.standardOutput == "arg 1 = One\narg 2 = two\nstrlen = 99999\n", "the write reached the guest: \(rivet.standardOutput)")
    }

    @Test func aDynamicPositionIndependentProgramIsRelocatedWithItsLibraries() throws {
        let program = Self.fixtures + "dynamic_hello"
        guard access(Self.gdb, X_OK) == 0, access("/usr/riscv64-linux-gnu/lib/libc.so.6", R_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) or the riscv64 sysroot is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        // gdb learns the load addresses from the auxiliary vector (qXfer:auxv:read) and the
        // dynamic linker's list, which it reads from guest memory.
        let output = try runGDB(
            program, port: port, ["break main", "continue", "info sharedlibrary", "continue"],
            setup: ["set sysroot /usr/riscv64-linux-gnu"])
        let status = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("Breakpoint 1, 0x") && output.contains(" in main ()"), "\(output)")
        #expect(output.contains("/usr/riscv64-linux-gnu/lib/libc.so.6"), "\(output)")
        #expect(output.contains("exited with code 03"), "\(output)")
        #expect(status == 3, "\(rivet.standardError)")
        #expect(rivet.standardOutput.hasPrefix("hello from a dynamic executable"), "\(rivet.standardOutput)")
    }

    @Test func aThreadedGuestRunsOnUnderGDB() throws {
        // The first thread stops at main; the threads it starts are debugged too (every
        // instruction checked against the breakpoint) and run to the end with it.
        let program = Self.fixtures + "threads_sync"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(program, port: port, ["break main", "continue", "continue"])
        let status = rivet.wait(timeout: .seconds(60))
        let expected = try String(contentsOfFile: repositoryRoot + "/Tests/RivetTests/Fixtures/expected/threads_sync.stdout", encoding: .utf8)
        #expect(output.contains("Breakpoint 1, 0x") && output.contains("exited normally"), "\(output)")
        #expect(status == 0 && rivet.standardOutput == expected, "\(rivet.standardOutput) \(rivet.standardError)")
    }

    @Test func theProtocolByHandStepsInterruptsAndKills() throws {
        // 1.4 billion instructions: it is still running when interrupted.
        let program = repositoryRoot + "/Examples/loop"
        let (rivet, port) = try startRivet(program, [])
        let client = try RSPClient(port: port)
        let supported = client.request("qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386") ?? ""
        #expect(supported.contains("PacketSize=") && supported.contains("qXfer:features:read+") && supported.contains("swbreak+"))
        #expect(client.request("QStartNoAckMode") == "OK")
        // With the multiprocess extensions, thread ids are pPID.TID; the first thread's is the
        // process id.
        #expect(supported.contains("multiprocess+"))
        let current = client.request("qC") ?? ""
        let thread = String(current.dropFirst(2))
        let parts = thread.dropFirst().split(separator: ".")
        #expect(current.hasPrefix("QCp") && parts.count == 2 && parts[0] == parts[1], "\(current)")
        let first = client.request("?") ?? ""
        #expect(first.hasPrefix("T05") && first.contains("thread:\(thread);"), "\(first)")
        #expect(client.request("vCont?") == "vCont;c;C;s;S")
        #expect(client.request("qfThreadInfo") == "m\(thread)" && client.request("qsThreadInfo") == "l")
        #expect(client.request("T\(thread)") == "OK" && client.request("Tp\(parts[0]).7fffffff") == "E01")
        #expect(client.request("Hg\(thread)") == "OK" && client.request("Hgp\(parts[0]).7fffffff") == "E01")
        let pc = client.request("p20") ?? ""
        #expect(first.contains("20:\(pc);"), "the stop reply carries the pc: \(first) \(pc)")
        let stepped = client.request("vCont;s:\(thread)") ?? ""
        #expect(stepped.hasPrefix("T05") && !stepped.contains("swbreak") && !stepped.contains("20:\(pc);"), "\(stepped)")
        #expect(client.request("m0,8") == "E14")
        let description = client.request("qXfer:features:read:target.xml:0,3fff") ?? ""
        #expect(description.hasPrefix("l") && description.contains("riscv:rv64"))
        // Host I/O sees the guest's files only (its /proc/PID is the guest's), and writes none.
        let hex = { (path: String) in GDBPacket.hex(Array(path.utf8)) }
        let pid = Int(parts.first ?? "", radix: 16) ?? 0
        #expect(client.request("vFile:setfs:0") == "F0")
        #expect(client.request("vFile:open:\(hex("/etc/shadow")),0,0") == "F-1,2")
        #expect(client.request("vFile:open:\(hex("/proc/\(pid)/maps")),1,0") == "F-1,1e")
        let opened = client.request("vFile:open:\(hex("/proc/\(pid)/maps")),0,0") ?? ""
        #expect(opened.hasPrefix("F") && !opened.hasPrefix("F-"), "\(opened)")
        let maps = client.request("vFile:pread:\(opened.dropFirst()),1000,0") ?? ""
        #expect(maps.contains("[stack]"), "\(maps)")
        #expect(client.request("vFile:close:\(opened.dropFirst())") == "F0")
        // Continue, then interrupt with 0x03: a SIGINT stop.
        client.sendRaw(GDBPacket.frame("c"))
        usleep(300_000)
        client.sendRaw([0x03])
        let interrupted = client.reply() ?? ""
        #expect(interrupted.hasPrefix("T02"), "\(interrupted)")
        // Stopped in the hot loop: a breakpoint where it stands is passed at once (the resumed
        // instruction runs) and hit when the loop comes round again.
        let loopPC = client.request("p20") ?? ""
        let address = String(GDBPacket.littleEndian(loopPC) ?? 0, radix: 16)
        #expect(client.request("Z0,\(address),2") == "OK")
        let hit = client.request("c") ?? ""
        #expect(hit.hasPrefix("T05") && hit.contains("swbreak:;") && hit.contains("20:\(loopPC);"), "\(hit)")
        #expect(client.request("z0,\(address),2") == "OK")
        #expect(client.request("Z2,\(address),4") == "OK" && client.request("z2,\(address),4") == "OK")
        #expect(client.request("Z5,\(address),4") == "", "no other kinds")
        // A register write is seen by the guest's registers.
        #expect(client.request("P5=efbeadde00000000") == "OK" && client.request("p5") == "efbeadde00000000")
        client.sendRaw(GDBPacket.frame("k"))
        #expect(rivet.wait(timeout: .seconds(30)) == 137, "\(rivet.standardError)")
        #expect(rivet.standardError.contains("killed by gdb"))
    }

    @Test func aFaultIsReportedToGDBAndThenEndsTheGuest() throws {
        let program = Self.fixtures + "mem_segv"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(program, port: port, ["continue", "p/x $pc", "continue"])
        let status = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("Program received signal SIGSEGV"), "\(output)")
        #expect(output.contains("Program terminated with signal SIGSEGV"), "\(output)")
        #expect(status == 139, "\(rivet.standardError)")
        #expect(rivet.standardError.contains("guest killed by SIGSEGV"))
    }

    @Test func watchpointsStopAtTheGuestsWritesAndReads() throws {
        // Each instruction's access is checked before it runs; RISC-V gdb then steps over it
        // and compares the values, so the write has happened when it reports.
        let program = Self.fixtures + "gdb_threads"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(
            program, port: port,
            [
                "break all_started", "continue",
                "watch counter", "continue",  // bump's store: 0 to 1
                "info symbol $pc",  // past the store, in bump
                "continue",  // 1 to 2
                "delete",
                "rwatch counter", "continue",  // the next bump's load of 2
                "delete",
                "awatch finished[1]", "continue",  // worker 1 writes it as it ends
                "delete",
                "continue",
            ])
        let status = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("Hardware watchpoint 2: counter\n\nOld value = 0\nNew value = 1"), "\(output)")
        #expect(output.contains("bump + ") && output.contains("in bump () at gdb_threads.c"), "\(output)")
        #expect(output.contains("Old value = 1\nNew value = 2"), "\(output)")
        #expect(output.contains("Hardware read watchpoint 3: counter\n\nValue = 2"), "\(output)")
        #expect(output.contains("hit Hardware access (read/write) watchpoint 4: finished[1]\n\nOld value = 0\nNew value = 1"), "\(output)")
        #expect(output.contains("\nworker (argument="), "the worker's write stopped its thread: \(output)")
        #expect(output.contains("exited normally"), "\(output)")
        #expect(status == 0 && rivet.standardOutput == "counter 3, seen 3\n", "\(rivet.standardOutput) \(rivet.standardError)")
    }

    @Test func gdbListsSwitchesAndStopsEveryThread() throws {
        let program = Self.fixtures + "gdb_threads"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(
            program, port: port,
            [
                "break in_worker", "continue",  // a worker thread stops: gdb switches to it
                "info threads",
                "delete",
                "break all_started", "continue",  // every worker spins now
                "info threads",
                "p spins", "shell sleep 0.5", "p spins",  // all-stop: the workers stand still
                "thread 3", "p/x $pc", "bt 1",  // another thread's registers
                "thread 1",
                "delete",
                "continue",
            ])
        let status = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("[Switching to Thread ") && output.contains("hit Breakpoint 1, in_worker (id="), "\(output)")
        let listed = output.components(separatedBy: "\n").filter { $0.contains("Thread ") && $0.contains(" in worker (argument=") }
        #expect(listed.count >= 3, "info threads lists the workers: \(output)")
        #expect(output.contains("* 1    Thread ") && output.contains("all_started () at gdb_threads.c"), "\(output)")
        let spins = output.components(separatedBy: "\n").filter { $0.hasPrefix("$") && $0.contains("= {") }.map { $0.drop { $0 != "{" } }
        #expect(spins.count == 2 && spins[0] == spins[1], "other threads stopped while gdb looked: \(output)")
        #expect(output.contains("[Switching to thread 3 (Thread "), "\(output)")
        #expect(output.contains("exited normally"), "\(output)")
        #expect(status == 0 && rivet.standardOutput == "counter 3, seen 3\n", "\(rivet.standardOutput) \(rivet.standardError)")
    }

    @Test func infoProcMappingsShowsTheGuestsMapAndNoHostFile() throws {
        // gdb reads /proc/PID/maps with vFile:open/pread, which the guest's sandbox resolves:
        // the guest's map, and only files the guest could read.
        let program = Self.fixtures + "gdb_threads"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let copy = "/tmp/rivet-gdb-passwd-\(getpid())"
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(
            program, port: port,
            [
                "info proc mappings",
                "info proc",
                "remote get /etc/passwd \(copy)",  // outside the guest's grants
                "kill",
            ])
        _ = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("Mapped address spaces:"), "\(output)")
        let lines = output.components(separatedBy: "\n")
        #expect(lines.contains { $0.contains("r-xp") && $0.hasSuffix("/gdb_threads") }, "the program's code: \(output)")
        #expect(lines.contains { $0.contains("rw-p") && $0.hasSuffix("[stack]") }, "the stack: \(output)")
        #expect(output.contains("exe = '") && output.contains("gdb_threads'"), "\(output)")
        #expect(output.contains("Remote I/O error: No such file or directory"), "\(output)")
        #expect(access(copy, F_OK) != 0, "no host file reached gdb")
        unlink(copy)
    }

    @Test func gdbReadsTheLibrariesTheGuestSeesThroughItsFiles() throws {
        // Without a sysroot of its own, gdb reads the libraries with vFile (`target:`): Rivet
        // serves the guest's view, in which the riscv64 sysroot is /.
        let program = Self.fixtures + "dynamic_hello"
        guard access(Self.gdb, X_OK) == 0, access("/usr/riscv64-linux-gnu/lib/libc.so.6", R_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) or the riscv64 sysroot is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(program, port: port, ["break main", "continue", "info sharedlibrary", "continue"])
        let status = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("target:/lib/libc.so.6"), "\(output)")
        #expect(output.contains("exited with code 03") && status == 3, "\(output)")
    }

    @Test func givenNoProgramGDBReadsTheOneTheGuestRuns() throws {
        // qXfer:exec-file:read names it (its guest path), vFile reads it.
        let program = Self.fixtures + "gdb_threads"
        guard access(Self.gdb, X_OK) == 0 else {
            Issue.record("RIVET_REQUIRE_PROGRAMS is set but \(Self.gdb) is missing")
            return
        }
        let (rivet, port) = try startRivet(program, [])
        let output = try runGDB(nil, port: port, ["break all_started", "continue", "bt", "kill"])
        _ = rivet.wait(timeout: .seconds(60))
        #expect(output.contains("hit Breakpoint 1, all_started () at gdb_threads.c"), "\(output) rivet: \(rivet.standardError)")
        #expect(output.contains(" in main () at gdb_threads.c"), "\(output)")
    }
}

struct GDBTestError: Error {}

/// A bare Remote Serial Protocol client, for what gdb's batch mode cannot do (an interrupt).
final class RSPClient {
    let fd: Int32
    private var reader = GDBPacketReader()

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw GDBTestError()
        }
    }

    deinit { close(fd) }

    func sendRaw(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }

    /// Sends `packet` and returns the reply (nil after 20 s or if the connection closed).
    func request(_ packet: String) -> String? {
        sendRaw(GDBPacket.frame(packet))
        return reply()
    }

    /// The next packet that arrives.
    func reply(timeout: Int32 = 20_000) -> String? {
        while true {
            while let event = reader.next() {
                if case .packet(let data) = event { return String(decoding: data, as: UTF8.self) }
            }
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&waiting, 1, timeout) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return nil }
            reader.feed(buffer[0..<n])
        }
    }
}

/// The client the tests drive Rivet with.
enum GDBClient {
    static let path = "/usr/bin/gdb-multiarch"
    /// Installed, or required (then its absence fails the tests instead of skipping them).
    static let shouldRun = access(path, X_OK) == 0 || getenv("RIVET_REQUIRE_PROGRAMS") != nil
}
