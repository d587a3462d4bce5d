/// The symbols of a listing, as objdump sees them.
extension Listing {
    /// A symbol, with what objdump uses to choose among symbols. Callers leave out what
    /// objdump ignores: unnamed, file, undefined and common symbols, section symbols other than
    /// those of `.plt`, `.got` and `.plt.got`, and the RISC-V mapping symbols (see
    /// `ignoresSymbol(named:)`); and add objdump's synthetic `name@plt` symbols (size 0).
    public struct Symbol: Sendable {
        public var name: String
        public var address: UInt64
        public var size: UInt64
        /// The name of the section the symbol is defined in; nil for absolute symbols.
        public var section: String?
        /// The address of that section (0 for absolute symbols): objdump compares some
        /// addresses with symbol values taken relative to it.
        public var sectionAddress: UInt64
        public var isFunction: Bool
        public var isObject: Bool
        public var isLocal: Bool
        public var isGlobal: Bool
        /// A section symbol, named after its section.
        public var isSection: Bool
        /// One of objdump's synthetic symbols (`name@plt`).
        public var isSynthetic: Bool
        /// What objdump prints after the name of a versioned dynamic symbol (`@@GLIBC_2.27`).
        public var versionSuffix: String

        public init(
            name: String, address: UInt64, size: UInt64 = 0, section: String?, sectionAddress: UInt64 = 0,
            isFunction: Bool = false, isObject: Bool = false, isLocal: Bool = false, isGlobal: Bool = true,
            isSection: Bool = false, isSynthetic: Bool = false, versionSuffix: String = ""
        ) {
            self.name = name
            self.address = address
            self.size = size
            self.section = section
            self.sectionAddress = sectionAddress
            self.isFunction = isFunction
            self.isObject = isObject
            self.isLocal = isLocal
            self.isGlobal = isGlobal
            self.isSection = isSection
            self.isSynthetic = isSynthetic
            self.versionSuffix = versionSuffix
        }

        /// Whether objdump keeps a section symbol of this name.
        public static func keepsSectionSymbol(named name: String) -> Bool {
            name == ".plt" || name == ".got" || name == ".plt.got"
        }
    }

    /// A dynamic relocation: objdump names an address that a relocation patches after the
    /// relocation's symbol when no symbol starts exactly there.
    public struct DynamicRelocation: Sendable {
        public var address: UInt64
        /// The symbol as objdump prints it, with its version (`printf@GLIBC_2.27`); nil when
        /// the relocation has none or an absolute one (`R_RISCV_RELATIVE`).
        public var symbolName: String?
        public var symbolValue: UInt64
        /// Undefined symbols print without an offset.
        public var symbolIsUndefined: Bool

        public init(address: UInt64, symbolName: String?, symbolValue: UInt64 = 0, symbolIsUndefined: Bool = true) {
            self.address = address
            self.symbolName = symbolName
            self.symbolValue = symbolValue
            self.symbolIsUndefined = symbolIsUndefined
        }
    }

    /// A RISC-V mapping symbol: from its address on, its section holds instructions (`$x`,
    /// `$xrv64i2p1_...`) or data (`$d`).
    public struct MappingSymbol: Sendable {
        public var address: UInt64
        public var section: String
        public var isData: Bool

        public init(address: UInt64, section: String, isData: Bool) {
            self.address = address
            self.section = section
            self.isData = isData
        }

        /// Whether a symbol named `name` marks data (true) or code (false), or is no mapping
        /// symbol (nil).
        public static func marksData(_ name: String) -> Bool? {
            name.hasPrefix("$d") ? true : name.hasPrefix("$x") ? false : nil
        }
    }

    /// Whether objdump ignores a symbol of this name: the RISC-V mapping symbols (`$x`, `$d`,
    /// `$xrv64i2p1_...`) and the assembler's fake label.
    public static func ignoresSymbol(named name: String) -> Bool {
        name == "$x" || name == "$d" || name.hasPrefix("$xrv") || name == ".L0 "
    }
}

/// objdump's symbol table as seen while it disassembles one section, and its rules for naming
/// an address (`find_symbol_for_address`, `objdump_print_addr_with_sym` in binutils 2.40).
struct SymbolTable: Sendable {
    /// The symbols in objdump's order: by address; among equal addresses the section's own
    /// symbols first, then functions, objects, global before local, larger before smaller,
    /// names not starting with `.`, and by name.
    let sorted: [Listing.Symbol]
    let section: Listing.Section
    /// Whether the file is relocatable: then addresses inside the section are named only
    /// after the section's own symbols.
    let relocatable: Bool
    /// Dynamic relocations by address.
    let relocations: [Listing.DynamicRelocation]

    init(
        _ symbols: [Listing.Symbol], section: Listing.Section, relocatable: Bool,
        dynamicRelocations: [Listing.DynamicRelocation]
    ) {
        self.section = section
        self.relocatable = relocatable
        relocations = dynamicRelocations
        sorted = symbols.sorted { Self.precedes($0, $1, in: section.name) }
    }

