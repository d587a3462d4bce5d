import RivetISA
import Synchronization

/// Why an ELF file cannot be run. Each message names what is wrong in one line.
public struct ELFError: Error, Equatable, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A parsed ELF64 little-endian RISC-V file: its header, program headers and (when present)
/// symbols. Parsing validates everything the loader relies on, so a malformed file is rejected
/// here with a message instead of misbehaving later.
public struct ELFFile: Sendable {
    public enum Kind: UInt16, Sendable {
        case executable = 2  // ET_EXEC
        case sharedObject = 3  // ET_DYN: static-pie executables and the dynamic linker
    }

    public struct ProgramHeader: Equatable, Sendable {
        public var type: UInt32
        public var flags: UInt32
        public var offset: UInt64
        public var vaddr: UInt64
        public var fileSize: UInt64
        public var memorySize: UInt64
        public var align: UInt64

        public static let load: UInt32 = 1
        public static let interp: UInt32 = 3
        public static let phdr: UInt32 = 6
        public static let tls: UInt32 = 7
        public static let gnuStack: UInt32 = 0x6474_e551

        public var readable: Bool { flags & 4 != 0 }
        public var writable: Bool { flags & 2 != 0 }
        public var executable: Bool { flags & 1 != 0 }
    }

    public struct Symbol: Equatable, Sendable {
        public var name: String
        public var address: UInt64
        public var size: UInt64
        public var isFunction: Bool
    }

    /// A section, for the disassembler.
    public struct Section: Equatable, Sendable {
        public var name: String
        public var address: UInt64
        public var offset: UInt64
        public var size: UInt64
        public var isExecutable: Bool
    }

    /// The file's bytes, read where they are needed.
    public let file: ProgramFile
    public let kind: Kind
    public let entry: UInt64
    public let programHeaderOffset: UInt64
    public let programHeaders: [ProgramHeader]
    /// The path of the program interpreter (PT_INTERP), for dynamically linked programs.
    public let interpreter: String?
    /// Sections; empty when the section headers are absent or unusable.
    public let sections: [Section]
    /// Symbols from .symtab (or .dynsym), sorted by address; empty when absent. Read from the
    /// file when first asked for: only statistics, listings, perf maps and the debugger name
    /// code, and reading a large program's symbols was a tenth of a short run (Performance.md,
    /// twenty-sixth session).
    public var symbols: [Symbol] { symbolTable.symbols }
    private let symbolTable: SymbolTable
    /// e_flags: the float ABI and RVC bits.
    public let flags: UInt32

    /// The PT_LOAD headers, in file order.
    public var loadSegments: [ProgramHeader] { programHeaders.filter { $0.type == ProgramHeader.load } }

    /// Parses and validates `bytes` as a RISC-V ELF64 executable.
    /// - Throws: `ELFError` naming the first problem found.
    public init(bytes: [UInt8], addressSpaceSize: UInt64) throws(ELFError) {
        try self.init(file: ProgramFile(bytes: bytes), addressSpaceSize: addressSpaceSize)
    }

