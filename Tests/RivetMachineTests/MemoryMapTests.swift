import Glibc
import Testing

@testable import RivetMachine

@Suite struct MemoryMapTests {
    func region(_ start: UInt64, _ end: UInt64, _ p: MemoryPermissions = .readWrite) -> MemoryRegion {
        MemoryRegion(start: GuestAddress(start), end: GuestAddress(end), permissions: p)
    }

    @Test func insertSplitsWhatItOverlaps() {
        var map = MemoryMap()
        map.insert(region(0x1000, 0x5000))
        map.insert(region(0x2000, 0x3000, .readExecute))
        #expect(map.regions.map { [$0.start.rawValue, $0.end.rawValue] } == [[0x1000, 0x2000], [0x2000, 0x3000], [0x3000, 0x5000]])
        #expect(map.regions[1].permissions == .readExecute)
    }

    @Test func protectReportsUnmappedParts() {
        var map = MemoryMap()
        map.insert(region(0x1000, 0x2000))
        #expect(map.protect(GuestAddress(0x1000), GuestAddress(0x3000), .read) == false)
        #expect(map.regions.first?.permissions == .read)
    }

    @Test func findFreeSearchesDownwards() {
        var map = MemoryMap()
        map.insert(region(0x8000, 0x10000))
        #expect(map.findFree(size: 0x1000, lowest: GuestAddress(0x1000), highest: GuestAddress(0x10000)) == GuestAddress(0x7000))
        #expect(map.findFree(size: 0x8000, lowest: GuestAddress(0x1000), highest: GuestAddress(0x10000)) == nil)
    }

