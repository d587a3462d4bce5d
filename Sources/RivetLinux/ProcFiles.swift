#if canImport(Glibc)
import Glibc
#endif
import RivetMachine

/// A file the sandbox makes up: the guest's `/proc/self`, `/proc/cpuinfo` and a few devices. They exist
/// whatever the grants, and take precedence over them.
public enum EmulatedFile: Equatable, Sendable {
    /// `/proc/self/exe`: a magic link to the running executable.
    case executableLink
    /// `/proc/self/fd/N`: a magic link to what descriptor N refers to.
    case descriptorLink(Int32)
    /// An ordinary symlink to a guest path (`/proc/self/cwd`, `/dev/stdin`, `/dev/fd`).
    case link(String)
    /// `/proc/self/fd`: lists the open descriptors.
    case descriptorDirectory
    /// A read-only file generated when opened.
    case generated(GeneratedFile)
    /// A host device that leaks nothing and changes nothing: `/dev/null`, `/dev/zero`,
    /// `/dev/random`, `/dev/urandom`, opened from the host.
    case device(String)
    /// `/dev/tty`: the guest has no controlling terminal, so opening it fails with ENXIO, as
    /// for a daemon. Passing the host's through would let a guest read the user's keyboard
    /// and write to their screen behind redirected standard streams.
    case terminal
    /// A file the embedder serves from memory (`Configuration.files`).
    case memoryFile(MemoryFile)

    /// The contents of a generated file.
    public enum GeneratedFile: String, Sendable {
        case maps, cmdline, environ, cpuinfo
    }

    /// Every emulated path but `/proc/self/fd/N`. `/proc/self/cwd` is a link whose target, the
    /// working directory, the sandbox fills in (the empty text here is a placeholder).
    static let table: [(path: [String], file: EmulatedFile)] = [
        (["proc", "self", "exe"], .executableLink),
        (["proc", "self", "cwd"], .link("")),
        (["proc", "self", "fd"], .descriptorDirectory),
        (["proc", "self", "maps"], .generated(.maps)),
        (["proc", "self", "cmdline"], .generated(.cmdline)),
        (["proc", "self", "environ"], .generated(.environ)),
        (["proc", "cpuinfo"], .generated(.cpuinfo)),
        (["dev", "null"], .device("/dev/null")),
        (["dev", "zero"], .device("/dev/zero")),
        (["dev", "random"], .device("/dev/random")),
        (["dev", "urandom"], .device("/dev/urandom")),
        (["dev", "tty"], .terminal),
        (["dev", "stdin"], .link("/proc/self/fd/0")),
        (["dev", "stdout"], .link("/proc/self/fd/1")),
        (["dev", "stderr"], .link("/proc/self/fd/2")),
        (["dev", "fd"], .link("/proc/self/fd")),
    ]

    /// Whether it is a directory.
    public var isDirectory: Bool { self == .descriptorDirectory }

    /// Whether it is a symlink (when not followed).
    public var isLink: Bool {
        switch self {
        case .executableLink, .descriptorLink, .link: true
        default: false
        }
    }

    /// Its `DT_*` type for getdents64.
    public var directoryEntryType: UInt8 {
        switch self {
        case .executableLink, .descriptorLink, .link: DirectoryEntryType.link
        case .descriptorDirectory: DirectoryEntryType.directory
        case .generated, .memoryFile: DirectoryEntryType.regular
        case .device, .terminal: DirectoryEntryType.characterDevice
        }
    }
}

/// `d_type` values of `struct linux_dirent64`.
public enum DirectoryEntryType {
    public static let unknown: UInt8 = 0
    public static let fifo: UInt8 = 1
    public static let characterDevice: UInt8 = 2
    public static let directory: UInt8 = 4
    public static let block: UInt8 = 6
    public static let regular: UInt8 = 8
    public static let link: UInt8 = 10
    public static let socket: UInt8 = 12

    /// The type of a host `st_mode`.
    public static func of(mode: mode_t) -> UInt8 { UInt8(truncatingIfNeeded: (mode & S_IFMT) >> 12) }
}

extension LinuxProcess {
    /// What the guest sees as the executable's path: its guest path when a grant shows it,
    /// else its host path (as qemu-user reports it; the guest cannot open that path, only
    /// /proc/self/exe).
    public var executableGuestPath: String {
        let host = Sandbox.canonical(configuration.executablePath)
        return filesystem.guestPath(forHost: host) ?? configuration.executablePath
    }

    /// The target text of a magic link, or nil if it names nothing (a closed descriptor).
    public func magicLinkText(_ file: EmulatedFile) -> String? {
        switch file {
        case .executableLink: return executableGuestPath
        case .descriptorLink(let fd): return files[fd]?.guestPath
        case .link(let text): return text
        default: return nil
        }
    }

    /// The contents of a generated file, as of now.
    public func generatedContents(_ file: EmulatedFile.GeneratedFile) -> [UInt8] {
        switch file {
        case .maps: return Array(mapsText().utf8)
        case .cmdline: return configuration.arguments.flatMap { Array($0.utf8) + [0] }
        case .environ: return configuration.environment.flatMap { Array($0.utf8) + [0] }
        case .cpuinfo: return Array(Self.cpuinfoText(harts: Self.hartCount).utf8)
        }
    }

    /// The ISA string of the emulated hart as Linux prints it: single letters, then the Z
    /// extensions by category in the order IMAFDQLCBKJTPVH and alphabetically within one (the
    /// order of `riscv_isa_ext[]` in arch/riscv/kernel/cpufeature.c). Zicntr: the cycle, time
    /// and instret counters.
    public static let isaString =
        "rv64imafdc_zicbom_zicboz_zicntr_zicond_zicsr_zifencei_zihintpause_zfa_zba_zbb_zbs"

    /// The harts the guest sees: one per host processor Rivet may use (guest threads run in
    /// parallel on host threads), at most 64.
    public static let hartCount: Int = min(64, max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// `/proc/cpuinfo` as RISC-V Linux prints it (`c_show` in arch/riscv/kernel/cpu.c), one
    /// entry per hart: no vendor, Sv39 (the guest's 2^38-byte address space).
    static func cpuinfoText(harts: Int) -> String {
        (0..<harts).map { k in
            """
            processor\t: \(k)
            hart\t\t: \(k)
            isa\t\t: \(isaString)
            mmu\t\t: sv39
            mvendorid\t: 0x0
            marchid\t\t: 0x0
            mimpid\t\t: 0x0
            hart isa\t: \(isaString)


            """
        }.joined()
    }

    /// `/proc/self/maps` in Linux's format (`show_map_vma`): the executable under its guest
    /// name, device and inode as zero.
    func mapsText() -> String {
        let executable = configuration.executablePath
        let executableName = executableGuestPath
        var text = ""
        for region in memory.map.regions {
            var line = hex(region.start.rawValue, width: 8) + "-" + hex(region.end.rawValue, width: 8) + " "
            line += region.permissions.access.description + (region.shared ? "s" : "p")
            line += " " + hex(region.fileOffset, width: 8) + " 00:00 0 "
            let name = region.name == executable ? executableName : region.name
            if !name.isEmpty {
                if line.utf8.count < 72 { line += String(repeating: " ", count: 72 - line.utf8.count) }
                line += " " + name
            }
            text += line + "\n"
        }
        return text
    }

    private func hex(_ value: UInt64, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
