import RivetISA
import RivetMachine

/// Reads guest code for translation. The JIT shares the decoder and the fetching of code
/// (`CodeReader`, in RivetMachine) with the interpreter, never its execution code (DESIGN.md).
enum GuestCode {
    /// A decoded instruction and its byte offset from the block's start.
    struct Decoded: Sendable {
        var instruction: Instruction
        var offset: UInt32
    }

    /// The basic block at `pc`: instructions up to and including the first that ends a block,
    /// stopping at a page end, `limit` instructions, an instruction that cannot be fetched
    /// (which is left for the interpreter to fault on), or before a pc in `stops` (other than
    /// `pc`). Empty if the first cannot be fetched.
    static func decodeBlock(at pc: UInt64, memory: GuestMemory, limit: Int, stops: Set<UInt64> = []) -> [Decoded] {
        var block: [Decoded] = []
        block.reserveCapacity(16)
        var cursor = pc
        let code = CodeReader(memory, block: pc)
        while block.count < limit, block.isEmpty || stops.isEmpty || !stops.contains(cursor) {
            guard case .success(let inst) = code.instruction(at: cursor) else { break }
            block.append(Decoded(instruction: inst, offset: UInt32(cursor - pc)))
            cursor += UInt64(inst.length)
            if inst.endsBlock || cursor >> 12 != pc >> 12 { break }
        }
        return block
    }
}
