/// What the first bytes of a file say it is: for an ELF file, its class, byte order, type and
/// machine (`e_ident`, `e_type`, `e_machine`). The loader and the disassembler use it to refuse
/// a file in words a user recognizes — "an x86-64 executable, not RISC-V", not "machine 62".
public struct ELFIdentification: Equatable, Sendable {
    /// ELFCLASS64 (else ELFCLASS32, or an invalid class).
    public var elfClass: UInt8
    /// ELFDATA2LSB = 1, ELFDATA2MSB = 2 (else invalid).
    public var byteOrder: UInt8
    /// `e_type`: ET_REL 1, ET_EXEC 2, ET_DYN 3, ET_CORE 4; 0 when the file is too short to say.
    public var type: UInt16
    /// `e_machine`; 0 when the file is too short to say.
    public var machine: UInt16

    public static let class64: UInt8 = 2
    public static let class32: UInt8 = 1
    public static let littleEndian: UInt8 = 1
    public static let bigEndian: UInt8 = 2
    /// EM_RISCV.
    public static let riscv: UInt16 = 243

    /// Reads the identification of `bytes`; nil if they do not start with the ELF magic.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 4, bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else { return nil }
        let order = bytes.count > 5 ? bytes[5] : 0
        // e_type and e_machine follow the 16 bytes of e_ident, in the file's byte order.
        func half(_ offset: Int) -> UInt16 {
            guard bytes.count >= offset + 2 else { return 0 }
            let (low, high) = order == Self.bigEndian ? (bytes[offset + 1], bytes[offset]) : (bytes[offset], bytes[offset + 1])
            return UInt16(low) | UInt16(high) << 8
        }
        elfClass = bytes.count > 4 ? bytes[4] : 0
        byteOrder = order
        type = half(16)
        machine = half(18)
    }

    /// Whether this is the one kind of ELF file Rivet handles: 64-bit, little-endian, RISC-V.
    public var isRV64: Bool { elfClass == Self.class64 && byteOrder == Self.littleEndian && machine == Self.riscv }

    /// Why Rivet cannot run (or, with `verb` "disassembles", list) this file, in one line, or nil
    /// if it is a 64-bit little-endian RISC-V file: "an x86-64 executable, not RISC-V", "a
    /// 32-bit RISC-V executable (RV32); Rivet runs RV64 only".
    public func refusal(verb: String = "runs") -> String? {
        guard elfClass == Self.class32 || elfClass == Self.class64 else {
            return "an ELF file of unknown class \(elfClass)"
        }
        guard byteOrder == Self.littleEndian || byteOrder == Self.bigEndian else {
            return "an ELF file of unknown byte order \(byteOrder)"
        }
        if machine == Self.riscv {
            if elfClass == Self.class32 { return "a 32-bit RISC-V \(kind) (RV32); Rivet \(verb) RV64 only" }
            if byteOrder == Self.bigEndian {
                return "a big-endian RISC-V \(kind); Rivet \(verb) little-endian RV64 only"
            }
            return nil
        }
        return "\(description), not RISC-V"
    }

    /// "an x86-64 executable", "a big-endian MIPS64 object file", "an ELF executable for machine 4711".
    public var description: String {
        guard let name = architecture else {
            return "\(article("ELF")) ELF \(kind) for machine \(machine)"
        }
        let words = (byteOrder == Self.bigEndian && !Self.bigEndianOnly.contains(machine) ? "big-endian " : "") + name
        return "\(article(words)) \(words) \(kind)"
    }

    /// What `e_type` makes the file, in words. ET_DYN is a position-independent executable as
    /// often as a shared library, and "executable" is what a user who ran it expects to read.
    public var kind: String {
        switch type {
        case 1: "object file"
        case 2, 3: "executable"
        case 4: "core file"
        default: "ELF file"
        }
    }

    /// The architecture's usual name for this machine and class, or nil for a machine not in the
    /// table.
    public var architecture: String? {
        guard let names = Self.machines[machine] else { return nil }
        return elfClass == Self.class64 ? names.bits64 : names.bits32
    }

    /// ELF machine numbers (the System V ABI's registry, `e_machine`) and the names each
    /// architecture goes by for 32-bit and 64-bit files.
    private static let machines: [UInt16: (bits32: String, bits64: String)] = [
        3: ("i386", "i386"),
        8: ("MIPS", "MIPS64"),
        20: ("PowerPC", "PowerPC"),
        21: ("PowerPC64", "PowerPC64"),
        22: ("s390", "s390x"),
        40: ("ARM", "ARM"),
        62: ("x32 (32-bit x86-64)", "x86-64"),
        183: ("AArch64 (ILP32)", "AArch64"),
        243: ("RISC-V", "RISC-V"),
        258: ("LoongArch32", "LoongArch64"),
    ]

    /// Architectures that exist only big-endian, so saying so adds nothing.
    private static let bigEndianOnly: Set<UInt16> = [20, 22]

    /// "a" or "an" before `phrase`, as it is read aloud: "an x86-64", "an s390x", "an ARM", "a
    /// MIPS", "a RISC-V", "a 32-bit".
    private func article(_ phrase: String) -> String {
        let spelledLetter = phrase.hasPrefix("x") || phrase.hasPrefix("s390")  // "ex-86", "es-390"
        return spelledLetter || phrase.first.map { "aeiouAEIOU".contains($0) } == true ? "an" : "a"
    }

    /// Why `bytes`, which do not start with the ELF magic, cannot be run: "not an ELF file", or
    /// for a script "a script (#!/bin/sh), not an ELF file".
    public static func notELF(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "an empty file, not an ELF file" }
        if bytes.starts(with: [0x23, 0x21]) {
            let line = String(decoding: bytes.prefix(256).prefix { $0 != 0x0a && $0 != 0x0d }, as: UTF8.self)
            return "a script (\(line.count <= 80 ? line : line.prefix(77) + "...")), not an ELF file"
        }
        return "not an ELF file"
    }
}
