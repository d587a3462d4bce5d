import Glibc

/// The memory of one interpreter's cached blocks: carved from a reservation the host may back
/// with transparent huge pages, in size classes of 64 bytes, each with its list of freed
/// blocks.
///
/// From `malloc`, every 4 KiB of new blocks cost a page fault: 15% of `startup` (code run
/// twice), whose 6 MiB of blocks take here 512 small pages' faults and then 3 huge pages'
/// (Performance.md, twenty-sixth session). Blocks past the reservation come from `malloc`
/// again. Used on the interpreter's thread, or under the code lock, like the cache.
final class BlockArena {
    static let granule = 64
    /// A block's largest size (`BlockDecoder.bytes`).
    static let largest = BlockDecoder.bytes(instructions: BlockDecoder.maxInstructions)
    static let classes = (largest + granule - 1) / granule + 1
    /// Address space reserved (not memory: pages are backed as blocks reach them). A cache
    /// bound above it, or blocks kept in other classes than the ones being freed, go on in
    /// `malloc`.
    static let reservation = 256 << 20
    private static let hugePage = 2 << 20

    /// Where the reservation starts (aligned to a huge page) and ends, and the next free byte.
    private let start: UnsafeMutableRawPointer?
    private let end: UnsafeMutableRawPointer?
    private var next: UnsafeMutableRawPointer?
    /// What `munmap` takes back.
    private let mapping: (base: UnsafeMutableRawPointer?, size: Int)
    /// Freed blocks by size class, each linked through its first word.
    private let freeLists: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    init() {
        freeLists = .allocate(capacity: Self.classes)
        freeLists.initialize(repeating: nil, count: Self.classes)
        let size = Self.reservation + Self.hugePage
        let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let base, base != MAP_FAILED else {
            (start, end, next, mapping) = (nil, nil, nil, (nil, 0))
            return
        }
        let aligned = (Int(bitPattern: base) + Self.hugePage - 1) & ~(Self.hugePage - 1)
        let first = UnsafeMutableRawPointer(bitPattern: aligned)!
        // Huge pages past the first 2 MiB only, so that a short run or a thread that decodes
        // little does not take 2 MiB for a few blocks. Advice only: without transparent huge
        // pages the pages are small ones.
        _ = madvise(first + Self.hugePage, Self.reservation - Self.hugePage, MADV_HUGEPAGE)
        (start, end, next, mapping) = (first, first + Self.reservation, first, (base, size))
    }

    deinit {
        freeLists.deallocate()
        if let base = mapping.base { munmap(base, mapping.size) }
    }

    @inline(__always)
    private static func sizeClass(_ byteCount: Int) -> Int { (byteCount + granule - 1) / granule }

    /// `byteCount` bytes (at most `largest`), aligned to 16.
    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        let sizeClass = Self.sizeClass(byteCount)
        if let block = freeLists[sizeClass] {
            freeLists[sizeClass] = block.load(as: UnsafeMutableRawPointer?.self)
            return block
        }
        let size = sizeClass * Self.granule
        if let next, let end, end - next >= size {
            self.next = next + size
            return next
        }
        return .allocate(byteCount: byteCount, alignment: 16)
    }

    /// Whether nothing was ever taken from the reservation.
    var isUnused: Bool { next == start }

    /// Whether `block` came from the reservation (not from `malloc`).
    func contains(_ block: UnsafeMutableRawPointer) -> Bool {
        guard let start, let end else { return false }
        return block >= start && block < end
    }

    /// Frees what `allocate(byteCount:)` returned for `byteCount`.
    func free(_ block: UnsafeMutableRawPointer, byteCount: Int) {
        guard let start, let end, block >= start, block < end else {
            block.deallocate()
            return
        }
        let sizeClass = Self.sizeClass(byteCount)
        block.storeBytes(of: freeLists[sizeClass], as: UnsafeMutableRawPointer?.self)
        freeLists[sizeClass] = block
    }
}
