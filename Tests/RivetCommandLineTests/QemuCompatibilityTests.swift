import RivetCommandLine
import Testing

/// How `rivet`'s own command line, qemu-user's, and the kernel's (binfmt_misc) become `rivet run`.
@Suite struct QemuCompatibilityTests {
    @Test func theKernelsCallWithFlagPKeepsArgv0() throws {
        // binfmt_misc with P: rivet /full/path/prog ARGV0 ARGS..., AT_FLAGS_PRESERVE_ARGV0 set.
        let flags = BinfmtRegistration.kernelFlagPreserveArgv0
        #expect(
            try QemuCompatibility.translate(["/usr/bin/prog", "prog", "-E", "run"], auxiliaryFlags: flags)
                == ["run", "--argv0", "prog", "--", "/usr/bin/prog", "-E", "run"])
        // Words that would otherwise be rivet's own or qemu's stay the program's.
        #expect(
            try QemuCompatibility.translate(["/bin/run", "--help"], auxiliaryFlags: flags)
                == ["run", "--argv0", "--help", "--", "/bin/run"])
        // An exec with an empty argv has no argv[0] to keep.
        #expect(try QemuCompatibility.translate(["/bin/prog"], auxiliaryFlags: flags) == ["run", "--argv0", "/bin/prog", "--", "/bin/prog"])
        // Other AT_FLAGS bits mean nothing here.
        #expect(try QemuCompatibility.translate(["/bin/prog", "x"], auxiliaryFlags: 2) == ["run", "--", "/bin/prog", "x"])
    }

    @Test func theKernelsCallWithoutFlagPIsAProgramAndItsArguments() throws {
        #expect(try QemuCompatibility.translate(["/usr/bin/prog", "-E", "a"]) == ["run", "--", "/usr/bin/prog", "-E", "a"])
    }

    @Test func qemuOptionsBeforeTheProgram() throws {
        #expect(
            try QemuCompatibility.translate(["-L", "/sysroot", "-0", "name", "-cpu", "rv64", "-strace", "prog", "-L"])
                == ["run", "--sysroot", "/sysroot", "--argv0", "name", "--trace-syscalls", "--", "prog", "-L"])
        #expect(try QemuCompatibility.translate(["-g", "1234", "prog"]) == ["run", "--gdb", "1234", "--", "prog"])
        #expect(throws: QemuOptionError("-bogus: not a qemu-user option Rivet knows (see rivet run --help)")) {
            try QemuCompatibility.translate(["-bogus", "prog"])
        }
        #expect(throws: QemuOptionError("-L needs a value")) { try QemuCompatibility.translate(["-L"]) }
    }

    @Test func rivetsOwnCommandLineIsLeftAlone() throws {
        for words in [["run", "prog"], ["binfmt", "--print"], ["disasm", "f"], ["--version"], []] {
            #expect(try QemuCompatibility.translate(words) == words)
        }
        #expect(try QemuCompatibility.translate(["--tier", "interp", "prog"]) == ["run", "--tier", "interp", "prog"])
    }
}
