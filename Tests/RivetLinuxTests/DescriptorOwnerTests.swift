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
        // Other tests' threads may reuse the number at once: what says the reader is gone is that
        // the table no longer owns the number and the writer sees no reader (POLLERR; a child
        // another test spawns may hold a copy of the reader for an instant).
        #expect(rivet_descriptor_owner(ends[0]) != files.owner)
        var writer = pollfd(fd: ends[1], events: Int16(POLLOUT), revents: 0)
        for _ in 0..<200 where writer.revents & Int16(POLLERR) == 0 {
            _ = poll(&writer, 1, 0)
            if writer.revents & Int16(POLLERR) == 0 { usleep(5_000) }
        }
        #expect(writer.revents & Int16(POLLERR) != 0, "the pipe's reader is still open")
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
        let (own0, own1, other0, other1) = (own[0], own[1], other[0], other[1])
        let (unclaimed0, unclaimed1) = (unclaimed[0], unclaimed[1])
        let pid = fork()
        if pid == 0 {
            // Nothing here may take a lock another thread held at the fork: no test macro, no
            // metadata the runtime might instantiate (a `#require` before this branch hung).
            let closed = rivet_descriptors_close_foreign(mine)
            var status: Int32 = 0
            if closed < 2 { status |= 1 }
            if fcntl(own0, F_GETFD) == -1 || fcntl(own1, F_GETFD) == -1 { status |= 2 }
            if fcntl(other0, F_GETFD) != -1 || fcntl(other1, F_GETFD) != -1 { status |= 4 }
            if fcntl(unclaimed0, F_GETFD) == -1 || fcntl(unclaimed1, F_GETFD) == -1 { status |= 8 }
            _exit(status)
        }
        try #require(pid > 0)
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