    /// execve and a whole-space munmap forget every region: only the mapped pages' entries of
    /// the rights table are cleared, the other 64 million (a table of 64 MiB, mapped lazily) are
    /// left alone. A walk over them all read every page of it (30 ms of each exec).
    @Test func unmappingEverythingLeavesTheRightsTableUntouched() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(0x10000), size: 0x3000, permissions: .readWrite)
        try memory.mapAnonymous(at: GuestAddress(0x3f_0000_0000), size: 0x1000, permissions: .read)
        try memory.unmap(at: GuestAddress(0), size: GuestMemory.addressSpaceSize)
        #expect(throws: GuestFault.self) { try memory.load(UInt8.self, at: 0x10000) }
        #expect(throws: GuestFault.self) { try memory.load(UInt8.self, at: 0x3f_0000_0000) }
        // Pages of the table that were read or written are resident (a read maps the zero page):
        // the two regions' entries lie on at most two pages.
        let table = UnsafeMutableRawPointer(memory.pagePermissions)
        let pages = Int(GuestMemory.addressSpaceSize >> GuestMemory.pageShift) / 4096
        var resident = [UInt8](repeating: 0, count: pages)
        #expect(mincore(table, pages * 4096, &resident) == 0)
        #expect(resident.reduce(0) { $0 + Int($1 & 1) } <= 2)
        try memory.mapAnonymous(at: GuestAddress(0x10000), size: 0x1000, permissions: .readWrite)
        try memory.store(UInt32(7), at: 0x10000)
        #expect(try memory.load(UInt32.self, at: 0x10000) == 7)
    }

    @Test func guestMemoryChecksPermissions() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        try memory.mapAnonymous(at: GuestAddress(0x10000), size: 0x2000, permissions: .readWrite)
        try memory.store(UInt64(0x1122_3344_5566_7788), at: 0x10ffc)  // crosses a page
        #expect(try memory.load(UInt64.self, at: 0x10ffc) == 0x1122_3344_5566_7788)
        try memory.protect(at: GuestAddress(0x11000), size: 0x1000, permissions: .read)
        #expect(throws: GuestFault.self) { try memory.store(UInt8(1), at: 0x11000) }
        #expect(throws: GuestFault.self) { try memory.load(UInt8.self, at: 0x12000) }
        #expect(throws: GuestFault.self) { try memory.load(UInt8.self, at: GuestMemory.addressSpaceSize - 1) }
    }

    // MARK: The new queries

    func address(_ value: UInt64) -> GuestAddress { GuestAddress(value) }

    @Test func adjacentRegionsStaySeparate() {
        var map = MemoryMap()
        map.insert(region(0x1000, 0x2000))
        map.insert(region(0x2000, 0x3000))
        #expect(map.count == 2)
        #expect(map.regions.map(\.start) == [address(0x1000), address(0x2000)])
        #expect(map.isMapped(address(0x1000), address(0x3000)))
    }

    @Test func removeReturnsWhatItRemovedAndAdvancesFileOffsets() {
        var map = MemoryMap()
        var file = region(0x1000, 0x5000)
        file.fileOffset = 0x10000
        map.insert(file)
        map.insert(region(0x5000, 0x6000, .read))
        let removed = map.remove(address(0x2000), address(0x5800))
        #expect(removed.map { [$0.start.rawValue, $0.end.rawValue, $0.fileOffset] } == [[0x2000, 0x5000, 0x11000], [0x5000, 0x5800, 0x0]])
        #expect(map.regions.map { [$0.start.rawValue, $0.end.rawValue, $0.fileOffset] } == [[0x1000, 0x2000, 0x10000], [0x5800, 0x6000, 0x800]])
        #expect(map.remove(address(0x3000), address(0x4000)).isEmpty)
        #expect(map.count == 2)
    }

    @Test func protectSplitsAtBothEnds() {
        var map = MemoryMap()
        var file = region(0x1000, 0x9000)
        file.fileOffset = 0x4000
        map.insert(file)
        let complete = map.protect(address(0x3000), address(0x5000), .read)
        #expect(complete)
        #expect(map.regions.map { [$0.start.rawValue, $0.end.rawValue, $0.fileOffset] } == [[0x1000, 0x3000, 0x4000], [0x3000, 0x5000, 0x6000], [0x5000, 0x9000, 0x8000]])
        #expect(map.regions.map(\.permissions) == [.readWrite, .read, .readWrite])
        #expect(map.region(containing: address(0x4fff))?.permissions == .read)
        #expect(map.region(containing: address(0x9000)) == nil)
        #expect(map.region(containing: address(0xfff)) == nil)
    }

    @Test func overlapsAndRegionsOverlapping() {
        var map = MemoryMap()
        map.insert(region(0x2000, 0x4000))
        map.insert(region(0x6000, 0x7000))
        map.insert(region(0x7000, 0x9000, .read))
        #expect(!map.overlaps(address(0x0), address(0x2000)))
        #expect(map.overlaps(address(0x0), address(0x2001)))
        #expect(!map.overlaps(address(0x4000), address(0x6000)))
        #expect(map.overlaps(address(0x3fff), address(0x6000)))
        #expect(map.regions(overlapping: address(0x4000), address(0x6000)).isEmpty)
        #expect(map.regions(overlapping: address(0x3000), address(0x7001)).map(\.start) == [address(0x2000), address(0x6000), address(0x7000)])
        #expect(map.regions(overlapping: address(0x8000), address(0x10000)).map(\.start) == [address(0x7000)])
    }

    @Test func bytesMappedCountsOnlyMappedParts() {
        var map = MemoryMap()
        map.insert(region(0x2000, 0x4000))
        map.insert(region(0x6000, 0x9000))
        #expect(map.bytesMapped(in: address(0), address(0x10000)) == 0x5000)
        #expect(map.bytesMapped(in: address(0x3000), address(0x7000)) == 0x2000)
        #expect(map.bytesMapped(in: address(0x4000), address(0x6000)) == 0)
        #expect(map.bytesMapped(in: address(0x7000), address(0x3000)) == 0)
        #expect(map.isMapped(address(0x6000), address(0x9000)))
        #expect(!map.isMapped(address(0x3000), address(0x7000)))
    }

    @Test func findFreeSkipsGapsTooSmallOrOutOfBounds() {
        var map = MemoryMap()
        // Gaps of 1, 2, 3, ... 63 pages, the larger ones lower down.
        var cursor: UInt64 = 0x10_0000
        for pages in (1...63).reversed() {
            map.insert(region(cursor, cursor + 0x1000))
            cursor += 0x1000 + UInt64(pages) * 0x1000
        }
        let top = cursor - 0x1000  // the last region's end: nothing free above it below `top`
        let last = map.regions.last!
        #expect(last.end == address(top))
        #expect(map.findFree(size: 0x1000, lowest: address(0), highest: address(top)) == address(last.start.rawValue - 0x1000))
        // The first 5-page gap from the top: below the region that has 5 pages free above it.
        let fivePages = map.regions.first { r in
            map.regions.contains { $0.start == r.end + 0x5000 }
        }!
        #expect(map.findFree(size: 0x5000, lowest: address(0), highest: address(top)) == fivePages.end)
        #expect(map.findFree(size: 0x40000, lowest: address(0), highest: address(top)) == address(0x10_0000 - 0x40000))
        #expect(map.findFree(size: 0x40000, lowest: address(0xd_0000), highest: address(top)) == nil)
        // A gap cut by `lowest` no longer fits, and the larger gaps lie below `lowest`.
        #expect(map.findFree(size: 0x5000, lowest: fivePages.end, highest: address(top)) == fivePages.end)
        #expect(map.findFree(size: 0x5000, lowest: fivePages.end + 0x1000, highest: address(top)) == nil)
        #expect(MemoryMap().findFree(size: 0x1000, lowest: address(0x1000), highest: address(0x3000)) == address(0x2000))
    }

    @Test func emptyRangesChangeNothing() {
        var map = MemoryMap()
        map.insert(region(0x1000, 0x3000))
        map.insert(region(0x2000, 0x2000))
        #expect(map.remove(address(0x2000), address(0x2000)).isEmpty)
        let complete = map.protect(address(0x2000), address(0x2000), .read)
        #expect(complete)
        #expect(map.regions == [region(0x1000, 0x3000)])
        #expect(map.isMapped(address(0x5000), address(0x5000)))
        #expect(map.bytesMapped(in: address(0x2000), address(0x2000)) == 0)
    }

    @Test func copiesAreIndependent() {
        var map = MemoryMap()
        map.insert(region(0x1000, 0x9000))
        let copy = map
        map.protect(address(0x2000), address(0x3000), .read)
        map.remove(address(0x5000), address(0x6000))
        #expect(copy.regions == [region(0x1000, 0x9000)])
        #expect(copy.count == 1)
        #expect(map.count == 4)
    }

    @Test func removedRegionsReleaseTheirBacking() {
        var map = MemoryMap()
        weak var weakBacking: FileBacking?
        do {
            let backing = FileBacking(descriptor: -1, writable: false, size: 0x4000)
            weakBacking = backing
            map.insert(MemoryRegion(start: address(0x1000), end: address(0x5000), permissions: .read, backing: backing))
        }
        map.protect(address(0x2000), address(0x3000), .readWrite)
        #expect(weakBacking != nil)
        map.remove(address(0x1000), address(0x4000))
        #expect(weakBacking != nil)
        map.insert(region(0x4000, 0x5000))
        #expect(weakBacking == nil)
    }

    // MARK: Against a reference model

    @Test func matchesReferenceModel() {
        var random = SplitMix64(seed: 0x5EED_0F_4A9)
        var map = MemoryMap()
        var model = ReferenceMemoryMap()
        let page: UInt64 = 0x1000
        let pages: UInt64 = 64
        let backing = FileBacking(descriptor: -1, writable: true, size: 1 << 20)
        let rights: [MemoryPermissions] = [.none, .read, .readWrite, .readExecute, [.read, .write, .execute]]
        func randomRange() -> (GuestAddress, GuestAddress) {
            let first = random.next() % pages
            let longest = pages - first
            let length = random.next() % 4 == 0 ? 1 + random.next() % longest : 1 + random.next() % min(longest, 6)
            return (GuestAddress(first * page), GuestAddress((first + length) * page))
        }
        func anyAddress() -> GuestAddress { GuestAddress(random.next() % ((pages + 8) * page)) }

        var snapshot = (map, model.regions)
        for step in 0..<6000 {
            let (start, end) = randomRange()
            switch random.next() % 3 {
            case 0:
                let name = ["", "[heap]", "/lib/libc.so.6"][Int(random.next() % 3)]
                let file = random.next() % 2 == 0
                let r = MemoryRegion(
                    start: start, end: end, permissions: rights[Int(random.next() % 5)], name: name,
                    fileOffset: file ? (random.next() % 32) * page : 0, shared: random.next() % 4 == 0,
                    backing: file ? backing : nil)
                map.insert(r)
                model.insert(r)
            case 1:
                #expect(map.remove(start, end) == model.remove(start, end), "step \(step)")
            default:
                let p = rights[Int(random.next() % 5)]
                #expect(map.protect(start, end, p) == model.protect(start, end, p), "step \(step)")
            }
            #expect(map.regions == model.regions, "step \(step)")
            #expect(map.count == model.regions.count)
            for _ in 0..<8 {
                let (s, e) = randomRange()
                #expect(map.isMapped(s, e) == model.isMapped(s, e), "step \(step)")
                #expect(map.overlaps(s, e) == model.overlaps(s, e), "step \(step)")
                #expect(map.regions(overlapping: s, e) == model.regions(overlapping: s, e), "step \(step)")
                #expect(map.bytesMapped(in: s, e) == model.bytesMapped(in: s, e), "step \(step)")
                let a = anyAddress()
                #expect(map.region(containing: a) == model.region(containing: a), "step \(step)")
                let lowest = GuestAddress(random.next() % (pages + 8) * page)
                let highest = GuestAddress(random.next() % (pages + 8) * page)
                let size = random.next() % 10 * page
                if size > 0 || lowest != highest {
                    #expect(
                        map.findFree(size: size, lowest: lowest, highest: highest)
                            == model.findFree(size: size, lowest: lowest, highest: highest),
                        "step \(step): size \(size) in [\(lowest), \(highest))")
                }
            }
            if step % 500 == 0 {
                #expect(snapshot.0.regions == snapshot.1)
                snapshot = (map, model.regions)
            }
        }
    }

    // MARK: Speed

    /// Many splits of one region (a guest calling mprotect page by page) must stay cheap. The
    /// bound is loose so that a slow machine cannot fail it; the time is printed.
    @Test func manySplitsStayFast() {
        let page: UInt64 = 0x1000
        let base: UInt64 = 0x1000_0000
        let clock = ContinuousClock()
        var map = MemoryMap()
        var found = 0
        let elapsed = clock.measure {
            map.insert(region(base, base + 80_000 * page))
            for i in 0..<UInt64(20_000) {
                let start = base + 2 * i * page
                map.protect(GuestAddress(start), GuestAddress(start + page), i % 2 == 0 ? .read : .readExecute)
            }
            for i in 0..<UInt64(20_000) {
                let highest = base + (1 + 4 * i) * page
                if map.findFree(size: page, lowest: GuestAddress(base / 2), highest: GuestAddress(highest)) != nil {
                    found += 1
                }
            }
            for i in 0..<UInt64(20_000) {
                if map.region(containing: GuestAddress(base + 2 * i * page + 0x800)) != nil { found += 1 }
            }
        }
        print("MemoryMap: 20,000 protect + 20,000 findFree + 20,000 region(containing:) over \(map.count) regions in \(elapsed)")
        #expect(map.count == 40_000)
        #expect(found == 40_000)
        #expect(elapsed < .seconds(5))

        // Holes every 4 pages, then searches that must find the highest hole below a bound.
        var random = SplitMix64(seed: 7)
        var correct = true
        let holes = clock.measure {
            for j in 0..<UInt64(10_000) {
                let start = base + (4 * j + 1) * page
                map.remove(GuestAddress(start), GuestAddress(start + page))
            }
            for _ in 0..<20_000 {
                let bound = 2 + random.next() % 39_998
                let hole = (bound - 2) / 4 * 4 + 1
                let answer = map.findFree(size: page, lowest: GuestAddress(base), highest: GuestAddress(base + bound * page))
                correct = correct && answer == GuestAddress(base + hole * page)
                correct = correct && map.findFree(size: 2 * page, lowest: GuestAddress(base), highest: GuestAddress(base + bound * page)) == nil
            }
        }
        print("MemoryMap: 10,000 remove + 40,000 findFree among 10,000 one-page holes in \(holes)")
        #expect(correct)
        #expect(holes < .seconds(5))
    }
}

