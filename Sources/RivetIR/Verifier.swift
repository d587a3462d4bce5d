// Checks that a function is well formed: types of operands and results, block arguments at
// every branch, exactly one terminator ending each block, exit states where (and only where)
// an instruction may fault or exits, slots and helpers declared, and SSA: every use (operand,
// block argument, exit-state value) dominated by its definition. Unreachable blocks are checked
// for everything but dominance.

/// The errors found in a function.
public struct VerifierError: Error, CustomStringConvertible {
    /// One line per error, naming the block and the printed instruction.
    public var messages: [String]
    public var description: String { messages.joined(separator: "\n") }
}

/// The IR verifier.
public enum Verifier {
    /// Checks `f`.
    /// - Throws: `VerifierError` listing every problem found.
    public static func verify(_ f: Function) throws(VerifierError) {
        var errors: [String] = []
        var checker = Checker(f: f, errors: [])
        checker.run()
        errors = checker.errors
        if !errors.isEmpty { throw VerifierError(messages: errors) }
    }
}

private struct Checker {
    let f: Function
    var errors: [String]

    mutating func fail(_ block: Block, _ inst: Inst?, _ message: String) {
        if let inst { errors.append("\(block): `\(f.text(of: inst))`: \(message)") } else { errors.append("\(block): \(message)") }
    }

    mutating func run() {
        guard !f.layout.isEmpty else {
            errors.append("function has no blocks")
            return
        }
        var inLayout = [Bool](filled: false, count: f.blocks.count)
        for b in f.layout {
            if b.id >= f.blocks.count || inLayout[b.id] {
                errors.append("\(b) listed twice or not a block")
                return
            }
            inLayout[b.id] = true
        }
        if !f.blocks[f.entry.id].params.isEmpty { fail(f.entry, nil, "the entry block has parameters") }
        let cfg = ControlFlowGraph(f)
        if !cfg.predecessors[f.entry.id].isEmpty { fail(f.entry, nil, "the entry block has predecessors") }
        let tree = DominatorTree(cfg)
        let positions = InstPositions(f)
        var defined = [Bool](filled: false, count: f.values.count)
        for b in f.layout {
            for (i, p) in f.blocks[b.id].params.enumerated() {
                if f.values[p.id].def != .param(b, i) { fail(b, nil, "parameter \(p) does not record its definition") }
                if defined[p.id] { fail(b, nil, "\(p) defined twice") }
                defined[p.id] = true
            }
            for inst in f.blocks[b.id].insts {
                guard let r = f.insts[inst.id].result else { continue }
                if f.values[r.id].def != .inst(inst) { fail(b, inst, "result does not record its definition") }
                if defined[r.id] { fail(b, inst, "\(r) defined twice") }
                defined[r.id] = true
            }
        }
        for b in f.layout {
            let insts = f.blocks[b.id].insts
            if insts.isEmpty {
                fail(b, nil, "empty block (no terminator)")
                continue
            }
            for (i, inst) in insts.enumerated() {
                let isTerminator = f.insts[inst.id].opcode.info.effects.contains(.isTerminator)
                if f.insts[inst.id].block != b { fail(b, inst, "instruction does not record its block") }
                if isTerminator != (i == insts.count - 1) {
                    fail(b, inst, isTerminator ? "terminator before the end of the block" : "block does not end with a terminator")
                }
                checkInst(b, inst, inLayout)
                let reachable = cfg.isReachable(b)
                f.forEachUse(inst) { v in
                    if v.id >= f.values.count || !defined[v.id] {
                        errors.append("\(b): `\(f.text(of: inst))`: \(v) is not defined")
                    } else if reachable && !positions.dominates(f, tree, v, use: inst) {
                        errors.append("\(b): `\(f.text(of: inst))`: \(v) does not dominate this use")
                    }
                }
            }
        }
    }

    func typeOf(_ rule: TypeRule, _ controlling: IRType) -> IRType {
        switch rule {
        case .fixed(let t): return t
        case .controlling: return controlling
        case .bitcastSource: return controlling == .i64 ? .f64 : .i64
        }
    }

