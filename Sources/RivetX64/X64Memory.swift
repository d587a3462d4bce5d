/// The base of a memory operand.
public enum X64Base: Hashable, Sendable {
    /// A general register.
    case register(HostRegister)
    /// The address of the next instruction (RIP-relative addressing).
    case rip
    /// No base: the address is `index * scale + displacement`, or the displacement alone.
    case none
}

/// The factor a memory operand's index register is multiplied by.
public enum X64Scale: UInt8, CaseIterable, Sendable {
    case x1, x2, x4, x8

    /// The factor, 1, 2, 4 or 8 (the raw value is its base-2 logarithm, as SIB.scale encodes it).
    @inlinable
    public var factor: Int { 1 << Int(rawValue) }
}

/// How many bytes encode a memory operand's displacement.
public enum X64DisplacementWidth: UInt8, Sendable {
    /// The fewest bytes that hold the value (none for 0, unless the base is `rbp` or `r13`).
    case automatic
    /// One byte, even for 0 (as multi-byte `nop`s need).
    case byte
    /// Four bytes, even when fewer would do (a displacement to patch later).
    case dword
}

/// A memory operand, `[base + index * scale + displacement]`.
///
/// `rsp` cannot be an index (its SIB code means "no index"); a RIP-relative operand has no
/// index. The displacement of a RIP-relative operand counts from the end of the instruction.
public struct X64Memory: Hashable, Sendable {
    /// The base register, `rip`, or none.
    public var base: X64Base
    /// The index register, if any.
    public var index: HostRegister?
    /// The index's factor.
    public var scale: X64Scale
    /// The signed displacement.
    public var displacement: Int32
    /// How many bytes encode the displacement.
    public var displacementWidth: X64DisplacementWidth

    /// Creates a memory operand; traps if `index` is `rsp` or is combined with `rip`.
    @inlinable
    public init(
        base: X64Base, index: HostRegister? = nil, scale: X64Scale = .x1, displacement: Int32 = 0,
        displacementWidth: X64DisplacementWidth = .automatic
    ) {
        precondition(index != .rsp, "rsp cannot be an index register")
        precondition(index == nil || base != .rip, "a RIP-relative operand has no index")
        precondition(displacementWidth != .byte || Int32(Int8(truncatingIfNeeded: displacement)) == displacement,
                     "displacement does not fit a byte")
        self.base = base
        self.index = index
        self.scale = scale
        self.displacement = displacement
        self.displacementWidth = displacementWidth
    }

    /// `[base + displacement]`.
    @inlinable
    public static func at(_ base: HostRegister, _ displacement: Int32 = 0) -> X64Memory {
        X64Memory(base: .register(base), displacement: displacement)
    }

    /// `[base + index * scale + displacement]`.
    @inlinable
    public static func at(
        _ base: HostRegister, index: HostRegister, scale: X64Scale = .x1, _ displacement: Int32 = 0
    ) -> X64Memory {
        X64Memory(base: .register(base), index: index, scale: scale, displacement: displacement)
    }

    /// `[index * scale + displacement]`, with no base.
    @inlinable
    public static func at(index: HostRegister, scale: X64Scale, _ displacement: Int32 = 0) -> X64Memory {
        X64Memory(base: .none, index: index, scale: scale, displacement: displacement)
    }

    /// `[rip + displacement]`, counted from the end of the instruction.
    @inlinable
    public static func rip(_ displacement: Int32 = 0) -> X64Memory {
        X64Memory(base: .rip, displacement: displacement)
    }

    /// The absolute address `displacement` (sign-extended to 64 bits).
    @inlinable
    public static func absolute(_ address: Int32) -> X64Memory {
        X64Memory(base: .none, displacement: address)
    }

    /// The same operand with its displacement encoded in `width`.
    public func withDisplacementWidth(_ width: X64DisplacementWidth) -> X64Memory {
        X64Memory(base: base, index: index, scale: scale, displacement: displacement, displacementWidth: width)
    }

    /// The number of displacement bytes the encoding holds: 0, 1 or 4.
    @inlinable
    public var encodedDisplacementBytes: Int {
        guard case .register(let base) = base else { return 4 }
        switch displacementWidth {
        case .dword: return 4
        case .byte: return 1
        case .automatic:
            // mod = 00 with base 101 means "disp32, no base": rbp and r13 need an explicit 0.
            if displacement == 0 && base.rawValue & 7 != 5 { return 0 }
            return Int32(Int8(truncatingIfNeeded: displacement)) == displacement ? 1 : 4
        }
    }
}

/// The operand in a ModRM `rm` field: a register (general or XMM, as the form says) or memory.
public enum X64RM: Hashable, Sendable {
    /// A register number, 0-15.
    case register(UInt8)
    /// A memory operand.
    case memory(X64Memory)

    /// The memory operand, if this is one.
    @inlinable
    public var memory: X64Memory? {
        if case .memory(let m) = self { return m }
        return nil
    }
}
