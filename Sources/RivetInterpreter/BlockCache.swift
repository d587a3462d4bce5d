import CRivetHost
import RivetMachine
#if canImport(Glibc)
import Glibc
#endif

/// The interpreter's decoded blocks, by guest pc.
///
/// A direct-mapped table answers most lookups with one compare; a `PCMap` holds every block.
/// Each page's blocks form a list through their headers (a block is listed under the page of
/// its first instruction), so a change to a page drops exactly the blocks decoded from it.
/// Dropped blocks are freed only at `collect()`, which the interpreter calls between blocks:
/// the block being executed may be the one dropped.
///
/// The cache is bounded by `byteLimit` (the blocks' memory plus what indexing one costs): past
/// it, inserting a block evicts others in CLOCK order — a block entered since the hand last
/// passed it gets a second chance. An evicted block is decoded again when next reached, and
/// finds its hotness (its countdown to tier-up and its executions) where eviction left it, in
/// a bounded table of `hotnessEntries` slots (a block whose slot another took starts over).
/// Eviction happens only at `insert`, between blocks, so evicted blocks are freed at once.
///
/// Its state is mutated on every decode: `@exclusivity(unchecked)` keeps the runtime's access
/// checks out of that path (the interpreter is its only user, on one thread).
///
/// Each hart has its own cache, used by its own thread; other threads only tell it that code
/// changed, holding the memory's `CodeLock`. Such a change is not applied at once (the owner
/// may be executing one of the blocks): it waits in `pending`, the owner's hart gets
/// RIVET_ATTENTION_CODE_CHANGED, and the owner drops the blocks at its next stop or `fence.i`
/// (`applyPending`) — as RISC-V lets a hart see another's code changes only after a fence.i.
/// Everything that changes the page lists (insert, eviction, drops) happens under the lock, so
/// that another thread's `holdsCode` reads them safely.
final class BlockCache: CodeInvalidationObserver {
    struct Entry {
        var pc: UInt64
        var block: Block?
    }

    static let tableBits = 12
    static let tableMask = (1 << tableBits) - 1
    /// A pc no block has (pcs are even).
    static let emptyPC: UInt64 = 1
    /// What indexing a block costs beyond its own memory: its entries in the block map and
    /// the CLOCK ring.
    static let indexBytes = 48