    mutating func checkInst(_ b: Block, _ inst: Inst, _ inLayout: [Bool]) {
        let data = f.insts[inst.id]
        let info = data.opcode.info
        let args = Array(f.args(inst))
        switch info.controlling {
        case .none: if data.type != .i64 { fail(b, inst, "unexpected controlling type") }
        case .floats: if data.type != .f32 && data.type != .f64 { fail(b, inst, "controlling type must be f32 or f64") }
        case .any: break
        case .i64OrF64: if data.type != .i64 && data.type != .f64 { fail(b, inst, "controlling type must be i64 or f64") }
        }
        var expected: [IRType] = info.operands.map { typeOf($0, data.type) }
        switch info.format {
        case .constant:
            if data.opcode == .bconst && data.imm > 1 { fail(b, inst, "bconst immediate is not 0 or 1") }
            if data.opcode == .f32const && data.imm > UInt64(UInt32.max) { fail(b, inst, "f32const wider than 32 bits") }
        case .unary, .binary, .ternary, .load, .store, .brif, .exitIndirect, .jump, .exit, .trap:
            break
        case .compare:
            let ok =
                data.opcode == .icmp
                ? IntCondition(rawValue: UInt8(truncatingIfNeeded: data.imm)) != nil && data.imm < 256
                : FloatCondition(rawValue: UInt8(truncatingIfNeeded: data.imm)) != nil && data.imm < 256
            if !ok { fail(b, inst, "bad condition code") }
        case .getSlot, .setSlot:
            guard data.imm < UInt64(f.slots.count) else {
                fail(b, inst, "undeclared slot")
                return
            }
            let slotType = f.slots[Int(data.imm)].type
            if info.format == .getSlot {
                if data.type != slotType { fail(b, inst, "type suffix differs from the slot's type \(slotType)") }
            } else {
                expected = [slotType]
            }
        case .call:
            guard data.imm < UInt64(f.helpers.count) else {
                fail(b, inst, "undeclared helper")
                return
            }
            expected = f.helpers[Int(data.imm)].params
        }
        if args.count != expected.count {
            fail(b, inst, "expected \(expected.count) operands, found \(args.count)")
        } else {
            for (v, t) in zip(args, expected) where v.id < f.values.count && f.type(v) != t {
                fail(b, inst, "operand \(v) has type \(f.type(v)), expected \(t)")
            }
        }
        let resultType = f.resultType(data.opcode, data.type, data.imm)
        if resultType != data.result.map({ f.type($0) }) { fail(b, inst, "result type should be \(resultType.map(\.description) ?? "none")") }
        // Branch destinations.
        for call in f.destinations(inst) {
            guard call.block.id < inLayout.count, inLayout[call.block.id] else {
                fail(b, inst, "branch to a deleted block")
                continue
            }
            let params = f.blocks[call.block.id].params
            let callArgs = Array(f.list(call.args))
            if params.count != callArgs.count {
                fail(b, inst, "\(call.block) takes \(params.count) arguments, given \(callArgs.count)")
            } else {
                for (a, p) in zip(callArgs, params) where a.id < f.values.count && f.type(a) != f.type(p) {
                    fail(b, inst, "argument \(a) has type \(f.type(a)), \(call.block) expects \(f.type(p))")
                }
            }
        }
        // Exit state.
        let state = f.exitState(inst)
        if f.needsExitState(inst) != (state != nil) {
            fail(b, inst, state == nil ? "missing exit state" : "exit state on an instruction that cannot fault or exit")
        }
        if let state {
            var last = -1
            for e in state.entries {
                guard e.slot.id < f.slots.count else {
                    fail(b, inst, "exit state names an undeclared slot")
                    continue
                }
                if e.slot.id <= last { fail(b, inst, "exit state entries not sorted by slot or repeated") }
                last = e.slot.id
                // A float may stand for an i64 slot: a double's bits, a single NaN-boxed.
                if e.value.id < f.values.count && f.type(e.value) != f.slots[e.slot.id].type
                    && !((f.type(e.value) == .f64 || f.type(e.value) == .f32) && f.slots[e.slot.id].type == .i64)
                {
                    fail(b, inst, "exit state gives \(f.slots[e.slot.id].name) a value of type \(f.type(e.value))")
                }
            }
        }
    }
}
