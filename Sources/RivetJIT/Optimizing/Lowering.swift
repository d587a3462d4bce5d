import CRivetHost
import RivetIR
import RivetMachine
import RivetX64

// Tier 2's x86-64 backend: a compacted, verified RivetIR function to host code, after linear
// scan (LinearScan.swift). This file holds the frame, the control flow (blocks, parallel moves
// on edges, exits, fault stubs); Lowering+Instructions.swift lowers the other instructions.
//
// The code follows tier 1's convention (JITRuntime.swift), so that the engine enters, chains
// and leaves it as it does a baseline block:
// - it is jumped to (from the entry trampoline or another translation) with the pinned
//   registers set: `rbx` the hart's slots, `r15` guest address 0, `r12` the budget, `r13` the
//   execution counters, `r14` the jump cache; `r13` and `r14` are reloaded from the hart's
//   slots before a jump to other code, so they hold values meanwhile;
// - values live in `rsi rdi r8 r9 r10 r11 rbp r13 r14`, float values (f32, f64) in `xmm3`...`xmm15`;
//   `rax`, `rcx`, `rdx` and `xmm0`...`xmm2` are scratch (`rdx:rax` for mul/div, `cl` for
//   shifts, `rcx` or `xmm0` breaks cycles of parallel moves); spilled values live in the
//   hart's spill slots (`HartState.Slot.spill`), so the code has no frame and a fault's
//   recovery finds every value in the registers saved at the fault (general and XMM) or in
//   the slots;
// - it leaves as tier 1 does, `rax` = `ExitKind | index << 8 | id << 32` and a jump to the common
//   exit: `chain` (a patchable jump, linked by the engine to the target's code), `indirect`
//   (after a miss in the jump cache, the pc in its slot; exits past the first two to constant
//   pcs probe the jump cache too), `boundsFault` (index: the faulting guest instruction, whose
//   pc is also stored), `budget` (a block's budget check found too little; nothing of the
//   block ran; its pc is stored). Exit-state entries are written to
//   their slots before any exit, and the instructions run since entry
//   (`tier2Entry - budget`) are added to the translation's counter.
// - The budget is the intrinsic helper `budget(n)`: `sub r12, n`, checked (`jb` to its exit) only
//   at the entry and at loop heads, for the most instructions until the next check
//   (`Tier2Backend.budgetPlan`).
// No calls are made: the caller-saved registers are free for values. Nothing is executed after
// a fault but the stub, so a store faults before any byte is written.

/// Tier 2's x86-64 backend.
public enum Tier2Backend {
    /// The byte offset of the pc in the state struct.
    public static let pcOffset = 8 * HartState.Slot.pc
    /// The intrinsic helper that takes its argument (a constant) from the budget, or leaves by
    /// its exit state if the budget is smaller (`ExitKind.budget`).
    public static let budgetHelper = "budget"
    /// The intrinsic that returns the float exception flags raised since the region's entry or
    /// its last call (MXCSR's, as RISC-V's `fflags` bits) and clears them.
    public static let flagsHelper = "fpflags"
    /// The flags raised since the region's entry or the last `fpflags`, as RISC-V's, left in
    /// the host (an intrinsic that only reads: unused, it goes).
    public static let peekFlagsHelper = "fpflags_peek"

    /// Entries of the counter table tier-2 code writes (`HartState.Slot.counters`): by
    /// translation id its instructions, then from `counterTableEntries / 2` on its exits. A
    /// caller that runs tier-2 code outside the engine must give it a table this long.
    public static let counterTableEntries = TranslationCache.counterEntries

    /// Registers values may live in (neither pinned nor scratch), in order of preference.
    /// `r13` and `r14` (tier 1's counters and jump cache) are free inside tier-2 code: it
    /// reloads them from the hart's slots before it jumps to other code.
    public static let allocatable: [HostRegister] = [.rsi, .rdi, .r8, .r9, .r10, .r11, .rbp, .r13, .r14]

    /// XMM registers float values may live in (`xmm0`...`xmm2` are scratch: `ffma` takes three
    /// operands). Nothing is called from tier-2 code, so all are free.
    public static let allocatableFloat: [XMMRegister] = [
        .xmm3, .xmm4, .xmm5, .xmm6, .xmm7, .xmm8, .xmm9, .xmm10, .xmm11, .xmm12, .xmm13, .xmm14, .xmm15,
    ]

    /// Where a value of an exit state is at a fault: what the engine reads to rebuild it.
    public enum Recovery: Sendable, Equatable {
        /// In a host register (its number), saved by the fault handler.
        case register(UInt8)
        /// In a host XMM register (its number): its low 64 bits, saved by the fault handler,
        /// in the form given.
        case xmm(UInt8, Form)
        /// In a hart slot (a spill slot), in the form given.
        case slot(Int, Form)
        /// A constant.
        case constant(UInt64)
    }

    /// How the saved 64 bits of a value give the slot's bits.
    public enum Form: Sendable, Equatable {
        /// As they are.
        case bits
        /// A single's: the low 32 bits, NaN-boxed (`ExitEntry`).
        case boxedSingle
        /// A double computed without its NaN check (`Lowering.uncheckedNaNs`): a NaN becomes the
        /// canonical NaN.
        case uncheckedDouble
        /// A single computed without its NaN check, NaN-boxed.
        case uncheckedSingle

        /// The slot's bits for the saved `bits`.
        public func apply(_ bits: UInt64) -> UInt64 {
            switch self {
            case .bits: return bits
            case .boxedSingle: return bits | Tier2Backend.singleBox
            case .uncheckedDouble:
                return bits & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000 ? canonicalNaN64 : bits
            case .uncheckedSingle:
                let single = bits & 0x7fff_ffff > 0x7f80_0000 ? canonicalNaN32 : bits & 0xffff_ffff
                return single | Tier2Backend.singleBox
            }
        }
    }

    /// A guest access that may fault on the host (a page without the permission), or whose
    /// address lies outside the address space (its bounds check leaves with `boundsFault` and
    /// the site's number): at host offset `hostOffset` (the access instruction's first byte),
    /// guest instruction `index` of the region at `pc`; the guest state there is the struct
    /// overwritten by `entries`.
    public struct FaultSite: Sendable {
        public var hostOffset: Int
        public var index: Int
        public var pc: UInt64
        public var entries: [(slot: Int, value: Recovery)]
        /// Instructions taken from the budget ahead, for guest blocks after the access in its IR
        /// block (`BudgetPlan.takes`): a fault there gives them back too.
        public var prepaid: Int = 0
    }

    /// The guest state at fault site `site` after a host fault or a bounds fault: the struct
    /// overwritten by the site's entries, each in a saved host register
    /// (`HartState.Slot.faultRegisters`, where the host fault handler and the shared
    /// bounds-fault code save them), a spill slot or a constant; and, for code that `accruesFlags`,
    /// the float flags raised before the access (MXCSR as saved there), as its exits accrue them.
    public static func rebuildState(at site: FaultSite, accruesFlags: Bool, _ slots: UnsafeMutablePointer<UInt64>) {
        var values: [(slot: Int, bits: UInt64)] = []
        for (slot, value) in site.entries {
            switch value {
            case .register(let n): values.append((slot, slots[HartState.Slot.faultRegisters + Int(n)]))
            case .xmm(let n, let form): values.append((slot, form.apply(slots[HartState.Slot.faultXMMRegisters + Int(n)])))
            case .slot(let k, let form): values.append((slot, form.apply(slots[k])))
            case .constant(let bits): values.append((slot, bits))
            }
        }
        for (slot, bits) in values { slots[slot] = bits }
        if accruesFlags { slots[HartState.Slot.fcsr] |= riscvFlags(mxcsr: slots[HartState.Slot.mxcsr]) }
    }

    /// A single's NaN-box: the upper 32 bits of a 64-bit register holding it.
    static let singleBox: UInt64 = 0xffff_ffff_0000_0000

    /// Machine code for one function, not yet placed.
    public struct Code: ~Copyable {
        /// The assembler holding the code (`finish()` done): place it with `copy(to:address:)`.
        public var assembler: X64Assembler
        /// The allocation the code follows (its values are those of `function.compacted()`).
        public var allocation: RegisterAllocation
        /// Bytes of the stubs (after the body; part of `count`).
        public var stubBytes: Int
        /// Patchable exits to constant pcs (at most `maxChainedExits`), in exit-index order.
        public var exits: [ExitSite]
        /// Every guest access, by host offset.
        public var faultSites: [FaultSite]
        /// Whether the code runs float operations whose exception flags it accrues into
        /// `fflags` at its exits (`Tier2Backend.accruesFlags`): a fault inside it must accrue
        /// those the fault handler saved (`HartState.Slot.mxcsr`).
        public var accruesFlags: Bool
        /// The most its budget checks need (`BudgetPlan.entryBudget`).
        public var entryBudget: Int
        /// Bytes of code.
        public var count: Int { assembler.count }
    }

    /// Exits to constant pcs that get patchable jumps (a translation keeps two); more leave
    /// through the run loop as indirect exits.
    static let maxChainedExits = 2

