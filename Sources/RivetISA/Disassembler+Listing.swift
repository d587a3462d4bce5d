/// A whole `objdump -d` listing (binutils 2.40): the file header, one part per code section,
/// a label line wherever a symbol starts, and per instruction its address, its bytes in
/// objdump's columns and `Disassembler`'s text. As objdump does, it prints runs of zero bytes
/// as `...`, dumps the bytes of an object symbol in a code section, and prints data that a `$d`
/// mapping symbol marks as `.word` etc. The input is already taken out of the file (sections,
/// symbols), so this knows objdump's rules but not ELF (`Listing(elf:fileName:)` reads ELF).
public struct Listing: Sendable {
    /// A section holding code.
    public struct Section: Sendable {
        public var name: String
        public var address: UInt64
        public var bytes: [UInt8]

        public init(name: String, address: UInt64, bytes: [UInt8]) {
            self.name = name
            self.address = address
            self.bytes = bytes
        }

        var range: Range<UInt64> { address..<(address &+ UInt64(bytes.count)) }
    }

    /// The name printed in the header, as given on objdump's command line.
    public var fileName: String
    /// Code sections, in file order.
    public var sections: [Section]
    /// The symbol table.
    public var symbols: [Symbol]
    /// Whether the file is relocatable (an object file): then addresses inside a section are
    /// named only after symbols of that section.
    public var isRelocatable: Bool
    /// Which CSR names to print.
    public var privilegedSpec: PrivilegedSpec
    /// The extensions whose instructions are decoded (objdump's default is RV64GC's).
    public var extensions: Set<Extension>
    /// The dynamic relocations, in file order.
    public var dynamicRelocations: [DynamicRelocation]
    /// The mapping symbols.
    public var mappingSymbols: [MappingSymbol]

    public init(
        fileName: String, sections: [Section], symbols: [Symbol], isRelocatable: Bool,
        privilegedSpec: PrivilegedSpec = .v1_12, extensions: Set<Extension> = Extension.rv64gc,
        dynamicRelocations: [DynamicRelocation] = [], mappingSymbols: [MappingSymbol] = []
    ) {
        self.extensions = extensions
        self.fileName = fileName
        self.sections = sections
        self.symbols = symbols
        self.isRelocatable = isRelocatable
        self.privilegedSpec = privilegedSpec
        self.dynamicRelocations = dynamicRelocations
        self.mappingSymbols = mappingSymbols
    }

    /// The listing, exactly as `objdump -d` prints it.
    public var text: String {
        var printer = Printer(
            context: Disassembler.Context(globalPointer: symbols.first { $0.name == "__global_pointer$" }?.address))
        printer.out = "\n\(fileName):     file format elf64-littleriscv\n\n"
        // By address; objdump's sort keeps relocations at one address in file order.
        let relocations = dynamicRelocations.enumerated().sorted {
            ($0.element.address, $0.offset) < ($1.element.address, $1.offset)
        }.map(\.element)
        for section in sections where !section.bytes.isEmpty {
            printer.out += "\nDisassembly of section \(section.name):\n"
            list(section, relocations: relocations, with: &printer)
        }
        return printer.out
    }

    /// What objdump carries from one instruction to the next, across symbols and sections.
    private struct Printer {
        var out = ""
        var context: Disassembler.Context
        /// objdump's `bytes_per_chunk` as the last instruction left it (0: none yet, or the
        /// last read failed); an object dump uses it too.
        var chunk = 0
    }

