/// The A, F and D extensions as objdump 2.40 prints them, and Zfa as binutils 2.41 does.
extension Disassembler {
    /// `lr.w.aq rd,(rs1)`, `amoadd.d.aqrl rd,rs2,(rs1)`: the ordering bits become suffixes.
    func atomic(_ inst: Instruction) -> Printed {
        let suffixes = ["", ".rl", ".aq", ".aqrl"]
        let name = inst.opcode.mnemonic + suffixes[Int(inst.rm & 3)]
        if inst.opcode.format == .lr { return Printed(name, "\(x(inst.rd)),(\(x(inst.rs1)))") }
        return Printed(name, "\(x(inst.rd)),\(x(inst.rs2)),(\(x(inst.rs1)))")
    }

    /// F and D instructions: operands by format, the rounding mode last unless it is dynamic,
    /// and the sign-injection aliases `fmv`, `fneg`, `fabs`.
    func floatingPoint(_ inst: Instruction) -> Printed {
        let op = inst.opcode
        let name = op.mnemonic
        let (rd, rs1, rs2, rs3) = (inst.rd, inst.rs1, inst.rs2, inst.rs3)
        let rm = roundingMode(inst.rm)
        switch op.format {
        case .fload:
            var printed = Printed(name, "\(f(rd)),\(memory(inst.imm, rs1))")
            printed.addressUses = [AddressUse(base: rs1, offset: inst.imm)]
            return printed
        case .fstore:
            var printed = Printed(name, "\(f(rs2)),\(memory(inst.imm, rs1))")
            printed.addressUses = [AddressUse(base: rs1, offset: inst.imm)]
            return printed
        case .fr4:
            return Printed(name, "\(f(rd)),\(f(rs1)),\(f(rs2)),\(f(rs3))\(rm)")
        case .frm:
            return Printed(name, "\(f(rd)),\(f(rs1)),\(f(rs2))\(rm)")
        case .fr:
            if rs1 == rs2 {
                let precision = name.hasSuffix(".d") ? ".d" : ".s"
                if op == .fsgnj_s || op == .fsgnj_d { return Printed("fmv" + precision, "\(f(rd)),\(f(rs1))") }
                if op == .fsgnjn_s || op == .fsgnjn_d { return Printed("fneg" + precision, "\(f(rd)),\(f(rs1))") }
                if op == .fsgnjx_s || op == .fsgnjx_d { return Printed("fabs" + precision, "\(f(rd)),\(f(rs1))") }
            }
            return Printed(name, "\(f(rd)),\(f(rs1)),\(f(rs2))")
        case .funaryRM:
            // Widening is exact: objdump knows only the encoding with rm = 0, and omits it.
            if op == .fcvt_d_s { return inst.rm == 0 ? Printed(name, "\(f(rd)),\(f(rs1))") : .unknown(inst) }
            return Printed(name, "\(f(rd)),\(f(rs1))\(rm)")
        case .fcmp:
            return Printed(name, "\(x(rd)),\(f(rs1)),\(f(rs2))")
        case .fToInt:
            return Printed(name, "\(x(rd)),\(f(rs1))\(rm)")
        case .fToIntRaw:
            return Printed(name, "\(x(rd)),\(f(rs1))")
        case .intToF:
            if op == .fcvt_d_w || op == .fcvt_d_wu {
                return inst.rm == 0 ? Printed(name, "\(f(rd)),\(x(rs1))") : .unknown(inst)
            }
            return Printed(name, "\(f(rd)),\(x(rs1))\(rm)")
        case .intToFRaw:
            return Printed(name, "\(f(rd)),\(x(rs1))")
        case .fli:
            return Printed(name, "\(f(rd)),\(Self.fliConstants[Int(inst.imm & 31)])")
        case .none, .r, .i, .load, .shift64, .shift32, .s, .b, .u, .j, .jalr, .fence, .system,
            .csr, .csrImm, .amo, .lr, .unary, .cbo:
            return .unknown(inst)
        }
    }

    /// `fli`'s constants as binutils (2.41 on) prints them: `min`, `inf` and `nan` by name, the
    /// others in C's `%a` format.
    static let fliConstants = [
        "-0x1p+0", "min", "0x1p-16", "0x1p-15", "0x1p-8", "0x1p-7", "0x1p-4", "0x1p-3", "0x1p-2",
        "0x1.4p-2", "0x1.8p-2", "0x1.cp-2", "0x1p-1", "0x1.4p-1", "0x1.8p-1", "0x1.cp-1", "0x1p+0",
        "0x1.4p+0", "0x1.8p+0", "0x1.cp+0", "0x1p+1", "0x1.4p+1", "0x1.8p+1", "0x1p+2", "0x1p+3",
        "0x1p+4", "0x1p+7", "0x1p+8", "0x1p+15", "0x1p+16", "inf", "nan",
    ]
}
