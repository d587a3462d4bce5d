import CRivetHost
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Told when guest code may have changed, so that decoded or translated copies of it are dropped.
public protocol CodeInvalidationObserver: AnyObject {
    /// The guest bytes in `[start, end)` were written, unmapped or re-protected: drop what was
    /// decoded or translated from them (an observer may drop more, up to whole pages). Called
    /// on the thread that changed them.
    func guestCodeChanged(start: GuestAddress, end: GuestAddress)
    /// Whether the observer still holds code decoded or translated from page number `page`.
    func holdsCode(page: UInt64) -> Bool
}

/// Errors from changing the guest's mappings; the Linux layer maps them to errno values.
public enum MappingError: Error, Equatable, Sendable {
    /// The range is not page aligned, empty, or outside the guest address space (EINVAL).
    case invalidRange
    /// The guest's memory limit, its share of the host's mappings, or the host refused (ENOMEM).
    case outOfMemory
    /// Part of the range is not mapped (ENOMEM for mprotect, EFAULT for mremap).
    case notMapped
    /// Write access to a shared mapping of a descriptor not open for writing (EACCES).
    case accessDenied
    /// The host refused a file mapping (its errno).
    case host(Int32)
}

/// The guest address space: one host reservation in which guest address `a` lives at
/// `base + a` (DESIGN.md, decision 1).
///
/// The whole space is reserved once with `PROT_NONE` and `MAP_NORESERVE`; guest mappings become
/// host mappings with the same rights, so JIT code can let the host MMU check permissions. The
/// interpreter instead checks `pagePermissions` in software and never faults. A guard region
/// after the end of the space catches accesses that start inside it and run past its end.
///
/// The reservation never has a hole: every host call that changes it replaces pages in place
/// (`MAP_FIXED`, `MREMAP_FIXED` with `MREMAP_DONTUNMAP`), so no host allocation can land inside
/// guest memory. Every host call is checked; a refusal is the guest's ENOMEM, not a later crash.
///
/// Rights as RISC-V Linux gives them: a writable page is readable (PROT_WRITE implies
/// PROT_READ), an execute-only page is not (loads fault in every tier; the decoder fetches from
/// it through `/proc/self/mem`).
public final class GuestMemory: @unchecked Sendable {
    /// Size of the guest address space: RV64 Sv39 user space, as Linux gives it. A build for
    /// valgrind (`-Xswiftc -DRIVET_CALLGRIND`, `Benchmarks/callgrind`) reserves 16 GiB instead,
    /// which valgrind can map (it refuses the 256 GiB reservation).
    #if RIVET_CALLGRIND
    public static let addressSpaceSize: UInt64 = 1 << 34
    #else
    public static let addressSpaceSize: UInt64 = 1 << 38
    #endif
    public static let pageSize: UInt64 = 4096
    public static let pageShift: UInt64 = 12
    public static let guardSize: UInt64 = 1 << 16

