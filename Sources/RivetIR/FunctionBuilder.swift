// The API a frontend builds functions with: declare slots and helpers, make blocks, append
// typed instructions to the current block. It checks nothing a verifier checks; run
// `Verifier.verify` on the result.

/// Builds a `Function` block by block.
public struct FunctionBuilder {
    /// The function built so far.
    public var function: Function
    /// The block instructions are appended to.
    public var current: Block

    /// Starts a function with an empty entry block as the current block.
    public init(name: String) {
        function = Function(name: name)
        current = function.makeBlock()
        function.layout.append(current)
    }

    /// Declares a guest-state slot.
    @discardableResult
    public mutating func declareSlot(_ name: String, _ type: IRType, offset: Int) -> Slot {
        function.slots.append(SlotDecl(name: name, type: type, offset: offset))
        return Slot(function.slots.count - 1)
    }

    /// Declares a helper.
    @discardableResult
    public mutating func declareHelper(
        _ name: String, params: [IRType], result: IRType?, effects: Effects
    ) -> HelperRef {
        function.helpers.append(HelperDecl(name: name, params: params, result: result, effects: effects))
        return HelperRef(function.helpers.count - 1)
    }

    /// A new block at the end of the layout (not current).
    public mutating func appendBlock() -> Block {
        let b = function.makeBlock()
        function.layout.append(b)
        return b
    }

    /// Appends a parameter to `block`.
    @discardableResult
    public mutating func appendParam(_ block: Block, _ type: IRType) -> Value { function.appendParam(block, type) }

    /// Makes `block` current.
    public mutating func switchTo(_ block: Block) { current = block }

    /// Appends an instruction to the current block and returns it.
    @discardableResult
    public mutating func append(
        _ opcode: Opcode, type: IRType = .i64, imm: UInt64 = 0, args: [Value] = [],
        destinations: (BlockCall, BlockCall)? = nil, exit: ExitState? = nil
    ) -> Inst {
        let inst = function.makeInst(opcode, type: type, imm: imm, args: args, destinations: destinations, exit: exit)
        function.insert(inst, into: current)
        return inst
    }

    /// Appends an instruction that has a result and returns the result.
    private mutating func value(
        _ opcode: Opcode, type: IRType = .i64, imm: UInt64 = 0, args: [Value] = [], exit: ExitState? = nil
    ) -> Value {
        let inst = append(opcode, type: type, imm: imm, args: args, exit: exit)
        return function.result(inst)
    }

    // MARK: Values

    /// `iconst`.
    public mutating func iconst(_ v: UInt64) -> Value { value(.iconst, imm: v) }
    /// `iconst` of a signed number.
    public mutating func iconst(_ v: Int64) -> Value { value(.iconst, imm: UInt64(bitPattern: v)) }
    /// `bconst`.
    public mutating func bconst(_ v: Bool) -> Value { value(.bconst, imm: v ? 1 : 0) }
    /// `f64const` from bits.
    public mutating func f64const(bits: UInt64) -> Value { value(.f64const, imm: bits) }
    /// `f32const` from bits.
    public mutating func f32const(bits: UInt32) -> Value { value(.f32const, imm: UInt64(bits)) }
    /// A unary operation (`bnot`, `sext32`, `fsqrt.f64` with `type`, `bint`, ...).
    public mutating func unary(_ op: Opcode, _ a: Value, type: IRType = .i64) -> Value { value(op, type: type, args: [a]) }
    /// A binary operation (`iadd`, `fadd.f64` with `type`, ...).
    public mutating func binary(_ op: Opcode, _ a: Value, _ b: Value, type: IRType = .i64) -> Value {
        value(op, type: type, args: [a, b])
    }
    /// A ternary operation (`ffma.f64` with `type`).
    public mutating func ternary(_ op: Opcode, _ a: Value, _ b: Value, _ c: Value, type: IRType) -> Value {
        value(op, type: type, args: [a, b, c])
    }
    /// `icmp cond a, b`.
    public mutating func icmp(_ cond: IntCondition, _ a: Value, _ b: Value) -> Value {
        value(.icmp, imm: UInt64(cond.rawValue), args: [a, b])
    }
    /// `fcmp.T cond a, b`.
    public mutating func fcmp(_ cond: FloatCondition, _ a: Value, _ b: Value) -> Value {
        value(.fcmp, type: function.type(a), imm: UInt64(cond.rawValue), args: [a, b])
    }
    /// `fcmp_silent.T cond a, b`: a compare that raises no flag.
    public mutating func fcmpSilent(_ cond: FloatCondition, _ a: Value, _ b: Value) -> Value {
        value(.fcmpSilent, type: function.type(a), imm: UInt64(cond.rawValue), args: [a, b])
    }
    /// `select.T c, a, b`.
    public mutating func select(_ c: Value, _ a: Value, _ b: Value) -> Value {
        value(.select, type: function.type(a), args: [c, a, b])
    }

    // MARK: State, memory, helpers

    /// `get_slot.T slot`.
    public mutating func getSlot(_ slot: Slot) -> Value {
        value(.getSlot, type: function.slots[slot.id].type, imm: UInt64(slot.index))
    }
    /// `set_slot slot, v`.
    public mutating func setSlot(_ slot: Slot, _ v: Value) { append(.setSlot, imm: UInt64(slot.index), args: [v]) }
    /// A load (`load.i64`, `uload8`, ...) from guest address `address`.
    public mutating func load(_ op: Opcode, _ address: Value, exit: ExitState) -> Value {
        value(op, args: [address], exit: exit)
    }
    /// A store (`store64`, `store.f64`, ...) of `v` at guest address `address`.
    public mutating func store(_ op: Opcode, _ address: Value, _ v: Value, exit: ExitState) {
        append(op, args: [address, v], exit: exit)
    }
    /// `call @helper(args)`; returns the result if the helper has one. `exit` is required iff
    /// the helper can fault.
    @discardableResult
    public mutating func call(_ helper: HelperRef, _ args: [Value], exit: ExitState? = nil) -> Value? {
        let inst = append(.call, imm: UInt64(helper.index), args: args, exit: exit)
        return function.insts[inst.id].result
    }

    // MARK: Terminators

    /// `jump block(args)`.
    public mutating func jump(_ block: Block, _ args: [Value] = []) {
        let call = BlockCall(block: block, args: function.makeList(args))
        append(.jump, destinations: (call, BlockCall(block: Block(0), args: .empty)))
    }
    /// `brif c, a(aArgs), b(bArgs)`.
    public mutating func brif(_ c: Value, _ a: Block, _ aArgs: [Value], _ b: Block, _ bArgs: [Value]) {
        let t0 = BlockCall(block: a, args: function.makeList(aArgs))
        let t1 = BlockCall(block: b, args: function.makeList(bArgs))
        append(.brif, args: [c], destinations: (t0, t1))
    }
    /// `exit pc=... [state]`.
    public mutating func exit(_ state: ExitState) { append(.exit, exit: state) }
    /// `exit_indirect pc [state]`.
    public mutating func exitIndirect(_ pc: Value, _ entries: [ExitEntry] = []) {
        append(.exitIndirect, args: [pc], exit: ExitState(pc: GuestAddress(0), entries: entries))
    }
    /// `trap`.
    public mutating func trap() { append(.trap) }

    /// Sets or replaces the exit state of an instruction already appended.
    public mutating func setExitState(_ inst: Inst, _ state: ExitState) { function.setExitState(inst, state) }
}
