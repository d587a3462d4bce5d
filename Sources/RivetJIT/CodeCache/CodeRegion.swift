import CRivetHost
import Glibc

/// Executable memory for translations, in one of two forms (`separateViews`):
/// - one mapping of private anonymous memory, readable, writable and executable, where code is
///   written, patched and run. A forked child gets it copy-on-write from the kernel, as the
///   rest of the process, and copies only the pages either process writes afterwards.
/// - two views of one memfd, a writable one where code is written and patched and an
///   executable one where it runs, so no page is ever writable and executable through the same
///   mapping (W^X, ../shared/SWIFT-PERFORMANCE.md). The memfd is shared, so a fork copies every
///   allocated range for the child first (`copy()`, `adopt(_:)`): 12% of busybox sh's workload
///   under `auto` (Performance.md, thirty-first session).
/// Guest code cannot write either: every guest store is checked against the guest's own
/// memory in every tier. Two views guard only against a bug in Rivet that lets it write host
/// memory, which could then reach the writable view as well, only not at the same address.
///
/// Space is handed out by a first-fit allocator over a list of free ranges that coalesces
/// neighbours on release, so evicting translations piece by piece makes room for new ones. A
/// translation's hot part is taken from the lowest range that holds it, its cold part (exit
/// stubs and tables) from the top of the highest: the code that runs stays together at the
/// bottom of the region.
final class CodeRegion {
    @exclusivity(unchecked) private var region = rivet_code_region()
    /// Bytes in the region.
    let size: Int
    /// Allocation granularity; translations start on this alignment.
    static let alignment = 16

    /// Free ranges as (offset, length), sorted by offset, never adjacent.
    @exclusivity(unchecked) private var free: [(offset: Int, length: Int)]
    /// Bytes currently allocated.
    @exclusivity(unchecked) private(set) var used = 0

    /// The region's pages below `prefaultedBelow` and from `prefaultedAbove` on are mapped in
    /// both views (`prefault`): hot parts are taken from the bottom, cold parts from the top.
    @exclusivity(unchecked) private var prefaultedBelow = 0
    private lazy var prefaultedAbove = size

    /// Whether the region is mapped: at its first use (`map()`), not at creation, so that a
    /// machine that never compiles — a sandbox serving one short request, a machine in the
    /// interpreter — costs no memfd and no mappings (about a third of starting one).
    private(set) var isMapped = false

    /// Whether two views were asked for (W^X).
    private let wantsSeparateViews: Bool
    /// Whether the code is written through a view of its own, not where it runs: asked for, or
    /// the host refused one mapping both writable and executable. Known once mapped.
    var separateViews: Bool { isMapped && region.rw != region.rx }

    /// A region of `size` bytes (rounded up to the page size), mapped by `map()`.
    init(size requested: Int, separateViews: Bool = false) {
        size = (requested + 4095) & ~4095
        wantsSeparateViews = separateViews
        free = [(0, size)]
    }

