// A function of the IR as data: contiguous arrays indexed by the ids of Entities.swift, with
// operand lists in one shared pool (no object per instruction; after Cranelift's DataFlowGraph
// and LuaJIT's IR arrays). Instructions removed by a pass stay in `insts` but leave their
// block's list; values they defined are then unused.

/// A declared guest-state slot: a field of the host's state struct at a byte offset. The IR
/// knows nothing of what a slot means (a RISC-V register, fcsr, ...).
public struct SlotDecl: Hashable, Sendable {
    /// Name used in the text form (`x10`).
    public var name: String
    /// Type of the values it holds.
    public var type: IRType
    /// Byte offset in the host's state struct.
    public var offset: Int
    /// A slot declaration.
    public init(name: String, type: IRType, offset: Int) {
        self.name = name
        self.type = type
        self.offset = offset
    }
}

/// A declared helper: a host function the code may call.
public struct HelperDecl: Hashable, Sendable {
    /// Name used in the text form (`@div`) and by the evaluator's environment.
    public var name: String
    /// Parameter types.
    public var params: [IRType]
    /// Result type, or nil for none.
    public var result: IRType?
    /// What a call does (`.isPure` for none at all; `.canFault` needs an exit state).
    public var effects: Effects
    /// A helper declaration.
    public init(name: String, params: [IRType], result: IRType?, effects: Effects) {
        self.name = name
        self.params = params
        self.result = result
        self.effects = effects
    }
}

/// A range of values in `Function.pool`.
public struct ValueList: Hashable, Sendable {
    /// Index of the first value in the pool.
    public var start: UInt32
    /// Number of values.
    public var count: UInt32
    /// No values.
    public static let empty = ValueList(start: 0, count: 0)
    /// The list of `count` values from `start`.
    public init(start: UInt32, count: UInt32) {
        self.start = start
        self.count = count
    }
}

/// A branch destination: a block and the arguments for its parameters.
public struct BlockCall: Hashable, Sendable {
    /// The destination block.
    public var block: Block
    /// Arguments for the block's parameters, in order.
    public var args: ValueList
    /// A destination with its arguments.
    public init(block: Block, args: ValueList) {
        self.block = block
        self.args = args
    }
}

/// One `slot = value` pair of an exit state.
public struct ExitEntry: Hashable, Sendable {
    /// The slot not yet written back.
    public var slot: Slot
    /// Its current value: of the slot's type, or a float for an i64 slot: a double's bits, or a
    /// single NaN-boxed (its 32 bits, the upper 32 all ones: how RISC-V, the IR's guest, keeps
    /// a single in a 64-bit register).
    public var value: Value
    /// A `slot = value` entry.
    public init(slot: Slot, value: Value) {
        self.slot = slot
        self.value = value
    }
}

/// Where execution resumes if an instruction faults or the region exits here: the guest pc and
/// the guest state that is not in the state struct yet (values to write there first). Entries
/// are sorted by slot, at most one per slot.
public struct ExitState: Hashable, Sendable {
    /// The guest pc to resume at (unused by `exit_indirect`).
    public var pc: GuestAddress
    /// Guest state to write to the struct before resuming, sorted by slot.
    public var entries: [ExitEntry]
    /// An exit state (entries are sorted when it is attached).
    public init(pc: GuestAddress, entries: [ExitEntry] = []) {
        self.pc = pc
        self.entries = entries
    }
}

/// One instruction.
public struct InstData: Sendable {
    /// The operation.
    public var opcode: Opcode
    /// The controlling type (the `.T` suffix); `.i64` when the opcode has none.
    public var type: IRType
    /// Immediate: the constant, condition code, slot or helper index, by format.
    public var imm: UInt64
    /// Operands (for `brif`, the condition only; for branches, not the block arguments).
    public var args: ValueList
    /// The result, if any.
    public var result: Value?
    /// `jump`'s and `brif`'s first destination.
    public var destination0: BlockCall
    /// `brif`'s second destination.
    public var destination1: BlockCall
    /// Index into `Function.exitStates`, or -1.
    public var exitState: Int32
    /// The block holding it, or nil once removed.
    public var block: Block?
}

/// A block: its parameters and its instructions in order (the last one a terminator).
public struct BlockData: Sendable {
    /// Parameters, in order.
    public var params: [Value] = []
    /// Instructions, in order; the last is the terminator.
    public var insts: [Inst] = []
}

/// Where a value comes from.
public enum ValueDef: Hashable, Sendable {
    /// Nowhere (a number skipped in the text, or not yet defined while parsing).
    case none
    /// The result of an instruction.
    case inst(Inst)
    /// A block's parameter at this position.
    case param(Block, Int)
}