    /// Compiles `function` (verified; compacted here) to x86-64 for translation `id`, or nil if
    /// it uses what this backend does not lower yet (`ffma` without FMA3, helper calls other
    /// than the intrinsics `budget` and `fpflags`) or needs more spill slots than the hart has.
    /// `instructionIndex` maps the guest pcs of the region's instructions to their indexes (exit
    /// codes and fault sites name the instruction by index).
    /// `avx512` says whether the code may use AVX-512 (`fcmp_silent` with {sae}); tests give
    /// false for the code of hosts without it.
    public static func compile(
        _ function: Function, id: Int = 0, instructionIndex: [UInt64: Int] = [:], avx512: Bool = hostHasAVX512
    ) -> Code? {
        var f = function.compacted()
        guard isSupported(f) else { return nil }
        let uses = useCounts(f)
        sinkCompares(&f, uses: uses)
        let immediates = immediateConstants(f, uses: uses)
        let folded = foldedAddresses(f, immediates: immediates, uses: uses)
        let scaled = scaledAdditions(f, immediates: immediates, uses: uses)
        let entryReads = entrySlotArguments(f, uses: uses)
        var unallocated = zip(immediates, folded).map { $0 || $1 != nil }
        for case let (base: _, index: _, scale: _, shift: shift)? in scaled { unallocated[shift.id] = true }
        for (v, read) in entryReads.enumerated() where read { unallocated[v] = true }
        // One graph for the allocator and the budget plan: `f` no longer changes.
        let cfg = ControlFlowGraph(f)
        let allocation = LinearScan.allocate(
            f, registers: allocatable, floatRegisters: allocatableFloat, unallocated: unallocated, homes: homes(f),
            cfg: cfg)
        guard allocation.spillSlots <= HartState.Slot.spillCount else { return nil }
        let budget = budgetPlan(f, cfg: cfg)
        var lowering = Lowering(
            f, allocation, uses: uses, immediates: immediates, folded: folded, scaled: scaled,
            entryReads: entryReads, id: id, instructionIndex: instructionIndex, budgetChecks: budget.checks,
            budgetTakes: budget.takes, budgetEntryPrepaid: budget.entryPrepaid, budgetEntryRefunds: budget.entryRefunds,
            dominators: DominatorTree(cfg))
        lowering.usesAVX512 = avx512
        lowering.emitFunction()
        let stubBytes = lowering.stubBytes
        let sites = lowering.faultSites
        let exitJumps = lowering.exitJumps
        let accrues = lowering.accruesFlags
        guard let assembler = lowering.finish() else { return nil }
        let exits = exitJumps.map {
            ExitSite(target: $0.target, patchOffset: $0.jump.displacementOffset, stubOffset: assembler.offset(of: $0.stub)!)
        }
        return Code(
            assembler: assembler, allocation: allocation, stubBytes: stubBytes, exits: exits, faultSites: sites,
            accruesFlags: accrues, entryBudget: budget.entryBudget)
    }

    /// Moves each `icmp` whose one use is a later integer `select` or the `brif` of its block
    /// to right before that use, where the lowering fuses the two (`cmp; cmovCC`, `cmp; jCC`)
    /// instead of making a boolean and testing it. The frontend makes compares in groups
    /// (`fclass`: three compares, then the selects they choose between), and passes move
    /// instructions about. A compare is pure and its operands are defined before it, so it
    /// can go anywhere later in its block; they live a little longer, its result not at all.
    /// (`uses`: `useCounts(f)`, which moving instructions within a block does not change.)
    static func sinkCompares(_ f: inout Function, uses: [Int]) {
        for b in f.layout {
            var insts = f.blocks[b.id].insts
            var moved = false
            var k = insts.count - 1
            while k >= 0 {
                let compare = insts[k]
                k -= 1
                guard f.insts[compare.id].opcode == .icmp, let condition = f.insts[compare.id].result,
                    uses[condition.id] == 1
                else { continue }
                // Its one use, later in the block.
                guard let user = insts[(k + 2)...].firstIndex(where: { inst in f.args(inst).contains(condition) })
                else { continue }
                let data = f.insts[insts[user].id]
                let fusable: Bool
                switch data.opcode {
                case .select:
                    let type = f.type(f.result(insts[user]))
                    fusable = f.arg(insts[user], 0) == condition && type != .f32 && type != .f64
                case .brif: fusable = true
                default: fusable = false
                }
                guard fusable, user != k + 2 else { continue }
                insts.remove(at: k + 1)
                insts.insert(compare, at: user - 1)
                moved = true
            }
            if moved { f.blocks[b.id].insts = insts }
        }
    }

    /// By value: how many operands, block arguments and exit-state entries read it.
    public static func useCounts(_ f: Function) -> [Int] {
        var uses = [Int](filled: 0, count: f.values.count)
        for b in f.layout { for inst in f.blocks[b.id].insts { f.forEachUse(inst) { uses[$0.id] += 1 } } }
        return uses
    }

    /// By value: a `get_slot` of the entry block whose every use is an argument of the entry
    /// block's jump (a register a loop carries, read at entry): it gets no register or slot,
    /// and the jump loads the slot straight into the parameter's place. Materialized in the
    /// entry block, every such value was live there at once: a region reading 23 registers
    /// spilled 14 of them (a load and a store each) and then moved them all again into the
    /// loop's parameters, 75 instructions per entry for loops left every 20-50 instructions.
    /// The entry block writes no slot (a prologue), so the slot still holds the value.
    static func entrySlotArguments(_ f: Function, uses: [Int]) -> [Bool] {
        var reads = [Bool](filled: false, count: f.values.count)
        guard let jump = f.terminator(f.entry), f.insts[jump.id].opcode == .jump,
            !f.blocks[f.entry.id].insts.contains(where: { f.insts[$0.id].opcode == .setSlot })
        else { return reads }
        var argumentUses = [Int](filled: 0, count: f.values.count)
        for v in f.list(f.insts[jump.id].destination0.args) { argumentUses[v.id] += 1 }
        for inst in f.blocks[f.entry.id].insts where f.insts[inst.id].opcode == .getSlot {
            let v = f.result(inst)
            if f.type(v) == .i64, uses[v.id] > 0, argumentUses[v.id] == uses[v.id] { reads[v.id] = true }
        }
        return reads
    }

