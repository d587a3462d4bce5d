/// RVC (the C extension, RV64 variant): each 16-bit encoding expands to the 32-bit instruction
/// it stands for, following the RISC-V Unprivileged ISA manual, chapter "Compressed Instruction
/// Formats" and its RVC opcode map. Reserved encodings decode as illegal.
extension Decoder {
    public static func decodeCompressed(_ parcel: UInt16) -> Instruction {
        let c = UInt32(parcel)
        func bits(_ hi: UInt32, _ lo: UInt32) -> UInt32 { (c >> lo) & ((1 << (hi - lo + 1)) - 1) }
        func bit(_ n: UInt32) -> UInt32 { (c >> n) & 1 }
        func signExtend(_ value: UInt32, _ width: UInt32) -> Int64 {
            let shift = 32 - width
            return Int64(Int32(bitPattern: value << shift) >> shift)
        }
        let illegal = Instruction.illegal(raw: c, length: 2)
        func make(_ op: Opcode, rd: UInt32 = 0, rs1: UInt32 = 0, rs2: UInt32 = 0, imm: Int64 = 0)
            -> Instruction
        {
            Instruction(
                opcode: op, rd: UInt8(rd), rs1: UInt8(rs1), rs2: UInt8(rs2),
                rm: op.format.hasRoundingMode ? RoundingMode.dyn.rawValue : 0, length: 2, imm: imm,
                raw: c)
        }
        let rdFull = bits(11, 7)
        let rs2Full = bits(6, 2)
        let rdPrime = bits(4, 2) + 8  // rd' / rs2' in CIW, CL, CS, CA
        let rs1Prime = bits(9, 7) + 8  // rs1' / rd' in CL, CS, CB, CA
        let funct3 = bits(15, 13)

        switch (c & 3, funct3) {
        // Quadrant 0
        case (0, 0):  // c.addi4spn
            let imm = bits(12, 11) << 4 | bits(10, 7) << 6 | bit(6) << 2 | bit(5) << 3
            guard imm != 0 else { return illegal }
            return make(.addi, rd: rdPrime, rs1: 2, imm: Int64(imm))
        case (0, 1):  // c.fld
            let imm = bits(12, 10) << 3 | bits(6, 5) << 6
            return make(.fld, rd: rdPrime, rs1: rs1Prime, imm: Int64(imm))
        case (0, 2):  // c.lw
            let imm = bits(12, 10) << 3 | bit(6) << 2 | bit(5) << 6
            return make(.lw, rd: rdPrime, rs1: rs1Prime, imm: Int64(imm))
        case (0, 3):  // c.ld
            let imm = bits(12, 10) << 3 | bits(6, 5) << 6
            return make(.ld, rd: rdPrime, rs1: rs1Prime, imm: Int64(imm))
        case (0, 4):
            return illegal
        case (0, 5):  // c.fsd
            let imm = bits(12, 10) << 3 | bits(6, 5) << 6
            return make(.fsd, rs1: rs1Prime, rs2: rdPrime, imm: Int64(imm))
        case (0, 6):  // c.sw
            let imm = bits(12, 10) << 3 | bit(6) << 2 | bit(5) << 6
            return make(.sw, rs1: rs1Prime, rs2: rdPrime, imm: Int64(imm))
        case (0, 7):  // c.sd
            let imm = bits(12, 10) << 3 | bits(6, 5) << 6
            return make(.sd, rs1: rs1Prime, rs2: rdPrime, imm: Int64(imm))

        // Quadrant 1
        case (1, 0):  // c.addi, c.nop
            let imm = signExtend(bit(12) << 5 | bits(6, 2), 6)
            return make(.addi, rd: rdFull, rs1: rdFull, imm: imm)
        case (1, 1):  // c.addiw
            guard rdFull != 0 else { return illegal }
            let imm = signExtend(bit(12) << 5 | bits(6, 2), 6)
            return make(.addiw, rd: rdFull, rs1: rdFull, imm: imm)
        case (1, 2):  // c.li
            let imm = signExtend(bit(12) << 5 | bits(6, 2), 6)
            return make(.addi, rd: rdFull, rs1: 0, imm: imm)
        case (1, 3):
            if rdFull == 2 {  // c.addi16sp
                let raw = bit(12) << 9 | bit(6) << 4 | bit(5) << 6 | bits(4, 3) << 7 | bit(2) << 5
                guard raw != 0 else { return illegal }
                return make(.addi, rd: 2, rs1: 2, imm: signExtend(raw, 10))
            }
            // c.lui
            let raw = bit(12) << 17 | bits(6, 2) << 12
            guard raw != 0 else { return illegal }
            return make(.lui, rd: rdFull, imm: signExtend(raw, 18))
        case (1, 4):
            switch bits(11, 10) {
            case 0:  // c.srli
                return make(.srli, rd: rs1Prime, rs1: rs1Prime, imm: Int64(bit(12) << 5 | bits(6, 2)))
            case 1:  // c.srai
                return make(.srai, rd: rs1Prime, rs1: rs1Prime, imm: Int64(bit(12) << 5 | bits(6, 2)))
            case 2:  // c.andi
                let imm = signExtend(bit(12) << 5 | bits(6, 2), 6)
                return make(.andi, rd: rs1Prime, rs1: rs1Prime, imm: imm)
            default:
                let ops: [Opcode?] =
                    bit(12) == 0 ? [.sub, .xor, .or, .and] : [.subw, .addw, nil, nil]
                guard let op = ops[Int(bits(6, 5))] else { return illegal }
                return make(op, rd: rs1Prime, rs1: rs1Prime, rs2: rdPrime)
            }
        case (1, 5):  // c.j
            let raw = bit(12) << 11 | bit(11) << 4 | bits(10, 9) << 8 | bit(8) << 10 | bit(7) << 6
                | bit(6) << 7 | bits(5, 3) << 1 | bit(2) << 5
            return make(.jal, rd: 0, imm: signExtend(raw, 12))
        case (1, 6), (1, 7):  // c.beqz, c.bnez
            let raw = bit(12) << 8 | bits(11, 10) << 3 | bits(6, 5) << 6 | bits(4, 3) << 1
                | bit(2) << 5
            return make(funct3 == 6 ? .beq : .bne, rs1: rs1Prime, rs2: 0, imm: signExtend(raw, 9))

        // Quadrant 2
        case (2, 0):  // c.slli
            return make(.slli, rd: rdFull, rs1: rdFull, imm: Int64(bit(12) << 5 | bits(6, 2)))
        case (2, 1):  // c.fldsp
            let imm = bit(12) << 5 | bits(6, 5) << 3 | bits(4, 2) << 6
            return make(.fld, rd: rdFull, rs1: 2, imm: Int64(imm))
        case (2, 2):  // c.lwsp
            guard rdFull != 0 else { return illegal }
            let imm = bit(12) << 5 | bits(6, 4) << 2 | bits(3, 2) << 6
            return make(.lw, rd: rdFull, rs1: 2, imm: Int64(imm))
        case (2, 3):  // c.ldsp
            guard rdFull != 0 else { return illegal }
            let imm = bit(12) << 5 | bits(6, 5) << 3 | bits(4, 2) << 6
            return make(.ld, rd: rdFull, rs1: 2, imm: Int64(imm))
        case (2, 4):
            if bit(12) == 0 {
                if rs2Full == 0 {  // c.jr
                    guard rdFull != 0 else { return illegal }
                    return make(.jalr, rd: 0, rs1: rdFull, imm: 0)
                }
                return make(.add, rd: rdFull, rs1: 0, rs2: rs2Full)  // c.mv
            }
            if rs2Full == 0 {
                if rdFull == 0 { return make(.ebreak) }  // c.ebreak
                return make(.jalr, rd: 1, rs1: rdFull, imm: 0)  // c.jalr
            }
            return make(.add, rd: rdFull, rs1: rdFull, rs2: rs2Full)  // c.add
        case (2, 5):  // c.fsdsp
            let imm = bits(12, 10) << 3 | bits(9, 7) << 6
            return make(.fsd, rs1: 2, rs2: rs2Full, imm: Int64(imm))
        case (2, 6):  // c.swsp
            let imm = bits(12, 9) << 2 | bits(8, 7) << 6
            return make(.sw, rs1: 2, rs2: rs2Full, imm: Int64(imm))
        case (2, 7):  // c.sdsp
            let imm = bits(12, 10) << 3 | bits(9, 7) << 6
            return make(.sd, rs1: 2, rs2: rs2Full, imm: Int64(imm))
        default:
            return illegal
        }
    }
}
