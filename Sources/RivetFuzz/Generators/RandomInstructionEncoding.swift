import RivetISA

/// Encodes instructions from `EncodingTable` (a row's match bits with the operand fields its
/// format lays out), and describes them in an objdump-like form for failure reports.
package enum RandomInstructionEncoding {
    /// The 32-bit encoding of `inst`: `row.match | operand fields`, with any operand bits that
    /// fall inside the row's mask dropped (they are fixed by the row).
    package static func encode(_ inst: Instruction) -> UInt32 {
        let row = EncodingTable.row(for: inst.opcode)
        let rd = UInt32(inst.rd & 31) << 7
        let rs1 = UInt32(inst.rs1 & 31) << 15
        let rs2 = UInt32(inst.rs2 & 31) << 20
        let rs3 = UInt32(inst.rs3 & 31) << 27
        let rm = UInt32(inst.rm & 7) << 12
        let imm = UInt32(truncatingIfNeeded: inst.imm)
        let fields: UInt32
        switch row.format {
        case .none, .system:
            fields = 0
        case .r, .fr, .fcmp:
            fields = rd | rs1 | rs2
        case .i, .load, .jalr, .fload:
            fields = rd | rs1 | (imm & 0xfff) << 20
        case .shift64:
            fields = rd | rs1 | (imm & 63) << 20
        case .shift32:
            fields = rd | rs1 | (imm & 31) << 20
        case .s, .fstore:
            fields = rs1 | rs2 | (imm >> 5 & 0x7f) << 25 | (imm & 31) << 7
        case .b:
            fields = rs1 | rs2 | (imm >> 12 & 1) << 31 | (imm >> 5 & 0x3f) << 25 | (imm >> 1 & 0xf) << 8
                | (imm >> 11 & 1) << 7
        case .u:
            fields = rd | (imm & 0xffff_f000)
        case .j:
            fields = rd | (imm >> 20 & 1) << 31 | (imm >> 1 & 0x3ff) << 21 | (imm >> 11 & 1) << 20
                | (imm >> 12 & 0xff) << 12
        case .fence, .csr, .csrImm:
            fields = rd | rs1 | (imm & 0xfff) << 20
        case .amo, .lr:
            fields = rd | rs1 | rs2 | UInt32(inst.rm & 3) << 25
        case .fr4:
            fields = rd | rs1 | rs2 | rs3 | rm
        case .frm:
            fields = rd | rs1 | rs2 | rm
        case .funaryRM, .fToInt, .intToF:
            fields = rd | rs1 | rm
        case .fToIntRaw, .intToFRaw, .unary:
            fields = rd | rs1
        case .cbo:
            fields = rs1
        case .fli:
            fields = rd | (imm & 31) << 15
        }
        return row.match | (fields & ~row.mask)
    }

    /// Encodes `inst` and checks that the decoder reads back the same operation.
    package static func encodeChecked(_ inst: Instruction) -> UInt32 {
        let word = encode(inst)
        let decoded = Decoder.decode32(word)
        precondition(
            decoded.opcode == inst.opcode,
            "encoded \(inst.opcode.mnemonic) as 0x\(paddedHex(word, 8)), which decodes as \(decoded.opcode.mnemonic)")
        return word
    }

    // MARK: Fixed instructions for prologues and epilogues

    /// `lui rd, upper`.
    package static func lui(_ rd: Int, _ upper: UInt32) -> UInt32 {
        encodeChecked(Instruction(opcode: .lui, rd: UInt8(rd), imm: Int64(Int32(bitPattern: upper << 12))))
    }
    /// `addi rd, rs1, imm`.
    package static func addi(_ rd: Int, _ rs1: Int, _ imm: Int) -> UInt32 {
        encodeChecked(Instruction(opcode: .addi, rd: UInt8(rd), rs1: UInt8(rs1), imm: Int64(imm)))
    }
    /// `ld rd, offset(base)`.
    package static func ld(_ rd: Int, _ offset: Int, _ base: Int) -> UInt32 {
        encodeChecked(Instruction(opcode: .ld, rd: UInt8(rd), rs1: UInt8(base), imm: Int64(offset)))
    }
    /// `sd rs2, offset(base)`.
    package static func sd(_ rs2: Int, _ offset: Int, _ base: Int) -> UInt32 {
        encodeChecked(Instruction(opcode: .sd, rs1: UInt8(base), rs2: UInt8(rs2), imm: Int64(offset)))
    }
    /// `fld rd, offset(base)`.
    package static func fld(_ rd: Int, _ offset: Int, _ base: Int) -> UInt32 {
        encodeChecked(Instruction(opcode: .fld, rd: UInt8(rd), rs1: UInt8(base), imm: Int64(offset)))
    }
    /// `fsd rs2, offset(base)`.
    package static func fsd(_ rs2: Int, _ offset: Int, _ base: Int) -> UInt32 {
        encodeChecked(Instruction(opcode: .fsd, rs1: UInt8(base), rs2: UInt8(rs2), imm: Int64(offset)))
    }
    /// `csrrw rd, csr, rs1`.
    package static func csrrw(_ rd: Int, _ csr: CSR, _ rs1: Int) -> UInt32 {
        encodeChecked(Instruction(opcode: .csrrw, rd: UInt8(rd), rs1: UInt8(rs1), imm: Int64(csr.rawValue)))
    }
    /// `csrrs rd, csr, x0`: a read.
    package static func csrr(_ rd: Int, _ csr: CSR) -> UInt32 {
        encodeChecked(Instruction(opcode: .csrrs, rd: UInt8(rd), rs1: 0, imm: Int64(csr.rawValue)))
    }
    /// `ecall`.
    package static let ecall = encodeChecked(Instruction(opcode: .ecall))

    /// `lui` + `addi` putting a 32-bit address (below 2 GiB) into `rd`.
    package static func loadAddress(_ rd: Int, _ address: UInt64) -> [UInt32] {
        precondition(address < 0x7fff_f000)
        let low = Int(Int64(bitPattern: address << 52) >> 52)  // the sign-extended low 12 bits
        let high = UInt32((Int64(address) - Int64(low)) >> 12) & 0xfffff
        return [lui(rd, high), addi(rd, rd, low)]
    }

    // MARK: Descriptions

    private static let roundingNames = ["rne", "rtz", "rdn", "rup", "rmm", "rm5", "rm6", "dyn"]

    /// `add a0, a1, a2`, `ld t0, -8(a5)`, `fmadd.d fa0, fa1, fa2, fa3, rtz`, `c: addi s0, s0, 4`.
    package static func describe(_ inst: Instruction) -> String {
        let format = inst.opcode.format
        func reg(_ n: UInt8, _ cls: RegisterClass) -> String {
            switch cls {
            case .integer: integerRegisterNames[Int(n)]
            case .float: floatRegisterNames[Int(n)]
            case .none: "?"
            }
        }
        let rd = reg(inst.rd, format.rdClass)
        let rs1 = reg(inst.rs1, format.rs1Class)
        let rs2 = reg(inst.rs2, format.rs2Class)
        let rm = roundingNames[Int(inst.rm & 7)]
        var mnemonic = inst.opcode.mnemonic
        let operands: String
        switch format {
        case .none: operands = "0x" + paddedHex(inst.raw, inst.isCompressed ? 4 : 8)
        case .system: operands = ""
        case .r, .fr, .fcmp: operands = "\(rd), \(rs1), \(rs2)"
        case .i, .shift64, .shift32: operands = "\(rd), \(rs1), \(inst.imm)"
        case .load, .jalr, .fload: operands = "\(rd), \(inst.imm)(\(rs1))"
        case .s, .fstore: operands = "\(rs2), \(inst.imm)(\(rs1))"
        case .b: operands = "\(rs1), \(rs2), \(inst.imm)"
        case .u: operands = "\(rd), 0x" + paddedHex(UInt32(truncatingIfNeeded: inst.imm) >> 12, 1)
        case .j: operands = "\(rd), \(inst.imm)"
        case .fence: operands = "fm=\(inst.imm >> 8 & 15) pred=\(inst.imm >> 4 & 15) succ=\(inst.imm & 15)"
        case .csr, .csrImm:
            let name = CSR(rawValue: UInt32(inst.imm & 0xfff))?.name ?? "0x" + paddedHex(UInt32(inst.imm & 0xfff), 3)
            operands = format == .csr ? "\(rd), \(name), \(rs1)" : "\(rd), \(name), \(inst.rs1)"
        case .amo, .lr:
            if inst.rm & 2 != 0 { mnemonic += ".aq" }
            if inst.rm & 1 != 0 { mnemonic += ".rl" }
            operands = format == .lr ? "\(rd), (\(rs1))" : "\(rd), \(rs2), (\(rs1))"
        case .fr4: operands = "\(rd), \(rs1), \(rs2), \(reg(inst.rs3, .float)), \(rm)"
        case .frm: operands = "\(rd), \(rs1), \(rs2), \(rm)"
        case .funaryRM, .fToInt, .intToF: operands = "\(rd), \(rs1), \(rm)"
        case .fToIntRaw, .intToFRaw, .unary: operands = "\(rd), \(rs1)"
        case .cbo: operands = "(\(rs1))"
        case .fli: operands = "\(rd), #\(inst.imm)"
        }
        let text = operands.isEmpty ? mnemonic : mnemonic + " " + operands
        return inst.isCompressed ? "c: " + text : text
    }
}

/// `value` in hex, zero-padded to at least `width` digits.
package func paddedHex<T: BinaryInteger>(_ value: T, _ width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