    /// Maps the region (its mapping, or the memfd and its two views), once.
    /// - Throws: `JITError.executableMemory` if the host refuses.
    func map() throws(JITError) {
        guard !isMapped else { return }
        let status = rivet_code_region_create(size, wantsSeparateViews ? 1 : 0, &region)
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

    /// A copy of the region for a forked child, taken before the host fork (`Engine.fork`): a
    /// new memfd holding every allocated range, which the child maps in place of the shared
    /// one (`adopt`).
    /// - Returns: the memfd, or nil if nothing is shared: the region is not mapped, or it is
    ///   one private mapping (the fork copies it on write).
    /// - Throws: `JITError.executableMemory` with the host's errno.
    func copy() throws(JITError) -> Int32? {
        guard isMapped, separateViews else { return nil }
        // The allocated ranges lie between the free ones, and after the last up to `size`.
        var offsets: [UInt] = []
        var lengths: [UInt] = []
        var at = 0
        for range in free + [(size, 0)] {
            if range.offset > at {
                offsets.append(UInt(at))
                lengths.append(UInt(range.offset - at))
            }
            at = range.offset + range.length
        }
        let fd = rivet_code_region_copy(&region, offsets, lengths, Int32(offsets.count))
        guard fd >= 0 else { throw .executableMemory(errno: -fd) }
        return fd
    }

    /// Maps memfd `fd` (a `copy()`) over both views in place of the shared memfd, which it
    /// closes: the region is this process's own from here on.
    /// - Returns: nil, or the errno of the host's refusal (the region is unchanged then).
    func adopt(_ fd: Int32) -> Int32? {
        let status = rivet_code_region_adopt(&region, fd)
        guard status == 0 else { return status }
        // The new memfd holds only the allocated ranges, and no page of it is mapped yet.
        prefaultedBelow = 0
        prefaultedAbove = size
        return nil
    }

    /// Reserves `length` bytes starting at a multiple of `boundary` (a power of two, at least
    /// `alignment`), or returns nil if no free range holds them (or the region is not mapped).
    /// What a range keeps before an aligned start stays free.
    func allocate(_ length: Int, aligned boundary: Int = alignment) -> Int? {
        allocate(hot: length, cold: 0, aligned: boundary)?.hot
    }

    /// Reserves a translation's two parts: `hot` bytes starting at a multiple of `boundary`
    /// (as low as they fit) and `cold` bytes (as high as they fit); nil if they do not both fit.
    func allocate(hot: Int, cold: Int, aligned boundary: Int = alignment) -> (hot: Int, cold: Int)? {
        guard isMapped, let place = placement(hot: hot, cold: cold, aligned: boundary) else { return nil }
        take(place.hot, Self.rounded(hot))
        take(place.cold, Self.rounded(cold))
        if place.hot + hot > prefaultedBelow {
            let end = min(size, (place.hot + hot + prefaultChunk(prefaultedBelow) + 4095) & ~4095)
            prefault(prefaultedBelow, end)
            prefaultedBelow = end
        }
        if cold > 0, place.cold < prefaultedAbove {
            let start = max(0, (place.cold - prefaultChunk(size - prefaultedAbove)) & ~4095)
            prefault(start, prefaultedAbove)
            prefaultedAbove = start
        }
        return place
    }

    /// How far past what was just taken to map pages ahead: a quarter of what is mapped
    /// already, from 16 KiB to 1 MiB (64 KiB at first took 2% of a hello world's run, which
    /// compiles 3 KiB of code).
    private func prefaultChunk(_ mapped: Int) -> Int { min(1 << 20, max(16 << 10, mapped / 4)) }

    /// Maps the pages of `[start, end)` (in both views) ahead of their code, a call each,
    /// instead of a page fault for each page (in each view): writing fresh code faulted in its
    /// page of the writable view, and running it in the executable view, two faults a page
    /// (`flat`: 7,000 of its 17,700; Performance.md, twenty-sixth session). Advice only: a host
    /// without `MADV_POPULATE_*` (Linux 5.14) faults as before.
    private func prefault(_ start: Int, _ end: Int) {
        guard end > start else { return }
        _ = madvise(region.rw + start, end - start, MADV_POPULATE_WRITE)
        if separateViews {
            _ = madvise(UnsafeMutableRawPointer(mutating: region.rx + start), end - start, MADV_POPULATE_READ)
        }
    }

    /// Whether `allocate(hot:cold:aligned:)` would succeed now.
    func canAllocate(hot: Int, cold: Int, aligned boundary: Int = alignment) -> Bool {
        placement(hot: hot, cold: cold, aligned: boundary) != nil
    }

    private static func rounded(_ length: Int) -> Int { (length + alignment - 1) & ~(alignment - 1) }

    /// Where `allocate(hot:cold:aligned:)` puts the parts: the hot part at the aligned start
    /// of the first free range that holds it, the cold part at the top of the last range that
    /// holds it once the hot part is taken.
    private func placement(hot: Int, cold: Int, aligned boundary: Int) -> (hot: Int, cold: Int)? {
        let hotNeeded = Self.rounded(hot), coldNeeded = Self.rounded(cold)
        func start(_ range: (offset: Int, length: Int)) -> Int { (range.offset + boundary - 1) & ~(boundary - 1) }
        guard let k = free.firstIndex(where: { start($0) + hotNeeded <= $0.offset + $0.length }) else { return nil }
        let hotStart = start(free[k])
        if coldNeeded == 0 { return (hotStart, hotStart + hotNeeded) }
        for j in free.indices.reversed() {
            // (Of range k, what is above the hot part; what its alignment left below stays free.)
            let low = j == k ? hotStart + hotNeeded : free[j].offset
            let end = free[j].offset + free[j].length
            if end - low >= coldNeeded { return (hotStart, end - coldNeeded) }
        }
        return nil
    }

    /// Marks `length` bytes (a multiple of `alignment`) at `offset` allocated: they are part of
    /// a free range.
    private func take(_ offset: Int, _ length: Int) {
        guard length > 0 else { return }
        var low = 0
        var high = free.count
        while low < high {  // the last range starting at or before `offset`
            let mid = (low + high) / 2
            if free[mid].offset <= offset { low = mid + 1 } else { high = mid }
        }
        precondition(low > 0 && offset + length <= free[low - 1].offset + free[low - 1].length, "allocating space that is not free")
        let k = low - 1
        let range = free[k]
        // What stays free of the range: before the start, after the end.
        let before = (offset: range.offset, length: offset - range.offset)
        let after = (offset: offset + length, length: range.offset + range.length - offset - length)
        switch (before.length > 0, after.length > 0) {
        case (false, false): free.remove(at: k)
        case (false, true): free[k] = after
        case (true, false): free[k] = before
        case (true, true):
            free[k] = before
            free.insert(after, at: k + 1)
        }
        used += length
    }

    /// Gives back `length` bytes at `offset` (as passed to and returned by `allocate`).
    func release(offset: Int, length: Int) {
        let length = Self.rounded(length)
        guard length > 0 else { return }
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

    /// Gives back everything but the first `kept` bytes (the runtime's trampolines), at once:
    /// every translation was forgotten (`TranslationCache.forgetAll`).
    func releaseAll(keeping kept: Int) {
        let kept = min(size, Self.rounded(kept))
        free = kept < size ? [(kept, size - kept)] : []
        used = kept
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
