import ArgumentParser
import Rivet

/// `rivet disasm FILE`
struct DisasmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disasm",
        abstract: "Disassemble a riscv64 ELF file's code, as objdump -d does.")

    @Argument(help: "The ELF file.")
    var file: String

    func run() throws {
        do {
            print(try Disassembly.listing(ofFileAt: file), terminator: "")
        } catch {
            printError("rivet: \(error.message)")
            throw ExitCode(1)
        }
    }
}
