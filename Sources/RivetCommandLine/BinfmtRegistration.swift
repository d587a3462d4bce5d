import CRivetHost

#if canImport(Glibc)
import Glibc
#endif

/// A binfmt_misc entry that makes the kernel run riscv64 ELF executables through `rivet`, so
/// that `./program` works as if the host were RISC-V.
///
/// The kernel's format (Documentation/admin-guide/binfmt-misc.rst) is one line,
/// `:name:type:offset:magic:mask:interpreter:flags`, written to the `register` file of a
/// mounted binfmt_misc. The entry matches by magic (type `M`) on the first 20 bytes of the ELF
/// header, and the kernel then runs `interpreter PROGRAM ARGS...` (`interpreter PROGRAM ARGV0
/// ARGS...` with flag `P`).
package struct BinfmtRegistration: Equatable, Sendable {
    /// The entry's name: its file under the binfmt_misc mount.
    package var name: String
    /// The absolute path of the `rivet` binary the kernel runs.
    package var interpreter: String
    /// Flag `P`: the kernel passes the program's own argv[0] after its path, and says so in the
    /// interpreter's AT_FLAGS (`kernelFlagPreserveArgv0`).
    package var preservesArgv0: Bool

    /// Where binfmt_misc is mounted.
    package static let mountPoint = "/proc/sys/fs/binfmt_misc"
    /// The entry's name unless one is given.
    package static let defaultName = "rivet-riscv64"
    /// AT_FLAGS, the auxiliary-vector entry through which binfmt_misc tells the interpreter its
    /// flags (include/uapi/linux/auxvec.h).
    package static let auxiliaryFlagsType: UInt = 8
    /// AT_FLAGS_PRESERVE_ARGV0 (include/uapi/linux/binfmts.h): the entry has flag `P`.
    package static let kernelFlagPreserveArgv0: UInt = 1

    /// This process's AT_FLAGS: what binfmt_misc says of the entry it was started for (0 when
    /// it was not).
    package static var auxiliaryFlags: UInt { rivet_auxiliary_value(auxiliaryFlagsType) }

    /// The first 20 bytes of every riscv64 Linux executable, as binfmt_misc compares them:
    /// `e_ident` (magic, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, any OS/ABI, ABI version 0 and
    /// padding), `e_type` ET_EXEC (2; the mask lets ET_DYN, 3, match too: static-pie, PIE and
    /// the dynamic linker), and `e_machine` EM_RISCV (243). The same bytes and mask as QEMU's
    /// `scripts/qemu-binfmt-conf.sh` gives for riscv64, derived here from the ELF
    /// specification.
    package static let magic: [UInt8] = [
        0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x00, 0xf3, 0x00,
    ]
    /// Which bits of `magic` must match: everything but EI_OSABI (byte 7: System V or GNU/Linux)
    /// and bit 0 of e_type (ET_EXEC or ET_DYN).
    package static let mask: [UInt8] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xfe, 0xff, 0xff, 0xff,
    ]

    package init(name: String = defaultName, interpreter: String, preservesArgv0: Bool = false) {
        self.name = name
        self.interpreter = interpreter
        self.preservesArgv0 = preservesArgv0
    }

    /// The flags: `F` always (the kernel opens `rivet` when the entry is registered, so it runs
    /// inside chroots and other mount namespaces that do not contain it), `P` on request. Never
    /// `C` (credentials from the program: a setuid riscv64 binary would make rivet run as root)
    /// and never `O` (Rivet reads the program by path).
    package var flags: String { preservesArgv0 ? "PF" : "F" }

    /// The line to write to `register`: `:rivet-riscv64:M::\x7fELF...:\xff...:/usr/local/bin/rivet:F`.
    package var line: String {
        ":\(name):M::\(Self.escaped(Self.magic)):\(Self.escaped(Self.mask)):\(interpreter):\(flags)"
    }

    /// Every byte as `\xNN`: the kernel decodes these, and no byte can end a field (`:`) or
    /// the string (NUL) by accident.
    static func escaped(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return "\\x" + (digits.count == 1 ? "0" + digits : digits)
        }.joined()
    }

    /// Checks what the kernel would refuse, to say why in words (it answers EINVAL).
    /// - Throws: `BinfmtError` naming the field at fault.
    package func validate() throws(BinfmtError) {
        guard !name.isEmpty, !name.contains("/"), !name.contains(":"), name != ".", name != "..",
            name != "register", name != "status"
        else { throw BinfmtError("bad entry name '\(name)': it must be a file name without '/' or ':'") }
        guard interpreter.hasPrefix("/") else {
            throw BinfmtError("the interpreter must be an absolute path, not '\(interpreter)'")
        }
        guard !interpreter.contains(":") else {
            throw BinfmtError("the interpreter path \(interpreter) contains ':', which ends a field of the registration")
        }
        // binfmt_misc keeps the interpreter in a 128-byte buffer, with its NUL.
        guard interpreter.utf8.count <= 127 else {
            throw BinfmtError("the interpreter path \(interpreter) is longer than the kernel's 127 bytes")
        }
    }

    // MARK: The kernel's files

    /// Writes the entry to `directory/register`.
    /// - Throws: `BinfmtError` if binfmt_misc is not mounted there, the caller may not write it
    ///   (registering needs root, or CAP_SYS_ADMIN in the namespace), an entry of that name
    ///   exists, or the kernel refuses the line.
    package func register(in directory: String = mountPoint) throws(BinfmtError) {
        try validate()
        try Self.requireMounted(directory)
        do {
            try Self.write(line, to: directory + "/register")
        } catch {
            if error.code == EEXIST {
                throw BinfmtError("an entry named \(name) exists already in \(directory); remove it first with rivet binfmt --unregister")
            }
            throw error
        }
    }

    /// Removes the entry named `name` from `directory` (by writing -1 to its file).
    /// - Throws: `BinfmtError` if binfmt_misc is not mounted there, there is no such entry, or
    ///   the caller may not remove it.
    package static func unregister(name: String = defaultName, in directory: String = mountPoint) throws(BinfmtError) {
        try requireMounted(directory)
        let entry = directory + "/" + name
        guard !name.isEmpty, !name.contains("/"), access(entry, F_OK) == 0 else {
            throw BinfmtError("no binfmt_misc entry named \(name) in \(directory)")
        }
        try write("-1", to: entry)
    }

    /// binfmt_misc is mounted at `directory`: it has its `register` and `status` files.
    private static func requireMounted(_ directory: String) throws(BinfmtError) {
        guard access(directory + "/register", F_OK) == 0, access(directory + "/status", F_OK) == 0 else {
            throw BinfmtError(
                "binfmt_misc is not mounted at \(directory); mount it first (as root): mount -t binfmt_misc binfmt_misc \(directory)")
        }
    }

    /// Writes `text` to the kernel file `path` in one write(2), as binfmt_misc wants it.
    private static func write(_ text: String, to path: String) throws(BinfmtError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BinfmtError(writing: path, errno) }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        let written = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw BinfmtError(writing: path, written < 0 ? errno : EIO) }
    }
}

/// Why binfmt_misc registration failed.
package struct BinfmtError: Error, Equatable, CustomStringConvertible, Sendable {
    package var message: String
    /// The errno of the host call that failed, or 0.
    package var code: Int32

    package init(_ message: String, code: Int32 = 0) {
        self.message = message
        self.code = code
    }

    /// A failed write to a kernel file, said in words.
    init(writing path: String, _ error: Int32) {
        let reason = String(cString: strerror(error))
        switch error {
        case EACCES, EPERM, EROFS:
            self.init("cannot write \(path): \(reason) (registering binary formats needs root)", code: error)
        case EINVAL:
            self.init("the kernel refused the entry written to \(path): \(reason)", code: error)
        default:
            self.init("cannot write \(path): \(reason)", code: error)
        }
    }

    package var description: String { message }
}
