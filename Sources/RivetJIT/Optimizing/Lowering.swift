import RivetIR
import RivetMachine
import RivetX64

// Tier 2's x86-64 backend: a compacted, verified RivetIR function to host code, after linear
// scan (LinearScan.swift). This file holds the frame, the control flow (blocks, parallel moves
// on edges, exits, fault stubs); Lowering+Instructions.swift lowers the other instructions.
//
// The code is a C function `(state, memoryBase, addressSpaceSize) -> UInt64` (SysV):
// - `r12` holds the state struct, `r13` the host address of guest address 0, `r14` the
//   address-space size (pinned, callee-saved); the callee-saved registers it uses are pushed;
// - the frame holds `addressSpaceSize - n` for accesses of n = 1, 2, 4, 8 bytes (an access at
//   `a` is in bounds when `a <= size - n`, unsigned; the size must be at least 8), then the
//   spill slots;
// - `rax`, `rcx`, `rdx`, `r11` are scratch, never allocated (`rdx:rax` for mul/div, `cl` for
//   shifts, `r11` breaks cycles of parallel moves);
// - it returns `Tier2Backend.exitCode` (0, the pc in the pc slot), `boundsFaultCode` (1, the pc
//   slot holds the faulting instruction's exit-state pc) or `trapCode` (2). Exit-state entries
//   are written to their slots before leaving by an exit or a fault.
// No calls are made: the caller-saved registers are free for values. Nothing is executed after
// a fault but the stub, so a store faults before any byte is written.

/// Tier 2's x86-64 backend.
package enum Tier2Backend {
    /// Returned by an `exit` or `exit_indirect`.
    package static let exitCode: UInt64 = 0
    /// Returned when a guest access is out of bounds.
    package static let boundsFaultCode: UInt64 = 1
    /// Returned by `trap`.
    package static let trapCode: UInt64 = 2
    /// The byte offset of the pc in the state struct.
    package static let pcOffset = 8 * HartState.Slot.pc

    /// Registers values may live in (neither pinned nor scratch), in order of preference.
    package static let allocatable: [HostRegister] = [.rsi, .rdi, .r8, .r9, .r10, .rbx, .rbp, .r15]

    /// Machine code for one function, not yet placed.
    package struct Code: ~Copyable {
        /// The assembler holding the code (`finish()` done): place it with `copy(to:address:)`.
        package var assembler: X64Assembler
        /// The allocation the code follows (its values are those of `function.compacted()`).
        package var allocation: RegisterAllocation
        /// Bytes of the fault stubs (after the body; part of `count`).
        package var stubBytes: Int
        /// Bytes of code.
        package var count: Int { assembler.count }
    }

    /// Compiles `function` (verified; compacted here) to x86-64, or nil if it uses what this
    /// backend does not lower yet (floating point, helper calls).
    package static func compile(_ function: Function) -> Code? {
        let f = function.compacted()
        guard isSupported(f) else { return nil }
        let immediates = immediateConstants(f)
        let allocation = LinearScan.allocate(f, registers: allocatable, unallocated: immediates)
        var lowering = Lowering(f, allocation, immediates: immediates)
        lowering.emitFunction()
        let stubBytes = lowering.stubBytes
        guard let assembler = lowering.finish() else { return nil }
        return Code(assembler: assembler, allocation: allocation, stubBytes: stubBytes)
    }

    /// By value: an `iconst` that fits a sign-extended imm32 and is only ever the second operand
    /// of `iadd isub band bor bxor icmp`. It gets no register: each use is an immediate.
    static func immediateConstants(_ f: Function) -> [Bool] {
        var uses = [Int](repeating: 0, count: f.values.count)
        var immediateUses = [Int](repeating: 0, count: f.values.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                f.forEachUse(inst) { uses[$0.id] += 1 }
                switch f.insts[inst.id].opcode {
                case .iadd, .isub, .band, .bor, .bxor, .icmp: immediateUses[f.arg(inst, 1).id] += 1
                case .iconst, .bconst, .f32const, .f64const, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv, .srem,
                    .urem, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32, .zext8, .zext16,
                    .zext32, .clz, .ctz, .popcnt, .bswap, .select, .bint, .fadd, .fsub, .fmul, .fdiv, .fsqrt, .fneg,
                    .fabs, .fmin, .fmax, .fcmp, .bitcast, .f32FromBits, .f32ToBits, .getSlot, .setSlot, .loadI64,
                    .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .loadF32, .loadF64, .store8, .store16,
                    .store32, .store64, .storeF32, .storeF64, .call, .jump, .brif, .exit, .exitIndirect, .trap:
                    continue
                }
            }
        }
        var out = [Bool](repeating: false, count: f.values.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .iconst {
                let v = f.result(inst), bits = Int64(bitPattern: f.insts[inst.id].imm)
                out[v.id] = Int64(Int32(truncatingIfNeeded: bits)) == bits && uses[v.id] > 0
                    && uses[v.id] == immediateUses[v.id]
            }
        }
        return out
    }

    /// Whether every instruction and value of `f` is in the lowered subset.
    static func isSupported(_ f: Function) -> Bool {
        for v in f.values where v.type == .f32 || v.type == .f64 { return false }
        for b in f.layout {
            for inst in f.blocks[b.id].insts {
                switch f.insts[inst.id].opcode {
                case .iconst, .bconst, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv, .srem, .urem,
                    .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32,
                    .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .icmp, .select, .bint, .getSlot, .setSlot,
                    .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .store8, .store16, .store32,
                    .store64, .jump, .brif, .exit, .exitIndirect, .trap:
                    continue
                case .f32const, .f64const, .fadd, .fsub, .fmul, .fdiv, .fsqrt, .fneg, .fabs, .fmin, .fmax, .fcmp,
                    .bitcast, .f32FromBits, .f32ToBits, .loadF32, .loadF64, .storeF32, .storeF64, .call:
                    return false
                }
            }
        }
        return true
    }
}

