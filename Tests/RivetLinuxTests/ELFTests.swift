import RivetLinux
import RivetMachine
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The loader refuses what it cannot run with a message naming what the file is.
@Suite struct ELFTests {
    /// A 64-byte ELF header with no program headers: class, byte order, type and machine set.
    static func header(class elfClass: UInt8 = 2, order: UInt8 = 1, type: UInt8 = 2, machine: UInt16) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes[0..<7] = [0x7f, 0x45, 0x4c, 0x46, elfClass, order, 1]
        if order == 2 {
            bytes[17] = type
            (bytes[18], bytes[19]) = (UInt8(machine >> 8), UInt8(machine & 0xff))
        } else {
            bytes[16] = type
            (bytes[18], bytes[19]) = (UInt8(machine & 0xff), UInt8(machine >> 8))
        }
        return bytes
    }

    func refusal(_ bytes: [UInt8]) -> String? {
        do {
            _ = try ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func foreignExecutablesNameTheirArchitecture() {
        #expect(refusal(Self.header(machine: 62)) == "an x86-64 executable, not RISC-V")
        #expect(refusal(Self.header(type: 3, machine: 183)) == "an AArch64 executable, not RISC-V")
        #expect(refusal(Self.header(class: 1, machine: 3)) == "an i386 executable, not RISC-V")
        #expect(refusal(Self.header(class: 1, machine: 40)) == "an ARM executable, not RISC-V")
        #expect(refusal(Self.header(class: 2, order: 2, machine: 22)) == "an s390x executable, not RISC-V")
        #expect(refusal(Self.header(machine: 99)) == "an ELF executable for machine 99, not RISC-V")
    }

    @Test func riscvFilesRivetCannotRunSayWhy() {
        #expect(refusal(Self.header(class: 1, machine: 243)) == "a 32-bit RISC-V executable (RV32); Rivet runs RV64 only")
        #expect(
            refusal(Self.header(order: 2, machine: 243)) == "a big-endian RISC-V executable; Rivet runs little-endian RV64 only")
        #expect(refusal(Self.header(type: 1, machine: 243)) == "a RISC-V object file (not linked), not an executable")
        #expect(refusal(Self.header(type: 4, machine: 243)) == "a RISC-V core file, not an executable")
        // Past the identification, the header itself is checked.
        #expect(refusal(Self.header(machine: 243)) == "no program headers")
        #expect(refusal(Array(Self.header(machine: 243).prefix(40))) == "file too short for an ELF header (40 bytes)")
    }

    @Test func whatIsNotELFIsSaidSo() {
        #expect(refusal(Array("#!/bin/sh\nexit 0\n".utf8)) == "a script (#!/bin/sh), not an ELF file")
        #expect(refusal(Array("hello, world\n".utf8)) == "not an ELF file")
        #expect(refusal([]) == "an empty file, not an ELF file")
    }
}

/// Programs are read from their files where needed, not whole (`ProgramFile`): the same parse as
/// from bytes, and a file that changes afterwards gives an error, never a fault in the host.
@Suite struct ProgramFileTests {
    static let fixtures: String = {
        var path = #filePath
        for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Tests/RivetTests/Fixtures/bin/"
    }()

    /// `bytes` in a new temporary file, open for reading and writing.
    static func temporaryFile(_ bytes: [UInt8]) -> Int32 {
        var template = Array("/tmp/rivet-program-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        precondition(fd >= 0)
        unlink(&template)
        precondition(write(fd, bytes, bytes.count) == bytes.count)
        return fd
    }

    static func contents(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        precondition(fd >= 0)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            bytes += buffer[..<n]
        }
        return bytes
    }

