#if canImport(Glibc)
import Glibc
#endif
import Testing

/// `rivet binfmt --register` with a real kernel: in a user namespace of its own, where
/// binfmt_misc can be mounted privately (Linux 6.7 and later) without root and without touching
/// the host's entries. Where that is not possible the test is skipped; `RivetCommandLineTests`
/// check the line itself everywhere.
@Suite struct BinfmtTests {
    /// A shell script run as root of a new user and mount namespace.
    static func inPrivateNamespace(_ script: String, directory: String? = nil) throws -> (output: String, errors: String, status: Int32?) {
        let process = try HostProcess(["/usr/bin/unshare", "--user", "--map-root-user", "--mount", "/bin/bash", "-c", script], directory: directory)
        process.closeInput()
        let status = process.wait(timeout: .seconds(60))
        return (process.standardOutput, process.standardError, status)
    }

    static let mount = "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc"

    static let canMountPrivately: Bool = {
        guard access("/usr/bin/unshare", X_OK) == 0, access("/bin/bash", X_OK) == 0 else { return false }
        return (try? inPrivateNamespace(mount + " && test -e /proc/sys/fs/binfmt_misc/register").status) == 0
    }()

    @Test(.enabled(if: canMountPrivately, "needs unshare and a kernel with per-namespace binfmt_misc"))
    func registeredRiscv64ProgramsRunDirectly() throws {
        let scratch = try ScratchDirectory()
        let program = scratch.path + "/hello"
        try writeBytes(try readBytes(repositoryRoot + "/Examples/hello"), to: program)
        let script = """
            set -e
            \(Self.mount)
            '\(rivetCommand)' binfmt --register
            cat /proc/sys/fs/binfmt_misc/rivet-riscv64
            '\(program)' 7 two || echo "status $?"
            (exec -a renamed '\(program)' x) || true
            '\(rivetCommand)' binfmt --unregister
            '\(rivetCommand)' binfmt --register --preserve-argv0
            grep flags /proc/sys/fs/binfmt_misc/rivet-riscv64
            (exec -a renamed '\(program)' 3 y) || echo "status $?"
            """
        let result = try Self.inPrivateNamespace(script, directory: scratch.path)
        #expect(result.status == 0, "\(result.errors)")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.contains("interpreter \(realpathString(rivetCommand) ?? rivetCommand)"), "\(result.output)")
        #expect(lines.contains("flags: F") && lines.contains("flags: PF"))
        #expect(lines.contains("magic 7f454c460201010000000000000000000200f300"))
        // Without P the program's argv[0] is its path; with P (AT_FLAGS) the one it was run with.
        #expect(lines.contains("Hello from RISC-V! I am \(program).") && lines.contains("  argument 2: two"))
        #expect(lines.contains("status 7"), "the guest's status is the program's")
        #expect(lines.filter { $0 == "Hello from RISC-V! I am renamed." }.count == 1)
        #expect(lines.contains("  argument 2: y") && lines.contains("status 3"))
    }
}