    /// One section: for each stretch between symbols, a label and its lines.
    private func list(_ section: Section, relocations: [DynamicRelocation], with printer: inout Printer) {
        let table = SymbolTable(symbols, section: section, relocatable: isRelocatable, dynamicRelocations: relocations)
        let disassembler = Disassembler(
            symbolizer: table.isEmpty ? nil : { @Sendable in table.name(for: $0, requireSection: false) },
            privilegedSpec: privilegedSpec, extensions: extensions)
        let addressWidth = Self.addressWidth(sectionEnd: section.range.upperBound)
        // Among mapping symbols at one address objdump obeys the last in its order ("$d" < "$x").
        let mapping = mappingSymbols.filter { $0.section == section.name }.sorted {
            ($0.address, $0.isData ? 0 : 1) < ($1.address, $1.isData ? 0 : 1)
        }
        var starts: [UInt64] = [section.address]
        for symbol in table.sorted where symbol.section == section.name && section.range.contains(symbol.address) {
            if symbol.address > starts.last! { starts.append(symbol.address) }
        }
        for (k, start) in starts.enumerated() {
            let stop = k + 1 < starts.count ? starts[k + 1] : section.range.upperBound
            let label = table.symbol(for: start, requireSection: true)
            let name = table.text(for: start, naming: label)
            printer.out += "\n" + Self.padded(hexDigits(start), to: 16) + " <" + name + ">:\n"
            // objdump dumps the bytes of a data object rather than disassembling them.
            let isData =
                label.map {
                    $0.section == section.name && $0.address <= start && $0.isObject && !$0.isFunction
                        && !$0.name.contains("gnu_compiled") && !$0.name.contains("gcc2_compiled")
                } ?? false
            let stretch = Stretch(
                section: section, start: Int(start - section.address), stop: Int(stop - section.address),
                addressWidth: addressWidth, isCode: !isData, mapping: mapping)
            stretch.print(with: disassembler, into: &printer)
        }
    }

    /// objdump's `disassemble_bytes`: the lines for the bytes between two symbols.
    private struct Stretch {
        let section: Section
        let start: Int
        let stop: Int
        let addressWidth: Int
        let isCode: Bool
        /// The section's mapping symbols, in objdump's order.
        let mapping: [MappingSymbol]

        func addressColumn(_ offset: Int) -> String {
            Listing.padded(hexDigits(section.address &+ UInt64(offset)), to: addressWidth, with: " ") + ":\t"
        }

        /// Bytes `range` in chunks of `chunk`, little-endian, each followed by a space; a chunk
        /// reaching past the stretch prints as the space alone.
        func chunks(_ range: Range<Int>, _ chunk: Int) -> String {
            stride(from: range.lowerBound, to: range.upperBound, by: chunk).map { at in
                guard at + chunk <= stop else { return " " }
                return (0..<chunk).reversed().map { Listing.padded(hexDigits(section.bytes[at + $0]), to: 2) }.joined() + " "
            }.joined()
        }

        func print(with disassembler: Disassembler, into printer: inout Printer) {
            let bytes = section.bytes
            var lineBytes = isCode ? 4 : 16  // objdump's octets_per_line
            var offset = start
            while offset < stop {
                // objdump skips 8 or more zero bytes (in multiples of 4 unless they reach the
                // end), and fewer than 3 at the end.
                var zeros = 0
                while offset + zeros < stop && bytes[offset + zeros] == 0 { zeros += 1 }
                if zeros >= 8 || (offset + zeros == stop && zeros < 3) {
                    offset += offset + zeros == stop ? zeros : zeros & ~3
                    printer.out += "\t...\n"
                    continue
                }
                let size: Int
                let text: String
                if isCode {
                    let decoded = instruction(at: offset, disassembler: disassembler, context: &printer.context)
                    (size, text) = (decoded.size, decoded.text)
                    printer.chunk = decoded.chunk
                    if decoded.lineBytes != 0 { lineBytes = decoded.lineBytes }
                } else {
                    size = min(lineBytes, stop - offset)
                    // The bytes as text, a dot for each unprintable one.
                    text = String(
                        bytes[offset..<offset + size].map {
                            (0x20...0x7e).contains($0) ? Character(Unicode.Scalar($0)) : "."
                        })
                }
                let chunk = printer.chunk == 0 ? 1 : printer.chunk
                var shown = min(size, lineBytes)
                printer.out += addressColumn(offset) + chunks(offset..<offset + shown, chunk)
                printer.out += String(repeating: " ", count: (lineBytes - shown + chunk - 1) / chunk * (2 * chunk + 1))
                printer.out += (isCode ? "\t" : "    ") + text
                while shown < size {
                    let next = min(shown + lineBytes, size)
                    printer.out += "\n" + addressColumn(offset + shown) + chunks(offset + shown..<offset + next, chunk)
                    shown = next
                }
                printer.out += "\n"
                offset += size
            }
        }

