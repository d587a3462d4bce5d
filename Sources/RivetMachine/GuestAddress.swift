/// An address in the guest's address space.
public struct GuestAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    @inline(__always)
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    @inline(__always)
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (a: GuestAddress, b: GuestAddress) -> Bool { a.rawValue < b.rawValue }

    public static func + (a: GuestAddress, offset: UInt64) -> GuestAddress {
        GuestAddress(a.rawValue &+ offset)
    }

    public static func - (a: GuestAddress, b: GuestAddress) -> UInt64 { a.rawValue &- b.rawValue }

    /// The address rounded down to a page boundary.
    public var pageStart: GuestAddress { GuestAddress(rawValue & ~(GuestMemory.pageSize - 1)) }

    /// The address rounded up to a page boundary.
    public var pageEnd: GuestAddress {
        GuestAddress((rawValue &+ GuestMemory.pageSize &- 1) & ~(GuestMemory.pageSize - 1))
    }

    public var isPageAligned: Bool { rawValue & (GuestMemory.pageSize - 1) == 0 }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}

/// Access rights of guest memory, one set per guest page.
public struct MemoryPermissions: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let read = MemoryPermissions(rawValue: 1)
    public static let write = MemoryPermissions(rawValue: 2)
    public static let execute = MemoryPermissions(rawValue: 4)
    /// Not a guest right: the page holds code some tier has decoded or translated, so a write to
    /// it must take the slow path that invalidates that code.
    public static let code = MemoryPermissions(rawValue: 8)
    /// Not a guest right: the page lies wholly past the end of the file it maps, so an access
    /// raises SIGBUS, as on Linux (the page has no rights in the table).
    public static let pastFileEnd = MemoryPermissions(rawValue: 16)

    public static let none: MemoryPermissions = []
    public static let readWrite: MemoryPermissions = [.read, .write]
    public static let readExecute: MemoryPermissions = [.read, .execute]

    /// The guest-visible rights, without bookkeeping bits.
    public var access: MemoryPermissions { intersection([.read, .write, .execute]) }

    /// `rwx` as in /proc/self/maps (without the sharing letter).
    public var description: String {
        (contains(.read) ? "r" : "-") + (contains(.write) ? "w" : "-") + (contains(.execute) ? "x" : "-")
    }
}

/// The kind of access that faulted.
public enum AccessKind: UInt8, Sendable, CustomStringConvertible {
    case read, write, execute
    public var description: String {
        switch self {
        case .read: "read"
        case .write: "write"
        case .execute: "execute"
        }
    }
}

/// A guest access that the guest's mappings do not allow: the guest gets SIGSEGV.
public struct GuestFault: Error, Equatable, Sendable, CustomStringConvertible {
    public var address: GuestAddress
    public var access: AccessKind
    /// Whether the page was mapped (wrong permission) rather than unmapped.
    public var mapped: Bool
    /// Whether the page maps a file but lies past its end (SIGBUS instead of SIGSEGV).
    public var pastFileEnd: Bool
    /// Host code faulted on more guest pages at once than Rivet can restore: the guest cannot
    /// go on (it is killed whatever its handlers).
    public var lostTrack: Bool

    public init(address: GuestAddress, access: AccessKind, mapped: Bool, pastFileEnd: Bool = false, lostTrack: Bool = false) {
        self.address = address
        self.access = access
        self.mapped = mapped
        self.pastFileEnd = pastFileEnd
        self.lostTrack = lostTrack
    }

    public var description: String {
        "\(access) of \(address) (\(pastFileEnd ? "past the end of the mapped file" : mapped ? "permission denied" : "unmapped"))"
    }
}
