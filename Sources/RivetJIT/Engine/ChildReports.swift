import CRivetHost

#if canImport(Glibc)
import Glibc
#endif

/// The pcs of blocks that forked children decoded or compiled, reported to their parent
/// through a page both map, so that the parent decodes or compiles them too and its later
/// children inherit them instead of each doing it again: a shell's children run the shell's
/// own program (busybox applets, the same program exec'd again, whose code the exec keeps), and
/// their compiles cost three times what the parent's do (every page they touch is copied
/// first). The parent decodes and compiles its own bytes at a reported pc, as when it runs a
/// block of its own there: a report can waste work, never change what runs.
///
/// The page: a 32-bit count of claimed slots, then a ring of 64-bit slots. A child claims the
/// next one with an atomic add (the count goes on past the ring's size: slot `count % capacity`,
/// lap `count / capacity`) and stores `pc | 1`, its lap in bits 48-62 and bit 63 set for a
/// compiled block (pcs are even and below 2^48). The parent reads the slots after the last it
/// read, each written for its lap; at a slot not written yet it stops and reads on at its next
/// fork, unless `patience` slots were claimed after it (its child died before writing, or is
/// slow: one report lost). A parent that fell more than a lap behind skips to the last lap.
/// The page is one per parent, for its whole life, and never fills (until the thirty-first
/// session it did, after 8,190 reports: busybox sh's workload took 7,813).
final class ChildReports {
    static let bytes = 65536
    static let capacity = (bytes - 8) / 8
    /// The most a parent takes at one fork.
    static let takenPerFork = 512
    /// The most one child reports.
    static let perChild = 512
    /// Slots claimed after one not written yet before the parent skips it.
    static let patience = 256
    private static let compiledBit: UInt64 = 1 << 63
    private static let lapShift: UInt64 = 48
    private static let lapMask: UInt64 = 0x7fff
    private static let pcMask: UInt64 = (1 << 48) - 2

    /// The page (internal for tests, which play a child that dies between claim and write).
    let base: UnsafeMutableRawPointer
    /// Slots this process (the parent) has read, as the count goes.
    private var read = 0

    /// A new page; nil if the host refuses one.
    init?() {
        let page = mmap(nil, Self.bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        guard let page, page != MAP_FAILED else { return nil }
        base = page
    }

    deinit { munmap(base, Self.bytes) }

    /// Reports the block at `pc`, decoded or compiled (from a child).
    func report(_ pc: UInt64, compiled: Bool) {
        let claimed = Int(rivet_amo32(base, RIVET_AMO_ADD, 1))
        _ = rivet_amo64(base + 8 + 8 * (claimed % Self.capacity), RIVET_AMO_SWAP, Self.entry(pc, compiled: compiled, claimed))
    }

    /// What a child stores for the report it claimed as `claimed`.
    static func entry(_ pc: UInt64, compiled: Bool, _ claimed: Int) -> UInt64 {
        pc & pcMask | 1 | (UInt64(claimed / capacity) & lapMask) << lapShift | (compiled ? compiledBit : 0)
    }

    /// The blocks children reported since the last call, at most `limit` of them (in the
    /// parent).
    func take(limit: Int) -> [(pc: UInt64, compiled: Bool)] {
        let claimed = Int(rivet_atomic_load32(base))
        // The count wrapped (after 2^32 reports), or a lap was missed.
        if claimed < read { read = claimed }
        if claimed - read > Self.capacity { read = claimed - Self.capacity }
        var blocks: [(pc: UInt64, compiled: Bool)] = []
        while read < claimed, blocks.count < limit {
            let value = rivet_atomic_load64(base + 8 + 8 * (read % Self.capacity))
            let lap = UInt64(read / Self.capacity) & Self.lapMask
            guard value & 1 != 0, value >> Self.lapShift & Self.lapMask == lap else {
                // Claimed and not written yet.
                if claimed - read > Self.patience {
                    read += 1
                    continue
                }
                break
            }
            blocks.append((value & Self.pcMask, value & Self.compiledBit != 0))
            read += 1
        }
        return blocks
    }
}