    /// By value: the slot a spilled value may live in instead of a spill slot (its home,
    /// `ValueLocation.home`): that of every exit-state entry naming the value, if it is one
    /// slot, of type i64, and the value is an i64. Only a slot that every exit state of `f`
    /// names (every way out writes it or finds its value there), that no `set_slot` writes
    /// and that only the entry block reads (nothing reads the slot while a home value is in
    /// it but an exit or a fault, through the exit state) is a home. A loop that carries a
    /// guest register only for its exits (zlib's longest_match carries three) then keeps it
    /// in the guest's own slot: a store where it changes, no register, nothing to write when
    /// it leaves. The entry block's `get_slot` of a slot no `set_slot` writes has that slot as
    /// its home even if not every exit names it: a spilled invariant is not copied from the
    /// guest's slot to a spill slot at every entry (zlib's loop copied four).
    static func homes(_ f: Function) -> [Int?] {
        var homes = [Int?](filled: nil, count: f.values.count)
        var named = [Int](filled: 0, count: f.slots.count)  // exit states naming the slot
        var usable = f.slots.map { $0.type == .i64 }
        var leaving = 0  // instructions that may leave
        var state = [Int](filled: -1, count: f.values.count)  // the one slot, or -2
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                switch data.opcode {
                case .setSlot: usable[Int(data.imm)] = false
                case .getSlot where b != f.entry: usable[Int(data.imm)] = false
                default: break
                }
                if let exit = f.exitState(inst) {
                    leaving += 1
                    for entry in exit.entries {
                        named[entry.slot.id] += 1
                        let v = entry.value.id
                        state[v] = state[v] == -1 || state[v] == entry.slot.id ? entry.slot.id : -2
                    }
                } else if data.opcode == .exit || data.opcode == .exitIndirect || data.opcode == .call
                    || data.opcode.info.effects.contains(.canFault)
                {
                    return homes  // a way out without an exit state: no home is safe
                }
            }
        }
        for v in f.values.indices where f.type(Value(v)) == .i64 {
            guard case .inst(let def) = f.values[v].def, f.insts[def.id].block == f.entry else {
                if state[v] >= 0, usable[state[v]], named[state[v]] == leaving { homes[v] = state[v] }
                continue
            }
            // The entry block's read of a slot (of a guest register the region may never
            // change: an invariant) is in the slot already, and stays there while no other value
            // goes home to it, which takes every exit naming the slot. No other value the entry
            // block makes goes home: it could before a `get_slot` there reads the slot.
            if f.insts[def.id].opcode == .getSlot, case let slot = Int(f.insts[def.id].imm), usable[slot],
                state[v] == -1 || state[v] == slot
            {
                homes[v] = slot
            }
        }
        return homes
    }

    /// By value: an `iconst` that gets no register or slot, rematerialized at each use: every
    /// use is one the lowering takes a constant for (an immediate, or a `mov` of it into the
    /// register the instruction computes in, a block argument's place or an exit state's slot).
    /// A constant kept in a register across a loop takes one from the guest's values (alu's
    /// Collatz loop kept 0, 1 and 5 in three, and shifted by `cl`). Where it must be an
    /// instruction's immediate (the second operand of `iadd isub band bor bxor icmp`), it
    /// fits a sign-extended imm32.
    public static func immediateConstants(_ f: Function, uses: [Int]) -> [Bool] {
        var constantUses = [Int](filled: 0, count: f.values.count)
        var asImmediate = [Bool](filled: false, count: f.values.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                switch data.opcode {
                case .iadd, .isub, .band, .bor, .bxor, .icmp:
                    // The first operand is loaded into the register the result computes in.
                    constantUses[f.arg(inst, 0).id] += 1
                    constantUses[f.arg(inst, 1).id] += 1
                    asImmediate[f.arg(inst, 1).id] = true
                case .shl, .ushr, .sshr, .rotl, .rotr:
                    constantUses[f.arg(inst, 0).id] += 1
                    constantUses[f.arg(inst, 1).id] += 1  // a count, taken mod 64
                case .sext8, .sext16, .sext32, .zext8, .zext16, .zext32, .bnot, .ineg, .setSlot, .exitIndirect:
                    constantUses[f.arg(inst, 0).id] += 1
                case .store8, .store16, .store32, .store64:
                    constantUses[f.arg(inst, 1).id] += 1  // the value, through a register
                case .select:
                    // The values: a `mov` into rax (the false one) or rcx (the true one).
                    constantUses[f.arg(inst, 1).id] += 1
                    constantUses[f.arg(inst, 2).id] += 1
                case .call where isBudget(f, inst):
                    constantUses[f.arg(inst, 0).id] += 1
                case .jump, .brif:
                    // Block arguments: a move of the constant into the parameter's place.
                    for v in f.list(data.destination0.args) { constantUses[v.id] += 1 }
                    if data.opcode == .brif { for v in f.list(data.destination1.args) { constantUses[v.id] += 1 } }
                case .iconst, .bconst, .f32const, .f64const, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv, .srem,
                    .urem, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .bint, .fadd, .fsub, .fmul, .fdiv, .fsqrt,
                    .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .bitcast, .f32FromBits, .f32ToBits, .sitof, .ftosi32,
                    .ftosi64, .fpromote, .fdemote, .getSlot, .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32,
                    .sload32, .loadF32, .loadF64, .storeF32, .storeF64, .call, .exit, .trap:
                    break
                }
                // Exit states: the engine rebuilds a constant from the fault site's record.
                if let state = f.exitState(inst) { for entry in state.entries { constantUses[entry.value.id] += 1 } }
            }
        }
        var out = [Bool](filled: false, count: f.values.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .iconst {
                let v = f.result(inst), bits = Int64(bitPattern: f.insts[inst.id].imm)
                out[v.id] = uses[v.id] > 0 && uses[v.id] == constantUses[v.id]
                    && (!asImmediate[v.id] || Int64(Int32(truncatingIfNeeded: bits)) == bits)
            }
        }
        return out
    }

    /// By value: an address `base + constant` (an `iadd` whose second operand is an immediate)
    /// used only as the address of the load or store right after it: the access computes it
    /// with `lea` from the base (which is live up to the `iadd`, so no value defined in
    /// between can take its register). It gets no register and is not emitted alone.
    static func foldedAddresses(_ f: Function, immediates: [Bool], uses: [Int]) -> [(base: Value, offset: Int32)?] {
        var out = [(base: Value, offset: Int32)?](filled: nil, count: f.values.count)
        for b in f.layout {
            let insts = f.blocks[b.id].insts
            for (previous, inst) in zip(insts, insts.dropFirst()) {
                guard f.insts[previous.id].opcode == .iadd, immediates[f.arg(previous, 1).id],
                    f.insts[inst.id].opcode.info.format == .load || f.insts[inst.id].opcode.info.format == .store
                else { continue }
                let address = f.result(previous)
                guard f.arg(inst, 0) == address, uses[address.id] == 1,
                    case .inst(let def) = f.values[f.arg(previous, 1).id].def
                else { continue }
                out[address.id] = (f.arg(previous, 0), Int32(truncatingIfNeeded: Int64(bitPattern: f.insts[def.id].imm)))
            }
        }
        return out
    }

    /// By value: an `iadd` of a value and another shifted left by 1, 2 or 3 (`a + (x << k)`,
    /// either order), whose shift has no other use. The addition is one
    /// `lea d, [a + x * 2^k]`; the shift gets no register and is not emitted. `x` must still be
    /// live at the `iadd` (its register then holds it): the shift comes right before the `iadd`,
    /// or `x` is an operand of the `iadd` or of an instruction after it in the block.
    public static func scaledAdditions(_ f: Function, immediates: [Bool], uses: [Int])
        -> [(base: Value, index: Value, scale: X64Scale, shift: Value)?]
    {
        var out = [(base: Value, index: Value, scale: X64Scale, shift: Value)?](filled: nil, count: f.values.count)
        var position = [Int](filled: -1, count: f.insts.count)  // by instruction: its index in its block
        for b in f.layout { for (k, inst) in f.blocks[b.id].insts.enumerated() { position[inst.id] = k } }
        for b in f.layout {
            let insts = f.blocks[b.id].insts
            for (k, inst) in insts.enumerated() where f.insts[inst.id].opcode == .iadd {
                for (shifted, other) in [(f.arg(inst, 1), f.arg(inst, 0)), (f.arg(inst, 0), f.arg(inst, 1))] {
                    guard !immediates[other.id], uses[shifted.id] == 1, case .inst(let shift) = f.values[shifted.id].def,
                        f.insts[shift.id].opcode == .shl, f.insts[shift.id].block == b, case let at = position[shift.id], at < k,
                        immediates[f.arg(shift, 1).id], case .inst(let count) = f.values[f.arg(shift, 1).id].def,
                        let scale = X64Scale(rawValue: UInt8(truncatingIfNeeded: f.insts[count.id].imm & 63)),
                        scale != .x1
                    else { continue }
                    let x = f.arg(shift, 0)
                    var live = at == k - 1 || x == other
                    for later in insts[k...] where !live { f.forEachUse(later) { if $0 == x { live = true } } }
                    guard live else { continue }
                    out[f.result(inst).id] = (other, x, scale, shifted)
                    break
                }
            }
        }
        return out
    }

    /// Whether every instruction and value of `f` is in the lowered subset.
    static func isSupported(_ f: Function) -> Bool {
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                switch f.insts[inst.id].opcode {
                case .iconst, .bconst, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv, .srem, .urem,
                    .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32,
                    .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .icmp, .select, .bint,
                    .getSlot, .setSlot, .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .store8,
                    .store16, .store32, .store64, .jump, .brif, .exit, .exitIndirect, .f32const, .f64const, .fadd,
                    .fsub, .fmul, .fdiv, .fsqrt, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .bitcast, .f32FromBits, .f32ToBits,
                    .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .loadF32, .loadF64, .storeF32, .storeF64:
                    continue
                case .call:
                    guard isBudget(f, inst) || isFlags(f, inst) || isPeekFlags(f, inst) || isNaNBoxedGuard(f, inst) else {
                        return false
                    }
                case .ffma:
                    // One rounding needs FMA3; without it, regions stop before fused multiply-adds.
                    guard hostHasFMA else { return false }
                case .trap:
                    // Unreachable code has no guest instruction to name at an exit.
                    return false
                }
            }
        }
        return true
    }

    /// Whether `f` runs float operations that raise IEEE flags: its code then clears MXCSR's
    /// flags at entry, accrues them into `fflags` at every exit, and runs only when `frm` is
    /// `rne` (the IR's floats round to nearest; a guard at entry leaves with `guardFailed`).
    static func accruesFlags(_ f: Function) -> Bool {
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.effects(inst).contains(.raisesFPFlags) { return true }
        }
        return false
    }

    /// MXCSR's exception flags (bits 0-5: invalid, denormal, divide by zero, overflow,
    /// underflow, precision) as RISC-V's `fflags` (NV DZ OF UF NX in bits 4-0). x86's denormal
    /// flag has no RISC-V counterpart. Both detect tininess after rounding (Intel SDM vol. 1,
    /// 4.9.1.5; RISC-V unprivileged spec, 11.2), and with every exception masked, underflow is
    /// raised only for an inexact tiny result, as RISC-V's default.
    public static func riscvFlags(mxcsr: UInt64) -> UInt64 {
        (mxcsr >> 5 & 1) | (mxcsr >> 3 & 2) | (mxcsr >> 1 & 4) | (mxcsr << 1 & 8) | (mxcsr << 4 & 16)
    }

    /// MXCSR as tier-2 code runs: every exception masked, round to nearest, no flush to zero,
    /// no flags.
    static let mxcsrAtEntry: Int32 = 0x1f80

    /// Whether the host has FMA3 (`rivet_host_has_fma`).
    public static let hostHasFMA = rivet_host_has_fma() != 0

    /// Whether the host runs AVX-512 code (`rivet_host_has_avx512`): `fcmp_silent` is one
    /// compare then, with {sae}.
    public static let hostHasAVX512 = rivet_host_has_avx512() != 0

    /// Whether `inst` (a `call`) is the float-flags intrinsic.
    static func isFlags(_ f: Function, _ inst: Inst) -> Bool {
        let helper = f.helpers[Int(f.insts[inst.id].imm)]
        return helper.name == flagsHelper && helper.params.isEmpty && helper.result == .i64
            && helper.effects.contains(.raisesFPFlags)
    }

    /// Whether `inst` (a `call`) is the intrinsic that reads the float flags without taking them.
    static func isPeekFlags(_ f: Function, _ inst: Inst) -> Bool {
        let helper = f.helpers[Int(f.insts[inst.id].imm)]
        return helper.name == peekFlagsHelper && helper.params.isEmpty && helper.result == .i64
            && !helper.effects.contains(.raisesFPFlags)
    }

    /// Whether `inst` (a `call`) is `floatforms`' entry guard (`FloatForms.nanBoxedHelper`).
    static func isNaNBoxedGuard(_ f: Function, _ inst: Inst) -> Bool {
        let helper = f.helpers[Int(f.insts[inst.id].imm)]
        return helper.name == FloatForms.nanBoxedHelper && helper.params == [.i64] && helper.result == nil
    }

    /// Where a region checks its budget. Each guest block's `call @budget(n)` takes its `n`
    /// instructions from `r12`, but only the entry block's and those at the head of a loop (the
    /// targets of the edges that go back in reverse postorder, so every cycle passes one) also
    /// check it, and for more than their own `n`: for the most instructions any path takes
    /// from there to the next check or exit. So the budget never goes below zero, nothing
    /// runs past it (a check that finds too little leaves before its block, as before), and a
    /// loop's other blocks only subtract (alu's loops took two to four `sub; jb` a turn). A
    /// check may leave with more than its block needs: the engine then ends the run in the
    /// interpreter (`HartRunner.budgetTail`).
    public struct BudgetPlan {
        /// By instruction id: a budget call's check, the instructions it needs (equal to its
        /// `n`: a plain `sub; jb`), or nil for a call that only subtracts.
        public var checks: [Int32?]
        /// By instruction id: what a budget call takes from the budget, nil for its own `n`.
        /// The first of the calls of an IR block with nothing between them that leaves but
        /// guest accesses takes for all of them (one `sub` where a block ran into another, a
        /// call into its callee), the others 0; a fault between them gives the rest back
        /// (`FaultSite.prepaid`). fp32's relaxation loop took 7 `sub`s a turn, one after the
        /// other on `r12`, now 3.
        public var takes: [Int32?]
        /// The most any check needs: once a check left, a run with less left ends in the
        /// interpreter (`HartRunner.budgetTail`; a check would leave again at once).
        public var entryBudget: Int
        /// By block id: instructions taken ahead for the block's calls when it starts (a
        /// block whose take its one predecessor took, `mergeAcrossBlocks`, or an exit block
        /// beside it, which gives them back).
        public var entryPrepaid: [Int] = []
        /// By block id: what an exit block without a budget call gives back as it starts
        /// (`add r12, n`; empty: none).
        public var entryRefunds: [Int] = []
    }

    /// The region's budget checks: at the entry and at loop heads, or (when a loop head has no
    /// budget call, or a path needs more than 2^30) every call checks its own `n`.
    public static func budgetPlan(_ f: Function, cfg: ControlFlowGraph? = nil) -> BudgetPlan {
        var everyCall = BudgetPlan(
            checks: [Int32?](filled: nil, count: f.insts.count), takes: [Int32?](filled: nil, count: f.insts.count),
            entryBudget: 0)
        var amounts = [Int](filled: 0, count: f.blocks.count)
        var first = [Inst?](filled: nil, count: f.blocks.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .call && isBudget(f, inst) {
                guard case .inst(let def) = f.values[f.arg(inst, 0).id].def else { continue }
                let n = Int(f.insts[def.id].imm)
                everyCall.checks[inst.id] = Int32(n)
                amounts[b.id] += n
                if first[b.id] == nil { first[b.id] = inst }
            }
        }
        guard let entry = f.layout.first else { return everyCall }
        let cfg = cfg ?? ControlFlowGraph(f)
        var heads = [Bool](filled: false, count: f.blocks.count)
        for b in cfg.reversePostorder {
            for s in cfg.successors[b.id] where cfg.rpoIndex[s.id] <= cfg.rpoIndex[b.id] { heads[s.id] = true }
        }
        heads[entry.id] = true
        // `ahead`: the most a path from a block's start takes before a check (0 at a head);
        // `from`: the same, counting the block's own calls even at a head. Successors come
        // first in postorder, except heads, which count 0 here.
        var ahead = [Int](filled: 0, count: f.blocks.count)
        var from = [Int](filled: 0, count: f.blocks.count)
        for b in cfg.reversePostorder.reversed() {
            let next = cfg.successors[b.id].map { heads[$0.id] ? 0 : ahead[$0.id] }.max() ?? 0
            from[b.id] = amounts[b.id] + next
            ahead[b.id] = heads[b.id] ? 0 : from[b.id]
        }
        var plan = BudgetPlan(
            checks: [Int32?](filled: nil, count: f.insts.count), takes: [Int32?](filled: nil, count: f.insts.count),
            entryBudget: 0)
        // By block: the leader still taking at its terminator.
        var leaderAtEnd = [Inst?](filled: nil, count: f.blocks.count)
        for b in f.layout {
            var leader: Inst? = nil
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                if data.opcode == .call, let n = everyCall.checks[inst.id] {
                    if let first = leader {
                        plan.takes[first.id] = (plan.takes[first.id] ?? 0) + n
                        plan.takes[inst.id] = 0
                    } else {
                        leader = inst
                        plan.takes[inst.id] = n
                    }
                } else if data.opcode == .call || f.effects(inst).contains(.isTerminator) {
                    if f.effects(inst).contains(.isTerminator) { leaderAtEnd[b.id] = leader }
                    leader = nil
                }
            }
        }
        for b in cfg.reversePostorder where heads[b.id] {
            if let check = first[b.id] {
                guard from[b.id] < 1 << 30 else { return everyCall }
                plan.checks[check.id] = Int32(from[b.id])
                plan.entryBudget = max(plan.entryBudget, from[b.id])
            } else if from[b.id] != 0 {
                // Budget calls after a head that has none: nothing would check before them.
                return everyCall
            }
        }
        return mergeAcrossBlocks(f, cfg, heads: heads, amounts: everyCall.checks, leaderAtEnd: leaderAtEnd, plan) ?? plan
    }

    /// `plan` with blocks' takes taken by their predecessor's: a block that is not a head,
    /// whose one predecessor ends with a leader still taking (nothing after it leaves but
    /// guest accesses, whose faults give back what was taken ahead) and has no other
    /// successor but exit blocks (one predecessor, an `exit` last, and if it has a budget call,
    /// that call first). The predecessor's leader takes for it, and each exit block gives that
    /// back, by its call or by an `add` as it starts (in code that runs once, when the region
    /// leaves): a loop's turn through blocks that each branch out to an exit takes one `sub`
    /// where it took one a block. A head's check needs the most a path takes to the next
    /// check, which taking earlier on the path does not change. Nil (keep `plan`) if a block
    /// would start with instructions taken ahead but has other predecessors. `amounts`: by
    /// instruction, a budget call's `n` (nil for any other instruction).
    static func mergeAcrossBlocks(
        _ f: Function, _ cfg: ControlFlowGraph, heads: [Bool], amounts: [Int32?], leaderAtEnd: [Inst?],
        _ plan: BudgetPlan
    ) -> BudgetPlan? {
        var plan = plan
        var leaderAtEnd = leaderAtEnd
        func n(_ inst: Inst) -> Int32 { amounts[inst.id]! }
        func leadingCall(_ b: Block) -> Inst? {
            guard let first = f.blocks[b.id].insts.first, amounts[first.id] != nil, plan.checks[first.id] == nil
            else { return nil }
            return first
        }
        func onlyPredecessor(_ b: Block) -> Block? {
            let preds = cfg.predecessors[b.id]
            guard let p = preds.first, preds.allSatisfy({ $0 == p }), p != b, !heads[b.id] else { return nil }
            return p
        }
        func isExitBlock(_ b: Block) -> Bool {
            guard let term = f.terminator(b) else { return false }
            let op = f.insts[term.id].opcode
            guard (op == .exit || op == .exitIndirect) && onlyPredecessor(b) != nil else { return false }
            return leadingCall(b) != nil || !f.blocks[b.id].insts.contains { amounts[$0.id] != nil }
        }
        var refunds = [Bool](filled: false, count: f.blocks.count)
        var merged = false
        for b in cfg.reversePostorder {
            guard let p = onlyPredecessor(b), let first = leadingCall(b), !isExitBlock(b), let leader = leaderAtEnd[p.id]
            else { continue }
            let others = cfg.successors[p.id].filter { $0 != b }
            guard others.allSatisfy(isExitBlock) else { continue }
            plan.takes[leader.id] = (plan.takes[leader.id] ?? n(leader)) + (plan.takes[first.id] ?? n(first))
            plan.takes[first.id] = 0
            if leaderAtEnd[b.id] == first { leaderAtEnd[b.id] = leader }
            for e in others { refunds[e.id] = true }
            merged = true
        }
        guard merged else { return nil }
        // What each block starts with taken ahead; an exit block gives it back at its first call.
        plan.entryPrepaid = [Int](filled: 0, count: f.blocks.count)
        plan.entryRefunds = plan.entryPrepaid
        for b in cfg.reversePostorder {
            var prepaid = plan.entryPrepaid[b.id]
            if refunds[b.id], leadingCall(b) == nil {
                plan.entryRefunds[b.id] = prepaid
                prepaid = 0
            }
            for inst in f.blocks[b.id].insts where amounts[inst.id] != nil {
                if refunds[b.id], inst == leadingCall(b) {
                    plan.takes[inst.id] = (plan.takes[inst.id] ?? n(inst)) - Int32(prepaid)
                }
                prepaid += Int(plan.takes[inst.id] ?? n(inst)) - Int(n(inst))
            }
            guard prepaid != 0 else { continue }
            let successors = cfg.successors[b.id]
            guard !successors.isEmpty else { return nil }
            for s in successors {
                guard onlyPredecessor(s) == b else { return nil }
                plan.entryPrepaid[s.id] = prepaid
            }
        }
        return plan
    }

    /// Whether `inst` (a `call`) is the budget intrinsic with a constant argument.
    static func isBudget(_ f: Function, _ inst: Inst) -> Bool {
        let helper = f.helpers[Int(f.insts[inst.id].imm)]
        guard helper.name == budgetHelper, helper.params == [.i64], helper.result == nil,
            case .inst(let def) = f.values[f.arg(inst, 0).id].def, f.insts[def.id].opcode == .iconst
        else { return false }
        return f.insts[def.id].imm < 1 << 31
    }
}

