// Algebraic simplification: shift and mask idioms become the extension they spell.
//
// RISC-V has no zero-extension of a word in RV64I, so compilers write `zext.w` as `slli 32;
// srli 32` and `zext.b` as `andi 0xff`; Zbb's `sext.b`/`sext.h` are `slli; srai` without it. In
// the IR these are two shifts (or an `and` whose mask may not fit an x86 immediate), where one
// extension suffices: x86 zero-extends a word with a 32-bit `mov`, a byte or half with `movzx`.
// Rewritten in place (the instruction keeps its result, so no use changes):
//  - `ushr (shl x, k), k` → `zext32/16/8 x` for k = 32, 48, 56; `sshr` → `sext32/16/8 x`;
//  - `band x, 0xff / 0xffff / 0xffffffff` (either order) → `zext8/16/32 x`;
//  - `ushr (shl x, 32), 32 - s` for s = 1, 2, 3 → `shl (zext32 x), s` (a word index scaled to
//    bytes, as zlib's `prev[cur & wmask]`: the new `zext32` and constant go right before it).
// The inner `shl` stays for its other uses, if any; dce removes it otherwise.
// And an extension of an extension that keeps at least as many bits extends the inner operand:
// `zext32 (sext32 x)` → `zext32 x`, `sext8 (zext16 x)` → `sext8 x` (the outer one reads only
// bits the inner one kept). RISC-V code makes these of a 32-bit sum used as an address (`addw`,
// then `slli 32; srli 32`: bzip2's `mainGtU`), where the inner one then often goes unused. So
// does an extension of an `or` or `xor` with a constant none of whose bits it keeps: `zext32
// (bor x, 0xffffffff00000000)` → `zext32 x` (`fclass.s` of a single the region boxed), also
// through a `select` on a constant (which copyprop has not removed yet).
// And a branch on a boolean made an integer and compared with 0 or 1 (RISC-V's `flt a0, ...;
// beqz a0`, `sltu a0, ...; bnez a0`) branches on the boolean: `brif (icmp ne (bint c), 0)` →
// `brif c`, with `eq` (or a comparison with 1 the other way) the destinations swapped.
// And a comparison of a constant with a value compares the value with the constant, the
// condition swapped: `icmp slt 0, x` → `icmp sgt x, 0`. RISC-V's `bgtz`, `blez` and `snez` are
// `blt x0, rs`, `bge x0, rs` and `sltu rd, x0, rs`; the backend takes a constant second as an
// immediate (`test x, x` for 0) but moved a constant first into a register, and value numbering
// sees one form of the two.
//
// Assumes: a verified function. Preserves: every value and its bits, blocks, effects (a
// rewritten `brif` takes the same edges).