/// One function's lowering: the assembler, the allocation, labels.
struct Lowering: ~Copyable {
    let f: Function
    let allocation: RegisterAllocation
    var asm: X64Assembler
    var blockLabels: [X64Label]
    let epilogue: X64Label
    /// Shared ends of exits and fault stubs (see `emitExit`).
    let exitTail: X64Label
    let faultTail: X64Label
    /// Fault stubs to emit after the body: label, exit state.
    var faultStubs: [(X64Label, ExitState)] = []
    /// By instruction: an `icmp` whose only use is the `brif` right after it, which compares and
    /// branches on the flags itself.
    let fusedCompares: [Bool]
    /// Bytes of fault stubs, once emitted.
    var stubBytes = 0
    /// Callee-saved registers pushed by the prologue, in push order.
    let saved: [HostRegister]
    /// Bytes below the pushes: the limit words and the spill slots (rounded to 16).
    let frameSize: Int32

    static let stateRegister = HostRegister.r12
    static let memoryRegister = HostRegister.r13
    static let limitRegister = HostRegister.r14
    /// Scratch for cycles of parallel moves.
    static let cycleRegister = HostRegister.r11

    /// By value: constants used only as immediates (no location, never emitted alone).
    let immediates: [Bool]

    init(_ f: Function, _ allocation: RegisterAllocation, immediates: [Bool]) {
        self.f = f
        self.immediates = immediates
        self.allocation = allocation
        var asm = X64Assembler(capacity: 4096)
        epilogue = asm.newLabel()
        exitTail = asm.newLabel()
        faultTail = asm.newLabel()
        var labels: [X64Label] = []
        for _ in f.blocks.indices { labels.append(asm.newLabel()) }
        blockLabels = labels
        self.asm = asm
        var uses = [Int](repeating: 0, count: f.values.count)
        for b in f.layout { for inst in f.blocks[b.id].insts { f.forEachUse(inst) { uses[$0.id] += 1 } } }
        var fused = [Bool](repeating: false, count: f.insts.count)
        for b in f.layout {
            let insts = f.blocks[b.id].insts
            guard insts.count >= 2, f.insts[insts[insts.count - 1].id].opcode == .brif else { continue }
            let compare = insts[insts.count - 2]
            let condition = f.arg(insts[insts.count - 1], 0)
            if f.insts[compare.id].opcode == .icmp, f.insts[compare.id].result == condition, uses[condition.id] == 1 {
                fused[compare.id] = true
            }
        }
        fusedCompares = fused
        let calleeSaved: [HostRegister] = [.rbx, .rbp, .r15]
        saved = [Self.stateRegister, Self.memoryRegister, Self.limitRegister]
            + calleeSaved.filter { allocation.usedRegisters.contains($0) }
        frameSize = Int32((4 + allocation.spillSlots + 1) / 2 * 16)
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

    /// The frame word holding `addressSpaceSize - size`.
    static func limit(_ size: Int) -> X64Memory {
        .at(.rsp, Int32(8 * size.trailingZeroBitCount))
    }

    /// The stack slot of spill slot `k`.
    static func spill(_ k: Int) -> X64Memory { .at(.rsp, Int32(8 * (4 + k))) }

    /// A value's register, if it has one.
    func register(_ v: Value) -> HostRegister? {
        if case .register(let r)? = allocation.locations[v.id] { return r }
        return nil
    }

    /// The memory operand of a spilled value.
    func memory(_ v: Value) -> X64Memory? {
        if case .stack(let k)? = allocation.locations[v.id] { return Self.spill(k) }
        return nil
    }

    /// The constant of an immediate (`immediates[v]`): its iconst's bits.
    func constant(_ v: Value) -> UInt64 {
        guard case .inst(let inst) = f.values[v.id].def else { return 0 }
        return f.insts[inst.id].imm
    }

    /// `mov r, v`.
    mutating func load(_ r: HostRegister, _ v: Value) {
        switch allocation.locations[v.id] {
        case .register(let s)?: if s != r { asm.emit(.mov(.b64, r, s)) }
        case .stack(let k)?: asm.emit(.mov(.b64, r, Self.spill(k)))
        case nil: asm.emit(.loadConstant(r, constant(v)))
        }
    }

    /// `mov v, r`.
    mutating func store(_ v: Value, _ r: HostRegister) {
        switch allocation.locations[v.id] {
        case .register(let d)?: if d != r { asm.emit(.mov(.b64, d, r)) }
        case .stack(let k)?: asm.emit(.mov(.b64, Self.spill(k), r))
        case nil: break  // an immediate: never computed alone
        }
    }

    /// `op r, v` for a two-operand ALU instruction (an immediate for a folded constant).
    mutating func alu(_ op: X64ALUOp, _ r: HostRegister, _ v: Value) {
        switch allocation.locations[v.id] {
        case .register(let s)?: asm.emit(.alu(op, .b64, r, s))
        case .stack(let k)?: asm.emit(.alu(op, .b64, r, Self.spill(k)))
        case nil: asm.emit(.alu(op, .b64, r, imm: Int32(truncatingIfNeeded: Int64(bitPattern: constant(v)))))
        }
    }

    // MARK: The function

    mutating func emitFunction() {
        for r in saved { asm.emit(.push(r)) }
        asm.emit(.mov(.b64, Self.stateRegister, .rdi))
        asm.emit(.mov(.b64, Self.memoryRegister, .rsi))
        asm.emit(.mov(.b64, Self.limitRegister, .rdx))
        asm.emit(.alu(.sub, .b64, .rsp, imm: frameSize))
        for size in [1, 2, 4, 8] {
            asm.emit(.lea(.b64, .rax, .at(Self.limitRegister, Int32(-size))))
            asm.emit(.mov(.b64, Self.limit(size), .rax))
        }
        for (k, b) in f.layout.enumerated() {
            asm.bind(blockLabels[b.id])
            let next = k + 1 < f.layout.count ? f.layout[k + 1] : nil
            for inst in f.blocks[b.id].insts { emit(inst, next: next) }
        }
        let stubStart = asm.count
        for (label, state) in faultStubs {
            asm.bind(label)
            emitExit(state, pc: nil, tail: faultTail)
        }
        stubBytes = asm.count - stubStart
        // The shared tails: the pc (in rax) to its slot, the return code.
        asm.bind(exitTail)
        asm.emit(.mov(.b64, .at(Self.stateRegister, Int32(Tier2Backend.pcOffset)), .rax))
        asm.emit(.loadConstant(.rax, Tier2Backend.exitCode))
        asm.jmp(to: epilogue)
        asm.bind(faultTail)
        asm.emit(.mov(.b64, .at(Self.stateRegister, Int32(Tier2Backend.pcOffset)), .rax))
        asm.emit(.loadConstant(.rax, Tier2Backend.boundsFaultCode))
        asm.bind(epilogue)
        asm.emit(.alu(.add, .b64, .rsp, imm: frameSize))
        for r in saved.reversed() { asm.emit(.pop(r)) }
        asm.emit(.ret)
    }

    /// Writes the exit state's entries, puts the pc (`state.pc`, or the value `pc`) in rax and
    /// jumps to `tail` (`exitTail` or `faultTail`), which stores it and sets the return code.
    mutating func emitExit(_ state: ExitState, pc: Value?, tail: X64Label) {
        for entry in state.entries {
            let slot = X64Memory.at(Self.stateRegister, Int32(f.slots[entry.slot.id].offset))
            let r = register(entry.value) ?? .rax
            load(r, entry.value)
            asm.emit(.mov(.b64, slot, r))
        }
        if let pc {
            load(.rax, pc)
        } else {
            asm.emit(.loadConstant(.rax, state.pc.rawValue))
        }
        asm.jmp(to: tail)
    }

    /// A label for the fault stub of `inst` (its exit state), emitted after the body.
    mutating func faultLabel(_ inst: Inst) -> X64Label {
        let label = asm.newLabel()
        faultStubs.append((label, f.exitState(inst) ?? ExitState(pc: GuestAddress(0))))
        return label
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
            let a = f.arg(compare, 0)
            let r = register(a) ?? .rax
            load(r, a)
            alu(.cmp, r, f.arg(compare, 1))
            cc = Self.condition(IntCondition(rawValue: UInt8(truncatingIfNeeded: f.insts[compare.id].imm)) ?? .eq)
        } else {
            switch allocation.location(condition) {
            case .register(let r): asm.emit(.test(.b32, r, imm: 1))
            case .stack(let k): asm.emit(.test(.b32, Self.spill(k), imm: 1))
            }
        }
        let taken = data.destination0, notTaken = data.destination1
        if !hasMoves(taken) {
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
        where allocation.location(p) != allocation.location(a) {
            return true
        }
        return false
    }

    /// The parallel move of the edge's arguments to the destination's parameters, sequenced
    /// (moves whose destination no other pending move reads first; a cycle goes through r11).
    mutating func emitMoves(_ call: BlockCall) {
        enum Place: Equatable {
            case location(ValueLocation)
            case cycle
        }
        var moves: [(from: Place, to: ValueLocation)] = []
        for (p, a) in zip(f.blocks[call.block.id].params, f.list(call.args)) {
            let from = allocation.location(a), to = allocation.location(p)
            if from != to { moves.append((.location(from), to)) }
        }
        while !moves.isEmpty {
            if let k = moves.indices.first(where: { k in
                !moves.contains { $0.from == .location(moves[k].to) }
            }) {
                let move = moves.remove(at: k)
                switch move.from {
                case .location(let l): emitMove(from: l, to: move.to)
                case .cycle: emitMove(from: nil, to: move.to)
                }
            } else {
                // A cycle: park the first move's source in r11.
                let source = moves[0].from
                if case .location(let l) = source { emitMove(from: l, toRegister: Self.cycleRegister) }
                for k in moves.indices where moves[k].from == source { moves[k].from = .cycle }
            }
        }
    }

    /// `mov to, from` (from nil: r11), through rax between two stack slots.
    mutating func emitMove(from: ValueLocation?, to: ValueLocation) {
        let source: ValueLocation = from ?? .register(Self.cycleRegister)
        switch (source, to) {
        case (.register(let s), .register(let d)): asm.emit(.mov(.b64, d, s))
        case (.register(let s), .stack(let k)): asm.emit(.mov(.b64, Self.spill(k), s))
        case (.stack(let k), .register(let d)): asm.emit(.mov(.b64, d, Self.spill(k)))
        case (.stack(let j), .stack(let k)):
            asm.emit(.mov(.b64, .rax, Self.spill(j)))
            asm.emit(.mov(.b64, Self.spill(k), .rax))
        }
    }

    mutating func emitMove(from: ValueLocation, toRegister r: HostRegister) {
        switch from {
        case .register(let s): asm.emit(.mov(.b64, r, s))
        case .stack(let k): asm.emit(.mov(.b64, r, Self.spill(k)))
        }
    }
}
