#if canImport(Glibc)
import Glibc
#endif
import Testing

/// gdb-multiarch, a real client, drives `rivet run -g PORT` over TCP: breakpoints, steps,
/// registers, memory read and write, signals and the exit. Skipped without gdb-multiarch
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

    /// Runs gdb-multiarch in batch mode on `program`: `setup`, then attached to `port`,
    /// `commands`; its output (standard output and error).
    func runGDB(_ program: String, port: UInt16, _ commands: [String], setup: [String] = []) throws -> String {
        let before = ["set architecture riscv:rv64"] + setup + ["target remote 127.0.0.1:\(port)"]
        let arguments = [Self.gdb, "-batch", "-nx"] + (before + commands).flatMap { ["-ex", $0] } + [program]
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
}

struct GDBTestError: Error {}

/// The client the tests drive Rivet with.
enum GDBClient {
    static let path = "/usr/bin/gdb-multiarch"
    /// Installed, or required (then its absence fails the tests instead of skipping them).
    static let shouldRun = access(path, X_OK) == 0 || getenv("RIVET_REQUIRE_PROGRAMS") != nil
}
