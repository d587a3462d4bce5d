import RivetIR
import RivetMachine
import RivetX64

// Lowering of single instructions (the integer subset): the value semantics are
// `RivetIR/Semantics.swift`'s, bit for bit. Every sequence reads its operands before it writes
// its result (a result may share the register of an operand whose last use this is); results
// are computed in the result's register when no operand lives there, else in `rax`.
// Baseline x86-64 only: no BMI, LZCNT or POPCNT (bsr/bsf with cmov, a SWAR popcount).

extension Lowering {
    /// Lowers `inst`; `next` is the block laid out after the current one (a jump there is
    /// omitted).
    mutating func emit(_ inst: Inst, next: Block?) {
        let data = f.insts[inst.id]
        switch data.opcode {
        case .iconst, .bconst:
            let r = result(inst)
            if immediates[r.id] { return }  // folded into its uses
            if let d = register(r) {
                asm.emit(.loadConstant(d, data.imm))
            } else {
                asm.emit(.loadConstant(.rax, data.imm))
                store(r, .rax)
            }
        case .iadd:
            if folded[result(inst).id] != nil { return }  // computed by the access after it
            if let (base, index, scale, _) = scaled[result(inst).id] {
                let b = register(base) ?? .rax, x = register(index) ?? .rdx
                load(b, base)
                load(x, index)
                let d = register(result(inst)) ?? .rax
                asm.emit(.lea(.b64, d, .at(b, index: x, scale: scale)))
                store(result(inst), d)
                return
            }
            if let d = register(result(inst)), let a = register(f.arg(inst, 0)), a != d {
                // d = a + b into a third register: one `lea`, no `mov`.
                let b = f.arg(inst, 1)
                if let r = register(b), r != d {
                    asm.emit(.lea(.b64, d, .at(a, index: r)))
                    return
                }
                if immediates[b.id] {
                    asm.emit(.lea(.b64, d, .at(a, Int32(truncatingIfNeeded: Int64(bitPattern: constant(b))))))
                    return
                }
            }
            binary(inst, .add)
        case .isub: binary(inst, .sub)
        case .band: binary(inst, .and)
        case .bor: binary(inst, .or)
        case .bxor: binary(inst, .xor)
        case .imul:
            let d = target(inst, avoiding: f.arg(inst, 1))
            load(d, f.arg(inst, 0))
            if let b = register(f.arg(inst, 1)) { asm.emit(.imul(.b64, d, b)) } else { asm.emit(.imul(.b64, d, memory(f.arg(inst, 1))!)) }
            store(result(inst), d)
        case .imulhs, .imulhu, .imulhsu:
            load(.rax, f.arg(inst, 0))
            let b = f.arg(inst, 1)
            let op: X64UnaryOp = data.opcode == .imulhs ? .imul : .mul
            if let r = register(b) { asm.emit(.unary(op, .b64, r)) } else { asm.emit(.unary(op, .b64, memory(b)!)) }
            if data.opcode == .imulhsu {
                // signed(a) * unsigned(b): the unsigned high half, less b when a is negative.
                load(.rcx, f.arg(inst, 0))
                asm.emit(.shift(.sar, .b64, .rcx, 63))
                alu(.and, .rcx, b)
                asm.emit(.alu(.sub, .b64, .rdx, .rcx))
            }
            store(result(inst), .rdx)
        case .sdiv, .srem: signedDivision(inst, remainder: data.opcode == .srem)
        case .udiv, .urem: unsignedDivision(inst, remainder: data.opcode == .urem)
        case .bnot, .ineg:
            let d = target(inst, avoiding: nil)
            load(d, f.arg(inst, 0))
            asm.emit(.unary(data.opcode == .bnot ? .not : .neg, .b64, d))
            store(result(inst), d)
        case .shl:
            if scaledShifts.contains(result(inst)) { return }  // computed by the `lea` of its `iadd`
            shift(inst, .shl)
        case .ushr: shift(inst, .shr)
        case .sshr: shift(inst, .sar)
        case .rotl: shift(inst, .rol)
        case .rotr: shift(inst, .ror)
        case .sext8: extend(inst) { .movsx(.b64, $0, $1, from: .b8) }
        case .sext16: extend(inst) { .movsx(.b64, $0, $1, from: .b16) }
        case .sext32: extend(inst) { .movsx(.b64, $0, $1, from: .b32) }
        case .zext8: extend(inst) { .movzx(.b32, $0, $1, from: .b8) }
        case .zext16: extend(inst) { .movzx(.b32, $0, $1, from: .b16) }
        case .zext32: extend(inst) { .mov(.b32, $0, $1) }
        case .clz:
            // bsr gives the index of the highest set bit (ZF when zero): clz = 63 ^ index, and
            // 127 ^ 63 = 64 for zero.
            load(.rdx, f.arg(inst, 0))
            asm.emit(.loadConstant(.rcx, 127))
            asm.emit(.bitScan(.bsr, .b64, .rax, .rdx))
            asm.emit(.cmov(.e, .b64, .rax, .rcx))
            asm.emit(.alu(.xor, .b64, .rax, imm: 63))
            store(result(inst), .rax)
        case .ctz:
            load(.rdx, f.arg(inst, 0))
            asm.emit(.loadConstant(.rcx, 64))
            asm.emit(.bitScan(.bsf, .b64, .rax, .rdx))
            asm.emit(.cmov(.e, .b64, .rax, .rcx))
            store(result(inst), .rax)
        case .popcnt: popcount(inst)
        case .fclass32, .fclass64: floatClass(inst, double: data.opcode == .fclass64)
        case .bswap:
            let d = target(inst, avoiding: nil)
            load(d, f.arg(inst, 0))
            asm.emit(.bswap(.b64, d))
            store(result(inst), d)
        case .icmp:
            if fusedCompares[inst.id] { return }  // emitted by the brif or select after it
            load(.rax, f.arg(inst, 0))
            alu(.cmp, .rax, f.arg(inst, 1))
            asm.emit(.setcc(Self.condition(IntCondition(rawValue: UInt8(truncatingIfNeeded: data.imm)) ?? .eq), .rax))
            asm.emit(.movzx(.b32, .rax, .rax, from: .b8))
            store(result(inst), .rax)
        case .select:
            // a & 1 ? b : c
            load(.rax, f.arg(inst, 2))
            let a = f.arg(inst, 0), b = f.arg(inst, 1)
            if case .inst(let compare) = f.values[a.id].def, fusedCompares[compare.id] {
                // The icmp right before, not emitted: `cmp` (after the `mov` of c, which a
                // constant's `xor` would clobber the flags of), then `cmovCC`.
                let x = f.arg(compare, 0), y = f.arg(compare, 1)
                let r = register(x) ?? .rdx
                load(r, x)
                let source = register(b) ?? .rcx
                if memory(b) == nil { load(source, b) }
                alu(.cmp, r, y)
                let cc = Self.condition(IntCondition(rawValue: UInt8(truncatingIfNeeded: f.insts[compare.id].imm)) ?? .eq)
                if let m = memory(b) { asm.emit(.cmov(cc, .b64, .rax, m)) } else { asm.emit(.cmov(cc, .b64, .rax, source)) }
                store(result(inst), .rax)
                return
            }
            if let r = register(a) { asm.emit(.test(.b32, r, imm: 1)) } else { asm.emit(.test(.b32, memory(a)!, imm: 1)) }
            if let r = register(b) {
                asm.emit(.cmov(.ne, .b64, .rax, r))
            } else if let m = memory(b), f.type(b) != .f32 {
                asm.emit(.cmov(.ne, .b64, .rax, m))
            } else {
                load(.rcx, b)  // a float's bits
                asm.emit(.cmov(.ne, .b64, .rax, .rcx))
            }
            store(result(inst), .rax)
        case .bint:
            let d = target(inst, avoiding: nil)
            load(d, f.arg(inst, 0))
            asm.emit(.alu(.and, .b32, d, imm: 1))
            store(result(inst), d)
        case .getSlot:
            if entryReads[result(inst).id] { return }  // loaded by the entry block's jump
            if case .home(Int(data.imm))? = locations[result(inst).id] { return }  // there already
            if f.type(result(inst)) == .f64 {
                let x = floatRegister(result(inst)) ?? .xmm0
                asm.emit(.movsd(x, slot(data.imm)))
                storeFloat(result(inst), x)
                return
            }
            let d = register(result(inst)) ?? .rax
            // A single in a register is its 32 bits, zero-extended.
            asm.emit(.mov(f.type(result(inst)) == .f32 ? .b32 : .b64, d, slot(data.imm)))
            store(result(inst), d)
        case .setSlot:
            let v = f.arg(inst, 0)
            if f.type(v) == .f64, let x = floatRegister(v) {
                asm.emit(.movsd(slot(data.imm), x))
                return
            }
            let r = register(v) ?? .rax
            load(r, v)
            asm.emit(.mov(.b64, slot(data.imm), r))
        case .loadI64: guestLoad(inst) { .mov(.b64, $0, $1) }
        case .loadF64: floatLoad(inst, single: false)
        case .loadF32: floatLoad(inst, single: true)
        case .uload8: guestLoad(inst) { .movzx(.b32, $0, $1, from: .b8) }
        case .sload8: guestLoad(inst) { .movsx(.b64, $0, $1, from: .b8) }
        case .uload16: guestLoad(inst) { .movzx(.b32, $0, $1, from: .b16) }
        case .sload16: guestLoad(inst) { .movsx(.b64, $0, $1, from: .b16) }
        case .uload32: guestLoad(inst) { .mov(.b32, $0, $1) }
        case .sload32: guestLoad(inst) { .movsx(.b64, $0, $1, from: .b32) }
        case .store8, .store16, .store32, .store64, .storeF32, .storeF64:
            let size = Evaluator.accessSize(data.opcode)
            let target = guestOperand(inst)
            let value = f.arg(inst, 1)
            if let x = floatRegister(value) {
                recordFaultSite(inst)
                asm.emit(size == 4 ? .movss(target, x) : .movsd(target, x))
                return
            }
            let source = register(value) ?? .rcx
            load(source, value)
            let operandSize: X64OperandSize = size == 1 ? .b8 : size == 2 ? .b16 : size == 4 ? .b32 : .b64
            recordFaultSite(inst)
            asm.emit(.mov(operandSize, target, source))
        case .jump: emitJump(data.destination0, next: next)
        case .brif: emitBranch(inst, next: next)
        case .exit: emitExit(f.exitState(inst) ?? ExitState(pc: RivetIR.GuestAddress(0)))
        case .exitIndirect: emitIndirectExit(f.exitState(inst) ?? ExitState(pc: RivetIR.GuestAddress(0)), target: f.arg(inst, 0))
        case .call:
            // The intrinsics, the only helpers `isSupported` lets through.
            if Tier2Backend.isBudget(f, inst) {
                emitBudget(inst)
            } else if Tier2Backend.isNaNBoxedGuard(f, inst) {
                emitNaNBoxedGuard(inst)
            } else if Tier2Backend.isPeekFlags(f, inst) {
                emitPeekFlags(inst)
            } else {
                emitTakeFlags(inst)
            }
        case .f32const, .f64const:
            // Through rax into the value's XMM register (or slot).
            asm.emit(.loadConstant(.rax, data.imm))
            store(result(inst), .rax)
        case .fadd: floatArithmetic(inst, single: .addss, double: .addsd)
        case .fsub: floatArithmetic(inst, single: .subss, double: .subsd)
        case .fmul: floatArithmetic(inst, single: .mulss, double: .mulsd)
        case .fdiv: floatArithmetic(inst, single: .divss, double: .divsd)
        case .fsqrt: floatArithmetic(inst, single: .sqrtss, double: .sqrtsd)
        case .ffma:
            // xmm0 = xmm1 * xmm0 + xmm2 = b * a + c, one rounding.
            let isSingle = data.type == .f32
            loadFloat(.xmm0, f.arg(inst, 0))
            loadFloat(.xmm1, f.arg(inst, 1))
            loadFloat(.xmm2, f.arg(inst, 2))
            asm.emit(.fma(double: !isSingle, .xmm0, .xmm1, .xmm2))
            fusedResult(inst, single: isSingle)
        case .fneg, .fabs:
            // The sign bit, flipped or cleared in a general register.
            load(.rax, f.arg(inst, 0))
            let bit: UInt8 = data.type == .f32 ? 31 : 63
            asm.emit(.bitModify(data.opcode == .fneg ? .btc : .btr, .b64, .rax, bit))
            store(result(inst), .rax)
        case .fcmp, .fcmpSilent: floatCompare(inst)
        case .sitof:
            // xorps first: cvtsi2sd keeps the rest of the register (a false dependency otherwise).
            let isSingle = data.type == .f32
            load(.rax, f.arg(inst, 0))
            let x = floatRegister(result(inst)) ?? .xmm0
            asm.emit(.sse(.xorps, x, x))
            asm.emit(.cvtsi2f(.b64, double: !isSingle, x, .rax))
            storeFloat(result(inst), x)
        case .ftosi32, .ftosi64: truncation(inst, wide: data.opcode == .ftosi64)
        case .fpromote, .fdemote:
            let s = floatOperand(f.arg(inst, 0), scratch: .xmm1)
            let x = floatRegister(result(inst)) ?? .xmm0
            asm.emit(.sse(data.opcode == .fpromote ? .cvtss2sd : .cvtsd2ss, x, s))
            floatResult(inst, x, single: data.opcode == .fdemote)
        case .bitcast, .f32ToBits, .f32FromBits:
            // The same bits: between the classes a `movq`/`movd` (a single's bits zero-extended
            // in a general register; in an XMM register only its low 32 bits are read).
            let a = f.arg(inst, 0)
            let type = f.type(result(inst))
            if type == .f32 || type == .f64 {
                let x = floatRegister(result(inst)) ?? .xmm0
                loadFloat(x, a)  // an i64's 64 bits
                storeFloat(result(inst), x)
            } else {
                let d = register(result(inst)) ?? .rax
                load(d, a)
                store(result(inst), d)
            }
        case .fmin, .fmax: minMax(inst, max: data.opcode == .fmax)
        case .trap:
            // `Tier2Backend.isSupported` rejected these before allocation.
            preconditionFailure("tier 2 backend: \(data.opcode.name) is not lowered")
        }
    }

