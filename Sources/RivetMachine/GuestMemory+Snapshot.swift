#if canImport(Glibc)
import Glibc
#endif
import CRivetHost

/// A guest address space frozen for copies: every mapping's range, rights and name, and its
/// contents in one host memfd. A guest started from it maps those contents privately, so the
/// host shares the pages between every such guest until one writes (copy-on-write by the MMU).
public final class MemoryImage: @unchecked Sendable {
    /// One mapping, and where its contents start in the memfd.
    public struct Piece: Sendable {
        public var start: GuestAddress
        public var end: GuestAddress
        public var permissions: MemoryPermissions
        public var name: String
        public var offset: UInt64
    }

    let descriptor: Int32
    public let pieces: [Piece]
    /// Bytes of contents the memfd holds (zero pages are holes).
    public let storedBytes: UInt64

    init(descriptor: Int32, pieces: [Piece], storedBytes: UInt64) {
        self.descriptor = descriptor
        self.pieces = pieces
        self.storedBytes = storedBytes
    }

    deinit { close(descriptor) }
}

extension GuestMemory {
    /// Copies the address space into a `MemoryImage` (the guest must not run meanwhile).
    /// Shared mappings cannot be copied: a copy would no longer share them.
    /// - Throws: `.accessDenied` for a shared mapping, `.outOfMemory` if the host refuses.
    public func captureImage() throws(MappingError) -> MemoryImage {
        codeLock.lock()
        defer { codeLock.unlock() }
        let regions = map.regions
        if regions.contains(where: \.shared) { throw .accessDenied }
        let fd = rivet_memfd("rivet-snapshot")
        guard fd >= 0 else { throw .outOfMemory }
        var pieces: [MemoryImage.Piece] = []
        var offset: UInt64 = 0
        var stored: UInt64 = 0
        let page = Int(Self.pageSize)
        for region in regions {
            pieces.append(.init(start: region.start, end: region.end, permissions: region.permissions, name: region.name, offset: offset))
            let readable = Self.hostProtection(region.permissions) & PROT_READ != 0
            let base = host(region.start.rawValue)
            if !readable { mprotect(base, Int(region.size), PROT_READ) }
            // Runs of pages that are not all zero, written at their place (the rest stay holes).
            var k = 0
            let pages = Int(region.size >> Self.pageShift)
            let firstPage = Int(region.start.rawValue >> Self.pageShift)
            while k < pages {
                var end = k
                while end < pages, pagePermissions[firstPage + end] & MemoryPermissions.pastFileEnd.rawValue == 0,
                    !Self.isZero(base + end * page, page)
                {
                    end += 1
                }
                if end > k {
                    let length = (end - k) * page
                    var done = 0
                    while done < length {
                        let n = pwrite(fd, base + k * page + done, length - done, off_t(offset) + off_t(k * page + done))
                        guard n > 0 else {
                            if !readable { mprotect(base, Int(region.size), Self.hostProtection(region.permissions)) }
                            close(fd)
                            throw .outOfMemory
                        }
                        done += n
                    }
                    stored += UInt64(length)
                }
                k = end + 1
            }
            if !readable { mprotect(base, Int(region.size), Self.hostProtection(region.permissions)) }
            offset += region.size
        }
        guard ftruncate(fd, off_t(offset)) == 0 else {
            close(fd)
            throw .outOfMemory
        }
        return MemoryImage(descriptor: fd, pieces: pieces, storedBytes: stored)
    }

    /// Maps `image`'s mappings (into an empty address space), privately: the pages are the
    /// image's until the guest writes them.
    /// - Throws: `.outOfMemory` if the guest's limit or the host refuses.
    public func restore(_ image: MemoryImage) throws(MappingError) {
        codeLock.lock()
        defer { codeLock.unlock() }
        for piece in image.pieces {
            let size = piece.end - piece.start
            try checkRoom(replacing: piece.start, piece.end, with: 1, bytes: size)
            let result = mmap(
                host(piece.start.rawValue), Int(size), Self.hostProtection(piece.permissions),
                MAP_FIXED | MAP_PRIVATE | MAP_NORESERVE, image.descriptor, off_t(piece.offset))
            guard result != MAP_FAILED else {
                reserve(piece.start, piece.end)
                forget(piece.start, piece.end)
                throw .outOfMemory
            }
            commit(MemoryRegion(start: piece.start, end: piece.end, permissions: piece.permissions, name: piece.name))
        }
        restored = (ObjectIdentifier(image), layoutChanges)
    }

    /// Puts the address space back to `image`'s contents, if `restore(image)` mapped it and the
    /// guest has not changed a mapping since (no mmap, munmap, mprotect, brk): every page the
    /// guest wrote (its private copy) is dropped, so the next access reads the image's page
    /// again, and code read from pages the guest could write is forgotten. This is how a
    /// snapshot's copy is recycled into the next one (`Snapshot`).
    /// - Returns: false, having changed nothing, if the layout is not the image's any more (or
    ///   the host refused: then the memory is only fit to be unmapped).
    public func reset(to image: MemoryImage) -> Bool {
        codeLock.lock()
        guard let restored, restored.image == ObjectIdentifier(image), restored.layout == layoutChanges else {
            codeLock.unlock()
            return false
        }
        // MADV_DONTNEED on a private file mapping drops the private copies: the file's (the
        // image's) pages show through again. Only pieces the guest can write can hold any (its
        // rights are the image's still; Rivet writes guest memory only where the guest may),
        // and neighbours go in one call: each call costs the host a TLB shootdown on every
        // core the process runs on.
        var runs: [(start: GuestAddress, end: GuestAddress)] = []
        for piece in image.pieces where piece.permissions.contains(.write) {
            if let last = runs.last, last.end == piece.start {
                runs[runs.count - 1].end = piece.end
            } else {
                runs.append((piece.start, piece.end))
            }
        }
        for run in runs {
            guard madvise(host(run.start.rawValue), Int(run.end - run.start), MADV_DONTNEED) == 0 else {
                self.restored = nil
                codeLock.unlock()
                return false
            }
        }
        codeLock.unlock()
        for piece in image.pieces where piece.permissions.contains(.write) { notifyCodeChanged(piece.start, piece.end) }
        return true
    }

    private static func isZero(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        let words = pointer.assumingMemoryBound(to: UInt64.self)
        for i in 0..<(count / 8) where words[i] != 0 { return false }
        return true
    }
}
