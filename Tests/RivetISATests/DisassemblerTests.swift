import Glibc
import Testing

@testable import RivetISA

/// The disassembler against GNU objdump 2.40.
///
/// `Golden/` holds files built from `allforms.S` (an object file with every RV64GC instruction
/// form and the operand choices that change how objdump prints it), `extensions.S` (the same
/// for Zba, Zbb, Zbs, Zicbom, Zicboz and Zihintpause), `linked.S` (a small static
/// executable) and `dynamic.c` (a dynamically linked one), with the listings
/// `riscv64-linux-gnu-objdump -d` printed for them; `Golden/regenerate.sh` rebuilds all of
/// them. Our listing must match line for line. When objdump is installed, further tests
/// compare live against it, on the golden files and on random instruction words.
@Suite struct DisassemblerTests {
    /// The `Golden` directory beside this file.
    static let golden: String = {
        let file = "\(#filePath)"
        return String(file[..<file.lastIndex(of: "/")!]) + "/Golden"
    }()

    /// Our listing of `Golden/name`, as `objdump -d name` prints it.
    static func listing(of name: String) throws -> String {
        let bytes = try #require(Host.read("\(golden)/\(name)"), "cannot read Golden/\(name)")
        return try Listing(elf: bytes, fileName: name).text
    }

    /// The golden files and their listings.
    static let goldenFiles = [
        ("allforms.o", "allforms.objdump"), ("extensions.o", "extensions.objdump"), ("linked", "linked.objdump"),
        ("dynamic", "dynamic.objdump"),
    ]

    @Test(arguments: goldenFiles) func matchesGoldenListing(file: String, listing: String) throws {
        let expected = try #require(Host.read("\(Self.golden)/\(listing)"))
        expectSameLines(try Self.listing(of: file), String(decoding: expected, as: UTF8.self))
    }

    @Test func rejectsWhatIsNotRISCVELF() {
        #expect(throws: ObjectFileError("not an ELF file")) { try Listing(elf: [0, 1, 2], fileName: "x") }
        var header = [UInt8](repeating: 0, count: 64)
        header[0..<6] = [0x7f, 0x45, 0x4c, 0x46, 2, 1]
        header[16] = 1  // ET_REL
        header[18] = 62  // x86-64
        #expect(throws: ObjectFileError("an x86-64 object file, not RISC-V")) { try Listing(elf: header, fileName: "x") }
        header[4] = 1  // ELFCLASS32
        header[18] = 243
        #expect(throws: ObjectFileError("a 32-bit RISC-V object file (RV32); Rivet disassembles RV64 only")) {
            try Listing(elf: header, fileName: "x")
        }
    }

    @Test func singleInstructions() {
        let disassembler = Disassembler()
        func text(_ word: UInt32, at pc: UInt64 = 0x1000) -> String {
            disassembler.text(Decoder.decode(low: UInt16(word & 0xffff), high: UInt16(word >> 16)), at: pc)
        }
        #expect(text(0x1141) == "add\tsp,sp,-16")
        #expect(text(0x00b50533) == "add\ta0,a0,a1")
        #expect(text(0x8082) == "ret")
        #expect(text(0x0080_00ef) == "jal\t0x1008")
        #expect(text(0x0200_0053 | 1 << 12) == "fadd.d\tft0,ft0,ft0,rtz")
        #expect(text(0x0030_1073) == "fscsr\tzero")
        #expect(text(0x1605_a52f) == "lr.w.aqrl\ta0,(a1)")
        #expect(text(0x0102_3583) == "ld\ta1,16(tp) # 0x10")
        #expect(text(0xffff_ffff) == ".4byte\t0xffffffff")
        let named = Disassembler(symbolizer: { $0 == 0x1008 ? "foo" : nil })
        #expect(named.text(Decoder.decode32(0x0080_00ef), at: 0x1000) == "jal\t1008 <foo>")
    }

    @Test func extensionsPrintOnlyWhenEnabled() {
        func text(_ word: UInt32, _ extensions: Set<Extension> = Extension.all) -> String {
            Disassembler(extensions: extensions).text(Decoder.decode32(word), at: 0)
        }
        #expect(text(0x20c5_a533) == "sh1add\ta0,a1,a2")
        #expect(text(0x20c5_a533, Extension.rv64gc) == ".4byte\t0x20c5a533")
        #expect(text(0x0805_853b) == "zext.w\ta0,a1")
        #expect(text(0x4bf5_9513) == "bclr\ta0,a1,0x3f")
        #expect(text(0x0835_951b) == "slli.uw\ta0,a1,0x3")
        #expect(text(0x0045_200f) == "cbo.zero\t(a0)")
        // Zicond as binutils 2.41 prints it; binutils 2.40 does not know it.
        #expect(text(0x0e57_55b3) == "czero.eqz\ta1,a4,t0")
        #expect(text(0x0e57_55b3, Extension.binutils240) == ".4byte\t0xe5755b3")
        // Zfa as binutils 2.41 prints it.
        #expect(text(0xf210_8553) == "fli.d\tfa0,min")
        #expect(text(0xf016_0553) == "fli.s\tfa0,0x1p-1")
        #expect(text(0xc285_9553) == "fcvtmod.w.d\ta0,fa1,rtz")
        #expect(text(0x4245_f553) == "fround.d\tfa0,fa1")
        #expect(text(0x4255_8553) == "froundnx.d\tfa0,fa1,rne")
        #expect(text(0xa0c5_c553) == "fleq.s\ta0,fa1,fa2")
        #expect(text(0xf210_8553, Extension.binutils240) == ".4byte\t0xf2108553")
        // pause is `fence w,0`.
        #expect(text(0x0100_000f) == "pause")
        #expect(text(0x0100_000f, Extension.rv64gc) == "fence\tw,unknown")
    }

    @Test func extensionsFromTheArchAttribute() {
        let arch = "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zicond1p0_zihintpause2p0_zmmul1p0_zba1p0_zbs1p0"
        #expect(Extension.decodedByObjdump(arch: arch) == Extension.rv64gc.union([.zihintpause, .zba, .zbs]))
        #expect(Extension.decodedByObjdump(arch: "rv64gc") == Extension.rv64gc)
    }

    @Test func addressCommentsFollowAuipc() {
        let disassembler = Disassembler(symbolizer: { "sym+0x\(String($0 &- 0x2000, radix: 16))" })
        var context = Disassembler.Context()
        let auipc = Decoder.decode32(0x0000_1517)  // auipc a0,0x1
        let addi = Decoder.decode32(0x0105_0513)  // addi a0,a0,16
        #expect(disassembler.text(auipc, at: 0x1000, context: &context) == "auipc\ta0,0x1")
        #expect(disassembler.text(addi, at: 0x1004, context: &context) == "add\ta0,a0,16 # 2010 <sym+0x10>")
        // The pending address is used up.
        #expect(disassembler.text(addi, at: 0x1008, context: &context) == "add\ta0,a0,16")
    }

    @Test func privilegedSpecFromAttributes() {
        // 'A', subsection "riscv" with a file sub-subsection: priv_spec 1, minor 11.
        let tags: [UInt8] = [8, 1, 10, 11]
        let file: [UInt8] = [1] + le32(5 + tags.count) + tags
        let vendor: [UInt8] = Array("riscv".utf8) + [0]
        let section: [UInt8] = [0x41] + le32(4 + vendor.count + file.count) + vendor + file
        #expect(PrivilegedSpec(attributesSection: section) == .v1_11)
        #expect(CSRNames.name(of: 0x10a, spec: .v1_11) == nil)
        #expect(CSRNames.name(of: 0x10a, spec: .v1_12) == "senvcfg")
        #expect(CSRNames.name(of: 0x043, spec: .v1_9_1) == "ubadaddr")
    }

    private func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xff) } }
}