    /// Parses and validates `file` as a RISC-V ELF64 executable, reading its headers (and
    /// later, if asked, its symbols) from it.
    /// - Throws: `ELFError` naming the first problem found.
    public init(file: ProgramFile, addressSpaceSize: UInt64) throws(ELFError) {
        self.file = file
        let head = file.head
        let r = Reader(head, at: 0)
        // What the file is, named for a user: "an x86-64 executable, not RISC-V".
        guard let identity = ELFIdentification(head) else { throw ELFError(ELFIdentification.notELF(head)) }
        if let refusal = identity.refusal() { throw ELFError(refusal) }
        guard file.count >= 64 else { throw ELFError("file too short for an ELF header (\(file.count) bytes)") }
        guard head[6] == 1 else { throw ELFError("unsupported ELF version \(head[6])") }
        guard let kind = Kind(rawValue: identity.type) else {
            switch identity.type {
            case 1: throw ELFError("a RISC-V object file (not linked), not an executable")
            case 4: throw ELFError("a RISC-V core file, not an executable")
            default: throw ELFError("unsupported ELF type \(identity.type)")
            }
        }
        self.kind = kind
        entry = r.u64(24)
        programHeaderOffset = r.u64(32)
        let shoff = r.u64(40)
        flags = r.u32(48)
        let phentsize = r.u16(54)
        let phnum = r.u16(56)
        let shentsize = r.u16(58)
        let shnum = r.u16(60)
        let shstrndx = r.u16(62)
        guard phnum > 0 else { throw ELFError("no program headers") }
        guard phentsize == 56 else { throw ELFError("bad program header size \(phentsize)") }
        guard phnum <= 1024 else { throw ELFError("too many program headers (\(phnum))") }
        guard file.contains(programHeaderOffset, UInt64(phnum) * 56) else {
            throw ELFError("program headers lie outside the file")
        }

        let p = Reader(file, programHeaderOffset, UInt64(phnum) * 56)
        var headers: [ProgramHeader] = []
        for n in 0..<UInt64(phnum) {
            let o = Int(programHeaderOffset + n * 56)
            headers.append(
                ProgramHeader(
                    type: p.u32(o), flags: p.u32(o + 4), offset: p.u64(o + 8), vaddr: p.u64(o + 16),
                    fileSize: p.u64(o + 32), memorySize: p.u64(o + 40), align: p.u64(o + 48)))
        }
        programHeaders = headers

        var interpreter: String? = nil
        var previousEnd: UInt64 = 0
        var sawLoad = false
        for (n, h) in headers.enumerated() {
            switch h.type {
            case ProgramHeader.load:
                guard h.fileSize <= h.memorySize else {
                    throw ELFError("segment \(n): file size 0x\(hex(h.fileSize)) exceeds memory size 0x\(hex(h.memorySize))")
                }
                guard file.contains(h.offset, h.fileSize) else {
                    throw ELFError("segment \(n): file range lies outside the file (truncated?)")
                }
                guard h.memorySize > 0 else { continue }
                guard h.vaddr < addressSpaceSize, h.memorySize <= addressSpaceSize - h.vaddr else {
                    throw ELFError("segment \(n): address range 0x\(hex(h.vaddr))+0x\(hex(h.memorySize)) is outside the guest address space")
                }
                guard h.align <= 1 || (h.align & (h.align - 1) == 0) else {
                    throw ELFError("segment \(n): alignment 0x\(hex(h.align)) is not a power of two")
                }
                guard (h.vaddr &- h.offset) & 0xfff == 0 else {
                    throw ELFError("segment \(n): address and file offset are not congruent modulo the page size")
                }
                if sawLoad && h.vaddr < previousEnd {
                    throw ELFError("segment \(n): overlaps or precedes the previous segment")
                }
                previousEnd = h.vaddr + h.memorySize
                sawLoad = true
            case ProgramHeader.interp:
                guard file.contains(h.offset, h.fileSize), h.fileSize > 1, h.fileSize < 4096 else {
                    throw ELFError("bad PT_INTERP")
                }
                var path = file.read(at: h.offset, count: Int(h.fileSize))
                guard path.last == 0 else { throw ELFError("PT_INTERP is not NUL-terminated") }
                path.removeLast()
                interpreter = String(decoding: path, as: UTF8.self)
            default:
                break
            }
        }
        guard sawLoad else { throw ELFError("no loadable segments") }
        self.interpreter = interpreter

        let (sections, symbolTable) = Self.parseSections(
            file, shoff: shoff, shentsize: shentsize, shnum: shnum, shstrndx: shstrndx)
        self.sections = sections
        self.symbolTable = symbolTable
    }

    /// Sections and symbols are optional: any inconsistency drops them instead of failing.
    private static func parseSections(
        _ file: ProgramFile, shoff: UInt64, shentsize: UInt16, shnum: UInt16, shstrndx: UInt16
    ) -> ([Section], SymbolTable) {
        guard shoff != 0, shentsize == 64, shnum > 0, shnum < 0xff00, file.contains(shoff, UInt64(shnum) * 64),
            shstrndx < shnum
        else { return ([], SymbolTable(file, symtab: nil, strtab: nil)) }
        let r = Reader(file, shoff, UInt64(shnum) * 64)
        let headers = (0..<Int(shnum)).map { n -> SectionHeader in
            let o = Int(shoff) + n * 64
            return SectionHeader(
                name: r.u32(o), type: r.u32(o + 4), flags: r.u64(o + 8), addr: r.u64(o + 16),
                offset: r.u64(o + 24), size: r.u64(o + 32), link: r.u32(o + 40), entsize: r.u64(o + 56))
        }
        let names = StringTable(file, headers[Int(shstrndx)])
        var sections: [Section] = []
        for header in headers {
            sections.append(
                Section(
                    name: names.string(at: header.name) ?? "", address: header.addr, offset: header.offset,
                    size: header.size, isExecutable: header.flags & 4 != 0 && header.type == 1))
        }
        let symtab = headers.first { $0.type == 2 } ?? headers.first { $0.type == 11 }
        guard let symtab, symtab.entsize == 24, file.contains(symtab.offset, symtab.size), Int(symtab.link) < headers.count
        else { return (sections, SymbolTable(file, symtab: nil, strtab: nil)) }
        return (sections, SymbolTable(file, symtab: symtab, strtab: headers[Int(symtab.link)]))
    }

