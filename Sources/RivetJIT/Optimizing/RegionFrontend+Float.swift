import RivetIR
import RivetISA
import RivetMachine

// Tier 2's frontend for F and D: f registers as state slots of their 64 raw bits, arithmetic on
// IR floats.
//
// - f0...f31 are the slots `f0`...`f31` (i64, the register's bits as `HartState` keeps them:
//   singles NaN-boxed), declared at their first use. Loads, stores, moves and sign injection of
//   doubles are integer operations on those bits.
// - A single is read by unboxing: a register whose upper 32 bits are not all ones holds the
//   canonical NaN (the F extension's rule). A single result is written boxed. Within an IR
//   block the frontend remembers each register's value as an f64 or an unboxed f32, so a chain
//   of operations neither boxes nor unboxes between them.
// - Arithmetic (add, sub, mul, div, sqrt, and fused multiply-add on a host with FMA3) is
//   modelled only for the rounding modes `rne` and `dyn`: the backend runs a region with such
//   operations only when `frm` is `rne` (see `Tier2Backend`), since the IR's floats round to
//   nearest, ties to even. Other static modes, conversions to unsigned integers or from u64,
//   and float-to-integer conversions not toward zero end the region before them.
// - `fclass` is `fclass32` / `fclass64` on the bits (no flags, no rounding).
// - `fflags` reads and writes and `fcsr` reads take the flags raised so far out of the host
//   (`call @fpflags()`) first.
// - The IR's float operations raise IEEE flags (`Effects.raisesFPFlags`), which the backend
//   accrues into `fflags` from the host's MXCSR; their NaN results are canonical, as RISC-V's.
extension RegionFrontend {
    /// The box of a single: its upper 32 bits set.
    static let singleBox: UInt64 = 0xffff_ffff_0000_0000
    static let signBit64: UInt64 = 1 << 63
    static let signBit32: UInt64 = 1 << 31

    static let fflagsNumber: UInt32 = 0x001
    static let fcsrNumber: UInt32 = 0x003

    /// Whether the F/D instruction `i` (one of those `isModelled` sends here) is modelled.
    static func isModelledFloat(_ i: Instruction) -> Bool {
        switch i.opcode {
        case .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d:
            return i.rm == RoundingMode.rne.rawValue || i.rm == RoundingMode.dyn.rawValue
        case .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d:
            // One rounding: only on a host with FMA3 (the backend's `ffma`).
            return Tier2Backend.hostHasFMA
                && (i.rm == RoundingMode.rne.rawValue || i.rm == RoundingMode.dyn.rawValue)
        case .fcvt_w_s, .fcvt_l_s, .fcvt_w_d, .fcvt_l_d:
            // To an integer: toward zero only (C's casts; the IR's ftosi32/ftosi64).
            return i.rm == RoundingMode.rtz.rawValue
        case .fcvt_d_w, .fcvt_d_wu, .fcvt_d_s:
            return true  // exact: no rounding
        case .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_d_l, .fcvt_s_d:
            return i.rm == RoundingMode.rne.rawValue || i.rm == RoundingMode.dyn.rawValue
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci:
            // fflags, read or written; fcsr, read only (a write may change frm, which the
            // region's guard assumed).
            switch UInt32(truncatingIfNeeded: i.imm) & 0xfff {
            case fflagsNumber: return true
            case fcsrNumber: return (i.opcode == .csrrs || i.opcode == .csrrc || i.opcode == .csrrsi || i.opcode == .csrrci) && i.rs1 == 0
            default: return false
            }
        default:
            return true
        }
    }

    mutating func forgetFloatValues() {
        floatBits = Array(filled: nil, count: 32)
        doubles = Array(filled: nil, count: 32)
        singles = Array(filled: nil, count: 32)
    }

    /// The slot of f`r`, declared at its first use.
    mutating func floatSlot(_ r: UInt8) -> Slot {
        if let slot = floatSlots[Int(r)] { return slot }
        let slot = b.declareSlot("f\(r)", .i64, offset: 8 * (HartState.Slot.f + Int(r)))
        floatSlots[Int(r)] = slot
        return slot
    }