    /// RISC-V's fclass of the bits of `inst`'s operand (in its register, or loaded into rdx): a
    /// normal number (a biased exponent neither 0 nor all ones) inline, its sign choosing
    /// 1 << 1 or 1 << 6; the other classes in a stub after the body (`Stub.floatClass`). (As
    /// integer operations on the bits, three compare-and-select chains, fclass took 37
    /// instructions; glibc's fmaxf and fminf run it twice each, around the hot loop of `fp32`'s
    /// relaxation.)
    mutating func floatClass(_ inst: Inst, double: Bool) {
        let exponentMask: Int32 = double ? 0x7ff : 0xff
        let operand = f.arg(inst, 0)
        let bits = register(operand) ?? .rdx
        load(bits, operand)
        asm.emit(.mov(.b64, .rcx, bits))
        asm.emit(.shift(.shr, .b64, .rcx, double ? 52 : 23))
        asm.emit(.alu(.and, .b32, .rcx, imm: exponentMask))
        // Normal: 1 <= exponent <= mask - 1, that is exponent - 1 below mask - 1 unsigned.
        asm.emit(.alu(.sub, .b32, .rcx, imm: 1))
        asm.emit(.alu(.cmp, .b32, .rcx, imm: exponentMask - 1))
        let other = asm.newLabel(), back = asm.newLabel()
        asm.jcc(.ae, to: other)
        asm.emit(.mov(.b32, .rax, imm: 1 << 6))
        asm.emit(.mov(.b32, .rcx, imm: 1 << 1))
        asm.emit(.test(double ? .b64 : .b32, bits, bits))
        asm.emit(.cmov(.s, .b32, .rax, .rcx))
        asm.bind(back)
        stubs.append((other, .floatClass(bits, double: double, back: back)))
        store(result(inst), .rax)
    }

