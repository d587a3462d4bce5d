#if canImport(Glibc)
import Glibc
#endif

/// The file behind a file mapping: Rivet's own descriptor for it, so that the mapping can be
/// moved or grown (mremap) and checked against the file's size. The regions one mmap made share
/// it; the descriptor closes with the last of them.
public final class FileBacking: Equatable, @unchecked Sendable {
    /// A close-on-exec duplicate of the descriptor the guest mapped.
    public let descriptor: Int32
    /// Whether the descriptor allows writing: a shared mapping of it may be made writable.
    public let writable: Bool
    /// The file's size when last checked: pages wholly past it are `pastFileEnd`.
    public var size: UInt64
    /// The file's status change time when it was mapped (`isUnchanged`).
    private let changeTime: timespec

    public init(descriptor: Int32, writable: Bool, size: UInt64) {
        self.descriptor = descriptor
        self.writable = writable
        self.size = size
        var info = stat()
        changeTime = fstat(descriptor, &info) == 0 ? info.st_ctim : timespec(tv_sec: -1, tv_nsec: 0)
    }

    /// Whether the file has not changed since it was mapped (its status change time, which
    /// every write moves and no program can set back): a private mapping shows a write to the
    /// file where it has not copied the page, without Rivet seeing it, so code decoded from it
    /// before may be stale (what an execve keeps must not be: `GuestMemory.codeSnapshot`).
    public var isUnchanged: Bool {
        var info = stat()
        guard changeTime.tv_sec >= 0, fstat(descriptor, &info) == 0 else { return false }
        return info.st_ctim.tv_sec == changeTime.tv_sec && info.st_ctim.tv_nsec == changeTime.tv_nsec
    }

    deinit { close(descriptor) }

    public static func == (a: FileBacking, b: FileBacking) -> Bool { a === b }
}

/// A guest mapping as /proc/self/maps shows it.
public struct MemoryRegion: Equatable, Sendable {
    public var start: GuestAddress
    public var end: GuestAddress
    public var permissions: MemoryPermissions
    /// `[heap]`, `[stack]`, a file path, or empty for anonymous memory.
    public var name: String
    /// Offset into the backing file of `start`, for file mappings.
    public var fileOffset: UInt64
    public var shared: Bool
    /// The file mapped, for file mappings (and shared anonymous memory, which is a memfd).
    public var backing: FileBacking?

    public init(
        start: GuestAddress, end: GuestAddress, permissions: MemoryPermissions, name: String = "",
        fileOffset: UInt64 = 0, shared: Bool = false, backing: FileBacking? = nil
    ) {
        self.start = start
        self.end = end
        self.permissions = permissions
        self.name = name
        self.fileOffset = fileOffset
        self.shared = shared
        self.backing = backing
    }

    public var size: UInt64 { end - start }
}

/// The ordered, non-overlapping set of guest mappings: bookkeeping only, no host memory.
///
/// Regions are kept as made: two adjacent regions with the same rights stay two regions. Every
/// operation costs O(log n) in the number of regions, plus O(k) for k regions it reports or
/// replaces (`RegionTree`). Empty ranges (`start >= end`) change nothing.
public struct MemoryMap: Sendable {
    /// The regions, keyed by start address.
    private var tree = RegionTree()

    /// An empty map.
    public init() {}

    /// Every region, in address order (for /proc/self/maps). O(n).
    public var regions: [MemoryRegion] { tree.all }

    /// The number of regions.
    public var count: Int { tree.count }

    /// The most host mappings the guest reservation takes with these regions: one per region,
    /// one per free stretch between two of them, and the reservation's two ends. (The host
    /// merges neighbours with the same rights, so it may take fewer.) O(1).
    public var hostMappings: Int { tree.count + tree.gaps + 2 }

