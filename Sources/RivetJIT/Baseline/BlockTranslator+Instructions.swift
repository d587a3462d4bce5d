import RivetISA
import RivetMachine
import RivetX64

extension BlockTranslator {
    /// Emits the code of one guest instruction, instruction `k` of the block, at `pc`.
    mutating func emit(_ i: Instruction, index k: Int, pc: UInt64) {
        switch i.opcode {
        // MARK: Control transfer (always last in a block)
        case .jal:
            storeConstant(pc + UInt64(i.length), to: i.rd)
            writeBack()
            exit(to: pc &+ UInt64(bitPattern: i.imm))
        case .jalr:
            load(.rax, i.rs1)
            if i.imm != 0 { assembler.emit(.alu(.add, .b64, .rax, imm: Int32(truncatingIfNeeded: i.imm))) }
            assembler.emit(.alu(.and, .b64, .rax, imm: -2))
            if i.rd != 0 {
                // A call through a pointer notes where it goes, for region formation
                // (`TranslationCache.lastCallTarget`): a plain store, no read.
                assembler.emit(.mov(.b64, .at(Pinned.counters, Int32(TranslationCache.exitCounterOffset + 8 * id)), .rax))
            }
            storeConstant(pc + UInt64(i.length), to: i.rd)
            writeBack()
            indirectJump()
        case .beq: branch(i, .e, pc)
        case .bne: branch(i, .ne, pc)
        case .blt: branch(i, .l, pc)
        case .bge: branch(i, .ge, pc)
        case .bltu: branch(i, .b, pc)
        case .bgeu: branch(i, .ae, pc)

        // MARK: Integer register-immediate
        case .lui:
            storeConstant(UInt64(bitPattern: i.imm), to: i.rd)
        case .auipc:
            storeConstant(pc &+ UInt64(bitPattern: i.imm), to: i.rd)
        case .addi:
            guard i.rd != 0 else { break }
            if i.rs1 == 0 {
                storeConstant(UInt64(bitPattern: i.imm), to: i.rd)
            } else {
                aluImmediate(.add, i)
            }
        case .slti: compareImmediate(i, .l)
        case .sltiu: compareImmediate(i, .b)
        case .xori: aluImmediate(.xor, i)
        case .ori: aluImmediate(.or, i)
        case .andi: aluImmediate(.and, i)
        case .slli: shiftImmediate(.shl, i, .b64)
        case .srli: shiftImmediate(.shr, i, .b64)
        case .srai: shiftImmediate(.sar, i, .b64)
        case .addiw:
            aluImmediate(.add, i, .b32)
        case .slliw: shiftImmediate(.shl, i, .b32)
        case .srliw: shiftImmediate(.shr, i, .b32)
        case .sraiw: shiftImmediate(.sar, i, .b32)

        // MARK: Integer register-register
        case .add: alu(.add, i, .b64)
        case .sub: alu(.sub, i, .b64)
        case .xor: alu(.xor, i, .b64)
        case .or: alu(.or, i, .b64)
        case .and: alu(.and, i, .b64)
        case .addw: alu(.add, i, .b32)
        case .subw: alu(.sub, i, .b32)
        case .sll: shift(.shl, i, .b64)
        case .srl: shift(.shr, i, .b64)
        case .sra: shift(.sar, i, .b64)
        case .sllw: shift(.shl, i, .b32)
        case .srlw: shift(.shr, i, .b32)
        case .sraw: shift(.sar, i, .b32)
        case .slt: compare(i, .l)
        case .sltu: compare(i, .b)

        // MARK: M
        case .mul: multiply(i, .b64)
        case .mulw: multiply(i, .b32)
        case .mulh, .mulhu:
            guard i.rd != 0 else { break }
            load(.rax, i.rs1)
            load(.rcx, i.rs2)
            assembler.emit(.unary(i.opcode == .mulh ? .imul : .mul, .b64, .rcx))
            storeResult(i.rd, from: .rdx)
        case .mulhsu:
            // High half of signed × unsigned: the unsigned product's high half, minus rs2 when
            // rs1 is negative.
            guard i.rd != 0 else { break }
            load(.rax, i.rs1)
            assembler.emit(.mov(.b64, .rcx, .rax))
            load(.rdx, i.rs2)
            assembler.emit(.shift(.sar, .b64, .rcx, 63))
            assembler.emit(.alu(.and, .b64, .rcx, .rdx))
            assembler.emit(.unary(.mul, .b64, .rdx))
            assembler.emit(.alu(.sub, .b64, .rdx, .rcx))
            storeResult(i.rd, from: .rdx)
        case .div: divide(i, signed: true, remainder: false, .b64)
        case .divu: divide(i, signed: false, remainder: false, .b64)
        case .rem: divide(i, signed: true, remainder: true, .b64)
        case .remu: divide(i, signed: false, remainder: true, .b64)
        case .divw: divide(i, signed: true, remainder: false, .b32)
        case .divuw: divide(i, signed: false, remainder: false, .b32)
        case .remw: divide(i, signed: true, remainder: true, .b32)
        case .remuw: divide(i, signed: false, remainder: true, .b32)

        // MARK: Loads and stores
        case .lb: load(i, k) { .movsx(.b64, $0, $1, from: .b8) }
        case .lh: load(i, k) { .movsx(.b64, $0, $1, from: .b16) }
        case .lw: load(i, k) { .movsx(.b64, $0, $1, from: .b32) }
        case .ld: load(i, k) { .mov(.b64, $0, $1) }
        case .lbu: load(i, k) { .movzx(.b32, $0, $1, from: .b8) }
        case .lhu: load(i, k) { .movzx(.b32, $0, $1, from: .b16) }
        case .lwu: load(i, k) { .mov(.b32, $0, $1) }
        case .flw:
            assembler.emit(.mov(.b32, .rcx, guestAccess(i, index: k)))
            assembler.emit(.loadConstant(.rdx, 0xffff_ffff_0000_0000))
            assembler.emit(.alu(.or, .b64, .rcx, .rdx))
            assembler.emit(.mov(.b64, f(i.rd), .rcx))
        case .fld:
            assembler.emit(.mov(.b64, .rcx, guestAccess(i, index: k)))
            assembler.emit(.mov(.b64, f(i.rd), .rcx))
        case .sb: store(i, k, .b8, float: false)
        case .sh: store(i, k, .b16, float: false)
        case .sw: store(i, k, .b32, float: false)
        case .sd: store(i, k, .b64, float: false)
        case .fsw: store(i, k, .b32, float: true)
        case .fsd: store(i, k, .b64, float: true)

        // MARK: System
        case .fence:
            // x86-64 is TSO: it keeps every order a fence can ask for but earlier stores before
            // later loads, which only a barrier gives (guest threads run on host threads).
            if FenceOrdering(bits: i.imm).ordersStoresBeforeLoads { assembler.emit(.mfence) }
        case .fence_i:
            writeBack()
            leave(code(.fenceI, k))
        case .ecall:
            writeBack()
            emitEcall(at: pc, index: k)
        case .ebreak, .illegal:
            writeBack()
            leave(code(.trap, k))
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            if !emitFloatCSR(i) { callHelper(helpers.csr, packed: Self.pack(i), extra: 0, index: k) }

        // MARK: A
        case .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w,
            .amominu_w, .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d,
            .amomin_d, .amomax_d, .amominu_d, .amomaxu_d:
            callHelper(helpers.atomic, packed: Self.pack(i), extra: 0, index: k)

        // MARK: F, D and Zfa
        case .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s,
            .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fcvt_w_s, .fcvt_wu_s, .fcvt_l_s,
            .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l,
            .fcvt_s_lu, .fmv_w_x, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d,
            .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s,
            .feq_d, .flt_d, .fle_d, .fclass_d, .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fcvt_d_w,
            .fcvt_d_wu, .fcvt_d_l, .fcvt_d_lu, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s, .fleq_s, .fltq_s,
            .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            if let (function, shape) = Self.floatFunction(i.opcode) {
                emitInlineFloat(i, function: function, shape: shape, index: k)
            } else {
                emitSignInjection(i)
            }
        case .fmv_x_d:
            if i.rd != 0 {
                assembler.emit(.mov(.b64, .rax, f(i.rs1)))
                storeResult(i.rd)
            }
        case .fmv_d_x:
            load(.rax, i.rs1)
            assembler.emit(.mov(.b64, f(i.rd), .rax))
        case .fli_s:
            assembler.emit(.loadConstant(.rax, 0xffff_ffff_0000_0000 | UInt64(SoftFloat.fli32(Int(i.imm)))))
            assembler.emit(.mov(.b64, f(i.rd), .rax))
        case .fli_d:
            assembler.emit(.loadConstant(.rax, SoftFloat.fli64(Int(i.imm))))
            assembler.emit(.mov(.b64, f(i.rd), .rax))

        // MARK: Zba, Zbb, Zbs, Zicond, Zicbom, Zicboz
        case .sh1add, .sh2add, .sh3add, .add_uw, .sh1add_uw, .sh2add_uw, .sh3add_uw, .slli_uw,
            .andn, .orn, .xnor, .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max, .maxu, .min, .minu,
            .sext_b, .sext_h, .zext_h, .rol, .rolw, .ror, .rori, .roriw, .rorw, .orc_b, .rev8,
            .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti, .czero_eqz, .czero_nez:
            emitBitManipulation(i)
        case .cbo_clean, .cbo_flush, .cbo_zero:
            emitCacheBlock(i, index: k)
        case .cbo_inval:
            // An illegal instruction in user mode: the interpreter raises it.
            writeBack()
            leave(code(.trap, k))
        }
    }

