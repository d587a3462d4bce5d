import RivetX64
import Testing

/// Every form, in every size, with every register and the memory and immediate edge cases:
/// the printer's text must be objdump's text for the encoder's bytes, and objdump must find
/// the instruction boundaries the encoder produced.
@Suite(.enabled(if: Objdump.isAvailable, "needs GNU objdump"))
struct ObjdumpSweepTests {
    @Test func everyFormVariantMatchesObjdump() throws {
        var instructions: [X64Instruction] = []
        for form in X64Form.allCases {
            let variants = FormVariants.of(form)
            #expect(!variants.isEmpty, "no variants of \(form)")
            instructions += variants
        }
        let decoded = try #require(Objdump.texts(of: instructions))
        var mismatches = 0
        for (k, inst) in instructions.enumerated() {
            let ours = X64Printer.text(inst, address: UInt64(decoded.addresses[k]))
            if ours != decoded.texts[k] {
                mismatches += 1
                if mismatches <= 40 {
                    let hex = inst.bytes.map { String($0, radix: 16) }.joined(separator: " ")
                    Issue.record("\(inst.form) [\(hex)]: printer \"\(ours)\", objdump \"\(decoded.texts[k])\"")
                }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(instructions.count) variants differ")
    }
}