        /// What objdump's RISC-V disassembler makes of the bytes at one address.
        struct Decoded {
            /// How far objdump steps.
            var size: Int
            var text: String
            /// The chunk size objdump shows the bytes in (0 when it cannot read them).
            var chunk: Int
            /// The bytes per line it asks for (0 when it cannot read them).
            var lineBytes: Int
        }

        /// The instruction (or, after a `$d` mapping symbol, the datum) at `offset`.
        func instruction(at offset: Int, disassembler: Disassembler, context: inout Disassembler.Context)
            -> Decoded
        {
            let bytes = section.bytes
            let pc = section.address &+ UInt64(offset)
            // Reading past the next symbol or the section end fails with EIO (5), which
            // objdump takes for the length.
            func outOfBounds(chunk: Int) -> Decoded {
                Decoded(size: 5, text: "Address 0x\(hexDigits(pc)) is out of bounds.\n", chunk: chunk, lineBytes: 0)
            }
            func value(_ length: Int) -> UInt64 {
                (0..<length).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
            }
            if let mark = mapping.last(where: { $0.address <= pc }), mark.isData {
                // Up to 4 bytes, not past the next mapping symbol or the section end.
                let next = mapping.first { $0.address > pc }?.address ?? section.range.upperBound
                var length = Int(min(4, next - pc))
                if length == 3 { length = 2 }
                guard offset + length <= stop else { return outOfBounds(chunk: length) }
                let (directive, digits) = [1: (".byte", 2), 2: (".short", 4), 4: (".word", 8)][length]!
                let text = directive + "\t0x" + Listing.padded(hexDigits(value(length)), to: digits)
                return Decoded(size: length, text: text, chunk: length, lineBytes: length == 1 ? 6 : 8)
            }
            guard offset + 2 <= stop else { return outOfBounds(chunk: 0) }
            let parcel = UInt16(value(2))
            let length = Listing.objdumpLength(parcel)
            guard offset + length <= stop else { return outOfBounds(chunk: 0) }
            let chunk = length % 4 == 0 ? 4 : 2
            switch length {
            case 2, 4:
                let inst = Decoder.decode(low: parcel, high: length == 4 ? UInt16(value(4) >> 16) : 0)
                guard inst.length == UInt8(length) else {
                    return Decoded(size: 2, text: ".2byte\t0x" + hexDigits(parcel), chunk: chunk, lineBytes: 8)
                }
                let text = disassembler.text(inst, at: pc, context: &context)
                return Decoded(size: length, text: text, chunk: chunk, lineBytes: 8)
            case 8:
                return Decoded(size: 8, text: ".8byte\t0x" + hexDigits(value(8)), chunk: chunk, lineBytes: 8)
            default:
                let list = bytes[offset..<offset + length].map { "0x" + Listing.padded(hexDigits($0), to: 2) }
                return Decoded(size: length, text: ".byte\t" + list.joined(separator: ", "), chunk: chunk, lineBytes: 8)
            }
        }
    }

    /// The length objdump gives the instruction starting with `parcel`: 2 and 4 as RV64GC,
    /// 6 and 8 for the 48- and 64-bit prefixes, 10 + 2n for the 80..176-bit ones, and 2 for
    /// the reserved 192-bit-and-longer prefix.
    static func objdumpLength(_ parcel: UInt16) -> Int {
        if parcel & 3 != 3 { return 2 }
        if parcel & 0x1f != 0x1f { return 4 }
        if parcel & 0x3f == 0x1f { return 6 }
        if parcel & 0x7f == 0x3f { return 8 }
        let n = Int((parcel >> 12) & 7)
        return n == 7 ? 2 : 10 + 2 * n
    }

    /// How many hex digits of the addresses objdump prints: the digits of the section's end
    /// address, leading zeros dropped in groups of four while at least one remains.
    static func addressWidth(sectionEnd: UInt64) -> Int {
        let leadingZeros = 16 - hexDigits(sectionEnd).count
        return leadingZeros == 0 ? 16 : 16 - ((leadingZeros - 1) & ~3)
    }

    /// `digits` left-padded with `pad` to `width` characters.
    static func padded(_ digits: String, to width: Int, with pad: Character = "0") -> String {
        String(repeating: pad, count: max(0, width - digits.count)) + digits
    }
}
