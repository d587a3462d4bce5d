/// Decodes RV64GC instructions and the extensions of `EncodingTable`, driven by that table.
///
/// Decoding is total: every bit pattern yields an `Instruction`, and a pattern that encodes no
/// RV64GC instruction yields `Opcode.illegal`.
public enum Decoder {
    /// Rows bucketed by the major opcode (bits 6:2) and funct3 (bits 14:12), tried in table
    /// order: a row whose mask leaves funct3 bits open is in every bucket it allows. Flat
    /// arrays: `starts[key]..<starts[key + 1]` index `rows`, each what decoding needs of a row.
    /// (A bucket a major opcode, nested arrays of whole rows, mnemonics included, took decoding
    /// `startup`'s blocks 2-3% longer: `ab.py`, 31 runs.)
    private static let buckets: (starts: [Int32], rows: [(match: UInt32, mask: UInt32, opcode: Opcode, format: Format)]) = {
        // Each row into the buckets of its major opcode that its funct3 allows, in table order
        // (one pass over the table: one per bucket was 1% of a hello world's run).
        var bucketed = [[(match: UInt32, mask: UInt32, opcode: Opcode, format: Format)]](repeating: [], count: 256)
        for row in EncodingTable.rows where row.opcode != .illegal {
            let major = Int((row.match >> 2) & 31)
            for funct3 in 0..<8 where UInt32(funct3) << 12 & row.mask & 0x7000 == row.match & row.mask & 0x7000 {
                bucketed[major << 3 | funct3].append((row.match, row.mask, row.opcode, row.format))
            }
        }
        var starts: [Int32] = []
        var entries: [(match: UInt32, mask: UInt32, opcode: Opcode, format: Format)] = []
        for bucket in bucketed {
            starts.append(Int32(entries.count))
            entries += bucket
        }
        starts.append(Int32(entries.count))
        return (starts, entries)
    }()

    /// The length in bytes of the instruction whose first 16-bit parcel is `parcel`: 2 for
    /// compressed encodings, 4 otherwise. (Longer encodings are not part of RV64GC; their first
    /// parcel decodes as a 4-byte illegal instruction.)
    @inline(__always)
    public static func length(ofParcel parcel: UInt16) -> Int {
        parcel & 3 == 3 ? 4 : 2
    }

    /// Decodes the instruction starting with `low`; `high` is the following parcel, used only
    /// when `low` starts a 32-bit encoding.
    public static func decode(low: UInt16, high: UInt16) -> Instruction {
        if low & 3 != 3 { return decodeCompressed(low) }
        return decode32(UInt32(low) | UInt32(high) << 16)
    }

    /// Decodes the instruction at the start of `word` (its first parcel in the low 16 bits): a
    /// compressed one from those bits alone, else the whole word.
    @inline(__always)
    public static func decode(word: UInt32) -> Instruction {
        let low = UInt16(truncatingIfNeeded: word)
        return length(ofParcel: low) == 2 ? decodeCompressed(low) : decode32(word)
    }

    /// Decodes a 32-bit instruction word.
    public static func decode32(_ word: UInt32) -> Instruction {
        guard word & 3 == 3, word & 0x1c != 0x1c else { return .illegal(raw: word, length: 4) }
        let key = Int((word >> 2) & 31) << 3 | Int((word >> 12) & 7)
        let table = buckets
        var k = Int(table.starts[key])
        let end = Int(table.starts[key + 1])
        while k < end {
            let entry = table.rows[k]
            if word & entry.mask == entry.match { return operands(of: word, opcode: entry.opcode, format: entry.format) }
            k += 1
        }
        return .illegal(raw: word, length: 4)
    }

    private static func operands(of w: UInt32, opcode: Opcode, format: Format) -> Instruction {
        var inst = Instruction(opcode: opcode, length: 4, raw: w)
        let sw = Int32(bitPattern: w)
        let rd = UInt8((w >> 7) & 31)
        let rs1 = UInt8((w >> 15) & 31)
        let rs2 = UInt8((w >> 20) & 31)
        let rm = UInt8((w >> 12) & 7)
        switch format {
        case .none:
            return .illegal(raw: w, length: 4)
        case .r, .fr, .fcmp:
            inst.rd = rd; inst.rs1 = rs1; inst.rs2 = rs2
        case .i, .load, .jalr, .fload:
            inst.rd = rd; inst.rs1 = rs1; inst.imm = Int64(sw >> 20)
        case .shift64:
            inst.rd = rd; inst.rs1 = rs1; inst.imm = Int64((w >> 20) & 63)
        case .shift32:
            inst.rd = rd; inst.rs1 = rs1; inst.imm = Int64((w >> 20) & 31)
        case .s, .fstore:
            inst.rs1 = rs1; inst.rs2 = rs2
            inst.imm = Int64((sw >> 25) << 5 | Int32((w >> 7) & 31))
        case .b:
            inst.rs1 = rs1; inst.rs2 = rs2
            let imm = (sw >> 31) << 12 | Int32((w >> 7) & 1) << 11 | Int32((w >> 25) & 0x3f) << 5
                | Int32((w >> 8) & 0xf) << 1
            inst.imm = Int64(imm)
        case .u:
            inst.rd = rd; inst.imm = Int64(Int32(bitPattern: w & 0xffff_f000))
        case .j:
            inst.rd = rd
            let imm = (sw >> 31) << 20 | Int32((w >> 12) & 0xff) << 12 | Int32((w >> 20) & 1) << 11
                | Int32((w >> 21) & 0x3ff) << 1
            inst.imm = Int64(imm)
        case .fence:
            inst.rd = rd; inst.rs1 = rs1; inst.imm = Int64(w >> 20)
        case .system:
            break
        case .csr, .csrImm:
            inst.rd = rd; inst.rs1 = rs1; inst.imm = Int64(w >> 20)
        case .amo, .lr:
            inst.rd = rd; inst.rs1 = rs1; inst.rs2 = rs2; inst.rm = UInt8((w >> 25) & 3)
        case .fr4:
            inst.rd = rd; inst.rs1 = rs1; inst.rs2 = rs2; inst.rs3 = UInt8(w >> 27); inst.rm = rm
        case .frm:
            inst.rd = rd; inst.rs1 = rs1; inst.rs2 = rs2; inst.rm = rm
        case .funaryRM, .fToInt, .intToF:
            inst.rd = rd; inst.rs1 = rs1; inst.rm = rm
        case .fToIntRaw, .intToFRaw, .unary:
            inst.rd = rd; inst.rs1 = rs1
        case .cbo:
            inst.rs1 = rs1
        case .fli:
            inst.rd = rd; inst.imm = Int64(rs1)
        }
        if format.hasRoundingMode && (rm == 5 || rm == 6) {
            return .illegal(raw: w, length: 4)
        }
        return inst
    }
}
