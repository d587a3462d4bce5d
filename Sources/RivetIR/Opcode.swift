// The IR's opcodes and what is known about each: the enum here, the table of rows (name,
// signature, effect flags, semantics) in OpcodeTable.swift. Passes ask the table, never a list
// of opcodes of their own, so that a new opcode is described once (QEMU tcg-ops.rst, Cranelift's
// instruction definitions).

/// An IR operation. Every switch over it lists every case (no `default:`), so that adding one
/// breaks the build wherever a decision is needed.
public enum Opcode: UInt8, CaseIterable, Sendable {
    // Constants.
    case iconst, bconst, f32const, f64const
    // Integer arithmetic.
    case iadd, isub, imul, imulhs, imulhu, imulhsu, sdiv, udiv, srem, urem
    // Bits.
    case band, bor, bxor, bnot, ineg, shl, ushr, sshr, rotl, rotr
    // Extensions and bit counts (all within i64).
    case sext8, sext16, sext32, zext8, zext16, zext32, clz, ctz, popcnt, bswap
    // RISC-V's fclass on a float's bits.
    case fclass32, fclass64
    // Comparison and selection.
    case icmp, select, bint
    // Floating point.
    case fadd, fsub, fmul, fdiv, fsqrt, ffma, fneg, fabs, fmin, fmax, fcmp, fcmpSilent, bitcast, f32FromBits, f32ToBits
    // Conversions.
    case sitof, ftosi32, ftosi64, fpromote, fdemote
    // Guest state.
    case getSlot, setSlot
    // Guest memory.
    case loadI64, uload8, sload8, uload16, sload16, uload32, sload32, loadF32, loadF64
    case store8, store16, store32, store64, storeF32, storeF64
    // Helpers.
    case call
    // Terminators.
    case jump, brif, exit, exitIndirect, trap

    /// This opcode's row of the table.
    @inline(__always) public var info: OpcodeInfo { OpcodeInfo.table[Int(rawValue)] }
    /// The printed name (`load.i64`, `exit_indirect`).
    @inline(__always) public var name: String { info.name }

    /// Looks an opcode up by its printed name.
    public init?(name: Substring) {
        guard let op = OpcodeInfo.byName[String(name)] else { return nil }
        self = op
    }
}

/// Effects of an operation (an opcode, or a helper a `call` calls).
public struct Effects: OptionSet, Hashable, Sendable {
    /// The flags as bits.
    public var rawValue: UInt16
    /// Flags from bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// No effect at all and no fault: may be removed when unused, duplicated, merged with an
    /// identical operation, and moved anywhere its operands are available.
    public static let isPure = Effects(rawValue: 1 << 0)
    /// Reads the guest-state struct.
    public static let readsState = Effects(rawValue: 1 << 1)
    /// Writes the guest-state struct.
    public static let writesState = Effects(rawValue: 1 << 2)
    /// Reads guest memory.
    public static let readsMemory = Effects(rawValue: 1 << 3)
    /// Writes guest memory.
    public static let writesMemory = Effects(rawValue: 1 << 4)
    /// May stop execution with a guest fault; carries an exit state.
    public static let canFault = Effects(rawValue: 1 << 5)
    /// Ends a block.
    public static let isTerminator = Effects(rawValue: 1 << 6)
    /// Calls a helper (the effects of the call are the helper's).
    public static let callsHelper = Effects(rawValue: 1 << 7)
    /// Raises IEEE 754 exception flags (invalid, divide by zero, overflow, underflow, inexact),
    /// which the backend accrues into the guest's `fflags`: not pure (never folded, removed,
    /// merged or moved), though it has no other effect. The evaluator does not model flags.
    public static let raisesFPFlags = Effects(rawValue: 1 << 8)

    /// Helper flags in text form, in this order.
    public static let helperFlagNames: [(Effects, String)] = [
        (.isPure, "pure"), (.readsState, "reads_state"), (.writesState, "writes_state"),
        (.readsMemory, "reads_memory"), (.writesMemory, "writes_memory"), (.canFault, "can_fault"),
        (.raisesFPFlags, "raises_fp_flags"),
    ]
}

/// How an instruction's operands and immediates are written; printer, parser and verifier
/// follow it.
public enum InstFormat: Sendable {
    /// `iconst -5`, `bconst true`, `f64const 0x3ff0000000000000`: an immediate, no operands.
    case constant
    /// `op v1`.
    case unary
    /// `op v1, v2`.
    case binary
    /// `select.T v0, v1, v2`.
    case ternary
    /// `icmp slt v1, v2` / `fcmp.f64 lt v1, v2`: a condition code in `imm`.
    case compare
    /// `get_slot.T x5`: a slot in `imm`.
    case getSlot
    /// `set_slot x5, v1`: a slot in `imm`.
    case setSlot
    /// `load.i64 v1 [pc=0x... ]`: an address and an exit state.
    case load
    /// `store64 vAddr, vValue [pc=0x...]`.
    case store
    /// `call @h(v1, v2)`, with an exit state if the helper can fault: a helper in `imm`.
    case call
    /// `jump block1(v1)`.
    case jump
    /// `brif v0, block1(v1), block2()`.
    case brif
    /// `exit pc=0x10080 [x10=v3]`: the exit state holds the pc.
    case exit
    /// `exit_indirect v5 [x10=v3]`.
    case exitIndirect
    /// `trap`.
    case trap
}

