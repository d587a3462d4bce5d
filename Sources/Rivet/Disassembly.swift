import RivetISA
import RivetMachine

/// Disassembly of RISC-V ELF files.
public enum Disassembly {
    /// The listing `riscv64-linux-gnu-objdump -d` (binutils 2.40) prints for the ELF file at
    /// `path` (an executable, shared object or object file), line for line; see `Listing` for
    /// what is not modelled.
    /// - Throws: `RivetError` if the file cannot be read or is not a RISC-V ELF64 file.
    public static func listing(ofFileAt path: String) throws(RivetError) -> String {
        let bytes = try VirtualMachine.readFile(path)
        do { return try Listing(elf: bytes, fileName: path).text } catch {
            throw RivetError(.invalidProgram, "\(path): \(error.message)")
        }
    }
}
