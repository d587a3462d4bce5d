/// The CSR names objdump 2.40 prints, by number and privileged-spec version (observed with
/// `csrrs a0,CSR,a1` for every CSR number under `-M priv-spec=1.9.1 ... 1.12`). Numbers without
/// a name print as `0x...`.
enum CSRNames {
    /// One name for a CSR number, valid from `since` up to but not including `until`.
    struct Entry {
        var number: UInt16
        var name: String
        var since: PrivilegedSpec
        var until: PrivilegedSpec?
    }

    /// The names, by number.
    static let entries: [Entry] = {
        func csr(_ number: UInt16, _ name: String, _ since: PrivilegedSpec = .v1_9_1, _ until: PrivilegedSpec? = nil)
            -> [Entry]
        {
            [Entry(number: number, name: name, since: since, until: until)]
        }
        /// `prefix3 ... prefix31` (plus `suffix`) at consecutive numbers from `first`.
        func family(
            _ first: UInt16, _ prefix: String, _ indices: ClosedRange<Int>, _ suffix: String,
            _ since: PrivilegedSpec = .v1_9_1, _ until: PrivilegedSpec? = nil
        ) -> [Entry] {
            indices.map {
                Entry(
                    number: first + UInt16($0 - indices.lowerBound), name: "\(prefix)\($0)\(suffix)",
                    since: since, until: until)
            }
        }
        let groups: [[Entry]] = [
            csr(0x000, "ustatus", .v1_9_1, .v1_12),
            csr(0x001, "fflags"),
            csr(0x002, "frm"),
            csr(0x003, "fcsr"),
            csr(0x004, "uie", .v1_9_1, .v1_12),
            csr(0x005, "utvec", .v1_9_1, .v1_12),
            csr(0x008, "vstart"),
            csr(0x009, "vxsat"),
            csr(0x00a, "vxrm"),
            csr(0x00f, "vcsr"),
            csr(0x015, "seed"),
            csr(0x040, "uscratch", .v1_9_1, .v1_12),
            csr(0x041, "uepc", .v1_9_1, .v1_12),
            csr(0x042, "ucause", .v1_9_1, .v1_12),
            csr(0x043, "ubadaddr", .v1_9_1, .v1_10),
            csr(0x043, "utval", .v1_10, .v1_12),
            csr(0x044, "uip", .v1_9_1, .v1_12),
            csr(0x100, "sstatus"),
            csr(0x102, "sedeleg", .v1_9_1, .v1_12),
            csr(0x103, "sideleg", .v1_9_1, .v1_12),
            csr(0x104, "sie"),
            csr(0x105, "stvec"),
            csr(0x106, "scounteren", .v1_10, nil),
            csr(0x10a, "senvcfg", .v1_12, nil),
            family(0x10c, "sstateen", 0...3, ""),
            csr(0x114, "sieh"),
            csr(0x140, "sscratch"),
            csr(0x141, "sepc"),
            csr(0x142, "scause"),
            csr(0x143, "sbadaddr", .v1_9_1, .v1_10),
            csr(0x143, "stval", .v1_10, nil),
            csr(0x144, "sip"),
            csr(0x14d, "stimecmp"),
            csr(0x150, "siselect"),
            csr(0x151, "sireg"),
            csr(0x154, "siph"),
            csr(0x15c, "stopei"),
            csr(0x15d, "stimecmph"),
            csr(0x180, "sptbr", .v1_9_1, .v1_10),
            csr(0x180, "satp", .v1_10, nil),
            csr(0x200, "vsstatus"),
            csr(0x204, "vsie"),
            csr(0x205, "vstvec"),
            csr(0x214, "vsieh"),
            csr(0x240, "vsscratch"),
            csr(0x241, "vsepc"),
            csr(0x242, "vscause"),
            csr(0x243, "vstval"),
            csr(0x244, "vsip"),
            csr(0x24d, "vstimecmp"),
            csr(0x250, "vsiselect"),
            csr(0x251, "vsireg"),
            csr(0x254, "vsiph"),
            csr(0x25c, "vstopei"),
            csr(0x25d, "vstimecmph"),
            csr(0x280, "vsatp"),
            csr(0x300, "mstatus"),
            csr(0x301, "misa"),
            csr(0x302, "medeleg"),
            csr(0x303, "mideleg"),
            csr(0x304, "mie"),
            csr(0x305, "mtvec"),
            csr(0x306, "mcounteren", .v1_10, nil),
            csr(0x308, "mvien"),
            csr(0x309, "mvip"),
            csr(0x30a, "menvcfg", .v1_12, nil),
            family(0x30c, "mstateen", 0...3, ""),
            csr(0x310, "mstatush", .v1_12, nil),
            csr(0x313, "midelegh"),
            csr(0x314, "mieh"),
            csr(0x318, "mvienh"),
            csr(0x319, "mviph"),
            csr(0x31a, "menvcfgh", .v1_12, nil),
            family(0x31c, "mstateen", 0...3, "h"),
            csr(0x320, "mucounteren", .v1_9_1, .v1_10),
            csr(0x320, "mcountinhibit", .v1_11, nil),
            csr(0x321, "mscounteren", .v1_9_1, .v1_10),
            csr(0x322, "mhcounteren", .v1_9_1, .v1_10),
            family(0x323, "mhpmevent", 3...31, ""),
            csr(0x340, "mscratch"),
            csr(0x341, "mepc"),
            csr(0x342, "mcause"),
            csr(0x343, "mbadaddr", .v1_9_1, .v1_10),
            csr(0x343, "mtval", .v1_10, nil),
            csr(0x344, "mip"),
            csr(0x34a, "mtinst", .v1_12, nil),
            csr(0x34b, "mtval2", .v1_12, nil),
            csr(0x350, "miselect"),
            csr(0x351, "mireg"),
            csr(0x354, "miph"),
            csr(0x35c, "mtopei"),
            csr(0x380, "mbase", .v1_9_1, .v1_10),
            csr(0x381, "mbound", .v1_9_1, .v1_10),
            csr(0x382, "mibase", .v1_9_1, .v1_10),
            csr(0x383, "mibound", .v1_9_1, .v1_10),
            csr(0x384, "mdbase", .v1_9_1, .v1_10),
            csr(0x385, "mdbound", .v1_9_1, .v1_10),
            family(0x3a0, "pmpcfg", 0...3, "", .v1_10, nil),
            family(0x3a4, "pmpcfg", 4...15, "", .v1_12, nil),
            family(0x3b0, "pmpaddr", 0...15, "", .v1_10, nil),
            family(0x3c0, "pmpaddr", 16...63, "", .v1_12, nil),
            csr(0x5a8, "scontext"),
            csr(0x600, "hstatus"),
            csr(0x602, "hedeleg"),
            csr(0x603, "hideleg"),
            csr(0x604, "hie"),
            csr(0x605, "htimedelta"),
            csr(0x606, "hcounteren"),
            csr(0x607, "hgeie"),
            csr(0x608, "hvien"),
            csr(0x609, "hvictl"),
            csr(0x60a, "henvcfg"),
            family(0x60c, "hstateen", 0...3, ""),
            csr(0x613, "hidelegh"),
            csr(0x615, "htimedeltah"),
            csr(0x618, "hvienh"),
            csr(0x61a, "henvcfgh"),
            family(0x61c, "hstateen", 0...3, "h"),
            csr(0x643, "htval"),
            csr(0x644, "hip"),
            csr(0x645, "hvip"),
            csr(0x646, "hviprio1"),
            csr(0x647, "hviprio2"),
            csr(0x64a, "htinst"),
            csr(0x655, "hviph"),
            csr(0x656, "hviprio1h"),
            csr(0x657, "hviprio2h"),
            csr(0x680, "hgatp"),
            csr(0x6a8, "hcontext"),
            family(0x723, "mhpmevent", 3...31, "h"),
            csr(0x747, "mseccfg", .v1_12, nil),
            csr(0x757, "mseccfgh", .v1_12, nil),
            csr(0x7a0, "tselect"),
            csr(0x7a1, "tdata1"),
            csr(0x7a2, "tdata2"),
            csr(0x7a3, "tdata3"),
            csr(0x7a4, "tinfo"),
            csr(0x7a5, "tcontrol"),
            csr(0x7a8, "mcontext"),
            csr(0x7aa, "mscontext"),
            csr(0x7b0, "dcsr"),
            csr(0x7b1, "dpc"),
            csr(0x7b2, "dscratch0"),
            csr(0x7b3, "dscratch1"),
            csr(0xb00, "mcycle"),
            csr(0xb02, "minstret"),
            family(0xb03, "mhpmcounter", 3...31, ""),
            csr(0xb80, "mcycleh"),
            csr(0xb82, "minstreth"),
            family(0xb83, "mhpmcounter", 3...31, "h"),
            csr(0xc00, "cycle"),
            csr(0xc01, "time"),
            csr(0xc02, "instret"),
            family(0xc03, "hpmcounter", 3...31, ""),
            csr(0xc20, "vl"),
            csr(0xc21, "vtype"),
            csr(0xc22, "vlenb"),
            csr(0xc80, "cycleh"),
            csr(0xc81, "timeh"),
            csr(0xc82, "instreth"),
            family(0xc83, "hpmcounter", 3...31, "h"),
            csr(0xda0, "scountovf"),
            csr(0xdb0, "stopi"),
            csr(0xe12, "hgeip"),
            csr(0xeb0, "vstopi"),
            csr(0xf11, "mvendorid"),
            csr(0xf12, "marchid"),
            csr(0xf13, "mimpid"),
            csr(0xf14, "mhartid"),
            csr(0xf15, "mconfigptr", .v1_12, nil),
            csr(0xfb0, "mtopi"),
        ]
        return groups.flatMap { $0 }
    }()

