/// 32-bit encodings of RV64I, M, Zicsr and Zifencei, with the aliases objdump 2.40 prefers.
extension Disassembler {
    /// The printed form of a 32-bit instruction (also used for compressed instructions whose
    /// expansion objdump prints the same way).
    func full(_ inst: Instruction, at pc: UInt64) -> Printed {
        let rd = inst.rd
        let rs1 = inst.rs1
        let rs2 = inst.rs2
        let imm = inst.imm
        switch inst.opcode {
        case .illegal:
            return illegal32(inst, at: pc)
        case .lui, .auipc:
            var printed = Printed(inst.opcode.mnemonic, "\(x(rd)),0x\(hexDigits((imm >> 12) & 0xfffff))")
            let base: UInt64 = inst.opcode == .auipc ? pc : 0
            printed.setsHigh = (rd, base &+ UInt64(bitPattern: imm))
            return printed
        case .jal:
            let target = address(pc &+ UInt64(bitPattern: imm))
            switch rd {
            case 0: return Printed("j", target)
            case 1: return Printed("jal", target)
            default: return Printed("jal", "\(x(rd)),\(target)")
            }
        case .jalr:
            return jalr(inst)
        case .beq, .bne, .blt, .bge, .bltu, .bgeu:
            return branch(inst, at: pc)
        case .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu:
            var printed = Printed(inst.opcode.mnemonic, "\(x(rd)),\(memory(imm, rs1))")
            printed.addressUses = [AddressUse(base: rs1, offset: imm)]
            return printed
        case .sb, .sh, .sw, .sd:
            var printed = Printed(inst.opcode.mnemonic, "\(x(rs2)),\(memory(imm, rs1))")
            printed.addressUses = [AddressUse(base: rs1, offset: imm)]
            return printed
        case .addi:
            if rd == 0 && rs1 == 0 && imm == 0 { return Printed("nop") }
            if rs1 == 0 { return Printed("li", "\(x(rd)),\(imm)") }
            if imm == 0 { return Printed("mv", "\(x(rd)),\(x(rs1))") }
            var printed = Printed("add", "\(x(rd)),\(x(rs1)),\(imm)")
            printed.addressUses = [AddressUse(base: rs1, offset: imm)]
            return printed
        case .slti:
            return Printed("slti", "\(x(rd)),\(x(rs1)),\(imm)")
        case .sltiu:
            if imm == 1 { return Printed("seqz", "\(x(rd)),\(x(rs1))") }
            return Printed("sltiu", "\(x(rd)),\(x(rs1)),\(imm)")
        case .xori:
            if imm == -1 { return Printed("not", "\(x(rd)),\(x(rs1))") }
            return Printed("xor", "\(x(rd)),\(x(rs1)),\(imm)")
        case .ori:
            return Printed("or", "\(x(rd)),\(x(rs1)),\(imm)")
        case .andi:
            if imm == 255 { return Printed("zext.b", "\(x(rd)),\(x(rs1))") }
            return Printed("and", "\(x(rd)),\(x(rs1)),\(imm)")
        case .slli, .srli, .srai, .slliw, .srliw, .sraiw:
            // binutils 2.40 spells the immediate shifts like the register ones.
            let name = String(inst.opcode.mnemonic.filter { $0 != "i" })
            return Printed(name, "\(x(rd)),\(x(rs1)),0x\(hexDigits(imm))")
        case .addiw:
            if imm == 0 { return Printed("sext.w", "\(x(rd)),\(x(rs1))") }
            var printed = Printed("addw", "\(x(rd)),\(x(rs1)),\(imm)")
            if rs1 != 0 { printed.addressUses = [AddressUse(base: rs1, offset: imm, wide: true)] }
            return printed
        case .sub, .subw:
            if rs1 == 0 { return Printed(inst.opcode == .sub ? "neg" : "negw", "\(x(rd)),\(x(rs2))") }
            return registers(inst)
        case .slt:
            if rs2 == 0 { return Printed("sltz", "\(x(rd)),\(x(rs1))") }
            if rs1 == 0 { return Printed("sgtz", "\(x(rd)),\(x(rs2))") }
            return registers(inst)
        case .sltu:
            if rs1 == 0 { return Printed("snez", "\(x(rd)),\(x(rs2))") }
            return registers(inst)
        case .add, .sll, .xor, .srl, .sra, .or, .and, .addw, .sllw, .srlw, .sraw,
            .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
            .mulw, .divw, .divuw, .remw, .remuw:
            return registers(inst)
        case .fence:
            return fence(inst)
        case .ecall, .ebreak:
            return Printed(inst.opcode.mnemonic)
        case .fence_i:
            // objdump knows only the encoding whose reserved fields are all zero.
            return inst.isCompressed || inst.raw == 0x0000_100f ? Printed("fence.i") : .unknown(inst)
        case .csrrw: return csrAccess(inst, .write, immediate: false)
        case .csrrs: return csrAccess(inst, .set, immediate: false)
        case .csrrc: return csrAccess(inst, .clear, immediate: false)
        case .csrrwi: return csrAccess(inst, .write, immediate: true)
        case .csrrsi: return csrAccess(inst, .set, immediate: true)
        case .csrrci: return csrAccess(inst, .clear, immediate: true)
        case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w,
            .amomin_w, .amomax_w, .amominu_w, .amomaxu_w,
            .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d,
            .amomin_d, .amomax_d, .amominu_d, .amomaxu_d:
            return atomic(inst)
        case .flw, .fsw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s,
            .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s,
            .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s,
            .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s, .fcvt_lu_s,
            .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s,
            .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_lu, .fmv_w_x,
            .fld, .fsd, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d,
            .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d,
            .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d,
            .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d, .fclass_d,
            .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d,
            .fcvt_d_w, .fcvt_d_wu, .fcvt_d_l, .fcvt_d_lu, .fmv_d_x:
            return floatingPoint(inst)
        case .sh1add, .sh2add, .sh3add, .add_uw, .sh1add_uw, .sh2add_uw, .sh3add_uw, .slli_uw,
            .andn, .orn, .xnor, .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max, .maxu, .min, .minu,
            .sext_b, .sext_h, .zext_h, .rol, .rolw, .ror, .rori, .roriw, .rorw, .orc_b, .rev8,
            .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti, .czero_eqz, .czero_nez,
            .cbo_clean, .cbo_flush, .cbo_inval, .cbo_zero:
            return extensionInstruction(inst)
        case .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s, .fleq_s, .fltq_s, .fli_d, .fminm_d,
            .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            return floatingPoint(inst)
        }
    }

