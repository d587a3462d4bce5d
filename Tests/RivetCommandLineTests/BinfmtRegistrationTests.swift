import RivetCommandLine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The registration line, field by field, as Documentation/admin-guide/binfmt-misc.rst reads it.
@Suite struct BinfmtRegistrationTests {
    /// The line's fields: ["", name, type, offset, magic, mask, interpreter, flags].
    func fields(_ entry: BinfmtRegistration) -> [String] {
        entry.line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    }

    /// `\xNN` escapes back to bytes.
    func bytes(_ field: String) throws -> [UInt8] {
        let parts = field.split(separator: "\\", omittingEmptySubsequences: true)
        #expect(field.hasPrefix("\\x") && parts.allSatisfy { $0.count == 3 && $0.hasPrefix("x") }, "\(field)")
        return try parts.map { try #require(UInt8($0.dropFirst(), radix: 16)) }
    }

    @Test func theLineHasTheKernelsSevenFields() throws {
        let entry = BinfmtRegistration(interpreter: "/usr/local/bin/rivet")
        let f = fields(entry)
        try #require(f.count == 8, "\(entry.line)")
        #expect(f[0] == "" && f[1] == "rivet-riscv64")
        #expect(f[2] == "M", "matched by magic")
        #expect(f[3] == "", "offset 0")
        #expect(f[6] == "/usr/local/bin/rivet" && f[6].hasPrefix("/"))
        #expect(f[7] == "F")
        // The whole string fits the kernel's limit.
        #expect(entry.line.utf8.count <= 1920)
    }

    @Test func magicAndMaskMatchRiscv64ExecutablesOnly() throws {
        let f = fields(BinfmtRegistration(interpreter: "/usr/local/bin/rivet"))
        let magic = try bytes(f[4])
        let mask = try bytes(f[5])
        #expect(magic.count == 20 && mask.count == magic.count, "the mask is as long as the magic")
        #expect(magic.count <= 128, "the magic lies in the first 128 bytes")
        #expect(zip(magic, mask).allSatisfy { $0 & $1 == $0 }, "no magic bit is masked out")
        func matches(_ header: [UInt8]) -> Bool { zip(zip(header, magic), mask).allSatisfy { $0.0 & $1 == $0.1 } }
        func header(osabi: UInt8 = 0, class elfClass: UInt8 = 2, type: UInt8, machine: UInt8) -> [UInt8] {
            [0x7f, 0x45, 0x4c, 0x46, elfClass, 1, 1, osabi] + [UInt8](repeating: 0, count: 8) + [type, 0, machine, 0]
        }
        #expect(matches(header(type: 2, machine: 243)), "ET_EXEC")
        #expect(matches(header(type: 3, machine: 243)), "ET_DYN: PIE, static-pie, the dynamic linker")
        #expect(matches(header(osabi: 3, type: 2, machine: 243)), "ELFOSABI_GNU")
        #expect(!matches(header(type: 1, machine: 243)), "not relocatable objects")
        #expect(!matches(header(type: 4, machine: 243)), "not core files")
        #expect(!matches(header(type: 2, machine: 62)), "not x86-64")
        #expect(!matches(header(class: 1, type: 2, machine: 243)), "not RV32")
    }

    @Test func preservingArgv0AddsFlagPAndNeverC() {
        let entry = BinfmtRegistration(name: "rv", interpreter: "/opt/rivet", preservesArgv0: true)
        let f = fields(entry)
        #expect(f[1] == "rv" && f[7].contains("P") && f[7].contains("F"))
        #expect(!f[7].contains("C") && !f[7].contains("O"))
    }

    @Test func whatTheKernelWouldRefuseIsSaidFirst() {
        #expect(throws: BinfmtError.self) { try BinfmtRegistration(interpreter: "rivet").validate() }
        #expect(throws: BinfmtError.self) { try BinfmtRegistration(interpreter: "/a:b/rivet").validate() }
        #expect(throws: BinfmtError.self) {
            try BinfmtRegistration(interpreter: "/" + String(repeating: "d", count: 127)).validate()
        }
        #expect(throws: BinfmtError.self) { try BinfmtRegistration(name: "a/b", interpreter: "/rivet").validate() }
        #expect(throws: BinfmtError.self) { try BinfmtRegistration(name: "register", interpreter: "/rivet").validate() }
        #expect(throws: Never.self) { try BinfmtRegistration(interpreter: "/usr/local/bin/rivet").validate() }
    }

    /// Registration against a directory that only looks like binfmt_misc: what is written
    /// where, and the error when it is not mounted. (The real one needs root.)
    @Test func registerWritesTheLineAndUnregisterWritesMinusOne() throws {
        var template = Array("/tmp/rivet-binfmt-XXXXXX".utf8CString)
        let directory = String(cString: try #require(mkdtemp(&template)))
        defer { _ = system("rm -rf '\(directory)'") }
        let entry = BinfmtRegistration(interpreter: "/usr/local/bin/rivet")
        let unmounted = #expect(throws: BinfmtError.self) { try entry.register(in: directory) }
        #expect(unmounted?.message.contains("binfmt_misc is not mounted at \(directory)") == true)
        for file in ["register", "status", "rivet-riscv64"] { close(open(directory + "/" + file, O_CREAT | O_WRONLY, 0o644)) }
        try entry.register(in: directory)
        #expect(contents(directory + "/register") == entry.line)
        try BinfmtRegistration.unregister(in: directory)
        #expect(contents(directory + "/rivet-riscv64") == "-1")
        #expect(throws: BinfmtError.self) { try BinfmtRegistration.unregister(name: "absent", in: directory) }
    }

    func contents(_ path: String) -> String {
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fd, &buffer, buffer.count)
        return String(decoding: buffer.prefix(max(0, n)), as: UTF8.self)
    }
}
