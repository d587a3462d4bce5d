#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The `rivet` command as qemu-user's users type it: the program right after `rivet`, qemu's
/// single-dash options before it.
@Suite struct CommandLineTests {
    static let hello = repositoryRoot + "/Examples/hello"

    func run(_ arguments: [String], environment: [String] = []) throws -> (output: String, errors: String, status: Int32?) {
        let process = try HostProcess(["/usr/bin/env"] + environment + [rivetCommand] + arguments)
        process.closeInput()
        let status = process.wait(timeout: .seconds(60))
        return (process.standardOutput, process.standardError, status)
    }

    @Test func theProgramMayFollowRivetDirectly() throws {
        let result = try run([Self.hello, "one", "-E", "--two"])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("I am \(Self.hello)."))
        // Options after the program are the program's.
        #expect(result.output.contains("argument 2: -E") && result.output.contains("argument 3: --two"))
    }

    /// `rivet run PROGRAM [ARGS...]` with no option before the program skips ArgumentParser
    /// (`RunOptions.plain`); it must run as the parsed command line does (here forced by an
    /// option that restates a default).
    @Test func aPlainCommandLineRunsAsAParsedOne() throws {
        for (plain, parsed) in [
            (["run", Self.hello, "one", "-E", "--two"], ["run", "--tier", "auto", Self.hello, "one", "-E", "--two"]),
            ([Self.hello, "--help"], ["run", "--tier", "auto", Self.hello, "--help"]),
            (["run", "/bin/true"], ["run", "--tier", "auto", "/bin/true"]),
            (["run", repositoryRoot + "/README.md", "x"], ["run", "--tier", "auto", repositoryRoot + "/README.md", "x"]),
        ] {
            let a = try run(plain), b = try run(parsed)
            #expect(a.output == b.output && a.errors == b.errors && a.status == b.status, "\(plain): \(a) against \(b)")
        }
        #expect(try run(["run", Self.hello, "--help"]).output.contains("argument 1: --help"))
        // An option before the program, or none, still goes through the parser.
        let missing = try run(["run"])
        #expect(missing.status == 64 && missing.errors.contains("Missing expected argument"), "\(missing.errors)")
    }

    @Test func qemuOptionsMeanWhatTheyMeanToQemu() throws {
        let result = try run(["-0", "renamed", "-cpu", "rv64", "-L", "/usr/riscv64-linux-gnu", "-E", "A=1", "-U", "HOME", "-strace", Self.hello])
        #expect(result.status == 0, "\(result.errors)")
        #expect(result.output.contains("I am renamed."))
        #expect(result.errors.contains("exit_group(0)"), "-strace traces syscalls: \(result.errors)")
    }

    @Test func unknownOrMissingOptionsFailLoudly() throws {
        let debugger = try run(["-g"])
        #expect(debugger.status == 64 && debugger.errors.contains("-g needs a value"))
        let badPort = try run(["-g", "port", Self.hello])
        #expect(badPort.status == 64, "\(badPort.errors)")
        let unknown = try run(["-bogus", Self.hello])
        #expect(unknown.status == 64 && unknown.errors.contains("-bogus: not a qemu-user option"))
        let missing = try run(["-L"])
        #expect(missing.status == 64 && missing.errors.contains("-L needs a value"))
    }

    /// A program for another architecture is named as such, not by its ELF machine number.
    @Test func aHostProgramIsRefusedNamingItsArchitecture() throws {
        let result = try run(["/bin/true"])
        #expect(result.status == 127)
        #expect(result.errors == "rivet: /bin/true: an x86-64 executable, not RISC-V\n", "\(result.errors)")
        let text = try run([repositoryRoot + "/README.md"])
        #expect(text.status == 127 && text.errors.hasSuffix("README.md: not an ELF file\n"), "\(text.errors)")
    }

    @Test func versionAndTheSysrootVariable() throws {
        let version = try run(["--version"])
        #expect(version.status == 0 && version.output.hasPrefix("rivet "))
        // RIVET_SYSROOT names the sysroot when -L is not given: a dynamic program then needs it.
        let dynamic = repositoryRoot + "/Tests/RivetTests/Fixtures/bin/dynamic_hello"
        if access(dynamic, R_OK) == 0 {
            let missing = try run([dynamic], environment: ["RIVET_SYSROOT=/nonexistent"])
            #expect(missing.status == 127 && missing.errors.contains("/nonexistent"), "\(missing.errors)")
            // The error says what is missing; no note on paths outside the grants repeats it.
            #expect(!missing.errors.contains("rivet: note:"), "\(missing.errors)")
        }
    }
}