    /// Per version, a table from CSR number to name.
    private static let tables: [[String?]] = [PrivilegedSpec.v1_9_1, .v1_10, .v1_11, .v1_12].map { spec in
        var table = [String?](repeating: nil, count: 4096)
        for entry in entries where entry.since <= spec && (entry.until.map { spec < $0 } ?? true) {
            table[Int(entry.number)] = entry.name
        }
        return table
    }

    /// The name objdump prints for CSR `number` under `spec`, or nil.
    static func name(of number: UInt16, spec: PrivilegedSpec) -> String? {
        tables[Int(spec.rawValue)][Int(number & 0xfff)]
    }
}

/// Privileged-architecture versions, which name some CSRs differently.
public enum PrivilegedSpec: UInt8, Comparable, Sendable {
    case v1_9_1, v1_10, v1_11, v1_12

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// The version an ELF file's `Tag_RISCV_priv_spec` attributes name, as objdump maps them;
    /// nil (objdump then uses the newest) for absent or unknown versions.
    public init?(major: UInt64, minor: UInt64, revision: UInt64) {
        switch (major, minor, revision) {
        case (1, 9, 1): self = .v1_9_1
        case (1, 10, 0): self = .v1_10
        case (1, 11, 0): self = .v1_11
        case (1, 12, 0): self = .v1_12
        default: return nil
        }
    }
}

extension PrivilegedSpec {
    /// The version a `.riscv.attributes` section's `Tag_RISCV_priv_spec` (8), `_minor` (10) and
    /// `_revision` (12) name, as objdump reads them; nil when absent, unknown or malformed.
    public init?(attributesSection bytes: [UInt8]) {
        guard let attributes = RISCVAttributes(section: bytes), let major = attributes.integers[8] else {
            return nil
        }
        self.init(major: major, minor: attributes.integers[10] ?? 0, revision: attributes.integers[12] ?? 0)
    }
}