/// Live comparisons with the installed objdump; skipped when it is missing.
@Suite struct DisassemblerObjdumpTests {
    static let objdump = "riscv64-linux-gnu-objdump"
    static let available = Host.run("command -v \(objdump) >/dev/null 2>&1 && \(objdump) --version") != nil

    @Test(.enabled(if: available)) func goldenListingsAreCurrent() throws {
        for (name, _) in DisassemblerTests.goldenFiles {
            let live = try #require(Host.run("cd '\(DisassemblerTests.golden)' && \(Self.objdump) -d \(name)"))
            expectSameLines(try DisassemblerTests.listing(of: name), live)
        }
    }

    /// Every 16-bit parcel, the SYSTEM opcode's funct3 = 0 corner, and random 32-bit words
    /// biased towards the operand values that select aliases; `RIVET_DISASM_FUZZ=N` raises the
    /// number of words per form.
    @Test(.enabled(if: available)) func randomWordsMatchObjdump() throws {
        var random = RandomWords(seed: 0x5249_5645_5421)
        let perForm = getenv("RIVET_DISASM_FUZZ").flatMap { Int(String(cString: $0)) } ?? 24
        var bytes: [UInt8] = []
        func append(_ word: UInt32, _ count: Int) {
            for k in 0..<count { bytes.append(UInt8((word >> (8 * UInt32(k))) & 0xff)) }
        }
        for parcel in 0..<UInt32(0x10000) where parcel & 3 != 3 { append(parcel, 2) }
        for row in EncodingTable.rows where row.opcode != .illegal {
            for _ in 0..<perForm { append(random.biasedWord() & ~row.mask | row.match, 4) }
        }
        // The SYSTEM opcode's corner where objdump knows privileged instructions.
        for imm in 0..<UInt32(4096) {
            for (rs1, rd) in [(0, 0), (11, 0), (0, 10), (11, 10)] as [(UInt32, UInt32)] {
                append(imm << 20 | rs1 << 15 | rd << 7 | 0x73, 4)
            }
        }
        for _ in 0..<perForm * 100 {
            var word = UInt32(truncatingIfNeeded: random.next()) | 3
            if word & 0x1c == 0x1c { word &= ~0x10 }
            append(word, 4)
        }
        let path = try #require(Host.temporaryFile(bytes))
        defer { unlink(path) }
        let live = try #require(Host.run("\(Self.objdump) -D -b binary -m riscv:rv64 '\(path)'"))
        let ours = Listing(
            fileName: path, sections: [Listing.Section(name: ".data", address: 0, bytes: bytes)],
            symbols: [], isRelocatable: false
        ).text
        // The header names the file format, which is "binary" here.
        expectSameLines(ours, live, from: 3)
    }
}