    @Test(arguments: ["hello_static", "dynamic_hello"])
    func aFileParsesAsItsBytesDo(_ name: String) throws {
        let bytes = Self.contents(Self.fixtures + name)
        let fd = Self.temporaryFile(bytes)
        defer { close(fd) }
        let file = try #require(ProgramFile(duplicating: fd))
        #expect(file.count == bytes.count && file.head == Array(bytes.prefix(ProgramFile.headSize)))
        let fromFile = try ELFFile(file: file, addressSpaceSize: GuestMemory.addressSpaceSize)
        let fromBytes = try ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize)
        #expect(fromFile.programHeaders == fromBytes.programHeaders)
        #expect(fromFile.entry == fromBytes.entry && fromFile.flags == fromBytes.flags)
        #expect(fromFile.interpreter == fromBytes.interpreter)
        #expect(fromFile.sections == fromBytes.sections && !fromFile.sections.isEmpty)
        #expect(fromFile.symbols == fromBytes.symbols && !fromFile.symbols.isEmpty)
        #expect((fromFile.interpreter != nil) == (name == "dynamic_hello"))
        // Reads past the first page come from the file.
        let offset = UInt64(bytes.count / 2)
        #expect(file.read(at: offset, count: 300) == Array(bytes[Int(offset)..<Int(offset) + 300]))
    }

    /// Two segments sharing a page, so the loader copies them from the file instead of mapping
    /// it: R-X at 0x10000 (file 0x000-0x180), RW- at 0x10180 (file 0x180-0x200, 0x100 in memory).
    static func twoSegmentsInOnePage() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 0x200)
        func put(_ value: UInt64, _ size: Int, at offset: Int) {
            for k in 0..<size { bytes[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
        }
        bytes[0..<7] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]
        put(2, 2, at: 16)  // ET_EXEC
        put(243, 2, at: 18)  // EM_RISCV
        put(1, 4, at: 20)
        put(0x10100, 8, at: 24)  // entry
        put(64, 8, at: 32)  // program headers
        put(64, 2, at: 52)
        put(56, 2, at: 54)
        put(2, 2, at: 56)
        for (n, (offset, address, fileSize, memorySize, flags)) in [
            (UInt64(0), UInt64(0x10000), UInt64(0x180), UInt64(0x180), UInt64(5)),
            (0x180, 0x10180, 0x80, 0x100, 6),
        ].enumerated() {
            let o = 64 + n * 56
            put(1, 4, at: o)
            put(flags, 4, at: o + 4)
            put(offset, 8, at: o + 8)
            put(address, 8, at: o + 16)
            put(address, 8, at: o + 24)
            put(fileSize, 8, at: o + 32)
            put(memorySize, 8, at: o + 40)
            put(0x1000, 8, at: o + 48)
        }
        for k in 0x100..<0x200 { bytes[k] = UInt8(k & 0xff) ^ 0x5a }
        return bytes
    }

    @Test func copiedSegmentsComeFromTheFile() throws {
        let bytes = Self.twoSegmentsInOnePage()
        let fd = Self.temporaryFile(bytes)
        defer { close(fd) }
        let file = try #require(ProgramFile(duplicating: fd))
        let elf = try ELFFile(file: file, addressSpaceSize: GuestMemory.addressSpaceSize)
        let memory = try GuestMemory(limit: 1 << 30)
        _ = try Loader.load(elf, path: "/nonexistent/two-segments", interpreter: nil, into: memory)
        let loaded = UnsafeRawBufferPointer(start: memory.host(0x10000), count: 0x200)
        #expect(Array(loaded[0x100..<0x200]) == Array(bytes[0x100..<0x200]))
    }

    @Test func aFileThatShrankAfterParsingIsRefusedNotFaultedOn() throws {
        let bytes = Self.twoSegmentsInOnePage()
        let fd = Self.temporaryFile(bytes)
        defer { close(fd) }
        let file = try #require(ProgramFile(duplicating: fd))
        let elf = try ELFFile(file: file, addressSpaceSize: GuestMemory.addressSpaceSize)
        #expect(ftruncate(fd, 0x100) == 0)
        let memory = try GuestMemory(limit: 1 << 30)
        #expect(throws: ELFError.self) {
            _ = try Loader.load(elf, path: "/nonexistent/two-segments", interpreter: nil, into: memory)
        }
        // What lies past the new end reads as zeros.
        #expect(file.read(at: 0x1f0, count: 0x20) == [UInt8](repeating: 0, count: 0x20))
        #expect(ProgramFile(duplicating: fd)?.count == 0x100)
    }
}
