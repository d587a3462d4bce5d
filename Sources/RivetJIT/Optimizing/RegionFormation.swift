import RivetIR
import RivetISA
import RivetMachine

/// Chooses a tier-2 region around a hot block, on the guest thread (the compile worker never
/// reads guest memory): the loop the block heads, as guest blocks decoded from memory.
///
/// From the header, blocks are followed along their direct edges (conditional branches both
/// ways, `jal x0`, a block's fall-through), to at most `maxBlocks` blocks within a page's
/// distance of the header. A direct call (`jal` with a link register) goes on in the callee,
/// whose blocks are measured from its entry, and at the call's continuation; a return
/// (`jalr x0` through `ra` or `t0`) goes on at the continuations of the region's calls, which
/// the frontend compares the address returned to with (when the region made the call, state
/// forwarding knows the link register and only one way is left). An indirect jump goes on at
/// the profiled targets (`indirectTargets`); an indirect call (`jalr` with a link register) at
/// those and at the call site's own (`siteTargets`), as a direct call goes on in its callee,
/// and at its continuation. A jump farther than `maxDistance` is a tail call: the blocks after
/// it are measured from its target. Of the blocks seen, the region keeps those from which the
/// header can be reached again and that the header reaches: the natural loop of the header (a
/// loop's body with its branches and the functions it calls, not the code after it). Blocks
/// the IR does not model wholly and, with a profile, blocks that are not hot stay out: edges to
/// them leave the region. (Without the profile, a loop closed only through a cold path, e.g. the
/// default case of an interpreter's switch whose hot cases leave by an indirect jump, made a
/// region that ran once per entry: tier 2's entry and exit costs and no loop to win them back.)
///
/// Blocks do not overlap: a block that runs into the start of one taken ends there, falling
/// through to it, and a branch into the middle of a block taken splits that block (the header
/// too). Both are common: the `then` of an `if` without `else` falls into the join, which the
/// condition's branch also targets. (Before, such blocks stayed out, and a loop whose body had
/// one left the region on every pass through it: Collatz's `if (n & 1) n = 3n + 1` bounced
/// between three regions of one loop, each entry and exit a transition.)
enum RegionFormation {
    /// A guest block of a region and the bytes it was decoded from.
    struct Block: Sendable {
        let pc: UInt64
        let decoded: [GuestCode.Decoded]
        let bytes: [UInt8]
        var end: UInt64 { pc + UInt64(bytes.count) }
    }

    /// A loop: its header (the header's block, perhaps ended early where the loop branches into
    /// it) and its other blocks.
    struct Loop {
        var header: Block
        var blocks: [Block]
        /// Pcs of the loop's blocks (the header's too) that its indirect jumps went to, hottest
        /// first: the frontend compares an indirect jump's target with each.
        var indirectTargets: [UInt64] = []
    }

    static let maxBlocks = 32
    static let maxDistance: UInt64 = 4096
    /// Most pcs an indirect jump of a region compares its target with.
    static let maxIndirectTargets = 16

