import Testing

@testable import RivetMachine

#if canImport(Glibc)
import Glibc
#endif

/// What execve keeps of the old image's code (`GuestMemory.codeSnapshot`, `restoreCode`): only
/// pages mapped again executable, not writable, private and byte for byte the same.
@Suite struct CodeSnapshotTests {
    /// Holds code on the pages it was told of, and records what it is told changed.
    final class Observer: CodeInvalidationObserver {
        var pages: Set<UInt64> = []
        var changes: [(UInt64, UInt64)] = []

        func guestCodeChanged(start: GuestAddress, end: GuestAddress) {
            changes.append((start.rawValue, end.rawValue))
            pages = pages.filter { $0 << 12 < start.rawValue || $0 << 12 >= end.rawValue }
        }

        func holdsCode(page: UInt64) -> Bool { pages.contains(page) }
    }

    static let base: UInt64 = 0x10000

    /// Three pages of code at `base`, mapped with `permissions`, holding `bytes(page)`.
    func load(_ memory: GuestMemory, _ observer: Observer, permissions: MemoryPermissions = .readExecute,
              bytes: (Int) -> UInt8) throws {
        try memory.mapAnonymous(at: GuestAddress(Self.base), size: 3 << 12, permissions: .readWrite)
        for page in 0..<3 {
            try memory.write([UInt8](repeating: bytes(page), count: 4096), at: Self.base + UInt64(page << 12))
        }
        try memory.protect(at: GuestAddress(Self.base), size: 3 << 12, permissions: permissions)
    }

    func markCode(_ memory: GuestMemory, _ observer: Observer) {
        for page in 0..<3 {
            let address = Self.base + UInt64(page << 12)
            observer.pages.insert(address >> 12)
            memory.markCode(GuestAddress(address), GuestAddress(address + 4096))
        }
    }

    /// Replaces the image: snapshot, unmap, `load` the new one, restore.
    func exec(_ memory: GuestMemory, noneMatched: () -> Void = {}, load new: () throws -> Void) throws -> Int {
        let snapshot = try #require(
            memory.codeSnapshot(of: [CodeRange(start: Self.base, end: Self.base + (3 << 12))]))
        try memory.unmap(at: GuestAddress(0), size: GuestMemory.addressSpaceSize, keepingCodeOf: snapshot)
        try new()
        return memory.restoreCode(snapshot, noneMatched: noneMatched)
    }

    @Test func theSameBytesKeepTheirCodeAndOthersAreDropped() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        let observer = Observer()
        memory.addObserver(observer)
        try load(memory, observer) { UInt8(0x10 + $0) }
        markCode(memory, observer)
        // The middle page differs in the new image.
        let kept = try exec(memory) { try load(memory, observer) { $0 == 1 ? 0x77 : UInt8(0x10 + $0) } }
        #expect(kept == 2)
        #expect(observer.changes.count == 1 && observer.changes[0] == (Self.base + 4096, Self.base + 8192))
        #expect(observer.pages == [Self.base >> 12, (Self.base >> 12) + 2])
        // The kept pages are code pages again (a store to one takes the checked path, and
        // an unmap tells the observers); the dropped one is not.
        #expect(memory.permissions(at: Self.base).contains(.code))
        #expect(memory.permissions(at: Self.base + 8192).contains(.code))
        #expect(!memory.permissions(at: Self.base + 4096).contains(.code))
        try memory.unmap(at: GuestAddress(Self.base), size: 4096)
        #expect(!observer.pages.contains(Self.base >> 12))
    }

    @Test func writablePagesNeverKeepTheirCode() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        let observer = Observer()
        memory.addObserver(observer)
        try load(memory, observer) { UInt8($0) }
        markCode(memory, observer)
        // Same bytes, but the new image maps them writable (and executable).
        var noneMatched = false
        let kept = try exec(memory, noneMatched: { noneMatched = true }) {
            try load(memory, observer, permissions: [.read, .write, .execute]) { UInt8($0) }
        }
        #expect(kept == 0 && noneMatched)
        #expect(observer.pages.isEmpty)
    }

    /// A file changed in place under a private mapping shows the new bytes where the page was
    /// not copied, without Rivet seeing the write: code decoded before is stale, and an exec of
    /// the same file, which compares the mapping with itself, must not keep it.
    @Test func codeOfAFileChangedSinceItWasMappedIsNotKept() throws {
        var template = Array("/tmp/rivet-snapshot-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        try #require(fd >= 0)
        defer {
            unlink(&template)
            close(fd)
        }
        let bytes = [UInt8](repeating: 0x13, count: 3 << 12)
        try #require(write(fd, bytes, bytes.count) == bytes.count)
        let memory = try GuestMemory(limit: 1 << 30)
        let observer = Observer()
        memory.addObserver(observer)
        let map = {
            try memory.mapFile(
                at: GuestAddress(Self.base), size: 3 << 12, permissions: .readExecute, fd: fd, offset: 0, shared: false,
                name: "program")
        }
        try map()
        markCode(memory, observer)
        // Unchanged, the same file keeps its code.
        #expect(try exec(memory) { try map() } == 3)
        // Changed in place (a later status change time): nothing of it may be kept, so the
        // exec drops the old code as it did before code was kept.
        usleep(10_000)
        try #require(pwrite(fd, [0x93], 1, 5000) == 1)
        #expect(memory.codeSnapshot(of: [CodeRange(start: Self.base, end: Self.base + (3 << 12))]) == nil)
    }

    @Test func pagesTheNewImageDoesNotMapLoseTheirCode() throws {
        let memory = try GuestMemory(limit: 1 << 30)
        let observer = Observer()
        memory.addObserver(observer)
        try load(memory, observer) { UInt8($0) }
        markCode(memory, observer)
        var noneMatched = false
        let kept = try exec(memory, noneMatched: { noneMatched = true }) {}
        #expect(kept == 0 && noneMatched)
        #expect(observer.pages.isEmpty)
    }
}
