import RivetISA
import RivetMachine
import RivetX64

/// Templates for Zba, Zbb, Zbs, Zicond, Zicbom and Zicboz.
///
/// Only baseline x86-64 instructions: the host may lack BMI1/BMI2, LZCNT and POPCNT (and
/// `lzcnt`/`tzcnt` silently run as `bsr`/`bsf` on a CPU without them), so counts use
/// `bsr`/`bsf` with the zero case chosen by `cmov`, and `cpop` a SWAR sum. Scratch registers
/// are rax, rcx and rdx, as in the base templates.
extension BlockTranslator {
    mutating func emitBitManipulation(_ i: Instruction) {
        guard i.rd != 0 else { return }
        switch i.opcode {
        // MARK: Zba
        case .sh1add: shiftAdd(i, .x2, unsignedWord: false)
        case .sh2add: shiftAdd(i, .x4, unsignedWord: false)
        case .sh3add: shiftAdd(i, .x8, unsignedWord: false)
        case .add_uw: shiftAdd(i, .x1, unsignedWord: true)
        case .sh1add_uw: shiftAdd(i, .x2, unsignedWord: true)
        case .sh2add_uw: shiftAdd(i, .x4, unsignedWord: true)
        case .sh3add_uw: shiftAdd(i, .x8, unsignedWord: true)
        case .slli_uw:
            load(.rax, i.rs1, .b32)  // a 32-bit move zero-extends
            if i.imm != 0 { assembler.emit(.shift(.shl, .b64, .rax, UInt8(i.imm))) }
            storeResult(i.rd)

        // MARK: Zbb logic, counts, extensions
        case .andn, .orn:
            load(.rcx, i.rs2)
            assembler.emit(.unary(.not, .b64, .rcx))
            load(.rax, i.rs1)
            assembler.emit(.alu(i.opcode == .andn ? .and : .or, .b64, .rax, .rcx))
            storeResult(i.rd)
        case .xnor:
            load(.rax, i.rs1)
            alu(.xor, .b64, .rax, i.rs2)
            assembler.emit(.unary(.not, .b64, .rax))
            storeResult(i.rd)
        case .clz: leadingZeros(i, .b64)
        case .clzw: leadingZeros(i, .b32)
        case .ctz: trailingZeros(i, .b64)
        case .ctzw: trailingZeros(i, .b32)
        case .cpop: populationCount(i, .b64)
        case .cpopw: populationCount(i, .b32)
        case .max: select(i, .l)
        case .maxu: select(i, .b)
        case .min: select(i, .g)
        case .minu: select(i, .a)
        case .sext_b:
            load(.rax, i.rs1)
            assembler.emit(.movsx(.b64, .rax, .rax, from: .b8))
            storeResult(i.rd)
        case .sext_h:
            load(.rax, i.rs1)
            assembler.emit(.movsx(.b64, .rax, .rax, from: .b16))
            storeResult(i.rd)
        case .zext_h:
            load(.rax, i.rs1)
            assembler.emit(.movzx(.b32, .rax, .rax, from: .b16))
            storeResult(i.rd)

        // MARK: Zbb rotates and bytes. x86 masks rotate counts as RISC-V does (6 or 5 bits).
        case .rol: shift(.rol, i, .b64)
        case .ror: shift(.ror, i, .b64)
        case .rolw: shift(.rol, i, .b32)
        case .rorw: shift(.ror, i, .b32)
        case .rori: shiftImmediate(.ror, i, .b64)
        case .roriw: shiftImmediate(.ror, i, .b32)
        case .orc_b: orCombineBytes(i)
        case .rev8:
            load(.rax, i.rs1)
            assembler.emit(.bswap(.b64, .rax))
            storeResult(i.rd)

        // MARK: Zbs. With a register operand, bts/btr/btc take the bit number modulo 64.
        case .bclr: modifyBit(.btr, i)
        case .bset: modifyBit(.bts, i)
        case .binv: modifyBit(.btc, i)
        case .bclri: modifyBitImmediate(.btr, i)
        case .bseti: modifyBitImmediate(.bts, i)
        case .binvi: modifyBitImmediate(.btc, i)
        case .bext:
            load(.rcx, i.rs2)
            load(.rax, i.rs1)
            assembler.emit(.shiftByCL(.shr, .b64, .rax))
            assembler.emit(.alu(.and, .b32, .rax, imm: 1))
            storeResult(i.rd)
        case .bexti:
            load(.rax, i.rs1)
            if i.imm != 0 { assembler.emit(.shift(.shr, .b64, .rax, UInt8(i.imm))) }
            assembler.emit(.alu(.and, .b32, .rax, imm: 1))
            storeResult(i.rd)

        // MARK: Zicond
        case .czero_eqz: conditionalZero(i, .e)
        case .czero_nez: conditionalZero(i, .ne)

        case .illegal, .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .lb, .lh, .lw,
            .ld, .lbu, .lhu, .lwu, .sb, .sh, .sw, .sd, .addi, .slti, .sltiu, .xori, .ori, .andi, .slli,
            .srli, .srai, .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and, .addiw, .slliw,
            .srliw, .sraiw, .addw, .subw, .sllw, .srlw, .sraw, .fence, .ecall, .ebreak, .fence_i,
            .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci, .mul, .mulh, .mulhsu, .mulhu, .div,
            .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw, .lr_w, .sc_w, .amoswap_w,
            .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w, .amomaxu_w,
            .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d,
            .amominu_d, .amomaxu_d, .flw, .fsw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s,
            .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s,
            .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s, .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s,
            .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_lu, .fmv_w_x, .fld, .fsd, .fmadd_d, .fmsub_d,
            .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d,
            .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d, .flt_d, .fle_d, .fclass_d,
            .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d, .fcvt_d_w, .fcvt_d_wu, .fcvt_d_l,
            .fcvt_d_lu, .fmv_d_x, .cbo_clean, .cbo_flush, .cbo_inval, .cbo_zero, .fli_s, .fminm_s, .fmaxm_s,
            .fround_s, .froundnx_s, .fleq_s, .fltq_s, .fli_d, .fminm_d, .fmaxm_d, .fround_d, .froundnx_d,
            .fleq_d, .fltq_d, .fcvtmod_w_d:
            preconditionFailure("\(i.opcode.mnemonic) is not a bit-manipulation instruction")
        }
    }

