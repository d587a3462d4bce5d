/// A bounded map from guest pc to a count, for the engine's per-block figures (back-offs,
/// instructions of translations no longer cached): `capacity` slots, direct-mapped by a hash of
/// the pc, so that a program with millions of blocks cannot make it grow. Two pcs that share a
/// slot compete for it: the newer wins (`Collision.replace`), or the larger count
/// (`Collision.keepLarger`, for heavy hitters).
///
/// Unsafe code: the buffer is owned here, `capacity` entries, and every index is masked.
struct PCTable: ~Copyable {
    enum Collision {
        case replace
        case keepLarger
    }

    /// A pc no entry has (pcs are even).
    private static let empty: UInt64 = 1

    private let keys: UnsafeMutablePointer<UInt64>
    private let values: UnsafeMutablePointer<UInt64>
    let capacity: Int
    private let collision: Collision
    /// Entries in use.
    private(set) var count = 0

    init(capacity: Int, collision: Collision) {
        let size = max(16, 1 << (Int.bitWidth - (capacity - 1).leadingZeroBitCount))
        self.capacity = size
        self.collision = collision
        keys = .allocate(capacity: size)
        keys.initialize(repeating: Self.empty, count: size)
        values = .allocate(capacity: size)
        values.initialize(repeating: 0, count: size)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Bytes the table takes.
    var bytes: Int { capacity * 16 }

    @inline(__always)
    private func slot(_ pc: UInt64) -> Int { Int(truncatingIfNeeded: (pc &* 0x9E37_79B9_7F4A_7C15) >> 40) & (capacity - 1) }

    /// The count for `pc` (0 if it has none).
    func value(_ pc: UInt64) -> UInt64 {
        let k = slot(pc)
        return keys[k] == pc ? values[k] : 0
    }

    /// Adds `amount` to the count for `pc`.
    mutating func add(_ pc: UInt64, _ amount: UInt64) {
        let k = slot(pc)
        if keys[k] == pc {
            values[k] &+= amount
            return
        }
        if keys[k] != Self.empty, collision == .keepLarger, values[k] >= amount { return }
        if keys[k] == Self.empty { count += 1 }
        keys[k] = pc
        values[k] = amount
    }

    /// Halves every count, dropping those that reach zero (so that old history fades).
    mutating func halve() {
        for k in 0..<capacity where keys[k] != Self.empty {
            values[k] /= 2
            if values[k] == 0 {
                keys[k] = Self.empty
                count -= 1
            }
        }
    }

    /// Forgets every entry.
    mutating func removeAll() {
        guard count > 0 else { return }
        keys.update(repeating: Self.empty, count: capacity)
        values.update(repeating: 0, count: capacity)
        count = 0
    }

    /// Every (pc, count).
    func forEach(_ body: (UInt64, UInt64) -> Void) {
        for k in 0..<capacity where keys[k] != Self.empty { body(keys[k], values[k]) }
    }
}