/// One function's lowering: the assembler, the allocation, labels.
struct Lowering: ~Copyable {
    let f: Function
    let allocation: RegisterAllocation
    /// By value: where it is in the block being emitted (`allocation.locations`, but for the
    /// values split into a register there: `enter(_:)`).
    var locations: [ValueLocation?]
    /// By block: the split values in a register there, and their registers.
    let inRegister: [[(value: Int, location: ValueLocation)]]
    /// By block: the splits (indexes in `allocation.splits`) of the values live into it.
    let splitsInto: [[Int]]
    /// The values `locations` has in a split's register.
    var entered: [Int] = []
    /// The block `locations` are those of.
    var current = Block(0)
    var asm: X64Assembler
    var blockLabels: [X64Label]
    /// Stubs to emit after the body.
    enum Stub {
        /// A guest access out of bounds, fault site `site`: `edx` = the site, then the shared
        /// bounds-fault code (`boundsFaultLabel`), which saves the registers for the engine to
        /// rebuild the state from the site's record, as after a host fault. (A stub writing the
        /// exit state itself took about 150 bytes an access: most of a region's code.)
        case fault(site: Int)
        /// The budget check found less than `instructions`: give them back, write the exit
        /// state (from the locations of `block`, the check's), leave with `budget`.
        case budget(ExitState, instructions: Int32, block: Block)
        /// A patchable exit not linked yet: leave with `chain` and the exit's index.
        case chain(Int)
        /// A miss in the jump cache (the target pc in rax): store it, leave with `indirect`.
        case indirectMiss
        /// An entry guard failed (`frm` is not `rne`, or an f register is not a NaN-box): leave
        /// with `guardFailed` (nothing ran, nothing was taken from the budget).
        case guardFailed
        /// A float result in the register is a NaN: the canonical NaN there instead, then back
        /// to the label (out of line: the common case falls through).
        case canonicalNaN(XMMRegister, single: Bool, back: X64Label)
        /// `fclass` of a float that is not a normal number (its bits in the register, neither
        /// rax nor rcx): the mask in rax, then back to the label (`floatClass`).
        case floatClass(HostRegister, double: Bool, back: X64Label)
        /// `fmin`/`fmax` of operands `ucomis` found equal or unordered (in these registers, the
        /// flags still the compare's): the result in xmm2, then back to the label (`minMax`).
        case minMax(XMMRegister, XMMRegister, single: Bool, max: Bool, back: X64Label)
    }
    var stubs: [(X64Label, Stub)] = []
    /// The last two-operand ALU instruction that left its result in its register, and where
    /// the code ended after it: while nothing follows, the flags are its result's.
    var flagsFrom: (op: X64ALUOp, register: HostRegister, end: Int)?
    /// The `guardFailed` stub's label, once an entry guard needs it.
    var guardFailed: X64Label?
    /// The patchable exits, in index order.
    var exitJumps: [(target: UInt64, jump: X64PatchableJump, stub: X64Label)] = []
    /// Every guest access, as `Tier2Backend.FaultSite`s, in the order of the code.
    var faultSites: [Tier2Backend.FaultSite] = []
    /// An address a bounds check found inside the address space: a value, or a base value plus
    /// an offset (`Tier2Backend.foldedAddresses`).
    struct CheckedAddress: Hashable {
        var value: Int
        var offset: Int32
        var folded: Bool
    }

