import Rivet
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `#!` script given as the program runs as Linux runs it: through its interpreter, found in
/// the guest's view (the grants and the sysroot), with argv interpreter, [argument,] script,
/// arguments. (Scripts a guest execs are proc_exec's.)
@Suite struct ScriptTests {
    static let hello = repositoryRoot + "/Examples/hello"

    /// Writes an executable file.
    func write(_ text: String, to path: String) throws { try writeBytes(Array(text.utf8), to: path) }

    /// Runs `program` with the scratch directory granted (read-write, its working directory) and
    /// Examples/ at /prog, read-only.
    func run(_ program: String, in scratch: ScratchDirectory, _ arguments: [String] = [], configure: (inout Configuration) -> Void = { _ in })
        throws -> GuestRun
    {
        try runGuest(program, arguments: arguments) {
            $0.workingDirectory = scratch.path
            $0.directories = [
                DirectoryGrant(hostPath: scratch.path, isWritable: true),
                DirectoryGrant(hostPath: repositoryRoot + "/Examples", guestPath: "/prog", isWritable: false),
            ]
            configure(&$0)
        }
    }

    @Test func aScriptRunsThroughItsInterpreterWithItsArgument() throws {
        let scratch = try ScratchDirectory()
        let script = scratch.path + "/run.sh"
        try write("#!/prog/hello  -x \necho never\n", to: script)
        let result = try run(script, in: scratch, ["a b"])
        #expect(result.reason == .exited(0), "\(result.standardError)")
        #expect(
            result.standardOutput.hasPrefix(
                "Hello from RISC-V! I am /prog/hello.\n  argument 1: -x\n  argument 2: \(script)\n  argument 3: a b\n"),
            "\(result.standardOutput)")
        // An interpreter may be a script itself.
        let outer = scratch.path + "/outer"
        try write("#!\(script)\n", to: outer)
        let nested = try run(outer, in: scratch, ["7"])
        #expect(nested.standardOutput.contains("argument 2: \(script)\n  argument 3: \(outer)\n  argument 4: 7\n"), "\(nested.standardOutput)")
    }

    @Test func theInterpreterIsFoundInTheSysroot() throws {
        let scratch = try ScratchDirectory()
        let sysroot = try ScratchDirectory()
        mkdir(sysroot.path + "/bin", 0o755)
        try writeBytes(try readBytes(Self.hello), to: sysroot.path + "/bin/hello")
        let script = scratch.path + "/run.sh"
        try write("#!/bin/hello\n", to: script)
        let result = try run(script, in: scratch) { $0.sysroot = sysroot.path }
        #expect(result.standardOutput.hasPrefix("Hello from RISC-V! I am /bin/hello.\n  argument 1: \(script)\n"), "\(result.standardOutput)")
    }

    @Test func whatCannotRunIsSaid() throws {
        let scratch = try ScratchDirectory()
        let script = scratch.path + "/run.sh"
        func refusal(_ text: String, configure: (inout Configuration) -> Void = { _ in }) throws -> RivetError? {
            try write(text, to: script)
            return #expect(throws: RivetError.self) { try run(script, in: scratch, configure: configure) }
        }
        #expect(try refusal("#!/bin/nowhere\n")?.message == "\(script): interpreter /bin/nowhere not found in the granted directories, or not executable")
        #expect(try refusal("#!  \n")?.message == "\(script): a script whose #! line names no interpreter")
        #expect(try refusal("#!\(script)\n")?.message == "\(script): too many levels of #! interpreters")
        // The host's own interpreters are not RISC-V.
        let host = try refusal("#!/bin/true\n") { $0.grantsHostFilesystem = true }
        #expect(host?.message == "\(script): interpreter /bin/true: an x86-64 executable, not RISC-V")
        // Not executable: as Linux, EACCES.
        try write("#!/prog/hello\n", to: scratch.path + "/plain")
        chmod(scratch.path + "/plain", 0o644)
        #expect(try refusal("#!\(scratch.path)/plain\n")?.code == .missingInterpreter)
    }

    @Test func theCommandRunsAScriptFromTheWorkingDirectory() throws {
        let scratch = try ScratchDirectory()
        try write("#!/prog/hello\n", to: scratch.path + "/run.sh")
        let process = try HostProcess(
            [rivetCommand, "run", "--dir-ro", repositoryRoot + "/Examples:/prog", "./run.sh", "5"], directory: scratch.path)
        process.closeInput()
        #expect(process.wait(timeout: .seconds(60)) == 0, "\(process.standardError)")
        #expect(process.standardOutput.hasPrefix("Hello from RISC-V! I am /prog/hello.\n  argument 1: ./run.sh\n  argument 2: 5\n"))
    }
}
