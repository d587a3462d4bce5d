/// Reading an ELF file the way `objdump -d` sees it: code sections, the symbol table (or the
/// dynamic one), symbol versions, dynamic relocations, the PLT's synthetic symbols and the
/// attributes (privileged-spec version, ISA string). This is not the loader's ELF parser (`RivetLinux.ELFFile`
/// validates executables for running); it accepts object files too, and reads defensively: a
/// malformed table yields fewer sections or symbols, never a crash.
extension Listing {
    /// The listing of the ELF file `bytes`, named `fileName` in the header.
    /// - Throws: `ObjectFileError` if `bytes` is not a little-endian ELF64 RISC-V file with
    ///   usable section headers.
    public init(elf bytes: [UInt8], fileName: String) throws(ObjectFileError) {
        self = try ObjectFile(bytes).listing(fileName: fileName)
    }
}

/// Why a file cannot be disassembled.
public struct ObjectFileError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The parts of an ELF file objdump uses.
private struct ObjectFile {
    struct SectionHeader {
        var name: String
        var nameOffset: UInt32
        var type: UInt32
        var flags: UInt64
        var address: UInt64
        var offset: Int
        var size: Int
        var link: Int
    }

    let bytes: [UInt8]
    let sections: [SectionHeader]

    /// Reads the section headers of ELF64 little-endian RISC-V `bytes`.
    /// - Throws: `ObjectFileError` if the file is not such an ELF file or its section headers
    ///   are unusable.
    init(_ bytes: [UInt8]) throws(ObjectFileError) {
        self.bytes = bytes
        guard let identity = ELFIdentification(bytes) else { throw ObjectFileError(ELFIdentification.notELF(bytes)) }
        if let refusal = identity.refusal(verb: "disassembles") { throw ObjectFileError(refusal) }
        guard bytes.count >= 64 else { throw ObjectFileError("file too short for an ELF header (\(bytes.count) bytes)") }
        let shoff = Int(clamping: Self.u64(bytes, 40))
        let count = Int(Self.u16(bytes, 60))
        let namesIndex = Int(Self.u16(bytes, 62))
        guard Self.u16(bytes, 58) == 64, shoff > 0, shoff <= bytes.count, count <= (bytes.count - shoff) / 64,
            namesIndex < count
        else { throw ObjectFileError("no usable section headers") }
        var sections = (0..<count).map { n in
            let o = shoff + n * 64
            return SectionHeader(
                name: "", nameOffset: Self.u32(bytes, o), type: Self.u32(bytes, o + 4), flags: Self.u64(bytes, o + 8),
                address: Self.u64(bytes, o + 16), offset: Int(clamping: Self.u64(bytes, o + 24)),
                size: Int(clamping: Self.u64(bytes, o + 32)), link: Int(Self.u32(bytes, o + 40)))
        }
        let names = sections[namesIndex]
        for n in sections.indices {
            sections[n].name = Self.string(bytes, in: names, at: sections[n].nameOffset)
        }
        self.sections = sections
    }

    /// The NUL-terminated string at `offset` in string table section `table`, or "".
    func string(in table: Int, at offset: UInt32) -> String {
        table < sections.count ? Self.string(bytes, in: sections[table], at: offset) : ""
    }

    private static func string(_ bytes: [UInt8], in table: SectionHeader, at offset: UInt32) -> String {
        guard let strings = contents(bytes, table), Int(offset) < strings.count,
            let end = strings[(strings.startIndex + Int(offset))...].firstIndex(of: 0)
        else { return "" }
        return String(decoding: strings[(strings.startIndex + Int(offset))..<end], as: UTF8.self)
    }

    /// The section's contents, or nil when they lie outside the file (or it has none).
    func contents(_ h: SectionHeader) -> ArraySlice<UInt8>? { Self.contents(bytes, h) }

    private static func contents(_ bytes: [UInt8], _ h: SectionHeader) -> ArraySlice<UInt8>? {
        guard h.type != 8, h.offset <= bytes.count, h.size <= bytes.count - h.offset else { return nil }
        return bytes[h.offset..<(h.offset + h.size)]
    }

    /// The listing input objdump would derive from the file.
    func listing(fileName: String) -> Listing {
        var spec = PrivilegedSpec.v1_12
        var extensions = Extension.rv64gc
        if let section = sections.first(where: { $0.type == 0x7000_0003 }), let data = contents(section),
            let attributes = RISCVAttributes(section: Array(data))
        {
            if let major = attributes.integers[8],
                let found = PrivilegedSpec(
                    major: major, minor: attributes.integers[10] ?? 0, revision: attributes.integers[12] ?? 0)
            {
                spec = found
            }
            if let arch = attributes.strings[5] { extensions = Extension.decodedByObjdump(arch: arch) }
        }
        // objdump disassembles sections with code and contents (SHF_EXECINSTR, not NOBITS).
        let code = sections.compactMap { h -> Listing.Section? in
            guard h.flags & 4 != 0, h.type != 0, h.type != 8, let data = contents(h) else { return nil }
            return Listing.Section(name: h.name, address: h.address, bytes: Array(data))
        }
        let dynamic = dynamicSymbols()
        let table = symbolTable(dynamic: dynamic)
        let mapping = table.compactMap { symbol -> Listing.MappingSymbol? in
            guard let isData = Listing.MappingSymbol.marksData(symbol.name), symbol.sectionIndex < sections.count
            else { return nil }
            let section = sections[symbol.sectionIndex].name
            return Listing.MappingSymbol(address: symbol.value, section: section, isData: isData)
        }
        return Listing(
            fileName: fileName, sections: code, symbols: symbols(table, dynamic: dynamic),
            isRelocatable: Self.u16(bytes, 16) == 1, privilegedSpec: spec, extensions: extensions,
            dynamicRelocations: dynamicRelocations(dynamic: dynamic), mappingSymbols: mapping)
    }