    /// By block: the addresses its dominators' accesses check, so on every path to it (every
    /// instruction of a dominator ran before it: an exit or a fault leaves the region). A loop
    /// that loads `a[i]` in one block and stores it in another checked it twice; `load` and
    /// `store` of one address in one block already shared a check.
    static func addressesChecked(
        atEntryOf f: Function, folded: [(base: Value, offset: Int32)?], dominators: DominatorTree
    ) -> [Set<CheckedAddress>] {
        var atEntry = [Set<CheckedAddress>](filled: [], count: f.blocks.count)
        for b in dominators.preorder {
            guard let parent = dominators.immediateDominator(b), parent != b else { continue }
            var checked = atEntry[parent.id]
            for inst in f.blocks[parent.id].insts {
                let format = f.insts[inst.id].opcode.info.format
                if format == .load || format == .store { checked.insert(Self.checkedAddress(f, inst, folded: folded)) }
            }
            atEntry[b.id] = checked
        }
        return atEntry
    }
    /// The addresses checked on every path to the current instruction: by the blocks that
    /// dominate its block and before it in its block (a later access to one needs no check:
    /// the address-space size does not change while the code runs, and a value is computed
    /// once).
    var checkedAddresses: Set<CheckedAddress> = []
    /// By block: the addresses checked on every path to it (`addressesChecked(atEntryOf:)`).
    let checkedAtEntry: [Set<CheckedAddress>]
    /// The shared bounds-fault code, and whether a bounds check jumps to it.
    var boundsFaultLabel: X64Label
    var usesBoundsFault = false
    /// By instruction: an `icmp` whose only use is the `brif` right after it, which compares and
    /// branches on the flags itself, or the condition of the integer `select` right after it,
    /// which compares and moves on the flags (`cmovCC`).
    let fusedCompares: [Bool]
    /// By value: a float result whose NaN check is left out (`floatResult`): every use is an
    /// operation whose result does not depend on a NaN operand's sign or payload (arithmetic,
    /// which canonicalizes its own result; comparisons, fmin/fmax, conversions to integers),
    /// or an exit-state entry, which canonicalizes when it is written (`writeEntries`) or
    /// rebuilt (`Tier2Backend.Form`). x86 makes only quiet NaNs, so no flag differs either.
    /// Stores, bit operations (fneg, fabs, bitcasts) and block arguments see the value's bits:
    /// those uses need the check.
    let uncheckedNaNs: [Bool]
    /// Bytes of stubs, once emitted.
    var stubBytes = 0
    /// The translation id (exit codes, the execution counter).
    let id: Int
    let instructionIndex: [UInt64: Int]
    /// `Tier2Backend.accruesFlags(f)`.
    let accruesFlags: Bool
    /// By instruction: `Tier2Backend.budgetPlan(f).checks` and `.takes`.
    let budgetChecks: [Int32?]
    let budgetTakes: [Int32?]
    /// By block: `Tier2Backend.budgetPlan(f).entryPrepaid` and `.entryRefunds` (empty: none).
    let budgetEntryPrepaid: [Int]
    let budgetEntryRefunds: [Int]
    /// What the budget calls emitted so far took ahead for calls not reached yet.
    var prepaid = 0

    static let stateRegister = Pinned.state
    static let memoryRegister = Pinned.memory
    /// Scratch for cycles of parallel moves: `rcx`, or `xmm0` when the value parked is in an
    /// XMM register (a round trip through a general register would add its two transfers'
    /// latency to every loop-carried float, 6-8 cycles an iteration on Zen 1).
    static let cycleRegister = HostRegister.rcx
    static let floatCycleRegister = XMMRegister.xmm0

    /// By value: constants used only as immediates (no location, never emitted alone).
    let immediates: [Bool]
    /// By value: addresses folded into their access (`Tier2Backend.foldedAddresses`).
    let folded: [(base: Value, offset: Int32)?]
    /// By value: additions of a shifted value, one `lea` (`Tier2Backend.scaledAdditions`).
    let scaled: [(base: Value, index: Value, scale: X64Scale, shift: Value)?]
    /// By value: the shifts those `lea`s compute (not emitted).
    let scaledShifts: Set<Value>
    /// By value: slot reads the entry block's jump loads into its parameters' places
    /// (`Tier2Backend.entrySlotArguments`; not emitted).
    let entryReads: [Bool]
    /// Whether AVX-512 instructions may be used (`Tier2Backend.compile`'s `avx512`).
    var usesAVX512 = false

    init(_ f: Function, _ allocation: RegisterAllocation, uses: [Int], immediates: [Bool],
         folded: [(base: Value, offset: Int32)?], scaled: [(base: Value, index: Value, scale: X64Scale, shift: Value)?],
         entryReads: [Bool], id: Int, instructionIndex: [UInt64: Int], budgetChecks: [Int32?], budgetTakes: [Int32?],
         budgetEntryPrepaid: [Int], budgetEntryRefunds: [Int], dominators: DominatorTree)
    {
        self.f = f
        checkedAtEntry = Self.addressesChecked(atEntryOf: f, folded: folded, dominators: dominators)
        self.budgetChecks = budgetChecks
        self.budgetTakes = budgetTakes
        self.budgetEntryPrepaid = budgetEntryPrepaid
        self.budgetEntryRefunds = budgetEntryRefunds
        self.immediates = immediates
        self.entryReads = entryReads
        self.folded = folded
        self.scaled = scaled
        scaledShifts = Set(scaled.compactMap { $0?.shift })
        self.allocation = allocation
        locations = allocation.locations
        var inRegister = [[(value: Int, location: ValueLocation)]](filled: [], count: f.blocks.count)
        var splitsInto = [[Int]](filled: [], count: f.blocks.count)
        for (k, split) in allocation.splits.enumerated() {
            for (b, inside) in split.blocks.enumerated() where inside { inRegister[b].append((split.value.id, split.location)) }
            for b in split.liveInto { splitsInto[b.id].append(k) }
        }
        self.inRegister = inRegister
        self.splitsInto = splitsInto
        self.id = id
        self.instructionIndex = instructionIndex
        accruesFlags = Tier2Backend.accruesFlags(f)
        var asm = X64Assembler(capacity: 4096)
        var labels: [X64Label] = []
        for _ in f.blocks.indices { labels.append(asm.newLabel()) }
        blockLabels = labels
        boundsFaultLabel = asm.newLabel()
        self.asm = asm
        var fused = [Bool](filled: false, count: f.insts.count)
        for b in f.layout {
            let insts = f.blocks[b.id].insts
            for (compare, select) in zip(insts, insts.dropFirst())
            where f.insts[compare.id].opcode == .icmp && f.insts[select.id].opcode == .select {
                let condition = f.result(compare)
                let type = f.type(f.result(select))
                if f.arg(select, 0) == condition, f.arg(select, 1) != condition, f.arg(select, 2) != condition,
                    uses[condition.id] == 1, type != .f32, type != .f64
                {
                    fused[compare.id] = true
                }
            }
            guard insts.count >= 2, f.insts[insts[insts.count - 1].id].opcode == .brif else { continue }
            let compare = insts[insts.count - 2]
            let condition = f.arg(insts[insts.count - 1], 0)
            if f.insts[compare.id].opcode == .icmp, f.insts[compare.id].result == condition, uses[condition.id] == 1 {
                fused[compare.id] = true
            }
        }
        fusedCompares = fused
        uncheckedNaNs = Self.uncheckedNaNs(f)
    }

