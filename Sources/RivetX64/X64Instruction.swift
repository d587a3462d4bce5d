/// One x86-64 instruction: a form and its operands, ready to encode or print.
///
/// Fields are by role in the encoding, not by position: `reg` is the register in ModRM.reg or
/// in the opcode, `rm` the ModRM.rm operand, `immediate` the immediate or branch displacement.
/// Fields the form does not use are ignored. The static builders (`alu`, `mov`, ...) pick the
/// form from the operand types and choose the shortest immediate encoding.
public struct X64Instruction: Hashable, Sendable {
    /// The form, which fixes opcode and operand kinds.
    public var form: X64Form
    /// The operand-size attribute (`.b32` for forms without general-register operands).
    public var size: X64OperandSize
    /// The condition of `jcc`, `setcc`, `cmovcc`; ignored by other forms.
    public var condition: X64Condition
    /// Whether a `lock` prefix precedes the instruction.
    public var isLocked: Bool
    /// The register number in ModRM.reg or in the opcode (general or XMM, as the form says).
    public var reg: UInt8
    /// The ModRM.rm operand.
    public var rm: X64RM
    /// The immediate, or the branch displacement counted from the end of the instruction.
    public var immediate: Int64

    /// Creates an instruction from its raw parts; the encoder checks them against the form.
    @inline(__always)
    @inlinable
    public init(
        _ form: X64Form, size: X64OperandSize = .b32, condition: X64Condition = .o, reg: UInt8 = 0,
        rm: X64RM = .register(0), immediate: Int64 = 0, isLocked: Bool = false
    ) {
        self.form = form
        self.size = size
        self.condition = condition
        self.isLocked = isLocked
        self.reg = reg
        self.rm = rm
        self.immediate = immediate
    }

    /// The same instruction with a `lock` prefix; the form must allow it and write memory.
    @inlinable
    public var locked: X64Instruction {
        precondition(form.row.flags.contains(.lockable) && rm.memory != nil,
                     "lock needs a lockable form with a memory destination")
        var copy = self
        copy.isLocked = true
        return copy
    }

    /// The encoded length in bytes (1-15).
    @inlinable
    public var length: Int {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: X64Encoder.room) { scratch in
            X64Encoder.encode(self, into: scratch.baseAddress!).length
        }
    }

    /// The encoded bytes (allocates: for tests and tools, not for the JIT).
    @inlinable
    public var bytes: [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: X64Encoder.room) { scratch in
            let n = X64Encoder.encode(self, into: scratch.baseAddress!).length
            return Array(scratch.prefix(n))
        }
    }
}

extension X64Instruction: CustomStringConvertible {
    /// The instruction in GNU objdump's Intel syntax, as if placed at address 0.
    @inlinable
    public var description: String { X64Printer.text(self) }
}
