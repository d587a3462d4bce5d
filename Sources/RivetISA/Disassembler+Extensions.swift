/// Zba, Zbb, Zbs, Zicond, Zicbom and Zicboz as objdump prints them: binutils 2.40 for all but
/// Zicond, which binutils 2.41 added (`czero.eqz rd,rs1,rs2`). Like the base shifts, binutils
/// 2.40 spells the immediate rotates and single-bit operations like the register ones
/// (`rori` as `ror`, `bseti` as `bset`); `slli.uw` keeps its name.
extension Disassembler {
    func extensionInstruction(_ inst: Instruction) -> Printed {
        let (rd, rs1, rs2) = (inst.rd, inst.rs1, inst.rs2)
        switch inst.opcode.format {
        case .r:
            if inst.opcode == .add_uw && rs2 == 0 { return Printed("zext.w", "\(x(rd)),\(x(rs1))") }
            return registers(inst)
        case .unary:
            return Printed(inst.opcode.mnemonic, "\(x(rd)),\(x(rs1))")
        case .shift64, .shift32:
            var name = inst.opcode.mnemonic
            if inst.opcode != .slli_uw, let i = name.lastIndex(of: "i") { name.remove(at: i) }
            return Printed(name, "\(x(rd)),\(x(rs1)),0x\(hexDigits(inst.imm))")
        case .cbo:
            return Printed(inst.opcode.mnemonic, "(\(x(rs1)))")
        case .none, .i, .load, .s, .b, .u, .j, .jalr, .fence, .system, .csr, .csrImm, .amo, .lr,
            .fload, .fstore, .fr4, .frm, .fr, .funaryRM, .fcmp, .fToInt, .fToIntRaw, .intToF, .intToFRaw,
            .fli:
            return .unknown(inst)
        }
    }
}
