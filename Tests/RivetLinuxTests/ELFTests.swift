import RivetLinux
import RivetMachine
import Testing

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
