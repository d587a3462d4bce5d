#if canImport(Glibc)
import Glibc
#endif
import RivetISA
import RivetMachine

/// Auxiliary vector keys (include/uapi/linux/auxvec.h).
public enum AuxKey {
    public static let null: UInt64 = 0
    public static let phdr: UInt64 = 3
    public static let phent: UInt64 = 4
    public static let phnum: UInt64 = 5
    public static let pagesz: UInt64 = 6
    public static let base: UInt64 = 7
    public static let flags: UInt64 = 8
    public static let entry: UInt64 = 9
    public static let uid: UInt64 = 11
    public static let euid: UInt64 = 12
    public static let gid: UInt64 = 13
    public static let egid: UInt64 = 14
    public static let hwcap: UInt64 = 16
    public static let clktck: UInt64 = 17
    public static let secure: UInt64 = 23
    public static let random: UInt64 = 25
    public static let execfn: UInt64 = 31
}

/// The ISA letters this hart implements, as AT_HWCAP bits (bit n = letter 'a' + n): IMAFDC.
public let hwcapIMAFDC: UInt64 = {
    "imafdc".unicodeScalars.reduce(0) { $0 | 1 << UInt64($1.value - UnicodeScalar("a").value) }
}()

extension LinuxProcess {
    /// The identity the guest sees: the host's.
    public var identity: (uid: UInt64, euid: UInt64, gid: UInt64, egid: UInt64) {
        (UInt64(getuid()), UInt64(geteuid()), UInt64(getgid()), UInt64(getegid()))
    }

    /// Maps the stack, builds argv, envp and auxv on it as Linux's `create_elf_tables` does,
    /// sets up brk, and points the hart at the entry.
    /// - Throws: `ELFError` if the arguments do not fit on the stack.
    public func start(_ program: LoadedProgram, hart: HartState) throws(ELFError) {
        self.program = program
        self.hart = hart
        current.hart = hart
        brkStart = program.brkStart
        brkEnd = program.brkStart

        let stackBottom = AddressLayout.stackTop - AddressLayout.stackSize
        do {
            try memory.mapAnonymous(
                at: GuestAddress(stackBottom), size: AddressLayout.stackSize, permissions: .readWrite, name: "[stack]")
            try mapSignalTrampoline()
        } catch {
            throw ELFError("cannot map the stack")
        }

        // Everything must fit in the stack with room to spare (Linux: E2BIG past a quarter of it).
        let stringBytes = (configuration.arguments + configuration.environment).reduce(0) { $0 + $1.utf8.count + 1 }
        let pointerBytes = (configuration.arguments.count + configuration.environment.count + 40) * 8
        guard stringBytes + pointerBytes + 256 < Int(AddressLayout.stackSize / 4) else {
            throw ELFError("arguments and environment are too large (\(stringBytes) bytes)")
        }

        // Strings and AT_RANDOM go at the top, then the pointer tables below them.
        var sp = AddressLayout.stackTop - 16
        func push(_ bytes: [UInt8]) -> UInt64 {
            sp -= UInt64(bytes.count)
            bytes.withUnsafeBytes { memory.host(sp).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return sp
        }
        let execfn = push(Array(configuration.arguments.first?.utf8 ?? "".utf8) + [0])
        var envPointers: [UInt64] = []
        for variable in configuration.environment.reversed() { envPointers.append(push(Array(variable.utf8) + [0])) }
        envPointers.reverse()
        var argPointers: [UInt64] = []
        for argument in configuration.arguments.reversed() { argPointers.append(push(Array(argument.utf8) + [0])) }
        argPointers.reverse()
        sp &= ~15
        var randomBytes = [UInt8](repeating: 0, count: 16)
        randomBytes.withUnsafeMutableBytes { fillRandom($0) }
        let random = push(randomBytes)
        sp &= ~15

        let id = identity
        let auxv: [(UInt64, UInt64)] = [
            (AuxKey.phdr, program.programHeaders),
            (AuxKey.phent, 56),
            (AuxKey.phnum, UInt64(program.programHeaderCount)),
            (AuxKey.pagesz, GuestMemory.pageSize),
            (AuxKey.base, program.interpreterBase),
            (AuxKey.flags, 0),
            (AuxKey.entry, program.programEntry),
            (AuxKey.uid, id.uid),
            (AuxKey.euid, id.euid),
            (AuxKey.gid, id.gid),
            (AuxKey.egid, id.egid),
            (AuxKey.hwcap, hwcapIMAFDC),
            (AuxKey.clktck, 100),
            (AuxKey.secure, 0),
            (AuxKey.random, random),
            (AuxKey.execfn, execfn),
            (AuxKey.null, 0),
        ]
        var words: [UInt64] = [UInt64(argPointers.count)]
        words += argPointers + [0]
        words += envPointers + [0]
        for (key, value) in auxv { words += [key, value] }
        auxiliaryVector = auxv.flatMap { pair in
            [pair.0, pair.1].flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
        }
        let tableSize = UInt64(words.count * 8)
        sp = (sp - tableSize) & ~15
        for (k, word) in words.enumerated() {
            memory.host(sp + UInt64(k * 8)).storeBytes(of: word.littleEndian, as: UInt64.self)
        }

        hart.pc = program.entry
        hart[x: 2] = sp
        // a0 holds the address of a function to register with atexit; Linux passes 0.
        hart[x: 10] = 0
    }
}
