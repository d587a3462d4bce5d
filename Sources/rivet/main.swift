import ArgumentParser
import RivetCommandLine

/// `rivet`: runs RISC-V Linux programs.
struct RivetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rivet",
        abstract: "Run riscv64 Linux programs on this host.",
        discussion: """
            rivet PROGRAM [ARGS...] is rivet run PROGRAM [ARGS...]; qemu-user's options -L, -E, \
            -U, -0, -strace and -cpu work before the program, so that qemu-riscv64 can be \
            replaced by rivet. RIVET_SYSROOT names the default sysroot. rivet binfmt makes the \
            kernel run riscv64 programs through rivet.
            """,
        version: rivetVersion,
        subcommands: [RunCommand.self, DisasmCommand.self, BinfmtCommand.self],
        defaultSubcommand: nil)
}

/// The version `--version` prints.
let rivetVersion = "rivet 0.4.0 (RV64GC, Zba/Zbb/Zbs/Zicond/Zicbom/Zicboz/Zihintpause/Zfa)"

let commandLine: [String]
do {
    // binfmt_misc says in AT_FLAGS when it ran rivet for an entry with flag P.
    let arguments = Array(CommandLine.arguments.dropFirst())
    commandLine = try QemuCompatibility.translate(arguments, auxiliaryFlags: BinfmtRegistration.auxiliaryFlags)
} catch {
    RivetCommand.exit(withError: ValidationError(error.message))
}
if let options = RunOptions.plain(commandLine) {
    // `rivet run PROGRAM [ARGS...]` (or `rivet PROGRAM [ARGS...]`) without ArgumentParser's
    // reflection (`RunOptions`); errors end the process as `RivetCommand.main` ends it.
    do {
        try options.run()
    } catch {
        RunCommand.exit(withError: error)
    }
}
RivetCommand.main(commandLine)
