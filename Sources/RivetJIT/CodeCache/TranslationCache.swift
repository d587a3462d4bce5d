#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Every live translation: by guest pc, by guest page, and by host address; block chaining;
/// invalidation when guest code changes.
///
/// With guest threads running in parallel, every method is called holding the memory's
/// `CodeLock`; JIT code of other harts runs meanwhile. So a removed translation's code is freed
/// only once each hart that was in JIT code at the removal has left it since (`collect`), and a
/// jump cache entry is emptied by its pc alone (the entry word stays valid until then).
final class TranslationCache: CodeInvalidationObserver {
    let region: CodeRegion
    /// The first hart's indirect-branch cache.
    let jumpCache: JumpCache
    /// The other harts' (each hart probes its own).
    @exclusivity(unchecked) var otherJumpCaches: [JumpCache] = []
    /// Unowned: the memory keeps its observers alive, and this is one of them.
    unowned let memory: GuestMemory
    /// Execution counters, one 64-bit slot per translation id, incremented by the first hart's
    /// JIT code; each other hart has a table of its own (`otherCounters`), so that harts
    /// running the same code do not fight over the counters' cache lines. `count(_:)` sums them.
    let counters: UnsafeMutablePointer<UInt64>
    @exclusivity(unchecked) var otherCounters: [UnsafeMutablePointer<UInt64>] = []
    static let maxTranslations = 1 << 20
    /// By id, the count at which a baseline block's code stops counting (`sweepCounters`); 0
    /// for a translation that counts on (or otherwise, or no longer). Set as it is inserted.
    private let countLimits: UnsafeMutablePointer<UInt64>
    /// Runs of a block after which its code stops counting (`TierPolicy.countingLimit`); 0:
    /// never.
    @exclusivity(unchecked) var countingLimit: UInt64 = 0
    /// The next id `sweepCounters` looks at.
    @exclusivity(unchecked) private var sweepCursor = 1

    // The run loop's indexes, asked at every exit from JIT code, live behind pointers: a
    // pointer's pointee is not a class property, so reading it needs no dynamic exclusivity
    // check and no copy-on-write check.
    /// Live translations by guest pc (their ids). Owned: allocated in init, freed in deinit.
    private let byPC: UnsafeMutablePointer<PCIndex>
    /// Translations by id (live, and retired but not yet collected); nil for free ids. Owned:
    /// `maxTranslations` entries of zero-filled memory mapped lazily (a nil reference is zero),
    /// every entry below `nextID` set to nil again in deinit, which releases the references.
    private let byID: UnsafeMutablePointer<Translation?>
    @exclusivity(unchecked) private var byPage: [UInt64: [Translation]] = [:]
    @exclusivity(unchecked) private var freeIDs: [Int] = []
    @exclusivity(unchecked) private var nextID = 1
    /// Guest pages write-protected on the host because they hold translated code and are
    /// guest-writable: a JIT store to one faults, and the engine invalidates.
    @exclusivity(unchecked) private var protectedPages: Set<UInt64> = []
    /// Removed translations whose code and id are released at `collect()`: JIT code may still
    /// be running in one (a helper's store changed code), and its exit code names its id.
    @exclusivity(unchecked) private var retired: [(translation: Translation, marks: [QuiescenceMark])] = []
    /// Bytes of code the retired translations hold.
    @exclusivity(unchecked) private(set) var retiredBytes = 0
    /// Which harts are in JIT code now, and whether all of those have left it since: set by
    /// the engine (by default, none ever is).
    var marksNow: () -> [QuiescenceMark] = { [] }
    var isQuiescent: ([QuiescenceMark]) -> Bool = { _ in true }
    /// Why a translation left the cache.
    enum Removal {
        /// Its guest code changed (or fence.i): a deoptimization.
        case invalidated
        /// Evicted to make room.
        case evicted
        /// Replaced by code of a higher tier for the same pc.
        case replaced
        /// A tier-2 region left too often to pay for itself (`Engine.demoteLosingRegions`).
        case demoted
        /// Its program was replaced (execve) by one with other bytes there: not a
        /// deoptimization, and nothing backs off (`replacingProgram`).
        case programReplaced
    }

    /// Set while an execve drops the code of the pages its new program does not repeat: those
    /// removals are `.programReplaced`, not invalidations.
    var replacingProgram = false

    /// Called for each translation removed (statistics, back-off of deopt loops).
    var onRemove: ((Translation, Removal) -> Void)?

