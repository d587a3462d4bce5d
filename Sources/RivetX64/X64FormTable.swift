/// The x86-64 forms, one row each, in the order of `X64Form`: the single description from which
/// the encoder, the printer and the tests follow.
///
/// Opcodes, `/digit` extensions and operand orders are those of the Intel 64 and IA-32
/// Architectures Software Developer's Manual, volume 2 (instruction set reference). Operand size
/// works as in the manual: 16-bit operands add the 0x66 prefix, 64-bit operands REX.W (unless the
/// form is `.default64`), and 8-bit operands clear the opcode's `w` bit (forms flagged `.w`).
public enum X64FormTable {
    private static func r(
        _ form: X64Form, _ mnemonic: StaticString, _ opcode: [UInt8], _ operands: [X64OperandKind],
        _ sizes: X64SizeSet = .b32, ext: UInt8? = nil, prefix: X64Prefix = .none, flags: X64FormFlags = []
    ) -> X64FormRow {
        X64FormRow(
            form: form, mnemonic: mnemonic, prefix: prefix, opcode: opcode, modRMExtension: ext,
            operands: operands, sizes: sizes, flags: flags)
    }

    /// Every form, indexed by `X64Form.rawValue`.
    public static let rows: [X64FormRow] = [
        // Integer arithmetic and logic: op r/m,reg / op reg,r/m / op r/m,imm8 / op r/m,imm.
        r(.addRmReg, "add", [0x01], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.addRegRm, "add", [0x03], [.reg, .rm], .all, flags: .w),
        r(.addRmImm8, "add", [0x83], [.rm, .imm8], .wide, ext: 0, flags: .lockable),
        r(.addRmImm, "add", [0x81], [.rm, .immZ], .all, ext: 0, flags: [.w, .lockable]),
        r(.orRmReg, "or", [0x09], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.orRegRm, "or", [0x0B], [.reg, .rm], .all, flags: .w),
        r(.orRmImm8, "or", [0x83], [.rm, .imm8], .wide, ext: 1, flags: .lockable),
        r(.orRmImm, "or", [0x81], [.rm, .immZ], .all, ext: 1, flags: [.w, .lockable]),
        r(.adcRmReg, "adc", [0x11], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.adcRegRm, "adc", [0x13], [.reg, .rm], .all, flags: .w),
        r(.adcRmImm8, "adc", [0x83], [.rm, .imm8], .wide, ext: 2, flags: .lockable),
        r(.adcRmImm, "adc", [0x81], [.rm, .immZ], .all, ext: 2, flags: [.w, .lockable]),
        r(.sbbRmReg, "sbb", [0x19], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.sbbRegRm, "sbb", [0x1B], [.reg, .rm], .all, flags: .w),
        r(.sbbRmImm8, "sbb", [0x83], [.rm, .imm8], .wide, ext: 3, flags: .lockable),
        r(.sbbRmImm, "sbb", [0x81], [.rm, .immZ], .all, ext: 3, flags: [.w, .lockable]),
        r(.andRmReg, "and", [0x21], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.andRegRm, "and", [0x23], [.reg, .rm], .all, flags: .w),
        r(.andRmImm8, "and", [0x83], [.rm, .imm8], .wide, ext: 4, flags: .lockable),
        r(.andRmImm, "and", [0x81], [.rm, .immZ], .all, ext: 4, flags: [.w, .lockable]),
        r(.subRmReg, "sub", [0x29], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.subRegRm, "sub", [0x2B], [.reg, .rm], .all, flags: .w),
        r(.subRmImm8, "sub", [0x83], [.rm, .imm8], .wide, ext: 5, flags: .lockable),
        r(.subRmImm, "sub", [0x81], [.rm, .immZ], .all, ext: 5, flags: [.w, .lockable]),
        r(.xorRmReg, "xor", [0x31], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.xorRegRm, "xor", [0x33], [.reg, .rm], .all, flags: .w),
        r(.xorRmImm8, "xor", [0x83], [.rm, .imm8], .wide, ext: 6, flags: .lockable),
        r(.xorRmImm, "xor", [0x81], [.rm, .immZ], .all, ext: 6, flags: [.w, .lockable]),
        r(.cmpRmReg, "cmp", [0x39], [.rm, .reg], .all, flags: .w),
        r(.cmpRegRm, "cmp", [0x3B], [.reg, .rm], .all, flags: .w),
        r(.cmpRmImm8, "cmp", [0x83], [.rm, .imm8], .wide, ext: 7),
        r(.cmpRmImm, "cmp", [0x81], [.rm, .immZ], .all, ext: 7, flags: .w),
        r(.testRmReg, "test", [0x85], [.rm, .reg], .all, flags: .w),
        r(.testRmImm, "test", [0xF7], [.rm, .immZ], .all, ext: 0, flags: .w),
        r(.not, "not", [0xF7], [.rm], .all, ext: 2, flags: [.w, .lockable]),
        r(.neg, "neg", [0xF7], [.rm], .all, ext: 3, flags: [.w, .lockable]),
        r(.mul, "mul", [0xF7], [.rm], .all, ext: 4, flags: .w),
        r(.imulRm, "imul", [0xF7], [.rm], .all, ext: 5, flags: .w),
        r(.div, "div", [0xF7], [.rm], .all, ext: 6, flags: .w),
        r(.idiv, "idiv", [0xF7], [.rm], .all, ext: 7, flags: .w),
        r(.inc, "inc", [0xFF], [.rm], .all, ext: 0, flags: [.w, .lockable]),
        r(.dec, "dec", [0xFF], [.rm], .all, ext: 1, flags: [.w, .lockable]),
        r(.imulRegRm, "imul", [0x0F, 0xAF], [.reg, .rm], .wide),
        r(.imulRegRmImm8, "imul", [0x6B], [.reg, .rm, .imm8], .wide),
        r(.imulRegRmImm, "imul", [0x69], [.reg, .rm, .immZ], .wide),
        r(.cdq, "cdq", [0x99], [], .b32),
        r(.cqo, "cqo", [0x99], [], .b64),
        r(.cdqe, "cdqe", [0x98], [], .b64),

        // Shifts and rotates: by cl, by an immediate.
        r(.rolRmCl, "rol", [0xD3], [.rm, .cl], .all, ext: 0, flags: .w),
        r(.rolRmImm, "rol", [0xC1], [.rm, .uimm8], .all, ext: 0, flags: .w),
        r(.rorRmCl, "ror", [0xD3], [.rm, .cl], .all, ext: 1, flags: .w),
        r(.rorRmImm, "ror", [0xC1], [.rm, .uimm8], .all, ext: 1, flags: .w),
        r(.shlRmCl, "shl", [0xD3], [.rm, .cl], .all, ext: 4, flags: .w),
        r(.shlRmImm, "shl", [0xC1], [.rm, .uimm8], .all, ext: 4, flags: .w),
        r(.shrRmCl, "shr", [0xD3], [.rm, .cl], .all, ext: 5, flags: .w),
        r(.shrRmImm, "shr", [0xC1], [.rm, .uimm8], .all, ext: 5, flags: .w),
        r(.sarRmCl, "sar", [0xD3], [.rm, .cl], .all, ext: 7, flags: .w),
        r(.sarRmImm, "sar", [0xC1], [.rm, .uimm8], .all, ext: 7, flags: .w),

        // Moves and exchanges.
        r(.movRmReg, "mov", [0x89], [.rm, .reg], .all, flags: .w),
        r(.movRegRm, "mov", [0x8B], [.reg, .rm], .all, flags: .w),
        r(.movRmImm, "mov", [0xC7], [.rm, .immZ], .all, ext: 0, flags: .w),
        r(.movRegImm, "mov", [0xB8], [.opReg, .immV], [.b16, .b32]),
        r(.movabs, "movabs", [0xB8], [.opReg, .immV], .b64),
        r(.movzxRegRm8, "movzx", [0x0F, 0xB6], [.reg, .rm8], .wide),
        r(.movzxRegRm16, "movzx", [0x0F, 0xB7], [.reg, .rm16], .dq),
        r(.movsxRegRm8, "movsx", [0x0F, 0xBE], [.reg, .rm8], .wide),
        r(.movsxRegRm16, "movsx", [0x0F, 0xBF], [.reg, .rm16], .dq),
        r(.movsxd, "movsxd", [0x63], [.reg, .rm32], .b64),
        r(.lea, "lea", [0x8D], [.reg, .mem], .wide),
        r(.xchgRmReg, "xchg", [0x87], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.xchgRegAcc, "xchg", [0x90], [.opReg, .acc], .wide),
        r(.xaddRmReg, "xadd", [0x0F, 0xC1], [.rm, .reg], .all, flags: [.w, .lockable]),
        r(.cmpxchgRmReg, "cmpxchg", [0x0F, 0xB1], [.rm, .reg], .all, flags: [.w, .lockable]),

        // Bits.
        r(.btRmReg, "bt", [0x0F, 0xA3], [.rm, .reg], .wide),
        r(.btRmImm, "bt", [0x0F, 0xBA], [.rm, .uimm8], .wide, ext: 4),
        r(.btsRmReg, "bts", [0x0F, 0xAB], [.rm, .reg], .wide, flags: .lockable),
        r(.btsRmImm, "bts", [0x0F, 0xBA], [.rm, .uimm8], .wide, ext: 5, flags: .lockable),
        r(.btrRmReg, "btr", [0x0F, 0xB3], [.rm, .reg], .wide, flags: .lockable),
        r(.btrRmImm, "btr", [0x0F, 0xBA], [.rm, .uimm8], .wide, ext: 6, flags: .lockable),
        r(.btcRmReg, "btc", [0x0F, 0xBB], [.rm, .reg], .wide, flags: .lockable),
        r(.btcRmImm, "btc", [0x0F, 0xBA], [.rm, .uimm8], .wide, ext: 7, flags: .lockable),
        r(.bsf, "bsf", [0x0F, 0xBC], [.reg, .rm], .wide),
        r(.bsr, "bsr", [0x0F, 0xBD], [.reg, .rm], .wide),
        r(.bswap, "bswap", [0x0F, 0xC8], [.opReg], .dq),
        r(.lzcnt, "lzcnt", [0x0F, 0xBD], [.reg, .rm], .wide, prefix: .pF3),
        r(.tzcnt, "tzcnt", [0x0F, 0xBC], [.reg, .rm], .wide, prefix: .pF3),
        r(.popcnt, "popcnt", [0x0F, 0xB8], [.reg, .rm], .wide, prefix: .pF3),

        // Conditions: the condition code is added to the last opcode byte.
        r(.setcc, "set", [0x0F, 0x90], [.rm8], .b8, ext: 0, flags: .conditional),
        r(.cmovcc, "cmov", [0x0F, 0x40], [.reg, .rm], .wide, flags: .conditional),
        r(.jccRel8, "j", [0x70], [.rel8], flags: .conditional),
        r(.jccRel32, "j", [0x0F, 0x80], [.rel32], flags: .conditional),

        // Control transfer and the stack.
        r(.jmpRel8, "jmp", [0xEB], [.rel8]),
        r(.jmpRel32, "jmp", [0xE9], [.rel32]),
        r(.jmpRm, "jmp", [0xFF], [.rm], .b64, ext: 4, flags: .default64),
        r(.callRel32, "call", [0xE8], [.rel32]),
        r(.callRm, "call", [0xFF], [.rm], .b64, ext: 2, flags: .default64),
        r(.ret, "ret", [0xC3], []),
        r(.pushReg, "push", [0x50], [.opReg], .b64, flags: .default64),
        r(.pushRm, "push", [0xFF], [.rm], .b64, ext: 6, flags: .default64),
        r(.popReg, "pop", [0x58], [.opReg], .b64, flags: .default64),
        r(.popRm, "pop", [0x8F], [.rm], .b64, ext: 0, flags: .default64),

        // Miscellaneous.
        r(.nop, "nop", [0x90], []),
        r(.nopRm, "nop", [0x0F, 0x1F], [.rm], [.b16, .b32], ext: 0),
        r(.ud2, "ud2", [0x0F, 0x0B], []),
        r(.int3, "int3", [0xCC], []),
        r(.pause, "pause", [0x90], [], prefix: .pF3),
        r(.mfence, "mfence", [0x0F, 0xAE, 0xF0], []),
        r(.lfence, "lfence", [0x0F, 0xAE, 0xE8], []),
        r(.sfence, "sfence", [0x0F, 0xAE, 0xF8], []),
        r(.ldmxcsr, "ldmxcsr", [0x0F, 0xAE], [.mem32], .b32, ext: 2),
        r(.stmxcsr, "stmxcsr", [0x0F, 0xAE], [.mem32], .b32, ext: 3),

        // SSE moves. movd/movq move between XMM and general registers or memory.
        r(.movssRegRm, "movss", [0x0F, 0x10], [.xreg, .xrm32], prefix: .pF3),
        r(.movssRmReg, "movss", [0x0F, 0x11], [.xrm32, .xreg], prefix: .pF3),
        r(.movsdRegRm, "movsd", [0x0F, 0x10], [.xreg, .xrm64], prefix: .pF2),
        r(.movsdRmReg, "movsd", [0x0F, 0x11], [.xrm64, .xreg], prefix: .pF2),
        r(.movaps, "movaps", [0x0F, 0x28], [.xreg, .xrm128]),
        r(.movdRegRm, "movd", [0x0F, 0x6E], [.xreg, .rm], .b32, prefix: .p66),
        r(.movdRmReg, "movd", [0x0F, 0x7E], [.rm, .xreg], .b32, prefix: .p66),
        r(.movqRegRm, "movq", [0x0F, 0x6E], [.xreg, .rm], .b64, prefix: .p66),
        r(.movqRmReg, "movq", [0x0F, 0x7E], [.rm, .xreg], .b64, prefix: .p66),

        // SSE scalar arithmetic and comparison.
        r(.addss, "addss", [0x0F, 0x58], [.xreg, .xrm32], prefix: .pF3),
        r(.addsd, "addsd", [0x0F, 0x58], [.xreg, .xrm64], prefix: .pF2),
        r(.subss, "subss", [0x0F, 0x5C], [.xreg, .xrm32], prefix: .pF3),
        r(.subsd, "subsd", [0x0F, 0x5C], [.xreg, .xrm64], prefix: .pF2),
        r(.mulss, "mulss", [0x0F, 0x59], [.xreg, .xrm32], prefix: .pF3),
        r(.mulsd, "mulsd", [0x0F, 0x59], [.xreg, .xrm64], prefix: .pF2),
        r(.divss, "divss", [0x0F, 0x5E], [.xreg, .xrm32], prefix: .pF3),
        r(.divsd, "divsd", [0x0F, 0x5E], [.xreg, .xrm64], prefix: .pF2),
        r(.minss, "minss", [0x0F, 0x5D], [.xreg, .xrm32], prefix: .pF3),
        r(.minsd, "minsd", [0x0F, 0x5D], [.xreg, .xrm64], prefix: .pF2),
        r(.maxss, "maxss", [0x0F, 0x5F], [.xreg, .xrm32], prefix: .pF3),
        r(.maxsd, "maxsd", [0x0F, 0x5F], [.xreg, .xrm64], prefix: .pF2),
        r(.sqrtss, "sqrtss", [0x0F, 0x51], [.xreg, .xrm32], prefix: .pF3),
        r(.sqrtsd, "sqrtsd", [0x0F, 0x51], [.xreg, .xrm64], prefix: .pF2),
        r(.ucomiss, "ucomiss", [0x0F, 0x2E], [.xreg, .xrm32]),
        r(.ucomisd, "ucomisd", [0x0F, 0x2E], [.xreg, .xrm64], prefix: .p66),
        r(.comiss, "comiss", [0x0F, 0x2F], [.xreg, .xrm32]),
        r(.comisd, "comisd", [0x0F, 0x2F], [.xreg, .xrm64], prefix: .p66),

        // SSE logic on whole registers (sign masks, absolute values, zeroing).
        r(.andps, "andps", [0x0F, 0x54], [.xreg, .xrm128]),
        r(.andpd, "andpd", [0x0F, 0x54], [.xreg, .xrm128], prefix: .p66),
        r(.andnps, "andnps", [0x0F, 0x55], [.xreg, .xrm128]),
        r(.andnpd, "andnpd", [0x0F, 0x55], [.xreg, .xrm128], prefix: .p66),
        r(.orps, "orps", [0x0F, 0x56], [.xreg, .xrm128]),
        r(.orpd, "orpd", [0x0F, 0x56], [.xreg, .xrm128], prefix: .p66),
        r(.xorps, "xorps", [0x0F, 0x57], [.xreg, .xrm128]),
        r(.xorpd, "xorpd", [0x0F, 0x57], [.xreg, .xrm128], prefix: .p66),

        // SSE conversions (the operand size is the general register's) and SSE4.1 rounding.
        r(.cvtss2sd, "cvtss2sd", [0x0F, 0x5A], [.xreg, .xrm32], prefix: .pF3),
        r(.cvtsd2ss, "cvtsd2ss", [0x0F, 0x5A], [.xreg, .xrm64], prefix: .pF2),
        r(.cvtsi2ss, "cvtsi2ss", [0x0F, 0x2A], [.xreg, .rm], .dq, prefix: .pF3),
        r(.cvtsi2sd, "cvtsi2sd", [0x0F, 0x2A], [.xreg, .rm], .dq, prefix: .pF2),
        r(.cvttss2si, "cvttss2si", [0x0F, 0x2C], [.reg, .xrm32], .dq, prefix: .pF3),
        r(.cvttsd2si, "cvttsd2si", [0x0F, 0x2C], [.reg, .xrm64], .dq, prefix: .pF2),
        r(.cvtss2si, "cvtss2si", [0x0F, 0x2D], [.reg, .xrm32], .dq, prefix: .pF3),
        r(.cvtsd2si, "cvtsd2si", [0x0F, 0x2D], [.reg, .xrm64], .dq, prefix: .pF2),
        r(.roundss, "roundss", [0x0F, 0x3A, 0x0A], [.xreg, .xrm32, .uimm8], prefix: .p66),
        r(.roundsd, "roundsd", [0x0F, 0x3A, 0x0B], [.xreg, .xrm64, .uimm8], prefix: .p66),

        // FMA3, VEX-encoded (W1 for doubles).
        r(.vfmadd213ss, "vfmadd213ss", [0x0F, 0x38, 0xA9], [.xreg, .xvex, .xrm32], .b32, prefix: .p66, flags: .vex),
        r(.vfmadd213sd, "vfmadd213sd", [0x0F, 0x38, 0xA9], [.xreg, .xvex, .xrm64], .b64, prefix: .p66, flags: .vex),

        // AVX-512 compares with {sae} (W1 for doubles).
        r(.vucomissSAE, "vucomiss", [0x0F, 0x2E], [.xreg, .xrm32], .b32, flags: .evexSAE),
        r(.vucomisdSAE, "vucomisd", [0x0F, 0x2E], [.xreg, .xrm64], .b64, prefix: .p66, flags: .evexSAE),
    ]

    /// The rows again, in memory of their own that is never freed: the encoder reads a row's
    /// plan through this pointer, which an assembler takes once, instead of copying the row
    /// out of `rows` after the lazy global's check at every instruction (a quarter of what
    /// encoding an instruction cost).
    nonisolated(unsafe) public static let storage: UnsafePointer<X64FormRow> = {
        let pointer = UnsafeMutablePointer<X64FormRow>.allocate(capacity: rows.count)
        pointer.initialize(from: rows, count: rows.count)
        return UnsafePointer(pointer)
    }()
}
