import CRivetHost
import RivetLinux
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The owners of guests' host descriptors, by which a forked guest's host process closes what
/// other virtual machines of the embedding process hold.
@Suite struct DescriptorOwnerTests {
    static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

    static func table() -> FileTable {
        FileTable(standardStreams: (StandardStream(0), StandardStream(1), StandardStream(2)), limit: 64)
    }

    /// A table claims the host descriptors its files own (not the standard streams it was
    /// lent), and a file's descriptor is forgotten as it closes.
    @Test func aTableClaimsTheDescriptorsItsFilesOwn() throws {
        let files = Self.table()
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        #expect(rivet_descriptor_owner(0) != files.owner)
        let reader = try #require(
            files.insert(OpenFile(backing: .host(ends[0], owned: true), guestPath: "pipe", writable: false)))
        #expect(rivet_descriptor_owner(ends[0]) == files.owner)
        let lent = try #require(
            files.insert(OpenFile(backing: .host(ends[1], owned: false), guestPath: "pipe", writable: true)))
        #expect(rivet_descriptor_owner(ends[1]) == 0)
        #expect(files.remove(reader))
        #expect(rivet_descriptor_owner(ends[0]) == 0)
        #expect(!Self.isOpen(ends[0]))
        #expect(files.remove(lent))
        #expect(Self.isOpen(ends[1]))
        close(ends[1])
        #expect(files.owner != Self.table().owner)
    }

    /// A forked child that keeps one owner's descriptors closes another's and leaves the
    /// unclaimed ones (the embedder's own) alone. The child calls only async-signal-safe
    /// functions: the test process has other threads.
    @Test func aForkedChildClosesOnlyOtherOwnersDescriptors() throws {
        let mine = rivet_descriptor_owner_new(), sibling = rivet_descriptor_owner_new()
        var own: [Int32] = [-1, -1], other: [Int32] = [-1, -1], unclaimed: [Int32] = [-1, -1]
        try #require(pipe(&own) == 0 && pipe(&other) == 0 && pipe(&unclaimed) == 0)
        defer {
            for fd in own + other + unclaimed {
                rivet_descriptor_release(fd)
                close(fd)
            }
        }
        for fd in own { rivet_descriptor_claim(fd, mine) }
        for fd in other { rivet_descriptor_claim(fd, sibling) }
        let pid = fork()
        try #require(pid >= 0)
        if pid == 0 {
            let closed = rivet_descriptors_close_foreign(mine)
            var status: Int32 = 0
            if closed < 2 { status |= 1 }
            if !Self.isOpen(own[0]) || !Self.isOpen(own[1]) { status |= 2 }
            if Self.isOpen(other[0]) || Self.isOpen(other[1]) { status |= 4 }
            if !Self.isOpen(unclaimed[0]) || !Self.isOpen(unclaimed[1]) { status |= 8 }
            _exit(status)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        #expect(status & 0x7f == 0, "the child was killed by signal \(status & 0x7f)")
        // The child's findings: 1 closed too few, 2 its own closed, 4 the other's open, 8 the
        // unclaimed closed.
        #expect((status >> 8) & 0xff == 0, "the child's findings: \((status >> 8) & 0xff)")
        // The parent's descriptors are untouched.
        #expect(Self.isOpen(other[0]) && rivet_descriptor_owner(other[0]) == sibling)
    }
}