    /// `rd,rs1,rs2` under the instruction's own mnemonic.
    func registers(_ inst: Instruction) -> Printed {
        Printed(inst.opcode.mnemonic, "\(x(inst.rd)),\(x(inst.rs1)),\(x(inst.rs2))")
    }

    /// `jalr` and its aliases `ret`, `jr`. objdump examines the base register once for a bare
    /// register operand and three times for an `offset(base)` one.
    private func jalr(_ inst: Instruction) -> Printed {
        let (rd, rs1, imm) = (inst.rd, inst.rs1, inst.imm)
        if rd == 0 && rs1 == 1 && imm == 0 { return Printed("ret") }
        let once = [AddressUse(base: rs1, offset: imm)]
        let thrice = Array(repeating: AddressUse(base: rs1, offset: imm), count: 3)
        var printed: Printed
        switch (rd, imm == 0) {
        case (0, true): printed = Printed("jr", x(rs1)); printed.addressUses = once
        case (0, false): printed = Printed("jr", memory(imm, rs1)); printed.addressUses = thrice
        case (1, true): printed = Printed("jalr", x(rs1)); printed.addressUses = once
        case (1, false): printed = Printed("jalr", memory(imm, rs1)); printed.addressUses = thrice
        case (_, true): printed = Printed("jalr", "\(x(rd)),\(x(rs1))"); printed.addressUses = once
        case (_, false):
            printed = Printed("jalr", "\(x(rd)),\(memory(imm, rs1))")
            printed.addressUses = thrice
        }
        return printed
    }

    /// Conditional branches and their comparisons with zero.
    private func branch(_ inst: Instruction, at pc: UInt64) -> Printed {
        let (op, rs1, rs2) = (inst.opcode, inst.rs1, inst.rs2)
        let target = address(pc &+ UInt64(bitPattern: inst.imm))
        if op == .beq && rs2 == 0 { return Printed("beqz", "\(x(rs1)),\(target)") }
        if op == .bne && rs2 == 0 { return Printed("bnez", "\(x(rs1)),\(target)") }
        if op == .blt && rs2 == 0 { return Printed("bltz", "\(x(rs1)),\(target)") }
        if op == .blt && rs1 == 0 { return Printed("bgtz", "\(x(rs2)),\(target)") }
        if op == .bge && rs1 == 0 { return Printed("blez", "\(x(rs2)),\(target)") }
        if op == .bge && rs2 == 0 { return Printed("bgez", "\(x(rs1)),\(target)") }
        return Printed(op.mnemonic, "\(x(rs1)),\(x(rs2)),\(target)")
    }

