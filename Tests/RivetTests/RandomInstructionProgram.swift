#if canImport(Glibc)
import Glibc
#endif
import Rivet
import RivetISA

/// A generated guest program: a prologue that loads every register and fcsr from a data block,
/// a random body, and an epilogue that writes x1...x31, f0...f31, fcsr and the scratch area to
/// stdout (two write syscalls) and exits with status 0. Everything sits at fixed addresses, so
/// two correct implementations print the same bytes. The body crosses a page boundary.
struct RandomInstructionProgram {
    typealias Layout = RandomInstructionLayout
    typealias Asm = RandomInstructionEncoding

    var initial: RandomMachineState
    var body: [RandomInstruction]

    /// The prologue: x1 points at the initial state; fcsr, f0...f31, x2...x31, then x1 itself.
    static var prologue: [UInt32] {
        var words = Asm.loadAddress(1, Layout.initialState)
        words.append(Asm.ld(2, 8 * 64, 1))
        words.append(Asm.csrrw(0, .fcsr, 2))
        for f in 0..<32 { words.append(Asm.fld(f, 8 * (32 + f), 1)) }
        for x in 2..<32 { words.append(Asm.ld(x, 8 * x, 1)) }
        words.append(Asm.ld(1, 8, 1))
        return words
    }

    /// The epilogue: parks x1 in the scratch slot the body never touches, dumps the registers
    /// through x1, then writes the dump and the scratch area and exits.
    static var epilogue: [UInt32] {
        let base = Layout.baseRegister
        var words = [Asm.sd(1, Layout.savedSlot, base)]
        words += Asm.loadAddress(1, Layout.dump)
        for x in 2..<32 { words.append(Asm.sd(x, 8 * x, 1)) }
        words.append(Asm.ld(2, Layout.savedSlot, base))
        words.append(Asm.sd(2, 8, 1))
        for f in 0..<32 { words.append(Asm.fsd(f, 8 * (32 + f), 1)) }
        words.append(Asm.csrr(2, .fcsr))
        words.append(Asm.sd(2, 8 * 64, 1))
        let a0 = 10, a1 = 11, a2 = 12, a7 = 17
        // write(1, dump, 520)
        words += [Asm.addi(a0, 0, 1), Asm.addi(a1, 1, 0), Asm.addi(a2, 0, Layout.stateSize), Asm.addi(a7, 0, 64), Asm.ecall]
        // write(1, scratch, 4096)
        words += [Asm.addi(a0, 0, 1), Asm.addi(a1, base, -2048), Asm.lui(a2, 1), Asm.addi(a7, 0, 64), Asm.ecall]
        // exit(0)
        words += [Asm.addi(a0, 0, 0), Asm.addi(a7, 0, 93), Asm.ecall]
        return words
    }

    /// Bytes of zeros before the prologue, chosen so that the first 32-bit instruction in the
    /// second half of the body starts 2 bytes before a page boundary: every sequence has an
    /// instruction straddling two pages, and blocks that cross a page.
    var padding: Int {
        let prologueBytes = 4 * Self.prologue.count
        var offset = 0
        var straddler: Int? = nil
        for (k, inst) in body.enumerated() {
            if k >= body.count / 2 && inst.length == 4 {
                straddler = offset
                break
            }
            offset += inst.length
        }
        let target = 4094 - prologueBytes - (straddler ?? offset)
        return ((target % 4096) + 4096) % 4096
    }

    /// Guest address of the prologue, where the program starts.
    var entry: UInt64 { Layout.textAddress + UInt64(padding) }

    /// Guest address of the first body instruction.
    var bodyAddress: UInt64 { entry + UInt64(4 * Self.prologue.count) }