    @exclusivity(unchecked) private(set) var invalidations: UInt64 = 0
    /// What the live tier-2 regions' metadata takes beyond `Translation.metadataBytes` each
    /// (`OptimizedCode.bytes`): counted against the cache's bound too.
    @exclusivity(unchecked) private(set) var optimizedMetadataBytes = 0
    @exclusivity(unchecked) private(set) var links: UInt64 = 0
    /// Times a translation's counting was stopped (`stopCounting`).
    @exclusivity(unchecked) private(set) var stoppedCounters: UInt64 = 0

    init(region: CodeRegion, memory: GuestMemory) {
        self.region = region
        self.memory = memory
        jumpCache = JumpCache()
        counters = Self.zeroTable(of: UInt64.self, "the execution counters", entries: Self.counterEntries)
        byID = Self.zeroTable(of: Translation?.self, "the translation table")
        countLimits = Self.zeroTable(of: UInt64.self, "the counting limits")
        byPC = .allocate(capacity: 1)
        byPC.initialize(to: PCIndex())
        memory.addObserver(self)
    }

    deinit {
        for id in 0..<nextID { byID[id] = nil }
        munmap(byID, Self.maxTranslations * MemoryLayout<Translation?>.stride)
        byPC.deinitialize(count: 1)
        byPC.deallocate()
        munmap(counters, Self.counterEntries * MemoryLayout<UInt64>.stride)
        munmap(countLimits, Self.maxTranslations * MemoryLayout<UInt64>.stride)
        for table in otherCounters { munmap(table, Self.counterEntries * MemoryLayout<UInt64>.stride) }
    }

    /// Guest instructions executed in translation `id`, by every hart.
    func count(_ id: Int) -> UInt64 { otherCounters.reduce(counters[id]) { $0 &+ $1[id] } }

    /// A counter table holds, by id, the instructions executed (`count`) and then, from
    /// `maxTranslations` on, how often tier-2 code left (`exits`): its exits count themselves
    /// (`Tier2Backend`), since a region's instructions say nothing of its entries.
    static let counterEntries = 2 * maxTranslations
    /// The byte offset of translation 0's exit counter in a counter table.
    static let exitCounterOffset = 8 * maxTranslations

    /// How often tier-2 translation `id` was left (so entered), by every hart.
    func exits(_ id: Int) -> UInt64 {
        otherCounters.reduce(counters[Self.maxTranslations + id]) { $0 &+ $1[Self.maxTranslations + id] }
    }

    /// Where baseline translation `id`'s call through a pointer (`jalr` with a link register)
    /// last went, on some hart: tier 1 stores it in the slot a region's exit count has
    /// (`BlockTranslator`); 0 if it never ran (or ends otherwise).
    func lastCallTarget(_ id: Int) -> UInt64 {
        let main = counters[Self.maxTranslations + id]
        return main != 0 ? main : otherCounters.lazy.map { $0[Self.maxTranslations + id] }.first { $0 != 0 } ?? 0
    }

    /// A counter table for another hart.
    func addCounterTable() -> UnsafeMutablePointer<UInt64> {
        let table = Self.zeroTable(of: UInt64.self, "a hart's execution counters", entries: Self.counterEntries)
        otherCounters.append(table)
        return table
    }

    /// Folds a hart's counter table into the first one's and frees it.
    func removeCounterTable(_ table: UnsafeMutablePointer<UInt64>) {
        guard let k = otherCounters.firstIndex(of: table) else { return }
        otherCounters.remove(at: k)
        for id in 1..<nextID {
            counters[id] &+= table[id]
            counters[Self.maxTranslations + id] &+= table[Self.maxTranslations + id]
        }
        munmap(table, Self.counterEntries * MemoryLayout<UInt64>.stride)
    }