    /// The 64 bits of f`r`.
    mutating func readBits(_ r: UInt8) -> Value {
        if let v = floatBits[Int(r)] { return v }
        let v = b.getSlot(floatSlot(r))
        floatBits[Int(r)] = v
        return v
    }

    /// f`r` as a double.
    mutating func readDouble(_ r: UInt8) -> Value {
        if let v = doubles[Int(r)] { return v }
        let v = b.unary(.bitcast, readBits(r), type: .f64)
        doubles[Int(r)] = v
        return v
    }

    /// f`r` as a single: its low 32 bits if it is NaN-boxed, else the canonical NaN.
    mutating func readSingle(_ r: UInt8) -> Value {
        if let v = singles[Int(r)] { return v }
        let bits = readBits(r)
        let boxed = b.icmp(.eq, binary(.sshr, bits, constant(UInt64(32))), constant(Int64(-1)))
        let v = b.unary(.f32FromBits, b.select(boxed, bits, constant(canonicalNaN32)))
        singles[Int(r)] = v
        return v
    }

    /// f`r` = `bits` (64 raw bits).
    mutating func writeBits(_ r: UInt8, _ bits: Value) {
        b.setSlot(floatSlot(r), bits)
        floatBits[Int(r)] = bits
        doubles[Int(r)] = nil
        singles[Int(r)] = nil
    }

    /// f`r` = the double `v`.
    mutating func writeDouble(_ r: UInt8, _ v: Value) {
        writeBits(r, b.unary(.bitcast, v, type: .i64))
        doubles[Int(r)] = v
    }

    /// f`r` = the single `v`, NaN-boxed.
    mutating func writeSingle(_ r: UInt8, _ v: Value) {
        writeBits(r, binary(.bor, b.unary(.f32ToBits, v), constant(Self.singleBox)))
        singles[Int(r)] = v
    }

