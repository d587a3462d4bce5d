import RivetMachine

/// Guest pc → translation (its id, size and host entry, as plain values): the run loop's
/// lookup, asked at every exit from JIT code and every stop of the interpreter. The run loop
/// enters compiled code from these values alone, without touching (or reference counting) a
/// `Translation` object. A `PCMap`: a lookup is a multiply, a shift and usually one compare.
package struct PCIndex: ~Copyable {
    /// A pc no translation has (pcs are even).
    package static let empty: UInt64 = 1

    /// What the run loop needs to enter a translation.
    package struct Entry: Equatable, BitwiseCopyable {
        package var id: Int32
        package var instructions: UInt32
        package var hostEntry: UInt

        package init(id: Int32, instructions: UInt32, hostEntry: UInt) {
            self.id = id
            self.instructions = instructions
            self.hostEntry = hostEntry
        }
    }

    private var map: PCMap<Entry>

    package init(capacity initial: Int = 1 << 12) { map = PCMap(capacity: initial) }

    package var count: Int { map.count }

    /// The entry stored for `pc`, if any.
    @inline(__always)
    package func find(_ pc: UInt64) -> Entry? { map.find(pc) }

    /// Stores `entry` for `pc`, replacing any earlier one.
    package mutating func set(_ pc: UInt64, _ entry: Entry) { map.set(pc, entry) }

    /// Removes `pc`.
    package mutating func remove(_ pc: UInt64) { map.remove(pc) }
}
