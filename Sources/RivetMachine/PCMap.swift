/// Guest pc → a plain value, in an open-addressing table with linear probing and backward-shift
/// deletion (no tombstones), hashed by a multiply instead of Swift's seeded SipHash, in raw
/// memory (no copy-on-write or exclusivity checks, no reference counting): a lookup is a
/// multiply, a shift and usually one compare. The run loop's pc index and the interpreter's
/// decoded blocks are kept in it. It grows when half full and never shrinks (its users bound
/// what they put in it).
///
/// Unsafe code: the two buffers are owned here, sized `capacity`, and every index is masked.
///
/// `public`, unlike the rest of this module (which no product exports): Swift 6.3 inlines an
/// `@inlinable` declaration into other modules only if it is `public`; a `package` one stays a
/// call, and for this generic type a call to the unspecialized `find`, copying its value through
/// the type's metadata (12-16% of the time of the interpreter and of the run loop on code with
/// tens of thousands of blocks: Documentation/Performance.md, "Large code").
public struct PCMap<Value: BitwiseCopyable>: ~Copyable {
    /// A pc no entry has (pcs are even).
    @inlinable public static var empty: UInt64 { 1 }

    @usableFromInline var keys: UnsafeMutablePointer<UInt64>
    @usableFromInline var values: UnsafeMutablePointer<Value>
    @usableFromInline var capacity: Int
    @usableFromInline var shift: UInt64
    @usableFromInline var stored = 0
    /// Entries stored.
    @inlinable public var count: Int { stored }

    /// An empty map with room for `initial` entries before it first grows (a power of two).
    public init(capacity initial: Int = 1 << 12) {
        capacity = max(8, initial)
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        values = .allocate(capacity: capacity)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes the table takes.
    public var bytes: Int { capacity * (8 + MemoryLayout<Value>.stride) }

    @inlinable @inline(__always)
    func home(_ pc: UInt64) -> Int { Int(truncatingIfNeeded: (pc &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The value stored for `pc`, if any.
    @inlinable @inline(__always)
    public func find(_ pc: UInt64) -> Value? {
        let mask = capacity - 1
        var i = home(pc)
        while true {
            let key = keys[i]
            if key == Self.empty { return nil }
            if key == pc { return values[i] }
            i = (i + 1) & mask
        }
    }

    /// Stores `value` for `pc`, replacing any earlier one.
    @inlinable
    public mutating func set(_ pc: UInt64, _ value: Value) {
        precondition(pc != Self.empty, "an odd pc cannot start a block")
        if 2 * (count + 1) > capacity { grow() }
        let mask = capacity - 1
        var i = home(pc)
        while keys[i] != Self.empty && keys[i] != pc { i = (i + 1) & mask }
        if keys[i] == Self.empty { stored += 1 }
        keys[i] = pc
        values[i] = value
    }

    /// Removes `pc`; entries after it in its probe run move back to close the gap.
    @inlinable
    public mutating func remove(_ pc: UInt64) {
        guard pc != Self.empty else { return }
        let mask = capacity - 1
        var i = home(pc)
        while keys[i] != pc {
            if keys[i] == Self.empty { return }
            i = (i + 1) & mask
        }
        stored -= 1
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
    }

    /// Calls `body` with every (pc, value), in table order.
    @inlinable
    public func forEach(_ body: (UInt64, Value) -> Void) {
        for i in 0..<capacity where keys[i] != Self.empty { body(keys[i], values[i]) }
    }

    @inlinable
    mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let oldCapacity = capacity
        capacity *= 2
        shift -= 1
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: Self.empty, count: capacity)
        values = .allocate(capacity: capacity)
        stored = 0
        for i in 0..<oldCapacity where oldKeys[i] != Self.empty { set(oldKeys[i], oldValues[i]) }
        oldKeys.deallocate()
        oldValues.deallocate()
    }
}
