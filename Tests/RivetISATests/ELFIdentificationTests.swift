import RivetISA
import Testing

/// Files Rivet cannot run are named as a user knows them, from a crafted ELF header.
@Suite struct ELFIdentificationTests {
    /// An ELF header (the first 20 bytes are all that is read): class, byte order, type, machine.
    static func header(class elfClass: UInt8 = 2, order: UInt8 = 1, type: UInt16 = 2, machine: UInt16) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 64)
        bytes[0..<7] = [0x7f, 0x45, 0x4c, 0x46, elfClass, order, 1]
        let halves = [(16, type), (18, machine)]
        for (offset, value) in halves {
            let (first, second) = (UInt8(value & 0xff), UInt8(value >> 8))
            (bytes[offset], bytes[offset + 1]) = order == 2 ? (second, first) : (first, second)
        }
        return bytes
    }

    static let architectures: [(machine: UInt16, elfClass: UInt8, order: UInt8, refusal: String)] = [
        (62, 2, 1, "an x86-64 executable, not RISC-V"),
        (62, 1, 1, "an x32 (32-bit x86-64) executable, not RISC-V"),
        (3, 1, 1, "an i386 executable, not RISC-V"),
        (40, 1, 1, "an ARM executable, not RISC-V"),
        (183, 2, 1, "an AArch64 executable, not RISC-V"),
        (8, 1, 2, "a big-endian MIPS executable, not RISC-V"),
        (8, 2, 1, "a MIPS64 executable, not RISC-V"),
        (20, 1, 2, "a PowerPC executable, not RISC-V"),
        (21, 2, 1, "a PowerPC64 executable, not RISC-V"),
        (21, 2, 2, "a big-endian PowerPC64 executable, not RISC-V"),
        (22, 2, 2, "an s390x executable, not RISC-V"),
        (258, 2, 1, "a LoongArch64 executable, not RISC-V"),
        (4711, 2, 1, "an ELF executable for machine 4711, not RISC-V"),
        (243, 1, 1, "a 32-bit RISC-V executable (RV32); Rivet runs RV64 only"),
        (243, 2, 2, "a big-endian RISC-V executable; Rivet runs little-endian RV64 only"),
    ]

    @Test(arguments: architectures)
    func foreignExecutablesAreNamedByArchitecture(_ entry: (machine: UInt16, elfClass: UInt8, order: UInt8, refusal: String)) throws {
        let identity = try #require(ELFIdentification(Self.header(class: entry.elfClass, order: entry.order, machine: entry.machine)))
        #expect(identity.refusal() == entry.refusal)
        #expect(!identity.isRV64)
    }

    @Test func rv64LittleEndianIsAccepted() throws {
        let identity = try #require(ELFIdentification(Self.header(type: 3, machine: 243)))
        #expect(identity.isRV64 && identity.refusal() == nil)
        #expect(identity.type == 3 && identity.machine == 243)
    }

    @Test func theTypeNamesTheKindOfFile() throws {
        let kinds: [(UInt16, String)] = [(1, "an x86-64 object file"), (3, "an x86-64 executable"), (4, "an x86-64 core file"), (9, "an x86-64 ELF file")]
        for (type, text) in kinds {
            #expect(try #require(ELFIdentification(Self.header(type: type, machine: 62))).description == text)
        }
        let relocatable = try #require(ELFIdentification(Self.header(class: 1, type: 1, machine: 243)))
        #expect(relocatable.refusal(verb: "disassembles") == "a 32-bit RISC-V object file (RV32); Rivet disassembles RV64 only")
    }

    @Test func brokenIdentificationsAreSaidSo() throws {
        #expect(try #require(ELFIdentification(Self.header(class: 7, machine: 243))).refusal() == "an ELF file of unknown class 7")
        #expect(try #require(ELFIdentification(Self.header(order: 0, machine: 243))).refusal() == "an ELF file of unknown byte order 0")
        // The magic alone: too short to say more, and not RISC-V.
        #expect(ELFIdentification([0x7f, 0x45, 0x4c, 0x46])?.isRV64 == false)
    }

    @Test func whatIsNotELFIsSaidSo() {
        #expect(ELFIdentification(Array("#!/bin/sh\necho hi\n".utf8)) == nil)
        #expect(ELFIdentification.notELF(Array("#!/bin/sh\necho hi\n".utf8)) == "a script (#!/bin/sh), not an ELF file")
        #expect(ELFIdentification.notELF(Array("#! /usr/bin/env python3\r\n".utf8)) == "a script (#! /usr/bin/env python3), not an ELF file")
        let long = "#!/" + String(repeating: "x", count: 200)
        #expect(ELFIdentification.notELF(Array(long.utf8)) == "a script (\(long.prefix(77))...), not an ELF file")
        #expect(ELFIdentification.notELF(Array("MZ\u{90}".utf8)) == "not an ELF file")
        #expect(ELFIdentification.notELF([]) == "an empty file, not an ELF file")
        #expect(ELFIdentification([0x7f, 0x45, 0x4c]) == nil)
    }
}