    // MARK: Floats

    /// Loads float `v` into `x`: from its XMM register, its spill slot or its constant.
    mutating func loadFloat(_ x: XMMRegister, _ v: Value) {
        let size: X64OperandSize = f.type(v) == .f32 ? .b32 : .b64
        switch locations[v.id] {
        case .float(let s)?: if s != x { asm.emit(.sse(.movaps, x, s)) }
        case .register(let r)?: asm.emit(.movGPRToXMM(size, x, r))
        case .stack?, .home?: asm.emit(.movGPRToXMM(size, x, memory(v)!))
        case nil:
            asm.emit(.loadConstant(.rax, constant(v)))
            asm.emit(.movGPRToXMM(size, x, .rax))
        }
    }

    /// The XMM register holding float `v` to read: its own, or `scratch` loaded.
    mutating func floatOperand(_ v: Value, scratch: XMMRegister) -> XMMRegister {
        if let x = floatRegister(v) { return x }
        loadFloat(scratch, v)
        return scratch
    }

    /// Float `v` from `x` to its location: its XMM register or its spill slot (a single's 32
    /// bits, a double's 64).
    mutating func storeFloat(_ v: Value, _ x: XMMRegister) {
        switch locations[v.id] {
        case .float(let d)?: if d != x { asm.emit(.sse(.movaps, d, x)) }
        case .stack?, .home?: asm.emit(f.type(v) == .f32 ? .movss(memory(v)!, x) : .movsd(memory(v)!, x))
        case .register(let r)?: asm.emit(.movXMMToGPR(f.type(v) == .f32 ? .b32 : .b64, r, x))
        case nil: break
        }
    }