    // MARK: Templates

    private mutating func branch(_ i: Instruction, _ condition: X64Condition, _ pc: UInt64) {
        let target = pc &+ UInt64(bitPattern: i.imm)
        var condition = condition
        if let host = cached[Int(i.rs1)], i.rs2 == 0 {
            assembler.emit(.test(.b64, host, host))  // against x0: the flags of `cmp host, 0`
        } else if i.rs1 == 0, let host = cached[Int(i.rs2)] {
            // x0 against it (`bgtz` is `blt x0, rs`, `blez` is `bge x0, rs`): the flags of
            // `cmp host, 0`, the condition swapped.
            assembler.emit(.test(.b64, host, host))
            condition = condition.swapped
        } else if let host = cached[Int(i.rs1)] {
            if let other = cached[Int(i.rs2)] {
                assembler.emit(.alu(.cmp, .b64, host, other))
            } else {
                assembler.emit(.alu(.cmp, .b64, host, x(i.rs2)))
            }
        } else {
            load(.rax, i.rs1)
            alu(.cmp, .b64, .rax, i.rs2)
        }
        if target == self.pc, let loopHead {
            // A loop of one block: stay in it with the registers in host registers.
            assembler.jcc(condition, to: loopHead)
            writeBack()
            exit(to: pc + UInt64(i.length))
            return
        }
        writeBackRegisters()
        exit(to: target, if: condition)
        exit(to: pc + UInt64(i.length))
    }

