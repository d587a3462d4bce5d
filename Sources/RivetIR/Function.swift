// A function of the IR as data: contiguous arrays indexed by the ids of Entities.swift, with
// operand lists in one shared pool (no object per instruction; after Cranelift's DataFlowGraph
// and LuaJIT's IR arrays). Instructions removed by a pass stay in `insts` but leave their
// block's list; values they defined are then unused.

/// A declared guest-state slot: a field of the host's state struct at a byte offset. The IR
/// knows nothing of what a slot means (a RISC-V register, fcsr, ...).
package struct SlotDecl: Hashable, Sendable {
    /// Name used in the text form (`x10`).
    package var name: String
    /// Type of the values it holds.
    package var type: IRType
    /// Byte offset in the host's state struct.
    package var offset: Int
    /// A slot declaration.
    package init(name: String, type: IRType, offset: Int) {
        self.name = name
        self.type = type
        self.offset = offset
    }
}

/// A declared helper: a host function the code may call.
package struct HelperDecl: Hashable, Sendable {
    /// Name used in the text form (`@div`) and by the evaluator's environment.
    package var name: String
    /// Parameter types.
    package var params: [IRType]
    /// Result type, or nil for none.
    package var result: IRType?
    /// What a call does (`.isPure` for none at all; `.canFault` needs an exit state).
    package var effects: Effects
    /// A helper declaration.
    package init(name: String, params: [IRType], result: IRType?, effects: Effects) {
        self.name = name
        self.params = params
        self.result = result
        self.effects = effects
    }
}

/// A range of values in `Function.pool`.
package struct ValueList: Hashable, Sendable {
    /// Index of the first value in the pool.
    package var start: UInt32
    /// Number of values.
    package var count: UInt32
    /// No values.
    package static let empty = ValueList(start: 0, count: 0)
    /// The list of `count` values from `start`.
    package init(start: UInt32, count: UInt32) {
        self.start = start
        self.count = count
    }
}

/// A branch destination: a block and the arguments for its parameters.
package struct BlockCall: Hashable, Sendable {
    /// The destination block.
    package var block: Block
    /// Arguments for the block's parameters, in order.
    package var args: ValueList
    /// A destination with its arguments.
    package init(block: Block, args: ValueList) {
        self.block = block
        self.args = args
    }
}

/// One `slot = value` pair of an exit state.
package struct ExitEntry: Hashable, Sendable {
    /// The slot not yet written back.
    package var slot: Slot
    /// Its current value: of the slot's type, or a float for an i64 slot: a double's bits, or a
    /// single NaN-boxed (its 32 bits, the upper 32 all ones: how RISC-V, the IR's guest, keeps
    /// a single in a 64-bit register).
    package var value: Value
    /// A `slot = value` entry.
    package init(slot: Slot, value: Value) {
        self.slot = slot
        self.value = value
    }
}

/// Where execution resumes if an instruction faults or the region exits here: the guest pc and
/// the guest state that is not in the state struct yet (values to write there first). Entries
/// are sorted by slot, at most one per slot.
package struct ExitState: Hashable, Sendable {
    /// The guest pc to resume at (unused by `exit_indirect`).
    package var pc: GuestAddress
    /// Guest state to write to the struct before resuming, sorted by slot.
    package var entries: [ExitEntry]
    /// An exit state (entries are sorted when it is attached).
    package init(pc: GuestAddress, entries: [ExitEntry] = []) {
        self.pc = pc
        self.entries = entries
    }
}

/// One instruction.
package struct InstData: Sendable {
    /// The operation.
    package var opcode: Opcode
    /// The controlling type (the `.T` suffix); `.i64` when the opcode has none.
    package var type: IRType
    /// Immediate: the constant, condition code, slot or helper index, by format.
    package var imm: UInt64
    /// Operands (for `brif`, the condition only; for branches, not the block arguments).
    package var args: ValueList
    /// The result, if any.
    package var result: Value?
    /// `jump`'s and `brif`'s first destination.
    package var destination0: BlockCall
    /// `brif`'s second destination.
    package var destination1: BlockCall
    /// Index into `Function.exitStates`, or -1.
    package var exitState: Int32
    /// The block holding it, or nil once removed.
    package var block: Block?
}

/// A block: its parameters and its instructions in order (the last one a terminator).
package struct BlockData: Sendable {
    /// Parameters, in order.
    package var params: [Value] = []
    /// Instructions, in order; the last is the terminator.
    package var insts: [Inst] = []
}

/// Where a value comes from.
package enum ValueDef: Hashable, Sendable {
    /// Nowhere (a number skipped in the text, or not yet defined while parsing).
    case none
    /// The result of an instruction.
    case inst(Inst)
    /// A block's parameter at this position.
    case param(Block, Int)
}

/// A value's type and origin.
package struct ValueData: Sendable {
    /// The type.
    package var type: IRType
    /// The definition.
    package var def: ValueDef
}

