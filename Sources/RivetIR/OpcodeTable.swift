// The opcode table: one row per opcode, written as one exhaustive switch so that a new opcode
// cannot be added without its row. Semantics here are the contract the evaluator
// (Semantics.swift), the passes and the x86-64 backend implement.
//
// Vocabulary (after QEMU's tcg-ops.rst): "undefined" means a valid program never does it (the
// verifier or the producer rules it out); "unspecified" means it may happen and yields some
// value of the type without any other effect. This IR has neither for its integer operations:
// every one is total, with RISC-V's results for division.

private let i64 = TypeRule.fixed(.i64)
private let b1 = TypeRule.fixed(.b1)
private let f32 = TypeRule.fixed(.f32)
private let f64 = TypeRule.fixed(.f64)
private let ctrl = TypeRule.controlling

private let pure: Effects = [.isPure]
private let loadEffects: Effects = [.readsMemory, .canFault]
private let storeEffects: Effects = [.writesMemory, .canFault]

extension OpcodeInfo {
    /// The row of `op`.
    static func row(_ op: Opcode) -> OpcodeInfo {
        func r(
            _ name: String, _ format: InstFormat, _ operands: [TypeRule], _ result: TypeRule?,
            _ controlling: ControllingTypes = .none, _ effects: Effects = pure, doc: String
        ) -> OpcodeInfo {
            OpcodeInfo(
                name: name, format: format, operands: operands, result: result, controlling: controlling,
                effects: effects, doc: doc)
        }
        func binary(_ name: String, _ doc: String) -> OpcodeInfo { r(name, .binary, [i64, i64], i64, doc: doc) }
        func unary(_ name: String, _ doc: String) -> OpcodeInfo { r(name, .unary, [i64], i64, doc: doc) }
        func fbinary(_ name: String, _ doc: String) -> OpcodeInfo {
            r(name, .binary, [ctrl, ctrl], ctrl, .floats, [.raisesFPFlags], doc: doc + " Round to nearest, ties to even; a NaN result is the canonical NaN (0x7ff8000000000000 / 0x7fc00000); raises IEEE flags as RISC-V does (tininess after rounding).")
        }
        func load(_ name: String, _ result: TypeRule, _ doc: String) -> OpcodeInfo {
            r(name, .load, [i64], result, .none, loadEffects, doc: doc + " The operand is a guest address (the backend adds the arena base); faults if the guest may not read it, with the instruction's exit state. No alignment is required.")
        }
        func store(_ name: String, _ value: TypeRule, _ doc: String) -> OpcodeInfo {
            r(name, .store, [i64, value], nil, .none, storeEffects, doc: doc + " Operands: guest address, value. Faults if the guest may not write the address, with the instruction's exit state, before any byte is written. No alignment is required.")
        }
        switch op {
        case .iconst: return r("iconst", .constant, [], i64, doc: "A 64-bit constant (printed signed decimal or 0x hex).")
        case .bconst: return r("bconst", .constant, [], b1, doc: "A boolean constant: true or false.")
        case .f32const: return r("f32const", .constant, [], f32, doc: "A binary32 constant given by its bit pattern (any NaN payload is kept).")
        case .f64const: return r("f64const", .constant, [], f64, doc: "A binary64 constant given by its bit pattern (any NaN payload is kept).")
        case .iadd: return binary("iadd", "a + b, wrapping modulo 2^64.")
        case .isub: return binary("isub", "a - b, wrapping modulo 2^64.")
        case .imul: return binary("imul", "The low 64 bits of a * b.")
        case .imulhs: return binary("imulhs", "The high 64 bits of the 128-bit product of signed a and signed b.")
        case .imulhu: return binary("imulhu", "The high 64 bits of the 128-bit product of unsigned a and unsigned b.")
        case .imulhsu: return binary("imulhsu", "The high 64 bits of the 128-bit product of signed a and unsigned b.")
        case .sdiv: return binary("sdiv", "Signed a / b rounded toward zero. Defined everywhere: a / 0 is -1 (all ones); INT64_MIN / -1 is INT64_MIN.")
        case .udiv: return binary("udiv", "Unsigned a / b. Defined everywhere: a / 0 is 2^64 - 1 (all ones).")
        case .srem: return binary("srem", "Signed remainder, sign of a. Defined everywhere: a % 0 is a; INT64_MIN % -1 is 0.")
        case .urem: return binary("urem", "Unsigned remainder. Defined everywhere: a % 0 is a.")
        case .band: return binary("band", "Bitwise and.")
        case .bor: return binary("bor", "Bitwise or.")
        case .bxor: return binary("bxor", "Bitwise exclusive or.")
        case .bnot: return unary("bnot", "Bitwise complement.")
        case .ineg: return unary("ineg", "0 - a, wrapping.")
        case .shl: return binary("shl", "a << (b mod 64).")
        case .ushr: return binary("ushr", "Logical a >> (b mod 64).")
        case .sshr: return binary("sshr", "Arithmetic a >> (b mod 64).")
        case .rotl: return binary("rotl", "a rotated left by b mod 64.")
        case .rotr: return binary("rotr", "a rotated right by b mod 64.")
        case .sext8: return unary("sext8", "Sign-extends the low 8 bits to 64.")
        case .sext16: return unary("sext16", "Sign-extends the low 16 bits to 64.")
        case .sext32: return unary("sext32", "Sign-extends the low 32 bits to 64.")
        case .zext8: return unary("zext8", "Zero-extends the low 8 bits to 64.")
        case .zext16: return unary("zext16", "Zero-extends the low 16 bits to 64.")
        case .zext32: return unary("zext32", "Zero-extends the low 32 bits to 64.")
        case .clz: return unary("clz", "Count of leading zero bits; 64 for 0.")
        case .ctz: return unary("ctz", "Count of trailing zero bits; 64 for 0.")
        case .popcnt: return unary("popcnt", "Count of one bits.")
        case .bswap: return unary("bswap", "The 8 bytes in reverse order.")
        case .fclass32: return unary("fclass32", "RISC-V's fclass.s of the binary32 in the low 32 bits (the others ignored): the mask with one bit set, 1 << k for k = -infinity, negative normal, negative subnormal, -0, +0, positive subnormal, positive normal, +infinity, signaling NaN, quiet NaN.")
        case .fclass64: return unary("fclass64", "RISC-V's fclass.d of the binary64 a: the mask as for fclass32.")
        case .icmp: return r("icmp", .compare, [i64, i64], b1, doc: "Compares two integers with a condition (eq ne slt sle sgt sge ult ule ugt uge).")
        case .select: return r("select", .ternary, [b1, ctrl, ctrl], ctrl, .any, doc: "c ? a : b. Both a and b are computed (no short circuit).")
        case .bint: return r("bint", .unary, [b1], i64, doc: "A boolean as an integer: 1 for true, 0 for false.")
        case .fadd: return fbinary("fadd", "a + b.")
        case .fsub: return fbinary("fsub", "a - b.")
        case .fmul: return fbinary("fmul", "a * b.")
        case .fdiv: return fbinary("fdiv", "a / b (x/0 is an infinity, 0/0 the canonical NaN).")
        case .fsqrt: return r("fsqrt", .unary, [ctrl], ctrl, .floats, [.raisesFPFlags], doc: "The correctly rounded square root; a negative non-zero operand or NaN gives the canonical NaN; sqrt(-0) is -0. Raises invalid and inexact as RISC-V does.")
        case .ffma: return r("ffma", .ternary, [ctrl, ctrl, ctrl], ctrl, .floats, [.raisesFPFlags], doc: "a * b + c with one rounding (to nearest, ties to even); a NaN result is the canonical NaN; raises IEEE flags as RISC-V's fmadd, invalid for infinity times zero even when c is a quiet NaN.")
        case .fneg: return r("fneg", .unary, [ctrl], ctrl, .floats, doc: "Flips the sign bit (NaN payloads kept: a bit operation, not arithmetic).")
        case .fabs: return r("fabs", .unary, [ctrl], ctrl, .floats, doc: "Clears the sign bit (NaN payloads kept).")
        case .fmin: return r("fmin", .binary, [ctrl, ctrl], ctrl, .floats, [.raisesFPFlags], doc: "The smaller value, RISC-V (IEEE 754-2019 minimumNumber) rules: one NaN operand gives the other operand, two give the canonical NaN; -0 is smaller than +0. Raises invalid for a signaling NaN operand.")
        case .fmax: return r("fmax", .binary, [ctrl, ctrl], ctrl, .floats, [.raisesFPFlags], doc: "The larger value, RISC-V rules as for fmin; +0 is larger than -0.")
        case .fcmp: return r("fcmp", .compare, [ctrl, ctrl], b1, .floats, [.raisesFPFlags], doc: "Compares two floats with a condition (eq ne lt le gt ge uno ord); only ne and uno are true on NaN. eq, ne, uno and ord are quiet (invalid only for a signaling NaN operand, as RISC-V's feq); lt, le, gt and ge signal (invalid for any NaN operand, as flt and fle).")
        case .fcmpSilent: return r("fcmp_silent", .compare, [ctrl, ctrl], b1, .floats, doc: "fcmp that raises no flag, not even for a signaling NaN (so it is pure): RISC-V's `frflags t; flt a, b, c; fsflags t`, which puts back the flags the compare raised.")
        case .bitcast: return r("bitcast", .unary, [.bitcastSource], ctrl, .i64OrF64, doc: "Reinterprets the 64 bits of an i64 as an f64 (bitcast.f64) or back (bitcast.i64).")
        case .f32FromBits: return r("f32_from_bits", .unary, [i64], f32, doc: "The binary32 whose bits are the low 32 bits of the operand (the high bits are ignored: no NaN-boxing check here).")
        case .f32ToBits: return r("f32_to_bits", .unary, [f32], i64, doc: "The 32 bits of the binary32, zero-extended to 64.")
        case .sitof: return r("sitof", .unary, [i64], ctrl, .floats, [.raisesFPFlags], doc: "The signed 64-bit integer as a float, rounded to nearest, ties to even; raises inexact when not exact.")
        case .ftosi32: return r("ftosi32", .unary, [ctrl], i64, .floats, [.raisesFPFlags], doc: "The float rounded toward zero to a signed 32-bit integer, sign-extended: RISC-V's fcvt.w with rtz. NaN and values too large give 2^31 - 1, values too small -2^31, raising invalid (only); other inexact results raise inexact.")
        case .ftosi64: return r("ftosi64", .unary, [ctrl], i64, .floats, [.raisesFPFlags], doc: "The float rounded toward zero to a signed 64-bit integer: RISC-V's fcvt.l with rtz. NaN and values too large give 2^63 - 1, values too small -2^63, raising invalid (only); other inexact results raise inexact.")
        case .fpromote: return r("fpromote", .unary, [f32], f64, .none, [.raisesFPFlags], doc: "The binary32 as a binary64 (exact); a NaN gives the canonical NaN, a signaling one raising invalid.")
        case .fdemote: return r("fdemote", .unary, [f64], f32, .none, [.raisesFPFlags], doc: "The binary64 rounded to a binary32 (to nearest, ties to even); a NaN gives the canonical NaN; raises IEEE flags as RISC-V's fcvt.s.d.")
        case .getSlot: return r("get_slot", .getSlot, [], ctrl, .any, [.readsState], doc: "Reads a guest-state slot from the state struct; the suffix is the slot's type.")
        case .setSlot: return r("set_slot", .setSlot, [ctrl], nil, .none, [.writesState], doc: "Writes a value of the slot's type into the state struct.")
        case .loadI64: return load("load.i64", i64, "Loads 8 bytes, little endian.")
        case .uload8: return load("uload8", i64, "Loads a byte, zero-extended.")
        case .sload8: return load("sload8", i64, "Loads a byte, sign-extended.")
        case .uload16: return load("uload16", i64, "Loads 2 bytes, zero-extended.")
        case .sload16: return load("sload16", i64, "Loads 2 bytes, sign-extended.")
        case .uload32: return load("uload32", i64, "Loads 4 bytes, zero-extended.")
        case .sload32: return load("sload32", i64, "Loads 4 bytes, sign-extended.")
        case .loadF32: return load("load.f32", f32, "Loads a binary32 (4 bytes).")
        case .loadF64: return load("load.f64", f64, "Loads a binary64 (8 bytes).")
        case .store8: return store("store8", i64, "Stores the low byte.")
        case .store16: return store("store16", i64, "Stores the low 2 bytes.")
        case .store32: return store("store32", i64, "Stores the low 4 bytes.")
        case .store64: return store("store64", i64, "Stores 8 bytes, little endian.")
        case .storeF32: return store("store.f32", f32, "Stores a binary32 (4 bytes).")
        case .storeF64: return store("store.f64", f64, "Stores a binary64 (8 bytes).")
        case .call: return r("call", .call, [], nil, .none, [.callsHelper], doc: "Calls a declared helper with its declared parameter types; its effects are the helper's. A helper that can fault carries an exit state.")
        case .jump: return r("jump", .jump, [], nil, .none, [.isTerminator], doc: "Continues at a block, passing its parameters.")
        case .brif: return r("brif", .brif, [b1], nil, .none, [.isTerminator], doc: "Continues at the first block if the condition is true, else at the second.")
        case .exit: return r("exit", .exit, [], nil, .none, [.isTerminator], doc: "Leaves the region for a constant guest pc; the exit state's entries are guest state not yet in the struct, to be written before leaving.")
        case .exitIndirect: return r("exit_indirect", .exitIndirect, [i64], nil, .none, [.isTerminator], doc: "Leaves the region for a computed guest pc, with an exit state as for exit (whose pc is unused).")
        case .trap: return r("trap", .trap, [], nil, .none, [.isTerminator], doc: "Unreachable: undefined if executed (the evaluator reports it; passes may assume it is not reached but do not exploit it).")
        }
    }
}
