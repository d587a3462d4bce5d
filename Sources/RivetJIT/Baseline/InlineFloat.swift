import RivetISA
import RivetMachine
import RivetX64

// Tier 1's F and D arithmetic at hardware speed: SSE for the operations that round to nearest,
// ties to even, with RISC-V's results and flags; everything else through `FloatHelpers`.
//
// - Modes: an instruction whose static mode is `rne` runs inline; one with `dyn` checks that
//   `frm` is 0 (`test fcsr, 0xe0`) and takes the helper call otherwise. Other static modes
//   always call the helper.
// - Singles: both operands must be NaN-boxed (upper 32 bits all ones), else the helper call
//   (which reads an unboxed operand as the canonical NaN). Results are boxed.
// - NaNs: x86 gives a negative default NaN or keeps an operand's payload; after each
//   arithmetic operation `ucomisd x, x; jnp` finds a NaN and puts the canonical one in its place.
// - Flags: MXCSR accumulates the flags x86 raises; the code ORs them, mapped to RISC-V's bits
//   through a table (`flagTable`), into `fcsr` (`foldFloatFlags`) after a run of inline
//   operations, before the first instruction that could read `fcsr` or leave without folding:
//   a helper call, a CSR access, the block's last instruction (`keepsFloatFlagsUnfolded`).
//   Exits from inside the block (a range check's) fold in their shared tail; a host fault's
//   handler saves MXCSR and the engine folds it. (`stmxcsr` waits for every SSE operation
//   before it: after each operation, it took fp64's n-body loop from 2.70 to 2.92 s.) For
//   that, MXCSR's flags must be flags this guest's inline operations raised: JIT code clears
//   them (`ldmxcsr` of 0x1f80) when it is entered (the trampoline, `JITRuntime`) and after
//   every call out of a block (helpers, float helpers, the ecall handler), where host code may
//   have raised its own, and folds before such a call. Folding flags already in `fcsr` again
//   changes nothing; a guest write of `fflags` goes through a helper or the interpreter,
//   after which the flags are cleared.
// - x86 and RISC-V agree on the rest with exceptions masked: tininess after rounding, underflow
//   only when also inexact, `comisd` signalling on any NaN (`flt`, `fle`) and `ucomisd` only on
//   a signalling one (`feq`).

