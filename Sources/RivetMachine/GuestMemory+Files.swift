import CRivetHost

#if canImport(Glibc)
import Glibc
#endif

// File mappings: where a file ends under a mapping, and moving or growing mappings (mremap).
extension GuestMemory {
    // MARK: The end of the file

    /// Pages of `region` the file covers, in bytes from its start: up to the page holding the
    /// file's last byte.
    func coveredBytes(_ region: MemoryRegion, fileSize: UInt64) -> UInt64 {
        let fileEnd = GuestAddress(fileSize).pageEnd.rawValue
        return min(region.size, fileEnd > region.fileOffset ? fileEnd - region.fileOffset : 0)
    }

    /// Brings the pages of a file-backed region in line with its file's size: pages wholly past
    /// the end get no rights (SIGBUS on access, as on Linux) and no host access; pages the file
    /// covers again (it grew back) get their rights and their file pages back.
    func applyFileEnd(_ region: MemoryRegion) {
        guard let backing = region.backing, backing.size != .max else { return }
        let boundary = region.start + coveredBytes(region, fileSize: backing.size)
        let pastEnd = MemoryPermissions.pastFileEnd.rawValue
        // Past the end.
        if boundary < region.end {
            for page in (boundary.rawValue >> Self.pageShift)..<(region.end.rawValue >> Self.pageShift) {
                pagePermissions[Int(page)] = pastEnd
            }
            mprotect(host(boundary.rawValue), Int(region.end - boundary), PROT_NONE)
        }
        // Within the file: pages marked past the end before (or by the fault handler, when the
        // file shrank behind Rivet's back) are the file's again.
        var page = region.start.rawValue >> Self.pageShift
        let last = boundary.rawValue >> Self.pageShift
        while page < last {
            guard pagePermissions[Int(page)] & pastEnd != 0 else {
                page += 1
                continue
            }
            var runEnd = page + 1
            while runEnd < last, pagePermissions[Int(runEnd)] & pastEnd != 0 { runEnd += 1 }
            let start = GuestAddress(page << Self.pageShift)
            let end = GuestAddress(runEnd << Self.pageShift)
            let offset = region.fileOffset + (start - region.start)
            let result = mmap(
                host(start.rawValue), Int(end - start), Self.hostProtection(region.permissions),
                MAP_FIXED | (region.shared ? MAP_SHARED : MAP_PRIVATE), backing.descriptor, off_t(offset))
            if result != MAP_FAILED {
                setPagePermissions(start, end, region.permissions)
            }
            page = runEnd
        }
    }

    /// Keeps the pages past the end of their file in `[start, end)` closed on the host after
    /// their region's rights changed.
    func closePastFileEnd(_ start: GuestAddress, _ end: GuestAddress) {
        let pastEnd = MemoryPermissions.pastFileEnd.rawValue
        for page in (start.rawValue >> Self.pageShift)..<(end.pageEnd.rawValue >> Self.pageShift)
        where pagePermissions[Int(page)] & pastEnd != 0 {
            mprotect(host(page << Self.pageShift), Int(Self.pageSize), PROT_NONE)
        }
    }

    /// Files the guest mapped may have changed size (it truncated or extended one): pages past
    /// the new end fault with SIGBUS from now on in every tier, precisely; pages the file
    /// covers again come back. Call after a syscall that can change a file's size.
    public func refreshFileSizes() {
        codeLock.lock()
        defer { codeLock.unlock() }
        var changed: [ObjectIdentifier: UInt64] = [:]
        var checked: Set<ObjectIdentifier> = []
        for region in map.regions {
            guard let backing = region.backing, backing.size != .max else { continue }
            let id = ObjectIdentifier(backing)
            if checked.insert(id).inserted {
                var info = stat()
                if fstat(backing.descriptor, &info) == 0, UInt64(max(0, info.st_size)) != backing.size {
                    changed[id] = UInt64(max(0, info.st_size))
                }
            }
            guard let size = changed[id] else { continue }
            backing.size = size
            applyFileEnd(region)
        }
    }

    // MARK: mremap

    /// Whether the host's mremap has MREMAP_DONTUNMAP for every mapping (Linux 5.13); when it
    /// refuses, mappings are moved by mapping the target and copying instead.
    nonisolated(unsafe) public static var movesPagesInPlace = true

