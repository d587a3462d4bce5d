/// SSE operations of the form `op xmm,xmm/mem`.
public enum X64SSEOp: CaseIterable, Sendable {
    case addss, addsd, subss, subsd, mulss, mulsd, divss, divsd
    case minss, minsd, maxss, maxsd, sqrtss, sqrtsd
    case ucomiss, ucomisd, comiss, comisd
    case andps, andpd, andnps, andnpd, orps, orpd, xorps, xorpd
    case cvtss2sd, cvtsd2ss, movaps

    /// The form `op xmm,xmm/m`.
    @inlinable
    public var form: X64Form {
        switch self {
        case .addss: .addss
        case .addsd: .addsd
        case .subss: .subss
        case .subsd: .subsd
        case .mulss: .mulss
        case .mulsd: .mulsd
        case .divss: .divss
        case .divsd: .divsd
        case .minss: .minss
        case .minsd: .minsd
        case .maxss: .maxss
        case .maxsd: .maxsd
        case .sqrtss: .sqrtss
        case .sqrtsd: .sqrtsd
        case .ucomiss: .ucomiss
        case .ucomisd: .ucomisd
        case .comiss: .comiss
        case .comisd: .comisd
        case .andps: .andps
        case .andpd: .andpd
        case .andnps: .andnps
        case .andnpd: .andnpd
        case .orps: .orps
        case .orpd: .orpd
        case .xorps: .xorps
        case .xorpd: .xorpd
        case .cvtss2sd: .cvtss2sd
        case .cvtsd2ss: .cvtsd2ss
        case .movaps: .movaps
        }
    }
}

/// Conversions from an XMM register to a general register.
public enum X64ToIntegerOp: CaseIterable, Sendable {
    /// Truncating (round toward zero), single or double.
    case cvttss2si, cvttsd2si
    /// Rounding as MXCSR.RC says, single or double.
    case cvtss2si, cvtsd2si

    /// The form `op reg,xmm/m`.
    @inlinable
    public var form: X64Form {
        switch self {
        case .cvttss2si: .cvttss2si
        case .cvttsd2si: .cvttsd2si
        case .cvtss2si: .cvtss2si
        case .cvtsd2si: .cvtsd2si
        }
    }
}

/// Builders for SSE instructions.
extension X64Instruction {
    /// `op dst,src` on XMM registers.
    @inlinable
    public static func sse(_ op: X64SSEOp, _ dst: XMMRegister, _ src: XMMRegister) -> X64Instruction {
        X64Instruction(op.form, reg: dst.rawValue, rm: .register(src.rawValue))
    }

    /// `op dst,[mem]` (`andps` and friends need 16 aligned bytes).
    @inlinable
    public static func sse(_ op: X64SSEOp, _ dst: XMMRegister, _ src: X64Memory) -> X64Instruction {
        X64Instruction(op.form, reg: dst.rawValue, rm: .memory(src))
    }

    /// `vfmadd213ss`/`vfmadd213sd dst,src1,src2` (FMA3): dst = src1 * dst + src2 with one
    /// rounding; the rest of the register is dst's (its upper YMM half zeroed).
    @inlinable
    public static func fma(double: Bool, _ dst: XMMRegister, _ src1: XMMRegister, _ src2: XMMRegister)
        -> X64Instruction
    {
        X64Instruction(double ? .vfmadd213sd : .vfmadd213ss, size: double ? .b64 : .b32, reg: dst.rawValue,
                       rm: .register(src2.rawValue), immediate: Int64(src1.rawValue))
    }

    /// `vucomiss`/`vucomisd a,b{sae}` (AVX-512): sets ZF, PF and CF as `ucomiss`/`ucomisd` do,
    /// and raises no exception flag in MXCSR, not even for a signaling NaN.
    @inlinable
    public static func ucomisWithoutExceptions(double: Bool, _ a: XMMRegister, _ b: XMMRegister) -> X64Instruction {
        X64Instruction(double ? .vucomisdSAE : .vucomissSAE, size: double ? .b64 : .b32, reg: a.rawValue,
                       rm: .register(b.rawValue))
    }

    /// `movss dst,src`: copies the low 32 bits, keeping the rest of `dst`.
    @inlinable
    public static func movss(_ dst: XMMRegister, _ src: XMMRegister) -> X64Instruction {
        X64Instruction(.movssRegRm, reg: dst.rawValue, rm: .register(src.rawValue))
    }

    /// `movss dst,DWORD PTR [mem]`: loads and zeroes the rest of `dst`.
    @inlinable
    public static func movss(_ dst: XMMRegister, _ src: X64Memory) -> X64Instruction {
        X64Instruction(.movssRegRm, reg: dst.rawValue, rm: .memory(src))
    }

    /// `movss DWORD PTR [mem],src`.
    @inlinable
    public static func movss(_ dst: X64Memory, _ src: XMMRegister) -> X64Instruction {
        X64Instruction(.movssRmReg, reg: src.rawValue, rm: .memory(dst))
    }

