#if canImport(Glibc)
import Glibc
#endif

/// Told when guest code may have changed, so that decoded or translated copies of it are dropped.
package protocol CodeInvalidationObserver: AnyObject {
    /// The guest pages in `[start, end)` were written, unmapped or re-protected. Called on the
    /// thread that changed them.
    func guestCodeChanged(start: GuestAddress, end: GuestAddress)
}

/// Errors from changing the guest's mappings; the Linux layer maps them to errno values.
package enum MappingError: Error, Equatable, Sendable {
    /// The range is not page aligned, empty, or outside the guest address space (EINVAL).
    case invalidRange
    /// The guest's memory limit or the host refused (ENOMEM).
    case outOfMemory
    /// Part of the range is not mapped (ENOMEM for mprotect).
    case notMapped
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
package final class GuestMemory: @unchecked Sendable {
    /// Size of the guest address space: RV64 Sv39 user space, as Linux gives it.
    package static let addressSpaceSize: UInt64 = 1 << 38
    package static let pageSize: UInt64 = 4096
    package static let pageShift: UInt64 = 12
    package static let guardSize: UInt64 = 1 << 16

    /// Host address of guest address 0.
    package let base: UnsafeMutableRawPointer
    /// One byte of `MemoryPermissions` per guest page; reserved with `MAP_NORESERVE`, so only
    /// the parts covering mapped guest memory take host memory.
    package let pagePermissions: UnsafeMutablePointer<UInt8>
    private let permissionsTableSize: Int

    /// The guest's mappings, for /proc/self/maps, munmap, mprotect and placement of new mappings.
    package private(set) var map = MemoryMap()
    /// Bytes currently mapped for the guest.
    package private(set) var mappedBytes: UInt64 = 0
    /// The most the guest may map; mmap and brk fail with ENOMEM beyond it.
    package var limit: UInt64

    private var observers: [any CodeInvalidationObserver] = []
    /// Page numbers whose `code` bit is set.
    private var codePages: Set<UInt64> = []

    /// Reserves a fresh, empty guest address space.
    /// - Parameter limit: the most bytes the guest may have mapped at once.
    /// - Throws: `MappingError.outOfMemory` if the host cannot reserve the address space.
    package init(limit: UInt64 = 1 << 36) throws(MappingError) {
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
    }

    deinit {
        munmap(base, Int(Self.addressSpaceSize + Self.guardSize))
        munmap(pagePermissions, permissionsTableSize)
    }

    /// Registers an observer of code changes. Observers live as long as the memory.
    package func addObserver(_ observer: any CodeInvalidationObserver) {
        observers.append(observer)
    }

    /// The host address of guest address `address`. Only meaningful for addresses inside the
    /// space; callers check bounds and permissions first.
    @inline(__always)
    package func host(_ address: UInt64) -> UnsafeMutableRawPointer { base + Int(address) }

    /// Whether `[start, start + size)` lies inside the address space.
    @inline(__always)
    package static func contains(_ start: UInt64, size: UInt64) -> Bool {
        start < addressSpaceSize && size <= addressSpaceSize - start
    }

    // MARK: Mapping

    private func validate(_ start: GuestAddress, _ size: UInt64) throws(MappingError) {
        guard size > 0, start.isPageAligned, size & (Self.pageSize - 1) == 0,
            Self.contains(start.rawValue, size: size)
        else { throw .invalidRange }
    }

    /// Maps fresh zeroed memory at `[start, start + size)`, replacing whatever was there.
    package func mapAnonymous(
        at start: GuestAddress, size: UInt64, permissions: MemoryPermissions, name: String = "",
        shared: Bool = false
    ) throws(MappingError) {
        try validate(start, size)
        let replaced = bytesMapped(in: start, start + size)
        guard mappedBytes - replaced + size <= limit else { throw .outOfMemory }
        let flags = MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE | (shared ? MAP_SHARED : MAP_PRIVATE)
        let result = mmap(host(start.rawValue), Int(size), Self.hostProtection(permissions), flags, -1, 0)
        guard result != MAP_FAILED else { throw .outOfMemory }
        commit(
            MemoryRegion(start: start, end: start + size, permissions: permissions, name: name, shared: shared),
            replaced: replaced)
    }

    /// Maps `size` bytes of the open host file `fd` from `offset` at `start`, privately
    /// (copy-on-write) or shared, replacing whatever was there. Bytes past the end of the file
    /// read as zero up to the page end; pages wholly past it fault, as on Linux.
    package func mapFile(
        at start: GuestAddress, size: UInt64, permissions: MemoryPermissions, fd: Int32, offset: UInt64,
        shared: Bool, name: String
    ) throws(MappingError) {
        try validate(start, size)
        let replaced = bytesMapped(in: start, start + size)
        guard mappedBytes - replaced + size <= limit else { throw .outOfMemory }
        let flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE)
        let result = mmap(
            host(start.rawValue), Int(size), Self.hostProtection(permissions), flags, fd, off_t(offset))
        guard result != MAP_FAILED else {
            let error = errno
            // The old contents are gone either way; leave the range unmapped, as a failed
            // MAP_FIXED on Linux may.
            _ = mmap(
                host(start.rawValue), Int(size), PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1, 0)
            forget(start, start + size)
            throw .host(error)
        }
        commit(
            MemoryRegion(
                start: start, end: start + size, permissions: permissions, name: name, fileOffset: offset,
                shared: shared),
            replaced: replaced)
        // Pages wholly past the end of the file raise SIGBUS on the host when touched. The
        // interpreter accesses memory from Swift code, where that would be a host crash, so the
        // guest gets no rights there: its access faults (SIGSEGV) in software instead.
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
            let fileEnd = GuestAddress(UInt64(max(0, info.st_size))).pageEnd.rawValue
            let covered = fileEnd > offset ? fileEnd - offset : 0
            if covered < size {
                setPagePermissions(start + covered, start + size, .none)
                let first = Int((start.rawValue + covered) >> Self.pageShift)
                let last = Int((start.rawValue + size) >> Self.pageShift)
                for page in first..<last { pagePermissions[page] = MemoryPermissions.pastFileEnd.rawValue }
            }
        }
    }

    private func commit(_ region: MemoryRegion, replaced: UInt64) {
        let hadCode = containsCode(region.start, region.end)
        map.insert(region)
        mappedBytes = mappedBytes - replaced + region.size
        setPagePermissions(region.start, region.end, region.permissions)
        if hadCode { notifyCodeChanged(region.start, region.end) }
    }

    /// Unmaps `[start, start + size)`; unmapped parts of the range are fine, as for munmap.
    package func unmap(at start: GuestAddress, size: UInt64) throws(MappingError) {
        try validate(start, size)
        _ = mmap(
            host(start.rawValue), Int(size), PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
            -1, 0)
        forget(start, start + size)
    }

    private func forget(_ start: GuestAddress, _ end: GuestAddress) {
        let hadCode = containsCode(start, end)
        mappedBytes -= bytesMapped(in: start, end)
        map.remove(start, end)
        setPagePermissions(start, end, .none)
        if hadCode { notifyCodeChanged(start, end) }
    }

    /// Changes the rights of the mapped pages in `[start, start + size)`.
    /// - Throws: `MappingError.notMapped` if part of the range is unmapped (the mapped part
    ///   still changes, as on Linux).
    package func protect(at start: GuestAddress, size: UInt64, permissions: MemoryPermissions)
        throws(MappingError)
    {
        try validate(start, size)
        let end = start + size
        let hadCode = containsCode(start, end)
        let complete = map.protect(start, end, permissions)
        for r in map.regions where r.end > start && r.start < end {
            let s = max(r.start, start)
            let e = min(r.end, end)
            mprotect(host(s.rawValue), Int(e - s), Self.hostProtection(permissions))
            setPagePermissions(s, e, permissions, keepingPastFileEnd: true)
        }
        if hadCode { notifyCodeChanged(start, end) }
        if !complete { throw .notMapped }
    }

    /// Moves the mapping at `[source, source + size)` to `target`, growing it to `newSize`
    /// with zeroed pages (mremap with MREMAP_MAYMOVE). The contents are copied, so a shared
    /// mapping stops being shared.
    package func move(from source: GuestAddress, size: UInt64, to target: GuestAddress, newSize: UInt64)
        throws(MappingError)
    {
        try validate(source, size)
        try validate(target, newSize)
        guard let region = map.region(containing: source) else { throw .notMapped }
        try mapAnonymous(at: target, size: newSize, permissions: .readWrite, name: region.name)
        // The source may be unreadable to the guest; it is readable to the host unless PROT_NONE.
        mprotect(host(source.rawValue), Int(size), PROT_READ)
        host(target.rawValue).copyMemory(from: host(source.rawValue), byteCount: Int(min(size, newSize)))
        try unmap(at: source, size: size)
        if region.permissions != .readWrite { try protect(at: target, size: newSize, permissions: region.permissions) }
    }

    private func bytesMapped(in start: GuestAddress, _ end: GuestAddress) -> UInt64 {
        var total: UInt64 = 0
        for r in map.regions where r.end > start && r.start < end {
            total += min(r.end, end) - max(r.start, start)
        }
        return total
    }

    /// Host protection for guest rights. Execute-only guest pages stay readable on the host so
    /// that the decoder can fetch from them.
    package static func hostProtection(_ permissions: MemoryPermissions) -> Int32 {
        var prot = PROT_NONE
        if permissions.contains(.read) || permissions.contains(.execute) { prot |= PROT_READ }
        if permissions.contains(.write) { prot |= PROT_READ | PROT_WRITE }
        return prot
    }

    private func setPagePermissions(
        _ start: GuestAddress, _ end: GuestAddress, _ permissions: MemoryPermissions, keepingPastFileEnd: Bool = false
    ) {
        let first = Int(start.rawValue >> Self.pageShift)
        let last = Int(end.pageEnd.rawValue >> Self.pageShift)
        let value = permissions.access.rawValue
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
    package func setHostWriteProtection(page: UInt64, protected: Bool) {
        let address = page << Self.pageShift
        guard address < Self.addressSpaceSize else { return }
        var rights = MemoryPermissions(rawValue: pagePermissions[Int(page)]).access
        if protected { rights.remove(.write) }
        mprotect(host(address), Int(Self.pageSize), Self.hostProtection(rights))
    }

    /// Marks the pages of `[start, end)` as holding decoded or translated code.
    package func markCode(_ start: GuestAddress, _ end: GuestAddress) {
        let first = Int(start.rawValue >> Self.pageShift)
        let last = Int(end.pageEnd.rawValue >> Self.pageShift)
        for page in first..<last where pagePermissions[page] & MemoryPermissions.code.rawValue == 0 {
            pagePermissions[page] |= MemoryPermissions.code.rawValue
            codePages.insert(UInt64(page))
        }
    }

    /// Tells every observer that all code changed (`fence.i`).
    package func invalidateAllCode() {
        for page in codePages { pagePermissions[Int(page)] &= ~MemoryPermissions.code.rawValue }
        codePages.removeAll()
        for observer in observers {
            observer.guestCodeChanged(start: GuestAddress(0), end: GuestAddress(Self.addressSpaceSize))
        }
    }

    private func containsCode(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        let first = start.rawValue >> Self.pageShift
        let last = end.pageEnd.rawValue >> Self.pageShift
        if last - first > UInt64(codePages.count) {
            return codePages.contains { $0 >= first && $0 < last }
        }
        for page in first..<last where codePages.contains(page) { return true }
        return false
    }

    /// Drops the code mark of `[start, end)` and tells every observer that code there changed.
    package func notifyCodeChanged(_ start: GuestAddress, _ end: GuestAddress) {
        let first = start.pageStart.rawValue >> Self.pageShift
        let last = end.pageEnd.rawValue >> Self.pageShift
        let pages = last - first > UInt64(codePages.count)
            ? codePages.filter { $0 >= first && $0 < last } : Set((first..<last).filter { codePages.contains($0) })
        for page in pages { pagePermissions[Int(page)] &= ~MemoryPermissions.code.rawValue }
        codePages.subtract(pages)
        for observer in observers {
            observer.guestCodeChanged(start: start.pageStart, end: end.pageEnd)
        }
    }

    // MARK: Checked access (syscalls, loader, slow paths)

    /// The permissions of the page holding `address`.
    @inline(__always)
    package func permissions(at address: UInt64) -> MemoryPermissions {
        guard address < Self.addressSpaceSize else { return .none }
        return MemoryPermissions(rawValue: pagePermissions[Int(address >> Self.pageShift)])
    }

    /// Checks that every byte of `[address, address + size)` allows `access`, and returns the
    /// host memory behind it. A write into pages holding code invalidates that code first.
    /// - Throws: `GuestFault` naming the first byte that does not allow the access.
    package func hostBuffer(at address: UInt64, size: Int, access: AccessKind) throws(GuestFault)
        -> UnsafeMutableRawBufferPointer
    {
        if size == 0 { return UnsafeMutableRawBufferPointer(start: host(0), count: 0) }
        let needed: MemoryPermissions =
            switch access {
            case .read: .read
            case .write: .write
            case .execute: .execute
            }
        guard Self.contains(address, size: UInt64(size)) else {
            let bad = address < Self.addressSpaceSize ? Self.addressSpaceSize : address
            throw GuestFault(address: GuestAddress(bad), access: access, mapped: false)
        }
        var sawCode = false
        var page = address & ~(Self.pageSize - 1)
        let end = address + UInt64(size)
        while page < end {
            let p = MemoryPermissions(rawValue: pagePermissions[Int(page >> Self.pageShift)])
            guard p.contains(needed) else {
                throw GuestFault(
                    address: GuestAddress(max(page, address)), access: access, mapped: !p.access.isEmpty,
                    pastFileEnd: p.contains(.pastFileEnd))
            }
            if p.contains(.code) { sawCode = true }
            page += Self.pageSize
        }
        if sawCode && access == .write {
            notifyCodeChanged(GuestAddress(address), GuestAddress(end))
        }
        return UnsafeMutableRawBufferPointer(start: host(address), count: size)
    }

    /// Copies `size` guest bytes at `address` out.
    package func read(at address: UInt64, size: Int) throws(GuestFault) -> [UInt8] {
        let buffer = try hostBuffer(at: address, size: size, access: .read)
        return [UInt8](buffer)
    }

    /// Copies `bytes` into guest memory at `address`.
    package func write(_ bytes: some Collection<UInt8>, at address: UInt64) throws(GuestFault) {
        let buffer = try hostBuffer(at: address, size: bytes.count, access: .write)
        buffer.copyBytes(from: bytes)
    }

    /// Reads a value of a fixed-width integer type, little-endian.
    package func load<T: FixedWidthInteger>(_: T.Type, at address: UInt64) throws(GuestFault) -> T {
        let buffer = try hostBuffer(at: address, size: MemoryLayout<T>.size, access: .read)
        return T(littleEndian: buffer.loadUnaligned(as: T.self))
    }

    /// Writes a value of a fixed-width integer type, little-endian.
    package func store<T: FixedWidthInteger>(_ value: T, at address: UInt64) throws(GuestFault) {
        let buffer = try hostBuffer(at: address, size: MemoryLayout<T>.size, access: .write)
        buffer.storeBytes(of: value.littleEndian, as: T.self)
    }

    /// Reads a NUL-terminated string of at most `maxLength` bytes (without the NUL).
    /// - Throws: `GuestFault` if the string runs into memory the guest cannot read.
    package func readCString(at address: UInt64, maxLength: Int = 4096) throws(GuestFault) -> [UInt8] {
        var bytes: [UInt8] = []
        var cursor = address
        while bytes.count < maxLength {
            let pageRemaining = Int(Self.pageSize - (cursor & (Self.pageSize - 1)))
            let chunk = try hostBuffer(at: cursor, size: min(pageRemaining, maxLength - bytes.count), access: .read)
            if let nul = chunk.firstIndex(of: 0) {
                bytes.append(contentsOf: chunk[..<nul])
                return bytes
            }
            bytes.append(contentsOf: chunk)
            cursor += UInt64(chunk.count)
        }
        return bytes
    }

    /// Writes bytes regardless of the guest's rights (the loader filling read-only segments).
    /// - Throws: `GuestFault` if the range is not mapped at all.
    package func writeIgnoringPermissions(_ bytes: UnsafeRawBufferPointer, at address: UInt64) throws(GuestFault) {
        guard bytes.count > 0 else { return }
        guard Self.contains(address, size: UInt64(bytes.count)),
            map.isMapped(GuestAddress(address).pageStart, GuestAddress(address + UInt64(bytes.count)).pageEnd)
        else { throw GuestFault(address: GuestAddress(address), access: .write, mapped: false) }
        let start = GuestAddress(address).pageStart
        let end = GuestAddress(address + UInt64(bytes.count)).pageEnd
        mprotect(host(start.rawValue), Int(end - start), PROT_READ | PROT_WRITE)
        host(address).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        for r in map.regions where r.end > start && r.start < end {
            let s = max(r.start, start)
            let e = min(r.end, end)
            mprotect(host(s.rawValue), Int(e - s), Self.hostProtection(r.permissions))
        }
        if containsCode(start, end) { notifyCodeChanged(start, end) }
    }
}
