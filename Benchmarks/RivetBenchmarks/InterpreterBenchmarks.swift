#if Benchmarks
import Benchmark
import RivetInterpreter
import RivetMachine

/// Interpreter speed on fixed guest loops built in memory (no ELF, no syscalls): an integer
/// ALU loop, a load/store loop, a call/return loop and a double-precision FP loop, about a
/// million guest instructions per iteration. The custom metric `guest MIPS` (per second of CPU
/// time) is the figure to watch; blocks stay decoded across iterations, so this is the
/// interpreter's steady state.
func registerInterpreterBenchmarks() {
    let metrics: [BenchmarkMetric] = [.wallClock, Suite.cpuTime, Suite.guestMIPS]
    for loop in GuestLoop.all() {
        Benchmark("Interpreter:\(loop.name)", configuration: Suite.configuration(metrics: metrics, iterations: 50)) {
            benchmark in
            Suite.measure(benchmark, rate: Suite.guestMIPS) { Int(loop.run()) }
        }
    }
}

/// One guest program in its own address space, run from its entry until its final `ecall`.
final class GuestLoop {
    static let codeBase: UInt64 = 0x10000
    static let dataBase: UInt64 = 0x20000

    let name: String
    let entry: UInt64
    let memory: GuestMemory
    let hart = HartState()
    let interpreter: Interpreter

    init(name: String, program: GuestProgram, entryOffset: Int = 0) {
        self.name = name
        entry = Self.codeBase + UInt64(entryOffset)
        do {
            let memory = try GuestMemory(limit: 1 << 24)
            // Written while writable, then made read-execute (the guest's rights on code).
            try memory.mapAnonymous(
                at: GuestAddress(Self.codeBase), size: 0x1000, permissions: .readWrite, name: "code")
            try memory.write(program.bytes, at: Self.codeBase)
            try memory.protect(at: GuestAddress(Self.codeBase), size: 0x1000, permissions: .readExecute)
            try memory.mapAnonymous(
                at: GuestAddress(Self.dataBase), size: 0x10000, permissions: .readWrite, name: "data")
            self.memory = memory
        } catch {
            fatalError("cannot set up the guest loop \(name): \(error)")
        }
        interpreter = Interpreter(memory: memory, hart: hart)
    }

    /// Runs the program once from its entry; returns the guest instructions it retired.
    func run() -> UInt64 {
        for register in 1..<32 { hart[x: register] = 0 }
        hart.pc = entry
        let before = hart.instret
        let reason = interpreter.run(budget: .max)
        guard reason == .ecall else { fatalError("guest loop \(name) stopped with \(reason)") }
        return hart.instret - before
    }

    /// The loops, each about a million guest instructions.
    static func all() -> [GuestLoop] { [alu(), memoryLoop(), calls(), floatingPoint()] }

    /// Ten integer ALU instructions and a taken branch per iteration.
    static func alu() -> GuestLoop {
        typealias X = GuestProgram.X
        var p = GuestProgram()
        p.li(X.t0, 100_000)
        p.li(X.a0, 0)
        p.li(X.a1, 1)
        let loop = p.here
        p.add(X.a0, X.a0, X.a1)
        p.xor(X.a1, X.a1, X.a0)
        p.slli(X.a2, X.a0, 3)
        p.srli(X.a3, X.a1, 5)
        p.sub(X.a0, X.a0, X.a3)
        p.or(X.a1, X.a1, X.a2)
        p.andi(X.a2, X.a2, 255)
        p.mul(X.a4, X.a0, X.a1)
        p.addi(X.t0, X.t0, -1)
        p.bne(X.t0, X.zero, to: loop)
        p.ecall()
        return GuestLoop(name: "integer_ALU_loop", program: p)
    }

    /// Loads and stores of 8 and 4 bytes over 4 KiB of data.
    static func memoryLoop() -> GuestLoop {
        typealias X = GuestProgram.X
        var p = GuestProgram()
        p.li(X.t0, 100_000)
        p.li(X.a0, Int(dataBase))
        let loop = p.here
        p.andi(X.t1, X.t0, 511)
        p.slli(X.t1, X.t1, 3)
        p.add(X.t1, X.t1, X.a0)
        p.ld(X.t2, 0, X.t1)
        p.addi(X.t2, X.t2, 1)
        p.sd(X.t2, 0, X.t1)
        p.lw(X.t3, 4, X.t1)
        p.sw(X.t3, 8, X.t1)
        p.addi(X.t0, X.t0, -1)
        p.bne(X.t0, X.zero, to: loop)
        p.ecall()
        return GuestLoop(name: "load_store_loop", program: p)
    }

    /// A call (`jal`) and a return (`jalr`, an indirect jump) per iteration.
    static func calls() -> GuestLoop {
        typealias X = GuestProgram.X
        var p = GuestProgram()
        let function = p.here
        p.addi(X.a0, X.a0, 1)
        p.xor(X.a1, X.a1, X.a0)
        p.ret()
        let entry = p.here
        p.li(X.t0, 200_000)
        let loop = p.here
        p.jal(X.ra, to: function)
        p.addi(X.t0, X.t0, -1)
        p.bne(X.t0, X.zero, to: loop)
        p.ecall()
        return GuestLoop(name: "call_return_loop", program: p, entryOffset: entry)
    }

    /// fmul.d, fadd.d and fdiv.d per iteration (the interpreter's FP paths with fflags).
    static func floatingPoint() -> GuestLoop {
        typealias X = GuestProgram.X
        var p = GuestProgram()
        p.li(X.t0, 170_000)
        p.li(X.t1, 3)
        p.fcvtDL(1, X.t1)          // f1 = 3
        p.li(X.t1, 1)
        p.fcvtDL(2, X.t1)          // f2 = 1
        p.fcvtDL(3, X.zero)        // f3 = 0
        p.li(X.t1, 7)
        p.fcvtDL(4, X.t1)          // f4 = 7
        let loop = p.here
        p.fmulD(5, 2, 1)           // f5 = f2 * 3
        p.faddD(3, 3, 5)           // f3 += f5
        p.fdivD(2, 5, 4)           // f2 = f5 / 7
        p.faddD(2, 2, 1)           // f2 += 3: converges, never overflows
        p.addi(X.t0, X.t0, -1)
        p.bne(X.t0, X.zero, to: loop)
        p.ecall()
        return GuestLoop(name: "FP_double_loop", program: p)
    }
}
#endif