    /// A guest load of a single or a double into the result's XMM register.
    mutating func floatLoad(_ inst: Inst, single: Bool) {
        let source = guestOperand(inst)
        let x = floatRegister(result(inst)) ?? .xmm0
        recordFaultSite(inst)
        asm.emit(single ? .movss(x, source) : .movsd(x, source))
        storeFloat(result(inst), x)
    }

    /// `a op b` (or `op a` for a square root) on the SSE unit, which raises the flags in MXCSR,
    /// in the result's register when neither operand stops it (x86's `op d, b` computes
    /// `d = d op b`: `d` must not hold `b` unless the operation commutes), else in xmm0; a NaN
    /// result becomes the canonical NaN (x86 keeps an operand's payload or gives a negative
    /// default NaN; RISC-V gives 0x7ff8000000000000 / 0x7fc00000).
    mutating func floatArithmetic(_ inst: Inst, single: X64SSEOp, double: X64SSEOp) {
        let isSingle = f.insts[inst.id].type == .f32
        let op = isSingle ? single : double
        var x = floatRegister(result(inst)) ?? .xmm0
        if f.insts[inst.id].opcode == .fsqrt {
            if let m = memory(f.arg(inst, 0)) {
                asm.emit(.sse(op, x, m))
            } else {
                asm.emit(.sse(op, x, floatOperand(f.arg(inst, 0), scratch: .xmm1)))
            }
        } else {
            var a = f.arg(inst, 0), b = f.arg(inst, 1)
            let commutes = op == .addss || op == .addsd || op == .mulss || op == .mulsd
            if commutes, floatRegister(b) == x, floatRegister(a) != x { swap(&a, &b) }
            if floatRegister(b) == x, floatRegister(a) != x { x = .xmm0 }
            loadFloat(x, a)
            if let m = memory(b) {
                asm.emit(.sse(op, x, m))
            } else {
                asm.emit(.sse(op, x, floatOperand(b, scratch: .xmm1)))
            }
        }
        floatResult(inst, x, single: isSingle)
    }

    /// The result of a float operation in `x` to its location, a NaN as the canonical NaN (an
    /// out-of-line stub replaces it), unless nothing that reads it sees a NaN's bits.
    mutating func floatResult(_ inst: Inst, _ x: XMMRegister, single isSingle: Bool) {
        if uncheckedNaNs[result(inst).id] {
            // Only NaN-blind operations and exits read it (`uncheckedNaNs`).
            storeFloat(result(inst), x)
            return
        }
        let back = asm.newLabel(), stub = asm.newLabel()
        // An arithmetic result is never a signaling NaN: this compare raises nothing.
        asm.emit(.sse(isSingle ? .ucomiss : .ucomisd, x, x))
        asm.jcc(.p, to: stub)
        asm.bind(back)
        stubs.append((stub, .canonicalNaN(x, single: isSingle, back: back)))
        storeFloat(result(inst), x)
    }

