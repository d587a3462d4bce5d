import RivetISA
import RivetMachine
import RivetX64

// Tier 1's F and D arithmetic at hardware speed: SSE (and FMA3) for the operations that round
// to nearest, ties to even, or do not round, with RISC-V's results and flags; everything else
// through `FloatHelpers` (`inlineFloat` says which).
//
// - Inline: add, sub, mul, div, sqrt; feq, flt, fle; conversions from words and longs (not
//   unsigned longs), between singles and doubles, and to words and longs toward zero (`rtz`,
//   C's casts; `cvttsd2si`'s "integer indefinite" becomes RISC-V's saturated value); the fused
//   multiply-adds on a host with FMA3 (`RIVET_NO_FMA` turns them off, as in tier 2); single
//   sign injection and moves.
// - Modes: an operation that rounds runs inline with the static mode `rne`, or with `dyn` after
//   checking that `frm` is 0 (`test fcsr, 0xe0`), and calls the helper otherwise. Those that
//   cannot round (a word to a double, a single to a double) run inline with any valid static
//   mode, and with `dyn` after the same check (an invalid `frm` makes them illegal).
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
    /// RISC-V's flags for the low byte of MXCSR (`Tier2Backend.riscvFlags`: the exception
    /// flags in bits 0-5, the denormal flag and the masks above ignored). Its address:
    /// allocated once, never freed or written again.
    static let flagTable: UInt = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for mxcsr in 0..<256 { table[mxcsr] = UInt8(Tier2Backend.riscvFlags(mxcsr: UInt64(mxcsr))) }
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

    /// How tier 1 runs an F/D instruction inline.
    enum InlineFloat {
        /// add, sub, mul, div (and sqrt, `unary`): `op` on xmm0.
        case arithmetic(X64SSEOp, single: Bool, unary: Bool)
        /// feq, flt, fle, into an integer register.
        case compare(single: Bool)
        /// fcvt from an integer: a word (sign- or zero-extended) or a long, to a double or a single.
        case fromInteger(signedWord: Bool, unsignedWord: Bool, single: Bool)
        /// fcvt.d.s, fcvt.s.d.
        case promote, demote
        /// fcvt.w/l from a double or single toward zero (`rtz`).
        case truncate(single: Bool, wide: Bool)
        /// fmadd, fmsub, fnmsub, fnmadd (FMA3): a·b + c with a and c negated as the form says.
        case fused(single: Bool, negateProduct: Bool, negateAddend: Bool)
        /// fsgnj.s, fsgnjn.s, fsgnjx.s.
        case signInjection(X64ALUOp?, negate: Bool)
        /// fmv.x.w, fmv.w.x.
        case moveToInteger, moveFromInteger
    }

    /// How `i` runs inline, or nil if only through its helper: the rounding modes each form
    /// needs (see the header), FMA3 for the fused forms.
    static func inlineFloat(_ i: Instruction) -> InlineFloat? {
        let kind: InlineFloat
        var rounds = true
        switch i.opcode {
        case .fadd_d: kind = .arithmetic(.addsd, single: false, unary: false)
        case .fsub_d: kind = .arithmetic(.subsd, single: false, unary: false)
        case .fmul_d: kind = .arithmetic(.mulsd, single: false, unary: false)
        case .fdiv_d: kind = .arithmetic(.divsd, single: false, unary: false)
        case .fsqrt_d: kind = .arithmetic(.sqrtsd, single: false, unary: true)
        case .fadd_s: kind = .arithmetic(.addss, single: true, unary: false)
        case .fsub_s: kind = .arithmetic(.subss, single: true, unary: false)
        case .fmul_s: kind = .arithmetic(.mulss, single: true, unary: false)
        case .fdiv_s: kind = .arithmetic(.divss, single: true, unary: false)
        case .fsqrt_s: kind = .arithmetic(.sqrtss, single: true, unary: true)
        case .feq_d, .flt_d, .fle_d: kind = .compare(single: false); rounds = false
        case .feq_s, .flt_s, .fle_s: kind = .compare(single: true); rounds = false
        // A word converts to a double exactly, in any mode.
        case .fcvt_d_w: kind = .fromInteger(signedWord: true, unsignedWord: false, single: false); rounds = false
        case .fcvt_d_wu: kind = .fromInteger(signedWord: false, unsignedWord: true, single: false); rounds = false
        case .fcvt_d_l: kind = .fromInteger(signedWord: false, unsignedWord: false, single: false)
        case .fcvt_s_w: kind = .fromInteger(signedWord: true, unsignedWord: false, single: true)
        case .fcvt_s_wu: kind = .fromInteger(signedWord: false, unsignedWord: true, single: true)
        case .fcvt_s_l: kind = .fromInteger(signedWord: false, unsignedWord: false, single: true)
        case .fcvt_d_s: kind = .promote; rounds = false
        case .fcvt_s_d: kind = .demote
        case .fcvt_w_d, .fcvt_l_d, .fcvt_w_s, .fcvt_l_s:
            guard i.rm == RoundingMode.rtz.rawValue else { return nil }
            return .truncate(single: i.opcode == .fcvt_w_s || i.opcode == .fcvt_l_s,
                             wide: i.opcode == .fcvt_l_d || i.opcode == .fcvt_l_s)
        case .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d, .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s:
            guard Tier2Backend.hostHasFMA else { return nil }
            // fmsub = a·b - c, fnmsub = -(a·b) + c, fnmadd = -(a·b) - c.
            let (single, negateProduct, negateAddend): (Bool, Bool, Bool) =
                switch i.opcode {
                case .fmadd_d: (false, false, false)
                case .fmsub_d: (false, false, true)
                case .fnmsub_d: (false, true, false)
                case .fnmadd_d: (false, true, true)
                case .fmadd_s: (true, false, false)
                case .fmsub_s: (true, false, true)
                case .fnmsub_s: (true, true, false)
                default: (true, true, true)
                }
            kind = .fused(single: single, negateProduct: negateProduct, negateAddend: negateAddend)
        case .fsgnj_s: kind = .signInjection(nil, negate: false); rounds = false
        case .fsgnjn_s: kind = .signInjection(nil, negate: true); rounds = false
        case .fsgnjx_s: kind = .signInjection(.xor, negate: false); rounds = false
        case .fmv_x_w: kind = .moveToInteger; rounds = false
        case .fmv_w_x: kind = .moveFromInteger; rounds = false
        default: return nil
        }
        // A static mode: `rne` for an operation that rounds, any valid one for one that cannot
        // (`dyn` is checked as the code runs).
        if i.opcode.format.hasRoundingMode && i.rm != RoundingMode.dyn.rawValue {
            if rounds ? i.rm != RoundingMode.rne.rawValue : i.rm > RoundingMode.rmm.rawValue { return nil }
        }
        return kind
    }

    /// Whether `i` runs inline (`emitInlineFloat`) rather than only through its helper.
    static func hasInlineFloat(_ i: Instruction) -> Bool { inlineFloat(i) != nil }

    /// Emits `i` (instruction `k`) inline as `inlineFloat` says, with the helper call
    /// (`emitFloatCall`) as the way out where the mode is `dyn` and `frm` is not `rne`, or a
    /// single operand is not NaN-boxed; only the helper call when `inlineFloat` says nil.
    mutating func emitInlineFloat(_ i: Instruction, function: FloatFunction, shape: FloatShape, index k: Int) {
        guard let kind = Self.inlineFloat(i) else { return emitFloatCall(i, function: function, shape: shape, index: k) }
        let slow = assembler.newLabel(), done = assembler.newLabel()
        var needsSlow = false
        // The dynamic mode must be round to nearest, ties to even (frm = 0); even for an
        // operation that cannot round, an invalid frm makes it illegal (the helper's way).
        func checkMode() {
            guard i.opcode.format.hasRoundingMode, i.rm == RoundingMode.dyn.rawValue else { return }
            assembler.emit(.test(.b32, slot(HartState.Slot.fcsr), imm: 0xe0))
            assembler.jcc(.ne, to: slow)
            needsSlow = true
        }
        func boxed(_ registers: UInt8...) {
            for r in registers { checkBoxed(r, else: slow) }
            needsSlow = true
        }
        switch kind {
        case .moveToInteger:
            // rd = the low 32 bits of rs1, sign-extended.
            if i.rd != 0 {
                assembler.emit(.movsx(.b64, .rax, f(i.rs1), from: .b32))
                storeResult(i.rd)
            }
            return
        case .moveFromInteger:
            load(.rax, i.rs1)
            assembler.emit(.mov(.b32, f(i.rd), .rax))
            assembler.emit(.mov(.b32, upperHalf(i.rd), imm: -1))
            return
        default:
            break
        }
        checkMode()
        switch kind {
        case .moveToInteger, .moveFromInteger:
            break
        case .signInjection(let op, let negate):
            boxed(i.rs1, i.rs2)
            assembler.emit(.mov(.b32, .rax, f(i.rs1)))
            assembler.emit(.mov(.b32, .rcx, f(i.rs2)))
            if negate { assembler.emit(.unary(.not, .b32, .rcx)) }
            assembler.emit(.alu(.and, .b32, .rcx, imm: Int32.min))
            if op == nil { assembler.emit(.alu(.and, .b32, .rax, imm: Int32.max)) }
            assembler.emit(.alu(op == nil ? .or : .xor, .b32, .rax, .rcx))
            storeSingle(i.rd, from: .rax)
        case .arithmetic(let op, let single, let unary):
            if single { if unary { boxed(i.rs1) } else { boxed(i.rs1, i.rs2) } }
            if unary {
                assembler.emit(.sse(op, .xmm0, f(i.rs1)))
            } else {
                loadFloat(.xmm0, i.rs1, single: single)
                assembler.emit(.sse(op, .xmm0, f(i.rs2)))
            }
            storeFloatResult(i.rd, single: single)
        case .compare(let single):
            if single { boxed(i.rs1, i.rs2) }
            floatCompare(i, single: single)
        case .fromInteger(let signedWord, let unsignedWord, let single):
            load(.rax, i.rs1)
            if signedWord { assembler.emit(.movsx(.b64, .rax, .rax, from: .b32)) }
            if unsignedWord { assembler.emit(.mov(.b32, .rax, .rax)) }
            // xorps first: cvtsi2sd keeps the rest of the register (a false dependency).
            assembler.emit(.sse(.xorps, .xmm0, .xmm0))
            assembler.emit(.cvtsi2f(.b64, double: !single, .xmm0, .rax))
            if single { storeSingle(i.rd, from: .xmm0) } else { assembler.emit(.movsd(f(i.rd), .xmm0)) }
        case .promote:
            boxed(i.rs1)
            assembler.emit(.sse(.cvtss2sd, .xmm0, f(i.rs1)))
            storeFloatResult(i.rd, single: false)
        case .demote:
            assembler.emit(.sse(.cvtsd2ss, .xmm0, f(i.rs1)))
            storeFloatResult(i.rd, single: true)
        case .truncate(let single, let wide):
            if single { boxed(i.rs1) }
            truncate(i, single: single, wide: wide)
        case .fused(let single, let negateProduct, let negateAddend):
            if single { boxed(i.rs1, i.rs2, i.rs3) }
            fused(i, single: single, negateProduct: negateProduct, negateAddend: negateAddend)
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

    /// `fflags`, `frm` and `fcsr` read and written inline (as `JITHelpers.csr` does) instead of
    /// through the helper: GCC brackets quiet comparisons with `frflags`/`fsflags`, and in
    /// fp64's loop the helper's calls were 9% of the time under `baseline`. The block has folded
    /// MXCSR's flags before (a CSR access is not `keepsFloatFlagsUnfolded`); a write that may
    /// clear flags clears MXCSR's too, or a later fold would bring them back. Returns false
    /// for other CSRs.
    mutating func emitFloatCSR(_ i: Instruction) -> Bool {
        guard let csr = CSR(rawValue: UInt32(truncatingIfNeeded: i.imm) & 0xfff), csr == .fflags || csr == .frm || csr == .fcsr
        else { return false }
        let immediate = i.opcode == .csrrwi || i.opcode == .csrrsi || i.opcode == .csrrci
        let kind = i.opcode == .csrrw || i.opcode == .csrrwi ? 0 : i.opcode == .csrrs || i.opcode == .csrrsi ? 1 : 2
        let writes = kind == 0 || i.rs1 != 0
        let fcsr = slot(HartState.Slot.fcsr)
        // The whole register in edx, the old value of the CSR in eax.
        assembler.emit(.mov(.b32, .rdx, fcsr))
        assembler.emit(.mov(.b32, .rax, .rdx))
        switch csr {
        case .fflags: assembler.emit(.alu(.and, .b32, .rax, imm: 0x1f))
        case .frm:
            assembler.emit(.shift(.shr, .b32, .rax, 5))
            assembler.emit(.alu(.and, .b32, .rax, imm: 7))
        default: assembler.emit(.alu(.and, .b32, .rax, imm: 0xff))
        }
        if writes {
            // The new value in ecx.
            if immediate { assembler.emit(.mov(.b32, .rcx, imm: Int64(i.rs1))) } else { load(.rcx, i.rs1) }
            switch kind {
            case 1: assembler.emit(.alu(.or, .b64, .rcx, .rax))
            case 2:
                assembler.emit(.unary(.not, .b64, .rcx))
                assembler.emit(.alu(.and, .b64, .rcx, .rax))
            default: break
            }
            switch csr {
            case .fflags:
                assembler.emit(.alu(.and, .b32, .rcx, imm: 0x1f))
                assembler.emit(.alu(.and, .b32, .rdx, imm: ~0x1f))
                assembler.emit(.alu(.or, .b32, .rdx, .rcx))
            case .frm:
                assembler.emit(.alu(.and, .b32, .rcx, imm: 7))
                assembler.emit(.shift(.shl, .b32, .rcx, 5))
                assembler.emit(.alu(.and, .b32, .rdx, imm: 0x1f))
                assembler.emit(.alu(.or, .b32, .rdx, .rcx))
            default:
                assembler.emit(.alu(.and, .b32, .rcx, imm: 0xff))
                assembler.emit(.mov(.b32, .rdx, .rcx))
            }
            assembler.emit(.mov(.b64, fcsr, .rdx))
            if csr != .frm && kind != 1 { clearFloatFlags() }
        }
        storeResult(i.rd)
        return true
    }

    /// feq, flt or fle into rd. feq compares rs1 with rs2 (equal and ordered: ZF = 1, PF = 0);
    /// flt and fle compare rs2 with rs1 (rs2 > rs1: CF = 0 and ZF = 0, which an unordered
    /// result, all set, is not; rs2 >= rs1: CF = 0). `ucomis` signals only on a signaling NaN
    /// (feq), `comis` on any NaN (flt, fle). `silent` (the compare of a silent compare,
    /// `frflags t; feq/flt/fle rd, a, b; fsflags t`, as tier 2's `fcmp_silent`; AVX-512 hosts
    /// only): `vucomis {sae}`, which raises no flag, so that neither the `fsflags` nor a
    /// clearing of MXCSR after it is needed (tier 1 folded MXCSR for the `frflags`; then an
    /// `ldmxcsr` cleared it after the compare, which on an Intel host waits for that `stmxcsr`).
    mutating func floatCompare(_ i: Instruction, single: Bool, silent: Bool = false) {
        let isEqual = i.opcode == .feq_d || i.opcode == .feq_s
        let (first, second) = isEqual ? (i.rs1, i.rs2) : (i.rs2, i.rs1)
        loadFloat(.xmm0, first, single: single)
        if silent {
            loadFloat(.xmm1, second, single: single)
            assembler.emit(.ucomisWithoutExceptions(double: !single, .xmm0, .xmm1))
        } else {
            let op: X64SSEOp = isEqual ? (single ? .ucomiss : .ucomisd) : (single ? .comiss : .comisd)
            assembler.emit(.sse(op, .xmm0, f(second)))
        }
        switch i.opcode {
        case .feq_d, .feq_s:
            assembler.emit(.setcc(.e, .rax))
            assembler.emit(.setcc(.np, .rcx))
            assembler.emit(.alu(.and, .b32, .rax, .rcx))
        case .flt_d, .flt_s: assembler.emit(.setcc(.a, .rax))
        default: assembler.emit(.setcc(.ae, .rax))
        }
        assembler.emit(.movzx(.b32, .rax, .rax, from: .b8))
        storeResult(i.rd)
    }

    /// Loads f register `r` into `x`: a single's 32 bits or a double's 64.
    private mutating func loadFloat(_ x: XMMRegister, _ r: UInt8, single: Bool) {
        assembler.emit(single ? .movss(x, f(r)) : .movsd(x, f(r)))
    }

    /// Stores xmm0 to f register `rd`, the canonical NaN for any NaN, a single boxed.
    private mutating func storeFloatResult(_ rd: UInt8, single: Bool) {
        let number = assembler.newLabel()
        assembler.emit(.sse(single ? .ucomiss : .ucomisd, .xmm0, .xmm0))
        assembler.jcc(.np, to: number, short: true)
        assembler.emit(.loadConstant(.rax, single ? UInt64(SoftFloat.canonicalNaN32) : SoftFloat.canonicalNaN64))
        assembler.emit(.movGPRToXMM(.b64, .xmm0, .rax))
        assembler.bind(number)
        if single { storeSingle(rd, from: .xmm0) } else { assembler.emit(.movsd(f(rd), .xmm0)) }
    }

    /// Stores a single, boxed, to f register `rd` from the low 32 bits of `x`.
    private mutating func storeSingle(_ rd: UInt8, from x: XMMRegister) {
        assembler.emit(.movss(f(rd), x))
        assembler.emit(.mov(.b32, upperHalf(rd), imm: -1))
    }

    /// Stores a single, boxed, to f register `rd` from the low 32 bits of `r`.
    private mutating func storeSingle(_ rd: UInt8, from r: HostRegister) {
        assembler.emit(.mov(.b32, f(rd), r))
        assembler.emit(.mov(.b32, upperHalf(rd), imm: -1))
    }

    /// fcvt.w/l toward zero: `cvttsd2si` gives the "integer indefinite" value 0x80...0 with
    /// invalid for NaN and out-of-range operands; RISC-V saturates, so the indefinite value of a
    /// NaN or a positive operand becomes the largest integer (a negative one, or exactly the
    /// smallest integer, stays). A word is sign-extended.
    private mutating func truncate(_ i: Instruction, single: Bool, wide: Bool) {
        let size: X64OperandSize = wide ? .b64 : .b32
        let done = assembler.newLabel(), largest = assembler.newLabel()
        loadFloat(.xmm0, i.rs1, single: single)
        assembler.emit(.cvtf2si(single ? .cvttss2si : .cvttsd2si, size, .rax, .xmm0))
        if wide {
            assembler.emit(.loadConstant(.rdx, 1 << 63))
            assembler.emit(.alu(.cmp, .b64, .rax, .rdx))
        } else {
            assembler.emit(.alu(.cmp, .b32, .rax, imm: Int32.min))
        }
        assembler.jcc(.ne, to: done)
        assembler.emit(.sse(single ? .ucomiss : .ucomisd, .xmm0, .xmm0))
        assembler.jcc(.p, to: largest)
        assembler.emit(.movXMMToGPR(single ? .b32 : .b64, .rcx, .xmm0))
        assembler.emit(.test(single ? .b32 : .b64, .rcx, .rcx))
        assembler.jcc(.s, to: done)
        assembler.bind(largest)
        if wide {
            assembler.emit(.loadConstant(.rax, UInt64(Int64.max)))
        } else {
            assembler.emit(.mov(.b32, .rax, imm: Int64(Int32.max)))
        }
        assembler.bind(done)
        if !wide { assembler.emit(.movsx(.b64, .rax, .rax, from: .b32)) }
        storeResult(i.rd)
    }

    /// a·b + c with one rounding (`vfmadd213sd`: xmm0 = xmm1·xmm0 + xmm2 with a in xmm0, b in
    /// xmm1, c in xmm2), a and c negated first as the form says (`fnmadd` = (-a)·b + (-c), so an
    /// exact zero sum is +0, as RISC-V). A NaN result also raises invalid when the product is
    /// infinity times zero: RISC-V's fmadd does even when the addend is a quiet NaN, x86's FMA
    /// does not; `comisd` of the NaN with itself raises exactly invalid.
    private mutating func fused(_ i: Instruction, single: Bool, negateProduct: Bool, negateAddend: Bool) {
        let size: X64OperandSize = single ? .b32 : .b64
        let sign: UInt8 = single ? 31 : 63
        func operand(_ x: XMMRegister, _ r: UInt8, negated: Bool) {
            if negated {
                assembler.emit(.mov(size, .rax, f(r)))
                assembler.emit(.bitModify(.btc, .b64, .rax, sign))
                assembler.emit(.movGPRToXMM(size, x, .rax))
            } else {
                loadFloat(x, r, single: single)
            }
        }
        operand(.xmm0, i.rs1, negated: negateProduct)
        operand(.xmm1, i.rs2, negated: false)
        operand(.xmm2, i.rs3, negated: negateAddend)
        // |a| in rcx before the operation overwrites a.
        assembler.emit(.movXMMToGPR(size, .rcx, .xmm0))
        assembler.emit(.fma(double: !single, .xmm0, .xmm1, .xmm2))
        let nan = assembler.newLabel(), canonical = assembler.newLabel(), raise = assembler.newLabel()
        let other = assembler.newLabel(), number = assembler.newLabel()
        let infinity: UInt64 = single ? 0x7f80_0000 : 0x7ff0_0000_0000_0000
        assembler.emit(.sse(single ? .ucomiss : .ucomisd, .xmm0, .xmm0))
        assembler.jcc(.p, to: nan)
        assembler.jmp(to: number)
        assembler.bind(nan)
        // |b| in rax, |a| in rcx.
        assembler.emit(.movXMMToGPR(size, .rax, .xmm1))
        assembler.emit(.bitModify(.btr, .b64, .rax, sign))
        assembler.emit(.bitModify(.btr, .b64, .rcx, sign))
        assembler.emit(.loadConstant(.rdx, infinity))
        assembler.emit(.alu(.cmp, .b64, .rcx, .rdx))
        assembler.jcc(.ne, to: other)
        assembler.emit(.test(.b64, .rax, .rax))
        assembler.jcc(.e, to: raise)
        assembler.jmp(to: canonical)
        assembler.bind(other)
        assembler.emit(.alu(.cmp, .b64, .rax, .rdx))
        assembler.jcc(.ne, to: canonical)
        assembler.emit(.test(.b64, .rcx, .rcx))
        assembler.jcc(.ne, to: canonical)
        assembler.bind(raise)
        assembler.emit(.sse(single ? .comiss : .comisd, .xmm0, .xmm0))
        assembler.bind(canonical)
        assembler.emit(.loadConstant(.rax, single ? UInt64(SoftFloat.canonicalNaN32) : SoftFloat.canonicalNaN64))
        assembler.emit(.movGPRToXMM(.b64, .xmm0, .rax))
        assembler.bind(number)
        if single { storeSingle(i.rd, from: .xmm0) } else { assembler.emit(.movsd(f(i.rd), .xmm0)) }
    }

    /// The upper 32 bits of f register `r` (a single's box).
    private func upperHalf(_ r: UInt8) -> X64Memory { .at(Pinned.state, Int32(8 * (HartState.Slot.f + Int(r)) + 4)) }

    /// Jumps to `slow` unless f register `r` holds a NaN-boxed single.
    private mutating func checkBoxed(_ r: UInt8, else slow: X64Label) {
        assembler.emit(.alu(.cmp, .b32, upperHalf(r), imm: -1))
        assembler.jcc(.ne, to: slow)
    }
}
