/// What a `fence` orders, from its `fm`, `pred` and `succ` fields (`Instruction.imm` of a
/// fence: `fm << 8 | pred << 4 | succ`, the instruction's bits 31:20).
///
/// `pred` and `succ` are sets of the bits I (device input, bit 3), O (device output, 2),
/// R (memory reads, 1) and W (memory writes, 0). `fm = 1000` with `pred = succ = rw` is
/// `fence.tso`, which orders everything but earlier stores before later loads; the
/// specification reserves the other `fm` values and treats them as a plain fence (`fm = 0`).
public struct FenceOrdering: Equatable, Sendable {
    /// The predecessor set: bit 3 I, bit 2 O, bit 1 R, bit 0 W.
    public var predecessors: UInt8
    /// The successor set, with the same bits.
    public var successors: UInt8
    /// The fence mode: 0 for a plain fence, 8 for `fence.tso`.
    public var mode: UInt8

    /// The fields of a fence's 12-bit immediate (`fm << 8 | pred << 4 | succ`).
    public init(bits: Int64) {
        mode = UInt8(truncatingIfNeeded: bits >> 8) & 0xf
        predecessors = UInt8(truncatingIfNeeded: bits >> 4) & 0xf
        successors = UInt8(truncatingIfNeeded: bits) & 0xf
    }

    public static let input: UInt8 = 8
    public static let output: UInt8 = 4
    public static let read: UInt8 = 2
    public static let write: UInt8 = 1

    /// Whether this is `fence.tso` (any `pred`/`succ`: the mode alone decides what it leaves
    /// unordered).
    public var isTotalStoreOrder: Bool { mode == 8 }

    /// Whether the fence orders earlier stores before later loads: `pred` has W, `succ` has R,
    /// and it is not `fence.tso`. This is the one ordering an x86-64 host (TSO: a later load may
    /// pass an earlier store still in the store buffer) has to enforce with a barrier; every
    /// other ordering a fence asks for the host keeps anyway.
    public var ordersStoresBeforeLoads: Bool {
        predecessors & Self.write != 0 && successors & Self.read != 0 && !isTotalStoreOrder
    }
}