    /// Moves the mapping at `[source, source + size)` to `target`, resized to `newSize`, as
    /// mremap with MREMAP_MAYMOVE (and MREMAP_FIXED) does: the pages move (a private mapping's
    /// modified pages too), a growing mapping gets zero pages or, for a file, the file's next
    /// pages. Whatever was at the target is replaced.
    /// - Throws: `.notMapped` if the source is not one mapping (pieces that continue one
    ///   another count as one), `.outOfMemory` if the host or a limit refuses; the source is
    ///   then unchanged.
    public func move(from source: GuestAddress, size: UInt64, to target: GuestAddress, newSize: UInt64)
        throws(MappingError)
    {
        codeLock.lock()
        defer { codeLock.unlock() }
        try validate(source, size)
        try validate(target, newSize)
        let sourceEnd = source + size
        let pieces = try mappingPieces(source, sourceEnd)
        try checkRoom(
            replacing: target, target + newSize, with: pieces.count + 1, bytes: newSize > size ? newSize - size : 0)
        let moved = min(size, newSize)
        let last = pieces[pieces.count - 1]
        // Rights and past-the-end marks move with the pages.
        let firstPage = Int(source.rawValue >> Self.pageShift)
        let marks = Array(UnsafeBufferPointer(start: pagePermissions + firstPage, count: Int(moved >> Self.pageShift)))
        // The tail first, then the pages: a refusal leaves the source as it was (the target,
        // as on Linux, may have lost what it held).
        guard newSize <= size || mapTail(like: last, at: target + size, size: newSize - size),
            movePages(pieces, source: source, size: moved, to: target)
        else {
            reserve(target, target + newSize)
            forget(target, target + newSize)
            throw .outOfMemory
        }
        reserve(source, sourceEnd)
        forget(target, target + newSize)
        forget(source, sourceEnd)
        let delta = target.rawValue &- source.rawValue
        for piece in pieces where piece.start < source + moved {
            var region = piece
            region.start = GuestAddress(piece.start.rawValue &+ delta)
            region.end = GuestAddress(min(piece.end, source + moved).rawValue &+ delta)
            map.insert(region)
            mappedBytes += region.size
        }
        let code = MemoryPermissions.code.rawValue
        for (k, mark) in marks.enumerated() {
            pagePermissions[Int(target.rawValue >> Self.pageShift) + k] = mark & ~code
        }
        if newSize > size {
            var tail = last
            tail.fileOffset = last.fileOffset + (last.end - last.start)
            tail.start = target + size
            tail.end = target + newSize
            map.insert(tail)
            mappedBytes += tail.size
            setPagePermissions(tail.start, tail.end, tail.permissions)
            applyFileEnd(tail)
        }
        account()
        // The host rights of the moved pages: the JIT's write protection stays behind with the
        // code it protected, pages past the end of their file stay closed.
        for region in map.regions(overlapping: target, target + moved) {
            mprotect(host(region.start.rawValue), Int(region.size), Self.hostProtection(region.permissions))
            closePastFileEnd(region.start, region.end)
        }
    }

    /// Grows the mapping ending at `end` (at most `size` bytes before it, one mapping) in place
    /// by `extra` bytes, into free pages after it.
    /// - Throws: `.notMapped` if the range is not one mapping, `.outOfMemory` if refused.
    public func grow(mappingFrom start: GuestAddress, size: UInt64, by extra: UInt64) throws(MappingError) {
        codeLock.lock()
        defer { codeLock.unlock() }
        try validate(start, size)
        try validate(start + size, extra)
        let pieces = try mappingPieces(start, start + size)
        let last = pieces[pieces.count - 1]
        guard !map.overlaps(start + size, start + size + extra) else { throw .outOfMemory }
        try checkRoom(replacing: start + size, start + size + extra, with: 1, bytes: extra)
        guard mapTail(like: last, at: start + size, size: extra) else {
            reserve(start + size, start + size + extra)
            throw .outOfMemory
        }
        var tail = last
        tail.fileOffset = last.fileOffset + (last.end - last.start)
        tail.start = start + size
        tail.end = start + size + extra
        commit(tail)
        applyFileEnd(tail)
    }

    /// The regions making up `[start, end)` as one mapping: all of it mapped, by regions that
    /// continue one another (the same kind of memory, the same file at following offsets).
    private func mappingPieces(_ start: GuestAddress, _ end: GuestAddress) throws(MappingError) -> [MemoryRegion] {
        guard map.isMapped(start, end) else { throw .notMapped }
        var pieces = map.regions(overlapping: start, end)
        guard !pieces.isEmpty else { throw .notMapped }
        for (a, b) in zip(pieces, pieces.dropFirst()) {
            guard a.backing === b.backing, a.shared == b.shared,
                a.backing == nil || b.fileOffset == a.fileOffset + a.size
            else { throw .notMapped }
        }
        // Clip the ends to the range.
        if pieces[0].start < start {
            pieces[0].fileOffset += start - pieces[0].start
            pieces[0].start = start
        }
        if pieces[pieces.count - 1].end > end { pieces[pieces.count - 1].end = end }
        return pieces
    }