    /// `movsd dst,src`: copies the low 64 bits, keeping the rest of `dst`.
    @inlinable
    public static func movsd(_ dst: XMMRegister, _ src: XMMRegister) -> X64Instruction {
        X64Instruction(.movsdRegRm, reg: dst.rawValue, rm: .register(src.rawValue))
    }

    /// `movsd dst,QWORD PTR [mem]`: loads and zeroes the rest of `dst`.
    @inlinable
    public static func movsd(_ dst: XMMRegister, _ src: X64Memory) -> X64Instruction {
        X64Instruction(.movsdRegRm, reg: dst.rawValue, rm: .memory(src))
    }

    /// `movsd QWORD PTR [mem],src`.
    @inlinable
    public static func movsd(_ dst: X64Memory, _ src: XMMRegister) -> X64Instruction {
        X64Instruction(.movsdRmReg, reg: src.rawValue, rm: .memory(dst))
    }

    /// `movd`/`movq xmm,reg` (`size` 32 or 64): zeroes the rest of `dst`.
    @inlinable
    public static func movGPRToXMM(_ size: X64OperandSize, _ dst: XMMRegister, _ src: HostRegister)
        -> X64Instruction
    {
        X64Instruction(size == .b64 ? .movqRegRm : .movdRegRm, size: size, reg: dst.rawValue,
                       rm: .register(src.rawValue))
    }

    /// `movd`/`movq xmm,[mem]`.
    @inlinable
    public static func movGPRToXMM(_ size: X64OperandSize, _ dst: XMMRegister, _ src: X64Memory) -> X64Instruction {
        X64Instruction(size == .b64 ? .movqRegRm : .movdRegRm, size: size, reg: dst.rawValue, rm: .memory(src))
    }

    /// `movd`/`movq reg,xmm` (`size` 32 or 64).
    @inlinable
    public static func movXMMToGPR(_ size: X64OperandSize, _ dst: HostRegister, _ src: XMMRegister)
        -> X64Instruction
    {
        X64Instruction(size == .b64 ? .movqRmReg : .movdRmReg, size: size, reg: src.rawValue,
                       rm: .register(dst.rawValue))
    }

    /// `movd`/`movq [mem],xmm`.
    @inlinable
    public static func movXMMToGPR(_ size: X64OperandSize, _ dst: X64Memory, _ src: XMMRegister) -> X64Instruction {
        X64Instruction(size == .b64 ? .movqRmReg : .movdRmReg, size: size, reg: src.rawValue, rm: .memory(dst))
    }

    /// `cvtsi2ss`/`cvtsi2sd xmm,reg`: converts a signed `size`-bit integer (32 or 64) to single
    /// (`double: false`) or double, rounding as MXCSR.RC says.
    @inlinable
    public static func cvtsi2f(_ size: X64OperandSize, double: Bool, _ dst: XMMRegister, _ src: HostRegister)
        -> X64Instruction
    { X64Instruction(double ? .cvtsi2sd : .cvtsi2ss, size: size, reg: dst.rawValue, rm: .register(src.rawValue)) }

    /// `cvtsi2ss`/`cvtsi2sd xmm,[mem]`.
    @inlinable
    public static func cvtsi2f(_ size: X64OperandSize, double: Bool, _ dst: XMMRegister, _ src: X64Memory)
        -> X64Instruction
    { X64Instruction(double ? .cvtsi2sd : .cvtsi2ss, size: size, reg: dst.rawValue, rm: .memory(src)) }

    /// `op reg,xmm`: converts to a signed `size`-bit integer (32 or 64); out of range and NaN
    /// give the "integer indefinite" value 0x80...0.
    @inlinable
    public static func cvtf2si(_ op: X64ToIntegerOp, _ size: X64OperandSize, _ dst: HostRegister,
                                _ src: XMMRegister) -> X64Instruction
    { X64Instruction(op.form, size: size, reg: dst.rawValue, rm: .register(src.rawValue)) }

    /// `op reg,[mem]`.
    @inlinable
    public static func cvtf2si(_ op: X64ToIntegerOp, _ size: X64OperandSize, _ dst: HostRegister,
                                _ src: X64Memory) -> X64Instruction
    { X64Instruction(op.form, size: size, reg: dst.rawValue, rm: .memory(src)) }

    /// `roundss`/`roundsd xmm,xmm,control` (SSE4.1). `control` bits 1-0 pick the rounding
    /// (0 nearest even, 1 down, 2 up, 3 toward zero), bit 2 uses MXCSR.RC instead, bit 3
    /// suppresses the inexact exception.
    @inlinable
    public static func round(double: Bool, _ dst: XMMRegister, _ src: XMMRegister, control: UInt8)
        -> X64Instruction
    {
        X64Instruction(double ? .roundsd : .roundss, reg: dst.rawValue, rm: .register(src.rawValue),
                       immediate: Int64(control))
    }

    /// `roundss`/`roundsd xmm,[mem],control`.
    @inlinable
    public static func round(double: Bool, _ dst: XMMRegister, _ src: X64Memory, control: UInt8) -> X64Instruction {
        X64Instruction(double ? .roundsd : .roundss, reg: dst.rawValue, rm: .memory(src), immediate: Int64(control))
    }
}
