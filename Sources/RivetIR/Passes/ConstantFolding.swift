// Constant folding and propagation.
//
// Walks reachable blocks in reverse postorder, so that a value's definition is seen before its
// uses (except through block parameters, which are never taken as constant here: copy
// propagation turns a parameter that receives one value from every predecessor into that value,
// and a later run of this pass then folds it). A pure instruction whose operands are all
// constants becomes a constant of its result (its value number is kept); so do a few
// instructions with an absorbing constant operand (`imul x, 0`, `band x, 0`, `bor x, -1`),
// comparisons of a value with itself, and shifts right that keep only bits an `or` with a
// constant set (`sshr (bor x, 0xffffffff00000000), 32` is -1: a single's NaN box checked after
// the single was boxed). `brif` on a constant becomes `jump` to the taken
// destination; the other destination may become unreachable (removed by dce).
//
// Assumes: a verified function. Preserves: every value, block and parameter; results are the
// opcode table's semantics (Semantics.swift), so folding cannot disagree with the evaluator.

/// The constant-folding pass.
public enum ConstantFolding {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        var constant = [UInt64?](filled: nil, count: f.values.count)
        let order = BlockOrder(f)
        for b in order.reversePostorder {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                if data.opcode == .brif {
                    if let c = constant[f.arg(inst, 0).id] { f.makeJump(inst, c & 1 != 0 ? data.destination0 : data.destination1) }
                    continue
                }
                guard let result = data.result, f.effects(inst).contains(.isPure), data.opcode != .call else { continue }
                let args = f.args(inst)
                // Operands in three words, not an array (one an instruction).
                var operands: (UInt64, UInt64, UInt64) = (0, 0, 0)
                var allConstant = true
                for (i, v) in args.enumerated() {
                    guard let c = constant[v.id] else {
                        allConstant = false
                        continue
                    }
                    precondition(i < 3, "a pure instruction with more than three operands")
                    if i == 0 { operands.0 = c } else if i == 1 { operands.1 = c } else { operands.2 = c }
                }
                var folded: UInt64? = nil
                if allConstant {
                    folded = Semantics.evaluate(data.opcode, type: data.type, imm: data.imm, operands.0, operands.1, operands.2)
                } else if mayAbsorb(data.opcode) {
                    folded = absorbed(f, inst, args.map { constant[$0.id] })
                }
                if let folded {
                    constant[result.id] = folded
                    if !isConstantOpcode(data.opcode) { f.makeConstant(inst, folded) }
                }
            }
        }
    }

    private static func isConstantOpcode(_ op: Opcode) -> Bool {
        op == .iconst || op == .bconst || op == .f32const || op == .f64const
    }

    /// Whether `absorbed` may decide an instruction of `op`.
    private static func mayAbsorb(_ op: Opcode) -> Bool {
        switch op {
        case .imul, .band, .imulhu, .bor, .icmp, .isub, .bxor, .sshr, .ushr: true
        default: false
        }
    }

    /// The result of an instruction some of whose operands are constant, when that decides it.
    private static func absorbed(_ f: Function, _ inst: Inst, _ c: [UInt64?]) -> UInt64? {
        let data = f.insts[inst.id]
        let args = f.args(inst)
        func either(_ k: UInt64) -> Bool { c.count == 2 && (c[0] == k || c[1] == k) }
        switch data.opcode {
        case .imul, .band, .imulhu: return either(0) ? 0 : nil
        case .bor: return either(UInt64.max) ? UInt64.max : nil
        case .icmp:
            guard args[args.startIndex] == args[args.startIndex + 1],
                let cond = IntCondition(rawValue: UInt8(truncatingIfNeeded: data.imm))
            else { return nil }
            return cond.holds(0, 0) ? 1 : 0
        case .isub, .bxor:
            return args[args.startIndex] == args[args.startIndex + 1] ? 0 : nil
        case .sshr, .ushr:
            // A shift that keeps only bits an `or` with a constant set: a single's NaN box
            // (`bor bits, 0xffffffff00000000`) checked again (`sshr 32` compared with -1).
            guard data.type == .i64, let k = c[1], k < 64, case .inst(let d) = f.values[args[args.startIndex].id].def,
                f.insts[d.id].opcode == .bor, let set = f.args(d).lazy.compactMap({ f.iconstValue($0) }).first,
                set >> k == UInt64.max >> k
            else { return nil }
            return data.opcode == .sshr ? UInt64.max : UInt64.max >> k
        case .iconst, .bconst, .f32const, .f64const, .iadd, .imulhs, .imulhsu, .sdiv, .udiv, .srem, .urem, .bnot, .ineg,
            .shl, .rotl, .rotr, .sext8, .sext16, .sext32, .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap,
            .fclass32, .fclass64, .select, .bint, .fadd, .fsub, .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax,
            .fcmp, .fcmpSilent, .bitcast, .f32FromBits, .f32ToBits, .sitof, .ftosi32, .ftosi64, .fpromote, .fdemote, .getSlot,
            .setSlot, .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32, .sload32, .loadF32, .loadF64, .store8,
            .store16, .store32, .store64, .storeF32, .storeF64, .call, .jump, .brif, .exit, .exitIndirect, .trap:
            return nil
        }
    }
}
