// Copy propagation: uses of a value that is a copy of another become uses of the original.
//
// Copies are (1) instructions that return an operand unchanged: `iadd x, 0`, `isub x, 0`,
// `imul x, 1`, `band x, -1`, `bor x, 0`, `bxor x, 0`, shifts and rotations by a multiple of 64,
// `sdiv`/`udiv x, 1`, `band`/`bor x, x`, `select c, x, x`, `select` on a constant, `bnot (bnot
// x)`, `ineg (ineg x)`, `bitcast` of a `bitcast`; and (2) block parameters that receive the same
// value from every reachable predecessor (ignoring arguments that are the parameter itself): the
// "trivial phi" of Braun et al., "Simple and Efficient Construction of SSA Form" (2013), which
// also shows the replacement dominates every use. Parameters are iterated to a fixed point.
//
// Assumes: a verified function. Preserves: every instruction, block and parameter (the copies
// become unused: dce removes them); values only get replaced by values with the same bits.

/// The copy-propagation pass.
public enum CopyPropagation {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        let map = replacements(f)
        f.rewriteUses(map)
    }

    /// What each value of `f` is a copy of (itself if none). (Apart from `run`, so that the
    /// functions below capture a borrowed `f`: capturing the `inout` one, they made a copy of
    /// the whole function, every array of it retained and released, at each call of `copied`.)
    private static func replacements(_ f: Function) -> [Value] {
        var map = (0..<f.values.count).map { Value($0) }
        func resolve(_ v: Value) -> Value {
            var v = v
            while map[v.id] != v { v = map[v.id] }
            return v
        }
        func constant(_ v: Value) -> UInt64? {
            guard case .inst(let d) = f.values[v.id].def else { return nil }
            let op = f.insts[d.id].opcode
            return op == .iconst || op == .bconst ? f.insts[d.id].imm : nil
        }
        func definingOpcode(_ v: Value) -> (Opcode, Inst)? {
            guard case .inst(let d) = f.values[v.id].def else { return nil }
            return (f.insts[d.id].opcode, d)
        }
        let order = BlockOrder(f)
        for b in order.reversePostorder {
            for inst in f.blocks[b.id].insts {
                let data = f.insts[inst.id]
                guard let result = data.result, mayCopy(data.opcode), data.args.count <= 3 else { continue }
                var args = Operands()
                for (k, v) in f.list(data.args).enumerated() { args[k] = resolve(v) }
                if let copy = copied(data.opcode, args, constant, definingOpcode, f) {
                    map[result.id] = resolve(copy)
                }
            }
        }
        // Block parameters that receive one value from every reachable predecessor.
        let byBlock = IncomingBranches.of(f, from: order.reversePostorder)
        var changed = true
        while changed {
            changed = false
            for b in order.reversePostorder where b != f.entry {
                for (i, p) in f.blocks[b.id].params.enumerated() where map[p.id] == p {
                    var same: Value? = nil
                    var trivial = true
                    for branch in byBlock[b.id] {
                        let a = resolve(f.pool[Int(branch.args.start) + i])
                        if a == p { continue }
                        if same == nil { same = a } else if same != a {
                            trivial = false
                            break
                        }
                    }
                    if trivial, let same {
                        map[p.id] = same
                        changed = true
                    }
                }
            }
        }
        return map
    }

    /// Up to three operands, without an array.
    private struct Operands {
        var a = Value(0), b = Value(0), c = Value(0)
        subscript(k: Int) -> Value {
            get { k == 0 ? a : k == 1 ? b : c }
            set {
                if k == 0 { a = newValue } else if k == 1 { b = newValue } else { c = newValue }
            }
        }
    }

    /// Whether `copied` may find an instruction of `op` a copy.
    private static func mayCopy(_ op: Opcode) -> Bool {
        switch op {
        case .iadd, .bor, .bxor, .isub, .imul, .band, .shl, .ushr, .sshr, .rotl, .rotr, .sdiv, .udiv, .select, .bnot,
            .ineg, .bitcast:
            return true
        default:
            return false
        }
    }

    /// The operand `op` returns unchanged, if it does.
    private static func copied(
        _ op: Opcode, _ a: Operands, _ constant: (Value) -> UInt64?, _ def: (Value) -> (Opcode, Inst)?, _ f: Function
    ) -> Value? {
        func rightIs(_ k: UInt64) -> Bool { constant(a[1]) == k }
        func eitherIs(_ k: UInt64) -> Value? {
            if constant(a[1]) == k { return a[0] }
            if constant(a[0]) == k { return a[1] }
            return nil
        }
        /// The operand of `v`'s definition if that is `inner`.
        func through(_ v: Value, _ inner: Opcode) -> Value? {
            guard let (o, d) = def(v), o == inner else { return nil }
            return f.arg(d, 0)
        }
        switch op {
        case .iadd, .bor, .bxor: return eitherIs(0) ?? (op == .bor && a[0] == a[1] ? a[0] : nil)
        case .isub: return rightIs(0) ? a[0] : nil
        case .imul: return eitherIs(1)
        case .band: return eitherIs(UInt64.max) ?? (a[0] == a[1] ? a[0] : nil)
        case .shl, .ushr, .sshr, .rotl, .rotr:
            guard let c = constant(a[1]) else { return nil }
            return c & 63 == 0 ? a[0] : nil
        case .sdiv, .udiv: return rightIs(1) ? a[0] : nil
        case .select:
            if a[1] == a[2] { return a[1] }
            if let c = constant(a[0]) { return c & 1 != 0 ? a[1] : a[2] }
            return nil
        case .bnot: return through(a[0], .bnot)
        case .ineg: return through(a[0], .ineg)
        case .bitcast: return through(a[0], .bitcast)
        case .iconst, .bconst, .f32const, .f64const, .imulhs, .imulhu, .imulhsu, .srem, .urem, .sext8, .sext16, .sext32,
            .zext8, .zext16, .zext32, .clz, .ctz, .popcnt, .bswap, .fclass32, .fclass64, .icmp, .bint, .fadd, .fsub,
            .fmul, .fdiv, .fsqrt, .ffma, .fneg, .fabs, .fmin, .fmax, .fcmp, .fcmpSilent, .f32FromBits, .f32ToBits, .sitof, .ftosi32,
            .ftosi64, .fpromote, .fdemote, .getSlot, .setSlot, .loadI64, .uload8, .sload8, .uload16, .sload16, .uload32,
            .sload32, .loadF32, .loadF64, .store8, .store16, .store32, .store64, .storeF32, .storeF64, .call, .jump,
            .brif, .exit, .exitIndirect, .trap:
            return nil
        }
    }
}