    var elf: ElfWriter {
        var text = [UInt8](repeating: 0, count: padding)
        func emit(_ bits: UInt32, _ length: Int) {
            for k in 0..<length { text.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
        }
        for word in Self.prologue { emit(word, 4) }
        for inst in body { emit(inst.bits, inst.length) }
        for word in Self.epilogue { emit(word, 4) }

        var data = initial.registerBytes
        data += [UInt8](repeating: 0, count: Int(Layout.scratch - Layout.initialState) - data.count)
        data += initial.scratch
        let dataSize = Layout.dump + UInt64(Layout.stateSize) - Layout.dataAddress
        return ElfWriter(
            entry: entry,
            segments: [
                .init(address: Layout.textAddress, bytes: text, memorySize: UInt64(text.count), executable: true),
                .init(address: Layout.dataAddress, bytes: data, memorySize: dataSize, writable: true),
            ])
    }

    /// The body, one instruction a line: address, encoding, description.
    var listing: String {
        var lines: [String] = []
        var pc = bodyAddress
        for inst in body {
            let bits = inst.length == 2 ? "    " + paddedHex(inst.bits, 4) : paddedHex(inst.bits, 8)
            lines.append("  \(paddedHex(pc, 5)):  \(bits)  \(RandomInstructionEncoding.describe(inst.decoded))")
            pc += UInt64(inst.length)
        }
        return lines.joined(separator: "\n")
    }

    /// The initial registers, four a line, and fcsr.
    var initialListing: String {
        var lines: [String] = []
        for row in stride(from: 0, to: 32, by: 4) {
            lines.append(
                "  " + (row..<row + 4).map { "\(integerRegisterNames[$0])=\(paddedHex(initial.x[$0], 16))" }.joined(separator: " "))
        }
        for row in stride(from: 0, to: 32, by: 4) {
            lines.append(
                "  " + (row..<row + 4).map { "\(floatRegisterNames[$0])=\(paddedHex(initial.f[$0], 16))" }.joined(separator: " "))
        }
        lines.append("  fcsr=\(paddedHex(initial.fcsr, 2)) (frm \(initial.fcsr >> 5), fflags 0x\(paddedHex(initial.fcsr & 31, 2)))")
        return lines.joined(separator: "\n")
    }

    /// What differs between two final states, a line per register or scratch range, with the
    /// initial value for context.
    func differences(
        _ state: RandomMachineState, _ reference: RandomMachineState, names: (String, String) = ("rivet", "qemu")
    ) -> [String] {
        let (mine, theirs) = names
        var lines: [String] = []
        for r in 1..<32 where state.x[r] != reference.x[r] {
            lines.append(
                "  x\(r) (\(integerRegisterNames[r])): \(mine) 0x\(paddedHex(state.x[r], 16)), \(theirs) 0x\(paddedHex(reference.x[r], 16)), initially 0x\(paddedHex(initial.x[r], 16))"
            )
        }
        for r in 0..<32 where state.f[r] != reference.f[r] {
            lines.append(
                "  f\(r) (\(floatRegisterNames[r])): \(mine) 0x\(paddedHex(state.f[r], 16)), \(theirs) 0x\(paddedHex(reference.f[r], 16)), initially 0x\(paddedHex(initial.f[r], 16))"
            )
        }
        if state.fcsr != reference.fcsr {
            lines.append(
                "  fcsr: \(mine) 0x\(paddedHex(state.fcsr, 2)), \(theirs) 0x\(paddedHex(reference.fcsr, 2)), initially 0x\(paddedHex(initial.fcsr, 2))"
            )
        }
        var k = 0
        while k < state.scratch.count {
            guard state.scratch[k] != reference.scratch[k] else {
                k += 1
                continue
            }
            let start = k
            while k < state.scratch.count && state.scratch[k] != reference.scratch[k] { k += 1 }
            func bytes(_ state: [UInt8]) -> String { state[start..<k].map { paddedHex($0, 2) }.joined() }
            lines.append(
                "  scratch a5\(start - 2048 >= 0 ? "+" : "")\(start - 2048) (\(k - start) bytes): \(mine) \(bytes(state.scratch)), \(theirs) \(bytes(reference.scratch))"
            )
        }
        return lines
    }
}

/// How a run of a generated program ended.
struct RandomRunResult {
    var status: Int32
    var output: [UInt8]
    var detail: String
}

extension RandomInstructionProgram {
    /// Runs the program at `path` under Rivet with `tier`, capturing its stdout as bytes.
    static func runUnderRivet(_ path: String, tier: ExecutionTier, threshold: UInt32 = 50) throws -> RandomRunResult {
        let out = try TemporaryFile()
        let err = try TemporaryFile()
        let input = open("/dev/null", O_RDONLY)
        defer { close(input) }
        var configuration = Configuration()
        configuration.standardInput = input
        configuration.standardOutput = out.fd
        configuration.standardError = err.fd
        configuration.limits.instructions = 1_000_000
        configuration.limits.wallTime = .seconds(60)
        configuration.tier = tier
        configuration.tierUpThreshold = threshold
        let vm = try VirtualMachine(programPath: path, configuration: configuration)
        let reason = vm.run()
        var detail = "\(reason)"
        let errors = err.contents()
        if !errors.isEmpty { detail += "; stderr: " + errors }
        return RandomRunResult(status: reason.shellStatus, output: readAllBytes(out.fd), detail: detail)
    }
}

/// The whole contents of the host file `fd`, from offset 0.
func readAllBytes(_ fd: Int32) -> [UInt8] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    var offset: off_t = 0
    while true {
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
        if n <= 0 { break }
        bytes += buffer[0..<n]
        offset += off_t(n)
    }
    return bytes
}

/// qemu-riscv64, the outside reference, when it is installed (`RIVET_QEMU` names another
/// binary).
enum QemuReference {
    static let command: String = {
        if let name = getenv("RIVET_QEMU") { return String(cString: name) }
        return "qemu-riscv64"
    }()

    static let isAvailable: Bool = {
        guard let result = try? run([command, "-version"]) else { return false }
        return result.status == 0
    }()

    /// Runs the guest program at `path` under qemu-user, capturing its stdout.
    static func run(program path: String) throws -> RandomRunResult {
        try run([command, path])
    }

    /// Runs qemu-user with `arguments` (options, program, its arguments) in `directory`.
    static func run(arguments: [String], directory: String) throws -> RandomRunResult {
        // Through bash (dash cannot close descriptors above 9), which enters the directory for the child alone (the test process runs
        // tests in parallel, so it must not change its own working directory) and closes the
        // descriptors the test process left open, which the guest would otherwise see.
        let script = """
            cd "$0" || exit 125
            for fd in /proc/self/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done
            exec "$@"
            """
        return try run(["/bin/bash", "-c", script, directory, command] + arguments)
    }

    private static func run(_ arguments: [String]) throws -> RandomRunResult {
        let out = try TemporaryFile()
        let null = open("/dev/null", O_RDWR)
        defer { close(null) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, null, 0)
        posix_spawn_file_actions_adddup2(&actions, out.fd, 1)
        posix_spawn_file_actions_adddup2(&actions, null, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The child starts with no signal blocked and every signal at its default action, whatever
        // the test runner does with its own.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard spawned == 0 else {
            throw RivetError(.invalidConfiguration, "cannot run \(arguments[0]): error \(spawned)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // The shell's view: the exit status, or 128 + the signal number.
        let signal = status & 0x7f
        let shellStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        return RandomRunResult(status: shellStatus, output: readAllBytes(out.fd), detail: "status \(shellStatus)")
    }
}
