/// A general-purpose x86-64 register, numbered as the encoding numbers it (`rax` = 0 ... `r15` = 15).
///
/// Which part of the register an instruction uses follows from its `X64OperandSize`: at 8 bits,
/// numbers 4-7 are `spl`, `bpl`, `sil`, `dil` (the encoder adds the REX prefix that selects them);
/// the legacy `ah`, `ch`, `dh`, `bh` are not expressible.
public enum HostRegister: UInt8, CaseIterable, Sendable {
    case rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15

    /// The register's name at `size`, as GNU objdump prints it in Intel syntax.
    public func name(_ size: X64OperandSize) -> String {
        HostRegister.names[Int(size.rawValue)][Int(rawValue)]
    }

    private static let names: [[String]] = [
        ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
         "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"],
        ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
         "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"],
        ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
         "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"],
        ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
         "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"],
    ]
}

/// An SSE register, `xmm0` ... `xmm15`, numbered as the encoding numbers it.
public enum XMMRegister: UInt8, CaseIterable, Sendable {
    case xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7
    case xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15

    /// The register's name, `xmm0` ... `xmm15`.
    public var name: String { "xmm\(rawValue)" }
}

/// The operand-size attribute of an instruction: the width of its general-register and
/// memory operands, unless its form fixes a width (as `movzx`'s source or `setcc`'s byte).
///
/// Forms without a general-register operand (SSE arithmetic, jumps, `ret`) use `.b32`, the
/// default operand size in 64-bit mode, which adds no prefix.
public enum X64OperandSize: UInt8, CaseIterable, Sendable {
    case b8, b16, b32, b64

    /// The width in bits.
    public var bits: Int { 8 << Int(rawValue) }

    /// The width in bytes.
    public var bytes: Int { 1 << Int(rawValue) }

    /// The size keyword objdump prints before a memory operand of this width (`DWORD`).
    public var pointerName: String {
        switch self {
        case .b8: "BYTE"
        case .b16: "WORD"
        case .b32: "DWORD"
        case .b64: "QWORD"
        }
    }
}

/// A set of operand sizes: the sizes a form accepts.
public struct X64SizeSet: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let b8 = X64SizeSet(rawValue: 1)
    public static let b16 = X64SizeSet(rawValue: 2)
    public static let b32 = X64SizeSet(rawValue: 4)
    public static let b64 = X64SizeSet(rawValue: 8)
    /// 8, 16, 32 and 64 bits: forms with an opcode `w` bit.
    public static let all: X64SizeSet = [.b8, .b16, .b32, .b64]
    /// 16, 32 and 64 bits: forms written `r/m16/32/64` in the Intel manual.
    public static let wide: X64SizeSet = [.b16, .b32, .b64]
    /// 32 and 64 bits.
    public static let dq: X64SizeSet = [.b32, .b64]

    /// Whether `size` is in the set.
    @inline(__always)
    public func contains(_ size: X64OperandSize) -> Bool {
        rawValue & (1 << size.rawValue) != 0
    }
}

/// An x86 condition code, numbered as the `tttn` field of `jcc`, `setcc` and `cmovcc` encodes it.
public enum X64Condition: UInt8, CaseIterable, Sendable {
    /// Overflow, no overflow.
    case o, no
    /// Unsigned below (carry), above or equal (no carry).
    case b, ae
    /// Equal (zero), not equal.
    case e, ne
    /// Unsigned below or equal, above.
    case be, a
    /// Sign, no sign.
    case s, ns
    /// Parity (unordered after `ucomisd`), no parity.
    case p, np
    /// Signed less, greater or equal.
    case l, ge
    /// Signed less or equal, greater.
    case le, g

    /// The opposite condition (the low bit of the encoding flips it).
    public var negated: X64Condition { X64Condition(rawValue: rawValue ^ 1)! }

    /// The condition with the compared operands swapped: `cmp a, b; jl` jumps when `cmp b, a;
    /// jg` does. Only for conditions that compare (not o, s, p and their negations).
    public var swapped: X64Condition {
        switch self {
        case .e, .ne: self
        case .b: .a
        case .a: .b
        case .ae: .be
        case .be: .ae
        case .l: .g
        case .g: .l
        case .ge: .le
        case .le: .ge
        case .o, .no, .s, .ns, .p, .np: preconditionFailure("\(self) does not compare two operands")
        }
    }

    /// The suffix objdump appends to `j`, `set` and `cmov`.
    public var suffix: String {
        switch self {
        case .o: "o"
        case .no: "no"
        case .b: "b"
        case .ae: "ae"
        case .e: "e"
        case .ne: "ne"
        case .be: "be"
        case .a: "a"
        case .s: "s"
        case .ns: "ns"
        case .p: "p"
        case .np: "np"
        case .l: "l"
        case .ge: "ge"
        case .le: "le"
        case .g: "g"
        }
    }
}
