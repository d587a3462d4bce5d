import RivetISA
import RivetLinux
import RivetMachine

/// Prints each executed instruction with its disassembly and the registers it changed:
/// `0x10078  1141      addi sp,sp,-16        sp=0x3fffffee0`.
final class InstructionTracer {
    private let memory: GuestMemory
    private let elf: ELFFile
    private let output: @Sendable (String) -> Void
    private let disassembler: Disassembler
    private var pending: String?
    private var snapshot = [UInt64](repeating: 0, count: 67)

    init(memory: GuestMemory, elf: ELFFile, output: @escaping @Sendable (String) -> Void) {
        self.memory = memory
        self.elf = elf
        self.output = output
        let symbols = elf
        disassembler = Disassembler(symbolizer: { address in
            guard let (symbol, offset) = symbols.symbol(containing: address) else { return nil }
            return offset == 0 ? symbol.name : "\(symbol.name)+0x\(String(offset, radix: 16))"
        })
    }

    /// Called with the hart about to execute the instruction at its pc.
    func before(_ hart: HartState) {
        flush(hart)
        let pc = hart.pc
        var text = "0x" + String(pc, radix: 16) + "  "
        if memory.permissions(at: pc).contains(.execute) {
            let low = memory.host(pc).loadUnaligned(as: UInt16.self)
            let high: UInt16 =
                Decoder.length(ofParcel: low) == 4 && memory.permissions(at: pc + 2).contains(.execute)
                ? memory.host(pc + 2).loadUnaligned(as: UInt16.self) : 0
            let inst = Decoder.decode(low: low, high: high)
            let bits = hexDigits(inst.raw, width: inst.length == 2 ? 4 : 8)
            text += bits.padded(to: 10)
            text += disassembler.text(inst, at: pc).replacingTabs()
        }
        pending = text
        for k in 0..<66 { snapshot[k] = hart.slots[k] }
    }

    /// Prints the last instruction (after the run stops).
    func finish(_ hart: HartState) { flush(hart) }

    private func flush(_ hart: HartState) {
        guard var line = pending else { return }
        pending = nil
        var changes: [String] = []
        for k in 1..<32 where hart.slots[k] != snapshot[k] {
            changes.append("\(integerRegisterNames[k])=0x\(String(hart.slots[k], radix: 16))")
        }
        for k in 0..<32 where hart.slots[HartState.Slot.f + k] != snapshot[HartState.Slot.f + k] {
            changes.append("\(floatRegisterNames[k])=0x\(String(hart.slots[HartState.Slot.f + k], radix: 16))")
        }
        if hart.slots[HartState.Slot.fcsr] != snapshot[HartState.Slot.fcsr] {
            changes.append("fcsr=0x\(String(hart.slots[HartState.Slot.fcsr], radix: 16))")
        }
        if !changes.isEmpty {
            line = line.padded(to: 48) + "  " + changes.joined(separator: " ")
        }
        output(line)
    }
}

extension String {
    /// objdump separates mnemonic and operands by a tab; traces use a space.
    func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}
