import RivetX64
import Testing

@Suite struct FormTableTests {
    @Test func rowsAreInFormOrder() {
        #expect(X64FormTable.rows.count == X64Form.allCases.count)
        for (row, form) in zip(X64FormTable.rows, X64Form.allCases) {
            #expect(row.form == form)
        }
    }

    @Test func rowsAreConsistent() {
        for row in X64FormTable.rows {
            let kinds = row.operandList
            #expect(!row.sizes.isEmpty, "\(row.form) accepts no size")
            // An 8-bit size on a form with a sized operand needs the w bit, unless the opcode
            // is byte-only (setcc's operand is a fixed byte).
            if row.sizes.contains(.b8) && (kinds.contains(.rm) || kinds.contains(.reg)) {
                #expect(row.flags.contains(.w), "\(row.form) allows 8 bits without a w bit")
            }
            if row.flags.contains(.w) {
                #expect(row.opcode.bytes.last! & 1 == 1, "\(row.form): w forms list the full-size opcode")
            }
            #expect(kinds.filter(\.isImmediate).count <= 1, "\(row.form) has two immediates")
            #expect(kinds.filter(\.isInModRMRm).count <= 1, "\(row.form) has two r/m operands")
            #expect(!(row.modRMExtension != nil && (kinds.contains(.reg) || kinds.contains(.xreg))),
                    "\(row.form) uses ModRM.reg twice")
            if row.flags.contains(.lockable) {
                #expect(kinds.first == .rm, "\(row.form) is lockable without an r/m destination")
            }
            if row.flags.contains(.conditional) || kinds.contains(.opReg) {
                #expect(row.opcode.bytes.last! & 0x0F == 0 || kinds.contains(.opReg), "\(row.form)")
                #expect(row.opcode.bytes.last! & 0x07 == 0, "\(row.form): low opcode bits must be free")
            }
        }
    }

    /// No two forms produce the same bytes for the same operands (a copy-paste slip in the table
    /// would show up as two forms with one encoding).
    @Test func formsHaveDistinctEncodings() {
        var seen: [[UInt8]: X64Form] = [:]
        for form in X64Form.allCases {
            let row = form.row
            let size: X64OperandSize = row.sizes.contains(.b64) ? .b64 : row.sizes.contains(.b32) ? .b32 : .b16
            guard row.sizes.contains(size) else { continue }
            var inst = X64Instruction(form, size: size, reg: 1, rm: row.operandList.contains(.mem) || row.operandList.contains(.mem32)
                                          ? .memory(.at(.rdx)) : .register(2))
            if form == .xchgRegAcc { inst.reg = 3 }
            let bytes = inst.bytes
            // Forms that differ only by mnemonic-chosen size (cdq/cqo) still differ in bytes.
            #expect(seen[bytes] == nil, "\(form) encodes like \(seen[bytes].map { "\($0)" } ?? "")")
            seen[bytes] = form
        }
    }
}
