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
/// - F and D as `RegionFrontend+Float.swift` says;
/// - instructions the IR does not model yet (some float conversions, atomics,
///   CSRs other than `fflags`/`fcsr`, system instructions, fences) end the region *before* them: an
///   `exit` to their pc, where the lower tiers take over. A region whose first instruction is
///   one of them is not made.
///
/// `retired` counts the instructions the region covers on each path out (all of them, or those
/// before an instruction it stops at), for the budget.
public struct RegionFrontend {
    /// The function built, and how many guest instructions each pass through it retires.
    public struct Region {
        public var function: Function
        /// Instructions of the entry block the region covers (an entry retires them all; a
        /// loop retires them per iteration).
        public var instructions: Int
        /// Whether the region loops (a branch goes back to one of its blocks).
        public var isLoop: Bool
        /// By region instruction index (the blocks in order, each block's covered instructions
        /// in order): its pc, and the instructions a fault there gives back to the budget (its
        /// block took them all at its head).
        public var pcs: [UInt64]
        public var refunds: [Int]
    }

    /// One guest block of a region: its pc and its instructions, at consecutive pcs.
    public struct GuestBlock {
        public var pc: UInt64
        public var instructions: [Instruction]
        public init(pc: UInt64, instructions: [Instruction]) {
            self.pc = pc
            self.instructions = instructions
        }
    }

    /// What the evaluator needs to run a region: the budget intrinsic, with an unbounded budget,
    /// and the float-flags intrinsic, which finds none (the evaluator does not model flags).
    public static let evaluatorHelpers: [String: HelperImplementation] = [
        Tier2Backend.budgetHelper: { _, _ in .none },
        Tier2Backend.flagsHelper: { _, _ in .value(0) },
        Tier2Backend.peekFlagsHelper: { _, _ in .value(0) },
    ]

    /// The IR of the region of `instructions` (decoded at consecutive pcs from `pc`), or nil if
    /// its first instruction is one the IR does not model.
    public static func translate(pc: UInt64, instructions: [Instruction]) -> Region? {
        translate([GuestBlock(pc: pc, instructions: instructions)])
    }

    /// The IR of a region of several guest blocks, entered at the first: a transfer to the start
    /// of one of them is an edge inside the region, any other leaves it. The blocks must not
    /// overlap. Nil if the first block's first instruction is one the IR does not model.
    /// `indirectTargets`: pcs an indirect jump (not a return) compares its target with, in
    /// order, going on at the region's block there when it is one (else it leaves by the jump
    /// cache): the profiled targets of a `switch`'s jump table or an interpreter's dispatch.
    public static func translate(_ blocks: [GuestBlock], indirectTargets: [UInt64] = []) -> Region? {
        guard let first = blocks.first else { return nil }
        var frontend = RegionFrontend(pc: first.pc)
        frontend.indirectTargets = indirectTargets
        return frontend.build(blocks)
    }

    var b = FunctionBuilder(name: "region")
    private let pc: UInt64
    /// The slots of x1...x31 (index 0 unused).
    private var slots: [Slot] = []
    /// Values of registers in the current IR block (nil: read the slot).
    private var values: [Value?] = Array(filled: nil, count: 32)
    /// The slots of f0...f31, declared at their first use (integer regions declare none).
    var floatSlots: [Slot?] = Array(filled: nil, count: 32)
    /// Values of f registers in the current IR block, as their 64 raw bits and, when known, as
    /// an f64 or as the (unboxed) f32 they hold.
    var floatBits: [Value?] = Array(filled: nil, count: 32)
    var doubles: [Value?] = Array(filled: nil, count: 32)
    var singles: [Value?] = Array(filled: nil, count: 32)
    /// The float-flags intrinsic and the `fcsr` slot, declared at their first use.
    var flagsHelper: HelperRef?
    var peekFlagsHelper: HelperRef?
    var fcsrSlot: Slot?
    /// The IR block of each guest block of the region, by pc.
    private var heads: [UInt64: Block] = [:]
    /// Whether an edge went to a block of the region (a loop).
    private var loops = false
    /// The continuations of the region's calls that are blocks of the region: where a return
    /// may go on inside it.
    private var returnSites: [UInt64] = []
    /// Where an indirect jump may go on inside the region (`translate`'s `indirectTargets`).
    private var indirectTargets: [UInt64] = []