    /// Emits the F/D instruction `i` (modelled: `isModelledFloat`).
    mutating func emitFloat(_ i: Instruction, _ here: ExitState) {
        switch i.opcode {
        // Memory: bits, untouched.
        case .fld:
            writeBits(i.rd, b.load(.loadI64, address(i), exit: here))
        case .flw:
            let word = b.load(.uload32, address(i), exit: here)
            writeBits(i.rd, binary(.bor, word, constant(Self.singleBox)))
            singles[Int(i.rd)] = b.unary(.f32FromBits, word)
        case .fsd: b.store(.store64, address(i), readBits(i.rs2), exit: here)
        case .fsw: b.store(.store32, address(i), readBits(i.rs2), exit: here)

        // Arithmetic.
        case .fadd_d: writeDouble(i.rd, b.binary(.fadd, readDouble(i.rs1), readDouble(i.rs2), type: .f64))
        case .fsub_d: writeDouble(i.rd, b.binary(.fsub, readDouble(i.rs1), readDouble(i.rs2), type: .f64))
        case .fmul_d: writeDouble(i.rd, b.binary(.fmul, readDouble(i.rs1), readDouble(i.rs2), type: .f64))
        case .fdiv_d: writeDouble(i.rd, b.binary(.fdiv, readDouble(i.rs1), readDouble(i.rs2), type: .f64))
        case .fsqrt_d: writeDouble(i.rd, b.unary(.fsqrt, readDouble(i.rs1), type: .f64))
        case .fadd_s: writeSingle(i.rd, b.binary(.fadd, readSingle(i.rs1), readSingle(i.rs2), type: .f32))
        case .fsub_s: writeSingle(i.rd, b.binary(.fsub, readSingle(i.rs1), readSingle(i.rs2), type: .f32))
        case .fmul_s: writeSingle(i.rd, b.binary(.fmul, readSingle(i.rs1), readSingle(i.rs2), type: .f32))
        case .fdiv_s: writeSingle(i.rd, b.binary(.fdiv, readSingle(i.rs1), readSingle(i.rs2), type: .f32))
        case .fsqrt_s: writeSingle(i.rd, b.unary(.fsqrt, readSingle(i.rs1), type: .f32))
        case .fmin_d: writeDouble(i.rd, b.binary(.fmin, readDouble(i.rs1), readDouble(i.rs2), type: .f64))
        case .fmax_d: writeDouble(i.rd, b.binary(.fmax, readDouble(i.rs1), readDouble(i.rs2), type: .f64))
        case .fmin_s: writeSingle(i.rd, b.binary(.fmin, readSingle(i.rs1), readSingle(i.rs2), type: .f32))
        case .fmax_s: writeSingle(i.rd, b.binary(.fmax, readSingle(i.rs1), readSingle(i.rs2), type: .f32))

        // Fused multiply-add: ±(rs1 × rs2) ± rs3 with one rounding, the signs as operand
        // negations (exact), as RISC-V defines them: fnmadd is -(rs1 × rs2) - rs3, so an exact
        // zero sum is +0 (round to nearest), not the negation of fmadd's.
        case .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d: fused(i, double: true)
        case .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s: fused(i, double: false)

        // Conversions (signed, and 32-bit unsigned through a zero-extended 64-bit integer).
        case .fcvt_d_w: writeDouble(i.rd, b.unary(.sitof, unary(.sext32, read(i.rs1)), type: .f64))
        case .fcvt_d_wu: writeDouble(i.rd, b.unary(.sitof, unary(.zext32, read(i.rs1)), type: .f64))
        case .fcvt_d_l: writeDouble(i.rd, b.unary(.sitof, read(i.rs1), type: .f64))
        case .fcvt_s_w: writeSingle(i.rd, b.unary(.sitof, unary(.sext32, read(i.rs1)), type: .f32))
        case .fcvt_s_wu: writeSingle(i.rd, b.unary(.sitof, unary(.zext32, read(i.rs1)), type: .f32))
        case .fcvt_s_l: writeSingle(i.rd, b.unary(.sitof, read(i.rs1), type: .f32))
        case .fcvt_w_d: write(i.rd, b.unary(.ftosi32, readDouble(i.rs1), type: .f64))
        case .fcvt_l_d: write(i.rd, b.unary(.ftosi64, readDouble(i.rs1), type: .f64))
        case .fcvt_w_s: write(i.rd, b.unary(.ftosi32, readSingle(i.rs1), type: .f32))
        case .fcvt_l_s: write(i.rd, b.unary(.ftosi64, readSingle(i.rs1), type: .f32))
        case .fcvt_d_s: writeDouble(i.rd, b.unary(.fpromote, readSingle(i.rs1)))
        case .fcvt_s_d: writeSingle(i.rd, b.unary(.fdemote, readDouble(i.rs1)))

        // Sign injection (fmv, fneg and fabs are the forms with rs1 = rs2).
        case .fsgnj_d, .fsgnjn_d, .fsgnjx_d: signInjection(i, double: true)
        case .fsgnj_s, .fsgnjn_s, .fsgnjx_s: signInjection(i, double: false)

        // Moves between register files: bits, no unboxing.
        case .fmv_x_d: write(i.rd, readBits(i.rs1))
        case .fmv_d_x: writeBits(i.rd, read(i.rs1))
        case .fmv_x_w: write(i.rd, unary(.sext32, readBits(i.rs1)))
        case .fmv_w_x:
            let x = read(i.rs1)
            writeBits(i.rd, binary(.bor, unary(.zext32, x), constant(Self.singleBox)))
            singles[Int(i.rd)] = b.unary(.f32FromBits, x)

        // Comparisons: feq is quiet, flt and fle signal (the IR's conditions say the same).
        case .feq_d: compare(i, .eq, double: true)
        case .flt_d: compare(i, .lt, double: true)
        case .fle_d: compare(i, .le, double: true)
        case .feq_s: compare(i, .eq, double: false)
        case .flt_s: compare(i, .lt, double: false)
        case .fle_s: compare(i, .le, double: false)

        // fflags and fcsr (`isModelledFloat` says which).
        case .csrrw, .csrrs, .csrrc, .csrrwi, .csrrsi, .csrrci: flagsCSR(i)
        case .fclass_s:
            // The single (the canonical NaN if it is not NaN-boxed), as the float operations
            // read it.
            write(i.rd, unary(.fclass32, b.unary(.f32ToBits, readSingle(i.rs1))))
        case .fclass_d:
            write(i.rd, unary(.fclass64, readBits(i.rs1)))
        default:
            preconditionFailure("\(i.opcode) is not an F/D instruction the tier-2 frontend models")
        }
    }