    /// Host mappings the guest memories of this process may take at once: what the host's
    /// `vm.max_map_count` leaves after 8,192 mappings kept for Rivet itself (threads, the code
    /// cache, the allocator). Past it, guest mmap and mprotect fail with ENOMEM, as a Linux
    /// process's do at its own map count, instead of the host failing later.
    public static let mappingBudget: Int = {
        var count = 65530
        let fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            close(fd)
            if n > 0, let value = Int(String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first ?? "") {
                count = value
            }
        }
        return max(4096, count - 8192)
    }()
    /// Host mappings of every guest memory in this process (`MemoryMap.hostMappings`).
    private static let mappingsInUse = Atomic<Int>(0)
    /// This memory's share of `mappingsInUse`.
    private var accountedMappings = 0

    /// Host address of guest address 0.
    public let base: UnsafeMutableRawPointer
    /// One byte of `MemoryPermissions` per guest page; reserved with `MAP_NORESERVE`, so only
    /// the parts covering mapped guest memory take host memory.
    public let pagePermissions: UnsafeMutablePointer<UInt8>
    private let permissionsTableSize: Int

    /// The guest's mappings, for /proc/self/maps, munmap, mprotect and placement of new mappings.
    @exclusivity(unchecked) public internal(set) var map = MemoryMap() { didSet { layoutChanges &+= 1 } }
    /// Changes of `map` so far (a snapshot's copy whose layout is still the image's can be
    /// reset to it: `reset(to:)`).
    private(set) var layoutChanges: UInt64 = 0
    /// The image `restore` mapped, and `layoutChanges` just after.
    var restored: (image: ObjectIdentifier, layout: UInt64)?
    /// Bytes currently mapped for the guest.
    public internal(set) var mappedBytes: UInt64 = 0
    /// The most the guest may map; mmap and brk fail with ENOMEM beyond it.
    public var limit: UInt64

    /// Held for every change of the map and of the code marks, and by the engine (see
    /// `CodeLock`): guest threads run in parallel.
    public let codeLock = CodeLock()
    var observers: [any CodeInvalidationObserver] = []
    /// Page numbers whose `code` bit is set.
    @exclusivity(unchecked) var codePages: Set<UInt64> = []
    /// Those of them whose code can change without Rivet seeing the write at once: pages of
    /// shared mappings (another mapping of the same memory may write them) and guest-writable
    /// pages (JIT code stores to a page unchecked unless it holds translations, which keep it
    /// write-protected). `fence.i` drops what was decoded from them.
    @exclusivity(unchecked) var unwatchedCodePages: Set<UInt64> = []
    /// Page numbers the JIT write-protected on the host (`setHostWriteProtection`).
    @exclusivity(unchecked) var hostWriteProtected: Set<UInt64> = []

    /// Reserves a fresh, empty guest address space.
    /// - Parameter limit: the most bytes the guest may have mapped at once.
    /// - Throws: `MappingError.outOfMemory` if the host cannot reserve the address space.
    public init(limit: UInt64 = 1 << 36) throws(MappingError) {
        self.limit = limit
        let total = Int(Self.addressSpaceSize + Self.guardSize)
        let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
        guard let reservation = mmap(nil, total, PROT_NONE, flags, -1, 0), reservation != MAP_FAILED else {
            throw .outOfMemory
        }
        permissionsTableSize = Int(Self.addressSpaceSize >> Self.pageShift)
        guard let table = mmap(nil, permissionsTableSize, PROT_READ | PROT_WRITE, flags, -1, 0),
            table != MAP_FAILED
        else {
            munmap(reservation, total)
            throw .outOfMemory
        }
        base = reservation
        pagePermissions = table.bindMemory(to: UInt8.self, capacity: permissionsTableSize)
        precondition(
            HartState.Slot.attention == RIVET_SLOT_ATTENTION && HartState.Slot.postedSignals == RIVET_SLOT_POSTED_SIGNALS
                && HartState.Slot.hostFaultSignal == RIVET_SLOT_HOST_FAULT_SIGNAL
                && HartState.Slot.hostFaultAddress == RIVET_SLOT_HOST_FAULT_ADDRESS
                && HartState.Slot.reservationValue == RIVET_SLOT_RESERVATION_VALUE
                && HartState.Slot.activity == RIVET_SLOT_ACTIVITY && HartState.Slot.mxcsr == RIVET_SLOT_MXCSR
                && HartState.Slot.faultXMMRegisters == RIVET_SLOT_FAULT_XMM_REGISTERS
                && HartActivity.allCases.count == RIVET_ACTIVITY_COUNT
                && Int(HartActivity.compiling.rawValue) == RIVET_ACTIVITY_COMPILING
                && MemoryPermissions.pastFileEnd.rawValue == RIVET_PAGE_PAST_FILE_END)
        // So that a host access to a page whose file shrank, or that another thread unmapped,
        // is survived and becomes the guest's fault (`settleHostFaults`).
        rivet_install_fault_handler()
        guard rivet_register_guest_space(UInt(bitPattern: reservation), UInt(total), pagePermissions) == 0 else {
            munmap(reservation, total)
            munmap(table, permissionsTableSize)
            throw .outOfMemory
        }
    }

    deinit {
        rivet_unregister_guest_space(UInt(bitPattern: base))
        Self.mappingsInUse.subtract(accountedMappings, ordering: .relaxed)
        munmap(base, Int(Self.addressSpaceSize + Self.guardSize))
        munmap(pagePermissions, permissionsTableSize)
    }

    /// Registers an observer of code changes. Observers live as long as the memory.
    public func addObserver(_ observer: any CodeInvalidationObserver) {
        codeLock.withLock { observers.append(observer) }
    }

    /// Unregisters an observer (a hart's interpreter whose thread ended).
    public func removeObserver(_ observer: any CodeInvalidationObserver) {
        codeLock.withLock { observers.removeAll { $0 === observer } }
    }

    /// The host address of guest address `address`. Only meaningful for addresses inside the
    /// space; callers check bounds and permissions first.
    @inline(__always)
    public func host(_ address: UInt64) -> UnsafeMutableRawPointer { base + Int(address) }

    /// Whether `[start, start + size)` lies inside the address space.
    @inline(__always)
    public static func contains(_ start: UInt64, size: UInt64) -> Bool {
        start < addressSpaceSize && size <= addressSpaceSize - start
    }

    // MARK: Mapping

    func validate(_ start: GuestAddress, _ size: UInt64) throws(MappingError) {
        guard size > 0, start.isPageAligned, size & (Self.pageSize - 1) == 0,
            Self.contains(start.rawValue, size: size)
        else { throw .invalidRange }
    }

    /// Checks that changing the map so that `[start, end)` becomes `added` new regions (0 when
    /// it is only cut out) stays within the memory limit and the region budget.
    func checkRoom(replacing start: GuestAddress, _ end: GuestAddress, with added: Int, bytes: UInt64)
        throws(MappingError)
    {
        let over = map.regions(overlapping: start, end)
        var replaced: UInt64 = 0
        for r in over { replaced += min(r.end, end) - max(r.start, start) }
        guard mappedBytes - replaced + bytes <= limit else { throw .outOfMemory }
        var pieces = 0
        if let first = over.first, first.start < start { pieces += 1 }
        if let last = over.last, last.end > end { pieces += 1 }
        try checkBudget(adding: added + pieces - over.count)
    }

    /// Refuses `added` more regions if the process's share of host mappings could run out:
    /// each new region may also open a gap beside it.
    func checkBudget(adding added: Int) throws(MappingError) {
        guard added > 0 else { return }
        guard Self.mappingsInUse.load(ordering: .relaxed) + 2 * added <= Self.mappingBudget else { throw .outOfMemory }
    }

    /// Brings `mappingsInUse` up to date with the map.
    func account() {
        let now = map.count == 0 ? 0 : map.hostMappings
        let delta = now - accountedMappings
        if delta != 0 { Self.mappingsInUse.add(delta, ordering: .relaxed) }
        accountedMappings = now
    }

    /// Maps fresh zeroed memory at `[start, start + size)`, replacing whatever was there. Shared
    /// anonymous memory is a memfd, so that it can be moved, grown and (later) shared with a
    /// forked child like Linux's.
    public func mapAnonymous(
        at start: GuestAddress, size: UInt64, permissions: MemoryPermissions, name: String = "",
        shared: Bool = false
    ) throws(MappingError) {
        codeLock.lock()
        defer { codeLock.unlock() }
        try validate(start, size)
        try checkRoom(replacing: start, start + size, with: 1, bytes: size)
        var backing: FileBacking? = nil
        let result: UnsafeMutableRawPointer?
        let protection = Self.hostProtection(permissions)
        if shared {
            let fd = rivet_memfd("rivet-shared")
            guard fd >= 0 else { throw .outOfMemory }
            guard ftruncate(fd, off_t(size)) == 0 else {
                close(fd)
                throw .outOfMemory
            }
            backing = FileBacking(descriptor: fd, writable: true, size: size)
            result = mmap(host(start.rawValue), Int(size), protection, MAP_FIXED | MAP_SHARED, fd, 0)
        } else {
            result = mmap(
                host(start.rawValue), Int(size), protection, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1, 0)
        }
        guard result != MAP_FAILED else {
            // Whatever was there may be gone: leave the range unmapped, as a failed MAP_FIXED
            // on Linux may.
            reserve(start, start + size)
            forget(start, start + size)
            throw .outOfMemory
        }
        commit(
            MemoryRegion(start: start, end: start + size, permissions: permissions, name: name, shared: shared, backing: backing))
    }

    /// Maps `size` bytes of the open host file `fd` from `offset` at `start`, privately
    /// (copy-on-write) or shared, replacing whatever was there. Bytes past the end of the file
    /// read as zero up to the page end; pages wholly past it fault with SIGBUS, as on Linux.
    public func mapFile(
        at start: GuestAddress, size: UInt64, permissions: MemoryPermissions, fd: Int32, offset: UInt64,
        shared: Bool, name: String
    ) throws(MappingError) {
        codeLock.lock()
        defer { codeLock.unlock() }
        try validate(start, size)
        try checkRoom(replacing: start, start + size, with: 1, bytes: size)
        // Rivet's own descriptor for the file: to move or grow the mapping, and to follow the
        // file's size.
        let descriptor = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard descriptor >= 0 else { throw .outOfMemory }
        var info = stat()
        let isFile = fstat(descriptor, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
        let backing = FileBacking(
            descriptor: descriptor, writable: fcntl(descriptor, F_GETFL) & O_ACCMODE != O_RDONLY,
            size: isFile ? UInt64(max(0, info.st_size)) : .max)
        let flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE)
        let result = mmap(
            host(start.rawValue), Int(size), Self.hostProtection(permissions), flags, descriptor, off_t(offset))
        guard result != MAP_FAILED else {
            let error = errno
            reserve(start, start + size)
            forget(start, start + size)
            throw .host(error)
        }
        let region = MemoryRegion(
            start: start, end: start + size, permissions: permissions, name: name, fileOffset: offset, shared: shared,
            backing: backing)
        commit(region)
        applyFileEnd(region)
    }

    /// Records a region the host has just mapped.
    func commit(_ region: MemoryRegion) {
        let hadCode = containsCode(region.start, region.end)
        mappedBytes -= map.bytesMapped(in: region.start, region.end)
        map.insert(region)
        mappedBytes += region.size
        setPagePermissions(region.start, region.end, region.permissions)
        account()
        if hadCode { notifyCodeChanged(region.start, region.end) }
    }

    /// Unmaps `[start, start + size)`; unmapped parts of the range are fine, as for munmap.
    /// - Throws: `MappingError.outOfMemory` if the host refuses (the mapping is then unchanged).
    public func unmap(at start: GuestAddress, size: UInt64) throws(MappingError) {
        try unmap(at: start, size: size, keepingCodeOf: nil)
    }

    /// `unmap`, except that the code decoded from `kept`'s pages is not dropped: `restoreCode`
    /// decides after the new mapping is in place (execve).
    public func unmap(at start: GuestAddress, size: UInt64, keepingCodeOf kept: CodeSnapshot?) throws(MappingError) {
        codeLock.lock()
        defer { codeLock.unlock() }
        try validate(start, size)
        try checkRoom(replacing: start, start + size, with: 0, bytes: 0)
        guard reserveIfPossible(start, start + size) else { throw .outOfMemory }
        forget(start, start + size, keepingCodeOf: kept)
    }

    /// The bytes of the pages among `candidates` that hold code now and are private, executable
    /// and not writable: what execve compares with the new image (`restoreCode`), so that the
    /// code decoded and translated from a page the new program maps again, byte for byte, stays
    /// (the same program exec'd again, as a shell's children do). Nil if there is none, or more
    /// than `limit` pages (8 MiB to copy and compare: beyond, the old code goes as before).
    public func codeSnapshot(of candidates: [CodeRange], limit: Int = 2048) -> CodeSnapshot? {
        codeLock.lock()
        defer { codeLock.unlock() }
        var pages: [UInt64] = []
        var files = FileCheck()
        for range in candidates {
            let first = range.start >> Self.pageShift
            let last = GuestAddress(range.end).pageEnd.rawValue >> Self.pageShift
            let holding: [UInt64] =
                last - first > UInt64(codePages.count)
                ? codePages.filter { $0 >= first && $0 < last }.sorted() : (first..<last).filter { codePages.contains($0) }
            for page in holding where isKeepable(page, &files) {
                pages.append(page)
                guard pages.count <= limit else { return nil }
            }
        }
        guard !pages.isEmpty else { return nil }
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: pages.count << Self.pageShift, alignment: 64)
        for (k, page) in pages.enumerated() {
            (bytes.baseAddress! + (k << Self.pageShift)).copyMemory(
                from: host(page << Self.pageShift), byteCount: Int(Self.pageSize))
        }
        return CodeSnapshot(pages: pages, bytes: bytes)
    }

    /// Whether `page` may keep its code across a remapping: mapped, executable, not writable,
    /// private, within the file, and from a file unchanged since it was mapped (the guest cannot
    /// change such a page without Rivet seeing it). `files` remembers the last file's answer:
    /// pages come in address order, a region's together. (Not a dictionary by file: a forked
    /// child built its storage's metadata by name, a scan of every conformance record.)
    private func isKeepable(_ page: UInt64, _ files: inout FileCheck) -> Bool {
        let rights = MemoryPermissions(rawValue: pagePermissions[Int(page)])
        guard rights.contains(.execute), !rights.contains(.write), !rights.contains(.pastFileEnd),
            !hostWriteProtected.contains(page), let region = map.region(containing: GuestAddress(page << Self.pageShift)),
            !region.shared
        else { return false }
        guard let backing = region.backing else { return true }
        if backing !== files.last {
            files.last = backing
            files.unchanged = backing.isUnchanged
        }
        return files.unchanged
    }

    /// The last file `isKeepable` checked, and its answer.
    private struct FileCheck {
        var last: FileBacking? = nil
        var unchanged = false
    }

    /// After `unmap(at:size:keepingCodeOf:)` and the new mappings: the pages of `snapshot` that
    /// hold the same bytes, executable and not writable, are code pages again with everything
    /// decoded from them; the code of the others, and of the old image's other pages, is
    /// dropped. When no page matched, `noneMatched` runs first (the engine forgets its
    /// translations at once) and the observers hear of one range over all the old code (the
    /// interpreter drops its blocks at once). Frees the snapshot.
    /// - Returns: how many pages kept their code.
    public func restoreCode(_ snapshot: CodeSnapshot, noneMatched: () -> Void) -> Int {
        defer { snapshot.bytes.deallocate() }
        var dropped = snapshot.others
        var kept = 0
        var files = FileCheck()
        codeLock.lock()
        for (k, page) in snapshot.pages.enumerated() {
            let address = page << Self.pageShift
            if isKeepable(page, &files),
                memcmp(host(address), snapshot.bytes.baseAddress! + (k << Self.pageShift), Int(Self.pageSize)) == 0
            {
                markCode(GuestAddress(address), GuestAddress(address + Self.pageSize))
                kept += 1
            } else {
                dropped.append(page)
            }
        }
        codeLock.unlock()
        guard !dropped.isEmpty else { return kept }
        dropped.sort()
        // (The engine takes its own lock, and stops its workers, outside the code lock.)
        if kept == 0 { noneMatched() }
        codeLock.lock()
        defer { codeLock.unlock() }
        if kept == 0 {
            tellObservers(dropped.first!, dropped.last! + 1)
            return 0
        }
        var runStart = dropped[0]
        for (k, page) in dropped.enumerated() where k + 1 == dropped.count || dropped[k + 1] != page + 1 {
            tellObservers(runStart, page + 1)
            if k + 1 < dropped.count { runStart = dropped[k + 1] }
        }
        return kept
    }

    /// Tells the observers that the code of pages `[first, last)` changed.
    private func tellObservers(_ first: UInt64, _ last: UInt64) {
        for observer in observers {
            observer.guestCodeChanged(start: GuestAddress(first << Self.pageShift), end: GuestAddress(last << Self.pageShift))
        }
    }

    /// Puts fresh reservation (PROT_NONE) over `[start, end)` in one host call that replaces
    /// what was there. Returns false if the host refused (the old mapping is then intact).
    func reserveIfPossible(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        let result = mmap(
            host(start.rawValue), Int(end - start), PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
            -1, 0)
        return result != MAP_FAILED
    }

    /// `reserveIfPossible`, where a refusal would leave a hole in the reservation that a host
    /// allocation could land in: that must not happen, so Rivet stops instead.
    func reserve(_ start: GuestAddress, _ end: GuestAddress) {
        guard reserveIfPossible(start, end) else {
            fatalError("rivet: the host refused to restore the guest reservation at \(start)-\(end) (errno \(errno))")
        }
    }

    /// Drops `[start, end)` from the bookkeeping (the host side is already reserved again).
    func forget(_ start: GuestAddress, _ end: GuestAddress, keepingCodeOf kept: CodeSnapshot? = nil) {
        let hadCode = containsCode(start, end)
        // Only mapped pages have rights in the table, so the regions' pages are the ones to
        // clear: a walk over the whole range read 64 million entries when execve forgot the
        // whole address space (30 ms of each exec, most of a fork and exec).
        let mapped = map.regions(overlapping: start, end)
        mappedBytes -= map.bytesMapped(in: start, end)
        map.remove(start, end)
        for region in mapped { setPagePermissions(max(region.start, start), min(region.end, end), .none) }
        account()
        guard hadCode else { return }
        guard let kept else {
            notifyCodeChanged(start, end)
            return
        }
        // Not a word to the observers yet: `restoreCode` keeps the code of the snapshot's
        // pages that the new image repeats and drops the rest, at once if nothing matched.
        let first = start.rawValue >> Self.pageShift
        let last = end.pageEnd.rawValue >> Self.pageShift
        // Pages the JIT write-protected go now, which lifts the protection before anything
        // is mapped there.
        for page in hostWriteProtected where page >= first && page < last {
            notifyCodeChanged(GuestAddress(page << Self.pageShift), GuestAddress((page + 1) << Self.pageShift))
        }
        let gone = codePages.filter { $0 >= first && $0 < last }
        let candidates = Set(kept.pages)
        kept.others += gone.filter { !candidates.contains($0) }
        codePages.subtract(gone)
        unwatchedCodePages.subtract(gone)
    }

    /// Changes the rights of the mapped pages in `[start, start + size)`.
    /// - Throws: `MappingError.notMapped` if part of the range is unmapped (the mapped part
    ///   still changes, as on Linux); `.accessDenied` for write access to a shared mapping of
    ///   a descriptor not open for writing (nothing changes); `.outOfMemory` if the host or the
    ///   region budget refuses (the regions before the refusal have changed, as on Linux).
    public func protect(at start: GuestAddress, size: UInt64, permissions: MemoryPermissions)
        throws(MappingError)
    {
        codeLock.lock()
        defer { codeLock.unlock() }
        try validate(start, size)
        let end = start + size
        let over = map.regions(overlapping: start, end)
        if permissions.contains(.write),
            over.contains(where: { $0.shared && $0.backing.map { !$0.writable } == true })
        {
            throw .accessDenied
        }
        var pieces = 0
        if let first = over.first, first.start < start { pieces += 1 }
        if let last = over.last, last.end > end { pieces += 1 }
        try checkBudget(adding: pieces)
        let hadCode = containsCode(start, end)
        defer { if hadCode { notifyCodeChanged(start, end) } }
        var covered: UInt64 = 0
        for r in over {
            let s = max(r.start, start)
            let e = min(r.end, end)
            guard mprotect(host(s.rawValue), Int(e - s), Self.hostProtection(permissions)) == 0 else {
                let error = errno
                account()
                throw error == ENOMEM ? .outOfMemory : .host(error)
            }
            map.protect(s, e, permissions)
            setPagePermissions(s, e, permissions, keepingPastFileEnd: true)
            closePastFileEnd(s, e)
            covered += e - s
        }
        account()
        if covered != size { throw .notMapped }
    }

    /// Host protection for guest rights: writable pages are readable (RISC-V Linux makes
    /// PROT_WRITE imply PROT_READ); execute-only pages are not readable, so that a load from
    /// one faults in JIT code as in the interpreter.
    public static func hostProtection(_ permissions: MemoryPermissions) -> Int32 {
        var prot = PROT_NONE
        if permissions.contains(.read) { prot |= PROT_READ }
        if permissions.contains(.write) { prot |= PROT_READ | PROT_WRITE }
        return prot
    }

    /// The rights the guest has on a page it mapped with `permissions`: a writable page is
    /// readable too.
    static func effective(_ permissions: MemoryPermissions) -> MemoryPermissions {
        var rights = permissions.access
        if rights.contains(.write) { rights.insert(.read) }
        return rights
    }

    func setPagePermissions(
        _ start: GuestAddress, _ end: GuestAddress, _ permissions: MemoryPermissions, keepingPastFileEnd: Bool = false
    ) {
        let first = Int(start.rawValue >> Self.pageShift)
        let last = Int(end.pageEnd.rawValue >> Self.pageShift)
        let value = Self.effective(permissions).rawValue
        if keepingPastFileEnd {
            // mprotect changes rights, not where the file ends.
            let pastEnd = MemoryPermissions.pastFileEnd.rawValue
            for page in first..<last where pagePermissions[page] & pastEnd == 0 { pagePermissions[page] = value }
            return
        }
        if value == 0 {
            // Keep the table's untouched pages free of host memory where possible.
            for page in first..<last where pagePermissions[page] != 0 { pagePermissions[page] = 0 }
        } else {
            (pagePermissions + first).update(repeating: value, count: last - first)
        }
    }

    // MARK: Code pages

    /// Makes one guest page read-only on the host (or restores its guest rights), without
    /// changing what the guest may do: JIT code then faults on writes to a page holding
    /// translated code, and the engine invalidates the code before the write proceeds.
    public func setHostWriteProtection(page: UInt64, protected: Bool) {
        codeLock.lock()
        defer { codeLock.unlock() }
        let address = page << Self.pageShift
        guard address < Self.addressSpaceSize else { return }
        if protected { hostWriteProtected.insert(page) } else { hostWriteProtected.remove(page) }
        mprotect(host(address), Int(Self.pageSize), hostProtection(page: page))
    }

    /// The host protection page `page` should have now: its guest rights, without write while
    /// the JIT protects it.
    func hostProtection(page: UInt64) -> Int32 {
        var rights = MemoryPermissions(rawValue: pagePermissions[Int(page)]).access
        if hostWriteProtected.contains(page) { rights.remove(.write) }
        return Self.hostProtection(rights)
    }

    /// Marks the pages of `[start, end)` as holding decoded or translated code.
    public func markCode(_ start: GuestAddress, _ end: GuestAddress) {
        codeLock.lock()
        defer { codeLock.unlock() }
        let first = Int(start.rawValue >> Self.pageShift)
        let last = Int(end.pageEnd.rawValue >> Self.pageShift)
        for page in first..<last where pagePermissions[page] & MemoryPermissions.code.rawValue == 0 {
            pagePermissions[page] |= MemoryPermissions.code.rawValue
            codePages.insert(UInt64(page))
            if pagePermissions[page] & MemoryPermissions.write.rawValue != 0
                || map.region(containing: GuestAddress(UInt64(page) << Self.pageShift))?.shared == true
            {
                unwatchedCodePages.insert(UInt64(page))
            }
        }
    }

    /// `fence.i` (and riscv_flush_icache over `[start, end)`): makes instruction fetch see
    /// every write before it. Rivet sees most writes to code as they happen (the interpreter's
    /// checked stores, syscalls, JIT stores to write-protected pages) and drops the code at
    /// once; only code on `unwatchedCodePages` can be stale, and is dropped here. For a
    /// program whose code is not writable this costs nothing.
    public func synchronizeInstructionFetch(_ start: GuestAddress = GuestAddress(0), _ end: GuestAddress = GuestAddress(addressSpaceSize)) {
        codeLock.lock()
        defer { codeLock.unlock() }
        let first = start.rawValue >> Self.pageShift
        let last = end.pageEnd.rawValue >> Self.pageShift
        let stale = unwatchedCodePages.filter { page in
            page >= first && page < last
                && (!hostWriteProtected.contains(page)
                    || map.region(containing: GuestAddress(page << Self.pageShift))?.shared == true)
        }
        for page in stale {
            notifyCodeChanged(GuestAddress(page << Self.pageShift), GuestAddress((page + 1) << Self.pageShift))
        }
    }

    func containsCode(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        let first = start.rawValue >> Self.pageShift
        let last = end.pageEnd.rawValue >> Self.pageShift
        if last - first > UInt64(codePages.count) {
            return codePages.contains { $0 >= first && $0 < last }
        }
        for page in first..<last where codePages.contains(page) { return true }
        return false
    }

    /// Tells every observer that the guest bytes `[start, end)` changed, then drops the code
    /// mark of the pages where no observer holds code any more.
    public func notifyCodeChanged(_ start: GuestAddress, _ end: GuestAddress) {
        codeLock.lock()
        defer { codeLock.unlock() }
        let first = start.pageStart.rawValue >> Self.pageShift
        let last = end.pageEnd.rawValue >> Self.pageShift
        let pages = last - first > UInt64(codePages.count)
            ? codePages.filter { $0 >= first && $0 < last } : Set((first..<last).filter { codePages.contains($0) })
        for observer in observers {
            observer.guestCodeChanged(start: start, end: end)
        }
        for page in pages where !observers.contains(where: { $0.holdsCode(page: page) }) {
            pagePermissions[Int(page)] &= ~MemoryPermissions.code.rawValue
            codePages.remove(page)
            unwatchedCodePages.remove(page)
        }
    }
}

/// Guest addresses `[start, end)` where code may lie (`GuestMemory.codeSnapshot`). A plain
/// struct: the first array of `Range<UInt64>` a forked child made built its metadata from the
/// mangled name and checked `UInt64: Comparable` by a scan of every conformance record (about
/// 100 µs of each exec; the virtual machine now makes the first array of these at its start).
public struct CodeRange: Sendable {
    public var start: UInt64
    public var end: UInt64

    public init(start: UInt64, end: UInt64) {
        self.start = start
        self.end = end
    }
}

/// Code pages' bytes before execve replaced the image (`GuestMemory.codeSnapshot`).
public final class CodeSnapshot {
    /// Page numbers, ascending within each candidate range.
    public let pages: [UInt64]
    /// Their bytes, a page each, in the same order.
    let bytes: UnsafeMutableRawBufferPointer
    /// The old image's other code pages, which the unmap left to `restoreCode` to drop.
    var others: [UInt64] = []

    init(pages: [UInt64], bytes: UnsafeMutableRawBufferPointer) {
        self.pages = pages
        self.bytes = bytes
    }
}
