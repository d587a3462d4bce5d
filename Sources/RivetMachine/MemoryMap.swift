/// A guest mapping as /proc/self/maps shows it.
package struct MemoryRegion: Equatable, Sendable {
    package var start: GuestAddress
    package var end: GuestAddress
    package var permissions: MemoryPermissions
    /// `[heap]`, `[stack]`, a file path, or empty for anonymous memory.
    package var name: String
    /// Offset into the backing file of `start`, for file mappings.
    package var fileOffset: UInt64
    package var shared: Bool

    package init(
        start: GuestAddress, end: GuestAddress, permissions: MemoryPermissions, name: String = "",
        fileOffset: UInt64 = 0, shared: Bool = false
    ) {
        self.start = start
        self.end = end
        self.permissions = permissions
        self.name = name
        self.fileOffset = fileOffset
        self.shared = shared
    }

    package var size: UInt64 { end - start }
}

/// The ordered, non-overlapping list of guest mappings: bookkeeping only, no host memory.
package struct MemoryMap: Sendable {
    package private(set) var regions: [MemoryRegion] = []

    package init() {}

    /// Removes `[start, end)` from every region, splitting regions that straddle its ends.
    package mutating func remove(_ start: GuestAddress, _ end: GuestAddress) {
        var result: [MemoryRegion] = []
        result.reserveCapacity(regions.count + 1)
        for r in regions {
            if r.end <= start || r.start >= end {
                result.append(r)
                continue
            }
            if r.start < start {
                var left = r
                left.end = start
                result.append(left)
            }
            if r.end > end {
                var right = r
                right.fileOffset += end - r.start
                right.start = end
                result.append(right)
            }
        }
        regions = result
    }

    /// Adds a region, replacing whatever overlapped it.
    package mutating func insert(_ region: MemoryRegion) {
        remove(region.start, region.end)
        let index = regions.firstIndex { $0.start >= region.end } ?? regions.endIndex
        regions.insert(region, at: index)
    }

    /// Sets the permissions of `[start, end)` where mapped; returns false if part of the range is
    /// not mapped (Linux's mprotect then fails with ENOMEM, after changing the mapped part).
    @discardableResult
    package mutating func protect(_ start: GuestAddress, _ end: GuestAddress, _ permissions: MemoryPermissions)
        -> Bool
    {
        var pieces: [MemoryRegion] = []
        var covered: UInt64 = 0
        for r in regions where r.end > start && r.start < end {
            var piece = r
            if piece.start < start {
                piece.fileOffset += start - piece.start
                piece.start = start
            }
            if piece.end > end { piece.end = end }
            piece.permissions = permissions
            covered += piece.size
            pieces.append(piece)
        }
        for piece in pieces { insert(piece) }
        return covered == end - start
    }

    /// Whether all of `[start, end)` is mapped.
    package func isMapped(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        var cursor = start
        for r in regions where r.end > cursor && r.start < end {
            if r.start > cursor { return false }
            cursor = r.end
            if cursor >= end { return true }
        }
        return cursor >= end
    }

    /// The region containing `address`, if any.
    package func region(containing address: GuestAddress) -> MemoryRegion? {
        regions.first { $0.start <= address && address < $0.end }
    }

    /// The highest page-aligned start of a free gap of `size` bytes lying within
    /// `[lowest, highest)`, searching downwards as Linux's top-down mmap allocator does.
    package func findFree(size: UInt64, lowest: GuestAddress, highest: GuestAddress) -> GuestAddress? {
        var gapEnd = highest
        for r in regions.reversed() {
            if r.start >= gapEnd { continue }
            if r.end < gapEnd, gapEnd - max(r.end, lowest) >= size, gapEnd.rawValue >= size {
                let start = GuestAddress(gapEnd.rawValue - size)
                if start >= lowest { return start }
            }
            gapEnd = min(gapEnd, r.start)
            if gapEnd <= lowest { return nil }
        }
        if gapEnd > lowest, gapEnd - lowest >= size { return GuestAddress(gapEnd.rawValue - size) }
        return nil
    }
}