    /// A read or write of `fflags` (or a read of `fcsr`), as the interpreter's `csr`: the flags
    /// raised since the region's entry or the last such instruction are taken out of the host
    /// (`call @fpflags()`) and ORed into the slot first.
    private mutating func flagsCSR(_ i: Instruction) {
        if flagsHelper == nil {
            flagsHelper = b.declareHelper(Tier2Backend.flagsHelper, params: [], result: .i64, effects: [.raisesFPFlags])
        }
        let taken = b.call(flagsHelper!, [])!
        let slot = b.getSlot(fcsr())
        let immediate = i.opcode == .csrrwi || i.opcode == .csrrsi || i.opcode == .csrrci
        let source = immediate ? constant(UInt64(i.rs1)) : read(i.rs1)
        // fflags bits 7:5 (frm) stay; a write puts `new` in bits 4:0.
        let kept = binary(.band, slot, constant(~UInt64(0x1f)))
        if (i.opcode == .csrrw || i.opcode == .csrrwi) && i.rd == 0 {
            // `fsflags`: the flags raised so far are overwritten, unread (the intrinsic still
            // clears them; its result unused, it maps nothing).
            b.setSlot(fcsr(), binary(.bor, kept, binary(.band, source, constant(UInt64(0x1f)))))
            return
        }
        let current = binary(.bor, slot, taken)
        let isFlags = UInt32(truncatingIfNeeded: i.imm) & 0xfff == Self.fflagsNumber
        let old = binary(.band, current, constant(UInt64(isFlags ? 0x1f : 0xff)))
        let writes = i.opcode == .csrrw || i.opcode == .csrrwi || i.rs1 != 0
        if writes {
            let new: Value
            switch i.opcode {
            case .csrrw, .csrrwi: new = source
            case .csrrs, .csrrsi: new = binary(.bor, old, source)
            default: new = binary(.band, old, unary(.bnot, source))
            }
            b.setSlot(fcsr(), binary(.bor, kept, binary(.band, new, constant(UInt64(0x1f)))))
        } else {
            b.setSlot(fcsr(), current)
        }
        write(i.rd, old)
    }

    /// Whether `save; compare; restore` is `frflags t; feq/flt/fle rd, a, b; fsflags t`
    /// (t not x0, rd not t): a compare whose flags are put back, which raises none in effect.
    /// GCC writes it for C's comparison macros (`isless`) and before a `sqrt` that may set
    /// errno (`fp64`'s n-body loop), where two `fpflags` a turn (a `stmxcsr` and two
    /// `ldmxcsr`, a pair that waits for every float operation in flight) took half of that
    /// loop's time on an Intel host.
    static func isSilentCompare(_ save: Instruction, _ compare: Instruction, _ restore: Instruction) -> Bool {
        func isFlagsCSR(_ i: Instruction) -> Bool { UInt32(truncatingIfNeeded: i.imm) & 0xfff == fflagsNumber }
        guard save.opcode == .csrrs, save.rs1 == 0, save.rd != 0, isFlagsCSR(save),
            restore.opcode == .csrrw, restore.rd == 0, restore.rs1 == save.rd, isFlagsCSR(restore),
            [.feq_s, .flt_s, .fle_s, .feq_d, .flt_d, .fle_d].contains(compare.opcode), compare.rd != save.rd
        else { return false }
        return true
    }

    /// The `fcsr` slot, declared at its first use.
    private mutating func fcsr() -> Slot {
        if let fcsrSlot { return fcsrSlot }
        let slot = b.declareSlot("fcsr", .i64, offset: 8 * HartState.Slot.fcsr)
        fcsrSlot = slot
        return slot
    }

    /// A silent compare's `frflags t`: t gets `fflags` with the flags raised so far, which stay
    /// in the host (no `fpflags`, whose MXCSR write the compare's restore would need).
    mutating func peekFlags(_ i: Instruction) {
        if peekFlagsHelper == nil {
            peekFlagsHelper = b.declareHelper(Tier2Backend.peekFlagsHelper, params: [], result: .i64, effects: [.readsState])
        }
        let raised = b.call(peekFlagsHelper!, [])!
        write(i.rd, binary(.band, binary(.bor, b.getSlot(fcsr()), raised), constant(UInt64(0x1f))))
    }