    /// `cbo.zero` stores 64 zero bytes at the block holding rs1's address; `cbo.clean` and
    /// `cbo.flush` only read a byte of it, so that an inaccessible block faults. A fault (or an
    /// address past the guest space) leaves for the interpreter, which reports it exactly.
    mutating func emitCacheBlock(_ i: Instruction, index k: Int) {
        load(.rax, i.rs1)
        assembler.emit(.alu(.and, .b64, .rax, imm: -Int32(cacheBlockSize)))
        // The space's size is a multiple of the block size: the whole block is inside.
        assembler.emit(.alu(.cmp, .b64, .rax, slot(HartState.Slot.addressSpaceSize)))
        exitIf(.ae, .boundsFault, k)
        if i.opcode == .cbo_zero {
            for offset in stride(from: 0, to: Int32(cacheBlockSize), by: 8) {
                assembler.emit(.mov(.b64, .at(Pinned.memory, index: .rax, offset), imm: 0))
            }
        } else {
            assembler.emit(.movzx(.b32, .rcx, guest(.rax), from: .b8))
        }
    }

    // MARK: Templates

    /// `rd = rs2 + (rs1 << log2(scale))`, with rs1 zero-extended from 32 bits for the `.uw` forms.
    private mutating func shiftAdd(_ i: Instruction, _ scale: X64Scale, unsignedWord: Bool) {
        load(.rax, i.rs1, unsignedWord ? .b32 : .b64)
        load(.rcx, i.rs2)
        assembler.emit(.lea(.b64, .rax, .at(.rcx, index: .rax, scale: scale)))
        storeResult(i.rd)
    }

    /// `clz`/`clzw`: `bsr` gives the highest set bit h, and width-1-h the count; a zero source
    /// (ZF) takes h = -1 from rdx, making the count the width.
    private mutating func leadingZeros(_ i: Instruction, _ size: X64OperandSize) {
        load(.rcx, i.rs1, size)
        assembler.emit(.mov(.b64, .rdx, imm: -1))
        assembler.emit(.bitScan(.bsr, size, .rax, .rcx))
        assembler.emit(.cmov(.e, size, .rax, .rdx))
        assembler.emit(.unary(.neg, size, .rax))
        assembler.emit(.alu(.add, size, .rax, imm: size == .b64 ? 63 : 31))
        storeResult(i.rd)
    }

    /// `ctz`/`ctzw`: `bsf`, with the width for a zero source.
    private mutating func trailingZeros(_ i: Instruction, _ size: X64OperandSize) {
        load(.rcx, i.rs1, size)
        assembler.emit(.mov(.b32, .rdx, imm: size == .b64 ? 64 : 32))
        assembler.emit(.bitScan(.bsf, size, .rax, .rcx))
        assembler.emit(.cmov(.e, size, .rax, .rdx))
        storeResult(i.rd)
    }