/// A value's type and origin.
public struct ValueData: Sendable {
    /// The type.
    public var type: IRType
    /// The definition.
    public var def: ValueDef
}

/// A function: guest-state slots and helpers it may use, and its blocks. Blocks run in
/// `layout` order in the text; the first is the entry, which has no parameters and no
/// predecessors.
public struct Function: Sendable {
    /// Name in the text form (`%name`).
    public var name: String
    /// Guest-state slots, indexed by `Slot`.
    public var slots: [SlotDecl] = []
    /// Helpers, indexed by `HelperRef`.
    public var helpers: [HelperDecl] = []
    /// Blocks, indexed by `Block` (deleted ones included: see `layout`).
    public var blocks: [BlockData] = []
    /// Blocks in text order; blocks not listed are deleted.
    public var layout: [Block] = []
    /// Instructions, indexed by `Inst` (removed ones included: their `block` is nil).
    public var insts: [InstData] = []
    /// Values, indexed by `Value`.
    public var values: [ValueData] = []
    /// Operand lists (`ValueList`s point here).
    public var pool: [Value] = []
    /// Exit states (`InstData.exitState` indexes here).
    public var exitStates: [ExitState] = []

    /// An empty function (no blocks yet).
    public init(name: String) { self.name = name }

    /// The entry block.
    public var entry: Block { layout[0] }

    // MARK: Queries

    /// The operands of `inst` (for branches, the condition only).
    @inline(__always) public func args(_ inst: Inst) -> ArraySlice<Value> { list(insts[inst.id].args) }

    /// The values of a list.
    @inline(__always) public func list(_ l: ValueList) -> ArraySlice<Value> {
        pool[Int(l.start)..<Int(l.start + l.count)]
    }

    /// Operand `i` of `inst`.
    @inline(__always) public func arg(_ inst: Inst, _ i: Int) -> Value { pool[Int(insts[inst.id].args.start) + i] }

    /// The result of `inst` (which must have one).
    @inline(__always) public func result(_ inst: Inst) -> Value { insts[inst.id].result! }

    /// The type of a value.
    @inline(__always) public func type(_ v: Value) -> IRType { values[v.id].type }

    /// The bits of `v` if an `iconst` defines it (what the passes' rules match on).
    public func iconstValue(_ v: Value) -> UInt64? {
        guard case .inst(let d) = values[v.id].def, insts[d.id].opcode == .iconst else { return nil }
        return insts[d.id].imm
    }

    /// The effects of `inst`: the opcode's, or for a call, `.callsHelper` and the helper's.
    @inline(__always) public func effects(_ inst: Inst) -> Effects {
        let data = insts[inst.id]
        if data.opcode == .call { return helpers[Int(data.imm)].effects.union(.callsHelper) }
        return data.opcode.info.effects
    }

    /// Whether `inst` needs an exit state (it may fault, or it exits).
    public func needsExitState(_ inst: Inst) -> Bool {
        let op = insts[inst.id].opcode
        return op == .exit || op == .exitIndirect || effects(inst).contains(.canFault)
    }

    /// The exit state of `inst`, if it has one.
    @inline(__always) public func exitState(_ inst: Inst) -> ExitState? {
        let index = insts[inst.id].exitState
        return index < 0 ? nil : exitStates[Int(index)]
    }

    /// The terminator of `block` (its last instruction), if any.
    public func terminator(_ block: Block) -> Inst? { blocks[block.id].insts.last }

    /// The branch destinations of `inst` (none for non-branches).
    public func destinations(_ inst: Inst) -> [BlockCall] {
        let data = insts[inst.id]
        switch data.opcode {
        case .jump: return [data.destination0]
        case .brif: return [data.destination0, data.destination1]
        case .iconst, .bconst, .f32const, .f64const, .iadd, .isub, .imul, .imulhs, .imulhu, .imulhsu, .sdiv, .udiv,
            .srem, .urem, .band, .bor, .bxor, .bnot, .ineg, .shl, .ushr, .sshr, .rotl, .rotr, .sext8, .sext16, .sext32,
            .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .icmp, .select, .bint, .fadd,
            .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .bitcast, .f32FromBits, .f32ToBits,
            .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .getSlot, .setSlot, .loadI64, .uload8, .sload8, .uload16,
            .sload16, .uload32, .sload32, .loadF32, .loadF64, .store8, .store16, .store32, .store64, .storeF32,
            .storeF64, .call, .exit, .exitIndirect, .trap:
            return []
        }
    }

    /// The successors of `block`, in branch order (a block may appear twice).
    public func successors(_ block: Block) -> [Block] {
        guard let term = terminator(block) else { return [] }
        return destinations(term).map(\.block)
    }