extension BlockTranslator {
    /// RISC-V's flags for the low byte of MXCSR (its exception flags in bits 0-5; the denormal
    /// flag and the masks above ignored): invalid → NV, divide by zero → DZ, overflow → OF,
    /// underflow → UF, precision → NX. Its address: allocated once, never freed or written again.
    static let flagTable: UInt = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for mxcsr in 0..<256 {
            var flags: UInt8 = 0
            if mxcsr & 0x01 != 0 { flags |= 0x10 }
            if mxcsr & 0x04 != 0 { flags |= 0x08 }
            if mxcsr & 0x08 != 0 { flags |= 0x04 }
            if mxcsr & 0x10 != 0 { flags |= 0x02 }
            if mxcsr & 0x20 != 0 { flags |= 0x01 }
            table[mxcsr] = flags
        }
        return UInt(bitPattern: table)
    }()

    /// MXCSR as JIT code runs: every exception masked, round to nearest, no flush to zero, no
    /// flags.
    static let cleanMXCSR: Int32 = 0x1f80

    /// Clears MXCSR's flags (after a call out of JIT code).
    mutating func clearFloatFlags() {
        assembler.emit(.mov(.b32, slot(HartState.Slot.mxcsr), imm: Self.cleanMXCSR))
        assembler.emit(.ldmxcsr(slot(HartState.Slot.mxcsr)))
    }

    /// ORs MXCSR's flags, as RISC-V's, into `fcsr`. Clobbers rax, rdx and the flags.
    mutating func foldFloatFlags() {
        let mxcsr = slot(HartState.Slot.mxcsr)
        assembler.emit(.stmxcsr(mxcsr))
        assembler.emit(.movzx(.b32, .rax, mxcsr, from: .b8))
        assembler.emit(.loadConstant(.rdx, UInt64(Self.flagTable)))
        assembler.emit(.movzx(.b32, .rdx, .at(.rdx, index: .rax), from: .b8))
        assembler.emit(.alu(.or, .b32, slot(HartState.Slot.fcsr), .rdx))
    }

    /// Whether flags inline operations raised may stay in MXCSR across `i`: it neither calls out
    /// of the block nor reads `fcsr`, and leaves it (if at all) through a shared tail or a host
    /// fault, which fold them. Before any other instruction the block folds them.
    static func keepsFloatFlagsUnfolded(_ i: Instruction) -> Bool {
        if i.endsBlock { return false }
        if hasInlineFloat(i) { return true }
        switch i.opcode {
        case .fsgnj_d, .fsgnjn_d, .fsgnjx_d, .fmv_x_d, .fmv_d_x, .fli_s, .fli_d: return true
        default: break
        }
        switch i.opcode.format {
        case .r, .i, .load, .shift64, .shift32, .u, .s, .fload, .fstore, .unary: return true
        default: return false
        }
    }

    /// The SSE operation of an inline arithmetic instruction and whether it works on singles.
    private static func inlineArithmetic(_ opcode: Opcode) -> (op: X64SSEOp, single: Bool)? {
        switch opcode {
        case .fadd_d: (.addsd, false)
        case .fsub_d: (.subsd, false)
        case .fmul_d: (.mulsd, false)
        case .fdiv_d: (.divsd, false)
        case .fsqrt_d: (.sqrtsd, false)
        case .fadd_s: (.addss, true)
        case .fsub_s: (.subss, true)
        case .fmul_s: (.mulss, true)
        case .fdiv_s: (.divss, true)
        case .fsqrt_s: (.sqrtss, true)
        default: nil
        }
    }

    /// Whether `i` runs inline (`emitInlineFloat`) rather than only through its helper.
    static func hasInlineFloat(_ i: Instruction) -> Bool {
        switch i.opcode {
        case .feq_d, .flt_d, .fle_d, .feq_s, .flt_s, .fle_s, .fmv_x_w, .fmv_w_x:
            return true
        default:
            guard inlineArithmetic(i.opcode) != nil else { return false }
            return i.rm == RoundingMode.rne.rawValue || i.rm == RoundingMode.dyn.rawValue
        }
    }

    /// Emits `i` (instruction `k`) inline where `hasInlineFloat` says so, with the helper call
    /// (`emitFloatCall`) as the way out where the mode is not `rne` or a single is not boxed.
    mutating func emitInlineFloat(_ i: Instruction, function: FloatFunction, shape: FloatShape, index k: Int) {
        switch i.opcode {
        case .fmv_x_w:
            // rd = the low 32 bits of rs1, sign-extended.
            if i.rd != 0 {
                assembler.emit(.movsx(.b64, .rax, f(i.rs1), from: .b32))
                storeResult(i.rd)
            }
            return
        case .fmv_w_x:
            load(.rax, i.rs1)
            assembler.emit(.mov(.b32, f(i.rd), .rax))
            assembler.emit(.mov(.b32, upperHalf(i.rd), imm: -1))
            return
        default:
            break
        }
        let slow = assembler.newLabel(), done = assembler.newLabel()
        var needsSlow = false
        let single: Bool
        if let (op, isSingle) = Self.inlineArithmetic(i.opcode) {
            single = isSingle
            if i.rm == RoundingMode.dyn.rawValue {
                assembler.emit(.test(.b32, slot(HartState.Slot.fcsr), imm: 0xe0))
                assembler.jcc(.ne, to: slow)
                needsSlow = true
            }
            let unary = i.opcode == .fsqrt_d || i.opcode == .fsqrt_s
            if single {
                checkBoxed(i.rs1, else: slow)
                if !unary { checkBoxed(i.rs2, else: slow) }
                needsSlow = true
            }
            if unary {
                assembler.emit(.sse(op, .xmm0, f(i.rs1)))
            } else {
                if single { assembler.emit(.movss(.xmm0, f(i.rs1))) } else { assembler.emit(.movsd(.xmm0, f(i.rs1))) }
                assembler.emit(.sse(op, .xmm0, f(i.rs2)))
            }
            // The canonical NaN for any NaN result.
            let number = assembler.newLabel()
            assembler.emit(.sse(single ? .ucomiss : .ucomisd, .xmm0, .xmm0))
            assembler.jcc(.np, to: number, short: true)
            assembler.emit(.loadConstant(.rax, single ? UInt64(SoftFloat.canonicalNaN32) : SoftFloat.canonicalNaN64))
            assembler.emit(.movGPRToXMM(.b64, .xmm0, .rax))
            assembler.bind(number)
            if single {
                assembler.emit(.movss(f(i.rd), .xmm0))
                assembler.emit(.mov(.b32, upperHalf(i.rd), imm: -1))
            } else {
                assembler.emit(.movsd(f(i.rd), .xmm0))
            }
        } else {
            // Comparisons, into an integer register.
            single = i.opcode == .feq_s || i.opcode == .flt_s || i.opcode == .fle_s
            if single {
                checkBoxed(i.rs1, else: slow)
                checkBoxed(i.rs2, else: slow)
                needsSlow = true
            }
            let load: (XMMRegister, X64Memory) -> X64Instruction = single ? { .movss($0, $1) } : { .movsd($0, $1) }
            switch i.opcode {
            case .feq_d, .feq_s:
                // Equal and ordered: ZF = 1, PF = 0.
                assembler.emit(load(.xmm0, f(i.rs1)))
                assembler.emit(.sse(single ? .ucomiss : .ucomisd, .xmm0, f(i.rs2)))
                assembler.emit(.setcc(.e, .rax))
                assembler.emit(.setcc(.np, .rcx))
                assembler.emit(.alu(.and, .b32, .rax, .rcx))
            case .flt_d, .flt_s:
                // rs2 > rs1: CF = 0 and ZF = 0, which an unordered result (all set) is not.
                assembler.emit(load(.xmm0, f(i.rs2)))
                assembler.emit(.sse(single ? .comiss : .comisd, .xmm0, f(i.rs1)))
                assembler.emit(.setcc(.a, .rax))
            default:  // fle
                // rs2 >= rs1: CF = 0.
                assembler.emit(load(.xmm0, f(i.rs2)))
                assembler.emit(.sse(single ? .comiss : .comisd, .xmm0, f(i.rs1)))
                assembler.emit(.setcc(.ae, .rax))
            }
            assembler.emit(.movzx(.b32, .rax, .rax, from: .b8))
            storeResult(i.rd)
        }
        if needsSlow {
            assembler.jmp(to: done)
            assembler.bind(slow)
            // The helper's call clears MXCSR: what earlier operations raised goes to fcsr first.
            foldFloatFlags()
            emitFloatCall(i, function: function, shape: shape, index: k)
            assembler.bind(done)
        }
        floatFlagsUnfolded = true
    }

    /// The upper 32 bits of f register `r` (a single's box).
    private func upperHalf(_ r: UInt8) -> X64Memory { .at(Pinned.state, Int32(8 * (HartState.Slot.f + Int(r)) + 4)) }

    /// Jumps to `slow` unless f register `r` holds a NaN-boxed single.
    private mutating func checkBoxed(_ r: UInt8, else slow: X64Label) {
        assembler.emit(.alu(.cmp, .b32, upperHalf(r), imm: -1))
        assembler.jcc(.ne, to: slow)
    }
}