    /// The loop headed by `header` (whose block is `first`), or nil when the header heads no loop
    /// of more than itself. `isHot` says whether a block (by pc) runs often enough beside the
    /// header to be part of its loop (the engine: a baseline translation that ran at least 1/16
    /// as often).
    ///
    /// `indirectTargets` gives the pcs indirect jumps went to (the engine: hot blocks near the
    /// header that the jump cache holds), hottest first; it is asked once, when the walk meets
    /// an indirect jump (most loops have none, and the engine's search is not free). The walk
    /// goes on from an indirect jump (not a return) at each, as at a call's callee, and a
    /// `switch` or an interpreter's dispatch loop, whose cases jump back to its head, closes
    /// through them. An indirect call goes on at those that follow no call (`isReturnSite`),
    /// and at its continuation if there is one.
    static func loop(
        header: UInt64, first: [GuestCode.Decoded], memory: GuestMemory, indirectTargets findIndirectTargets: () -> [UInt64] = { [] },
        siteTargets: (UInt64) -> [UInt64] = { _ in [] }, isHot: (UInt64) -> Bool = { _ in true }
    ) -> Loop? {
        var found: [UInt64]? = nil
        func indirectTargets() -> [UInt64] {
            if let found { return found }
            let targets = findIndirectTargets()
            found = targets
            return targets
        }
        // An indirect call's callees: the targets that are no call's continuation (the engine's
        // targets are the jump cache's, returns' included), and those the call itself went to
        // (`siteTargets`, by the pc of the block it ends), which join the region's targets.
        var foundCallees: [UInt64]? = nil
        var sites: [UInt64: [UInt64]] = [:]
        func callees(_ block: Block) -> [UInt64] {
            if let known = sites[block.pc] { return known }
            if foundCallees == nil { foundCallees = indirectTargets().filter { !isReturnSite($0, memory: memory) } }
            var targets = foundCallees!
            for target in siteTargets(block.pc) where !targets.contains(target) && !isReturnSite(target, memory: memory) {
                targets.append(target)
                if !(found ?? []).contains(target) { found = (found ?? []) + [target] }
            }
            sites[block.pc] = targets
            return targets
        }
        guard let headerBlock = block(at: header, decoded: first, memory: memory) else { return nil }
        var blocks = [headerBlock]
        // The pc each block's distance is measured from: the header, or the entry of the callee
        // the walk reached it through (a callee may lie anywhere; its blocks lie near its entry).
        var bases = [header]
        var k = 0
        while k < blocks.count {
            let base = bases[k]
            let call = isIndirectCall(blocks[k])
            let dispatch = isIndirectJump(blocks[k]) || call
            let onward =
                call
                ? callees(blocks[k]).map { ($0, true) }
                    + (callees(blocks[k]).isEmpty ? [] : [(indirectCallContinuation(of: blocks[k])!, false)])
                : dispatch ? indirectTargets().map { ($0, true) } : walkSuccessors(of: blocks[k])
            for (target, isCall) in onward where blocks.count < maxBlocks {
                // (A jump beyond the distance, `jal x0`, is a tail call: measured from its target.)
                let tailCall =
                    !isCall && !dispatch && endsInJump(blocks[k]) && target &- base &+ maxDistance >= 2 * maxDistance
                let targetBase = isCall || tailCall ? target : base
                // (An indirect jump's targets are as hot as the engine's choice of them made them;
                // an indirect call's continuation is not one of them.)
                guard !blocks.contains(where: { $0.pc == target }),
                    target &- targetBase &+ maxDistance < 2 * maxDistance, target == header || (dispatch && isCall) || isHot(target)
                else { continue }
                if let j = blocks.firstIndex(where: { $0.pc < target && target < $0.end }) {
                    // Into the middle of a block taken: split it (unless the target is not one of
                    // its instructions' starts, as a jump into the second half of a 4-byte one).
                    guard let (prefix, suffix) = split(blocks[j], at: target) else { continue }
                    blocks[j] = prefix
                    blocks.append(suffix)
                    bases.append(bases[j])
                    continue
                }
                var decoded = GuestCode.decodeBlock(at: target, memory: memory, limit: BlockCompiler.maxInstructions)
                // Into the start of a block taken: end there.
                if let next = blocks.lazy.map(\.pc).filter({ $0 > target }).min(),
                    let cut = decoded.firstIndex(where: { target + UInt64($0.offset) >= next })
                {
                    guard target + UInt64(decoded[cut].offset) == next, cut > 0 else { continue }
                    decoded.removeSubrange(cut...)
                }
                guard let candidate = block(at: target, decoded: decoded, memory: memory),
                    RegionFrontend.covered(candidate.decoded.map(\.instruction)) == candidate.decoded.count
                else { continue }
                blocks.append(candidate)
                bases.append(targetBase)
            }
            k += 1
        }
        // The natural loop: blocks from which the header is reached again. A call goes on in its
        // callee, and a return at every call's continuation (the frontend compares with each).
        var index: [UInt64: Int] = [:]
        for (k, b) in blocks.enumerated() { index[b.pc] = k }
        // An indirect call's continuation counts only while one of its callees is in the loop:
        // else it is reached only by leaving the region, and a return of another callee must
        // not reach it (the loop is found again without it).
        var calling = blocks.filter { isIndirectCall($0) && callees($0).contains { index[$0] != nil } }
        while true {
            let kept = naturalLoop(
                blocks, bases: bases, index: index, header: header,
                continuations: blocks.compactMap(continuation(of:)) + calling.compactMap(indirectCallContinuation(of:)),
                callees: callees, indirectTargets: indirectTargets)
            let inLoop = Set(([0] + kept).map { blocks[$0].pc })
            let calls = calling.filter { callees($0).contains(where: inLoop.contains) }
            guard calls.count == calling.count else {
                calling = calls
                continue
            }
            guard !kept.isEmpty else { return nil }
            let pcs = Set([header] + kept.map { blocks[$0].pc })
            return Loop(header: blocks[0], blocks: kept.map { blocks[$0] }, indirectTargets: (found ?? []).filter(pcs.contains))
        }
    }