/// The simplification pass.
public enum Simplify {
    /// Runs the pass on `f` (see the header).
    public static func run(_ f: inout Function) {
        /// The operand of `v`'s definition if that is `shl x, k` with a non-constant x.
        func shifted(_ v: Value, by k: UInt64) -> Value? {
            guard case .inst(let d) = f.values[v.id].def, f.insts[d.id].opcode == .shl,
                f.insts[d.id].type == .i64, f.iconstValue(f.arg(d, 1)) == k, f.iconstValue(f.arg(d, 0)) == nil
            else { return nil }
            return f.arg(d, 0)
        }
        /// The bits an extension keeps (8, 16, 32), or nil for other opcodes.
        func keptBits(_ op: Opcode) -> Int? {
            switch op {
            case .zext8, .sext8: 8
            case .zext16, .sext16: 16
            case .zext32, .sext32: 32
            default: nil
            }
        }
        /// `x` without the extensions around it that keep at least `bits` bits, nor the `or`s
        /// with a constant that changes none of those bits.
        func unextended(_ x: Value, keeping bits: Int) -> Value {
            var x = x
            while case .inst(let d) = f.values[x.id].def {
                let op = f.insts[d.id].opcode
                if let kept = keptBits(op), kept >= bits {
                    x = f.arg(d, 0)
                } else if op == .bor || op == .bxor, let c = f.iconstValue(f.arg(d, 1)), c & (UInt64.max >> (64 - bits)) == 0 {
                    x = f.arg(d, 0)
                } else if op == .bor || op == .bxor, let c = f.iconstValue(f.arg(d, 0)), c & (UInt64.max >> (64 - bits)) == 0 {
                    x = f.arg(d, 1)
                } else if op == .select, case .inst(let c) = f.values[f.arg(d, 0).id].def, f.insts[c.id].opcode == .bconst {
                    x = f.arg(d, f.insts[c.id].imm & 1 != 0 ? 1 : 2)  // folded, left for copyprop
                } else {
                    break
                }
            }
            return x
        }
        for b in f.layout {
            if let t = f.terminator(b), f.insts[t.id].opcode == .brif, case .inst(let compare) = f.values[f.arg(t, 0).id].def,
                f.insts[compare.id].opcode == .icmp, case .inst(let cast) = f.values[f.arg(compare, 0).id].def,
                f.insts[cast.id].opcode == .bint, let k = f.iconstValue(f.arg(compare, 1)), k <= 1,
                let condition = IntCondition(rawValue: UInt8(truncatingIfNeeded: f.insts[compare.id].imm)),
                condition == .eq || condition == .ne
            {
                // bint c is 0 or 1: `ne 0` and `eq 1` are c, `eq 0` and `ne 1` its negation.
                let negated = (condition == .eq) == (k == 0)
                f.insts[t.id].args = f.makeList([f.arg(cast, 0)])
                if negated {
                    let taken = f.insts[t.id].destination0
                    f.insts[t.id].destination0 = f.insts[t.id].destination1
                    f.insts[t.id].destination1 = taken
                }
            }
            var k = 0
            while k < f.blocks[b.id].insts.count {
                let inst = f.blocks[b.id].insts[k]
                k += 1
                let data = f.insts[inst.id]
                if data.opcode == .icmp, f.iconstValue(f.arg(inst, 0)) != nil, f.iconstValue(f.arg(inst, 1)) == nil,
                    let condition = IntCondition(rawValue: UInt8(truncatingIfNeeded: data.imm))
                {
                    f.insts[inst.id].args = f.makeList([f.arg(inst, 1), f.arg(inst, 0)])
                    f.insts[inst.id].imm = UInt64(condition.swapped.rawValue)
                    continue
                }
                guard data.type == .i64, data.result != nil else { continue }
                var rewritten: (Opcode, Value)? = nil
                if data.opcode == .ushr || data.opcode == .sshr, let amount = f.iconstValue(f.arg(inst, 1)) {
                    let signed = data.opcode == .sshr
                    if let x = shifted(f.arg(inst, 0), by: amount) {
                        if amount == 32 { rewritten = (signed ? .sext32 : .zext32, x) }
                        if amount == 48 { rewritten = (signed ? .sext16 : .zext16, x) }
                        if amount == 56 { rewritten = (signed ? .sext8 : .zext8, x) }
                    } else if !signed, (29...31).contains(amount), let x = shifted(f.arg(inst, 0), by: 32) {
                        // A scaled word index: `shl (zext32 x), 32 - amount`, the zext32 just before.
                        let extend = f.makeInst(.zext32, args: [x])
                        let scale = f.makeInst(.iconst, imm: 32 - amount)
                        f.insert(extend, into: b, at: k - 1)
                        f.insert(scale, into: b, at: k)
                        k += 2
                        f.insts[inst.id].opcode = .shl
                        f.insts[inst.id].args = f.makeList([f.result(extend), f.result(scale)])
                        continue
                    }
                } else if data.opcode == .band {
                    for (mask, x) in [(f.arg(inst, 1), f.arg(inst, 0)), (f.arg(inst, 0), f.arg(inst, 1))] {
                        guard rewritten == nil, let m = f.iconstValue(mask), f.iconstValue(x) == nil else { continue }
                        if m == 0xff { rewritten = (.zext8, x) }
                        if m == 0xffff { rewritten = (.zext16, x) }
                        if m == 0xffff_ffff { rewritten = (.zext32, x) }
                    }
                }
                if let (op, x) = rewritten {
                    f.insts[inst.id].opcode = op
                    f.insts[inst.id].imm = 0
                    f.insts[inst.id].args = f.makeList([unextended(x, keeping: keptBits(op)!)])
                } else if let bits = keptBits(data.opcode), case let x = f.arg(inst, 0),
                    case let inner = unextended(x, keeping: bits), inner != x
                {
                    f.insts[inst.id].args = f.makeList([inner])
                }
            }
        }
    }
}
