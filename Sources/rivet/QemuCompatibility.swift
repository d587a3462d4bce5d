/// qemu-user's command line, so that `qemu-riscv64` can be swapped for `rivet`: the program
/// may follow `rivet` directly (no `run`), and qemu's single-dash options before it mean what
/// they mean to qemu. Everything after the program is the program's.
enum QemuCompatibility {
    /// The subcommands and the options `rivet` itself takes before one.
    static let ownWords: Set<String> = ["run", "disasm", "help", "-h", "--help", "--version", "--generate-completion-script"]

    /// qemu-user options with a value, and the `rivet run` option each becomes.
    static let withValue: [String: String] = [
        "-L": "--sysroot", "-g": "--gdb", "-E": "--env", "-U": "--unset-env", "-0": "--argv0", "-seed": "--seed",
    ]
    /// qemu-user flags, and the `rivet run` flag each becomes.
    static let flags: [String: String] = ["-strace": "--trace-syscalls"]
    /// qemu-user options Rivet accepts and ignores, with a value (its CPU is always RV64GC and
    /// the extensions it implements).
    static let ignoredWithValue: Set<String> = ["-cpu"]

    /// `arguments` (without the command's own name) as `rivet`'s parser takes them.
    /// - Throws: a message for a qemu option Rivet does not have.
    static func translate(_ arguments: [String]) throws(QemuOptionError) -> [String] {
        guard let first = arguments.first, !ownWords.contains(first) else { return arguments }
        // `rivet run ...` style already, or a `--long` option of `run`: leave it to the parser.
        if first.hasPrefix("--") { return ["run"] + arguments }
        var translated = ["run"]
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if let option = withValue[word] {
                guard index + 1 < arguments.count else { throw QemuOptionError("\(word) needs a value") }
                translated += [option, arguments[index + 1]]
                index += 2
            } else if let flag = flags[word] {
                translated.append(flag)
                index += 1
            } else if ignoredWithValue.contains(word) {
                index += 2
            } else if word.hasPrefix("--") {
                translated.append(word)
                index += 1
            } else if word.hasPrefix("-"), word != "-" {
                throw QemuOptionError("\(word): not a qemu-user option Rivet knows (see rivet run --help)")
            } else {
                // The program: it and what follows are the guest's.
                return translated + ["--"] + arguments[index...]
            }
        }
        return translated
    }
}

/// A qemu-user option Rivet cannot honour.
struct QemuOptionError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
