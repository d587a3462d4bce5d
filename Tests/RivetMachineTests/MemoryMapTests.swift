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
}