    /// The result of `ffma` (xmm0; b still in xmm1, a in its location) as `floatResult`, but a
    /// NaN result also raises invalid when the product is infinity times zero: RISC-V's fmadd
    /// does even when the addend is a quiet NaN, x86's FMA does not (IEEE 754 leaves it to the
    /// implementation). `comisd` of the NaN with itself raises exactly invalid.
    mutating func fusedResult(_ inst: Inst, single isSingle: Bool) {
        let nan = asm.newLabel(), canonical = asm.newLabel(), raise = asm.newLabel(), other = asm.newLabel()
        let done = asm.newLabel()
        let sign: UInt8 = isSingle ? 31 : 63
        let infinity: UInt64 = isSingle ? 0x7f80_0000 : 0x7ff0_0000_0000_0000
        asm.emit(.sse(isSingle ? .ucomiss : .ucomisd, .xmm0, .xmm0))
        asm.jcc(.p, to: nan)
        asm.jmp(to: done)
        asm.bind(nan)
        // |b| in rax, |a| in rcx.
        asm.emit(.movXMMToGPR(isSingle ? .b32 : .b64, .rax, .xmm1))
        asm.emit(.bitModify(.btr, .b64, .rax, sign))
        load(.rcx, f.arg(inst, 0))
        asm.emit(.bitModify(.btr, .b64, .rcx, sign))
        asm.emit(.loadConstant(.rdx, infinity))
        asm.emit(.alu(.cmp, .b64, .rcx, .rdx))
        asm.jcc(.ne, to: other)
        asm.emit(.test(.b64, .rax, .rax))
        asm.jcc(.e, to: raise)
        asm.jmp(to: canonical)
        asm.bind(other)
        asm.emit(.alu(.cmp, .b64, .rax, .rdx))
        asm.jcc(.ne, to: canonical)
        asm.emit(.test(.b64, .rcx, .rcx))
        asm.jcc(.ne, to: canonical)
        asm.bind(raise)
        asm.emit(.sse(isSingle ? .comiss : .comisd, .xmm0, .xmm0))
        asm.bind(canonical)
        asm.emit(.loadConstant(.rax, isSingle ? canonicalNaN32 : canonicalNaN64))
        asm.emit(.movGPRToXMM(.b64, .xmm0, .rax))
        asm.bind(done)
        storeFloat(result(inst), .xmm0)
    }

    /// `ftosi32`/`ftosi64`: `cvttsd2si` (toward zero) gives the "integer indefinite" value
    /// 0x80...0 with invalid for NaN and out-of-range operands; RISC-V saturates, so the
    /// indefinite value of a NaN or a positive operand becomes the largest integer (a negative
    /// one, or exactly the smallest integer, stays). A 32-bit result is sign-extended.
    mutating func truncation(_ inst: Inst, wide: Bool) {
        let a = f.arg(inst, 0)
        let isSingle = f.type(a) == .f32
        let size: X64OperandSize = wide ? .b64 : .b32
        let done = asm.newLabel(), largest = asm.newLabel()
        let x = floatOperand(a, scratch: .xmm0)
        asm.emit(.cvtf2si(isSingle ? .cvttss2si : .cvttsd2si, size, .rax, x))
        if wide {
            asm.emit(.loadConstant(.rdx, 1 << 63))
            asm.emit(.alu(.cmp, .b64, .rax, .rdx))
        } else {
            asm.emit(.alu(.cmp, .b32, .rax, imm: Int32.min))
        }
        asm.jcc(.ne, to: done)
        asm.emit(.sse(isSingle ? .ucomiss : .ucomisd, x, x))
        asm.jcc(.p, to: largest)
        asm.emit(.movXMMToGPR(isSingle ? .b32 : .b64, .rcx, x))
        asm.emit(.test(isSingle ? .b32 : .b64, .rcx, .rcx))
        asm.jcc(.s, to: done)
        asm.bind(largest)
        if wide {
            asm.emit(.alu(.sub, .b64, .rax, imm: 1))  // 0x80...0 - 1 = 0x7f...f
        } else {
            asm.emit(.mov(.b32, .rax, imm: Int64(Int32.max)))
        }
        asm.bind(done)
        let d = register(result(inst)) ?? .rax
        if wide {
            if d != .rax { asm.emit(.mov(.b64, d, .rax)) }
        } else {
            asm.emit(.movsx(.b64, d, .rax, from: .b32))
        }
        store(result(inst), d)
    }

