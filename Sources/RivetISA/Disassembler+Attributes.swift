/// The file attributes of a `.riscv.attributes` section (`SHT_RISCV_ATTRIBUTES`), as objdump
/// reads them: the privileged-spec version and the ISA string the file was built for.
///
/// The format is the ELF "build attributes" one: `'A'`, then subsections (a 4-byte length, a
/// vendor name, sub-subsections of a ULEB128 tag, a 4-byte length and attributes). Only the
/// "riscv" vendor's file sub-subsection (tag 1) counts; in it, odd attribute tags hold
/// NUL-terminated strings and even ones ULEB128 numbers (RISC-V ELF psABI, "Attributes").
struct RISCVAttributes {
    /// Numeric attributes by tag (`Tag_RISCV_priv_spec` = 8 ...).
    var integers: [UInt64: UInt64] = [:]
    /// String attributes by tag (`Tag_RISCV_arch` = 5).
    var strings: [UInt64: String] = [:]

    /// The attributes of `bytes`, or nil if the section is malformed.
    init?(section bytes: [UInt8]) {
        var at = 0
        func uleb() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
                shift += 7
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
        func u32(_ offset: Int) -> Int {
            (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        guard bytes.first == 0x41, bytes.count >= 5 else { return nil }
        at = 1
        while at + 4 <= bytes.count {
            let subsectionEnd = at + u32(at)
            guard subsectionEnd > at + 4, subsectionEnd <= bytes.count else { return nil }
            at += 4
            guard let nul = bytes[at..<subsectionEnd].firstIndex(of: 0) else { return nil }
            let vendor = String(decoding: bytes[at..<nul], as: UTF8.self)
            at = nul + 1
            while vendor == "riscv" && at < subsectionEnd {
                let start = at
                guard let tag = uleb(), at + 4 <= subsectionEnd else { return nil }
                let end = start + u32(at)
                guard end > at, end <= subsectionEnd else { return nil }
                at += 4
                guard tag == 1 else { at = end; continue }  // file attributes only
                while at < end {
                    guard let attribute = uleb() else { return nil }
                    if attribute & 1 == 1 {
                        guard let nul = bytes[at..<end].firstIndex(of: 0) else { return nil }
                        strings[attribute] = String(decoding: bytes[at..<nul], as: UTF8.self)
                        at = nul + 1
                    } else {
                        guard let value = uleb() else { return nil }
                        integers[attribute] = value
                    }
                }
            }
            at = subsectionEnd
        }
    }
}

extension Extension {
    /// The extensions objdump 2.40 decodes in a file whose `Tag_RISCV_arch` is `arch`
    /// (`rv64i2p1_m2p0_..._zba1p0_zbb1p0`): RV64GC's, plus the named extensions it knows. (A
    /// file naming fewer base extensions is listed as RV64GC all the same.)
    public static func decodedByObjdump(arch: String) -> Set<Extension> {
        var found = rv64gc
        for part in arch.lowercased().split(separator: "_").dropFirst() {
            // A multi-letter name ends where its version (`1p0`, `2`) begins.
            let name = part.prefix { !$0.isNumber }
            if let named = Extension(isaStringName: name), binutils240.contains(named) { found.insert(named) }
        }
        return found
    }
}
