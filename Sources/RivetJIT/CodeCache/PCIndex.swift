/// Guest pc → translation (its id, size and host entry, as plain values): the run loop's
/// lookup, asked at every exit from JIT code and every stop of the interpreter. The run loop
/// enters compiled code from these values alone, without touching (or reference counting) a
/// `Translation` object. An open-addressing table with linear probing and
/// backward-shift deletion (no tombstones), hashed by a multiply instead of Swift's seeded
/// SipHash, in raw memory (no copy-on-write checks, no reference counting): a lookup is a
/// multiply, a shift and usually one compare.
///
/// Unsafe code: the two buffers are owned here, sized `capacity`, and every index is masked.
package struct PCIndex: ~Copyable {
    /// A pc no translation has (pcs are even).
    package static let empty: UInt64 = 1

    /// What the run loop needs to enter a translation.
    package struct Entry: Equatable {
        package var id: Int32
        package var instructions: UInt32
        package var hostEntry: UInt

        package init(id: Int32, instructions: UInt32, hostEntry: UInt) {
            self.id = id
            self.instructions = instructions
            self.hostEntry = hostEntry
        }
    }

    private var keys: UnsafeMutablePointer<UInt64>
    private var values: UnsafeMutablePointer<Entry>
    private var capacity: Int
    private var shift: UInt64
    package private(set) var count = 0

    package init(capacity initial: Int = 1 << 12) {
        capacity = initial
        shift = UInt64(64 - initial.trailingZeroBitCount)
        keys = .allocate(capacity: initial)
        keys.initialize(repeating: Self.empty, count: initial)
        values = .allocate(capacity: initial)
        values.initialize(repeating: Self.none, count: initial)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    private static let none = Entry(id: 0, instructions: 0, hostEntry: 0)

    @inline(__always)
    private func home(_ pc: UInt64) -> Int { Int(truncatingIfNeeded: (pc &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The entry stored for `pc`, if any.
    @inline(__always)
    package func find(_ pc: UInt64) -> Entry? {
        let mask = capacity - 1
        var i = home(pc)
        while true {
            let key = keys[i]
            if key == Self.empty { return nil }
            if key == pc { return values[i] }
            i = (i + 1) & mask
        }
    }

    /// Stores `entry` for `pc`, replacing any earlier one.
    package mutating func set(_ pc: UInt64, _ entry: Entry) {
        precondition(pc != Self.empty, "an odd pc cannot start a block")
        if 2 * (count + 1) > capacity { grow() }
        let mask = capacity - 1
        var i = home(pc)
        while keys[i] != Self.empty && keys[i] != pc { i = (i + 1) & mask }
        if keys[i] == Self.empty { count += 1 }
        keys[i] = pc
        values[i] = entry
    }

    /// Removes `pc`; entries after it in its probe run move back to close the gap.
    package mutating func remove(_ pc: UInt64) {
        guard pc != Self.empty else { return }
        let mask = capacity - 1
        var i = home(pc)
        while keys[i] != pc {
            if keys[i] == Self.empty { return }
            i = (i + 1) & mask
        }
        count -= 1
        var hole = i
        var j = i
        while true {
            j = (j + 1) & mask
            if keys[j] == Self.empty { break }
            // An entry may fill the hole if its home is not cyclically in (hole, j].
            let h = home(keys[j])
            let between = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if between { continue }
            keys[hole] = keys[j]
            values[hole] = values[j]
            hole = j
        }
        keys[hole] = Self.empty
        values[hole] = Self.none
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        values = .allocate(capacity: capacity)
        values.initialize(repeating: Self.none, count: capacity)
        count = 0
        for i in 0..<oldCapacity where oldKeys[i] != Self.empty { set(oldKeys[i], oldValues[i]) }
        oldKeys.deallocate()
        oldValues.deallocate()
    }
}