    var isEmpty: Bool { sorted.isEmpty }

    private static func precedes(_ a: Listing.Symbol, _ b: Listing.Symbol, in section: String) -> Bool {
        if a.address != b.address { return a.address < b.address }
        if (a.section == section) != (b.section == section) { return a.section == section }
        func compiledMarker(_ s: Listing.Symbol) -> Bool {
            s.name.contains("gnu_compiled") || s.name.contains("gcc2_compiled")
        }
        if compiledMarker(a) != compiledMarker(b) { return !compiledMarker(a) }
        func fileName(_ s: Listing.Symbol) -> Bool {
            s.name.utf8.count > 2 && (s.name.hasSuffix(".o") || s.name.hasSuffix(".a"))
        }
        if fileName(a) != fileName(b) { return !fileName(a) }
        if a.isSection != b.isSection { return !a.isSection }
        if a.isFunction != b.isFunction { return a.isFunction }
        if a.isObject != b.isObject { return a.isObject }
        if a.isLocal != b.isLocal { return !a.isLocal }
        if a.isGlobal != b.isGlobal { return a.isGlobal }
        if a.size != b.size { return a.size > b.size }
        let (aDot, bDot) = (a.name.hasPrefix("."), b.name.hasPrefix("."))
        if aDot != bDot { return !aDot }
        return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
    }

    /// The symbol objdump names `address` after. With `requireSection` (labels), or in a
    /// relocatable file for an address inside the section, only the section's own symbols
    /// qualify. The result may lie above the address when no symbol lies at or below it.
    func symbol(for address: UInt64, requireSection: Bool) -> Listing.Symbol? {
        guard !sorted.isEmpty else { return nil }
        // The last symbol at or below the address (or the first symbol if none is), then the
        // first of the symbols at its address.
        var low = 0
        var high = sorted.count
        while low + 1 < high {
            let mid = (low + high) / 2
            if sorted[mid].address > address {
                high = mid
            } else if sorted[mid].address < address {
                low = mid
            } else {
                low = mid
                break
            }
        }
        var place = low
        while place > 0 && sorted[place].address == sorted[place - 1].address { place -= 1 }
        // Among symbols at that address, one of this section is best.
        var end = place
        while end < high && sorted[end].address == sorted[place].address {
            if sorted[end].section == section.name { return sorted[end] }
            end += 1
        }
        let wantSection = requireSection || (relocatable && section.range.contains(address))
        guard wantSection else { return sorted[place] }
        // The nearest of the section's symbols below, the first of those at its address...
        var found: Int? = nil
        for k in stride(from: end - 1, through: 0, by: -1) where sorted[k].section == section.name {
            if let f = found, sorted[f].address != sorted[k].address { break }
            found = k
        }
        // ... or else the nearest above.
        if found == nil { found = sorted[(place + 1)...].firstIndex { $0.section == section.name } }
        return found.map { sorted[$0] }
    }

    /// The text objdump puts between `<` and `>` for `address`: `name`, `name+0x10`,
    /// `name-0x2`, or the section's name and offset when no symbol qualifies. When the symbol
    /// lies in another section, a dynamic relocation at the address names it after the
    /// relocation's symbol instead (objdump skips that only when the symbol's section-relative
    /// value happens to equal the address).
    func name(for address: UInt64, requireSection: Bool) -> String {
        let found = symbol(for: address, requireSection: requireSection)
        if let found, found.address &- found.sectionAddress != address, found.section != section.name,
            !requireSection, !(relocatable && section.range.contains(address)), !found.isSynthetic,
            let relocation = relocation(at: address), let name = relocation.symbolName
        {
            let value = relocation.symbolValue
            if value == address || relocation.symbolIsUndefined { return name }
            return value > address ? name + "-0x" + hexDigits(value - address) : name + "+0x" + hexDigits(address - value)
        }
        return text(for: address, naming: found)
    }

    /// `address` named after `symbol` (or the section, for nil) as objdump prints it.
    func text(for address: UInt64, naming symbol: Listing.Symbol?) -> String {
        let (name, base) = symbol.map { ($0.name + $0.versionSuffix, $0.address) } ?? (section.name, section.address)
        if address == base { return name }
        if address < base { return name + "-0x" + hexDigits(base - address) }
        return name + "+0x" + hexDigits(address - base)
    }

    /// The first dynamic relocation at `address` that names a symbol.
    private func relocation(at address: UInt64) -> Listing.DynamicRelocation? {
        guard let first = relocations.first, let last = relocations.last, first.address <= address,
            address <= last.address
        else { return nil }
        var low = 0
        var high = relocations.count
        while low < high {
            let mid = (low + high) / 2
            if relocations[mid].address < address { low = mid + 1 } else { high = mid }
        }
        return relocations[low...].prefix { $0.address == address }.first { $0.symbolName != nil }
    }
}
