// The argument lists the branches of a function pass to each block, all in one array: what
// copy propagation and dead-code elimination follow from a block parameter to the values that
// reach it (as `[[ValueList]]`, an array a block).

/// By block, the argument lists of the branches into it.
public struct IncomingArguments {
    private var starts: [Int32]
    private var lists: [ValueList]

    /// The lists of the branches that end `blocks` (each block's destinations in branch order,
    /// a `brif` with both edges to one block counted twice), in the order of `blocks`.
    public init(_ f: Function, from blocks: [Block]) {
        var starts = [Int32](repeating: 0, count: f.blocks.count + 1)
        for b in blocks { Self.forEachCall(f, b) { starts[$0.block.id + 1] += 1 } }
        for k in 0..<f.blocks.count { starts[k + 1] += starts[k] }
        var next = starts
        var lists = [ValueList](repeating: .empty, count: Int(starts[f.blocks.count]))
        for b in blocks {
            Self.forEachCall(f, b) { call in
                lists[Int(next[call.block.id])] = call.args
                next[call.block.id] += 1
            }
        }
        self.starts = starts
        self.lists = lists
    }

    /// The argument lists passed to `b`.
    @inline(__always) public subscript(b: Block) -> ArraySlice<ValueList> {
        lists[Int(starts[b.id])..<Int(starts[b.id + 1])]
    }

    @inline(__always)
    private static func forEachCall(_ f: Function, _ b: Block, _ body: (BlockCall) -> Void) {
        guard let term = f.terminator(b) else { return }
        let data = f.insts[term.id]
        switch data.opcode {
        case .jump: body(data.destination0)
        case .brif:
            body(data.destination0)
            body(data.destination1)
        default: break
        }
    }
}