    /// Jumps to the guest pc in rax through the jump cache, or leaves for the run loop.
    private mutating func indirectJump() {
        assembler.emit(.unary(.inc, .b64, slot(HartState.Slot.indirectJumps)))
        // The entry's offset, ((pc >> 1) & mask) << 4, is (pc << 3) & (mask << 4).
        assembler.emit(.lea(.b32, .rcx, .at(index: .rax, scale: .x8)))
        assembler.emit(.alu(.and, .b32, .rcx, imm: Int32(JumpCache.mask << 4)))
        assembler.emit(.alu(.cmp, .b64, .rax, .at(Pinned.jumpCache, index: .rcx)))
        let miss = assembler.newLabel()
        assembler.jcc(.ne, to: miss)
        assembler.emit(.jmp(.at(Pinned.jumpCache, index: .rcx, 8)))
        stubsAppendIndirectMiss(miss)
    }

    /// `rd = rs1 op rs2`. When rd is cached the result is computed in its host register,
    /// unless rs2 is rd and the operation does not commute (then through rax).
    mutating func alu(_ op: X64ALUOp, _ i: Instruction, _ size: X64OperandSize) {
        guard i.rd != 0 else { return }
        if i.rs1 == 0 || i.rs2 == 0, op == .add || op == .or || op == .xor {
            // x0 reads 0: rd is the other operand (`mv rd, rs` is `add rd, x0, rs`), a move
            // rather than loading x0's slot and adding it.
            let source = i.rs1 == 0 ? i.rs2 : i.rs1
            if let destination = cached[Int(i.rd)] {
                if source != i.rd || size == .b32 { load(destination, source, size) }
                if size == .b32 { assembler.emit(.movsx(.b64, destination, destination, from: .b32)) }
            } else if size == .b64, let host = cached[Int(source)] {
                assembler.emit(.mov(.b64, x(i.rd), host))
            } else {
                load(.rax, source, size)
                storeResult(i.rd, word: size == .b32)
            }
            return
        }
        if let destination = cached[Int(i.rd)] {
            if op == .add, size == .b64, i.rs1 != i.rd, i.rs2 != i.rd, let a = cached[Int(i.rs1)], let b = cached[Int(i.rs2)] {
                // rd = rs1 + rs2, three cache registers: one `lea`.
                assembler.emit(.lea(.b64, destination, .at(a, index: b)))
                return
            }
            if i.rs2 != i.rd || i.rs1 == i.rd {
                if i.rs1 != i.rd { load(destination, i.rs1, size) }
                alu(op, size, destination, i.rs2)
                if size == .b32 { assembler.emit(.movsx(.b64, destination, destination, from: .b32)) }
                return
            }
            if op == .add || op == .and || op == .or || op == .xor {
                alu(op, size, destination, i.rs1)
                if size == .b32 { assembler.emit(.movsx(.b64, destination, destination, from: .b32)) }
                return
            }
        }
        load(.rax, i.rs1, size)
        alu(op, size, .rax, i.rs2)
        storeResult(i.rd, word: size == .b32)
    }

