/// Prints instructions in the Intel syntax of GNU objdump (`objdump -d -M intel`), with single
/// spaces where objdump pads: `mov rax,QWORD PTR [rbx+0x8]`, `add eax,0xfffffff0`, `je 0x1c`.
///
/// Branch targets and RIP-relative addresses (objdump's `# 0x...` comment) depend on where the
/// instruction sits, hence the `address` parameter.
public enum X64Printer {
    /// The text of `inst` placed at `address`.
    public static func text(_ inst: X64Instruction, address: UInt64 = 0) -> String {
        let row = inst.form.row
        var text = inst.isLocked ? "lock " : ""
        text += "\(row.mnemonic)"
        if row.flags.contains(.conditional) { text += inst.condition.suffix }
        let operands = row.operandList.map { operand($0, of: inst, address: address) }
        if !operands.isEmpty { text += " " + operands.joined(separator: ",") }
        if row.flags.contains(.evexSAE) { text += "{sae}" }
        if row.hasRm, case .memory(let m) = inst.rm, m.base == .rip {
            let next = address &+ UInt64(inst.length)
            text += " # 0x" + hex(next &+ UInt64(bitPattern: Int64(m.displacement)))
        }
        return text
    }

    private static func operand(_ kind: X64OperandKind, of inst: X64Instruction, address: UInt64) -> String {
        let size = inst.size
        switch kind {
        case .none: return ""
        case .reg, .opReg: return gpr(inst.reg, size)
        case .acc: return HostRegister.rax.name(size)
        case .cl: return "cl"
        case .rm: return gprOrMemory(inst.rm, size)
        case .rm8: return gprOrMemory(inst.rm, .b8)
        case .rm16: return gprOrMemory(inst.rm, .b16)
        case .rm32: return gprOrMemory(inst.rm, .b32)
        case .mem:
            guard case .memory(let m) = inst.rm else { return "?" }
            return memory(m)
        case .mem32:
            guard case .memory(let m) = inst.rm else { return "?" }
            return "DWORD PTR " + memory(m)
        case .xreg: return "xmm\(inst.reg)"
        case .xvex: return "xmm\(inst.immediate)"
        case .xrm32: return xmmOrMemory(inst.rm, "DWORD")
        case .xrm64: return xmmOrMemory(inst.rm, "QWORD")
        case .xrm128: return xmmOrMemory(inst.rm, "XMMWORD")
        case .imm8, .immZ, .immV: return "0x" + hex(truncated(inst.immediate, size))
        case .uimm8: return "0x" + hex(UInt64(inst.immediate & 0xFF))
        case .rel8, .rel32:
            let next = address &+ UInt64(inst.length)
            return "0x" + hex(next &+ UInt64(bitPattern: inst.immediate))
        }
    }

    private static func gpr(_ number: UInt8, _ size: X64OperandSize) -> String {
        HostRegister(rawValue: number & 15)!.name(size)
    }

    private static func gprOrMemory(_ rm: X64RM, _ size: X64OperandSize) -> String {
        switch rm {
        case .register(let r): gpr(r, size)
        case .memory(let m): size.pointerName + " PTR " + memory(m)
        }
    }

    private static func xmmOrMemory(_ rm: X64RM, _ pointerName: String) -> String {
        switch rm {
        case .register(let r): "xmm\(r)"
        case .memory(let m): pointerName + " PTR " + memory(m)
        }
    }

    /// A memory operand as objdump prints it: `[base+index*scale+disp]`, `ds:0x...` for an
    /// absolute address, `[rip+0x...]` with the displacement as an unsigned 64-bit number.
    public static func memory(_ m: X64Memory) -> String {
        let index = m.index.map { $0.name(.b64) + "*\(m.scale.factor)" }
        switch m.base {
        case .rip:
            return "[rip+0x" + hex(UInt64(bitPattern: Int64(m.displacement))) + "]"
        case .none:
            guard let index else { return "ds:0x" + hex(UInt64(bitPattern: Int64(m.displacement))) }
            return "[" + index + signed(m.displacement) + "]"
        case .register(let base):
            var text = "[" + base.name(.b64)
            if let index { text += "+" + index }
            if m.encodedDisplacementBytes > 0 { text += signed(m.displacement) }
            return text + "]"
        }
    }

    private static func signed(_ value: Int32) -> String {
        value < 0 ? "-0x" + hex(UInt64(-Int64(value))) : "+0x" + hex(UInt64(value))
    }

    /// `value` reduced to the low `size` bits, as objdump shows sign-extended immediates.
    private static func truncated(_ value: Int64, _ size: X64OperandSize) -> UInt64 {
        let bits = UInt64(bitPattern: value)
        return size == .b64 ? bits : bits & ((1 << UInt64(size.bits)) - 1)
    }

    private static func hex(_ value: UInt64) -> String { String(value, radix: 16) }
}