/// A type in an opcode's signature.
public enum TypeRule: Sendable, Equatable {
    /// Exactly this type.
    case fixed(IRType)
    /// The instruction's controlling type (its `.T` suffix).
    case controlling
    /// For `bitcast`: i64 if the controlling type is f64, f64 if it is i64.
    case bitcastSource
}

/// Which controlling types (`.T` suffixes) an opcode takes.
public enum ControllingTypes: Sendable, Equatable {
    /// None: the opcode is monomorphic and prints no suffix.
    case none
    /// `f32` or `f64`.
    case floats
    /// Any type.
    case any
    /// `i64` or `f64` (bitcast).
    case i64OrF64
}

/// One row of the opcode table.
public struct OpcodeInfo: Sendable {
    /// Printed name.
    public var name: String
    /// Text layout.
    public var format: InstFormat
    /// Operand types (for formats with fixed operands; calls, branches and slots check their
    /// own).
    public var operands: [TypeRule]
    /// Result type, or nil for no result.
    public var result: TypeRule?
    /// Allowed controlling types.
    public var controlling: ControllingTypes
    /// Effects (a `call`'s are its helper's: see `Function.effects(of:)`).
    public var effects: Effects
    /// What it computes, and what is undefined (may not happen in a valid program) vs.
    /// unspecified (happens, any value of the type results).
    public var doc: String

    /// The table, indexed by `Opcode.rawValue`.
    public static let table: [OpcodeInfo] = Opcode.allCases.map(OpcodeInfo.row)
    /// Opcodes by name.
    public static let byName: [String: Opcode] = {
        var names: [String: Opcode] = [:]
        for op in Opcode.allCases { names[row(op).name] = op }
        return names
    }()
}

/// Integer comparison conditions.
public enum IntCondition: UInt8, CaseIterable, Sendable {
    case eq, ne, slt, sle, sgt, sge, ult, ule, ugt, uge

    /// Printed name.
    public var name: String {
        switch self {
        case .eq: "eq"
        case .ne: "ne"
        case .slt: "slt"
        case .sle: "sle"
        case .sgt: "sgt"
        case .sge: "sge"
        case .ult: "ult"
        case .ule: "ule"
        case .ugt: "ugt"
        case .uge: "uge"
        }
    }

    /// The condition with operands swapped (`a < b` iff `b > a`).
    public var swapped: IntCondition {
        switch self {
        case .eq: .eq
        case .ne: .ne
        case .slt: .sgt
        case .sle: .sge
        case .sgt: .slt
        case .sge: .sle
        case .ult: .ugt
        case .ule: .uge
        case .ugt: .ult
        case .uge: .ule
        }
    }

    /// Evaluates the condition.
    public func holds(_ a: UInt64, _ b: UInt64) -> Bool {
        let sa = Int64(bitPattern: a), sb = Int64(bitPattern: b)
        switch self {
        case .eq: return a == b
        case .ne: return a != b
        case .slt: return sa < sb
        case .sle: return sa <= sb
        case .sgt: return sa > sb
        case .sge: return sa >= sb
        case .ult: return a < b
        case .ule: return a <= b
        case .ugt: return a > b
        case .uge: return a >= b
        }
    }
}

/// Floating-point comparison conditions. `eq lt le gt ge` are false when either operand is NaN
/// (ordered); `ne` is true when either is NaN; `uno` is true iff either is NaN, `ord` iff neither.
public enum FloatCondition: UInt8, CaseIterable, Sendable {
    case eq, ne, lt, le, gt, ge, uno, ord

    /// Printed name.
    public var name: String {
        switch self {
        case .eq: "eq"
        case .ne: "ne"
        case .lt: "lt"
        case .le: "le"
        case .gt: "gt"
        case .ge: "ge"
        case .uno: "uno"
        case .ord: "ord"
        }
    }

    /// Evaluates the condition on two doubles (singles compare exactly as doubles).
    public func holds(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .eq: return a == b
        case .ne: return !(a == b)
        case .lt: return a < b
        case .le: return a <= b
        case .gt: return a > b
        case .ge: return a >= b
        case .uno: return a.isNaN || b.isNaN
        case .ord: return !a.isNaN && !b.isNaN
        }
    }
}
