/// qemu-user's command line, so that `qemu-riscv64` can be swapped for `rivet`: the program
/// may follow `rivet` directly (no `run`), and qemu's single-dash options before it mean what
/// they mean to qemu. Everything after the program is the program's. This is also how the
/// kernel calls `rivet` for a binfmt_misc entry (`BinfmtRegistration`): `rivet PROGRAM ARGS...`,
/// or with flag `P` `rivet PROGRAM ARGV0 ARGS...`.
package enum QemuCompatibility {
    // (Arrays, not sets and dictionaries: their first use instantiated hashing and generic
    // metadata, 2% of a hello world's run.)

    /// The subcommands and the options `rivet` itself takes before one.
    static let ownWords: [String] = [
        "run", "disasm", "binfmt", "help", "-h", "--help", "--version", "--generate-completion-script",
    ]

    /// qemu-user options with a value, and the `rivet run` option each becomes.
    static let withValue: [(qemu: String, rivet: String)] = [
        ("-L", "--sysroot"), ("-g", "--gdb"), ("-E", "--env"), ("-U", "--unset-env"), ("-0", "--argv0"),
        ("-seed", "--seed"),
    ]
    /// qemu-user flags, and the `rivet run` flag each becomes.
    static let flags: [(qemu: String, rivet: String)] = [("-strace", "--trace-syscalls")]
    /// qemu-user options Rivet accepts and ignores, with a value (its CPU is always RV64GC and
    /// the extensions it implements).
    static let ignoredWithValue: [String] = ["-cpu"]

    /// `arguments` (without the command's own name) as `rivet`'s parser takes them.
    /// - Parameters:
    ///   - arguments: the command line after `rivet`.
    ///   - auxiliaryFlags: the AT_FLAGS entry of rivet's own auxiliary vector
    ///     (`getauxval(AT_FLAGS)`). binfmt_misc sets `AT_FLAGS_PRESERVE_ARGV0` there when it
    ///     runs rivet for an entry with flag `P` (Linux 5.12 and later): the arguments are then
    ///     `PROGRAM ARGV0 ARGS...` and become `run --argv0 ARGV0 -- PROGRAM ARGS...`, whatever
    ///     the words look like.
    /// - Throws: a message for a qemu option Rivet does not have.
    package static func translate(_ arguments: [String], auxiliaryFlags: UInt = 0) throws(QemuOptionError) -> [String] {
        if auxiliaryFlags & BinfmtRegistration.kernelFlagPreserveArgv0 != 0, let program = arguments.first {
            // A caller may exec with an empty argv; then there is no argv[0] to keep.
            let argv0 = arguments.count > 1 ? arguments[1] : program
            return ["run", "--argv0", argv0, "--", program] + arguments.dropFirst(2)
        }
        guard let first = arguments.first, !ownWords.contains(first) else { return arguments }
        // `rivet run ...` style already, or a `--long` option of `run`: leave it to the parser.
        if first.hasPrefix("--") { return ["run"] + arguments }
        var translated = ["run"]
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            if let option = withValue.first(where: { $0.qemu == word })?.rivet {
                guard index + 1 < arguments.count else { throw QemuOptionError("\(word) needs a value") }
                translated += [option, arguments[index + 1]]
                index += 2
            } else if let flag = flags.first(where: { $0.qemu == word })?.rivet {
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
package struct QemuOptionError: Error, Equatable {
    package var message: String
    package init(_ message: String) { self.message = message }
}
