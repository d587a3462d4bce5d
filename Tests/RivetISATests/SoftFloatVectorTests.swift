import Glibc
import Testing

@testable import RivetISA

/// SoftFloat against vectors recorded on a RISC-V reference (qemu-riscv64): every F and D
/// computational instruction, every rounding mode including RMM, with `fflags`.
///
/// The vectors are `FloatVectors/vectors.txt`, written by `FloatVectors/regenerate.sh` from
/// `FloatVectors/generator.c.in`; see the generator for the line format. `RIVET_FLOAT_VECTORS`
/// names another file to check instead (a larger set the script writes elsewhere).
@Suite struct SoftFloatVectorTests {
    /// One instruction as the interpreter performs it: operands as read from the vector line,
    /// rounding mode, flags; the 64-bit value RISC-V writes to the destination (32-bit
    /// floating-point results unboxed, 32-bit integer results sign-extended).
    typealias Semantics = @Sendable (_ operands: [UInt64], _ rm: UInt8, _ flags: inout UInt8) -> UInt64

    static func s(_ x: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: x) }
    static func sext(_ x: Int32) -> UInt64 { UInt64(bitPattern: Int64(x)) }
    static func sext(_ x: UInt32) -> UInt64 { sext(Int32(bitPattern: x)) }

    /// The instructions, built as `Interpreter+Float.swift` builds them from SoftFloat.
    static let instructions: [String: (operands: Int, rounds: Bool, semantics: Semantics)] = {
        let n32: UInt32 = 0x8000_0000
        let n64: UInt64 = 0x8000_0000_0000_0000
        return [
            "fadd.s": (2, true, { o, m, f in UInt64(SoftFloat.add32(s(o[0]), s(o[1]), m, &f)) }),
            "fsub.s": (2, true, { o, m, f in UInt64(SoftFloat.sub32(s(o[0]), s(o[1]), m, &f)) }),
            "fmul.s": (2, true, { o, m, f in UInt64(SoftFloat.mul32(s(o[0]), s(o[1]), m, &f)) }),
            "fdiv.s": (2, true, { o, m, f in UInt64(SoftFloat.div32(s(o[0]), s(o[1]), m, &f)) }),
            "fsqrt.s": (1, true, { o, m, f in UInt64(SoftFloat.sqrt32(s(o[0]), m, &f)) }),
            "fmadd.s": (3, true, { o, m, f in UInt64(SoftFloat.fma32(s(o[0]), s(o[1]), s(o[2]), m, &f)) }),
            "fmsub.s": (3, true, { o, m, f in UInt64(SoftFloat.fma32(s(o[0]), s(o[1]), s(o[2]) ^ n32, m, &f)) }),
            "fnmsub.s": (3, true, { o, m, f in UInt64(SoftFloat.fma32(s(o[0]) ^ n32, s(o[1]), s(o[2]), m, &f)) }),
            "fnmadd.s": (
                3, true, { o, m, f in UInt64(SoftFloat.fma32(s(o[0]) ^ n32, s(o[1]), s(o[2]) ^ n32, m, &f)) }
            ),
            "fmin.s": (2, false, { o, _, f in UInt64(SoftFloat.min32(s(o[0]), s(o[1]), &f)) }),
            "fmax.s": (2, false, { o, _, f in UInt64(SoftFloat.max32(s(o[0]), s(o[1]), &f)) }),
            "feq.s": (2, false, { o, _, f in SoftFloat.eq32(s(o[0]), s(o[1]), &f) ? 1 : 0 }),
            "flt.s": (2, false, { o, _, f in SoftFloat.lt32(s(o[0]), s(o[1]), &f) ? 1 : 0 }),
            "fle.s": (2, false, { o, _, f in SoftFloat.le32(s(o[0]), s(o[1]), &f) ? 1 : 0 }),
            "fclass.s": (1, false, { o, _, _ in SoftFloat.classify32(s(o[0])) }),
            "fcvt.w.s": (1, true, { o, m, f in sext(SoftFloat.f32ToI32(s(o[0]), m, &f)) }),
            "fcvt.wu.s": (1, true, { o, m, f in sext(SoftFloat.f32ToU32(s(o[0]), m, &f)) }),
            "fcvt.l.s": (1, true, { o, m, f in UInt64(bitPattern: SoftFloat.f32ToI64(s(o[0]), m, &f)) }),
            "fcvt.lu.s": (1, true, { o, m, f in SoftFloat.f32ToU64(s(o[0]), m, &f) }),
            "fcvt.s.w": (1, true, { o, m, f in UInt64(SoftFloat.i32ToF32(Int32(truncatingIfNeeded: o[0]), m, &f)) }),
            "fcvt.s.wu": (1, true, { o, m, f in UInt64(SoftFloat.u32ToF32(s(o[0]), m, &f)) }),
            "fcvt.s.l": (1, true, { o, m, f in UInt64(SoftFloat.i64ToF32(Int64(bitPattern: o[0]), m, &f)) }),
            "fcvt.s.lu": (1, true, { o, m, f in UInt64(SoftFloat.u64ToF32(o[0], m, &f)) }),
            "fadd.d": (2, true, { o, m, f in SoftFloat.add64(o[0], o[1], m, &f) }),
            "fsub.d": (2, true, { o, m, f in SoftFloat.sub64(o[0], o[1], m, &f) }),
            "fmul.d": (2, true, { o, m, f in SoftFloat.mul64(o[0], o[1], m, &f) }),
            "fdiv.d": (2, true, { o, m, f in SoftFloat.div64(o[0], o[1], m, &f) }),
            "fsqrt.d": (1, true, { o, m, f in SoftFloat.sqrt64(o[0], m, &f) }),
            "fmadd.d": (3, true, { o, m, f in SoftFloat.fma64(o[0], o[1], o[2], m, &f) }),
            "fmsub.d": (3, true, { o, m, f in SoftFloat.fma64(o[0], o[1], o[2] ^ n64, m, &f) }),
            "fnmsub.d": (3, true, { o, m, f in SoftFloat.fma64(o[0] ^ n64, o[1], o[2], m, &f) }),
            "fnmadd.d": (3, true, { o, m, f in SoftFloat.fma64(o[0] ^ n64, o[1], o[2] ^ n64, m, &f) }),
            "fmin.d": (2, false, { o, _, f in SoftFloat.min64(o[0], o[1], &f) }),
            "fmax.d": (2, false, { o, _, f in SoftFloat.max64(o[0], o[1], &f) }),
            "feq.d": (2, false, { o, _, f in SoftFloat.eq64(o[0], o[1], &f) ? 1 : 0 }),
            "flt.d": (2, false, { o, _, f in SoftFloat.lt64(o[0], o[1], &f) ? 1 : 0 }),
            "fle.d": (2, false, { o, _, f in SoftFloat.le64(o[0], o[1], &f) ? 1 : 0 }),
            "fclass.d": (1, false, { o, _, _ in SoftFloat.classify64(o[0]) }),
            "fcvt.w.d": (1, true, { o, m, f in sext(SoftFloat.f64ToI32(o[0], m, &f)) }),
            "fcvt.wu.d": (1, true, { o, m, f in sext(SoftFloat.f64ToU32(o[0], m, &f)) }),
            "fcvt.l.d": (1, true, { o, m, f in UInt64(bitPattern: SoftFloat.f64ToI64(o[0], m, &f)) }),
            "fcvt.lu.d": (1, true, { o, m, f in SoftFloat.f64ToU64(o[0], m, &f) }),
            "fcvt.d.w": (1, true, { o, m, f in SoftFloat.i32ToF64(Int32(truncatingIfNeeded: o[0]), m, &f) }),
            "fcvt.d.wu": (1, true, { o, m, f in SoftFloat.u32ToF64(s(o[0]), m, &f) }),
            "fcvt.d.l": (1, true, { o, m, f in SoftFloat.i64ToF64(Int64(bitPattern: o[0]), m, &f) }),
            "fcvt.d.lu": (1, true, { o, m, f in SoftFloat.u64ToF64(o[0], m, &f) }),
            "fcvt.s.d": (1, true, { o, m, f in UInt64(SoftFloat.f64ToF32(o[0], m, &f)) }),
            "fcvt.d.s": (1, true, { o, _, f in SoftFloat.f32ToF64(s(o[0]), &f) }),
        ]
    }()

    @Test func matchesRecordedRISCVResults() throws {
        let committed = FloatTest.repositoryRoot + "/Tests/RivetISATests/FloatVectors/vectors.txt"
        let path = getenv("RIVET_FLOAT_VECTORS").map { String(cString: $0) } ?? committed
        let text = try #require(FloatTest.readText(path), "cannot read \(path)")
        var checked = 0
        var perInstruction: [String: Int] = [:]
        var rmmTies = 0
        var failures: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard let name = fields.first, let instruction = Self.instructions[name] else {
                failures.append("unknown line: \(line)")
                continue
            }
            let operands = fields[1...instruction.operands].map { UInt64($0, radix: 16)! }
            let results = fields[(instruction.operands + 1)...].map { UInt64($0, radix: 16)! }
            let modes = instruction.rounds ? 5 : 1
            #expect(results.count == 2 * modes, "malformed line: \(line)")
            guard results.count == 2 * modes else { continue }
            for rm in 0..<modes {
                var flags: UInt8 = 0
                let value = instruction.semantics(operands, UInt8(rm), &flags)
                let (expected, expectedFlags) = (results[2 * rm], UInt8(results[2 * rm + 1]))
                if value != expected || flags != expectedFlags {
                    failures.append(
                        "\(name) \(operands.map { FloatTest.hex($0) }.joined(separator: " ")) "
                            + "\(FloatTest.modeNames[rm]): got \(FloatTest.hex(value)) \(FloatTest.flagNames(flags)), "
                            + "want \(FloatTest.hex(expected)) \(FloatTest.flagNames(expectedFlags))")
                }
                checked += 1
            }
            perInstruction[name, default: 0] += 1
            if modes == 5 && results[0] != results[8] { rmmTies += 1 }
        }
        #expect(failures.isEmpty, "\(failures.count) mismatches, first: \(failures.prefix(25).joined(separator: "\n"))")
        // Every instruction is covered, and RMM ties are well represented.
        #expect(Set(perInstruction.keys) == Set(Self.instructions.keys))
        #expect(rmmTies > 1000)
        #expect(checked > 60_000)
    }
}