    /// A silent compare's compare: `fcmp_silent` (its `fsflags` emits nothing).
    mutating func silentCompare(_ i: Instruction) {
        let double = i.opcode == .feq_d || i.opcode == .flt_d || i.opcode == .fle_d
        let cond: FloatCondition = i.opcode == .feq_d || i.opcode == .feq_s ? .eq : i.opcode == .flt_d || i.opcode == .flt_s ? .lt : .le
        let c = double
            ? b.fcmpSilent(cond, readDouble(i.rs1), readDouble(i.rs2))
            : b.fcmpSilent(cond, readSingle(i.rs1), readSingle(i.rs2))
        write(i.rd, unary(.bint, c))
    }

    private mutating func fused(_ i: Instruction, double: Bool) {
        let type: IRType = double ? .f64 : .f32
        func operand(_ r: UInt8) -> Value { double ? readDouble(r) : readSingle(r) }
        var a = operand(i.rs1), c = operand(i.rs3)
        let b = operand(i.rs2)
        if [.fnmsub_d, .fnmadd_d, .fnmsub_s, .fnmadd_s].contains(i.opcode) { a = self.b.unary(.fneg, a, type: type) }
        if [.fmsub_d, .fnmadd_d, .fmsub_s, .fnmadd_s].contains(i.opcode) { c = self.b.unary(.fneg, c, type: type) }
        let v = self.b.ternary(.ffma, a, b, c, type: type)
        if double { writeDouble(i.rd, v) } else { writeSingle(i.rd, v) }
    }

    /// rs1 + imm.
    private mutating func address(_ i: Instruction) -> Value { binary(.iadd, read(i.rs1), constant(i.imm)) }

    private mutating func compare(_ i: Instruction, _ cond: FloatCondition, double: Bool) {
        let c = double
            ? b.fcmp(cond, readDouble(i.rs1), readDouble(i.rs2)) : b.fcmp(cond, readSingle(i.rs1), readSingle(i.rs2))
        write(i.rd, unary(.bint, c))
    }

    /// fsgnj/fsgnjn/fsgnjx: rs1's magnitude with rs2's sign, its negation, or the two signs'
    /// exclusive or. The same register twice is fmv, fneg or fabs.
    private mutating func signInjection(_ i: Instruction, double: Bool) {
        let negate = i.opcode == .fsgnjn_d || i.opcode == .fsgnjn_s
        let exclusive = i.opcode == .fsgnjx_d || i.opcode == .fsgnjx_s
        if i.rs1 == i.rs2 {
            if double {
                if negate {
                    writeDouble(i.rd, b.unary(.fneg, readDouble(i.rs1), type: .f64))
                } else if exclusive {
                    writeDouble(i.rd, b.unary(.fabs, readDouble(i.rs1), type: .f64))
                } else {
                    let bits = readBits(i.rs1), value = doubles[Int(i.rs1)]
                    writeBits(i.rd, bits)
                    doubles[Int(i.rd)] = value
                }
            } else {
                let v = readSingle(i.rs1)
                writeSingle(i.rd, negate ? b.unary(.fneg, v, type: .f32) : exclusive ? b.unary(.fabs, v, type: .f32) : v)
            }
            return
        }
        let sign = constant(double ? Self.signBit64 : Self.signBit32)
        let a = double ? readBits(i.rs1) : b.unary(.f32ToBits, readSingle(i.rs1))
        let c = double ? readBits(i.rs2) : b.unary(.f32ToBits, readSingle(i.rs2))
        let magnitude = binary(.band, a, unary(.bnot, sign))
        let bits: Value
        if exclusive {
            bits = binary(.bxor, a, binary(.band, c, sign))
        } else {
            bits = binary(.bor, magnitude, binary(.band, negate ? unary(.bnot, c) : c, sign))
        }
        if double {
            writeBits(i.rd, bits)
        } else {
            writeSingle(i.rd, b.unary(.f32FromBits, bits))
        }
    }
}