    /// Removes `[start, end)` from every region, splitting regions that straddle its ends.
    /// - Returns: What was removed, in address order: the regions wholly inside the range, and
    ///   the inner pieces of those straddling its ends (their `fileOffset` advanced to match).
    @discardableResult
    public mutating func remove(_ start: GuestAddress, _ end: GuestAddress) -> [MemoryRegion] {
        guard start < end else { return [] }
        var removed: [MemoryRegion] = []
        tree.replace(overlapping: start, end) { taken in
            removed.reserveCapacity(taken.count)
            var kept: [MemoryRegion] = []
            for r in taken {
                if r.start < start { kept.append(Self.piece(of: r, r.start, start)) }
                removed.append(Self.piece(of: r, max(r.start, start), min(r.end, end)))
                if r.end > end { kept.append(Self.piece(of: r, end, r.end)) }
            }
            return kept
        }
        return removed
    }

    /// Adds a region, replacing whatever overlapped it. An empty region is not added.
    public mutating func insert(_ region: MemoryRegion) {
        guard region.start < region.end else { return }
        tree.replace(overlapping: region.start, region.end) { taken in
            var result: [MemoryRegion] = []
            if let first = taken.first, first.start < region.start {
                result.append(Self.piece(of: first, first.start, region.start))
            }
            result.append(region)
            if let last = taken.last, last.end > region.end {
                result.append(Self.piece(of: last, region.end, last.end))
            }
            return result
        }
    }

    /// Sets the permissions of `[start, end)` where mapped; returns false if part of the range is
    /// not mapped (Linux's mprotect then fails with ENOMEM, after changing the mapped part).
    @discardableResult
    public mutating func protect(_ start: GuestAddress, _ end: GuestAddress, _ permissions: MemoryPermissions)
        -> Bool
    {
        guard start < end else { return true }
        var covered: UInt64 = 0
        tree.replace(overlapping: start, end) { taken in
            var result: [MemoryRegion] = []
            result.reserveCapacity(taken.count + 2)
            for r in taken {
                if r.start < start { result.append(Self.piece(of: r, r.start, start)) }
                var inside = Self.piece(of: r, max(r.start, start), min(r.end, end))
                inside.permissions = permissions
                covered += inside.size
                result.append(inside)
                if r.end > end { result.append(Self.piece(of: r, end, r.end)) }
            }
            return result
        }
        return covered == end - start
    }

    /// Whether all of `[start, end)` is mapped (true for an empty range).
    public func isMapped(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        start >= end || tree.mappedBytes(in: start, end) == end - start
    }

    /// The region containing `address`, if any.
    public func region(containing address: GuestAddress) -> MemoryRegion? {
        guard let region = tree.last(startingAtOrBelow: address), address < region.end else { return nil }
        return region
    }

    /// Whether any region has `end > start` and `start < end`: for a non-empty range, whether any
    /// part of it is mapped.
    public func overlaps(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        tree.overlaps(start, end)
    }

    /// The regions with `end > start` and `start < end` (for a non-empty range, those sharing a
    /// byte with it), whole and in address order.
    public func regions(overlapping start: GuestAddress, _ end: GuestAddress) -> [MemoryRegion] {
        tree.regions(overlapping: start, end)
    }

    /// The bytes of `[start, end)` that are mapped (0 for an empty range).
    public func bytesMapped(in start: GuestAddress, _ end: GuestAddress) -> UInt64 {
        tree.mappedBytes(in: start, end)
    }

    /// The highest page-aligned start of a free gap of `size` bytes lying within
    /// `[lowest, highest)`, searching downwards as Linux's top-down mmap allocator does. The gaps
    /// include the space below the first region and above the last. The answer is `gapEnd - size`
    /// for the highest gap that fits, so it is page-aligned when `size` and `highest` are. A
    /// `size` of 0 asks for the highest non-empty gap.
    public func findFree(size: UInt64, lowest: GuestAddress, highest: GuestAddress) -> GuestAddress? {
        tree.highestFreeStart(size: size, lowest: lowest, highest: highest)
    }

    /// The part `[start, end)` of `region`, its file offset advanced by how far its start moved.
    private static func piece(of region: MemoryRegion, _ start: GuestAddress, _ end: GuestAddress) -> MemoryRegion {
        var piece = region
        piece.fileOffset += start - region.start
        piece.start = start
        piece.end = end
        return piece
    }
}