    /// Maps the memory that follows `last` when it grows: zero pages, or the file's next pages.
    private func mapTail(like last: MemoryRegion, at start: GuestAddress, size: UInt64) -> Bool {
        let protection = Self.hostProtection(last.permissions)
        let result: UnsafeMutableRawPointer?
        if let backing = last.backing {
            let offset = last.fileOffset + (last.end - last.start)
            result = mmap(
                host(start.rawValue), Int(size), protection, MAP_FIXED | (last.shared ? MAP_SHARED : MAP_PRIVATE),
                backing.descriptor, off_t(offset))
        } else {
            result = mmap(
                host(start.rawValue), Int(size), protection, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                -1, 0)
        }
        return result != MAP_FAILED
    }

    /// Moves the host pages of `[source, source + size)` to `target` without opening a hole
    /// (MREMAP_DONTUNMAP leaves the source mapped, emptied, until the caller reserves it), or by
    /// mapping the target afresh and copying where the host cannot.
    private func movePages(_ pieces: [MemoryRegion], source: GuestAddress, size: UInt64, to target: GuestAddress) -> Bool {
        let end = source + size
        let delta = target.rawValue &- source.rawValue
        if Self.movesPagesInPlace {
            func move(_ from: UInt64, _ length: UInt64, back: Bool = false) -> Int32 {
                let (a, b) = back ? (from &+ delta, from) : (from, from &+ delta)
                return rivet_mremap_fixed(host(a), Int(length), Int(length), host(b), 1)
            }
            var done: [(UInt64, UInt64)] = []
            var failed = false
            var unsupported = false
            pieces: for piece in pieces where piece.start < end {
                let s = piece.start.rawValue
                let length = min(piece.end, end).rawValue - s
                let status = move(s, length)
                if status == 0 {
                    done.append((s, length))
                    continue
                }
                if status == EINVAL, done.isEmpty {
                    unsupported = true
                    break
                }
                // A piece that spans host mappings (the JIT write-protects pages of code)
                // moves page by page.
                guard status == EFAULT else {
                    failed = true
                    break
                }
                for page in stride(from: s, to: s + length, by: Int(Self.pageSize)) {
                    guard move(page, Self.pageSize) == 0 else {
                        failed = true
                        break pieces
                    }
                    done.append((page, Self.pageSize))
                }
            }
            if !failed && !unsupported { return true }
            // Put back what moved, so that the source is whole again.
            for (from, length) in done.reversed() { _ = move(from, length, back: true) }
            if failed { return false }
        }
        // Map the target like the source, writable for the copy.
        let writable = PROT_READ | PROT_WRITE
        for piece in pieces where piece.start < source + size {
            let start = GuestAddress(piece.start.rawValue &- source.rawValue &+ target.rawValue)
            let length = Int(min(piece.end, source + size) - piece.start)
            let result: UnsafeMutableRawPointer?
            if let backing = piece.backing {
                result = mmap(
                    host(start.rawValue), length, writable, MAP_FIXED | (piece.shared ? MAP_SHARED : MAP_PRIVATE),
                    backing.descriptor, off_t(piece.fileOffset))
            } else {
                result = mmap(
                    host(start.rawValue), length, writable, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            }
            guard result != MAP_FAILED else { return false }
            // Shared pages are the file's already; private ones carry what the guest wrote.
            // Only pages in memory can differ from the file (or from zero), and only those
            // within the file can be read.
            guard !piece.shared else { continue }
            mprotect(host(piece.start.rawValue), length, PROT_READ)
            let pages = length >> Int(Self.pageShift)
            var resident = [UInt8](repeating: 0, count: pages)
            guard mincore(host(piece.start.rawValue), length, &resident) == 0 else { return false }
            let pastEnd = MemoryPermissions.pastFileEnd.rawValue
            for k in 0..<pages where resident[k] & 1 != 0 {
                let page = Int(piece.start.rawValue >> Self.pageShift) + k
                guard pagePermissions[page] & pastEnd == 0 else { continue }
                let offset = k << Int(Self.pageShift)
                host(start.rawValue + UInt64(offset)).copyMemory(
                    from: host(piece.start.rawValue + UInt64(offset)), byteCount: Int(Self.pageSize))
            }
        }
        return true
    }
}
