import RivetISA
import RivetMachine

/// Reads guest code for translation. The JIT shares the decoder with the interpreter, never its
/// execution code (DESIGN.md), so fetching is done here again.
enum GuestCode {
    /// A decoded instruction and its byte offset from the block's start.
    struct Decoded: Sendable {
        var instruction: Instruction
        var offset: UInt32
    }

    /// Fetches and decodes one instruction, or the fault of fetching it.
    static func fetch(at pc: UInt64, memory: GuestMemory) -> Result<Instruction, GuestFault> {
        func fault(_ address: UInt64) -> GuestFault {
            GuestFault(address: GuestAddress(address), access: .execute, mapped: memory.isMapped(address))
        }
        guard let low = memory.fetchParcel(at: pc) else { return .failure(fault(pc)) }
        if Decoder.length(ofParcel: low) == 2 { return .success(Decoder.decodeCompressed(low)) }
        guard let high = memory.fetchParcel(at: pc &+ 2) else { return .failure(fault(pc &+ 2)) }
        return .success(Decoder.decode(low: low, high: high))
    }

    /// The basic block at `pc`: instructions up to and including the first that ends a block,
    /// stopping at a page end, `limit` instructions, an instruction that cannot be fetched
    /// (which is left for the interpreter to fault on), or before a pc in `stops` (other than
    /// `pc`). Empty if the first cannot be fetched.
    static func decodeBlock(at pc: UInt64, memory: GuestMemory, limit: Int, stops: Set<UInt64> = []) -> [Decoded] {
        var block: [Decoded] = []
        block.reserveCapacity(16)
        var cursor = pc
        // Read in place on the block's page where it can be (`GuestMemory.codeInPlace`).
        // (The page's end only for a page in guest memory: `pc` may be anywhere.)
        let page = memory.codeInPlace(at: pc)
        let inPlaceEnd = page == nil ? 0 : (pc >> 12 + 1) << 12 - 4
        while block.count < limit, block.isEmpty || stops.isEmpty || !stops.contains(cursor) {
            let inst: Instruction
            if let page, cursor <= inPlaceEnd {
                inst = Decoder.decode(word: page.loadUnaligned(fromByteOffset: Int(cursor &- pc), as: UInt32.self))
            } else {
                guard case .success(let fetched) = fetch(at: cursor, memory: memory) else { break }
                inst = fetched
            }
            block.append(Decoded(instruction: inst, offset: UInt32(cursor - pc)))
            cursor += UInt64(inst.length)
            if inst.endsBlock || cursor >> 12 != pc >> 12 { break }
        }
        return block
    }
}
