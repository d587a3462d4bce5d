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
/// The page: a 32-bit count of claimed slots, then 64-bit slots. A child claims one with an
/// atomic add and stores `pc | 1`, with bit 63 set for a compiled block (pcs are even and below
/// 2^36), so a slot still 0 is claimed and not written yet: the parent stops there and reads
/// on at its next fork. (A child killed between the two would stop the parent's reading for
/// good: it only loses what later children report.) Full, reports are dropped; the page is one
/// per parent, for its whole life.
final class ChildReports {
    static let bytes = 65536
    static let capacity = (bytes - 8) / 8
    /// The most a parent takes at one fork.
    static let takenPerFork = 512
    /// The most one child reports.
    static let perChild = 512
    private static let compiledBit: UInt64 = 1 << 63

    private let base: UnsafeMutableRawPointer
    /// Slots this process (the parent) has read.
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
        guard claimed < Self.capacity else { return }
        _ = rivet_amo64(base + 8 + 8 * claimed, RIVET_AMO_SWAP, pc | 1 | (compiled ? Self.compiledBit : 0))
    }

    /// The blocks children reported since the last call, at most `limit` of them (in the
    /// parent).
    func take(limit: Int) -> [(pc: UInt64, compiled: Bool)] {
        let claimed = min(Int(rivet_atomic_load32(base)), Self.capacity)
        var blocks: [(pc: UInt64, compiled: Bool)] = []
        while read < claimed, blocks.count < limit {
            let value = rivet_atomic_load64(base + 8 + 8 * read)
            guard value != 0 else { break }
            blocks.append((value & ~(1 | Self.compiledBit), value & Self.compiledBit != 0))
            read += 1
        }
        return blocks
    }
}