    /// `uncheckedNaNs` for `f`.
    static func uncheckedNaNs(_ f: Function) -> [Bool] {
        var unchecked = [Bool](filled: false, count: f.values.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                switch f.insts[inst.id].opcode {
                case .fadd, .fsub, .fmul, .fdiv, .fsqrt, .fpromote, .fdemote: unchecked[f.result(inst).id] = true
                default: break
                }
            }
        }
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                switch data.opcode {
                case .fadd, .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fcmp, .fcmpSilent, .fmin, .fmax, .ftosi32, .ftosi64, .fpromote,
                    .fdemote:
                    continue  // NaN operands of any sign and payload give the same result and flags
                default:
                    for v in f.args(inst) { unchecked[v.id] = false }
                    for call in f.destinations(inst) { for v in f.list(call.args) { unchecked[v.id] = false } }
                }
            }
        }
        return unchecked
    }

    /// The finished assembler, or nil if a label reference cannot be resolved.
    consuming func finish() -> X64Assembler? {
        do {
            try asm.finish()
        } catch {
            return nil
        }
        return asm
    }

    // MARK: Locations

    /// The hart slot of spill slot `k`.
    static func spill(_ k: Int) -> X64Memory { .at(Pinned.state, Int32(8 * (HartState.Slot.spill + k))) }

    /// A hart slot.
    static func hartSlot(_ n: Int) -> X64Memory { .at(Pinned.state, Int32(8 * n)) }

    /// Where the engine finds `v` at a fault.
    func recovery(_ v: Value) -> Tier2Backend.Recovery {
        switch locations[v.id] {
        case .register(let r)?: .register(r.rawValue)
        case .float(let x)?: .xmm(x.rawValue, form(v))
        case .stack(let k)?: .slot(HartState.Slot.spill + k, form(v))
        case .home(let h)?: .slot(f.slots[h].offset / 8, form(v))
        case nil: .constant(constant(v))
        }
    }

    /// How a fault's rebuild turns `v`'s saved bits into its slot's.
    func form(_ v: Value) -> Tier2Backend.Form {
        switch f.type(v) {
        case .f32: uncheckedNaNs[v.id] ? .uncheckedSingle : .boxedSingle
        case .f64: uncheckedNaNs[v.id] ? .uncheckedDouble : .bits
        case .i64, .b1: .bits
        }
    }

    /// The exit code for `kind` at guest instruction or exit `index`.
    func code(_ kind: ExitKind, _ index: Int) -> UInt64 {
        UInt64(kind.rawValue) | UInt64(index) << 8 | UInt64(id) << 32
    }

    /// The region's index of the guest instruction at `pc` (0 if unknown: hand-written IR).
    func index(of pc: RivetIR.GuestAddress) -> Int { instructionIndex[pc.rawValue] ?? 0 }

    /// The memory of a slot location (a spill slot or a home), or nil.
    func slotMemory(_ location: ValueLocation?) -> X64Memory? {
        switch location {
        case .stack(let k)?: Self.spill(k)
        case .home(let h)?: slot(UInt64(h))
        default: nil
        }
    }

    /// The location of `v` in the block being emitted.
    func location(_ v: Value) -> ValueLocation { locations[v.id]! }

    /// The location of `v` in block `b`.
    func location(_ v: Value, in b: Block) -> ValueLocation? {
        for (value, location) in inRegister[b.id] where value == v.id { return location }
        return allocation.locations[v.id]
    }

    /// Makes `locations` those of block `b`: its split values in their registers.
    mutating func enter(_ b: Block) {
        current = b
        for v in entered { locations[v] = allocation.locations[v] }
        entered.removeAll(keepingCapacity: true)
        for (v, location) in inRegister[b.id] {
            locations[v] = location
            entered.append(v)
        }
    }

    /// The moves of split values on the edge into `target` from the block being emitted: into
    /// a register where they enter one, out to their slot where they leave one they were defined
    /// in (else the slot holds them already).
    func splitMoves(into target: Block) -> [(from: ValueLocation, to: ValueLocation)] {
        var moves: [(from: ValueLocation, to: ValueLocation)] = []
        for k in splitsInto[target.id] {
            let split = allocation.splits[k]
            let from = location(split.value), to = location(split.value, in: target)!
            guard from != to else { continue }
            switch to {
            case .stack, .home: if split.definedInRegister { moves.append((from, to)) }
            case .register, .float: moves.append((from, to))
            }
        }
        return moves
    }

    /// A value's register, if it has one.
    func register(_ v: Value) -> HostRegister? {
        if case .register(let r)? = locations[v.id] { return r }
        return nil
    }

    /// A float value's XMM register, if it has one.
    func floatRegister(_ v: Value) -> XMMRegister? {
        if case .float(let x)? = locations[v.id] { return x }
        return nil
    }

    /// The memory operand of a spilled value.
    func memory(_ v: Value) -> X64Memory? { slotMemory(locations[v.id]) }

    /// The constant of an immediate (`immediates[v]`): its iconst's bits.
    func constant(_ v: Value) -> UInt64 {
        guard case .inst(let inst) = f.values[v.id].def else { return 0 }
        return f.insts[inst.id].imm
    }

    /// `mov r, v`: a float value's bits (a single's zero-extended).
    mutating func load(_ r: HostRegister, _ v: Value) {
        let size: X64OperandSize = f.type(v) == .f32 ? .b32 : .b64
        switch locations[v.id] {
        case .register(let s)?: if s != r { asm.emit(.mov(.b64, r, s)) }
        case .float(let x)?: asm.emit(.movXMMToGPR(size, r, x))
        case .stack?, .home?: asm.emit(.mov(size, r, memory(v)!))
        case nil: asm.emit(.loadConstant(r, constant(v)))
        }
    }

    /// `mov v, r`: to a float value, the bits in `r`.
    mutating func store(_ v: Value, _ r: HostRegister) {
        switch locations[v.id] {
        case .register(let d)?: if d != r { asm.emit(.mov(.b64, d, r)) }
        case .float(let x)?: asm.emit(.movGPRToXMM(f.type(v) == .f32 ? .b32 : .b64, x, r))
        case .stack?, .home?: asm.emit(.mov(.b64, memory(v)!, r))
        case nil: break  // an immediate: never computed alone
        }
    }

    /// `op r, v` for a two-operand ALU instruction (an immediate for a folded constant).
    mutating func alu(_ op: X64ALUOp, _ r: HostRegister, _ v: Value) {
        switch locations[v.id] {
        case .register(let s)?: asm.emit(.alu(op, .b64, r, s))
        case .stack?, .home?: asm.emit(.alu(op, .b64, r, memory(v)!))
        case .float?: preconditionFailure("tier 2 backend: an integer operation on a float value")
        case nil: asm.emit(.alu(op, .b64, r, imm: Int32(truncatingIfNeeded: Int64(bitPattern: constant(v)))))
        }
    }

    // MARK: The function

    mutating func emitFunction() {
        if accruesFlags {
            // Float arithmetic rounds to nearest: with another `frm`, the region leaves before
            // anything runs, and the engine removes it.
            asm.emit(.test(.b32, Self.hartSlot(HartState.Slot.fcsr), imm: 0xe0))
            asm.jcc(.ne, to: guardFailedLabel())
            // MXCSR is not cleared here: the flags in it are the guest's already. JIT code is
            // entered with none (the trampoline's `ldmxcsr`), tier 1 clears them after every
            // call out of its code and after a write of `fflags`, and so does `fpflags`; what
            // is left was raised by the guest's float operations and, if tier 1 raised it,
            // accrued already (accruing it again changes nothing). An `ldmxcsr` here, at every
            // entry, with the `stmxcsr` of the exit before it, took a third of `fp64`'s time on
            // an Intel host, whose `ldmxcsr` waits for the `stmxcsr` before it to complete.
        }
        // The budget at entry: every exit counts the instructions run since from it.
        asm.emit(.mov(.b64, Self.hartSlot(HartState.Slot.tier2Entry), Pinned.budget))
        for (k, b) in f.layout.enumerated() {
            asm.bind(blockLabels[b.id])
            enter(b)
            prepaid = budgetEntryPrepaid.isEmpty ? 0 : budgetEntryPrepaid[b.id]
            if !budgetEntryRefunds.isEmpty, budgetEntryRefunds[b.id] != 0 {
                // Taken ahead for a block this exit does not run: given back.
                asm.emit(.alu(.add, .b64, Pinned.budget, imm: Int32(budgetEntryRefunds[b.id])))
                prepaid = 0
            }
            checkedAddresses = checkedAtEntry[b.id]
            let next = k + 1 < f.layout.count ? f.layout[k + 1] : nil
            for inst in f.blocks[b.id].insts { emit(inst, next: next) }
        }
        let stubStart = asm.count
        for (label, stub) in stubs {
            asm.bind(label)
            switch stub {
            case .fault(let site):
                asm.emit(.loadConstant(.rdx, UInt64(site)))
                asm.jmp(to: boundsFaultLabel)
            case .budget(let state, let n, let block):
                enter(block)
                if n != 0 { asm.emit(.alu(.add, .b64, Pinned.budget, imm: n)) }
                writeEntries(state)
                // The block to start again (a region's blocks each check the budget).
                asm.emit(.loadConstant(.rax, state.pc.rawValue))
                asm.emit(.mov(.b64, Self.hartSlot(HartState.Slot.pc), .rax))
                count()
                leave(code(.budget, 0))
            case .chain(let k):
                leave(code(.chain, k))
            case .indirectMiss:
                asm.emit(.mov(.b64, Self.hartSlot(HartState.Slot.pc), .rax))
                leave(code(.indirect, 0))
            case .guardFailed:
                leave(code(.guardFailed, 0))
            case .canonicalNaN(let x, let single, let back):
                asm.emit(.loadConstant(.rax, single ? canonicalNaN32 : canonicalNaN64))
                asm.emit(.movGPRToXMM(.b64, x, .rax))
                asm.jmp(to: back)
            case .floatClass(let bits, let double, let back):
                emitFloatClassStub(bits, double: double, back: back)
            case .minMax(let xa, let xb, let single, let max, let back):
                emitMinMaxStub(xa, xb, single: single, max: max, back: back)
            }
        }
        if usesBoundsFault {
            // The shared bounds-fault code (the site in edx): every register a value may live in,
            // where a host fault's handler saves them; MXCSR for the flags; the count; leave with
            // the site's number.
            asm.bind(boundsFaultLabel)
            for r in Tier2Backend.allocatable {
                asm.emit(.mov(.b64, Self.hartSlot(HartState.Slot.faultRegisters + Int(r.rawValue)), r))
            }
            for x in Tier2Backend.allocatableFloat where allocation.usedFloatRegisters.contains(x) {
                asm.emit(.movsd(Self.hartSlot(HartState.Slot.faultXMMRegisters + Int(x.rawValue)), x))
            }
            if accruesFlags { asm.emit(.stmxcsr(Self.hartSlot(HartState.Slot.mxcsr))) }
            count()
            asm.emit(.shift(.shl, .b64, .rdx, 8))
            asm.emit(.loadConstant(.rax, code(.boundsFault, 0)))
            asm.emit(.alu(.or, .b64, .rax, .rdx))
            asm.emit(.jmp(Self.hartSlot(HartState.Slot.commonExit)))
        }
        stubBytes = asm.count - stubStart
    }

    /// The out-of-line part of `floatClass`: any float's class (`bits` holds its bits, rax gets
    /// the mask), by the class's index k, mirrored (7 - k, which is k ^ 7) for a negative
    /// number that is not a NaN.
    mutating func emitFloatClassStub(_ bits: HostRegister, double: Bool, back: X64Label) {
        let exponentMask: Int32 = double ? 0x7ff : 0xff
        let fractionBits: UInt8 = double ? 52 : 23
        let special = asm.newLabel(), normal = asm.newLabel(), sign = asm.newLabel(), shift = asm.newLabel()
        asm.emit(.mov(.b64, .rcx, bits))
        asm.emit(.shift(.shr, .b64, .rcx, fractionBits))
        asm.emit(.alu(.and, .b32, .rcx, imm: exponentMask))
        // The fraction at the top of rax, nothing else.
        asm.emit(.mov(.b64, .rax, bits))
        asm.emit(.shift(.shl, .b64, .rax, 64 - fractionBits))
        asm.emit(.alu(.cmp, .b32, .rcx, imm: exponentMask))
        asm.jcc(.e, to: special)
        asm.emit(.test(.b32, .rcx, .rcx))
        asm.jcc(.ne, to: normal)
        // Zero (4) or subnormal (5).
        asm.emit(.test(.b64, .rax, .rax))
        asm.emit(.mov(.b32, .rax, imm: 4))
        asm.jcc(.e, to: sign)
        asm.emit(.mov(.b32, .rax, imm: 5))
        asm.jmp(to: sign)
        asm.bind(normal)
        asm.emit(.mov(.b32, .rax, imm: 6))
        asm.jmp(to: sign)
        // Infinity (7), or a NaN: 8, or 9 when quiet (the fraction's top bit), whatever its sign.
        asm.bind(special)
        let nan = asm.newLabel()
        asm.emit(.test(.b64, .rax, .rax))
        asm.jcc(.ne, to: nan)
        asm.emit(.mov(.b32, .rax, imm: 7))
        asm.jmp(to: sign)
        asm.bind(nan)
        asm.emit(.shift(.shr, .b64, .rax, 63))
        asm.emit(.alu(.add, .b32, .rax, imm: 8))
        asm.jmp(to: shift)
        asm.bind(sign)
        asm.emit(.test(double ? .b64 : .b32, bits, bits))
        asm.jcc(.ns, to: shift)
        asm.emit(.alu(.xor, .b32, .rax, imm: 7))
        asm.bind(shift)
        asm.emit(.mov(.b32, .rcx, .rax))
        asm.emit(.mov(.b32, .rax, imm: 1))
        asm.emit(.shiftByCL(.shl, .b32, .rax))
        asm.jmp(to: back)
    }

    /// `movabs rax, code; jmp [common exit]`.
    mutating func leave(_ code: UInt64) {
        asm.emit(.loadConstant(.rax, code))
        asm.emit(.jmp(Self.hartSlot(HartState.Slot.commonExit)))
    }

    /// Adds the instructions run since entry to the translation's counter, and one to its exit
    /// counter (uses rax, and `table` for the counter table's address).
    mutating func count(through table: HostRegister = .rcx) {
        asm.emit(.mov(.b64, .rax, Self.hartSlot(HartState.Slot.tier2Entry)))
        asm.emit(.alu(.sub, .b64, .rax, Pinned.budget))
        asm.emit(.mov(.b64, table, Self.hartSlot(HartState.Slot.counters)))
        asm.emit(.alu(.add, .b64, .at(table, Int32(8 * id)), .rax))
        asm.emit(.unary(.inc, .b64, .at(table, Int32(TranslationCache.exitCounterOffset + 8 * id))))
    }

    /// `count` for an exit into other JIT code, which also gives `r13` and `r14` back their
    /// pinned values (the counters, the jump cache): the counter table's address is loaded
    /// once, into `r13`.
    mutating func countAndRestorePinned() {
        count(through: Pinned.counters)
        asm.emit(.mov(.b64, Pinned.jumpCache, Self.hartSlot(HartState.Slot.jumpCache)))
    }

    /// Writes the exit state's entries to their slots (through rax for what is not in a
    /// register), and accrues the float exception flags (using rax, rcx, rdx).
    mutating func writeEntries(_ state: ExitState) {
        for entry in state.entries {
            if case .home(entry.slot.id)? = locations[entry.value.id] { continue }  // there already
            let slot = X64Memory.at(Self.stateRegister, Int32(f.slots[entry.slot.id].offset))
            let unchecked = uncheckedNaNs[entry.value.id]
            if f.type(entry.value) == .f64, floatRegister(entry.value) != nil || unchecked {
                // A double's bits in an i64 slot; one computed without its NaN check made canonical.
                let x = floatOperand(entry.value, scratch: .xmm0)
                asm.emit(.movsd(slot, x))
                if unchecked {
                    let ordered = asm.newLabel()
                    asm.emit(.sse(.ucomisd, x, x))
                    asm.jcc(.np, to: ordered)
                    asm.emit(.loadConstant(.rax, canonicalNaN64))
                    asm.emit(.mov(.b64, slot, .rax))
                    asm.bind(ordered)
                }
                continue
            }
            if f.type(entry.value) == .f32 {
                // A single NaN-boxed (rcx is free here); one computed without its NaN check made
                // canonical.
                load(.rax, entry.value)
                asm.emit(.loadConstant(.rcx, Tier2Backend.singleBox))
                asm.emit(.alu(.or, .b64, .rax, .rcx))
                if unchecked {
                    let ordered = asm.newLabel()
                    let x = floatOperand(entry.value, scratch: .xmm0)
                    asm.emit(.sse(.ucomiss, x, x))
                    asm.jcc(.np, to: ordered)
                    asm.emit(.loadConstant(.rax, Tier2Backend.singleBox | canonicalNaN32))
                    asm.bind(ordered)
                }
                asm.emit(.mov(.b64, slot, .rax))
                continue
            }
            if locations[entry.value.id] == nil, let small = Int32(exactly: Int64(bitPattern: constant(entry.value))) {
                // A constant (a link address, a loop's bound): stored as an immediate, not
                // through rax.
                asm.emit(.mov(.b64, slot, imm: small))
                continue
            }
            let r = register(entry.value) ?? .rax
            load(r, entry.value)
            asm.emit(.mov(.b64, slot, r))
        }
        if accruesFlags { accrueFlags() }
    }

    /// ORs MXCSR's exception flags, as RISC-V's (`Tier2Backend.riscvFlags`), into `fflags`.
    mutating func accrueFlags() {
        let mxcsr = Self.hartSlot(HartState.Slot.mxcsr)
        let none = asm.newLabel()
        asm.emit(.stmxcsr(mxcsr))
        asm.emit(.mov(.b32, .rax, mxcsr))
        asm.emit(.test(.b32, .rax, imm: 0x3d))
        asm.jcc(.e, to: none)
        riscvFlags()
        asm.emit(.alu(.or, .b64, Self.hartSlot(HartState.Slot.fcsr), .rcx))
        asm.bind(none)
    }

    /// The float-flags intrinsic: MXCSR's flags as RISC-V's (unless nothing uses them, as for
    /// `fsflags`), then MXCSR without flags.
    mutating func emitTakeFlags(_ inst: Inst) {
        let mxcsr = Self.hartSlot(HartState.Slot.mxcsr)
        let result = f.result(inst)
        var used = false
        for b in f.layout where !used {
            for user in f.blocks[b.id].insts where !used { f.forEachUse(user) { if $0 == result { used = true } } }
        }
        if used { flagsInRCX() }
        asm.emit(.mov(.b32, mxcsr, imm: Tier2Backend.mxcsrAtEntry))
        asm.emit(.ldmxcsr(mxcsr))
        if used { store(result, .rcx) }
    }

    /// The flags raised so far (`fpflags_peek`), MXCSR left as it is. (What MXCSR holds is
    /// the guest's even in a region that raises none: see `emitFunction`.)
    mutating func emitPeekFlags(_ inst: Inst) {
        flagsInRCX()
        store(f.result(inst), .rcx)
    }

    /// rcx = MXCSR's flags as RISC-V's (uses rax and the `mxcsr` slot).
    mutating func flagsInRCX() {
        let mxcsr = Self.hartSlot(HartState.Slot.mxcsr)
        asm.emit(.stmxcsr(mxcsr))
        asm.emit(.mov(.b32, .rax, mxcsr))
        riscvFlags()
    }

    /// rcx = the RISC-V flags of the MXCSR in eax (`Tier2Backend.riscvFlags`; uses rax): a
    /// look-up in tier 1's table by its low byte (3 instructions; the bit moves took 15).
    mutating func riscvFlags() {
        asm.emit(.movzx(.b32, .rax, .rax, from: .b8))
        asm.emit(.loadConstant(.rcx, UInt64(BlockTranslator.flagTable)))
        asm.emit(.movzx(.b32, .rcx, .at(.rcx, index: .rax), from: .b8))
    }


    /// Leaves for the exit state's pc (`exit`): its entries written, the instructions counted,
    /// then a patchable jump (the first `maxChainedExits` exits) or a store of the pc and an
    /// indirect exit.
    mutating func emitExit(_ state: ExitState) {
        writeEntries(state)
        countAndRestorePinned()
        if exitJumps.count < Tier2Backend.maxChainedExits {
            let stub = asm.newLabel()
            let jump = asm.patchableJump(to: stub)
            stubs.append((stub, .chain(exitJumps.count)))
            exitJumps.append((state.pc.rawValue, jump, stub))
        } else {
            // No patchable jump left: through the jump cache, as an indirect jump.
            asm.emit(.loadConstant(.rax, state.pc.rawValue))
            probeJumpCache()
        }
    }

    /// Leaves for the pc `target` (`exit_indirect`): the entries written, the instructions
    /// counted, then through the jump cache as tier 1 does (a miss leaves for the run loop).
    mutating func emitIndirectExit(_ state: ExitState, target: Value) {
        writeEntries(state)
        // The target after the count (which uses rax and rcx); rdx keeps it meanwhile.
        load(.rdx, target)
        countAndRestorePinned()
        asm.emit(.mov(.b64, .rax, .rdx))
        probeJumpCache()
    }

    /// Jumps to the guest pc in rax through the jump cache (a hit enters its code), or leaves
    /// for the run loop with `indirect`.
    mutating func probeJumpCache() {
        asm.emit(.unary(.inc, .b64, Self.hartSlot(HartState.Slot.indirectJumps)))
        // The entry's offset, ((pc >> 1) & mask) << 4, is (pc << 3) & (mask << 4).
        asm.emit(.lea(.b32, .rcx, .at(index: .rax, scale: .x8)))
        asm.emit(.alu(.and, .b32, .rcx, imm: Int32(JumpCache.mask << 4)))
        asm.emit(.alu(.cmp, .b64, .rax, .at(Pinned.jumpCache, index: .rcx)))
        let miss = asm.newLabel()
        asm.jcc(.ne, to: miss)
        asm.emit(.jmp(.at(Pinned.jumpCache, index: .rcx, 8)))
        stubs.append((miss, .indirectMiss))
    }

    /// A label for the bounds-fault stub of `inst`, emitted after the body: its fault site is
    /// the next one recorded (`recordFaultSite`, right before the access).
    mutating func faultLabel(_ inst: Inst) -> X64Label {
        let label = asm.newLabel()
        stubs.append((label, .fault(site: faultSites.count)))
        usesBoundsFault = true
        return label
    }

    /// Records the guest access about to be emitted (at the current offset) as a fault site.
    mutating func recordFaultSite(_ inst: Inst) {
        let state = f.exitState(inst) ?? ExitState(pc: RivetIR.GuestAddress(0))
        faultSites.append(
            Tier2Backend.FaultSite(
                hostOffset: asm.count, index: index(of: state.pc), pc: state.pc.rawValue,
                entries: state.entries.map { (f.slots[$0.slot.id].offset / 8, recovery($0.value)) }, prepaid: prepaid))
    }

    /// `floatforms`' entry guard: unless the value's high 32 bits are all ones (a single's
    /// NaN-box), leave by `guardFailed` (in the entry block: nothing ran, nothing was taken from
    /// the budget), and the engine removes the region.
    mutating func emitNaNBoxedGuard(_ inst: Inst) {
        load(.rax, f.arg(inst, 0))
        asm.emit(.shift(.shr, .b64, .rax, 32))
        asm.emit(.alu(.cmp, .b32, .rax, imm: -1))
        asm.jcc(.ne, to: guardFailedLabel())
    }

    /// The one `guardFailed` stub of the function's entry guards.
    mutating func guardFailedLabel() -> X64Label {
        if let label = guardFailed { return label }
        let label = asm.newLabel()
        stubs.append((label, .guardFailed))
        guardFailed = label
        return label
    }

    /// The budget intrinsic (`Tier2Backend.budgetPlan`): `sub r12, n`; a check of its own `n`
    /// is `sub r12, n; jb` to a stub that gives n back and leaves by the call's exit state, one
    /// of more is `cmp r12, need; jb` to a stub that leaves so, then the `sub`.
    mutating func emitBudget(_ inst: Inst) {
        let n = Int32(truncatingIfNeeded: constant(f.arg(inst, 0)))
        let take = budgetTakes[inst.id] ?? n
        let state = f.exitState(inst) ?? ExitState(pc: RivetIR.GuestAddress(0))
        // A later call's share, taken ahead by its IR block's first, is no longer ahead.
        prepaid += Int(take) - Int(n)
        guard let need = budgetChecks[inst.id] else {
            if take != 0 { asm.emit(.alu(.sub, .b64, Pinned.budget, imm: take)) }
            return
        }
        let stub = asm.newLabel()
        if need == take {
            asm.emit(.alu(.sub, .b64, Pinned.budget, imm: take))
            asm.jcc(.b, to: stub)
            stubs.append((stub, .budget(state, instructions: take, block: current)))
        } else {
            asm.emit(.alu(.cmp, .b64, Pinned.budget, imm: need))
            asm.jcc(.b, to: stub)
            stubs.append((stub, .budget(state, instructions: 0, block: current)))
            if take != 0 { asm.emit(.alu(.sub, .b64, Pinned.budget, imm: take)) }
        }
    }

    // MARK: Control flow

    mutating func emitJump(_ call: BlockCall, next: Block?) {
        emitMoves(call)
        if call.block != next { asm.jmp(to: blockLabels[call.block.id]) }
    }

    mutating func emitBranch(_ inst: Inst, next: Block?) {
        let data = f.insts[inst.id]
        let condition = f.arg(inst, 0)
        var cc = X64Condition.ne
        if case .inst(let compare) = f.values[condition.id].def, fusedCompares[compare.id] {
            // The icmp right before, not emitted: its operands are still where they were.
            var a = f.arg(compare, 0)
            var b = f.arg(compare, 1)
            var condition = IntCondition(rawValue: UInt8(truncatingIfNeeded: f.insts[compare.id].imm)) ?? .eq
            if register(a) == nil, memory(a) != nil, register(b) != nil {
                // `cmp b, [a]` with the condition swapped, not a load of a into rax first.
                swap(&a, &b)
                condition = condition.swapped
            }
            let r = register(a) ?? .rax
            load(r, a)
            if immediates[b.id], constant(b) == 0 {
                // The flags of `cmp r, 0`: those an `and`, `or` or `xor` that just computed r
                // left (carry and overflow clear, as after `test`), or an `add` or `sub` for
                // (in)equality; else `test r, r`, one byte shorter than the compare.
                if let flags = flagsFrom, flags.register == r, flags.end == asm.count, !asm.hasLabel(at: asm.count),
                    flags.op == .and || flags.op == .or || flags.op == .xor || condition == .eq || condition == .ne
                {
                } else {
                    asm.emit(.test(.b64, r, r))
                }
            } else {
                alu(.cmp, r, b)
            }
            cc = Self.condition(condition)
        } else {
            switch location(condition) {
            case .register(let r): asm.emit(.test(.b32, r, imm: 1))
            case .stack, .home: asm.emit(.test(.b32, memory(condition)!, imm: 1))
            case .float: preconditionFailure("tier 2 backend: a b1 value in an XMM register")
            }
        }
        let taken = data.destination0, notTaken = data.destination1
        if taken.block == next, !hasMoves(taken), !hasMoves(notTaken) {
            // The taken side comes next: branch on the negated condition and fall through.
            asm.jcc(cc.negated, to: blockLabels[notTaken.block.id])
        } else if !hasMoves(taken) {
            // No moves on the taken edge: branch straight to it (moves of the other edge follow).
            asm.jcc(cc, to: blockLabels[taken.block.id])
            emitJump(notTaken, next: next)
        } else if !hasMoves(notTaken) {
            asm.jcc(cc.negated, to: blockLabels[notTaken.block.id])
            emitJump(taken, next: next)
        } else {
            // Both edges move values: each gets its own code (a split critical edge).
            let other = asm.newLabel()
            asm.jcc(cc.negated, to: other)
            emitJump(taken, next: nil)
            asm.bind(other)
            emitJump(notTaken, next: next)
        }
    }

    /// Whether the edge `call` needs moves.
    func hasMoves(_ call: BlockCall) -> Bool {
        for (p, a) in zip(f.blocks[call.block.id].params, f.list(call.args))
        where locations[a.id] != location(p, in: call.block) {
            return true
        }
        return !splitMoves(into: call.block).isEmpty
    }

    /// The parallel move of the edge's arguments to the destination's parameters, sequenced
    /// (moves whose destination no other pending move reads first; a cycle goes through rcx,
    /// or xmm0 from an XMM register).
    mutating func emitMoves(_ call: BlockCall) {
        enum Place: Equatable {
            case location(ValueLocation)
            case cycle
            /// A rematerialized constant (`immediates`): it reads no place.
            case constant(UInt64)
            /// A slot the entry block reads (`entryReads`): it reads no place either.
            case slot(UInt64)
        }
        var moves: [(from: Place, to: ValueLocation)] = []
        for (p, a) in zip(f.blocks[call.block.id].params, f.list(call.args)) {
            let to = location(p, in: call.block)!
            guard let from = locations[a.id] else {
                if entryReads[a.id], case .inst(let read) = f.values[a.id].def {
                    moves.append((.slot(f.insts[read.id].imm), to))
                } else {
                    moves.append((.constant(constant(a)), to))
                }
                continue
            }
            if from != to { moves.append((.location(from), to)) }
        }
        for move in splitMoves(into: call.block) { moves.append((.location(move.from), move.to)) }
        // Whether a move from `place` reads `location` (a home is the slot an entry read reads).
        func reads(_ place: Place, _ location: ValueLocation) -> Bool {
            switch place {
            case .location(let l): l == location
            case .slot(let index): location == .home(Int(index))
            case .cycle, .constant: false
            }
        }
        moves.removeAll { reads($0.from, $0.to) }  // an entry read into its own home
        // Where the cycle being broken parked its value (one at a time: a cycle drains before
        // the next deadlock).
        var parked = ValueLocation.register(Self.cycleRegister)
        while !moves.isEmpty {
            if let k = moves.indices.first(where: { k in
                !moves.contains { reads($0.from, moves[k].to) }
            }) {
                let move = moves.remove(at: k)
                switch move.from {
                case .location(let l): emitMove(from: l, to: move.to)
                case .cycle: emitMove(from: parked, to: move.to)
                case .constant(let bits):
                    switch move.to {
                    case .register(let d): asm.emit(.loadConstant(d, bits))
                    case .stack, .home:
                        asm.emit(.loadConstant(.rax, bits))
                        asm.emit(.mov(.b64, slotMemory(move.to)!, .rax))
                    case .float(let d):
                        asm.emit(.loadConstant(.rax, bits))
                        asm.emit(.movGPRToXMM(.b64, d, .rax))
                    }
                case .slot(let index):
                    switch move.to {
                    case .register(let d): asm.emit(.mov(.b64, d, slot(index)))
                    case .stack, .home:
                        asm.emit(.mov(.b64, .rax, slot(index)))
                        asm.emit(.mov(.b64, slotMemory(move.to)!, .rax))
                    case .float(let d): asm.emit(.movsd(d, slot(index)))
                    }
                }
            } else {
                // A cycle (through homes, an entry read's slot may be in it): park a source in
                // rcx, or xmm0 (a constant's move waits for the cycle's).
                let source = moves.first {
                    switch $0.from {
                    case .location, .slot: true
                    case .cycle, .constant: false
                    }
                }!.from
                switch source {
                case .location(.float(let s)):
                    parked = .float(Self.floatCycleRegister)
                    asm.emit(.sse(.movaps, Self.floatCycleRegister, s))
                case .location(let l):
                    parked = .register(Self.cycleRegister)
                    emitMove(from: l, toRegister: Self.cycleRegister)
                case .slot(let index):
                    parked = .register(Self.cycleRegister)
                    asm.emit(.mov(.b64, Self.cycleRegister, slot(index)))
                case .cycle, .constant: break
                }
                for k in moves.indices where moves[k].from == source { moves[k].from = .cycle }
            }
        }
    }

    /// `mov to, from`, through rax between two spill slots. A move's 64 bits carry a single's
    /// 32 (the rest is never read as a single).
    mutating func emitMove(from source: ValueLocation, to: ValueLocation) {
        switch (source, to) {
        case (.register(let s), .register(let d)): asm.emit(.mov(.b64, d, s))
        case (.register(let s), .stack), (.register(let s), .home): asm.emit(.mov(.b64, slotMemory(to)!, s))
        case (.stack, .register(let d)), (.home, .register(let d)): asm.emit(.mov(.b64, d, slotMemory(source)!))
        case (.stack, .stack), (.stack, .home), (.home, .stack), (.home, .home):
            asm.emit(.mov(.b64, .rax, slotMemory(source)!))
            asm.emit(.mov(.b64, slotMemory(to)!, .rax))
        case (.float(let s), .float(let d)): asm.emit(.sse(.movaps, d, s))
        case (.float(let s), .stack), (.float(let s), .home): asm.emit(.movsd(slotMemory(to)!, s))
        case (.stack, .float(let d)), (.home, .float(let d)): asm.emit(.movsd(d, slotMemory(source)!))
        case (.float(let s), .register(let d)): asm.emit(.movXMMToGPR(.b64, d, s))
        case (.register(let s), .float(let d)): asm.emit(.movGPRToXMM(.b64, d, s))
        }
    }

    mutating func emitMove(from: ValueLocation, toRegister r: HostRegister) {
        switch from {
        case .register(let s): asm.emit(.mov(.b64, r, s))
        case .stack, .home: asm.emit(.mov(.b64, r, slotMemory(from)!))
        case .float(let s): asm.emit(.movXMMToGPR(.b64, r, s))
        }
    }
}
