/// Prints instructions as GNU objdump does (PLACEHOLDER: mnemonic only).
package struct Disassembler: Sendable {
    /// Names an address for branch and jump targets (`main+0x10`), or nil.
    package var symbolizer: (@Sendable (UInt64) -> String?)?

    package init(symbolizer: (@Sendable (UInt64) -> String?)? = nil) {
        self.symbolizer = symbolizer
    }

    /// The instruction's text as objdump prints it after the encoding column:
    /// mnemonic, a tab, operands.
    package func text(_ inst: Instruction, at pc: UInt64) -> String {
        inst.opcode.mnemonic
    }
}