/// A function: guest-state slots and helpers it may use, and its blocks. Blocks run in
/// `layout` order in the text; the first is the entry, which has no parameters and no
/// predecessors.
package struct Function: Sendable {
    /// Name in the text form (`%name`).
    package var name: String
    /// Guest-state slots, indexed by `Slot`.
    package var slots: [SlotDecl] = []
    /// Helpers, indexed by `HelperRef`.
    package var helpers: [HelperDecl] = []
    /// Blocks, indexed by `Block` (deleted ones included: see `layout`).
    package var blocks: [BlockData] = []
    /// Blocks in text order; blocks not listed are deleted.
    package var layout: [Block] = []
    /// Instructions, indexed by `Inst` (removed ones included: their `block` is nil).
    package var insts: [InstData] = []
    /// Values, indexed by `Value`.
    package var values: [ValueData] = []
    /// Operand lists (`ValueList`s point here).
    package var pool: [Value] = []
    /// Exit states (`InstData.exitState` indexes here).
    package var exitStates: [ExitState] = []

    /// An empty function (no blocks yet).
    package init(name: String) { self.name = name }

    /// The entry block.
    package var entry: Block { layout[0] }

    // MARK: Queries

    /// The operands of `inst` (for branches, the condition only).
    @inline(__always) package func args(_ inst: Inst) -> ArraySlice<Value> { list(insts[inst.id].args) }

    /// The values of a list.
    @inline(__always) package func list(_ l: ValueList) -> ArraySlice<Value> {
        pool[Int(l.start)..<Int(l.start + l.count)]
    }

    /// Operand `i` of `inst`.
    @inline(__always) package func arg(_ inst: Inst, _ i: Int) -> Value { pool[Int(insts[inst.id].args.start) + i] }

    /// The result of `inst` (which must have one).
    @inline(__always) package func result(_ inst: Inst) -> Value { insts[inst.id].result! }

    /// The type of a value.
    @inline(__always) package func type(_ v: Value) -> IRType { values[v.id].type }

    /// The effects of `inst`: the opcode's, or for a call, `.callsHelper` and the helper's.
    @inline(__always) package func effects(_ inst: Inst) -> Effects {
        let data = insts[inst.id]
        if data.opcode == .call { return helpers[Int(data.imm)].effects.union(.callsHelper) }
        return data.opcode.info.effects
    }

    /// Whether `inst` needs an exit state (it may fault, or it exits).
    package func needsExitState(_ inst: Inst) -> Bool {
        let op = insts[inst.id].opcode
        return op == .exit || op == .exitIndirect || effects(inst).contains(.canFault)
    }

    /// The exit state of `inst`, if it has one.
    @inline(__always) package func exitState(_ inst: Inst) -> ExitState? {
        let index = insts[inst.id].exitState
        return index < 0 ? nil : exitStates[Int(index)]
    }

    /// The terminator of `block` (its last instruction), if any.
    package func terminator(_ block: Block) -> Inst? { blocks[block.id].insts.last }

    /// The branch destinations of `inst` (none for non-branches).
    package func destinations(_ inst: Inst) -> [BlockCall] {
        let data = insts[inst.id]
        switch data.opcode {
        case .jump: return [data.destination0]
        case .brif: return [data.destination0, data.destination1]
        case .iconst, .bconst, .f32const, .f64const, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv,
            .udiv, .srem, .urem, .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8,
            .sext16, .sext32, .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .icmp, .select, .bint, .fadd,
            .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .bitcast, .f32FromBits,
            .f32ToBits, .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote,
            .getSlot, .setSlot, .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .loadF32,
            .loadF64, .store8, .store16, .store32, .store64, .storeF32, .storeF64, .call, .exit, .exitIndirect,
            .trap:
            return []
        }
    }

    /// The successors of `block`, in branch order (a block may appear twice).
    package func successors(_ block: Block) -> [Block] {
        guard let term = terminator(block) else { return [] }
        return destinations(term).map(\.block)
    }

    /// Calls `body` with every value `inst` uses: operands, block arguments, exit-state values.
    @inline(__always)
    package func forEachUse(_ inst: Inst, _ body: (Value) -> Void) {
        let data = insts[inst.id]
        for v in list(data.args) { body(v) }
        if data.opcode == .jump || data.opcode == .brif {
            for v in list(data.destination0.args) { body(v) }
            if data.opcode == .brif { for v in list(data.destination1.args) { body(v) } }
        }
        if data.exitState >= 0 { for e in exitStates[Int(data.exitState)].entries { body(e.value) } }
    }

    /// Instructions of live blocks, in layout order.
    package var liveInsts: [Inst] { layout.flatMap { blocks[$0.id].insts } }

    // MARK: Construction

    /// Appends a new list to the pool.
    package mutating func makeList<S: Sequence>(_ values: S) -> ValueList where S.Element == Value {
        let start = UInt32(pool.count)
        pool.append(contentsOf: values)
        return ValueList(start: start, count: UInt32(pool.count) - start)
    }

    /// A new value of a type, defined nowhere yet.
    package mutating func makeValue(_ type: IRType, _ def: ValueDef = .none) -> Value {
        values.append(ValueData(type: type, def: def))
        return Value(values.count - 1)
    }

    /// A new, empty block (not in the layout).
    package mutating func makeBlock() -> Block {
        blocks.append(BlockData())
        return Block(blocks.count - 1)
    }

    /// Appends a parameter of `type` to `block`.
    @discardableResult
    package mutating func appendParam(_ block: Block, _ type: IRType) -> Value {
        let v = makeValue(type, .param(block, blocks[block.id].params.count))
        blocks[block.id].params.append(v)
        return v
    }

    /// The result type an instruction of `opcode` with controlling type `type` and immediate
    /// `imm` has, if any.
    package func resultType(_ opcode: Opcode, _ type: IRType, _ imm: UInt64) -> IRType? {
        if opcode == .call { return helpers[Int(imm)].result }
        switch opcode.info.result {
        case nil: return nil
        case .fixed(let t): return t
        case .controlling: return type
        case .bitcastSource: return type == .i64 ? .f64 : .i64
        }
    }

    /// A new instruction, in no block yet; makes its result value if it has one.
    package mutating func makeInst(
        _ opcode: Opcode, type: IRType = .i64, imm: UInt64 = 0, args: [Value] = [],
        destinations: (BlockCall, BlockCall)? = nil, exit: ExitState? = nil
    ) -> Inst {
        let inst = Inst(insts.count)
        let empty = BlockCall(block: Block(0), args: .empty)
        var exitIndex: Int32 = -1
        if var exit {
            exit.entries.sort { $0.slot < $1.slot }
            exitStates.append(exit)
            exitIndex = Int32(exitStates.count - 1)
        }
        insts.append(
            InstData(
                opcode: opcode, type: type, imm: imm, args: makeList(args), result: nil,
                destination0: destinations?.0 ?? empty, destination1: destinations?.1 ?? empty, exitState: exitIndex, block: nil))
        if let rt = resultType(opcode, type, imm) {
            insts[inst.id].result = makeValue(rt, .inst(inst))
        }
        return inst
    }

    /// Puts `inst` into `block` at `position` (default: the end).
    package mutating func insert(_ inst: Inst, into block: Block, at position: Int? = nil) {
        insts[inst.id].block = block
        if let position { blocks[block.id].insts.insert(inst, at: position) } else { blocks[block.id].insts.append(inst) }
    }

    /// Sets or replaces the exit state of `inst`.
    package mutating func setExitState(_ inst: Inst, _ state: ExitState) {
        var state = state
        state.entries.sort { $0.slot < $1.slot }
        let index = insts[inst.id].exitState
        if index >= 0 {
            exitStates[Int(index)] = state
        } else {
            exitStates.append(state)
            insts[inst.id].exitState = Int32(exitStates.count - 1)
        }
    }

    // MARK: Rewriting

    /// Replaces every use of a value by `map[value]` (chains followed), everywhere: operands,
    /// block arguments, exit states. `map` is indexed by value and holds the value itself when
    /// unchanged.
    package mutating func rewriteUses(_ map: [Value]) {
        func resolve(_ v: Value) -> Value {
            var v = v
            while map[v.id] != v { v = map[v.id] }
            return v
        }
        for i in pool.indices { pool[i] = resolve(pool[i]) }
        for s in exitStates.indices {
            for e in exitStates[s].entries.indices {
                exitStates[s].entries[e].value = resolve(exitStates[s].entries[e].value)
            }
        }
    }

    /// Removes blocks `cfg` found unreachable from the layout.
    package mutating func removeUnreachableBlocks(_ cfg: ControlFlowGraph) {
        for b in layout where !cfg.isReachable(b) {
            for inst in blocks[b.id].insts { insts[inst.id].block = nil }
        }
        layout.removeAll { !cfg.isReachable($0) }
    }

    /// Removes instructions for which `remove` is true from every block.
    package mutating func removeInsts(where remove: (Inst) -> Bool) {
        for b in layout {
            blocks[b.id].insts.removeAll { inst in
                if remove(inst) {
                    insts[inst.id].block = nil
                    return true
                }
                return false
            }
        }
    }

    /// Turns `inst` into a constant of its result's type with bits `bits`, in place.
    package mutating func makeConstant(_ inst: Inst, _ bits: UInt64) {
        let type = self.type(result(inst))
        let op: Opcode
        switch type {
        case .i64: op = .iconst
        case .b1: op = .bconst
        case .f32: op = .f32const
        case .f64: op = .f64const
        }
        insts[inst.id].opcode = op
        insts[inst.id].type = .i64
        insts[inst.id].imm = bits
        insts[inst.id].args = .empty
        insts[inst.id].exitState = -1
    }

    /// Turns a terminator into `jump` to `call`.
    package mutating func makeJump(_ inst: Inst, _ call: BlockCall) {
        insts[inst.id].opcode = .jump
        insts[inst.id].args = .empty
        insts[inst.id].destination0 = call
        insts[inst.id].destination1 = BlockCall(block: Block(0), args: .empty)
        insts[inst.id].type = .i64
    }
}
