import RivetMachine

/// Guest pc → translation (its id, size and host entry, as plain values): the run loop's
/// lookup, asked at every exit from JIT code and every stop of the interpreter. The run loop
/// enters compiled code from these values alone, without touching (or reference counting) a
/// `Translation` object. A `PCMap`: a lookup is a multiply, a shift and usually one compare.
public struct PCIndex: ~Copyable {
    /// A pc no translation has (pcs are even).
    public static let empty: UInt64 = 1

    /// What the run loop needs to enter a translation.
    public struct Entry: Equatable, BitwiseCopyable {
        public var id: Int32
        public var instructions: UInt32
        public var hostEntry: UInt

        public init(id: Int32, instructions: UInt32, hostEntry: UInt) {
            self.id = id
            self.instructions = instructions
            self.hostEntry = hostEntry
        }
    }

    private var map: PCMap<Entry>

    public init(capacity initial: Int = 1 << 12) { map = PCMap(capacity: initial) }

    public var count: Int { map.count }

    /// The entry stored for `pc`, if any.
    @inline(__always)
    public func find(_ pc: UInt64) -> Entry? { map.find(pc) }

    /// Stores `entry` for `pc`, replacing any earlier one.
    public mutating func set(_ pc: UInt64, _ entry: Entry) { map.set(pc, entry) }

    /// Removes `pc`.
    public mutating func remove(_ pc: UInt64) { map.remove(pc) }
}