    /// RISC-V's fmin/fmax (IEEE 754-2019 minimumNumber/maximumNumber, -0 < +0). `ucomisd a, b`
    /// raises invalid exactly for a signaling NaN, as RISC-V; for ordered, unequal operands
    /// `minsd`/`maxsd` then give the result, inline. Equal operands (ZF, which an unordered
    /// compare sets too) go to a stub after the body (`Stub.minMax`): equal ones give `a | b`
    /// (min: -0 if either is) or `a & b` (max), NaNs the other operand, or the canonical NaN
    /// for two (`minsd` alone would return its second operand for a NaN or for equal zeros,
    /// and raise invalid for a quiet NaN). (All of it inline took five branches on the common
    /// path; `fp32`'s relaxation loop runs a `fmax` and a `fmin` a point.)
    mutating func minMax(_ inst: Inst, max: Bool) {
        let a = f.arg(inst, 0), b = f.arg(inst, 1)
        let isSingle = f.type(a) == .f32
        // The result in xmm2 (the result's register may be an operand's).
        let xa = floatOperand(a, scratch: .xmm0), xb = floatOperand(b, scratch: .xmm1)
        let special = asm.newLabel(), back = asm.newLabel()
        asm.emit(.sse(.movaps, .xmm2, xa))
        asm.emit(.sse(isSingle ? .ucomiss : .ucomisd, xa, xb))
        asm.jcc(.e, to: special)
        asm.emit(.sse(isSingle ? (max ? .maxss : .minss) : (max ? .maxsd : .minsd), .xmm2, xb))
        asm.bind(back)
        stubs.append((special, .minMax(xa, xb, single: isSingle, max: max, back: back)))
        storeFloat(result(inst), .xmm2)
    }

    /// The out-of-line part of `minMax`, after `ucomis a, b` found them equal or unordered (the
    /// flags still those of the compare): the result in xmm2, then back.
    mutating func emitMinMaxStub(_ xa: XMMRegister, _ xb: XMMRegister, single: Bool, max: Bool, back: X64Label) {
        let compare: X64SSEOp = single ? .ucomiss : .ucomisd
        let nan = asm.newLabel(), aIsNaN = asm.newLabel(), takeB = asm.newLabel()
        asm.jcc(.p, to: nan)
        asm.emit(.sse(.movaps, .xmm2, xa))
        asm.emit(.sse(max ? .andps : .orps, .xmm2, xb))
        asm.jmp(to: back)
        asm.bind(nan)
        asm.emit(.sse(compare, xa, xa))
        asm.jcc(.p, to: aIsNaN)
        asm.emit(.sse(.movaps, .xmm2, xa))  // b is the NaN
        asm.jmp(to: back)
        asm.bind(aIsNaN)
        asm.emit(.sse(compare, xb, xb))
        asm.jcc(.np, to: takeB)
        asm.emit(.loadConstant(.rax, single ? canonicalNaN32 : canonicalNaN64))
        asm.emit(.movGPRToXMM(.b64, .xmm2, .rax))
        asm.jmp(to: back)
        asm.bind(takeB)
        asm.emit(.sse(.movaps, .xmm2, xb))
        asm.jmp(to: back)
    }

    /// `fcmp`: `ucomis` for the quiet conditions, `comis` (invalid for any NaN) for the ordered
    /// relations, the result 0 or 1. After `(u)comis a, b`: unordered sets ZF, PF and CF; a < b
    /// CF; a = b ZF. `lt` and `le` compare the other way round, as `gt` and `ge` (`a`/`ae`:
    /// false when unordered).
    mutating func floatCompare(_ inst: Inst) {
        let a = f.arg(inst, 0), b = f.arg(inst, 1)
        let isSingle = f.type(a) == .f32
        let cond = FloatCondition(rawValue: UInt8(truncatingIfNeeded: f.insts[inst.id].imm)) ?? .eq
        let silent = f.insts[inst.id].opcode == .fcmpSilent
        let quiet = cond == .eq || cond == .ne || cond == .uno || cond == .ord
        let op: X64SSEOp = quiet || silent ? (isSingle ? .ucomiss : .ucomisd) : (isSingle ? .comiss : .comisd)
        let swapped = cond == .lt || cond == .le
        let x = floatOperand(swapped ? b : a, scratch: .xmm0)
        let y = floatOperand(swapped ? a : b, scratch: .xmm1)
        if silent && usesAVX512 {
            // With {sae}: no flag, and nothing to wait for (reading MXCSR waits for every float
            // operation before it: `stmxcsr` took half of `fp64`'s n-body loop on an Intel host).
            asm.emit(.ucomisWithoutExceptions(double: !isSingle, x, y))
        } else if silent {
            // MXCSR as it was before the compare, put back after it (`ldmxcsr` leaves EFLAGS).
            let mxcsr = Self.hartSlot(HartState.Slot.mxcsr)
            asm.emit(.stmxcsr(mxcsr))
            asm.emit(.sse(op, x, y))
            asm.emit(.ldmxcsr(mxcsr))
        } else {
            asm.emit(.sse(op, x, y))
        }
        switch cond {
        case .eq:
            asm.emit(.setcc(.e, .rax))
            asm.emit(.setcc(.np, .rcx))
            asm.emit(.alu(.and, .b32, .rax, .rcx))
        case .ne:
            asm.emit(.setcc(.ne, .rax))
            asm.emit(.setcc(.p, .rcx))
            asm.emit(.alu(.or, .b32, .rax, .rcx))
        case .lt, .gt: asm.emit(.setcc(.a, .rax))
        case .le, .ge: asm.emit(.setcc(.ae, .rax))
        case .uno: asm.emit(.setcc(.p, .rax))
        case .ord: asm.emit(.setcc(.np, .rax))
        }
        asm.emit(.movzx(.b32, .rax, .rax, from: .b8))
        store(result(inst), .rax)
    }

