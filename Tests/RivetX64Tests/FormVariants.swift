import RivetX64

/// Generates, for every form, instructions that vary one operand at a time over its edge
/// cases: each size, each condition, all 16 registers in each register field, memory operands
/// that exercise every ModRM/SIB special case, and boundary immediates.
enum FormVariants {
    /// Memory operands covering the encoding's special cases: rsp/r12 bases need a SIB byte,
    /// rbp/r13 bases need a displacement, no base means disp32, rip, absolute, forced widths.
    static let memoryOperands: [X64Memory] = [
        .at(.rax), .at(.rsp), .at(.rbp), .at(.r12), .at(.r13), .at(.r15, 8), .at(.rbp, -8),
        .at(.rsp, 0x80), .at(.rax, 0x7F), .at(.rax, -0x80), .at(.rax, 0x1234_5678), .at(.rax, Int32.min),
        .at(.rax, index: .rbx), .at(.rbp, index: .r12, scale: .x8, -1), .at(.r13, index: .r9, scale: .x2),
        .at(.rsp, index: .rbp, scale: .x4, 0x100), .at(.r12, index: .r15, scale: .x8, 0x10),
        .at(index: .rcx, scale: .x4, 0x10), .at(index: .r13, scale: .x8), .at(index: .rbp, scale: .x1, -16),
        .rip(0), .rip(0x100), .rip(-8), .absolute(0x1234), .absolute(-16),
        X64Memory.at(.rax).withDisplacementWidth(.byte), X64Memory.at(.rax).withDisplacementWidth(.dword),
        X64Memory.at(.r12, 8).withDisplacementWidth(.dword),
    ]

    /// Immediates worth trying for `kind` at `size`.
    static func immediates(_ kind: X64OperandKind, _ size: X64OperandSize) -> [Int64] {
        switch kind {
        case .imm8, .rel8: return [0, 1, -1, 127, -128]
        case .uimm8: return [0, 1, 31, 63, 255]
        case .immZ:
            switch size {
            case .b8: return [0, 1, -1, 127, -128, 255]
            case .b16: return [0x7FFF, -0x8000, 0xFFFF, -1, 0x1234]
            case .b32: return [0x7FFF_FFFF, -0x8000_0000, 0xFFFF_FFFF, -1, 0x1234_5678]
            case .b64: return [0x7FFF_FFFF, -0x8000_0000, -1, 0x1234_5678]
            }
        case .immV:
            switch size {
            case .b8: return [0, 0xFF]
            case .b16: return [0xFFFF, 0x1234, -1]
            case .b32: return [0xFFFF_FFFF, 0x1234_5678, -1]
            case .b64: return [Int64.min, Int64.max, -1, 0x1234_5678_9ABC_DEF0]
            }
        case .rel32: return [0, -5, 0x7FFF_FFFF, 0x1000]
        case .none, .reg, .rm, .rm8, .rm16, .rm32, .mem, .mem32, .opReg, .acc, .cl, .xreg, .xvex, .xrm32, .xrm64, .xrm128:
            return [0]
        }
    }

    /// The variants of `form`.
    static func of(_ form: X64Form) -> [X64Instruction] {
        let row = form.row
        let kinds = row.operandList
        let hasReg = kinds.contains(.reg) || kinds.contains(.xreg) || kinds.contains(.opReg)
        let memoryOnly = kinds.contains(.mem) || kinds.contains(.mem32)
        var result: [X64Instruction] = []
        for size in X64OperandSize.allCases where row.sizes.contains(size) {
            // A base instruction, then one field at a time.
            var base = X64Instruction(form, size: size, reg: 1, rm: memoryOnly ? .memory(.at(.rdx)) : .register(2))
            base.immediate = immediates(row.immediate, size).first ?? 0
            if form == .xchgRegAcc && size != .b16 { base.reg = 3 }
            if kinds.contains(.xvex) { base.immediate = 3 }
            result.append(base)
            if hasReg {
                for reg in UInt8(0)..<16 where !(form == .xchgRegAcc && reg == 0 && size != .b16) {
                    var inst = base
                    inst.reg = reg
                    result.append(inst)
                }
            }
            if row.hasRm {
                if !memoryOnly {
                    for r in UInt8(0)..<16 {
                        var inst = base
                        inst.rm = .register(r)
                        result.append(inst)
                    }
                }
                for m in memoryOperands where !row.flags.contains(.evexSAE) {
                    var inst = base
                    inst.rm = .memory(m)
                    result.append(inst)
                    if row.flags.contains(.lockable) && m == memoryOperands[0] {
                        inst.isLocked = true
                        result.append(inst)
                    }
                }
            }
            if kinds.contains(.xvex) {
                for v in Int64(0)..<16 {
                    var inst = base
                    inst.immediate = v
                    result.append(inst)
                }
            }
            for imm in immediates(row.immediate, size).dropFirst() {
                var inst = base
                inst.immediate = imm
                result.append(inst)
            }
            if row.flags.contains(.conditional) {
                for condition in X64Condition.allCases {
                    var inst = base
                    inst.condition = condition
                    result.append(inst)
                }
            }
        }
        return result
    }
}
