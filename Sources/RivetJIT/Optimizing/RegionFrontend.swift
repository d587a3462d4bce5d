import RivetIR
import RivetISA
import RivetMachine

/// The IR's opcodes (RivetISA has an `Opcode` too: RISC-V's).
typealias IROpcode = RivetIR.Opcode

/// Tier 2's frontend: RISC-V instructions to `RivetIR`.
///
/// A region is a straight run of decoded instructions from one pc (a block, as the interpreter
/// and tier 1 cut them). When its last instruction is a conditional branch back to its first,
/// the region is a loop: the body becomes a loop in the IR, so that the passes (state
/// forwarding, LICM) can keep guest registers in values across iterations.
///
/// What the IR says is exactly what the interpreter does, instruction by instruction:
/// - guest registers x1...x31 are the state slots `x1`...`x31` (i64, at their `HartState`
///   offsets); every instruction that writes one `set_slot`s it at once, so the state in the
///   struct is exact at every instruction boundary — an exit or a fault needs no entries. (The
///   state-forwarding pass defers these writes into the exits, keeping them exact.) Reads of a
///   register the region wrote use the value, not the slot;
/// - memory accesses carry their instruction's pc as their exit state: a fault resumes there,
///   with the state before the instruction, and the interpreter raises it exactly;
/// - instructions the IR does not model yet (floating point, atomics, CSRs, system
///   instructions, fences) end the region *before* them: an `exit` to their pc, where the lower
///   tiers take over. A region whose first instruction is one of them is not made.
///
/// `retired` counts the instructions the region covers on each path out (all of them, or those
/// before an instruction it stops at), for the budget.
package struct RegionFrontend {
    /// The function built, and how many guest instructions each pass through it retires.
    package struct Region {
        package var function: Function
        /// Instructions the region covers (its exits retire them all; a loop retires them per
        /// iteration).
        package var instructions: Int
        package var isLoop: Bool
    }

    /// What the evaluator needs to run a region: the budget intrinsic, with an unbounded budget.
    package static let evaluatorHelpers: [String: HelperImplementation] = [
        Tier2Backend.budgetHelper: { _, _ in .none }
    ]

    /// The IR of the region of `instructions` (decoded at consecutive pcs from `pc`), or nil if
    /// its first instruction is one the IR does not model.
    package static func translate(pc: UInt64, instructions: [Instruction]) -> Region? {
        var frontend = RegionFrontend(pc: pc)
        return frontend.build(instructions)
    }

    private var b = FunctionBuilder(name: "region")
    private let pc: UInt64
    /// The slots of x1...x31 (index 0 unused).
    private var slots: [Slot] = []
    /// Values of registers in the current IR block (nil: read the slot).
    private var values: [Value?] = Array(repeating: nil, count: 32)

    private init(pc: UInt64) {
        self.pc = pc
        b.function.name = "region_\(String(pc, radix: 16))"
        slots.append(Slot(0))
        for n in 1..<32 {
            slots.append(b.declareSlot("x\(n)", .i64, offset: 8 * (HartState.Slot.x + n)))
        }
    }

    private mutating func build(_ instructions: [Instruction]) -> Region? {
        guard let first = instructions.first, Self.isModelled(first) else { return nil }
        // A loop: the last instruction branches back to the first.
        var address = pc
        var pcs: [UInt64] = []
        for i in instructions {
            pcs.append(address)
            address &+= UInt64(i.length)
        }
        let last = instructions[instructions.count - 1]
        let isLoop = last.opcode.format == .b && pcs[pcs.count - 1] &+ UInt64(bitPattern: last.imm) == pc
            && instructions.allSatisfy(Self.isModelled)
        // The entry jumps to the body (a loop's header), which the back edge jumps to again.
        let body = b.appendBlock()
        b.jump(body)
        b.switchTo(body)
        // The body starts by taking its instructions from the budget (each iteration of a
        // loop): with too little left, it leaves before running any, with the state at its head.
        var covering = 0
        for i in instructions {
            guard Self.isModelled(i) else { break }
            covering += 1
            if i.endsBlock { break }
        }
        let budget = b.declareHelper(Tier2Backend.budgetHelper, params: [.i64], result: nil, effects: [.canFault])
        _ = b.call(budget, [constant(UInt64(covering))], exit: ExitState(pc: RivetIR.GuestAddress(pc)))
        var covered = 0
        for (k, i) in instructions.enumerated() {
            guard Self.isModelled(i) else {
                // The lower tiers run it: the region exits before it.
                b.exit(ExitState(pc: RivetIR.GuestAddress(pcs[k])))
                return Region(function: b.function, instructions: covered, isLoop: false)
            }
            covered += 1
            let next = pcs[k] &+ UInt64(i.length)
            if emit(i, at: pcs[k], next: next, loopHead: isLoop && k == instructions.count - 1 ? body : nil) {
                return Region(function: b.function, instructions: covered, isLoop: isLoop)
            }
        }
        // Fell off the end without a transfer: go on at the next pc.
        b.exit(ExitState(pc: RivetIR.GuestAddress(address)))
        return Region(function: b.function, instructions: covered, isLoop: false)
    }

    // MARK: Registers

    private mutating func read(_ r: UInt8) -> Value {
        if r == 0 { return b.iconst(UInt64(0)) }
        if let v = values[Int(r)] { return v }
        let v = b.getSlot(slots[Int(r)])
        values[Int(r)] = v
        return v
    }

    private mutating func write(_ r: UInt8, _ v: Value) {
        guard r != 0 else { return }
        b.setSlot(slots[Int(r)], v)
        values[Int(r)] = v
    }

    private mutating func constant(_ v: UInt64) -> Value { b.iconst(v) }
    private mutating func constant(_ v: Int64) -> Value { b.iconst(v) }

    private mutating func binary(_ op: IROpcode, _ x: Value, _ y: Value) -> Value { b.binary(op, x, y) }
    private mutating func unary(_ op: IROpcode, _ x: Value) -> Value { b.unary(op, x) }

    /// rd = op(rs1, rs2).
    private mutating func rr(_ i: Instruction, _ op: IROpcode) {
        write(i.rd, binary(op, read(i.rs1), read(i.rs2)))
    }

    /// rd = op(rs1, imm).
    private mutating func ri(_ i: Instruction, _ op: IROpcode) {
        write(i.rd, binary(op, read(i.rs1), constant(i.imm)))
    }

    /// rd = sext32(op(rs1, rs2)).
    private mutating func rrw(_ i: Instruction, _ op: IROpcode) {
        write(i.rd, unary(.sext32, binary(op, read(i.rs1), read(i.rs2))))
    }

    /// rd = (rs1 <cond> rs2) ? 1 : 0.
    private mutating func setIf(_ i: Instruction, _ cond: IntCondition, _ y: Value) {
        let c = b.icmp(cond, read(i.rs1), y)
        write(i.rd, b.unary(.bint, c))
    }

    // MARK: Instructions

    /// Whether the IR models `i` (else the region stops before it).
    static func isModelled(_ i: Instruction) -> Bool {
        switch i.opcode {
        case .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu, .lb, .lh, .lw, .ld, .lbu, .lhu, .lwu,
            .sb, .sh, .sw, .sd, .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .add, .sub, .sll,
            .slt, .sltu, .xor, .srl, .sra, .or, .and, .addiw, .slliw, .srliw, .sraiw, .addw, .subw, .sllw, .srlw,
            .sraw, .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu, .mulw, .divw, .divuw, .remw, .remuw,
            .sh1add, .sh2add, .sh3add, .add_uw, .sh1add_uw, .sh2add_uw, .sh3add_uw, .slli_uw, .andn, .orn, .xnor,
            .clz, .clzw, .ctz, .ctzw, .cpop, .cpopw, .max, .maxu, .min, .minu, .sext_b, .sext_h, .zext_h, .rol,
            .ror, .rori, .rev8, .bclr, .bclri, .bext, .bexti, .binv, .binvi, .bset, .bseti, .czero_eqz,
            .czero_nez:
            return true
        case .illegal, .fence, .ecall, .ebreak, .fence_i, .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci,
            .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w,
            .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d,
            .amominu_d, .amomaxu_d, .flw, .fsw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s,
            .fmul_s, .fdiv_s, .fsqrt_s, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fcvt_w_s, .fcvt_wu_s,
            .fcvt_l_s, .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l,
            .fcvt_s_lu, .fmv_w_x, .fld, .fsd, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d,
            .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d,
            .flt_d, .fle_d, .fclass_d, .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d, .fcvt_d_w,
            .fcvt_d_wu, .fcvt_d_l, .fcvt_d_lu, .fmv_d_x, .rolw, .roriw, .rorw, .orc_b, .cbo_clean, .cbo_flush,
            .cbo_inval, .cbo_zero, .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s, .fleq_s, .fltq_s, .fli_d,
            .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            return false
        }
    }

    /// Emits `i` (at `pc`, followed by `next`); returns true if it ended the region (a
    /// transfer). `loopHead` is the body block when `i` is a loop's back edge.
    private mutating func emit(_ i: Instruction, at pc: UInt64, next: UInt64, loopHead: Block?) -> Bool {
        let here = ExitState(pc: RivetIR.GuestAddress(pc))
        switch i.opcode {
        // Control transfer.
        case .jal:
            write(i.rd, constant(next))
            b.exit(ExitState(pc: RivetIR.GuestAddress(pc &+ UInt64(bitPattern: i.imm))))
            return true
        case .jalr:
            let target = binary(.band, binary(.iadd, read(i.rs1), constant(i.imm)), constant(Int64(-2)))
            write(i.rd, constant(next))
            b.exitIndirect(target)
            return true
        case .beq: branch(i, .eq, pc, next, loopHead)
        case .bne: branch(i, .ne, pc, next, loopHead)
        case .blt: branch(i, .slt, pc, next, loopHead)
        case .bge: branch(i, .sge, pc, next, loopHead)
        case .bltu: branch(i, .ult, pc, next, loopHead)
        case .bgeu: branch(i, .uge, pc, next, loopHead)

        // Memory.
        case .lb: load(i, .sload8, here)
        case .lh: load(i, .sload16, here)
        case .lw: load(i, .sload32, here)
        case .ld: load(i, .loadI64, here)
        case .lbu: load(i, .uload8, here)
        case .lhu: load(i, .uload16, here)
        case .lwu: load(i, .uload32, here)
        case .sb: store(i, .store8, here)
        case .sh: store(i, .store16, here)
        case .sw: store(i, .store32, here)
        case .sd: store(i, .store64, here)

        // Integer register-immediate.
        case .lui: write(i.rd, constant(i.imm))
        case .auipc: write(i.rd, constant(pc &+ UInt64(bitPattern: i.imm)))
        case .addi: ri(i, .iadd)
        case .slti: setIf(i, .slt, constant(i.imm))
        case .sltiu: setIf(i, .ult, constant(i.imm))
        case .xori: ri(i, .bxor)
        case .ori: ri(i, .bor)
        case .andi: ri(i, .band)
        case .slli: ri(i, .shl)
        case .srli: ri(i, .ushr)
        case .srai: ri(i, .sshr)
        case .addiw: write(i.rd, unary(.sext32, binary(.iadd, read(i.rs1), constant(i.imm))))
        case .slliw: write(i.rd, unary(.sext32, binary(.shl, read(i.rs1), constant(i.imm & 31))))
        case .srliw: write(i.rd, unary(.sext32, binary(.ushr, unary(.zext32, read(i.rs1)), constant(i.imm & 31))))
        case .sraiw: write(i.rd, unary(.sext32, binary(.sshr, unary(.sext32, read(i.rs1)), constant(i.imm & 31))))

        // Integer register-register.
        case .add: rr(i, .iadd)
        case .sub: rr(i, .isub)
        case .sll: rr(i, .shl)
        case .slt: setIf(i, .slt, read(i.rs2))
        case .sltu: setIf(i, .ult, read(i.rs2))
        case .xor: rr(i, .bxor)
        case .srl: rr(i, .ushr)
        case .sra: rr(i, .sshr)
        case .or: rr(i, .bor)
        case .and: rr(i, .band)
        case .addw: rrw(i, .iadd)
        case .subw: rrw(i, .isub)
        case .sllw: write(i.rd, unary(.sext32, binary(.shl, read(i.rs1), shamt32(i))))
        case .srlw: write(i.rd, unary(.sext32, binary(.ushr, unary(.zext32, read(i.rs1)), shamt32(i))))
        case .sraw: write(i.rd, unary(.sext32, binary(.sshr, unary(.sext32, read(i.rs1)), shamt32(i))))

        // M (the IR's division is RISC-V's: x/0 = all ones, x%0 = x, MIN/-1 = MIN).
        case .mul: rr(i, .imul)
        case .mulh: rr(i, .imulhs)
        case .mulhsu: rr(i, .imulhsu)
        case .mulhu: rr(i, .imulhu)
        case .div: rr(i, .sdiv)
        case .divu: rr(i, .udiv)
        case .rem: rr(i, .srem)
        case .remu: rr(i, .urem)
        case .mulw: rrw(i, .imul)
        case .divw: word(i, .sdiv, signed: true)
        case .divuw: word(i, .udiv, signed: false)
        case .remw: word(i, .srem, signed: true)
        case .remuw: word(i, .urem, signed: false)

        // Zba.
        case .sh1add: shiftAdd(i, 1, unsignedWord: false)
        case .sh2add: shiftAdd(i, 2, unsignedWord: false)
        case .sh3add: shiftAdd(i, 3, unsignedWord: false)
        case .add_uw: shiftAdd(i, 0, unsignedWord: true)
        case .sh1add_uw: shiftAdd(i, 1, unsignedWord: true)
        case .sh2add_uw: shiftAdd(i, 2, unsignedWord: true)
        case .sh3add_uw: shiftAdd(i, 3, unsignedWord: true)
        case .slli_uw: write(i.rd, binary(.shl, unary(.zext32, read(i.rs1)), constant(i.imm & 63)))

        // Zbb.
        case .andn: write(i.rd, binary(.band, read(i.rs1), unary(.bnot, read(i.rs2))))
        case .orn: write(i.rd, binary(.bor, read(i.rs1), unary(.bnot, read(i.rs2))))
        case .xnor: write(i.rd, unary(.bnot, binary(.bxor, read(i.rs1), read(i.rs2))))
        case .clz: write(i.rd, unary(.clz, read(i.rs1)))
        case .ctz: write(i.rd, unary(.ctz, read(i.rs1)))
        case .cpop: write(i.rd, unary(.popcnt, read(i.rs1)))
        case .clzw:
            // clz of the low word: clz(zext32(x)) - 32 (32 for a zero word).
            write(i.rd, binary(.isub, unary(.clz, unary(.zext32, read(i.rs1))), constant(UInt64(32))))
        case .ctzw:
            write(i.rd, unary(.ctz, binary(.bor, read(i.rs1), constant(UInt64(1) << 32))))
        case .cpopw: write(i.rd, unary(.popcnt, unary(.zext32, read(i.rs1))))
        case .max: minMax(i, .sgt)
        case .maxu: minMax(i, .ugt)
        case .min: minMax(i, .slt)
        case .minu: minMax(i, .ult)
        case .sext_b: write(i.rd, unary(.sext8, read(i.rs1)))
        case .sext_h: write(i.rd, unary(.sext16, read(i.rs1)))
        case .zext_h: write(i.rd, unary(.zext16, read(i.rs1)))
        case .rol: rr(i, .rotl)
        case .ror: rr(i, .rotr)
        case .rori: write(i.rd, binary(.rotr, read(i.rs1), constant(i.imm & 63)))
        case .rev8: write(i.rd, unary(.bswap, read(i.rs1)))

        // Zbs.
        case .bclr: write(i.rd, binary(.band, read(i.rs1), unary(.bnot, bit(read(i.rs2)))))
        case .bclri: write(i.rd, binary(.band, read(i.rs1), constant(~(UInt64(1) << UInt64(i.imm & 63)))))
        case .bext: write(i.rd, binary(.band, binary(.ushr, read(i.rs1), read(i.rs2)), constant(UInt64(1))))
        case .bexti: write(i.rd, binary(.band, binary(.ushr, read(i.rs1), constant(i.imm & 63)), constant(UInt64(1))))
        case .binv: write(i.rd, binary(.bxor, read(i.rs1), bit(read(i.rs2))))
        case .binvi: write(i.rd, binary(.bxor, read(i.rs1), constant(UInt64(1) << UInt64(i.imm & 63))))
        case .bset: write(i.rd, binary(.bor, read(i.rs1), bit(read(i.rs2))))
        case .bseti: write(i.rd, binary(.bor, read(i.rs1), constant(UInt64(1) << UInt64(i.imm & 63))))

        // Zicond.
        case .czero_eqz: czero(i, .eq)
        case .czero_nez: czero(i, .ne)

        case .illegal, .fence, .ecall, .ebreak, .fence_i, .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci,
            .lr_w, .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w,
            .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d,
            .amominu_d, .amomaxu_d, .flw, .fsw, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fadd_s, .fsub_s,
            .fmul_s, .fdiv_s, .fsqrt_s, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fmin_s, .fmax_s, .fcvt_w_s, .fcvt_wu_s,
            .fcvt_l_s, .fcvt_lu_s, .fmv_x_w, .fclass_s, .feq_s, .flt_s, .fle_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l,
            .fcvt_s_lu, .fmv_w_x, .fld, .fsd, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d, .fadd_d, .fsub_d, .fmul_d,
            .fdiv_d, .fsqrt_d, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmin_d, .fmax_d, .fcvt_s_d, .fcvt_d_s, .feq_d,
            .flt_d, .fle_d, .fclass_d, .fcvt_w_d, .fcvt_wu_d, .fcvt_l_d, .fcvt_lu_d, .fmv_x_d, .fcvt_d_w,
            .fcvt_d_wu, .fcvt_d_l, .fcvt_d_lu, .fmv_d_x, .rolw, .roriw, .rorw, .orc_b, .cbo_clean, .cbo_flush,
            .cbo_inval, .cbo_zero, .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s, .fleq_s, .fltq_s, .fli_d,
            .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            // Not modelled: `build` ends the region before these.
            preconditionFailure("\(i.opcode) is not modelled by the tier-2 frontend")
        }
        return i.opcode.format == .b
    }

    private mutating func shamt32(_ i: Instruction) -> Value { binary(.band, read(i.rs2), constant(UInt64(31))) }

    private mutating func bit(_ index: Value) -> Value { binary(.shl, constant(UInt64(1)), index) }

    /// A 32-bit division or remainder: operands extended to 64 bits, result sign-extended.
    private mutating func word(_ i: Instruction, _ op: IROpcode, signed: Bool) {
        let extend: IROpcode = signed ? .sext32 : .zext32
        write(i.rd, unary(.sext32, binary(op, unary(extend, read(i.rs1)), unary(extend, read(i.rs2)))))
    }

    /// Zba: rd = rs2 + (rs1 (zero-extended from 32 bits if `unsignedWord`) << shift).
    private mutating func shiftAdd(_ i: Instruction, _ shift: UInt64, unsignedWord: Bool) {
        var x = read(i.rs1)
        if unsignedWord { x = unary(.zext32, x) }
        if shift > 0 { x = binary(.shl, x, constant(shift)) }
        write(i.rd, binary(.iadd, read(i.rs2), x))
    }

    /// max/min: rd = (rs1 <cond> rs2) ? rs1 : rs2.
    private mutating func minMax(_ i: Instruction, _ cond: IntCondition) {
        let x = read(i.rs1), y = read(i.rs2)
        write(i.rd, b.select(b.icmp(cond, x, y), x, y))
    }

    /// czero.eqz (rs2 == 0) / czero.nez (rs2 != 0): rd = 0 if so, else rs1.
    private mutating func czero(_ i: Instruction, _ cond: IntCondition) {
        let x = read(i.rs1)
        let zero = constant(UInt64(0))
        write(i.rd, b.select(b.icmp(cond, read(i.rs2), zero), zero, x))
    }

    private mutating func load(_ i: Instruction, _ op: IROpcode, _ here: ExitState) {
        let address = binary(.iadd, read(i.rs1), constant(i.imm))
        write(i.rd, b.load(op, address, exit: here))
    }

    private mutating func store(_ i: Instruction, _ op: IROpcode, _ here: ExitState) {
        let address = binary(.iadd, read(i.rs1), constant(i.imm))
        b.store(op, address, read(i.rs2), exit: here)
    }

    /// A conditional branch: to its destination or the next instruction, each an exit — or,
    /// for a loop's back edge, to the loop's head.
    private mutating func branch(_ i: Instruction, _ cond: IntCondition, _ pc: UInt64, _ next: UInt64, _ loopHead: Block?) {
        let c = b.icmp(cond, read(i.rs1), read(i.rs2))
        let taken = pc &+ UInt64(bitPattern: i.imm)
        let out = b.appendBlock()
        if let loopHead {
            b.brif(c, loopHead, [], out, [])
        } else {
            let exitTaken = b.appendBlock()
            b.brif(c, exitTaken, [], out, [])
            b.switchTo(exitTaken)
            b.exit(ExitState(pc: RivetIR.GuestAddress(taken)))
        }
        b.switchTo(out)
        b.exit(ExitState(pc: RivetIR.GuestAddress(next)))
    }
}