    /// A symbol table entry.
    struct RawSymbol {
        var name: String
        var value: UInt64
        var size: UInt64
        var type: UInt8
        var binding: UInt8
        var sectionIndex: Int
        /// The version objdump appends (`@GLIBC_2.27`, `@@VERS_1`), for dynamic symbols.
        var versionSuffix = ""

        var isUndefined: Bool { sectionIndex == 0 }
        var isAbsolute: Bool { sectionIndex == 0xfff1 }
    }

    /// The entries of a symbol table section (index 0 included), or [] if it is unusable.
    func rawSymbols(_ table: SectionHeader) -> [RawSymbol] {
        guard let entries = contents(table) else { return [] }
        return (0..<entries.count / 24).map { n in
            let o = entries.startIndex + n * 24
            return RawSymbol(
                name: string(in: table.link, at: Self.u32(bytes, o)), value: Self.u64(bytes, o + 8),
                size: Self.u64(bytes, o + 16), type: bytes[o + 4] & 0xf, binding: bytes[o + 4] >> 4,
                sectionIndex: Int(Self.u16(bytes, o + 6)))
        }
    }

    /// The symbol table objdump uses: .symtab, else .dynsym (entry 0 included).
    func symbolTable(dynamic: [RawSymbol]) -> [RawSymbol] {
        sections.first(where: { $0.type == 2 }).map(rawSymbols) ?? dynamic
    }

    /// The symbols of `table` objdump uses, plus its synthetic `@plt` symbols.
    func symbols(_ table: [RawSymbol], dynamic: [RawSymbol]) -> [Listing.Symbol] {
        var symbols: [Listing.Symbol] = []
        for var symbol in table.dropFirst() {
            let section = symbol.sectionIndex < sections.count ? sections[symbol.sectionIndex].name : nil
            // Section symbols carry their section's name; objdump keeps a few of them.
            if symbol.type == 3, let section, Listing.Symbol.keepsSectionSymbol(named: section) {
                symbol.name = section
            } else if symbol.type == 3 {
                continue
            }
            // File symbols, undefined and common ones are of no use to objdump.
            guard symbol.type != 4, !symbol.isUndefined, symbol.sectionIndex != 0xfff2, !symbol.name.isEmpty,
                !Listing.ignoresSymbol(named: symbol.name)
            else { continue }
            symbols.append(
                Listing.Symbol(
                    name: symbol.name, address: symbol.value, size: symbol.size, section: section,
                    sectionAddress: symbol.sectionIndex < sections.count ? sections[symbol.sectionIndex].address : 0,
                    isFunction: symbol.type == 2 || symbol.type == 10, isObject: symbol.type == 1,
                    isLocal: symbol.binding == 0, isGlobal: symbol.binding == 1, isSection: symbol.type == 3,
                    versionSuffix: symbol.versionSuffix))
        }
        return symbols + pltSymbols(dynamic: dynamic)
    }

