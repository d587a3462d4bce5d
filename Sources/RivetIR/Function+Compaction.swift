// Dense renumbering. Passes leave removed instructions in `insts`, values nothing defines any
// more, deleted blocks, and operand lists nothing points to in `pool`; numbers are kept so that
// a function reads the same before and after a pass. A backend wants dense arrays instead:
// `compacted()` rebuilds the function with only what is live, numbered in layout order.

extension Function {
    /// A copy holding only the blocks in the layout, their instructions and the values they
    /// define, numbered densely in layout order (blocks 0..., values params first then results,
    /// block by block), with a fresh operand pool and exit-state array. Assumes a verified
    /// function (every use defined).
    public func compacted() -> Function {
        var out = Function(name: name)
        out.slots = slots
        out.helpers = helpers
        var blockMap = [Block?](filled: nil, count: blocks.count)
        for b in layout {
            blockMap[b.id] = out.makeBlock()
            out.layout.append(blockMap[b.id]!)
        }
        var valueMap = [Value?](filled: nil, count: values.count)
        // Definitions first, so that uses (which may come earlier in layout order) resolve.
        for b in layout {
            let nb = blockMap[b.id]!
            for p in blocks[b.id].params { valueMap[p.id] = out.appendParam(nb, type(p)) }
            for inst in blocks[b.id].insts {
                if let r = insts[inst.id].result {
                    valueMap[r.id] = out.makeValue(type(r))
                }
            }
        }
        func v(_ old: Value) -> Value { valueMap[old.id] ?? Value(UInt32.max) }
        func call(_ c: BlockCall) -> BlockCall {
            BlockCall(block: blockMap[c.block.id] ?? Block(UInt32.max), args: out.makeList(list(c.args).map(v)))
        }
        for b in layout {
            let nb = blockMap[b.id]!
            for inst in blocks[b.id].insts {
                var data = insts[inst.id]
                let isBranch = data.opcode == .jump || data.opcode == .brif
                data.args = out.makeList(list(data.args).map(v))
                data.destination0 = isBranch ? call(data.destination0) : BlockCall(block: Block(0), args: .empty)
                data.destination1 = data.opcode == .brif ? call(data.destination1) : BlockCall(block: Block(0), args: .empty)
                data.block = nb
                let newInst = Inst(out.insts.count)
                if let r = data.result {
                    data.result = v(r)
                    out.values[v(r).id].def = .inst(newInst)
                }
                if let state = exitState(inst) {
                    out.exitStates.append(
                        ExitState(pc: state.pc, entries: state.entries.map { ExitEntry(slot: $0.slot, value: v($0.value)) }))
                    data.exitState = Int32(out.exitStates.count - 1)
                }
                out.insts.append(data)
                out.blocks[nb.id].insts.append(newInst)
            }
        }
        return out
    }
}
