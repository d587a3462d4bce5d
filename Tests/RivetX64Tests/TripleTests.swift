import RivetX64
import Testing

/// An encoder test case: an instruction, its bytes in hex, and its text as objdump prints it.
struct X64Triple: Sendable {
    let instruction: X64Instruction
    let bytes: String
    let text: String

    init(_ instruction: X64Instruction, _ bytes: String, _ text: String) {
        self.instruction = instruction
        self.bytes = bytes
        self.text = text
    }
}

/// Bytes as objdump shows them: two hex digits each, separated by spaces.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
}

@Suite struct TripleTests {
    static let all = integerTriples + moveControlTriples + sseTriples + memoryTriples

    @Test func encoderProducesTheCommittedBytes() {
        for triple in Self.all {
            #expect(hex(triple.instruction.bytes) == triple.bytes, "\(triple.text)")
        }
    }

    @Test func printerProducesTheCommittedText() {
        for triple in Self.all {
            #expect(triple.instruction.description == triple.text)
        }
    }

    @Test func lengthMatchesTheBytes() {
        for triple in Self.all {
            #expect(triple.instruction.length == triple.bytes.split(separator: " ").count, "\(triple.text)")
        }
    }

    @Test func everyFormHasATriple() {
        let covered = Set(Self.all.map(\.instruction.form))
        let missing = X64Form.allCases.filter { !covered.contains($0) }
        #expect(missing.isEmpty, "no triple for \(missing)")
    }

    /// The committed bytes decode, under GNU objdump, to the committed text.
    @Test(.enabled(if: Objdump.isAvailable, "needs GNU objdump"))
    func committedBytesDisassembleToTheCommittedText() throws {
        let decoded = try #require(Objdump.texts(of: Self.all.map(\.instruction)))
        for (k, triple) in Self.all.enumerated() {
            // objdump sees the instruction at its offset in the concatenation, which moves
            // branch targets and RIP-relative comments: print ours at the same address.
            let ours = X64Printer.text(triple.instruction, address: UInt64(decoded.addresses[k]))
            #expect(decoded.texts[k] == ours, "\(triple.bytes)")
        }
    }
}