    private init(pc: UInt64) {
        self.pc = pc
        b.function.name = "region_\(String(pc, radix: 16))"
        slots.append(Slot(0))
        for n in 1..<32 {
            slots.append(b.declareSlot("x\(n)", .i64, offset: 8 * (HartState.Slot.x + n)))
        }
    }

    /// Instructions of `instructions` the region covers: up to the first it does not model, or
    /// through the first transfer.
    static func covered(_ instructions: [Instruction]) -> Int {
        var n = 0
        for i in instructions {
            guard isModelled(i) else { break }
            n += 1
            if i.endsBlock { break }
        }
        return n
    }

    private mutating func build(_ blocks: [GuestBlock]) -> Region? {
        guard let first = blocks[0].instructions.first, Self.isModelled(first) else { return nil }
        let budget = b.declareHelper(Tier2Backend.budgetHelper, params: [.i64], result: nil, effects: [.canFault])
        // The entry jumps to the first block (a loop's header), which edges may enter again.
        var irBlocks: [Block] = []
        for block in blocks {
            let ir = b.appendBlock()
            irBlocks.append(ir)
            if heads[block.pc] == nil { heads[block.pc] = ir }
        }
        b.jump(irBlocks[0])
        for block in blocks {
            let count = Self.covered(block.instructions)
            guard count > 0 else { continue }
            let last = block.instructions[count - 1]
            let offset = block.instructions.prefix(count).reduce(UInt64(0)) { $0 + UInt64($1.length) }
            if last.opcode == .jal || last.opcode == .jalr, last.rd != 0, heads[block.pc &+ offset] != nil,
                !returnSites.contains(block.pc &+ offset)
            {
                returnSites.append(block.pc &+ offset)
            }
        }
        var pcs: [UInt64] = []
        var refunds: [Int] = []
        for (block, ir) in zip(blocks, irBlocks) {
            b.switchTo(ir)
            values = Array(filled: nil, count: 32)
            forgetFloatValues()
            // Each block starts by taking its instructions from the budget (at every entry):
            // with too little left, it leaves before running any, with the state at its head.
            let count = Self.covered(block.instructions)
            guard count > 0 else {
                // A block that starts with what the IR does not model: edges to it leave.
                b.exit(ExitState(pc: RivetIR.GuestAddress(block.pc)))
                continue
            }
            _ = b.call(budget, [constant(UInt64(count))], exit: ExitState(pc: RivetIR.GuestAddress(block.pc)))
            var address = block.pc
            var transferred = false
            // Where a silent compare is (`silentCompare(in:at:)`): its frflags, compare and fsflags.
            var silentAt: Int? = nil
            for (k, i) in block.instructions.prefix(count).enumerated() {
                pcs.append(address)
                refunds.append(count - k)
                let next = address &+ UInt64(i.length)
                if silentAt == nil, k + 2 < count,
                    Self.isSilentCompare(i, block.instructions[k + 1], block.instructions[k + 2])
                {
                    silentAt = k
                }
                if let start = silentAt, k - start < 3 {
                    switch k - start {
                    case 0: peekFlags(i)
                    case 1: silentCompare(i)
                    default: silentAt = nil  // fsflags: the flags are as before the compare
                    }
                    address = next
                    continue
                }
                if emit(i, at: address, next: next) {
                    transferred = true
                    break
                }
                address = next
            }
            // Stopped before an instruction it does not model, or fell off the block's end:
            // go on at that pc.
            if !transferred { goto(address) }
        }
        return Region(
            function: b.function, instructions: Self.covered(blocks[0].instructions), isLoop: loops, pcs: pcs,
            refunds: refunds)
    }