    /// `fence pred,succ`, `fence` (all of `iorw`), `fence.tso`; objdump rejects nonzero
    /// reserved fields and other `fm` values.
    private func fence(_ inst: Instruction) -> Printed {
        let fm = (inst.imm >> 8) & 0xf
        let pred = (inst.imm >> 4) & 0xf
        let succ = inst.imm & 0xf
        guard inst.rd == 0, inst.rs1 == 0 else { return .unknown(inst) }
        if inst.raw == 0x0100_000f && extensions.contains(.zihintpause) { return Printed("pause") }
        if fm == 8 && pred == 3 && succ == 3 { return Printed("fence.tso") }
        guard fm == 0 else { return .unknown(inst) }
        if pred == 0xf && succ == 0xf { return Printed("fence") }
        func set(_ bits: Int64) -> String {
            guard bits != 0 else { return "unknown" }
            return zip("iorw", [8, 4, 2, 1] as [Int64]).filter { bits & $0.1 != 0 }.map { String($0.0) }.joined()
        }
        return Printed("fence", "\(set(pred)),\(set(succ))")
    }

    /// What a CSR instruction does to the CSR.
    enum CSROperation { case write, set, clear }

    /// The CSR instructions and their aliases (`csrr`, `csrw`, `frflags`, `rdcycle`, ...).
    /// binutils 2.40 spells the immediate forms without their `i` when no alias applies.
    func csrAccess(_ inst: Instruction, _ operation: CSROperation, immediate: Bool) -> Printed {
        let (rd, rs1, number) = (inst.rd, inst.rs1, inst.imm)
        let name = csr(number)
        let source = immediate ? "\(rs1)" : x(rs1)
        let fpSuffix: [Int64: String] = [1: "flags", 2: "rm", 3: "csr"]
        switch operation {
        case .write:
            if immediate, number == 1 || number == 2, let suffix = fpSuffix[number] {
                return Printed("fs" + suffix + "i", "\(x(rd)),\(rs1)")
            }
            if !immediate, let suffix = fpSuffix[number] {
                return Printed("fs" + suffix, rd == 0 ? x(rs1) : "\(x(rd)),\(x(rs1))")
            }
            if !immediate && inst.raw == 0xc000_1073 { return Printed("unimp") }
            if rd == 0 { return Printed("csrw", "\(name),\(source)") }
            return Printed("csrrw", "\(x(rd)),\(name),\(source)")
        case .set:
            if !immediate && rs1 == 0 {
                if let suffix = fpSuffix[number] { return Printed("fr" + suffix, x(rd)) }
                let counters: [Int64: String] = [0xc00: "rdcycle", 0xc01: "rdtime", 0xc02: "rdinstret"]
                if let counter = counters[number] { return Printed(counter, x(rd)) }
                return Printed("csrr", "\(x(rd)),\(name)")
            }
            if rd == 0 { return Printed("csrs", "\(name),\(source)") }
            return Printed("csrrs", "\(x(rd)),\(name),\(source)")
        case .clear:
            if rd == 0 { return Printed("csrc", "\(name),\(source)") }
            return Printed("csrrc", "\(x(rd)),\(name),\(source)")
        }
    }

    /// An encoding the decoder rejects. objdump still prints FP instructions whose rounding
    /// mode is reserved (with `unknown` for the mode) and the privileged instructions of its
    /// table; everything else is `.4byte`.
    private func illegal32(_ inst: Instruction, at pc: UInt64) -> Printed {
        if let privileged = privileged(inst.raw) { return privileged }
        let rm = UInt8((inst.raw >> 12) & 7)
        if rm == 5 || rm == 6 {
            var valid = Decoder.decode32(inst.raw | 0x7000)
            if valid.opcode.format.hasRoundingMode && extensions.contains(valid.opcode.isa) {
                valid.rm = rm
                valid.raw = inst.raw
                return full(valid, at: pc)
            }
        }
        return .unknown(inst)
    }

    /// The privileged instructions objdump knows in RV64GC code (user-mode code cannot run
    /// them, so `Decoder` has no rows for them).
    private func privileged(_ raw: UInt32) -> Printed? {
        let returns: [UInt32: String] = [
            0x0020_0073: "uret", 0x1020_0073: "sret", 0x2020_0073: "hret", 0x3020_0073: "mret",
            0x7b20_0073: "dret", 0x1050_0073: "wfi",
        ]
        if let name = returns[raw] { return Printed(name) }
        let rs1 = UInt8((raw >> 15) & 31)
        let rs2 = UInt8((raw >> 20) & 31)
        if raw & 0xfff0_7fff == 0x1040_0073 { return Printed("sfence.vm", rs1 == 0 ? "" : x(rs1)) }
        guard raw & 0xfe00_7fff == 0x1200_0073 else { return nil }
        if rs2 != 0 { return Printed("sfence.vma", "\(x(rs1)),\(x(rs2))") }
        return Printed("sfence.vma", rs1 == 0 ? "" : x(rs1))
    }
}
