// Ids of the IR's entities: small wrappers over UInt32 indexes into a `Function`'s arrays
// (after Cranelift's `ir/entities.rs`). An id means nothing without its function.

/// An SSA value: the result of an instruction or a block parameter. Printed `v12`.
public struct Value: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Index into `Function.values`.
    public var index: UInt32
    /// Wraps an index.
    @inline(__always) public init(_ index: UInt32) { self.index = index }
    /// Wraps an index.
    @inline(__always) public init(_ index: Int) { self.index = UInt32(index) }
    /// The index as an `Int`, for subscripting.
    @inline(__always) public var id: Int { Int(index) }
    public static func < (a: Value, b: Value) -> Bool { a.index < b.index }
    public var description: String { "v\(index)" }
}

/// A basic block. Printed `block3`.
public struct Block: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Index into `Function.blocks`.
    public var index: UInt32
    /// Wraps an index.
    @inline(__always) public init(_ index: UInt32) { self.index = index }
    /// Wraps an index.
    @inline(__always) public init(_ index: Int) { self.index = UInt32(index) }
    /// The index as an `Int`, for subscripting.
    @inline(__always) public var id: Int { Int(index) }
    public static func < (a: Block, b: Block) -> Bool { a.index < b.index }
    public var description: String { "block\(index)" }
}

/// An instruction. Not printed: instructions are named by their position.
public struct Inst: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Index into `Function.insts`.
    public var index: UInt32
    /// Wraps an index.
    @inline(__always) public init(_ index: UInt32) { self.index = index }
    /// Wraps an index.
    @inline(__always) public init(_ index: Int) { self.index = UInt32(index) }
    /// The index as an `Int`, for subscripting.
    @inline(__always) public var id: Int { Int(index) }
    public static func < (a: Inst, b: Inst) -> Bool { a.index < b.index }
    public var description: String { "inst\(index)" }
}

/// A declared guest-state slot (a field of the host's state struct). Printed by its name.
public struct Slot: Hashable, Comparable, Sendable {
    /// Index into `Function.slots`.
    public var index: UInt32
    /// Wraps an index.
    @inline(__always) public init(_ index: UInt32) { self.index = index }
    /// Wraps an index.
    @inline(__always) public init(_ index: Int) { self.index = UInt32(index) }
    /// The index as an `Int`, for subscripting.
    @inline(__always) public var id: Int { Int(index) }
    public static func < (a: Slot, b: Slot) -> Bool { a.index < b.index }
}

/// A declared helper function. Printed `@name`.
public struct HelperRef: Hashable, Comparable, Sendable {
    /// Index into `Function.helpers`.
    public var index: UInt32
    /// Wraps an index.
    @inline(__always) public init(_ index: UInt32) { self.index = index }
    /// Wraps an index.
    @inline(__always) public init(_ index: Int) { self.index = UInt32(index) }
    /// The index as an `Int`, for subscripting.
    @inline(__always) public var id: Int { Int(index) }
    public static func < (a: HelperRef, b: HelperRef) -> Bool { a.index < b.index }
}

/// A guest address, for the pcs that exits resume at.
public struct GuestAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a number.
    public var rawValue: UInt64
    /// Wraps an address.
    @inline(__always) public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: GuestAddress, b: GuestAddress) -> Bool { a.rawValue < b.rawValue }
    /// `0x` and the address in hex.
    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// The type of a value. Integer operations are 64-bit only; booleans come from comparisons.
public enum IRType: UInt8, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// A 64-bit integer (signedness is in the operation, not the type).
    case i64
    /// A boolean (0 or 1), the result of a comparison.
    case b1
    /// An IEEE binary32; in the evaluator, the low 32 bits of a UInt64.
    case f32
    /// An IEEE binary64.
    case f64

    public var description: String {
        switch self {
        case .i64: "i64"
        case .b1: "b1"
        case .f32: "f32"
        case .f64: "f64"
        }
    }

    /// Parses `i64`, `b1`, `f32`, `f64`.
    public init?(name: Substring) {
        switch name {
        case "i64": self = .i64
        case "b1": self = .b1
        case "f32": self = .f32
        case "f64": self = .f64
        default: return nil
        }
    }
}
