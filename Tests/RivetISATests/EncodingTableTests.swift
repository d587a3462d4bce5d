import Testing

@testable import RivetISA

@Suite struct EncodingTableTests {
    @Test func rowsAreInOpcodeOrder() {
        #expect(EncodingTable.rows.count == Opcode.allCases.count)
        for (row, opcode) in zip(EncodingTable.rows, Opcode.allCases) {
            #expect(row.opcode == opcode)
        }
    }

    @Test func everyRowDecodesToItself() {
        for row in EncodingTable.rows where row.opcode != .illegal {
            // The match bits with every operand field zero, except a valid rounding mode.
            let word = row.match
            let inst = Decoder.decode32(word)
            #expect(inst.opcode == row.opcode, "\(row.mnemonic)")
        }
    }

    @Test func noTwoRowsOverlap() {
        let rows = EncodingTable.rows.filter { $0.opcode != .illegal }
        for (k, a) in rows.enumerated() {
            for b in rows[(k + 1)...] {
                let common = a.mask & b.mask
                #expect(a.match & common != b.match & common, "\(a.mnemonic) overlaps \(b.mnemonic)")
            }
        }
    }

    @Test func illegalEncodingsDecodeAsIllegal() {
        #expect(Decoder.decode32(0).opcode == .illegal)
        #expect(Decoder.decode32(0xffff_ffff).opcode == .illegal)
        #expect(Decoder.decodeCompressed(0).opcode == .illegal)
        // fadd.d with the reserved rounding mode 5.
        #expect(Decoder.decode32(0x02c5_d553).opcode == .illegal)
    }

    @Test func compressedExpansions() {
        // c.addi sp,-16 = addi sp,sp,-16
        #expect(Decoder.decodeCompressed(0x1141) == Instruction(opcode: .addi, rd: 2, rs1: 2, length: 2, imm: -16, raw: 0x1141))
        // c.mv a0,a1 = add a0,zero,a1
        #expect(Decoder.decodeCompressed(0x852e) == Instruction(opcode: .add, rd: 10, rs1: 0, rs2: 11, length: 2, raw: 0x852e))
        // c.sdsp ra,8(sp)
        #expect(Decoder.decodeCompressed(0xe406) == Instruction(opcode: .sd, rs1: 2, rs2: 1, length: 2, imm: 8, raw: 0xe406))
        // c.jr ra = jalr zero,0(ra)
        #expect(Decoder.decodeCompressed(0x8082) == Instruction(opcode: .jalr, rd: 0, rs1: 1, length: 2, imm: 0, raw: 0x8082))
    }

    @Test func everyParcelDecodesWithoutCrashing() {
        for parcel in 0...UInt32(0xffff) {
            let inst = Decoder.decode(low: UInt16(parcel), high: 0x1234)
            #expect(inst.length == 2 || inst.length == 4)
        }
    }
}