/// A fixed-seed generator, so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The array-based MemoryMap that the tree replaced, kept as the model it must match: every
/// operation a linear scan, every change a rebuild of the array.
struct ReferenceMemoryMap {
    private(set) var regions: [MemoryRegion] = []

    @discardableResult
    mutating func remove(_ start: GuestAddress, _ end: GuestAddress) -> [MemoryRegion] {
        var result: [MemoryRegion] = []
        var removed: [MemoryRegion] = []
        for r in regions {
            if r.end <= start || r.start >= end {
                result.append(r)
                continue
            }
            var middle = r
            if r.start < start {
                var left = r
                left.end = start
                result.append(left)
                middle.fileOffset += start - r.start
                middle.start = start
            }
            if r.end > end {
                var right = r
                right.fileOffset += end - r.start
                right.start = end
                result.append(right)
                middle.end = end
            }
            removed.append(middle)
        }
        regions = result
        return removed
    }

    mutating func insert(_ region: MemoryRegion) {
        remove(region.start, region.end)
        let index = regions.firstIndex { $0.start >= region.end } ?? regions.endIndex
        regions.insert(region, at: index)
    }

    mutating func protect(_ start: GuestAddress, _ end: GuestAddress, _ permissions: MemoryPermissions) -> Bool {
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

    func isMapped(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        var cursor = start
        for r in regions where r.end > cursor && r.start < end {
            if r.start > cursor { return false }
            cursor = r.end
            if cursor >= end { return true }
        }
        return cursor >= end
    }

    func region(containing address: GuestAddress) -> MemoryRegion? {
        regions.first { $0.start <= address && address < $0.end }
    }

    func overlaps(_ start: GuestAddress, _ end: GuestAddress) -> Bool {
        regions.contains { $0.end > start && $0.start < end }
    }

    func regions(overlapping start: GuestAddress, _ end: GuestAddress) -> [MemoryRegion] {
        regions.filter { $0.end > start && $0.start < end }
    }

    func bytesMapped(in start: GuestAddress, _ end: GuestAddress) -> UInt64 {
        regions.reduce(0) { $1.end > start && $1.start < end ? $0 + (min($1.end, end) - max($1.start, start)) : $0 }
    }

    func findFree(size: UInt64, lowest: GuestAddress, highest: GuestAddress) -> GuestAddress? {
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