    let table: UnsafeMutablePointer<Entry>
    /// Counts the blocks that left the cache (dropped or evicted): a successor a block
    /// remembered (`BlockHeader.next`) in an earlier epoch may be gone. In memory of its own, so
    /// that the dispatch loop reads it with one load.
    let epoch: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) private var blocks = PCMap<Block>(capacity: 1 << 12)
    /// The first block of each page's list, by the page's address.
    @exclusivity(unchecked) private var pageHeads = PCMap<Block>(capacity: 1 << 8)
    @exclusivity(unchecked) private var retired: [Block] = []
    /// The CLOCK ring: pcs of cached blocks (and of dropped ones, skipped when met), with the
    /// block's execution count when the hand last passed.
    @exclusivity(unchecked) private var ring: [(pc: UInt64, executions: UInt32)] = []
    @exclusivity(unchecked) private var hand = 0
    /// The hotness of evicted blocks, direct-mapped by pc.
    static let hotnessEntries = 1 << 16
    /// Mapped, not allocated: untouched slots cost no memory and no start-up time (a machine per
    /// request would otherwise write its 1 MiB). A slot's `pc` field holds the pc XOR
    /// `emptyPC`, so that a zero page reads as empty slots.
    private let hotness: UnsafeMutablePointer<(pc: UInt64, countdown: Int32, executions: UInt32)>
    private static let hotnessBytes = hotnessEntries * MemoryLayout<(pc: UInt64, countdown: Int32, executions: UInt32)>.stride
    /// Set when a block was dropped since the flag was last cleared; the interpreter checks it
    /// after a store that went through the slow path, to stop executing a block that is gone.
    var droppedSinceCheck = false

    /// The thread running the hart this cache belongs to (nil before it first runs), and the
    /// hart's slots, to ask it to apply changes other threads made.
    var owner: pthread_t? = nil
    var ownerSlots: UnsafeMutablePointer<UInt64>? = nil
    /// Code changes other threads made, for the owner to apply (under the code lock).
    private var pending: [(start: UInt64, end: UInt64)] = []

    /// The most bytes the cache may hold.
    var byteLimit: Int
    /// Bytes it holds now.
    @exclusivity(unchecked) private(set) var bytes = 0
    @exclusivity(unchecked) private(set) var decodedBlocks: UInt64 = 0
    private(set) var invalidatedBlocks: UInt64 = 0
    @exclusivity(unchecked) private(set) var evictedBlocks: UInt64 = 0

    /// The memory of the blocks cached (another one after `dropAll`).
    @exclusivity(unchecked) private(set) var arena = BlockArena()

    init(byteLimit: Int = 32 << 20) {
        self.byteLimit = byteLimit
        table = .allocate(capacity: 1 << Self.tableBits)
        epoch = .allocate(capacity: 1)
        epoch.initialize(to: 0)
        table.initialize(repeating: Entry(pc: Self.emptyPC, block: nil), count: 1 << Self.tableBits)
        guard let mapped = mmap(nil, Self.hotnessBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            mapped != MAP_FAILED
        else { fatalError("rivet: cannot map the interpreter's hotness table (\(Self.hotnessBytes) bytes)") }
        hotness = mapped.bindMemory(to: (pc: UInt64, countdown: Int32, executions: UInt32).self, capacity: Self.hotnessEntries)
    }

    deinit {
        blocks.forEach { _, block in free(block) }
        collect()
        table.deallocate()
        epoch.deallocate()
        munmap(hotness, Self.hotnessBytes)
    }

    /// Blocks cached now.
    var count: Int { blocks.count }

    @inline(__always)
    static func slot(_ pc: UInt64) -> Int { Int(truncatingIfNeeded: pc >> 1) & tableMask }

    @inline(__always)
    private static func hotnessSlot(_ pc: UInt64) -> Int {
        Int(truncatingIfNeeded: (pc &* 0x9E37_79B9_7F4A_7C15) >> 48) & (hotnessEntries - 1)
    }

    @inline(__always)
    private static func page(_ pc: UInt64) -> UInt64 { pc & ~(GuestMemory.pageSize - 1) }

    /// The bytes a block takes in the cache.
    static func cost(_ block: Block) -> Int {
        BlockDecoder.bytes(block) + indexBytes
    }

    /// The block at `pc`, if decoded, filling the table on a map hit.
    func lookup(_ pc: UInt64) -> Block? {
        let entry = table[Self.slot(pc)]
        if entry.pc == pc, let block = entry.block { return block }
        guard let block = blocks.find(pc) else { return nil }
        table[Self.slot(pc)] = Entry(pc: pc, block: block)
        return block
    }

    /// Adds a block, evicting others first if the cache would exceed its bound. A block evicted
    /// before gets back the hotness it had.
    func insert(_ block: Block) {
        let pc = block.pointee.pc
        let cost = Self.cost(block)
        evict(toFit: cost)
        // Only eviction fills the table: until a block is evicted, reading a slot would
        // only fault in a zero page (a forked child or a fresh start would take one fault
        // per slot's page its new blocks hash to, up to 256).
        if evictedBlocks != 0, case let saved = hotness[Self.hotnessSlot(pc)], saved.pc ^ Self.emptyPC == pc {
            block.pointee.countdown = min(block.pointee.countdown, saved.countdown)
            block.pointee.executions = saved.executions
            hotness[Self.hotnessSlot(pc)].pc = 0  // empty
        }
        blocks.set(pc, block)
        bytes += cost
        table[Self.slot(pc)] = Entry(pc: pc, block: block)
        decodedBlocks += 1
        ring.append((pc, 0))
        // Dropped blocks leave their places in the ring until the hand passes: keep the ring
        // in proportion to the blocks.
        if ring.count > 2 * blocks.count + 4096 {
            var seen = Set<UInt64>()
            ring = ring.filter { blocks.find($0.pc) != nil && seen.insert($0.pc).inserted }
            hand = 0
        }
        // First on its page's list.
        let page = Self.page(pc)
        let head = pageHeads.find(page)
        block.pointee.previousOnPage = nil
        block.pointee.nextOnPage = head
        head?.pointee.previousOnPage = block
        pageHeads.set(page, block)
    }

    /// Evicts blocks in CLOCK order until `incoming` more bytes fit.
    private func evict(toFit incoming: Int) {
        var examined = 0
        while bytes + incoming > byteLimit, !ring.isEmpty {
            if hand >= ring.count { hand = 0 }
            let (pc, seen) = ring[hand]
            guard let block = blocks.find(pc) else {
                // Dropped meanwhile (its code changed): forget its place.
                ring.swapAt(hand, ring.count - 1)
                ring.removeLast()
                continue
            }
            examined += 1
            let executions = block.pointee.executions
            // A second chance for a block entered since the hand last passed (but one full
            // turn of the ring at most, so that eviction always ends).
            if executions != seen, examined <= ring.count {
                ring[hand].executions = executions
                hand += 1
                continue
            }
            ring.swapAt(hand, ring.count - 1)
            ring.removeLast()
            hotness[Self.hotnessSlot(pc)] = (pc ^ Self.emptyPC, block.pointee.countdown, block.pointee.executions)
            remove(block)
            free(block)
            evictedBlocks += 1
        }
    }

    /// Takes a cached block out of every index.
    private func remove(_ block: Block) {
        let pc = block.pointee.pc
        epoch.pointee &+= 1
        blocks.remove(pc)
        bytes -= Self.cost(block)
        let slot = Self.slot(pc)
        if table[slot].pc == pc { table[slot] = Entry(pc: Self.emptyPC, block: nil) }
        let previous = block.pointee.previousOnPage
        let next = block.pointee.nextOnPage
        next?.pointee.previousOnPage = previous
        if let previous {
            previous.pointee.nextOnPage = next
        } else if let next {
            pageHeads.set(Self.page(pc), next)
        } else {
            pageHeads.remove(Self.page(pc))
        }
        block.pointee.previousOnPage = nil
        block.pointee.nextOnPage = nil
    }

    /// Drops every block decoded from bytes in `[start, end)`: blocks elsewhere on the same
    /// pages stay (a store next to code costs the slow path, not the code).
    func guestCodeChanged(start: GuestAddress, end: GuestAddress) {
        if let owner, pthread_equal(owner, pthread_self()) == 0 {
            pending.append((start.rawValue, end.rawValue))
            if let ownerSlots { rivet_set_attention(ownerSlots, RIVET_ATTENTION_CODE_CHANGED) }
            return
        }
        applyPending()
        drop(start, end)
    }

    /// Applies the code changes other threads made (by the owner, holding the code lock).
    func applyPending() {
        guard !pending.isEmpty else { return }
        let changes = pending
        pending.removeAll()
        for change in changes { drop(GuestAddress(change.start), GuestAddress(change.end)) }
    }

    private func drop(_ start: GuestAddress, _ end: GuestAddress) {
        let first = start.pageStart.rawValue
        let last = end.pageEnd.rawValue
        let pages = (last - first) >> GuestMemory.pageShift
        if pages > UInt64(pageHeads.count) {
            var listed: [UInt64] = []
            var all = true
            pageHeads.forEach { page, _ in
                if page >= first && page < last { listed.append(page) } else { all = false }
            }
            // (Wholesale only when worth a new arena: a fence.i's page with the cache empty,
            // or a few blocks, go the usual way.)
            if all, listed.count > 0, blocks.count >= Self.wholesaleDrop, start.rawValue == first, end.rawValue == last {
                dropAll()
                return
            }
            for page in listed { drop(page: page, overlapping: start.rawValue, end.rawValue) }
        } else {
            var page = first
            while page < last {
                drop(page: page, overlapping: start.rawValue, end.rawValue)
                page += GuestMemory.pageSize
            }
        }
        // Blocks of the page before whose last instruction runs into the range.
        if first >= GuestMemory.pageSize {
            drop(page: first - GuestMemory.pageSize, overlapping: start.rawValue, end.rawValue)
        }
    }

    /// Whether a cached block was decoded from page number `page` (or runs into it).
    func holdsCode(page: UInt64) -> Bool {
        let address = page << GuestMemory.pageShift
        // What waits to be dropped is as good as gone: the owner drops it before it runs
        // another block of the cache... at its next stop.
        if pending.contains(where: { $0.start < address + GuestMemory.pageSize && $0.end + GuestMemory.pageSize > address }) {
            return false
        }
        if pageHeads.find(address) != nil { return true }
        guard address >= GuestMemory.pageSize else { return false }
        var cursor = pageHeads.find(address - GuestMemory.pageSize)
        while let block = cursor {
            if block.pointee.endPC > address { return true }
            cursor = block.pointee.nextOnPage
        }
        return false
    }

    /// Every cached block.
    func allBlocks() -> [Block] {
        var result: [Block] = []
        result.reserveCapacity(blocks.count)
        blocks.forEach { _, block in result.append(block) }
        return result
    }


    /// Drops the blocks of `page`'s list whose bytes meet `[start, end)`.
    private func drop(page: UInt64, overlapping start: UInt64, _ end: UInt64) {
        var cursor = pageHeads.find(page)
        while let block = cursor {
            cursor = block.pointee.nextOnPage
            guard block.pointee.pc < end, max(block.pointee.endPC, block.pointee.pc + 1) > start else { continue }
            remove(block)
            retired.append(block)
            invalidatedBlocks += 1
            droppedSinceCheck = true
        }
    }

    /// Drops every block at once, when a change covers every page that has blocks (an execve's
    /// unmap of the old image): the indexes start empty, new blocks come from a new arena, and
    /// `collect` unmaps the old one whole instead of freeing its blocks one by one — each free
    /// wrote into the block, and in a forked child that execs, each page written was copied
    /// from the parent's first (Performance.md, twenty-ninth session). What evicted blocks left
    /// in the hotness table goes too: those pcs are another program's now.
    func dropAll() {
        let dropped = blocks.count
        // Of the blocks waiting to be freed and those cached, the old arena's go with it; those
        // from `malloc` are freed one by one.
        retired.removeAll { arena.contains(UnsafeMutableRawPointer($0)) }
        blocks.forEach { _, block in
            if !arena.contains(UnsafeMutableRawPointer(block)) { retired.append(block) }
        }
        if !arena.isUnused {
            droppedArenas.append(arena)
            arena = BlockArena()
        }
        blocks = PCMap(capacity: 1 << 12)
        pageHeads = PCMap(capacity: 1 << 8)
        ring.removeAll()
        hand = 0
        bytes = 0
        table.update(repeating: Entry(pc: Self.emptyPC, block: nil), count: 1 << Self.tableBits)
        epoch.pointee &+= 1
        _ = madvise(UnsafeMutableRawPointer(hotness), Self.hotnessBytes, MADV_DONTNEED)
        invalidatedBlocks += UInt64(dropped)
        droppedSinceCheck = true
    }

    /// The fewest cached blocks that `drop` drops all at once (`dropAll`) rather than one by one.
    static let wholesaleDrop = 64

    /// Arenas whose blocks `dropAll` dropped, unmapped by `collect`.
    @exclusivity(unchecked) private var droppedArenas: [BlockArena] = []

    /// Frees dropped blocks. Only call when no block is executing.
    func collect() {
        if !droppedArenas.isEmpty { droppedArenas.removeAll() }
        guard !retired.isEmpty else { return }
        for block in retired { free(block) }
        retired.removeAll(keepingCapacity: true)
    }

    private func free(_ block: Block) {
        arena.free(UnsafeMutableRawPointer(block), byteCount: BlockDecoder.bytes(block))
    }
}