    /// `cpop`/`cpopw` (the word zero-extended first): bits summed in pairs, nibbles, bytes, then
    /// the bytes added up by a multiplication whose top byte collects them.
    private mutating func populationCount(_ i: Instruction, _ size: X64OperandSize) {
        load(.rax, i.rs1, size)
        // rax -= (rax >> 1) & 0x55..
        assembler.emit(.mov(.b64, .rcx, .rax))
        assembler.emit(.shift(.shr, .b64, .rcx, 1))
        assembler.emit(.loadConstant(.rdx, 0x5555_5555_5555_5555))
        assembler.emit(.alu(.and, .b64, .rcx, .rdx))
        assembler.emit(.alu(.sub, .b64, .rax, .rcx))
        // rax = (rax & 0x33..) + ((rax >> 2) & 0x33..)
        assembler.emit(.loadConstant(.rdx, 0x3333_3333_3333_3333))
        assembler.emit(.mov(.b64, .rcx, .rax))
        assembler.emit(.alu(.and, .b64, .rcx, .rdx))
        assembler.emit(.shift(.shr, .b64, .rax, 2))
        assembler.emit(.alu(.and, .b64, .rax, .rdx))
        assembler.emit(.alu(.add, .b64, .rax, .rcx))
        // rax = (rax + (rax >> 4)) & 0x0f..
        assembler.emit(.mov(.b64, .rcx, .rax))
        assembler.emit(.shift(.shr, .b64, .rcx, 4))
        assembler.emit(.alu(.add, .b64, .rax, .rcx))
        assembler.emit(.loadConstant(.rdx, 0x0f0f_0f0f_0f0f_0f0f))
        assembler.emit(.alu(.and, .b64, .rax, .rdx))
        // rax = (rax * 0x01..) >> 56
        assembler.emit(.loadConstant(.rdx, 0x0101_0101_0101_0101))
        assembler.emit(.imul(.b64, .rax, .rdx))
        assembler.emit(.shift(.shr, .b64, .rax, 56))
        storeResult(i.rd)
    }

    /// `max`/`min` and their unsigned forms: rs1, replaced by rs2 when `condition` holds for
    /// `cmp rs1, rs2` (max: rs1 < rs2).
    private mutating func select(_ i: Instruction, _ condition: X64Condition) {
        load(.rax, i.rs1)
        load(.rcx, i.rs2)
        assembler.emit(.alu(.cmp, .b64, .rax, .rcx))
        assembler.emit(.cmov(condition, .b64, .rax, .rcx))
        storeResult(i.rd)
    }

    /// `orc.b`: a byte's top bit is set iff the byte is nonzero after
    /// `((x & 0x7f..) + 0x7f..) | x` (the sum never carries out of a byte); those bits, moved
    /// to bit 0 of each byte and multiplied by 0xff, fill their bytes.
    private mutating func orCombineBytes(_ i: Instruction) {
        load(.rax, i.rs1)
        assembler.emit(.loadConstant(.rcx, 0x7f7f_7f7f_7f7f_7f7f))
        assembler.emit(.mov(.b64, .rdx, .rax))
        assembler.emit(.alu(.and, .b64, .rdx, .rcx))
        assembler.emit(.alu(.add, .b64, .rdx, .rcx))
        assembler.emit(.alu(.or, .b64, .rdx, .rax))
        assembler.emit(.unary(.not, .b64, .rcx))  // 0x80..
        assembler.emit(.alu(.and, .b64, .rdx, .rcx))
        assembler.emit(.shift(.shr, .b64, .rdx, 7))
        assembler.emit(.imul(.b64, .rax, .rdx, imm: 0xff))
        storeResult(i.rd)
    }

    /// `bclr`/`bset`/`binv`.
    private mutating func modifyBit(_ op: X64BitModifyOp, _ i: Instruction) {
        load(.rcx, i.rs2)
        load(.rax, i.rs1)
        assembler.emit(.bitModify(op, .b64, .rax, .rcx))
        storeResult(i.rd)
    }

    /// `bclri`/`bseti`/`binvi`.
    private mutating func modifyBitImmediate(_ op: X64BitModifyOp, _ i: Instruction) {
        load(.rax, i.rs1)
        assembler.emit(.bitModify(op, .b64, .rax, UInt8(i.imm & 63)))
        storeResult(i.rd)
    }

    /// `czero.eqz`/`czero.nez`: rs1, or 0 when rs2 compares with zero as `condition` says.
    private mutating func conditionalZero(_ i: Instruction, _ condition: X64Condition) {
        assembler.emit(.alu(.xor, .b32, .rdx, .rdx))
        load(.rcx, i.rs2)
        load(.rax, i.rs1)
        assembler.emit(.test(.b64, .rcx, .rcx))
        assembler.emit(.cmov(condition, .b64, .rax, .rdx))
        storeResult(i.rd)
    }
}
