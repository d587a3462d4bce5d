/// The indirect-branch cache JIT code probes inline for `jalr` targets: a direct-mapped table of
/// (guest pc, host entry) pairs. A hit jumps straight to the translation; a miss leaves JIT
/// code to the run loop, which fills the entry.
///
/// Layout is shared with generated code: entry `i` is at byte `16 * i`, guest pc first. The
/// index is `(pc >> 1) & mask`.
final class JumpCache {
    static let bits = 14
    static let entries = 1 << bits
    static let mask = UInt64(entries - 1)
    /// A guest pc no entry matches (pcs are even).
    static let empty: UInt64 = 1

    let table: UnsafeMutablePointer<UInt64>

    init() {
        table = .allocate(capacity: 2 * Self.entries)
        clear()
    }

    deinit { table.deallocate() }

    @inline(__always)
    static func index(_ pc: UInt64) -> Int { Int((pc >> 1) & mask) }

    func set(pc: UInt64, entry: UInt) {
        let i = Self.index(pc)
        table[2 * i] = pc
        table[2 * i + 1] = UInt64(entry)
    }

    /// Removes the entry for `pc`, if present. Another hart may be probing this table: only
    /// the pc word changes (one aligned store), so a probe sees the old pair or an empty
    /// entry, never the old pc with a new host entry; the old entry's code is kept until
    /// that hart leaves JIT code.
    func remove(pc: UInt64) {
        let i = Self.index(pc)
        if table[2 * i] == pc { table[2 * i] = Self.empty }
    }

    func clear() {
        for i in 0..<Self.entries {
            table[2 * i] = Self.empty
            table[2 * i + 1] = 0
        }
    }
}