    /// A table of `maxTranslations` entries of zero-filled memory, mapped on first touch: it
    /// costs nothing until ids are used. Zero bits are a valid value for both uses (a count of
    /// 0, a nil reference).
    private static func zeroTable<T>(of _: T.Type, _ what: String, entries: Int = maxTranslations) -> UnsafeMutablePointer<T> {
        let raw = mmap(nil, entries * MemoryLayout<T>.stride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(raw != MAP_FAILED, "cannot map \(what)")
        return raw!.bindMemory(to: T.self, capacity: entries)
    }

    var count: Int { byPC.pointee.count }

    /// A fresh id for a translation about to be built, or nil if all are in use.
    func reserveID() -> Int? {
        if let id = freeIDs.popLast() { return id }
        guard nextID < Self.maxTranslations else { return nil }
        defer { nextID += 1 }
        return nextID
    }

    func releaseID(_ id: Int) {
        counters[id] = 0
        countLimits[id] = 0
        counters[Self.maxTranslations + id] = 0
        for table in otherCounters {
            table[id] = 0
            table[Self.maxTranslations + id] = 0
        }
        freeIDs.append(id)
    }

    func lookup(_ pc: UInt64) -> Translation? {
        guard let entry = byPC.pointee.find(pc) else { return nil }
        return byID[Int(entry.id)]
    }

    /// Whether a live translation starts at `pc` (no reference taken).
    func contains(_ pc: UInt64) -> Bool { byPC.pointee.find(pc) != nil }

    /// How to enter the live translation at `pc`, as plain values (no reference taken).
    @inline(__always)
    func entryPoint(_ pc: UInt64) -> PCIndex.Entry? { byPC.pointee.find(pc) }

    func translation(id: Int) -> Translation? { id > 0 && id < Self.maxTranslations ? byID[id] : nil }

    /// The translation whose code contains the executable address `address`, and the address's
    /// code offset in it (`Translation.codeOffset(ofRegion:)`).
    func translation(containingHost address: UInt) -> (translation: Translation, codeOffset: Int)? {
        guard let offset = region.offset(ofExecutable: address) else { return nil }
        for id in 1..<nextID {
            if let t = byID[id], let codeOffset = t.codeOffset(ofRegion: offset) { return (t, codeOffset) }
        }
        return nil
    }

    /// The executable address of a translation's entry: its code's start, or its counting
    /// entry while it counts there (`Translation.countingEntry`).
    func entry(_ t: Translation) -> UInt {
        let offset = t.countingEntry != 0 && !t.counterStopped ? t.regionOffset(ofCode: Int(t.countingEntry)) : t.hostOffset
        return UInt(bitPattern: region.executable(at: offset))
    }

    /// `t`'s entry in the pc index: its id, length and entry now.
    private func indexEntry(_ t: Translation) -> PCIndex.Entry {
        PCIndex.Entry(id: Int32(truncatingIfNeeded: t.id), instructions: UInt32(t.instructionCount), hostEntry: entry(t))
    }

    /// Leads what enters `t` to its entry now (`entry(_:)`), after its counting started or
    /// stopped: its links, its entries in the pc index and the jump caches. (A hart may still
    /// come in the other way once: one run counted or not.)
    private func retarget(_ t: Translation) {
        let destination = entry(t)
        for (source, index) in t.incoming where source.linked(index) === t { patch(source, exit: index, destination: destination) }
        if byPC.pointee.find(t.guestPC)?.id == Int32(truncatingIfNeeded: t.id) { byPC.pointee.set(t.guestPC, indexEntry(t)) }
        jumpCache.update(pc: t.guestPC, entry: destination)
        for other in otherJumpCaches { other.update(pc: t.guestPC, entry: destination) }
    }

    /// Adds a translation, write-protecting its guest pages where the guest may write them.
    func insert(_ t: Translation) {
        if let old = lookup(t.guestPC) { remove(old) }
        byPC.pointee.set(t.guestPC, indexEntry(t))
        byID[t.id] = t
        if t.counterLength != 0, countingLimit != 0 { countLimits[t.id] = count(t.id) &+ countingLimit &* UInt64(t.instructionCount) }
        optimizedMetadataBytes += t.optimized?.bytes ?? 0
        t.forEachPage { page in
            byPage[page, default: []].append(t)
            if !protectedPages.contains(page), memory.permissions(at: page << 12).contains(.write) {
                protectedPages.insert(page)
                memory.setHostWriteProtection(page: page, protected: true)
            }
        }
        if let optimized = t.optimized {
            for range in optimized.guestRanges { memory.markCode(GuestAddress(range.lowerBound), GuestAddress(range.upperBound)) }
        } else {
            memory.markCode(GuestAddress(t.ownRange.lowerBound), GuestAddress(t.ownRange.upperBound))
        }
    }

    /// Replaces `old` by `new`, code of a higher tier for the same pc: the jumps that entered
    /// `old` enter `new` from now on; `old` is freed once no hart can be running it.
    func replace(_ old: Translation, with new: Translation) {
        let incoming = old.incoming.filter { $0.source !== old && !$0.source.isRetired && $0.source.linked($0.exit) === old }
        remove(old, .replaced)
        insert(new)
        for (source, index) in incoming { link(source, exit: index, to: new) }
    }

    /// Links exit `index` of `source` to `target`: the jump is patched to enter it directly.
    func link(_ source: Translation, exit index: Int, to target: Translation) {
        guard source.linked(index) == nil else { return }
        patch(source, exit: index, destination: entry(target))
        source.setLinked(index, target)
        target.incoming.append((source, index))
        links += 1
    }

    private func patch(_ source: Translation, exit index: Int, destination: UInt) {
        let site = source.hostOffset + Int(source.exit(index).patchOffset)
        let next = UInt(bitPattern: region.executable(at: site)) + 4
        let displacement = Int32(truncatingIfNeeded: Int(bitPattern: destination) - Int(bitPattern: next))
        region.writable(at: site).storeBytes(of: displacement.littleEndian, as: Int32.self)
    }

    /// Removes a translation: unlinks every jump into it, clears it from the jump cache, and
    /// frees its code.
    func remove(_ t: Translation, _ reason: Removal = .invalidated) {
        guard translation(id: t.id) === t, !t.isRetired else { return }
        t.isRetired = true
        countLimits[t.id] = 0
        optimizedMetadataBytes -= t.optimized?.bytes ?? 0
        for (source, index) in t.incoming where source.linked(index) === t {
            let stub = UInt(bitPattern: region.executable(at: source.regionOffset(ofCode: Int(source.exit(index).stubOffset))))
            patch(source, exit: index, destination: stub)
            source.setLinked(index, nil)
        }
        t.incoming = []
        for k in 0..<t.exits {
            if let target = t.linked(k) {
                target.incoming.removeAll { $0.source === t }
                t.setLinked(k, nil)
            }
        }
        jumpCache.remove(pc: t.guestPC)
        for other in otherJumpCaches { other.remove(pc: t.guestPC) }
        if byPC.pointee.find(t.guestPC)?.id == Int32(truncatingIfNeeded: t.id) { byPC.pointee.remove(t.guestPC) }
        t.forEachPage { page in
            byPage[page]?.removeAll { $0 === t }
            if byPage[page]?.isEmpty == true {
                byPage.removeValue(forKey: page)
                if protectedPages.remove(page) != nil {
                    memory.setHostWriteProtection(page: page, protected: false)
                }
            }
        }
        onRemove?(t, reason)
        retired.append((t, marksNow()))
        retiredBytes += t.regionBytes
    }

    /// Forgets every translation at once, as if none had been made, keeping the region's first
    /// `kept` bytes (the runtime's trampolines): for a process whose program was replaced
    /// (execve), with no hart in JIT code. Not removals: nothing is counted or reported to
    /// `onRemove`, no jump is patched back (no code will enter the old code again), the space
    /// is released in one step. Removing the translations one at a time counted each as a
    /// deoptimization and backed off its pc for the next program's blocks there.
    func forgetAll(keeping kept: Int) {
        for id in 1..<nextID {
            guard let t = byID[id] else { continue }
            // (References between translations, through links, would keep them alive.)
            t.isRetired = true
            t.incoming = []
            for k in 0..<t.exits { t.setLinked(k, nil) }
            jumpCache.remove(pc: t.guestPC)
            for other in otherJumpCaches { other.remove(pc: t.guestPC) }
            byID[id] = nil
            releaseID(id)
        }
        freeIDs.removeAll()
        nextID = 1
        for page in protectedPages { memory.setHostWriteProtection(page: page, protected: false) }
        protectedPages.removeAll()
        byPage.removeAll()
        byPC.pointee = PCIndex()
        retired.removeAll()
        retiredBytes = 0
        optimizedMetadataBytes = 0
        region.releaseAll(keeping: kept)
    }

    /// Whether removed translations wait to be freed.
    var hasRetired: Bool { !retired.isEmpty }

    /// Releases the code and ids of removed translations no hart can be running: the calling
    /// hart must not be in JIT code, and every other hart that was in JIT code at a removal
    /// must have left it since.
    func collect() {
        guard !retired.isEmpty else { return }
        var kept = 0
        for k in retired.indices {
            let (t, marks) = retired[k]
            guard isQuiescent(marks) else {
                retired[kept] = retired[k]
                kept += 1
                continue
            }
            byID[t.id] = nil
            region.release(offset: t.hostOffset, length: t.hostLength)
            region.release(offset: t.coldOffset, length: t.coldLength)
            releaseID(t.id)
            retiredBytes -= t.regionBytes
        }
        retired.removeLast(retired.count - kept)
    }

    /// Evicts `t` now, and frees its code at once unless another hart may be running it.
    func evict(_ t: Translation) {
        remove(t, .evicted)
        collect()
        evictions += 1
    }

    @exclusivity(unchecked) private(set) var evictions: UInt64 = 0


    /// Guest code in [start, end) changed: drop the translations decoded from its pages. (Whole
    /// pages: a page is write-protected as long as one translation on it lives, and a store to
    /// it must then take the interpreter's checked path, so they all go.)
    func guestCodeChanged(start: GuestAddress, end: GuestAddress) {
        let first = start.rawValue >> 12
        let last = end.pageEnd.rawValue >> 12
        var victims: [Translation] = []
        if last - first > UInt64(byPage.count) {
            for (page, list) in byPage where page >= first && page < last { victims += list }
        } else {
            for page in first..<last { victims += byPage[page] ?? [] }
        }
        for t in victims {
            remove(t, replacingProgram ? .programReplaced : .invalidated)
            if !replacingProgram { invalidations += 1 }
        }
        // Pages no longer holding translations were unprotected in `remove`; a page that was
        // re-protected by the guest keeps whatever the guest asked for.
    }

    /// Whether a live translation was decoded from page number `page`.
    func holdsCode(page: UInt64) -> Bool { byPage[page] != nil }

    /// The live translations made from guest page `page` (a region's for each page it spans).
    func translations(onPage page: UInt64) -> [Translation] { byPage[page] ?? [] }

    /// Whether `page` is write-protected because of translations on it.
    func isProtected(page: UInt64) -> Bool { protectedPages.contains(page) }

    /// All live translations (statistics).
    var all: [Translation] {
        var result: [Translation] = []
        result.reserveCapacity(count)
        forEachLive { result.append($0) }
        return result
    }

    /// Calls `body` with each live translation, in id order, without building an array.
    func forEachLive(_ body: (Translation) -> Void) {
        for id in 1..<nextID {
            if let t = byID[id], !t.isRetired { body(t) }
        }
    }

    // MARK: Counting

    /// Looks at the next `count` ids (round robin) and stops the counting of each baseline
    /// block that reached its limit. A plain loop over the counter tables: the translations
    /// themselves are touched only to stop one.
    func sweepCounters(_ count: Int) {
        let others = otherCounters
        let end = nextID
        var id = sweepCursor
        for _ in 0..<min(count, end - 1) {
            if id >= end { id = 1 }
            let limit = countLimits[id]
            if limit != 0, others.reduce(counters[id], { $0 &+ $1[id] }) >= limit, let t = byID[id] { stopCounting(t) }
            id += 1
        }
        sweepCursor = id
    }

    /// Makes `t`'s code stop counting: its counting instruction (a baseline block's
    /// `add [counters + 8·id], n`, at the start of its code) becomes a `nop` of its length, in
    /// one 8-byte store, so that code of other harts running it meanwhile sees one or the other
    /// (a `jmp` over it cost as much as the `add`: Lua 0.28 s either way, 0.25 s with a `nop`).
    /// A block with a counting entry is entered past it from now on.
    func stopCounting(_ t: Translation) {
        guard t.counterLength != 0 || t.countingEntry != 0, !t.counterStopped, !t.isRetired else { return }
        if t.countingEntry != 0 {
            t.counterStopped = true
            retarget(t)
        } else {
            stopCountingInPlace(t)
        }
        t.countsAreLowerBound = true
        t.inWindow = false
        countLimits[t.id] = 0
        stoppedCounters += 1
    }

    private func stopCountingInPlace(_ t: Translation) {
        let offset = t.hostOffset + Int(t.counterOffset)
        let original = UInt64(littleEndian: region.writable(at: offset).load(as: UInt64.self))
        let length = Int(t.counterLength)
        let nop: UInt64 = length == 8 ? 0x0000_0000_0084_1F0F : 0x00_0044_1F0F  // 0f 1f 84 00.. / 0f 1f 44 00 00
        let kept = length == 8 ? 0 : original & ~((1 << UInt64(8 * length)) - 1)
        t.counterBytes = original
        region.storeCode64(at: offset, kept | nop)
        t.counterStopped = true
    }

    /// Makes `t`'s code count again, from its counter's value now (a block with a counting
    /// entry: entered there).
    func resumeCounting(_ t: Translation) {
        guard t.counterStopped, !t.isRetired else { return }
        t.counterStopped = false
        if t.countingEntry != 0 {
            retarget(t)
        } else {
            region.storeCode64(at: t.hostOffset + Int(t.counterOffset), t.counterBytes)
        }
        if countingLimit != 0 { countLimits[t.id] = count(t.id) &+ countingLimit &* UInt64(t.instructionCount) }
    }
}
