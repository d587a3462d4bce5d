#if Benchmarks
/// A tiny RV64 assembler for the fixed guest loops the interpreter benchmarks run: just the
/// forms they use, encoded from the RISC-V unprivileged spec. These are fixtures, not a tested
/// encoder: the output was checked once against GNU objdump
/// (`riscv64-linux-gnu-objdump -D -b binary -m riscv:rv64`), and every loop must end in its
/// `ecall` or `GuestLoop.run` stops the benchmark.
struct GuestProgram {
    /// Integer register numbers (ABI names).
    enum X {
        static let zero = 0, ra = 1, sp = 2, t0 = 5, t1 = 6, t2 = 7
        static let a0 = 10, a1 = 11, a2 = 12, a3 = 13, a4 = 14, a5 = 15, t3 = 28
    }

    private(set) var words: [UInt32] = []

    /// The byte offset of the next instruction, for labels.
    var here: Int { words.count * 4 }

    private mutating func r(_ funct7: UInt32, _ rs2: Int, _ rs1: Int, _ funct3: UInt32, _ rd: Int, _ opcode: UInt32) {
        words.append(funct7 << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | funct3 << 12 | UInt32(rd) << 7 | opcode)
    }

    private mutating func i(_ imm: Int, _ rs1: Int, _ funct3: UInt32, _ rd: Int, _ opcode: UInt32) {
        precondition(imm >= -2048 && imm < 2048, "immediate out of range")
        words.append(UInt32(imm & 0xfff) << 20 | UInt32(rs1) << 15 | funct3 << 12 | UInt32(rd) << 7 | opcode)
    }

    private mutating func s(_ imm: Int, _ rs2: Int, _ rs1: Int, _ funct3: UInt32) {
        let bits = UInt32(imm & 0xfff)
        words.append((bits >> 5) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15 | funct3 << 12 | (bits & 31) << 7 | 0x23)
    }

    mutating func add(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0, rs2, rs1, 0, rd, 0x33) }
    mutating func sub(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0x20, rs2, rs1, 0, rd, 0x33) }
    mutating func xor(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0, rs2, rs1, 4, rd, 0x33) }
    mutating func or(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0, rs2, rs1, 6, rd, 0x33) }
    mutating func mul(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(1, rs2, rs1, 0, rd, 0x33) }
    mutating func addi(_ rd: Int, _ rs1: Int, _ imm: Int) { i(imm, rs1, 0, rd, 0x13) }
    mutating func andi(_ rd: Int, _ rs1: Int, _ imm: Int) { i(imm, rs1, 7, rd, 0x13) }
    mutating func slli(_ rd: Int, _ rs1: Int, _ shift: Int) { i(shift, rs1, 1, rd, 0x13) }
    mutating func srli(_ rd: Int, _ rs1: Int, _ shift: Int) { i(shift, rs1, 5, rd, 0x13) }
    mutating func ld(_ rd: Int, _ offset: Int, _ rs1: Int) { i(offset, rs1, 3, rd, 0x03) }
    mutating func lw(_ rd: Int, _ offset: Int, _ rs1: Int) { i(offset, rs1, 2, rd, 0x03) }
    mutating func sd(_ rs2: Int, _ offset: Int, _ rs1: Int) { s(offset, rs2, rs1, 3) }
    mutating func sw(_ rs2: Int, _ offset: Int, _ rs1: Int) { s(offset, rs2, rs1, 2) }
    mutating func jalr(_ rd: Int, _ rs1: Int, _ offset: Int) { i(offset, rs1, 0, rd, 0x67) }
    mutating func ret() { jalr(X.zero, X.ra, 0) }
    mutating func ecall() { words.append(0x0000_0073) }

    /// `lui rd, imm20`: rd = imm20 << 12, sign-extended.
    mutating func lui(_ rd: Int, _ imm20: Int) { words.append(UInt32(imm20 & 0xfffff) << 12 | UInt32(rd) << 7 | 0x37) }

    /// rd = value, for 0 <= value < 2^31 (lui + addi).
    mutating func li(_ rd: Int, _ value: Int) {
        precondition(value >= 0 && value < 1 << 31)
        let low = (value << 52) >> 52          // the low 12 bits, sign-extended
        let high = (value - low) >> 12
        if high != 0 {
            lui(rd, high)
            if low != 0 { addi(rd, rd, low) }
        } else {
            addi(rd, X.zero, low)
        }
    }

    /// `bne rs1, rs2, target` to the byte offset `target` in this program.
    mutating func bne(_ rs1: Int, _ rs2: Int, to target: Int) {
        let offset = UInt32(bitPattern: Int32(target - here))
        let encoded = (offset >> 12 & 1) << 31 | (offset >> 5 & 0x3f) << 25 | UInt32(rs2) << 20 | UInt32(rs1) << 15
            | 1 << 12 | (offset >> 1 & 0xf) << 8 | (offset >> 11 & 1) << 7 | 0x63
        words.append(encoded)
    }

    /// `jal rd, target` to the byte offset `target` in this program.
    mutating func jal(_ rd: Int, to target: Int) {
        let offset = UInt32(bitPattern: Int32(target - here))
        let encoded = (offset >> 20 & 1) << 31 | (offset >> 1 & 0x3ff) << 21 | (offset >> 11 & 1) << 20
            | (offset >> 12 & 0xff) << 12 | UInt32(rd) << 7 | 0x6f
        words.append(encoded)
    }

    /// FP (D extension), dynamic rounding mode.
    mutating func faddD(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0x01, rs2, rs1, 7, rd, 0x53) }
    mutating func fmulD(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0x09, rs2, rs1, 7, rd, 0x53) }
    mutating func fdivD(_ rd: Int, _ rs1: Int, _ rs2: Int) { r(0x0d, rs2, rs1, 7, rd, 0x53) }
    /// `fcvt.d.l rd, rs1`: integer to double.
    mutating func fcvtDL(_ rd: Int, _ rs1: Int) { r(0x69, 2, rs1, 7, rd, 0x53) }

    /// The little-endian bytes of the program.
    var bytes: [UInt8] {
        words.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
    }
}
#endif