/// Live comparisons for the extensions objdump decodes only in a file whose attributes name
/// them: random words are assembled (`.insn`) into an object file built for those extensions.
@Suite struct ExtensionObjdumpTests {
    static let assembler = "riscv64-linux-gnu-as"
    static let march = "rv64gc_zba_zbb_zbs_zicbom_zicboz_zihintpause"
    static let available =
        DisassemblerObjdumpTests.available && Host.run("command -v \(assembler) >/dev/null 2>&1 && echo") != nil

    /// Random words for every row of the extensions (zicond too: objdump 2.40 must print it as
    /// `.4byte`, as our listing does), and random words across the major opcodes they share
    /// with the base ISA, with the funct fields often near theirs.
    @Test(.enabled(if: available)) func randomWordsMatchObjdump() throws {
        var random = RandomWords(seed: 0x5a42_4253)
        let perForm = getenv("RIVET_DISASM_FUZZ").flatMap { Int(String(cString: $0)) } ?? 48
        var words: [UInt32] = []
        for row in EncodingTable.rows where !Extension.rv64gc.contains(row.isa) {
            for _ in 0..<perForm { words.append(random.biasedWord() & ~row.mask | row.match) }
        }
        let majors: [UInt32] = [0x0f, 0x13, 0x1b, 0x33, 0x3b]
        let funct7s: [UInt32] = [0x00, 0x04, 0x05, 0x07, 0x10, 0x14, 0x20, 0x24, 0x30, 0x34, 0x35]
        for _ in 0..<perForm * 200 {
            var word = random.biasedWord() & ~0x7f | majors[Int(random.next() % 5)]
            if random.next() % 2 == 0 { word = word & 0x01ff_ffff | funct7s[Int(random.next() % 11)] << 25 }
            words.append(word)
        }
        let scratch = try #require(Host.run("mktemp -d")?.split(separator: "\n").first.map(String.init))
        defer { _ = Host.run("rm -rf '\(scratch)'") }
        let source = ".option norvc\n.text\n.globl _start\n_start:\n" + words.map { ".insn 4, 0x" + hexDigits($0) + "\n" }.joined()
        let sourceBytes = Array(source.utf8)
        let temporary = try #require(Host.temporaryFile(sourceBytes))
        defer { unlink(temporary) }
        try #require(
            Host.run("\(Self.assembler) -march=\(Self.march) -o '\(scratch)/words.o' '\(temporary)'") != nil)
        let live = try #require(Host.run("cd '\(scratch)' && \(DisassemblerObjdumpTests.objdump) -d words.o"))
        let bytes = try #require(Host.read("\(scratch)/words.o"))
        expectSameLines(try Listing(elf: bytes, fileName: "words.o").text, live)
    }
}

/// Records an issue unless `actual` and `expected` have the same lines (from line `first` on),
/// naming the first differing lines.
func expectSameLines(
    _ actual: String, _ expected: String, from first: Int = 0, sourceLocation: SourceLocation = #_sourceLocation
) {
    let a = Array(actual.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(first))
    let e = Array(expected.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(first))
    let differing = zip(a, e).enumerated().filter { $0.element.0 != $0.element.1 }
    var report = differing.prefix(10).map { n, pair in
        "line \(n + first + 1):\n  expected: \(pair.1)\n  actual:   \(pair.0)"
    }
    if a.count != e.count { report.append("expected \(e.count + first) lines, got \(a.count + first)") }
    guard !report.isEmpty else { return }
    Issue.record(
        "\(differing.count) lines differ from objdump's; the first:\n\(report.joined(separator: "\n"))",
        sourceLocation: sourceLocation)
}

/// A small deterministic generator of instruction words (SplitMix64 underneath).
private struct RandomWords {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A random word whose register fields are often 0 or small and whose immediate and
    /// funct3 fields often take edge values.
    mutating func biasedWord() -> UInt32 {
        var w = UInt32(truncatingIfNeeded: next())
        for shift: UInt32 in [7, 15, 20, 27] where next() % 2 == 0 {
            let choices: [UInt32] = [0, 0, 0, 1, 2, 3, 4, 8, 10, 31]
            let field = next() % 3 == 0 ? UInt32(truncatingIfNeeded: next()) & 31 : choices[Int(next() % 10)]
            w = w & ~(31 << shift) | field << shift
        }
        if next() % 3 == 0 {
            let immediates: [UInt32] = [0, 1, 0xfff, 0x800, 0x7ff, 2, 0xffe, 0x400, 0x20, 0x3f, 0x40, 0xff, 0xc00]
            w = w & ~(0xfff << 20) | immediates[Int(next() % UInt64(immediates.count))] << 20
        }
        if next() % 5 == 0 { w = w & ~(7 << 12) | UInt32(next() % 8) << 12 }
        return w
    }
}
