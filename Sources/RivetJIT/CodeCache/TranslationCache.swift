#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// Every live translation: by guest pc, by guest page, and by host address; block chaining;
/// invalidation when guest code changes.
final class TranslationCache: CodeInvalidationObserver {
    let region: CodeRegion
    let jumpCache: JumpCache
    /// Unowned: the memory keeps its observers alive, and this is one of them.
    unowned let memory: GuestMemory
    /// Execution counters, one 64-bit slot per translation id, incremented by JIT code.
    let counters: UnsafeMutablePointer<UInt64>
    static let maxTranslations = 1 << 20

    private(set) var byPC: [UInt64: Translation] = [:]
    private var byPage: [UInt64: [Translation]] = [:]
    private var byID: [Int: Translation] = [:]
    private var freeIDs: [Int] = []
    private var nextID = 1
    /// Guest pages write-protected on the host because they hold translated code and are
    /// guest-writable: a JIT store to one faults, and the engine invalidates.
    private var protectedPages: Set<UInt64> = []
    /// Removed translations whose code and id are released at `collect()`: JIT code may still
    /// be running in one (a helper's store changed code), and its exit code names its id.
    private var retired: [Translation] = []

    /// Why a translation left the cache.
    enum Removal {
        /// Its guest code changed (or fence.i): a deoptimization.
        case invalidated
        /// Evicted to make room.
        case evicted
    }

    /// Called for each translation removed (statistics, back-off of deopt loops).
    var onRemove: ((Translation, Removal) -> Void)?

    private(set) var invalidations: UInt64 = 0
    private(set) var links: UInt64 = 0

    init(region: CodeRegion, memory: GuestMemory) {
        self.region = region
        self.memory = memory
        jumpCache = JumpCache()
        // Zero pages mapped on first touch: the table costs nothing until ids are used.
        let raw = mmap(nil, Self.maxTranslations * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        precondition(raw != MAP_FAILED, "cannot map the execution counters")
        counters = raw!.bindMemory(to: UInt64.self, capacity: Self.maxTranslations)
        memory.addObserver(self)
    }

    deinit { munmap(counters, Self.maxTranslations * 8) }

    var count: Int { byPC.count }

    /// A fresh id for a translation about to be built, or nil if all are in use.
    func reserveID() -> Int? {
        if let id = freeIDs.popLast() { return id }
        guard nextID < Self.maxTranslations else { return nil }
        defer { nextID += 1 }
        return nextID
    }

    func releaseID(_ id: Int) {
        counters[id] = 0
        freeIDs.append(id)
    }

    func lookup(_ pc: UInt64) -> Translation? { byPC[pc] }

    func translation(id: Int) -> Translation? { byID[id] }

    /// The translation whose code contains the executable address `address`.
    func translation(containingHost address: UInt) -> Translation? {
        guard let offset = region.offset(ofExecutable: address) else { return nil }
        return byID.values.first { offset >= $0.hostOffset && offset < $0.hostOffset + $0.hostLength }
    }

    /// The executable address of a translation's entry.
    func entry(_ t: Translation) -> UInt { UInt(bitPattern: region.executable(at: t.hostOffset)) }

    /// Adds a translation, write-protecting its guest pages where the guest may write them.
    func insert(_ t: Translation) {
        if let old = byPC[t.guestPC] { remove(old) }
        byPC[t.guestPC] = t
        byID[t.id] = t
        for page in t.pages {
            byPage[page, default: []].append(t)
            if !protectedPages.contains(page), memory.permissions(at: page << 12).contains(.write) {
                protectedPages.insert(page)
                memory.setHostWriteProtection(page: page, protected: true)
            }
        }
        memory.markCode(GuestAddress(t.guestPC), GuestAddress(max(t.guestEnd, t.guestPC + 1)))
    }

    /// Links exit `index` of `source` to `target`: the jump is patched to enter it directly.
    func link(_ source: Translation, exit index: Int, to target: Translation) {
        guard source.exits[index].linked == nil else { return }
        patch(source, exit: index, destination: entry(target))
        source.exits[index].linked = target
        target.incoming.append((source, index))
        links += 1
    }

    private func patch(_ source: Translation, exit index: Int, destination: UInt) {
        let site = source.hostOffset + source.exits[index].patchOffset
        let next = UInt(bitPattern: region.executable(at: site)) + 4
        let displacement = Int32(truncatingIfNeeded: Int(bitPattern: destination) - Int(bitPattern: next))
        region.writable(at: site).storeBytes(of: displacement.littleEndian, as: Int32.self)
    }

    /// Removes a translation: unlinks every jump into it, clears it from the jump cache, and
    /// frees its code.
    func remove(_ t: Translation, _ reason: Removal = .invalidated) {
        guard byID[t.id] === t, !t.isRetired else { return }
        t.isRetired = true
        for (source, index) in t.incoming where source.exits[index].linked === t {
            let stub = UInt(bitPattern: region.executable(at: source.hostOffset + source.exits[index].stubOffset))
            patch(source, exit: index, destination: stub)
            source.exits[index].linked = nil
        }
        t.incoming.removeAll()
        for k in t.exits.indices {
            if let target = t.exits[k].linked {
                target.incoming.removeAll { $0.source === t }
                t.exits[k].linked = nil
            }
        }
        jumpCache.remove(pc: t.guestPC)
        if byPC[t.guestPC] === t { byPC.removeValue(forKey: t.guestPC) }
        for page in t.pages {
            byPage[page]?.removeAll { $0 === t }
            if byPage[page]?.isEmpty == true {
                byPage.removeValue(forKey: page)
                if protectedPages.remove(page) != nil {
                    memory.setHostWriteProtection(page: page, protected: false)
                }
            }
        }
        onRemove?(t, reason)
        retired.append(t)
    }

    /// Releases the code and ids of removed translations. Only call when no JIT code runs.
    func collect() {
        guard !retired.isEmpty else { return }
        for t in retired {
            byID.removeValue(forKey: t.id)
            region.release(offset: t.hostOffset, length: t.hostLength)
            releaseID(t.id)
        }
        retired.removeAll(keepingCapacity: true)
    }

    /// Evicts `t` now and frees its code at once: only when no JIT code runs.
    func evict(_ t: Translation) {
        remove(t, .evicted)
        collect()
        evictions += 1
    }

    private(set) var evictions: UInt64 = 0

    /// Removes every translation.
    func removeAll() {
        for t in Array(byID.values) where !t.isRetired { remove(t) }
        jumpCache.clear()
    }

    /// Guest code in [start, end) changed: drop the translations decoded from it.
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
            remove(t)
            invalidations += 1
        }
        // Pages no longer holding translations were unprotected in `remove`; a page that was
        // re-protected by the guest keeps whatever the guest asked for.
    }

    /// Whether `page` is write-protected because of translations on it.
    func isProtected(page: UInt64) -> Bool { protectedPages.contains(page) }

    /// All live translations (statistics).
    var all: [Translation] { byID.values.filter { !$0.isRetired } }
}
