import RivetISA
import RivetMachine

/// Chooses a tier-2 region around a hot block, on the guest thread (the compile worker never
/// reads guest memory): the loop the block heads, as guest blocks decoded from memory.
///
/// From the header, blocks are followed along their direct edges (conditional branches both
/// ways, `jal x0`, a block's fall-through), to at most `maxBlocks` blocks within a page's
/// distance of the header; calls, returns and indirect jumps end the walk. Of those, the
/// region keeps the blocks from which the header can be reached again: the natural loop of the
/// header over the blocks seen (a loop's body with its branches, not the code after it). Blocks
/// the IR does not model wholly, blocks that would overlap one already taken (a branch into
/// the middle of a block), and, with a profile, blocks that are not hot, stay out: edges to them
/// leave the region. (Without the profile, a loop closed only through a cold path, e.g. the
/// default case of an interpreter's switch whose hot cases leave by an indirect jump, made a
/// region that ran once per entry: tier 2's entry and exit costs and no loop to win them back.)
enum RegionFormation {
    /// A guest block of a region and the bytes it was decoded from.
    struct Block: Sendable {
        let pc: UInt64
        let decoded: [GuestCode.Decoded]
        let bytes: [UInt8]
        var end: UInt64 { pc + UInt64(bytes.count) }
    }

    static let maxBlocks = 16
    static let maxDistance: UInt64 = 4096

    /// The blocks of the loop headed by `header` (whose block is `first`), other than the header's
    /// own; empty when the header heads no loop of more than itself.
    /// `isHot` says whether a block (by pc) runs often enough beside the header to be part of
    /// its loop (the engine: a baseline translation that ran at least 1/16 as often).
    static func loopBlocks(
        header: UInt64, first: [GuestCode.Decoded], memory: GuestMemory, isHot: (UInt64) -> Bool = { _ in true }
    ) -> [Block] {
        guard let headerBlock = block(at: header, decoded: first, memory: memory) else { return [] }
        var blocks = [headerBlock]
        var index: [UInt64: Int] = [header: 0]
        var successors: [[UInt64]] = []
        var k = 0
        while k < blocks.count {
            let targets = self.successors(of: blocks[k])
            successors.append(targets)
            for target in targets where index[target] == nil && blocks.count < maxBlocks {
                guard target &- header &+ maxDistance < 2 * maxDistance, target == header || isHot(target),
                    !blocks.contains(where: { $0.pc < target && target < $0.end })
                else { continue }
                let decoded = GuestCode.decodeBlock(at: target, memory: memory, limit: BlockCompiler.maxInstructions)
                guard let candidate = block(at: target, decoded: decoded, memory: memory),
                    RegionFrontend.covered(candidate.decoded.map(\.instruction)) == candidate.decoded.count,
                    !blocks.contains(where: { candidate.pc < $0.pc && $0.pc < candidate.end })
                else { continue }
                index[target] = blocks.count
                blocks.append(candidate)
            }
            k += 1
        }
        // The natural loop: blocks from which the header is reached again.
        var reaches = [Bool](repeating: false, count: blocks.count)
        var changed = true
        while changed {
            changed = false
            for (k, targets) in successors.enumerated() where !reaches[k] {
                if targets.contains(where: { $0 == header || (index[$0].map { reaches[$0] } ?? false) }) {
                    reaches[k] = true
                    changed = true
                }
            }
        }
        return (1..<blocks.count).filter { reaches[$0] }.map { blocks[$0] }
    }

    private static func block(at pc: UInt64, decoded: [GuestCode.Decoded], memory: GuestMemory) -> Block? {
        guard let last = decoded.last else { return nil }
        let length = Int(last.offset) + Int(last.instruction.length)
        guard let bytes = memory.readCode(at: pc, count: length) else { return nil }
        return Block(pc: pc, decoded: decoded, bytes: bytes)
    }

    /// Where a block goes on by direct edges (none for calls, returns, indirect jumps and what
    /// ends a block otherwise, e.g. `ecall`).
    private static func successors(of block: Block) -> [UInt64] {
        guard let last = block.decoded.last else { return [] }
        let pc = block.pc + UInt64(last.offset)
        let next = pc + UInt64(last.instruction.length)
        let i = last.instruction
        if i.opcode.format == .b { return [pc &+ UInt64(bitPattern: i.imm), next] }
        if i.opcode == .jal { return i.rd == 0 ? [pc &+ UInt64(bitPattern: i.imm)] : [] }
        return i.endsBlock ? [] : [next]
    }
}