    /// Of `blocks` (walked from `header`, `bases` their distances' origins), the indices but the
    /// header's of those from which the header is reached again and that the header reaches:
    /// a call goes on in its callee, a return at each of `continuations`.
    private static func naturalLoop(
        _ blocks: [Block], bases: [UInt64], index: [UInt64: Int], header: UInt64, continuations: [UInt64],
        callees: (Block) -> [UInt64], indirectTargets: () -> [UInt64]
    ) -> [Int] {
        // (A return of the header's own function goes back to its caller, not to a continuation.)
        let successors = blocks.indices.map { k in
            isReturn(blocks[k]) ? (bases[k] == header ? [] : continuations)
                : isIndirectCall(blocks[k]) ? callees(blocks[k])
                : isIndirectJump(blocks[k]) ? indirectTargets() : self.successors(of: blocks[k])
        }
        var reaches = [Bool](filled: false, count: blocks.count)
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
        // ... and that the header reaches: the walk took a call's continuation before knowing
        // whether the callee would be in the region (a cold callee is not, and its caller's
        // continuation is then reached only from outside).
        var reached = [Bool](filled: false, count: blocks.count)
        reached[0] = true
        var work = [0]
        while let k = work.popLast() {
            for target in successors[k] {
                guard let j = index[target], !reached[j] else { continue }
                reached[j] = true
                work.append(j)
            }
        }
        return (1..<blocks.count).filter { reaches[$0] && reached[$0] }
    }

    /// Whether a block ends in `jal x0` (a jump, or a tail call).
    private static func endsInJump(_ block: Block) -> Bool {
        guard let last = block.decoded.last?.instruction else { return false }
        return last.opcode == .jal && last.rd == 0
    }

    /// `block` cut at `pc`, the start of one of its instructions other than the first: the part
    /// before (which falls through to `pc`) and the part from `pc`.
    private static func split(_ block: Block, at pc: UInt64) -> (Block, Block)? {
        let offset = UInt32(pc - block.pc)
        guard let cut = block.decoded.firstIndex(where: { $0.offset == offset }), cut > 0 else { return nil }
        let suffix = block.decoded[cut...].map { GuestCode.Decoded(instruction: $0.instruction, offset: $0.offset - offset) }
        return (
            Block(pc: block.pc, decoded: Array(block.decoded[..<cut]), bytes: Array(block.bytes[..<Int(offset)])),
            Block(pc: pc, decoded: suffix, bytes: Array(block.bytes[Int(offset)...]))
        )
    }

