import RivetMachine

/// The interpreter's decoded blocks, by guest pc.
///
/// A direct-mapped table answers most lookups with one compare; a dictionary holds every block.
/// Blocks are indexed by the guest pages they were decoded from, so a change to a page drops
/// exactly the blocks decoded from it. Dropped blocks are freed only at `collect()`, which the
/// interpreter calls between blocks: the block being executed may be the one dropped.
final class BlockCache: CodeInvalidationObserver {
    struct Entry {
        var pc: UInt64
        var block: Block?
    }

    static let tableBits = 12
    static let tableMask = (1 << tableBits) - 1
    /// A pc no block has (pcs are even).
    static let emptyPC: UInt64 = 1

    let table: UnsafeMutablePointer<Entry>
    private var blocks: [UInt64: Block] = [:]
    private var blocksByPage: [UInt64: [UInt64]] = [:]
    private var retired: [Block] = []
    /// Set when a block was dropped since the flag was last cleared; the interpreter checks it
    /// after a store that went through the slow path, to stop executing a block that is gone.
    var droppedSinceCheck = false

    private(set) var decodedBlocks: UInt64 = 0
    private(set) var invalidatedBlocks: UInt64 = 0

    init() {
        table = .allocate(capacity: 1 << Self.tableBits)
        table.initialize(repeating: Entry(pc: Self.emptyPC, block: nil), count: 1 << Self.tableBits)
    }

    deinit {
        for block in blocks.values { free(block) }
        collect()
        table.deallocate()
    }

    @inline(__always)
    static func slot(_ pc: UInt64) -> Int { Int(truncatingIfNeeded: pc >> 1) & tableMask }

    /// The block at `pc`, if decoded, filling the table on a dictionary hit.
    func lookup(_ pc: UInt64) -> Block? {
        let entry = table[Self.slot(pc)]
        if entry.pc == pc, let block = entry.block { return block }
        guard let block = blocks[pc] else { return nil }
        table[Self.slot(pc)] = Entry(pc: pc, block: block)
        return block
    }

    func insert(_ block: Block) {
        let pc = block.pointee.pc
        blocks[pc] = block
        table[Self.slot(pc)] = Entry(pc: pc, block: block)
        decodedBlocks += 1
        let lastByte = max(block.pointee.endPC, pc + 1) - 1
        for page in (pc >> GuestMemory.pageShift)...(lastByte >> GuestMemory.pageShift) {
            blocksByPage[page, default: []].append(pc)
        }
    }

    /// Drops every block decoded from a page in `[start, end)`.
    func guestCodeChanged(start: GuestAddress, end: GuestAddress) {
        let firstPage = start.rawValue >> GuestMemory.pageShift
        let endPage = end.pageEnd.rawValue >> GuestMemory.pageShift
        if endPage - firstPage > UInt64(blocksByPage.count) {
            for page in blocksByPage.keys where page >= firstPage && page < endPage { drop(page: page) }
        } else {
            for page in firstPage..<endPage { drop(page: page) }
        }
    }

    /// Every cached block.
    func allBlocks() -> [Block] { Array(blocks.values) }

    /// Drops every block.
    func removeAll() {
        for page in Array(blocksByPage.keys) { drop(page: page) }
    }

    private func drop(page: UInt64) {
        guard let pcs = blocksByPage.removeValue(forKey: page) else { return }
        for pc in pcs {
            guard let block = blocks.removeValue(forKey: pc) else { continue }
            let slot = Self.slot(pc)
            if table[slot].pc == pc { table[slot] = Entry(pc: Self.emptyPC, block: nil) }
            retired.append(block)
            invalidatedBlocks += 1
            droppedSinceCheck = true
        }
    }

    /// Frees dropped blocks. Only call when no block is executing.
    func collect() {
        guard !retired.isEmpty else { return }
        for block in retired { free(block) }
        retired.removeAll(keepingCapacity: true)
    }

    private func free(_ block: Block) {
        UnsafeMutableRawPointer(block).deallocate()
    }
}