    /// The dynamic symbols, with the version suffixes objdump prints.
    func dynamicSymbols() -> [RawSymbol] {
        guard let index = sections.firstIndex(where: { $0.type == 11 }) else { return [] }
        var symbols = rawSymbols(sections[index])
        guard let versym = sections.first(where: { $0.type == 0x6fff_ffff && $0.link == index }),
            let versions = contents(versym)
        else { return symbols }
        // Version definitions (by index) and the versions needed from libraries (by number).
        var defined: [Int: (name: String, flags: UInt16)] = [:]
        var needed: [Int: String] = [:]
        if let verdef = sections.first(where: { $0.type == 0x6fff_fffd }), let data = contents(verdef) {
            var at = data.startIndex
            for _ in 0..<1000 where at + 20 <= data.endIndex {
                let (flags, index) = (Self.u16(bytes, at + 2), Int(Self.u16(bytes, at + 4)))
                let aux = at + Int(Self.u32(bytes, at + 12))
                if aux + 8 <= data.endIndex {
                    defined[index] = (string(in: verdef.link, at: Self.u32(bytes, aux)), flags)
                }
                let next = Self.u32(bytes, at + 16)
                if next == 0 { break }
                at += Int(next)
            }
        }
        if let verneed = sections.first(where: { $0.type == 0x6fff_fffe }), let data = contents(verneed) {
            var at = data.startIndex
            for _ in 0..<1000 where at + 16 <= data.endIndex {
                var aux = at + Int(Self.u32(bytes, at + 8))
                for _ in 0..<Int(Self.u16(bytes, at + 2)) where aux + 16 <= data.endIndex {
                    needed[Int(Self.u16(bytes, aux + 6))] = string(in: verneed.link, at: Self.u32(bytes, aux + 8))
                    let next = Self.u32(bytes, aux + 12)
                    if next == 0 { break }
                    aux += Int(next)
                }
                let next = Self.u32(bytes, at + 12)
                if next == 0 { break }
                at += Int(next)
            }
        }
        guard !defined.isEmpty || !needed.isEmpty else { return symbols }
        let definitionCount = defined.keys.max() ?? 0
        for n in symbols.indices where versions.startIndex + 2 * n + 2 <= versions.endIndex {
            let entry = Self.u16(bytes, versions.startIndex + 2 * n)
            let number = Int(entry & 0x7fff)
            var hidden = entry & 0x8000 != 0
            var version = ""
            if number == 0 {
                version = ""
            } else if number == 1 && (number > definitionCount || defined[1]?.flags == 1) {
                version = "Base"
            } else if number <= definitionCount {
                version = defined[number]?.name ?? ""
            } else {
                version = needed[number] ?? ""
                hidden = true
            }
            if symbols[n].isUndefined { hidden = true }
            if !version.isEmpty { symbols[n].versionSuffix = (hidden ? "@" : "@@") + version }
        }
        return symbols
    }

    /// The dynamic relocations (of the relocation sections linked to .dynsym), in file order.
    func dynamicRelocations(dynamic: [RawSymbol]) -> [Listing.DynamicRelocation] {
        guard let index = sections.firstIndex(where: { $0.type == 11 }) else { return [] }
        var relocations: [Listing.DynamicRelocation] = []
        for section in sections where (section.type == 4 || section.type == 9) && section.link == index {
            guard let data = contents(section) else { continue }
            let size = section.type == 4 ? 24 : 16
            for n in 0..<data.count / size {
                let o = data.startIndex + n * size
                let address = Self.u64(bytes, o)
                let symbolIndex = Int(Self.u64(bytes, o + 8) >> 32)
                guard symbolIndex != 0, symbolIndex < dynamic.count, !dynamic[symbolIndex].isAbsolute else {
                    relocations.append(Listing.DynamicRelocation(address: address, symbolName: nil))
                    continue
                }
                let symbol = dynamic[symbolIndex]
                relocations.append(
                    Listing.DynamicRelocation(
                        address: address, symbolName: symbol.name + symbol.versionSuffix, symbolValue: symbol.value,
                        symbolIsUndefined: symbol.isUndefined))
            }
        }
        return relocations
    }

    /// objdump's synthetic `name@plt` symbols: one per `.rela.plt` entry, at the PLT entry it
    /// belongs to (after the 32-byte PLT header, 16 bytes each).
    func pltSymbols(dynamic: [RawSymbol]) -> [Listing.Symbol] {
        guard let dynsym = sections.firstIndex(where: { $0.type == 11 }),
            let relocations = sections.first(where: { $0.name == ".rela.plt" && $0.type == 4 && $0.link == dynsym }),
            let plt = sections.first(where: { $0.name == ".plt" }), let data = contents(relocations)
        else { return [] }
        return (0..<data.count / 24).map { n in
            let o = data.startIndex + n * 24
            let symbolIndex = Int(Self.u64(bytes, o + 8) >> 32)
            let addend = Int64(bitPattern: Self.u64(bytes, o + 16))
            let symbol = symbolIndex != 0 && symbolIndex < dynamic.count ? dynamic[symbolIndex] : nil
            var name = symbol?.name ?? "*ABS*"
            if addend != 0 { name += "+0x" + String(UInt64(bitPattern: addend), radix: 16) }
            let type = symbol?.type ?? 0
            // BFD copies the symbol's flags, and makes it global unless it is local.
            let isLocal = symbol?.binding == 0
            return Listing.Symbol(
                name: name + "@plt", address: plt.address &+ 32 &+ 16 * UInt64(n), section: ".plt",
                sectionAddress: plt.address, isFunction: type == 2 || type == 10, isObject: type == 1,
                isLocal: isLocal, isGlobal: !isLocal, isSynthetic: true)
        }
    }

    // Little-endian reads; out-of-range reads yield 0.
    static func u16(_ b: [UInt8], _ o: Int) -> UInt16 {
        o >= 0 && o + 2 <= b.count ? UInt16(b[o]) | UInt16(b[o + 1]) << 8 : 0
    }
    static func u32(_ b: [UInt8], _ o: Int) -> UInt32 { UInt32(u16(b, o)) | UInt32(u16(b, o + 2)) << 16 }
    static func u64(_ b: [UInt8], _ o: Int) -> UInt64 { UInt64(u32(b, o)) | UInt64(u32(b, o + 4)) << 32 }
}