    /// Ends the current IR block with a transfer to guest `target`: an edge to the region's
    /// block there, or an exit.
    private mutating func goto(_ target: UInt64) {
        if let head = heads[target] {
            loops = true
            b.jump(head)
        } else {
            b.exit(ExitState(pc: RivetIR.GuestAddress(target)))
        }
    }

    /// A return to `target`: to the continuation of one of the region's calls, compared in turn,
    /// or out of the region. (Where the call is in the region, state forwarding makes the link
    /// register a constant and constant folding takes the one way.)
    private mutating func returnInside(_ target: Value) {
        jumpInside(target, to: returnSites)
    }

    /// A transfer to `target`: to the region's block at one of `sites` when it is there (each
    /// compared in turn), else out of the region by the jump cache. Always correct: going on at
    /// the region's block at pc X is going on at X.
    private mutating func jumpInside(_ target: Value, to sites: [UInt64]) {
        for site in sites {
            guard let head = heads[site] else { continue }
            let next = b.appendBlock()
            b.brif(b.icmp(.eq, target, constant(site)), head, [], next, [])
            b.switchTo(next)
            loops = true
        }
        b.exitIndirect(target)
    }

    /// Whether `i` is a return: `jalr x0` through a link register (`ra` or `t0`, as the ISA's
    /// hints for the return-address stack say).
    static func isReturn(_ i: Instruction) -> Bool {
        i.opcode == .jalr && i.rd == 0 && (i.rs1 == 1 || i.rs1 == 5)
    }

    /// The IR block to branch to for guest `target`: the region's block there, or a new block
    /// that exits to it.
    private mutating func destination(_ target: UInt64) -> Block {
        if let head = heads[target] {
            loops = true
            return head
        }
        let current = b.current
        let exit = b.appendBlock()
        b.switchTo(exit)
        b.exit(ExitState(pc: RivetIR.GuestAddress(target)))
        b.switchTo(current)
        return exit
    }

    // MARK: Registers

    mutating func read(_ r: UInt8) -> Value {
        if r == 0 { return b.iconst(UInt64(0)) }
        if let v = values[Int(r)] { return v }
        let v = b.getSlot(slots[Int(r)])
        values[Int(r)] = v
        return v
    }

    mutating func write(_ r: UInt8, _ v: Value) {
        guard r != 0 else { return }
        b.setSlot(slots[Int(r)], v)
        values[Int(r)] = v
    }

    mutating func constant(_ v: UInt64) -> Value { b.iconst(v) }
    mutating func constant(_ v: Int64) -> Value { b.iconst(v) }