    /// `rd = rs1 × rs2` (`mul`, or `mulw` with `size` 32): in rd's host register when it is
    /// cached, the other operand from its host register or its slot (the product commutes, so
    /// `mul a5, a0, a5` is one `imul`); else through rax.
    private mutating func multiply(_ i: Instruction, _ size: X64OperandSize) {
        guard i.rd != 0 else { return }
        let destination = cached[Int(i.rd)] ?? .rax
        let other: UInt8
        if destination != .rax, i.rs1 == i.rd {
            other = i.rs2
        } else if destination != .rax, i.rs2 == i.rd {
            other = i.rs1
        } else {
            load(destination, i.rs1, size)
            other = i.rs2
        }
        if let host = cached[Int(other)] {
            assembler.emit(.imul(size, destination, host))
        } else {
            assembler.emit(.imul(size, destination, x(other)))
        }
        if destination == .rax {
            storeResult(i.rd, word: size == .b32)
        } else if size == .b32 {
            assembler.emit(.movsx(.b64, destination, destination, from: .b32))
        }
    }

    /// `rd = rs1 op imm`, in rd's host register when it is cached.
    private mutating func aluImmediate(_ op: X64ALUOp, _ i: Instruction, _ size: X64OperandSize = .b64) {
        guard i.rd != 0 else { return }
        let destination = cached[Int(i.rd)] ?? .rax
        if op == .add, size == .b64, i.rs1 != i.rd, i.imm != 0, let source = cached[Int(i.rs1)] {
            // rd = rs1 + imm into a third register (or rax for rd's slot): one `lea`.
            assembler.emit(.lea(.b64, destination, .at(source, Int32(i.imm))))
            if destination == .rax { storeResult(i.rd) }
            return
        }
        if !(destination != .rax && i.rs1 == i.rd) { load(destination, i.rs1, size) }
        if i.imm != 0 || op == .and { assembler.emit(.alu(op, size, destination, imm: Int32(i.imm))) }
        if destination == .rax {
            storeResult(i.rd, word: size == .b32)
        } else if size == .b32 {
            assembler.emit(.movsx(.b64, destination, destination, from: .b32))
        }
    }

    mutating func shiftImmediate(_ op: X64ShiftOp, _ i: Instruction, _ size: X64OperandSize) {
        guard i.rd != 0 else { return }
        let destination = cached[Int(i.rd)] ?? .rax
        if !(destination != .rax && i.rs1 == i.rd) { load(destination, i.rs1, size) }
        if i.imm != 0 { assembler.emit(.shift(op, size, destination, UInt8(i.imm))) }
        if destination == .rax {
            storeResult(i.rd, word: size == .b32)
        } else if size == .b32 {
            assembler.emit(.movsx(.b64, destination, destination, from: .b32))
        }
    }

