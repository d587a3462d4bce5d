/// Compressed instructions as objdump 2.40 prints them.
///
/// objdump prints most 16-bit forms like the 32-bit instruction they expand to, but without
/// address comments (it looks for those only after `c.addi` and `c.addiw`), and spells the hint
/// and shift-by-zero forms its own way (`c.li zero,1`, `c.slli64 a0`). Which form a parcel is
/// follows from its quadrant and funct3 (the RVC opcode map); the operands come from the
/// decoded expansion.
extension Disassembler {
    func compressed(_ inst: Instruction, at pc: UInt64) -> Printed {
        let raw = inst.raw
        guard inst.opcode != .illegal else {
            if raw == 0 { return Printed("unimp") }
            // c.addi16sp with a zero immediate is reserved, but objdump prints it.
            if raw & 0xef83 == 0x6101 { return Printed("add", "sp,sp,0") }
            return .unknown(inst)
        }
        let (rd, rs2, imm) = (inst.rd, inst.rs2, inst.imm)
        var printed = full(inst, at: pc)
        printed.addressUses = []
        switch (raw & 3, raw >> 13) {
        case (1, 0):  // c.addi, c.nop
            if rd == 0 { return imm == 0 ? Printed("nop") : Printed("c.nop", "\(imm)") }
            printed = Printed("add", "\(x(rd)),\(x(rd)),\(imm)")
            printed.addressUses = [AddressUse(base: rd, offset: imm)]
        case (1, 1):  // c.addiw
            if imm != 0 { printed.addressUses = [AddressUse(base: rd, offset: imm, wide: true)] }
        case (1, 2) where rd == 0:  // c.li hint
            return Printed("c.li", "zero,\(imm)")
        case (1, 3) where rd == 0:  // c.lui hint
            printed.mnemonic = "c.lui"
        case (1, 4) where (raw >> 10) & 3 < 2 && imm == 0:  // c.srli, c.srai by zero
            return Printed((raw >> 10) & 3 == 0 ? "c.srli64" : "c.srai64", x(rd))
        case (2, 0):  // c.slli
            if imm == 0 { return Printed("c.slli64", x(rd)) }
            if rd == 0 { return Printed("c.slli", "zero,0x\(hexDigits(imm))") }
        case (2, 4) where (raw >> 12) & 1 == 0 && rs2 != 0:  // c.mv
            return Printed(rd == 0 ? "c.mv" : "mv", "\(x(rd)),\(x(rs2))")
        case (2, 4) where (raw >> 12) & 1 == 1 && rs2 != 0 && rd == 0:  // c.add hint
            return Printed("c.add", "zero,\(x(rs2))")
        default:
            break
        }
        return printed
    }
}
