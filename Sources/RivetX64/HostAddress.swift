/// An address in the host's (Rivet's own) address space: where code executes, where a helper
/// function lives.
public struct HostAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a number.
    public var rawValue: UInt64

    /// Wraps a raw address.
    @inline(__always)
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw address.
    @inline(__always)
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// The address of `pointer`.
    @inline(__always)
    public init(_ pointer: UnsafeRawPointer) { rawValue = UInt64(UInt(bitPattern: pointer)) }

    /// Orders addresses numerically.
    public static func < (a: HostAddress, b: HostAddress) -> Bool { a.rawValue < b.rawValue }

    /// The address `offset` bytes further.
    public static func + (a: HostAddress, offset: Int) -> HostAddress {
        HostAddress(a.rawValue &+ UInt64(bitPattern: Int64(offset)))
    }

    /// The signed distance from `b` to `a`.
    public static func - (a: HostAddress, b: HostAddress) -> Int64 { Int64(bitPattern: a.rawValue &- b.rawValue) }

    /// `0x` and the address in hex.
    public var description: String { "0x" + String(rawValue, radix: 16) }
}