    // MARK: Pieces

    func result(_ inst: Inst) -> Value { f.result(inst) }

    /// The register to compute `inst`'s result in: its own, unless `avoiding` (an operand read
    /// after the first is loaded) lives there or it is spilled; then `rax`.
    func target(_ inst: Inst, avoiding operand: Value?) -> HostRegister {
        guard let d = register(result(inst)) else { return .rax }
        if let operand, register(operand) == d { return .rax }
        return d
    }

    /// The state struct's field of slot `index`.
    func slot(_ index: UInt64) -> X64Memory {
        .at(Self.stateRegister, Int32(f.slots[Int(index)].offset))
    }

    /// `result = extension(arg0)`: `extension(destination, source)` from the operand's register,
    /// or in place after loading a spilled operand.
    mutating func extend(_ inst: Inst, _ extension: (HostRegister, HostRegister) -> X64Instruction) {
        let d = target(inst, avoiding: nil)
        let a = f.arg(inst, 0)
        if let s = register(a) {
            asm.emit(`extension`(d, s))
        } else {
            load(d, a)
            asm.emit(`extension`(d, d))
        }
        store(result(inst), d)
    }

    /// A guest load after its bounds check: `access(register, guestOperand(inst))`.
    mutating func guestLoad(_ inst: Inst, _ access: (HostRegister, X64Memory) -> X64Instruction) {
        let source = guestOperand(inst)
        let d = register(result(inst)) ?? .rax
        recordFaultSite(inst)
        asm.emit(access(d, source))
        store(result(inst), d)
    }

    mutating func binary(_ inst: Inst, _ op: X64ALUOp) {
        var a = f.arg(inst, 0), b = f.arg(inst, 1)
        // A commutative operation whose result shares the second operand's register computes
        // in place with the operands swapped, not through rax.
        // (Not a rematerialized constant: as the second operand it would have to fit an imm32.)
        if op != .sub, let d = register(result(inst)), register(b) == d, let r = register(a), r != d { swap(&a, &b) }
        let d: HostRegister
        if let r = register(result(inst)), register(b) == r { d = .rax } else { d = register(result(inst)) ?? .rax }
        load(d, a)
        alu(op, d, b)
        store(result(inst), d)
        if register(result(inst)) == d { flagsFrom = (op, d, asm.count) }
    }

    mutating func shift(_ inst: Inst, _ op: X64ShiftOp) {
        if immediates[f.arg(inst, 1).id] {
            // A constant count: an immediate, mod 64 as the IR takes it.
            let d = target(inst, avoiding: nil)
            load(d, f.arg(inst, 0))
            asm.emit(.shift(op, .b64, d, UInt8(truncatingIfNeeded: constant(f.arg(inst, 1)) & 63)))
            store(result(inst), d)
            return
        }
        // A 64-bit shift or rotate by cl takes the count mod 64, as the IR does.
        load(.rcx, f.arg(inst, 1))
        let d = target(inst, avoiding: nil)
        load(d, f.arg(inst, 0))
        asm.emit(.shiftByCL(op, .b64, d))
        store(result(inst), d)
    }

    /// RISC-V's total signed division: x / 0 = -1, x % 0 = x; MIN / -1 = MIN, MIN % -1 = 0
    /// (idiv would raise #DE for both).
    mutating func signedDivision(_ inst: Inst, remainder: Bool) {
        let byZero = asm.newLabel(), normal = asm.newLabel(), done = asm.newLabel()
        load(.rcx, f.arg(inst, 1))
        load(.rax, f.arg(inst, 0))
        asm.emit(.test(.b64, .rcx, .rcx))
        asm.jcc(.e, to: byZero)
        asm.emit(.alu(.cmp, .b64, .rcx, imm: -1))
        asm.jcc(.ne, to: normal)
        // Division by -1: the wrapping negation, remainder 0.
        if remainder { asm.emit(.alu(.xor, .b32, .rax, .rax)) } else { asm.emit(.unary(.neg, .b64, .rax)) }
        asm.jmp(to: done)
        asm.bind(normal)
        asm.emit(.cqo)
        asm.emit(.unary(.idiv, .b64, .rcx))
        if remainder { asm.emit(.mov(.b64, .rax, .rdx)) }
        asm.jmp(to: done)
        asm.bind(byZero)
        if !remainder { asm.emit(.mov(.b64, .rax, imm: -1)) }  // else rax = x already
        asm.bind(done)
        store(result(inst), .rax)
    }

    /// RISC-V's total unsigned division: x / 0 = all ones, x % 0 = x.
    mutating func unsignedDivision(_ inst: Inst, remainder: Bool) {
        let byZero = asm.newLabel(), done = asm.newLabel()
        load(.rcx, f.arg(inst, 1))
        load(.rax, f.arg(inst, 0))
        asm.emit(.test(.b64, .rcx, .rcx))
        asm.jcc(.e, to: byZero)
        asm.emit(.alu(.xor, .b32, .rdx, .rdx))
        asm.emit(.unary(.div, .b64, .rcx))
        if remainder { asm.emit(.mov(.b64, .rax, .rdx)) }
        asm.jmp(to: done)
        asm.bind(byZero)
        if !remainder { asm.emit(.mov(.b64, .rax, imm: -1)) }
        asm.bind(done)
        store(result(inst), .rax)
    }

