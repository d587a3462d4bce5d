import Rivet
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A path refused because it lies outside every grant reads like a missing file to the guest
/// (ENOENT, as before); Rivet says why to the user, once per run, with the grant policy.
@Suite struct SandboxNoteTests {
    static let cliAdvice =
        "by default rivet grants only the working directory, read-write; grant more with --dir HOST[:GUEST], --dir-ro HOST[:GUEST] or --host-fs"

    static func note(_ path: String, _ advice: String) -> String {
        "rivet: note: \(path) is outside the directories granted to the guest, which sees ENOENT (\(advice))"
    }

    /// `sandbox_note` (two forked children, then the parent, each refused a host path) run by
    /// the `rivet` command with the default grants and no sysroot.
    func runNoteFixture(_ options: [String], environment: [String] = ["RIVET_SYSROOT=/nonexistent"]) throws
        -> (output: String, errors: String, status: Int32?)
    {
        let fixture = try #require(Fixture.all.first { $0.name == "sandbox_note" })
        let scratch = try ScratchDirectory()
        let process = try HostProcess(
            ["/usr/bin/env"] + environment + [rivetCommand, "run", "--clear-env"] + options + [fixture.binary],
            directory: scratch.path)
        process.closeInput()
        let status = process.wait(timeout: .seconds(60))
        #expect(process.standardOutput == fixture.expectedOutput, "the guest still sees ENOENT")
        return (process.standardOutput, process.standardError, status)
    }

    @Test func theCommandSaysOncePerRunWhyAPathOutsideTheGrantsIsMissing() throws {
        let result = try runNoteFixture([])
        #expect(result.status == 0)
        // The first refusal is a forked child's; neither the other child nor the parent repeats it.
        #expect(result.errors == Self.note("/etc/passwd", Self.cliAdvice) + "\n", "\(result.errors)")
    }

    @Test func noNoteWhenTheGuestSeesTheWholeHostOrTheSysrootIsItsRoot() throws {
        // Under --host-fs /etc/passwd exists for the guest: the expected output differs, so only
        // standard error is compared here.
        let fixture = try #require(Fixture.all.first { $0.name == "sandbox_note" })
        let scratch = try ScratchDirectory()
        let hostFS = try HostProcess(
            ["/usr/bin/env", "RIVET_SYSROOT=/nonexistent", rivetCommand, "run", "--host-fs", fixture.binary], directory: scratch.path)
        hostFS.closeInput()
        #expect(hostFS.wait(timeout: .seconds(60)) == 0)
        #expect(!hostFS.standardError.contains("rivet: note:"), "\(hostFS.standardError)")
        // A sysroot is granted at /: a path it lacks is missing inside a grant, not outside.
        if access("/usr/riscv64-linux-gnu", R_OK) == 0 {
            let sysroot = try runNoteFixture(["--sysroot", "/usr/riscv64-linux-gnu"], environment: [])
            #expect(sysroot.status == 0 && sysroot.errors.isEmpty, "\(sysroot.errors)")
        }
    }

    /// An embedder gets the note on `diagnostics`, in its own words or the library's.
    @Test func anEmbedderHearsOfItOnItsDiagnostics() throws {
        let fixture = try #require(Fixture.all.first { $0.name == "sandbox_escape" })
        let hostPath = try #require(realpathString(fixture.binary))
        for advice in [nil, "ask the operator for more"] {
            let diagnostics = Diagnostics()
            let result = try fixture.run {
                $0.sysroot = nil
                $0.grantAdvice = advice
                $0.diagnostics = { diagnostics.append($0) }
            }
            #expect(result.reason == .exited(0))
            // Its first refusal is the host path of its own executable; /etc/passwd and the
            // rest follow, unsaid.
            let words = advice ?? "grant more with Configuration.directories or Configuration.grantsHostFilesystem"
            #expect(diagnostics.lines == [Self.note(hostPath, words)])
        }
    }
}

/// Lines written to a `Configuration.diagnostics` closure.
final class Diagnostics: Sendable {
    private let written = Mutex<[String]>([])

    func append(_ line: String) { written.withLock { $0.append(line) } }

    var lines: [String] { written.withLock { $0 } }
}