    /// Calls `body` with every value `inst` uses: operands, block arguments, exit-state values.
    @inline(__always)
    public func forEachUse(_ inst: Inst, _ body: (Value) -> Void) {
        let data = insts[inst.id]
        for v in list(data.args) { body(v) }
        if data.opcode == .jump || data.opcode == .brif {
            for v in list(data.destination0.args) { body(v) }
            if data.opcode == .brif { for v in list(data.destination1.args) { body(v) } }
        }
        if data.exitState >= 0 { for e in exitStates[Int(data.exitState)].entries { body(e.value) } }
    }

    /// Instructions of live blocks, in layout order.
    public var liveInsts: [Inst] { layout.flatMap { blocks[$0.id].insts } }

    // MARK: Construction

    /// Appends a new list to the pool.
    public mutating func makeList<S: Sequence>(_ values: S) -> ValueList where S.Element == Value {
        let start = UInt32(pool.count)
        pool.append(contentsOf: values)
        return ValueList(start: start, count: UInt32(pool.count) - start)
    }

    /// A new value of a type, defined nowhere yet.
    public mutating func makeValue(_ type: IRType, _ def: ValueDef = .none) -> Value {
        values.append(ValueData(type: type, def: def))
        return Value(values.count - 1)
    }

    /// A new, empty block (not in the layout).
    public mutating func makeBlock() -> Block {
        blocks.append(BlockData())
        return Block(blocks.count - 1)
    }

    /// Appends a parameter of `type` to `block`.
    @discardableResult
    public mutating func appendParam(_ block: Block, _ type: IRType) -> Value {
        let v = makeValue(type, .param(block, blocks[block.id].params.count))
        blocks[block.id].params.append(v)
        return v
    }

    /// The result type an instruction of `opcode` with controlling type `type` and immediate
    /// `imm` has, if any.
    public func resultType(_ opcode: Opcode, _ type: IRType, _ imm: UInt64) -> IRType? {
        if opcode == .call { return helpers[Int(imm)].result }
        switch opcode.info.result {
        case nil: return nil
        case .fixed(let t): return t
        case .controlling: return type
        case .bitcastSource: return type == .i64 ? .f64 : .i64
        }
    }

    /// A new instruction, in no block yet; makes its result value if it has one.
    public mutating func makeInst(
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
    public mutating func insert(_ inst: Inst, into block: Block, at position: Int? = nil) {
        insts[inst.id].block = block
        if let position { blocks[block.id].insts.insert(inst, at: position) } else { blocks[block.id].insts.append(inst) }
    }

    /// Sets or replaces the exit state of `inst`.
    public mutating func setExitState(_ inst: Inst, _ state: ExitState) {
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
    public mutating func rewriteUses(_ map: [Value]) {
        // Through buffers, and exit states written only where one of their values changes
        // (most do not): element by element, each write checked that the arrays were unique.
        map.withUnsafeBufferPointer { map in
            func resolve(_ v: Value) -> Value {
                var v = v
                while map[v.id] != v { v = map[v.id] }
                return v
            }
            pool.withUnsafeMutableBufferPointer { pool in
                for i in pool.indices where map[pool[i].id] != pool[i] { pool[i] = resolve(pool[i]) }
            }
            for s in exitStates.indices {
                guard exitStates[s].entries.contains(where: { map[$0.value.id] != $0.value }) else { continue }
                exitStates[s].entries.withUnsafeMutableBufferPointer { entries in
                    for e in entries.indices { entries[e].value = resolve(entries[e].value) }
                }
            }
        }
    }

    /// Removes blocks `cfg` found unreachable from the layout.
    public mutating func removeUnreachableBlocks(_ cfg: ControlFlowGraph) { removeUnreachable(cfg.rpoIndex) }

    /// Removes blocks `order` found unreachable from the layout.
    public mutating func removeUnreachableBlocks(_ order: BlockOrder) { removeUnreachable(order.rpoIndex) }

    private mutating func removeUnreachable(_ rpoIndex: [Int]) {
        for b in layout where rpoIndex[b.id] < 0 {
            for inst in blocks[b.id].insts { insts[inst.id].block = nil }
        }
        layout.removeAll { rpoIndex[$0.id] < 0 }
    }

    /// Removes instructions for which `remove` is true from every block.
    public mutating func removeInsts(where remove: (Inst) -> Bool) {
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
    public mutating func makeConstant(_ inst: Inst, _ bits: UInt64) {
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
    public mutating func makeJump(_ inst: Inst, _ call: BlockCall) {
        insts[inst.id].opcode = .jump
        insts[inst.id].args = .empty
        insts[inst.id].destination0 = call
        insts[inst.id].destination1 = BlockCall(block: Block(0), args: .empty)
        insts[inst.id].type = .i64
    }
}