    /// The SWAR population count (Hacker's Delight, figure 5-2), without POPCNT.
    mutating func popcount(_ inst: Inst) {
        load(.rax, f.arg(inst, 0))
        asm.emit(.mov(.b64, .rcx, .rax))
        asm.emit(.shift(.shr, .b64, .rcx, 1))
        asm.emit(.loadConstant(.rdx, 0x5555_5555_5555_5555))
        asm.emit(.alu(.and, .b64, .rcx, .rdx))
        asm.emit(.alu(.sub, .b64, .rax, .rcx))
        asm.emit(.loadConstant(.rdx, 0x3333_3333_3333_3333))
        asm.emit(.mov(.b64, .rcx, .rax))
        asm.emit(.alu(.and, .b64, .rcx, .rdx))
        asm.emit(.shift(.shr, .b64, .rax, 2))
        asm.emit(.alu(.and, .b64, .rax, .rdx))
        asm.emit(.alu(.add, .b64, .rax, .rcx))
        asm.emit(.mov(.b64, .rcx, .rax))
        asm.emit(.shift(.shr, .b64, .rcx, 4))
        asm.emit(.alu(.add, .b64, .rax, .rcx))
        asm.emit(.loadConstant(.rdx, 0x0f0f_0f0f_0f0f_0f0f))
        asm.emit(.alu(.and, .b64, .rax, .rdx))
        asm.emit(.loadConstant(.rdx, 0x0101_0101_0101_0101))
        asm.emit(.imul(.b64, .rax, .rdx))
        asm.emit(.shift(.shr, .b64, .rax, 56))
        store(result(inst), .rax)
    }

    /// The largest offset folded into an access's operand after a check of its base alone: an
    /// access at `base + k` with `base` below the address-space size and `k` in
    /// `0...maxUncheckedOffset` ends at most `maxUncheckedOffset + 8` bytes past the space,
    /// inside the guard region after it, where it faults on the host (as an access that starts
    /// inside and straddles the end always did). Below RISC-V's 12-bit offsets.
    static let maxUncheckedOffset: Int32 = 2047

    /// What the bounds check of `inst`'s guest address (operand 0) is about: for the address
    /// itself, or a folded `base + k` with `k` in `0...maxUncheckedOffset`, that the value (the
    /// address or the base) lies below the address-space size; for another folded `base + k`,
    /// that exact sum.
    static func checkedAddress(_ f: Function, _ inst: Inst, folded: [(base: Value, offset: Int32)?]) -> CheckedAddress {
        if let (base, offset) = folded[f.arg(inst, 0).id] {
            if (0...maxUncheckedOffset).contains(offset) { return CheckedAddress(value: base.id, offset: 0, folded: false) }
            return CheckedAddress(value: base.id, offset: offset, folded: true)
        }
        return CheckedAddress(value: f.arg(inst, 0).id, offset: 0, folded: false)
    }

    /// The operand of `inst`'s guest access (its address is operand 0): `[r15 + r + k]`, where
    /// `r` holds the address or, for a folded `base + k` with a small `k`, the base (its own
    /// register, or rdx when it has none). Branches to a fault stub unless that value is below
    /// the address-space size, or an access before it on every path checked the same value
    /// (in its block, or in a block that dominates it: `Lowering.addressesChecked(atEntryOf:)`);
    /// an access from a base checked once needs no check of its own, whatever its `k`
    /// (`maxUncheckedOffset`). A folded `base + k` with another `k` is computed in rdx and
    /// checked itself. (An access that starts inside the space and runs past its end touches
    /// the guard pages after the reservation: a host fault, recovered as any other.)
    mutating func guestOperand(_ inst: Inst) -> X64Memory {
        let key = Self.checkedAddress(f, inst, folded: folded)
        let checked = !checkedAddresses.insert(key).inserted
        let value = Value(key.value)
        // What the operand adds to `r`: a small folded offset (a large one is in rdx already).
        let displacement = key.folded ? 0 : folded[f.arg(inst, 0).id]?.offset ?? 0
        let r: HostRegister
        if key.folded {
            // base + k: computed and checked as one address.
            if let base = register(value) {
                asm.emit(.lea(.b64, .rdx, .at(base, key.offset)))
            } else {
                load(.rdx, value)
                asm.emit(.alu(.add, .b64, .rdx, imm: key.offset))
            }
            r = .rdx
        } else if let own = register(value) {
            r = own
        } else {
            load(.rdx, value)
            r = .rdx
        }
        if !checked {
            asm.emit(.alu(.cmp, .b64, r, Self.hartSlot(HartState.Slot.addressSpaceSize)))
            asm.jcc(.ae, to: faultLabel(inst))
        }
        return .at(Self.memoryRegister, index: r, displacement)
    }

    static func condition(_ c: IntCondition) -> X64Condition {
        switch c {
        case .eq: .e
        case .ne: .ne
        case .slt: .l
        case .sle: .le
        case .sgt: .g
        case .sge: .ge
        case .ult: .b
        case .ule: .be
        case .ugt: .a
        case .uge: .ae
        }
    }
}
