import RivetISA

/// A guest program that makes many syscalls in a row with random arguments, then writes every
/// call's result (a0) to standard output and exits with status 0.
///
/// Arguments are 64-bit constants loaded from a read-only table, so nothing the calls do can
/// change what later calls are given. Pointers go into an argument pool of paths, `iovec`s,
/// timespecs, signal actions, limits and random bytes, or into a sink that nothing reads back
/// (for the calls that write times or inode numbers, which differ from run to run). The
/// results go to descriptor `resultDescriptor`, a copy of standard output made first, so a
/// call that closes or replaces descriptor 1 does not lose them.
package struct SyscallProgram {
    /// Where everything is.
    package enum Layout {
        /// The code.
        package static let text: UInt64 = 0x10000
        /// The argument table: seven 8-byte values (a0...a5, a7) per call; read-only.
        package static let arguments: UInt64 = 0x40000
        /// The argument pool: what pointer arguments point at; read-write.
        package static let pool: UInt64 = 0x10_0000
        /// Bytes in the pool (it ends at a page boundary with nothing mapped after it).
        package static let poolSize = 0x4000
        /// The results: 8 bytes per call; read-write, no argument points here.
        package static let results: UInt64 = 0x20_0000
        /// Where run-dependent output goes; read-write, never read.
        package static let sink: UInt64 = 0x30_0000
        /// Bytes in the sink.
        package static let sinkSize = 0x10000
        /// The descriptor the results are written to: a copy of standard output.
        package static let resultDescriptor = 1000
    }

    /// One syscall: its number and six arguments, and whether its result is written out.
    package struct Call: Sendable {
        /// The value in a7.
        package var number: UInt64
        /// The values in a0...a5.
        package var arguments: [UInt64]
        /// False for a call whose result differs from run to run (times).
        package var recordsResult: Bool
    }

    /// The calls, in order.
    package var calls: [Call]
    /// The argument pool's initial contents (`Layout.poolSize` bytes).
    package var pool: [UInt8]
    /// Guest addresses of the pool's paths, by path (for listings).
    package var paths: [UInt64: String]
    /// The address of the signal handler the pool's `sigaction`s name: it calls rt_sigreturn.
    package var handlerAddress: UInt64 = 0

    private typealias Asm = RandomInstructionEncoding
    private static let t0 = 5, t1 = 6, a0 = 10, a1 = 11, a2 = 12, a7 = 17

    /// The code: copy standard output, the calls, write the results, exit; then the handler.
    package var code: [UInt32] {
        var words: [UInt32] = []
        // dup3(1, resultDescriptor, 0)
        words += [
            Asm.addi(Self.a0, 0, 1), Asm.addi(Self.a1, 0, Layout.resultDescriptor), Asm.addi(Self.a2, 0, 0),
            Asm.addi(Self.a7, 0, 24), Asm.ecall,
        ]
        for (k, call) in calls.enumerated() {
            words += Asm.loadAddress(Self.t1, Layout.arguments + UInt64(56 * k))
            for n in 0..<6 { words.append(Asm.ld(Self.a0 + n, 8 * n, Self.t1)) }
            words.append(Asm.ld(Self.a7, 48, Self.t1))
            words.append(Asm.ecall)
            words += Asm.loadAddress(Self.t0, Layout.results + UInt64(8 * k))
            words.append(Asm.sd(call.recordsResult ? Self.a0 : 0, 0, Self.t0))
        }
        // write(resultDescriptor, results, 8 * count); exit_group(0)
        words += [Asm.addi(Self.a0, 0, Layout.resultDescriptor)]
        words += Asm.loadAddress(Self.a1, Layout.results)
        words += Asm.loadAddress(Self.a2, UInt64(8 * calls.count))
        words += [Asm.addi(Self.a7, 0, 64), Asm.ecall]
        words += [Asm.addi(Self.a0, 0, 0), Asm.addi(Self.a7, 0, 94), Asm.ecall]
        // The handler: rt_sigreturn.
        words += [Asm.addi(Self.a7, 0, 139), Asm.ecall]
        return words
    }

    /// Where the handler starts, for a program of `count` calls: the last two words.
    static func handlerLocation(calls count: Int) -> UInt64 {
        let prologue = 5
        let perCall = 2 + 7 + 1 + 2 + 1
        let epilogue = 1 + 2 + 2 + 2 + 3
        return Layout.text + UInt64(4 * (prologue + perCall * count + epilogue))
    }

    /// The program as an ELF file.
    package var elf: ElfWriter {
        var text: [UInt8] = []
        for word in code { for k in 0..<4 { text.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(k)))) } }
        precondition(Layout.text + UInt64(text.count) - 8 == handlerAddress)
        var table: [UInt8] = []
        for call in calls {
            for value in call.arguments + [call.number] {
                for k in 0..<8 { table.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(k)))) }
            }
        }
        func pages(_ n: Int) -> UInt64 { UInt64((max(n, 1) + 4095) & ~4095) }
        return ElfWriter(
            entry: Layout.text,
            segments: [
                .init(address: Layout.text, bytes: text, memorySize: pages(text.count), executable: true),
                .init(address: Layout.arguments, bytes: table, memorySize: pages(table.count)),
                .init(address: Layout.pool, bytes: pool, memorySize: UInt64(Layout.poolSize), writable: true),
                .init(address: Layout.results, bytes: [], memorySize: pages(8 * calls.count), writable: true),
                .init(address: Layout.sink, bytes: [], memorySize: UInt64(Layout.sinkSize), writable: true),
            ])
    }

    /// The calls, one a line: `name(arg, ...)`, pointers to pool paths shown as the path.
    package var listing: String {
        calls.enumerated().map { k, call in
            let name = SyscallSignatures.entry(for: call.number)?.name ?? "syscall \(call.number)"
            let arguments = call.arguments.map { value in
                if let path = paths[value] { return "\"\(path)\"" }
                return Int64(bitPattern: value) < 0 && Int64(bitPattern: value) > -4096
                    ? "\(Int64(bitPattern: value))" : "0x" + String(value, radix: 16)
            }
            let note = call.recordsResult ? "" : "  [result not recorded]"
            return "  \(k): \(name)(\(arguments.joined(separator: ", ")))" + note
        }.joined(separator: "\n")
    }
}