    mutating func shift(_ op: X64ShiftOp, _ i: Instruction, _ size: X64OperandSize) {
        guard i.rd != 0 else { return }
        load(.rcx, i.rs2)
        load(.rax, i.rs1, size)
        assembler.emit(.shiftByCL(op, size, .rax))
        storeResult(i.rd, word: size == .b32)
    }

    private mutating func compare(_ i: Instruction, _ condition: X64Condition) {
        guard i.rd != 0 else { return }
        load(.rax, i.rs1)
        assembler.emit(.alu(.xor, .b32, .rcx, .rcx))
        alu(.cmp, .b64, .rax, i.rs2)
        assembler.emit(.setcc(condition, .rcx))
        storeResult(i.rd, from: .rcx)
    }

    private mutating func compareImmediate(_ i: Instruction, _ condition: X64Condition) {
        guard i.rd != 0 else { return }
        load(.rax, i.rs1)
        assembler.emit(.alu(.xor, .b32, .rcx, .rcx))
        assembler.emit(.alu(.cmp, .b64, .rax, imm: Int32(i.imm)))
        assembler.emit(.setcc(condition, .rcx))
        storeResult(i.rd, from: .rcx)
    }

    /// RISC-V division: no traps; x / 0 = all ones (or x for the remainder), and the signed
    /// overflow MIN / -1 = MIN (remainder 0), which `neg` gives without the x86 trap.
    private mutating func divide(_ i: Instruction, signed: Bool, remainder: Bool, _ size: X64OperandSize) {
        guard i.rd != 0 else { return }
        // Every jump here is short (the sequence is under 40 bytes), and a remainder by zero
        // (rs1 itself, already in rax) jumps straight to the end.
        let zero = assembler.newLabel()
        let done = remainder ? zero : assembler.newLabel()
        load(.rax, i.rs1, size)
        load(.rcx, i.rs2, size)
        assembler.emit(.test(size, .rcx, .rcx))
        assembler.jcc(.e, to: zero, short: true)
        if signed {
            let normal = assembler.newLabel()
            assembler.emit(.alu(.cmp, size, .rcx, imm: -1))
            assembler.jcc(.ne, to: normal, short: true)
            if remainder {
                assembler.emit(.alu(.xor, .b32, .rax, .rax))
            } else {
                assembler.emit(.unary(.neg, size, .rax))
            }
            assembler.jmp(to: done, short: true)
            assembler.bind(normal)
            assembler.emit(size == .b64 ? .cqo : .cdq)
            assembler.emit(.unary(.idiv, size, .rcx))
        } else {
            assembler.emit(.alu(.xor, .b32, .rdx, .rdx))
            assembler.emit(.unary(.div, size, .rcx))
        }
        if remainder {
            assembler.emit(.mov(size, .rax, .rdx))
        } else {
            assembler.jmp(to: done, short: true)
            assembler.bind(zero)
            assembler.emit(.mov(size, .rax, imm: -1))
        }
        assembler.bind(done)
        storeResult(i.rd, word: size == .b32)
    }

    /// `access(destination, [r15 + address])`: straight into rd's cache register if it has
    /// one (a fault writes nothing: the handler finds the old value there), else through rcx.
    private mutating func load(_ i: Instruction, _ k: Int, _ access: (HostRegister, X64Memory) -> X64Instruction) {
        let memory = guestAccess(i, index: k)
        if i.rd != 0, let host = cached[Int(i.rd)] {
            assembler.emit(access(host, memory))
            return
        }
        assembler.emit(access(.rcx, memory))
        // A load into x0 still runs, for its fault.
        storeResult(i.rd, from: .rcx)
    }

    /// A store of rs2 (from its cache register if it has one) to `[r15 + address]`.
    private mutating func store(_ i: Instruction, _ k: Int, _ size: X64OperandSize, float: Bool) {
        let memory = guestAccess(i, index: k)
        if float {
            assembler.emit(.mov(.b64, .rcx, f(i.rs2)))
        } else if let host = cached[Int(i.rs2)] {
            assembler.emit(.mov(size, memory, host))
            return
        } else {
            load(.rcx, i.rs2)
        }
        assembler.emit(.mov(size, memory, .rcx))
    }
}
