import Glibc
import RivetX64
import Testing

/// Measures assembly speed on a block shaped like tier-1 output (guest registers loaded from
/// and stored to the state struct, ALU work, a compare and branch, a patchable exit). Prints
/// the figure; asserts nothing about time. Run in release:
/// `RIVET_X64_BENCH=1 swift test -c release --filter AssemblyBenchmark`.
@Suite(.enabled(if: getenv("RIVET_X64_BENCH") != nil, "set RIVET_X64_BENCH=1 to measure"))
struct AssemblyBenchmark {
    /// One guest block: 20 instructions plus a label and a patchable jump (22 emitted).
    @inline(never)
    static func assembleBlock(_ asm: inout X64Assembler, _ k: Int32) {
        let state = HostRegister.r14, memory = HostRegister.r15
        let taken = asm.newLabel()
        asm.emit(.mov(.b64, .rax, .at(state, 8 * 10)))
        asm.emit(.mov(.b64, .rcx, .at(state, 8 * 11)))
        asm.emit(.alu(.add, .b64, .rax, .rcx))
        asm.emit(.mov(.b64, .at(state, 8 * 12), .rax))
        asm.emit(.mov(.b32, .rdx, .at(memory, index: .rax, scale: .x1, k)))
        asm.emit(.movsx(.b64, .rdx, .rdx, from: .b32))
        asm.emit(.shift(.shl, .b64, .rdx, 3))
        asm.emit(.alu(.xor, .b64, .rdx, imm: 0x7F))
        asm.emit(.mov(.b64, .at(state, 8 * 13), .rdx))
        asm.emit(.imul(.b64, .rdx, .rcx))
        asm.emit(.lea(.b64, .rsi, .at(.rdx, index: .rax, scale: .x4, 16)))
        asm.emit(.mov(.b64, .at(state, 8 * 14), .rsi))
        asm.emit(.movzx(.b32, .rdi, .at(memory, index: .rsi), from: .b8))
        asm.emit(.mov(.b64, .at(state, 8 * 15), .rdi))
        asm.emit(.alu(.sub, .b64, .at(state, 0x200), imm: 20))
        asm.emit(.alu(.cmp, .b64, .rax, .rdx))
        asm.jcc(.l, to: taken)
        asm.emit(.mov(.b64, .at(state, 0x100), imm: k))
        _ = asm.patchableJump(to: taken)
        asm.bind(taken)
        asm.emit(.mov(.b64, .at(state, 0x100), imm: k &+ 4))
        asm.emit(.ret)
    }

    @Test func instructionsPerMicrosecond() throws {
        var asm = X64Assembler()
        let blocks = 200_000, instructionsPerBlock = 22
        var bytes = 0
        // Warm up (first allocations, page faults).
        for k in 0..<1000 {
            asm.reset()
            Self.assembleBlock(&asm, Int32(k))
            try asm.finish()
        }
        // Thread CPU time, so that other processes on a shared machine do not count.
        var start = timespec(), end = timespec(), wallStart = timespec(), wallEnd = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wallStart)
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        for k in 0..<blocks {
            asm.reset()
            Self.assembleBlock(&asm, Int32(truncatingIfNeeded: k))
            try asm.finish()
            bytes &+= asm.count
        }
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        clock_gettime(CLOCK_MONOTONIC, &wallEnd)
        func microseconds(_ a: timespec, _ b: timespec) -> Double {
            Double(b.tv_sec - a.tv_sec) * 1e6 + Double(b.tv_nsec - a.tv_nsec) / 1e3
        }
        let cpu = microseconds(start, end), wall = microseconds(wallStart, wallEnd)
        let instructions = Double(blocks * instructionsPerBlock)
        print("x64 assembly: \(Int(instructions / cpu)) instructions/µs of CPU time, "
              + "\(Int(cpu * 1000 / Double(blocks))) ns per \(instructionsPerBlock)-instruction block "
              + "(\(bytes / blocks) bytes); wall clock \(Int(wall * 1000 / Double(blocks))) ns per block")
        #expect(bytes > 0)
    }
}