    private static func block(at pc: UInt64, decoded: [GuestCode.Decoded], memory: GuestMemory) -> Block? {
        guard let last = decoded.last else { return nil }
        let length = Int(last.offset) + Int(last.instruction.length)
        guard let bytes = memory.readCode(at: pc, count: length) else { return nil }
        return Block(pc: pc, decoded: decoded, bytes: bytes)
    }

    /// Where a block goes on by direct edges (none for returns, indirect jumps and what ends a
    /// block otherwise, e.g. `ecall`).
    private static func successors(of block: Block) -> [UInt64] {
        guard let last = block.decoded.last else { return [] }
        let pc = block.pc + UInt64(last.offset)
        let next = pc + UInt64(last.instruction.length)
        let i = last.instruction
        if i.opcode.format == .b { return [pc &+ UInt64(bitPattern: i.imm), next] }
        if i.opcode == .jal { return [pc &+ UInt64(bitPattern: i.imm)] }
        return i.endsBlock ? [] : [next]
    }

    /// The blocks the walk goes on to from `block`: its direct successors (a call's callee marked
    /// so), and after a call its continuation, where the callee's returns go on.
    private static func walkSuccessors(of block: Block) -> [(pc: UInt64, isCall: Bool)] {
        guard let next = continuation(of: block) else { return successors(of: block).map { ($0, false) } }
        return successors(of: block).map { ($0, true) } + [(next, false)]
    }

    /// Where a block that ends in a direct call (`jal` with a link register) returns to.
    private static func continuation(of block: Block) -> UInt64? {
        guard let last = block.decoded.last, last.instruction.opcode == .jal, last.instruction.rd != 0 else { return nil }
        return block.pc + UInt64(last.offset) + UInt64(last.instruction.length)
    }

    /// Where a block that ends in an indirect call returns to.
    private static func indirectCallContinuation(of block: Block) -> UInt64? {
        guard isIndirectCall(block), let last = block.decoded.last else { return nil }
        return block.pc + UInt64(last.offset) + UInt64(last.instruction.length)
    }

    /// Whether `pc` follows a call (a `jal` or `jalr` with a link register, 4 or 2 bytes long):
    /// a place returns go to, not a function's entry.
    static func isReturnSite(_ pc: UInt64, memory: GuestMemory) -> Bool {
        func isCall(_ i: Instruction) -> Bool { (i.opcode == .jal || i.opcode == .jalr) && i.rd != 0 }
        if pc >= 4, let bytes = memory.readCode(at: pc - 4, count: 4) {
            let word = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            if word & 3 == 3, isCall(Decoder.decode32(word)) { return true }
        }
        if pc >= 2, let bytes = memory.readCode(at: pc - 2, count: 2) {
            let parcel = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
            if parcel & 3 != 3, isCall(Decoder.decodeCompressed(parcel)) { return true }
        }
        return false
    }

    /// Whether a block ends in an indirect call (`jalr` with a link register: a call through a
    /// function pointer, a table of them, a virtual method).
    static func isIndirectCall(_ block: Block) -> Bool {
        guard let last = block.decoded.last?.instruction else { return false }
        return last.opcode == .jalr && last.rd != 0
    }

    /// Whether a block ends in an indirect jump that is not a return (`jalr x0` through another
    /// register: a `switch`'s jump table, an interpreter's dispatch).
    static func isIndirectJump(_ block: Block) -> Bool {
        guard let last = block.decoded.last?.instruction else { return false }
        return last.opcode == .jalr && last.rd == 0 && !RegionFrontend.isReturn(last)
    }

    /// Whether a block ends in a return (`jalr x0, rs` through a link register, `ra` or `t0`):
    /// the frontend goes on at the continuation of a call in the region when its address is
    /// the one returned to.
    static func isReturn(_ block: Block) -> Bool {
        guard let last = block.decoded.last?.instruction else { return false }
        return RegionFrontend.isReturn(last)
    }
}