    /// The symbol covering `address` (or the nearest one below it), and the offset into it.
    public func symbol(containing address: UInt64) -> (Symbol, offset: UInt64)? {
        let symbols = self.symbols
        var low = 0
        var high = symbols.count
        while low < high {
            let mid = (low + high) / 2
            if symbols[mid].address <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        // Prefer functions among symbols at the same address.
        var best = symbols[low - 1]
        var k = low - 1
        while k > 0, symbols[k - 1].address == best.address {
            k -= 1
            if symbols[k].isFunction && !best.isFunction { best = symbols[k] }
        }
        return (best, address - best.address)
    }
}

private func hex(_ v: UInt64) -> String { String(v, radix: 16) }

/// A section header's fields that parsing uses.
private struct SectionHeader {
    var name: UInt32, type: UInt32, flags: UInt64, addr: UInt64, offset: UInt64, size: UInt64
    var link: UInt32, entsize: UInt64
}

/// An ELF file's symbols, read from its symbol table the first time they are asked for.
private final class SymbolTable: Sendable {
    private let file: ProgramFile
    private let symtab: SectionHeader?
    private let strtab: SectionHeader?
    private let parsed = Mutex<[ELFFile.Symbol]?>(nil)

    init(_ file: ProgramFile, symtab: SectionHeader?, strtab: SectionHeader?) {
        self.file = file
        self.symtab = symtab
        self.strtab = strtab
    }

    var symbols: [ELFFile.Symbol] {
        parsed.withLock { parsed in
            if let parsed { return parsed }
            let symbols = read()
            parsed = symbols
            return symbols
        }
    }

    private func read() -> [ELFFile.Symbol] {
        guard let symtab, let strtab else { return [] }
        let r = Reader(file, symtab.offset, symtab.size)
        let names = StringTable(file, strtab)
        var symbols: [ELFFile.Symbol] = []
        for n in 0..<Int(symtab.size / 24) {
            let o = Int(symtab.offset) + n * 24
            let info = r.u8(o + 4)
            let type = info & 0xf
            let shndx = r.u16(o + 6)
            guard type == 0 || type == 1 || type == 2, shndx != 0 else { continue }
            guard let name = names.string(at: r.u32(o)), !name.isEmpty, !name.hasPrefix("$") else { continue }
            symbols.append(ELFFile.Symbol(name: name, address: r.u64(o + 8), size: r.u64(o + 16), isFunction: type == 2))
        }
        symbols.sort { ($0.address, $0.name) < ($1.address, $1.name) }
        return symbols
    }
}

/// A string table (a section of NUL-terminated strings), read from the file when made.
private struct StringTable {
    let bytes: [UInt8]

    init(_ file: ProgramFile, _ table: SectionHeader) {
        // SHT_NOBITS has no bytes in the file.
        bytes = table.type != 8 && file.contains(table.offset, table.size) ? file.read(at: table.offset, count: Int(table.size)) : []
    }

    /// The NUL-terminated string at `index`, or nil.
    func string(at index: UInt32) -> String? {
        guard Int(index) < bytes.count, let nul = bytes[Int(index)...].firstIndex(of: 0) else { return nil }
        return String(decoding: bytes[Int(index)..<nul], as: UTF8.self)
    }
}

/// Bounds-checked little-endian reads of a window of the file, by file offset; reads outside the
/// window return 0 (callers validate ranges).
private struct Reader {
    let bytes: [UInt8]
    let base: Int

    init(_ bytes: [UInt8], at base: Int) {
        self.bytes = bytes
        self.base = base
    }

    /// The `size` bytes of `file` at `offset` (a range `file.contains`).
    init(_ file: ProgramFile, _ offset: UInt64, _ size: UInt64) {
        self.init(file.read(at: offset, count: Int(size)), at: Int(offset))
    }

    func u8(_ o: Int) -> UInt8 {
        let i = o - base
        guard i >= 0, i < bytes.count else { return 0 }
        return bytes[i]
    }

    func u16(_ o: Int) -> UInt16 {
        let i = o - base
        guard i >= 0, i + 2 <= bytes.count else { return 0 }
        return UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8
    }

    func u32(_ o: Int) -> UInt32 {
        let i = o - base
        guard i >= 0, i + 4 <= bytes.count else { return 0 }
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
        return v
    }

    func u64(_ o: Int) -> UInt64 {
        let i = o - base
        guard i >= 0, i + 8 <= bytes.count else { return 0 }
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
        return v
    }
}
