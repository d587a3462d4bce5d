import RivetISA
import RivetLinux
import RivetMachine

/// Disassembly of RISC-V ELF files.
public enum Disassembly {
    /// The listing `objdump -d` prints for the file's executable sections.
    /// - Throws: `RivetError` if the file cannot be read or is not a RISC-V ELF file.
    public static func listing(ofFileAt path: String) throws(RivetError) -> String {
        let bytes = try VirtualMachine.readFile(path)
        let elf: ELFFile
        do { elf = try ELFFile(bytes: bytes, addressSpaceSize: GuestMemory.addressSpaceSize) } catch {
            throw RivetError(.invalidProgram, "\(path): \(error.message)")
        }
        var out = ""
        let disassembler = Disassembler()
        for section in elf.sections where section.isExecutable {
            out += "\nDisassembly of section \(section.name):\n"
            var offset: UInt64 = 0
            while offset + 2 <= section.size {
                let at = Int(section.offset + offset)
                let low = UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
                let high: UInt16 = offset + 4 <= section.size ? UInt16(bytes[at + 2]) | UInt16(bytes[at + 3]) << 8 : 0
                let inst = Decoder.decode(low: low, high: high)
                out += "  \(String(section.address + offset, radix: 16)):\t\(disassembler.text(inst, at: section.address + offset))\n"
                offset += UInt64(inst.length)
            }
        }
        return out
    }
}
