// The branches into each block, with the arguments they pass: what copy propagation and
// dead-code elimination follow from a block parameter to the values that reach it, and what
// dead-code elimination rewrites when a parameter goes.

/// A branch to a block: the terminator, which of its destinations, and the argument list.
public struct IncomingBranch: Sendable {
    /// The `jump` or `brif`.
    public var terminator: Inst
    /// 0 for its first destination, 1 for a `brif`'s second.
    public var destination: Int
    /// The arguments it passes (as when the lists were made).
    public var args: ValueList
}

/// By block, the branches into it.
public typealias IncomingBranches = IndexedLists<IncomingBranch>

extension IndexedLists where Element == IncomingBranch {
    /// By block, the branches into it from the terminators of `blocks` (each terminator's
    /// destinations in branch order, a `brif` with both edges to one block counted twice), in
    /// the order of `blocks`.
    public static func of(_ f: Function, from blocks: [Block]) -> IncomingBranches {
        IndexedLists(count: f.blocks.count, filler: IncomingBranch(terminator: Inst(0), destination: 0, args: .empty)) { append in
            for b in blocks {
                guard let term = f.terminator(b) else { continue }
                let data = f.insts[term.id]
                guard data.opcode == .jump || data.opcode == .brif else { continue }
                append(data.destination0.block.id, IncomingBranch(terminator: term, destination: 0, args: data.destination0.args))
                if data.opcode == .brif {
                    append(data.destination1.block.id, IncomingBranch(terminator: term, destination: 1, args: data.destination1.args))
                }
            }
        }
    }
}