    mutating func binary(_ op: IROpcode, _ x: Value, _ y: Value) -> Value { b.binary(op, x, y) }
    mutating func unary(_ op: IROpcode, _ x: Value) -> Value { b.unary(op, x) }

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
        case .flw, .fsw, .fld, .fsd, .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fadd_d, .fsub_d, .fmul_d,
            .fdiv_d, .fsqrt_d, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmv_x_w, .fmv_w_x,
            .fmv_x_d, .fmv_d_x, .feq_s, .flt_s, .fle_s, .feq_d, .flt_d, .fle_d, .csrrw, .csrrs, .csrrc, .csrrwi,
            .csrrsi, .csrrci, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d,
            .fcvt_w_s, .fcvt_l_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_d, .fcvt_d_s, .fcvt_w_d, .fcvt_l_d,
            .fcvt_d_w, .fcvt_d_wu, .fcvt_d_l, .fmin_s, .fmax_s, .fmin_d, .fmax_d, .fclass_s, .fclass_d:
            return isModelledFloat(i)
        case .illegal, .fence, .ecall, .ebreak, .fence_i,       .lr_w,
            .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w,
            .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d,
            .amominu_d, .amomaxu_d,       
            .fcvt_wu_s, .fcvt_lu_s, .fcvt_s_lu, .fcvt_wu_d, .fcvt_lu_d,    .fcvt_d_lu, .rolw, .roriw, .rorw, .orc_b,
            .cbo_clean, .cbo_flush, .cbo_inval, .cbo_zero, .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s,
            .fleq_s, .fltq_s, .fli_d, .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
            return false
        }
    }

    /// Emits `i` (at `pc`, followed by `next`); returns true if it ended the region (a
    /// transfer).
    private mutating func emit(_ i: Instruction, at pc: UInt64, next: UInt64) -> Bool {
        let here = ExitState(pc: RivetIR.GuestAddress(pc))
        switch i.opcode {
        // Control transfer.
        case .jal:
            write(i.rd, constant(next))
            goto(pc &+ UInt64(bitPattern: i.imm))
            return true
        case .jalr:
            let target = binary(.band, binary(.iadd, read(i.rs1), constant(i.imm)), constant(Int64(-2)))
            write(i.rd, constant(next))
            if Self.isReturn(i) { returnInside(target) } else { jumpInside(target, to: indirectTargets) }
            return true
        case .beq: branch(i, .eq, pc, next)
        case .bne: branch(i, .ne, pc, next)
        case .blt: branch(i, .slt, pc, next)
        case .bge: branch(i, .sge, pc, next)
        case .bltu: branch(i, .ult, pc, next)
        case .bgeu: branch(i, .uge, pc, next)

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

        // F and D (RegionFrontend+Float.swift).
        case .flw, .fsw, .fld, .fsd, .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fadd_d, .fsub_d, .fmul_d,
            .fdiv_d, .fsqrt_d, .fsgnj_s, .fsgnjn_s, .fsgnjx_s, .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmv_x_w, .fmv_w_x,
            .fmv_x_d, .fmv_d_x, .feq_s, .flt_s, .fle_s, .feq_d, .flt_d, .fle_d, .csrrw, .csrrs, .csrrc, .csrrwi,
            .csrrsi, .csrrci, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d,
            .fcvt_w_s, .fcvt_l_s, .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_s_d, .fcvt_d_s, .fcvt_w_d, .fcvt_l_d,
            .fcvt_d_w, .fcvt_d_wu, .fcvt_d_l, .fmin_s, .fmax_s, .fmin_d, .fmax_d, .fclass_s, .fclass_d:
            emitFloat(i, here)

        case .illegal, .fence, .ecall, .ebreak, .fence_i,       .lr_w,
            .sc_w, .amoswap_w, .amoadd_w, .amoxor_w, .amoand_w, .amoor_w, .amomin_w, .amomax_w, .amominu_w,
            .amomaxu_w, .lr_d, .sc_d, .amoswap_d, .amoadd_d, .amoxor_d, .amoand_d, .amoor_d, .amomin_d, .amomax_d,
            .amominu_d, .amomaxu_d,       
            .fcvt_wu_s, .fcvt_lu_s, .fcvt_s_lu, .fcvt_wu_d, .fcvt_lu_d,    .fcvt_d_lu, .rolw, .roriw, .rorw, .orc_b,
            .cbo_clean, .cbo_flush, .cbo_inval, .cbo_zero, .fli_s, .fminm_s, .fmaxm_s, .fround_s, .froundnx_s,
            .fleq_s, .fltq_s, .fli_d, .fminm_d, .fmaxm_d, .fround_d, .froundnx_d, .fleq_d, .fltq_d, .fcvtmod_w_d:
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

    /// A conditional branch: to its destination or the next instruction, each an edge to a
    /// block of the region or an exit.
    private mutating func branch(_ i: Instruction, _ cond: IntCondition, _ pc: UInt64, _ next: UInt64) {
        let c = b.icmp(cond, read(i.rs1), read(i.rs2))
        let taken = destination(pc &+ UInt64(bitPattern: i.imm))
        let notTaken = destination(next)
        b.brif(c, taken, [], notTaken, [])
    }
}
