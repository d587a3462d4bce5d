#if canImport(Glibc)
import Glibc
#endif

/// The indirect-branch cache JIT code probes inline for `jalr` targets: a direct-mapped table of
/// (guest pc, host entry) pairs. A hit jumps straight to the translation; a miss leaves JIT
/// code to the run loop, which fills the entry.
///
/// Layout is shared with generated code: entry `i` is at byte `16 * i`, guest pc first. The
/// index is `(pc >> 1) & mask`.
///
/// 2^16 entries (1 MiB per hart): with 2^14, a program whose warm code spans megabytes (the
/// `flat` benchmark: 4,000 functions) missed 12% of its returns on conflicts, each a trip
/// through the run loop; with 2^16, 3%. The table comes zeroed from `calloc` (fresh pages from
/// the kernel, untouched until a probe or a fill lands on them), so a machine pays memory for
/// the part of the table its code uses. An all-zero entry's pc matches only a probe for pc 0,
/// which lands on entry 0: that entry alone is marked empty.
final class JumpCache {
    static let bits = 16
    static let entries = 1 << bits
    static let mask = UInt64(entries - 1)
    /// A guest pc no entry matches (pcs are even).
    static let empty: UInt64 = 1

    let table: UnsafeMutablePointer<UInt64>

    init() {
        guard let memory = calloc(2 * Self.entries, MemoryLayout<UInt64>.stride) else {
            fatalError("rivet: cannot allocate the jump cache (\(16 * Self.entries) bytes)")
        }
        table = memory.bindMemory(to: UInt64.self, capacity: 2 * Self.entries)
        table[0] = Self.empty
    }

    deinit { free(table) }

    @inline(__always)
    static func index(_ pc: UInt64) -> Int { Int((pc >> 1) & mask) }

    func set(pc: UInt64, entry: UInt) {
        let i = Self.index(pc)
        table[2 * i] = pc
        table[2 * i + 1] = UInt64(entry)
    }

    /// Whether the table has an entry for `pc`: an indirect jump (or a return) went there since
    /// the entry was made.
    func contains(pc: UInt64) -> Bool { table[2 * Self.index(pc)] == pc }

    /// Points the entry for `pc`, if present, at `entry`: another entry into the same code (a
    /// translation entered at or past its counting entry). A probe by another hart meanwhile
    /// reads the old or the new address (one aligned store), both good. The entry stays, with
    /// what it says of the jumps made (region formation reads it).
    func update(pc: UInt64, entry: UInt) {
        let i = Self.index(pc)
        if table[2 * i] == pc { table[2 * i + 1] = UInt64(entry) }
    }

    /// Removes the entry for `pc`, if present. Another hart may be probing this table: only
    /// the pc word changes (one aligned store), so a probe sees the old pair or an empty
    /// entry, never the old pc with a new host entry; the old entry's code is kept until
    /// that hart leaves JIT code.
    func remove(pc: UInt64) {
        let i = Self.index(pc)
        if table[2 * i] == pc { table[2 * i] = Self.empty }
    }
}
