import ArgumentParser
import RivetCommandLine

#if canImport(Glibc)
import Glibc
#endif

/// `rivet binfmt --print | --register | --unregister`
struct BinfmtCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binfmt",
        abstract: "Make the kernel run riscv64 programs through rivet (binfmt_misc).",
        discussion: """
            Once registered, ./program runs a riscv64 Linux executable directly: the kernel \
            calls rivet PROGRAM ARGS... (with --preserve-argv0: rivet PROGRAM ARGV0 ARGS..., \
            which rivet recognizes from its auxiliary vector, Linux 5.12 and later). The guest \
            gets the grants of rivet run: the working directory, and the sysroot \
            (RIVET_SYSROOT, else /usr/riscv64-linux-gnu when it exists) read-only at /.

            The entry matches the ELF header of 64-bit little-endian RISC-V executables (ET_EXEC \
            and ET_DYN, any OS/ABI) and has flag F: the kernel opens rivet when the entry is \
            registered, so it also runs inside chroots and containers (there rivet must not need \
            the host's shared libraries: build it with --static-swift-stdlib -Xswiftc \
            -static-executable). It never has flag C.

            Registering needs root and binfmt_misc mounted at /proc/sys/fs/binfmt_misc \
            (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc). To register without \
            rivet, write the line --print shows:

              rivet binfmt --print | sudo tee /proc/sys/fs/binfmt_misc/register

            or keep it in /etc/binfmt.d/rivet-riscv64.conf for systemd-binfmt to register at \
            boot. An entry registered later is matched first: disable another riscv64 entry \
            (echo 0 > /proc/sys/fs/binfmt_misc/qemu-riscv64) to be sure rivet runs them.
            """)

    @Flag(name: .customLong("print"), help: "Print the registration line (the default).")
    var printLine = false

    @Flag(help: "Register the entry with the kernel (as root).")
    var register = false

    @Flag(help: "Remove the entry from the kernel (as root).")
    var unregister = false

    @Option(help: ArgumentHelp("The rivet binary the kernel runs (default: this one).", valueName: "PATH"))
    var interpreter: String?

    @Flag(name: .customLong("preserve-argv0"), help: "Flag P: the program gets the argv[0] it was run with, not its path.")
    var preserveArgv0 = false

    @Option(help: ArgumentHelp("The entry's name under /proc/sys/fs/binfmt_misc.", valueName: "NAME"))
    var name: String = BinfmtRegistration.defaultName

    func validate() throws {
        guard [printLine, register, unregister].filter({ $0 }).count <= 1 else {
            throw ValidationError("give one of --print, --register and --unregister")
        }
    }

    func run() throws {
        do {
            if unregister {
                try BinfmtRegistration.unregister(name: name)
                print("removed the binfmt_misc entry \(name)")
                return
            }
            let entry = BinfmtRegistration(
                name: name, interpreter: try interpreterPath(), preservesArgv0: preserveArgv0)
            try entry.validate()
            if register {
                try entry.register()
                print("registered \(entry.name): riscv64 programs now run through \(entry.interpreter)")
            } else {
                print(entry.line)
            }
        } catch {
            printError("rivet: \(error.message)")
            throw ExitCode(1)
        }
    }

    /// `--interpreter` made absolute, or this very binary.
    private func interpreterPath() throws(BinfmtError) -> String {
        if let interpreter {
            let absolute = interpreter.hasPrefix("/") ? interpreter : currentDirectory() + "/" + interpreter
            guard access(absolute, X_OK) == 0 else { throw BinfmtError("\(absolute) is not an executable file") }
            return absolute
        }
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { throw BinfmtError("cannot find this rivet binary's path; give --interpreter PATH") }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
