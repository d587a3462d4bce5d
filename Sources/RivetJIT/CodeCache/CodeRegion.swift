import CRivetHost

/// Executable memory for translations: one memfd mapped twice, a writable view where code is
/// written and patched and an executable view where it runs, so no page is ever writable and
/// executable through the same mapping (W^X, ../shared/SWIFT-PERFORMANCE.md).
///
/// Space is handed out by a first-fit allocator over a list of free ranges that coalesces
/// neighbours on release, so evicting translations piece by piece makes room for new ones.
final class CodeRegion {
    private var region = rivet_code_region()
    /// Bytes in the region.
    let size: Int
    /// Allocation granularity; translations start on this alignment.
    static let alignment = 16

    /// Free ranges as (offset, length), sorted by offset, never adjacent.
    private var free: [(offset: Int, length: Int)]
    /// Bytes currently allocated.
    private(set) var used = 0

    /// Whether the region is mapped: at its first use (`map()`), not at creation, so that a
    /// machine that never compiles — a sandbox serving one short request, a machine in the
    /// interpreter — costs no memfd and no mappings (about a third of starting one).
    private(set) var isMapped = false

    /// A region of `size` bytes (rounded up to the page size), mapped by `map()`.
    init(size requested: Int) {
        size = (requested + 4095) & ~4095
        free = [(0, size)]
    }

    /// Maps the region (the memfd, its writable and executable views), once.
    /// - Throws: `JITError.executableMemory` if the host refuses.
    func map() throws(JITError) {
        guard !isMapped else { return }
        let status = rivet_code_region_create(size, &region)
        guard status == 0 else { throw .executableMemory(errno: status) }
        isMapped = true
    }

    deinit { if isMapped { rivet_code_region_destroy(&region) } }

    /// Where code at `offset` is written.
    @inline(__always)
    func writable(at offset: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(region.rw + offset) }

    /// Replaces the eight bytes of code at `offset` (a multiple of 8) in one atomic store, which
    /// code running there meanwhile sees whole or not at all.
    func storeCode64(at offset: Int, _ value: UInt64) {
        precondition(offset & 7 == 0, "a misaligned code store")
        rivet_store_code64(writable(at: offset), value.littleEndian)
    }

    /// Where code at `offset` runs.
    @inline(__always)
    func executable(at offset: Int) -> UnsafeRawPointer { UnsafeRawPointer(region.rx + offset) }

    /// Host address range of the executable view.
    var executableRange: Range<UInt> {
        guard isMapped else { return 0..<0 }
        return UInt(bitPattern: region.rx)..<UInt(bitPattern: region.rx) + UInt(size)
    }

    /// The offset of an executable address inside the region, if it is inside.
    func offset(ofExecutable address: UInt) -> Int? {
        executableRange.contains(address) ? Int(address - executableRange.lowerBound) : nil
    }

    /// Makes the region this process's own after a fork (it was shared with the parent, whose
    /// code must not change under the child): a private copy of every allocated range.
    /// - Returns: false if the host refused.
    func unshare() -> Bool {
        guard isMapped else { return true }
        var offsets: [UInt] = []
        var lengths: [UInt] = []
        var at = 0
        for range in free + [(offset: size, length: 0)] {
            if range.offset > at {
                offsets.append(UInt(at))
                lengths.append(UInt(range.offset - at))
            }
            at = range.offset + range.length
        }
        let status = offsets.withUnsafeBufferPointer { o in
            lengths.withUnsafeBufferPointer { l in
                rivet_code_region_unshare(&region, o.baseAddress, l.baseAddress, Int32(o.count))
            }
        }
        return status == 0
    }

    /// Reserves `length` bytes starting at a multiple of `boundary` (a power of two, at least
    /// `alignment`), or returns nil if no free range holds them (or the region is not mapped).
    /// What a range keeps before an aligned start stays free.
    func allocate(_ length: Int, aligned boundary: Int = alignment) -> Int? {
        guard isMapped else { return nil }
        let needed = (length + Self.alignment - 1) & ~(Self.alignment - 1)
        func start(_ range: (offset: Int, length: Int)) -> Int { (range.offset + boundary - 1) & ~(boundary - 1) }
        guard let k = free.firstIndex(where: { start($0) + needed <= $0.offset + $0.length }) else { return nil }
        let range = free[k]
        let offset = start(range)
        // What stays free of the range: before the start, after the end.
        let before = (offset: range.offset, length: offset - range.offset)
        let after = (offset: offset + needed, length: range.offset + range.length - offset - needed)
        switch (before.length > 0, after.length > 0) {
        case (false, false): free.remove(at: k)
        case (false, true): free[k] = after
        case (true, false): free[k] = before
        case (true, true):
            free[k] = before
            free.insert(after, at: k + 1)
        }
        used += needed
        return offset
    }

    /// Gives back `length` bytes at `offset` (as passed to and returned by `allocate`).
    func release(offset: Int, length: Int) {
        let length = (length + Self.alignment - 1) & ~(Self.alignment - 1)
        used -= length
        // Fill with int3 so a stale jump into freed code traps instead of running garbage.
        writable(at: offset).initializeMemory(as: UInt8.self, repeating: 0xcc, count: length)
        var low = 0
        var high = free.count
        while low < high {
            let mid = (low + high) / 2
            if free[mid].offset < offset { low = mid + 1 } else { high = mid }
        }
        var entry = (offset: offset, length: length)
        var index = low
        if index > 0, free[index - 1].offset + free[index - 1].length == offset {
            entry = (free[index - 1].offset, free[index - 1].length + length)
            free.remove(at: index - 1)
            index -= 1
        }
        if index < free.count, entry.offset + entry.length == free[index].offset {
            entry.length += free[index].length
            free.remove(at: index)
        }
        free.insert(entry, at: index)
    }

    /// Whether `allocate(length, aligned: boundary)` would succeed now.
    func canAllocate(_ length: Int, aligned boundary: Int = alignment) -> Bool {
        let needed = (length + Self.alignment - 1) & ~(Self.alignment - 1)
        return free.contains { (($0.offset + boundary - 1) & ~(boundary - 1)) + needed <= $0.offset + $0.length }
    }

    /// Number of free ranges (fragmentation).
    var freeRangeCount: Int { free.count }
}

/// Why the JIT could not do something. None of these is fatal to the guest: the engine keeps
/// running the code in a lower tier.
public enum JITError: Error, Equatable, Sendable {
    /// The host refused executable memory.
    case executableMemory(errno: Int32)
    /// The code cache cannot hold the translation even after evicting.
    case cacheFull
    /// The block's first instruction cannot be fetched.
    case fetchFault
}
