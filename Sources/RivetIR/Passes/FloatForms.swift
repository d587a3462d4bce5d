// Float forms: doubles stay doubles between memory, arithmetic and the guest state.
//
// A frontend that keeps float registers as the 64 bits of integer slots (RISC-V's f registers
// are NaN-boxed bits) loads a double as `load.i64` and reinterprets it (`bitcast.f64`), and
// gives exits and stores the bits back (`bitcast.i64`). A backend with float registers then
// moves every such value between its register classes, and keeps both forms alive. Rewritten:
//  - `v = load.i64 a` with a use `bitcast.f64 v` → `w = load.f64 a` (same exit state) and
//    `v = bitcast.i64 w` in the load's place; each `bitcast.f64 v` becomes `w`;
//  - an exit-state entry `bitcast.i64 x` of a double `x` → `x` (an f64 may stand for an i64
//    slot: its bits, as the verifier allows);
//  - `store64 a, (bitcast.i64 x)` of a double → `store.f64 a, x`;
//  - an i64 block parameter that receives a double's bits becomes an f64 (`retypeParameters`).
// The bitcasts left without uses go with dce.
//
// Assumes: a verified function. Preserves: every value's bits at every use, blocks, effects,
// exit states (only their entries' values change, to values with the same bits).

/// The float-forms pass.
package enum FloatForms {
    /// Runs the pass on `f` (see the header).
    package static func run(_ f: inout Function) {
        // Loads whose result is reinterpreted as a double.
        var reinterpreted = [Bool](repeating: false, count: f.values.count)
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .bitcast && f.insts[inst.id].type == .f64 {
                reinterpreted[f.arg(inst, 0).id] = true
            }
        }
        var loadedAsDouble = [Value?](repeating: nil, count: f.values.count)
        for b in f.layout {
            var k = 0
            while k < f.blocks[b.id].insts.count {
                let inst = f.blocks[b.id].insts[k]
                k += 1
                guard f.insts[inst.id].opcode == .loadI64, case let v = f.result(inst), reinterpreted[v.id] else { continue }
                let load = f.makeInst(.loadF64, args: [f.arg(inst, 0)], exit: f.exitState(inst))
                f.insert(load, into: b, at: k - 1)
                k += 1
                let w = f.result(load)
                f.insts[inst.id].opcode = .bitcast
                f.insts[inst.id].type = .i64
                f.insts[inst.id].args = f.makeList([w])
                f.insts[inst.id].exitState = -1
                loadedAsDouble[v.id] = w
            }
        }
        var map = (0..<f.values.count).map { Value($0) }
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .bitcast && f.insts[inst.id].type == .f64 {
                if let w = loadedAsDouble[f.arg(inst, 0).id] { map[f.result(inst).id] = w }
            }
        }
        f.rewriteUses(map)

        retypeParameters(&f)
        func double(_ v: Value) -> Value? { Self.double(f, v) }
        for s in f.exitStates.indices {
            for e in f.exitStates[s].entries.indices {
                if let x = double(f.exitStates[s].entries[e].value) { f.exitStates[s].entries[e].value = x }
            }
        }
        for b in f.layout {
            for inst in f.blocks[b.id].insts where f.insts[inst.id].opcode == .store64 {
                guard let x = double(f.arg(inst, 1)) else { continue }
                let address = f.arg(inst, 0)
                f.insts[inst.id].opcode = .storeF64
                f.insts[inst.id].args = f.makeList([address, x])
            }
        }
    }

    /// The double whose bits `v` is (`bitcast.i64 x`), if it is one.
    static func double(_ f: Function, _ v: Value) -> Value? {
        guard case .inst(let d) = f.values[v.id].def, f.insts[d.id].opcode == .bitcast, f.insts[d.id].type == .i64
        else { return nil }
        return f.arg(d, 0)
    }

    /// Block parameters that carry a double's bits (an f register around a loop) become f64:
    /// an i64 parameter receiving `bitcast.i64 x` of a double on some edge, or another such
    /// parameter (to a fixed point). Each edge then passes the double (`x`, or a
    /// `bitcast.f64` of its argument added before the branch), and the parameter's old uses
    /// read `bitcast.i64` of it, made at the block's start (copyprop and the rewrites after
    /// this fold what reads it back as a double; dce removes it if nothing else does).
    static func retypeParameters(_ f: inout Function) {
        var incoming = [[(from: Block, call: BlockCall)]](repeating: [], count: f.blocks.count)
        for b in f.layout {
            guard let t = f.terminator(b) else { continue }
            for call in f.destinations(t) { incoming[call.block.id].append((b, call)) }
        }
        var retyped = [Bool](repeating: false, count: f.values.count)
        var changed = true
        while changed {
            changed = false
            for b in f.layout where b != f.entry {
                for (i, p) in f.blocks[b.id].params.enumerated() where !retyped[p.id] && f.type(p) == .i64 {
                    let carriesDouble = incoming[b.id].contains { edge in
                        let a = f.pool[Int(edge.call.args.start) + i]
                        return double(f, a) != nil || retyped[a.id]
                    }
                    if carriesDouble {
                        retyped[p.id] = true
                        changed = true
                    }
                }
            }
        }
        guard retyped.contains(true) else { return }
        // The old uses read the bits: `pi = bitcast.i64 p` at the block's start.
        var map = (0..<f.values.count).map { Value($0) }
        var bits: [(inst: Inst, param: Value)] = []
        for b in f.layout where b != f.entry {
            var position = 0
            for p in f.blocks[b.id].params where retyped[p.id] {
                let cast = f.makeInst(.bitcast, type: .i64, args: [p])
                f.insert(cast, into: b, at: position)
                position += 1
                map.append(f.result(cast))
                map[p.id] = f.result(cast)
                bits.append((cast, p))
            }
        }
        f.rewriteUses(map)
        for (cast, p) in bits {
            f.insts[cast.id].args = f.makeList([p])
            f.values[p.id].type = .f64
        }
        // Each edge passes a double.
        for b in f.layout where b != f.entry {
            for (i, p) in f.blocks[b.id].params.enumerated() where retyped[p.id] {
                for edge in incoming[b.id] {
                    let at = Int(edge.call.args.start) + i
                    let a = f.pool[at]
                    if let x = double(f, a) {
                        f.pool[at] = x
                    } else {
                        let cast = f.makeInst(.bitcast, type: .f64, args: [a])
                        f.insert(cast, into: edge.from, at: f.blocks[edge.from.id].insts.count - 1)
                        f.pool[at] = f.result(cast)
                    }
                }
            }
        }
    }
}
