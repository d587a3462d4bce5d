import RivetFuzz
import RivetIR
import RivetISA
import RivetInterpreter
import RivetJIT
import RivetMachine
import Testing

/// Random float code end to end: F and D instructions (and the integer ones around them) with
/// the rounding modes the frontend models inline, from random f registers, scratch memory and
/// fcsr (flags already set; frm round-to-nearest in three seeds of four, another mode in the
/// rest, which the regions' entry guard must refuse with the state untouched), through
/// `RegionFrontend`, `Pipeline.tier2` and the backend, run on host memory against the
/// interpreter: x and f registers, fcsr, memory and pc. The integer tests model only x
/// registers; these check the XMM allocation, NaN boxing and canonical NaNs, the flags accrued
/// from MXCSR at exits, and the state (f registers and flags included) rebuilt at faults: a
/// fifth of the seeds put the base of every access past the arena.
extension Tier2BackendRegionTests {
    static let floatExtensions: Set<Extension> = [.i, .m, .f, .d]
    static let singleBox: UInt64 = 0xffff_ffff_0000_0000

    /// What a run left: registers, fcsr, the scratch area, the pc and whether it faulted.
    struct FloatState: Equatable, CustomStringConvertible {
        var x: [UInt64]
        var f: [UInt64]
        var fcsr: UInt64
        var scratch: [UInt8]
        var pc: UInt64
        var faulted: Bool

        init(x: [UInt64], f: [UInt64], fcsr: UInt64, scratch: [UInt8], pc: UInt64, faulted: Bool) {
            (self.x, self.f, self.fcsr, self.scratch, self.pc, self.faulted) = (x, f, fcsr, scratch, pc, faulted)
        }

        /// A state before any instruction ran.
        init(_ s: RandomMachineState, pc: UInt64) {
            self.init(x: s.x, f: s.f, fcsr: s.fcsr, scratch: s.scratch, pc: pc, faulted: false)
        }

        var description: String {
            "pc 0x\(String(pc, radix: 16)) fcsr 0x\(String(fcsr, radix: 16)) faulted \(faulted) x \(x) f \(f)"
        }
    }

    /// `body` with the rounding modes the frontend models inline, drawn by `random`: `rne` or
    /// `dyn` for arithmetic and conversions to float, `rtz` for conversions to a signed integer
    /// (C's casts). The generator draws every mode alike, and other static modes end a region
    /// before them: its regions were mostly integer code.
    static func modelledRounding(_ body: [RandomInstruction], _ random: inout SeededRandom) -> [RandomInstruction] {
        let arithmetic: Set<RivetISA.Opcode> = [
            .fadd_s, .fsub_s, .fmul_s, .fdiv_s, .fsqrt_s, .fadd_d, .fsub_d, .fmul_d, .fdiv_d, .fsqrt_d,
            .fmadd_s, .fmsub_s, .fnmsub_s, .fnmadd_s, .fmadd_d, .fmsub_d, .fnmsub_d, .fnmadd_d,
            .fcvt_s_w, .fcvt_s_wu, .fcvt_s_l, .fcvt_d_l, .fcvt_s_d,
        ]
        let toInteger: Set<RivetISA.Opcode> = [.fcvt_w_s, .fcvt_l_s, .fcvt_w_d, .fcvt_l_d]
        return body.map { item in
            guard item.length == 4, arithmetic.contains(item.decoded.opcode) || toInteger.contains(item.decoded.opcode) else { return item }
            let rm: UInt32 = toInteger.contains(item.decoded.opcode) ? 1 : (random.percent(50) ? 0 : 7)
            let bits = item.bits & ~(7 << 12) | rm << 12
            return RandomInstruction(bits: bits, decoded: Decoder.decode32(bits))
        }
    }

    /// Runs `code` natively from `initial` (x, f and fcsr in the hart's slots); nil if its entry
    /// guard failed (the region assumes round-to-nearest, and `frm` says otherwise), the state
    /// then unchanged.
    static func runFloat(_ code: Tier2ExecutableCode, _ initial: RandomMachineState, bytes: [UInt8]) -> FloatState? {
        let space = Tier2Arena(size: arenaSize)
        let arena = space.bytes
        for (k, byte) in bytes.enumerated() { arena[Int(RandomInstructionLayout.textAddress) + k] = byte }
        for (k, byte) in initial.scratch.enumerated() { arena[Int(RandomInstructionLayout.scratch) + k] = byte }
        var state = [UInt64](repeating: 0, count: Tier2Harness.stateWords)
        for n in 1..<32 { state[HartState.Slot.x + n] = initial.x[n] }
        for n in 0..<32 { state[HartState.Slot.f + n] = initial.f[n] }
        state[HartState.Slot.fcsr] = initial.fcsr
        state[HartState.Slot.pc] = RandomInstructionLayout.textAddress
        let kind = code.run(&state, space)
        let after = FloatState(
            x: [0] + (1..<32).map { state[HartState.Slot.x + $0] }, f: (0..<32).map { state[HartState.Slot.f + $0] },
            fcsr: state[HartState.Slot.fcsr] & 0xff,
            scratch: (0..<initial.scratch.count).map { arena[Int(RandomInstructionLayout.scratch) + $0] },
            pc: state[HartState.Slot.pc], faulted: kind == 1)
        guard kind != 4 else {
            #expect(after == FloatState(initial, pc: RandomInstructionLayout.textAddress), "a failed entry guard changed the state")
            return nil
        }
        return after
    }

    @Test func randomFloatRegionsMatchTheInterpreter() throws {
        var compared = 0, floatInstructions = 0, faults = 0, accruesFlags = 0, guardFailures = 0
        for seed in 0..<400 as Range<UInt64> {
            var generator = RandomInstructionGenerator(seed: 7000 + seed, extensions: Self.floatExtensions, compressed: true)
            var initial = generator.initialState()
            // Mostly round-to-nearest in frm, which the regions' inline float code assumes (their
            // entry guard sends the other modes to tier 1): then they run.
            if seed % 4 != 0 { initial.fcsr &= 0x1f }
            // Some start with the base of every load and store past the arena: the first access
            // faults, and the state at it (f registers and flags included) is rebuilt.
            if seed % 5 == 0 { initial.x[RandomInstructionLayout.baseRegister] = UInt64(Self.arenaSize) + 0x10000 }
            var random = SeededRandom(seed: seed)
            let body = Self.modelledRounding(generator.body(count: 30), &random)
            var code: [UInt8] = []
            for item in body {
                for k in 0..<item.length { code.append(UInt8(truncatingIfNeeded: item.bits >> (8 * UInt32(k)))) }
            }
            for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: RegionFrontendTests.ecall >> (8 * UInt32(k)))) }
            let decoded = body.map(\.decoded) + [Decoder.decode32(RegionFrontendTests.ecall)]
            guard var region = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded)
            else { continue }
            let covered = decoded.prefix(region.instructions)
            floatInstructions += covered.filter { [.f, .d].contains(EncodingTable.row(for: $0.opcode).isa) }.count

            // The interpreter runs the instructions the region covers.
            let guest = try RegionFrontendTests.Guest(code: code, x: initial.x, scratch: initial.scratch)
            for n in 0..<32 { guest.hart[f: n] = initial.f[n] }
            guest.hart.fcsr = initial.fcsr
            let stop = guest.interpreter.run(budget: UInt64(region.instructions))
            var faulted = false
            if case .fault(let fault) = stop {
                // Unmapped for the interpreter, host memory in the arena: not comparable.
                if fault.address.rawValue < UInt64(Self.arenaSize) { continue }
                faulted = true
                faults += 1
            }
            let expected = FloatState(
                x: (0..<32).map { guest.hart[x: $0] }, f: (0..<32).map { guest.hart[f: $0] }, fcsr: guest.hart.fcsr,
                scratch: try guest.memory.read(at: RandomInstructionLayout.scratch, size: initial.scratch.count),
                pc: guest.hart.pc, faulted: faulted)

            let naive = region.function
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            for (function, optimized) in [(naive, false), (region.function, true)] {
                guard let machineCode = Tier2Backend.compile(function) else {
                    Issue.record("seed \(seed): not compiled")
                    continue
                }
                if optimized, machineCode.accruesFlags { accruesFlags += 1 }
                let executable = try Tier2ExecutableCode(machineCode)
                guard let actual = Self.runFloat(executable, initial, bytes: code) else {
                    guardFailures += 1
                    continue
                }
                #expect(actual == expected, "seed \(seed) (optimized: \(optimized)):\n  got      \(actual)\n  expected \(expected)")
            }
            compared += 1
        }
        #expect(compared > 250)
        #expect(floatInstructions > 2_000)
        #expect(faults > 20)
        #expect(accruesFlags > 100)
        print("tier 2 backend: \(compared) random float regions, \(floatInstructions) float instructions, \(faults) faults, \(accruesFlags) accruing flags, \(guardFailures) runs stopped by the entry guard")
    }
}

extension Tier2BackendRegionTests {
    /// Random float loops: a random float body (the part of it the frontend models, none of it
    /// writing x31), then `addi x31, x31, -1; bne x31, x0, start`, run for 1-5 iterations against
    /// the interpreter run to the `ecall` after it: float values carried around the back edge
    /// in XMM registers, their parallel moves and spills, singles kept unboxed around the loop
    /// (`floatforms`) and its guard, flags accrued over the iterations, faults in a later
    /// iteration.
    @Test func randomFloatLoopsMatchTheInterpreter() throws {
        var loops = 0, compared = 0, faults = 0, guardFailures = 0, unmapped = 0
        for seed in 0..<600 as Range<UInt64> {
            var generator = RandomInstructionGenerator(seed: 9000 + seed, extensions: Self.floatExtensions, compressed: true)
            var initial = generator.initialState()
            if seed % 4 != 0 { initial.fcsr &= 0x1f }
            var random = SeededRandom(seed: seed)
            let drawn = Self.modelledRounding(generator.body(count: 14), &random).filter { $0.decoded.rd != 31 }
            let ecall = Decoder.decode32(RegionFrontendTests.ecall)
            // The prefix the frontend models: a loop cut short would leave before its back edge.
            let modelled = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: drawn.map(\.decoded) + [ecall])
                .map { min($0.instructions, drawn.count) } ?? 0
            guard modelled >= 3 else { continue }
            let body = drawn.prefix(modelled)
            var code: [UInt8] = []
            for item in body {
                for k in 0..<item.length { code.append(UInt8(truncatingIfNeeded: item.bits >> (8 * UInt32(k)))) }
            }
            let tail = [
                Instruction(opcode: .addi, rd: 31, rs1: 31, imm: -1),
                Instruction(opcode: .bne, rs1: 31, rs2: 0, imm: -Int64(code.count + 4)),
            ]
            var decoded = body.map(\.decoded)
            for i in tail {
                let word = RandomInstructionEncoding.encodeChecked(i)
                for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(k)))) }
                decoded.append(Decoder.decode32(word))
            }
            for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: RegionFrontendTests.ecall >> (8 * UInt32(k)))) }
            decoded.append(ecall)
            initial.x[31] = 1 + seed % 5
            // Half the seeds start with every f register NaN-boxed: a loop that keeps its singles
            // unboxed is entered only then (its entry guard refuses the others).
            if seed % 2 == 0 { for r in 0..<32 { initial.f[r] |= Self.singleBox } }
            if seed % 7 == 0 { initial.x[RandomInstructionLayout.baseRegister] = UInt64(Self.arenaSize) + 0x10000 }
            guard var region = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded),
                region.instructions == decoded.count - 1
            else { continue }
            if region.isLoop { loops += 1 }

            let guest = try RegionFrontendTests.Guest(code: code, x: initial.x, scratch: initial.scratch)
            for n in 0..<32 { guest.hart[f: n] = initial.f[n] }
            guest.hart.fcsr = initial.fcsr
            var faulted = false
            switch guest.interpreter.run(budget: 10_000) {
            case .ecall: break
            case .fault(let fault):
                if fault.address.rawValue < UInt64(Self.arenaSize) {
                    unmapped += 1
                    continue
                }
                faulted = true
                faults += 1
            case let other:
                Issue.record("seed \(seed): the interpreter stopped with \(other)")
                continue
            }
            let expected = FloatState(
                x: (0..<32).map { guest.hart[x: $0] }, f: (0..<32).map { guest.hart[f: $0] }, fcsr: guest.hart.fcsr,
                scratch: try guest.memory.read(at: RandomInstructionLayout.scratch, size: initial.scratch.count),
                pc: guest.hart.pc, faulted: faulted)
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            guard let machineCode = Tier2Backend.compile(region.function) else {
                Issue.record("seed \(seed): not compiled")
                continue
            }
            LinearScanTests.expectDisjoint(machineCode.allocation)
            let executable = try Tier2ExecutableCode(machineCode)
            guard let actual = Self.runFloat(executable, initial, bytes: code) else {
                guardFailures += 1
                continue
            }
            #expect(actual == expected, "seed \(seed):\n  got      \(actual)\n  expected \(expected)")
            compared += 1
        }
        #expect(loops > 400)
        #expect(compared > 220)
        #expect(faults > 30)
        print("tier 2 backend: \(loops) random float loops, \(compared) compared with the interpreter, \(faults) faults, \(guardFailures) refused by the entry guard, \(unmapped) faulting in the arena (not comparable)")
    }
}

extension Tier2BackendRegionTests {
    /// `frflags t0; feq/flt/fle a0, f4, f5; fsflags t0` after a division that raises flags:
    /// the frontend makes it `fcmp_silent` and a read of the flags that leaves them in the
    /// host. Against the interpreter for ordinary operands, quiet and signaling NaNs, with and
    /// without flags set before, in code with and without AVX-512 (`vucomisd {sae}`, or the
    /// compare between a save and a restore of MXCSR): the compare's result, t0 (fflags so
    /// far), and fcsr, whose flags are the division's and those before, never the compare's.
    @Test func aCompareBetweenASaveAndARestoreOfTheFlagsRaisesNone() throws {
        func r(_ funct7: UInt32, _ rs2: UInt32, _ rs1: UInt32, _ funct3: UInt32, _ rd: UInt32, _ opcode: UInt32) -> UInt32 {
            funct7 << 25 | rs2 << 20 | rs1 << 15 | funct3 << 12 | rd << 7 | opcode
        }
        let frflags: UInt32 = 0x0010_22f3, fsflags: UInt32 = 0x0012_9073
        let divide = r(0x0d, 2, 1, 7, 3, 0x53)  // fdiv.d f3, f1, f2 (dyn)
        let double: UInt64 = 0, single = Self.singleBox
        let quietNaN: UInt64 = 0x7ff8_0000_0000_0000, signalingNaN: UInt64 = 0x7ff0_0000_0000_0001
        let values64: [UInt64] = [Double(1).bitPattern, Double(2).bitPattern, quietNaN, signalingNaN]
        let values32: [UInt64] = [Float(1).bitPattern, Float(2).bitPattern, 0x7fc0_0000, 0x7f80_0001].map { UInt64($0) }
        // (funct7, funct3, box, operands): feq.d, flt.d, fle.d, flt.s.
        let compares: [(UInt32, UInt32, UInt64, [UInt64])] = [
            (0x51, 2, double, values64), (0x51, 1, double, values64), (0x51, 0, double, values64), (0x50, 1, single, values32),
        ]
        var runs = 0
        for (funct7, funct3, box, values) in compares {
            let words = [divide, frflags, r(funct7, 5, 4, funct3, 10, 0x53), fsflags, RegionFrontendTests.ecall]
            let code = words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
            let decoded = words.map { Decoder.decode32($0) }
            var region = try #require(RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded))
            #expect(region.instructions == 4)
            #expect(region.function.text.contains("fcmp_silent"))
            let naive = region.function
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            var executables: [Tier2ExecutableCode] = []
            for function in [naive, region.function] {
                for avx512 in [false, Tier2Backend.hostHasAVX512] {
                    guard let machineCode = Tier2Backend.compile(function, avx512: avx512) else {
                        Issue.record("not compiled")
                        return
                    }
                    executables.append(try Tier2ExecutableCode(machineCode))
                }
            }
            var generator = RandomInstructionGenerator(seed: 77, extensions: Self.floatExtensions, compressed: false)
            for a in values {
                for b in values {
                    // 1/3 raises NX, 0/0 NV; fcsr before holds NX or nothing.
                    for (dividend, divisor, before) in [(1.0, 3.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 1), (1.0, 3.0, 0x10)] as [(Double, Double, UInt64)] {
                        var initial = generator.initialState()
                        initial.fcsr = before
                        initial.f[1] = dividend.bitPattern
                        initial.f[2] = divisor.bitPattern
                        initial.f[4] = box | a
                        initial.f[5] = box | b
                        let guest = try RegionFrontendTests.Guest(code: code, x: initial.x, scratch: initial.scratch)
                        for n in 0..<32 { guest.hart[f: n] = initial.f[n] }
                        guest.hart.fcsr = initial.fcsr
                        _ = guest.interpreter.run(budget: 4)
                        let expected = FloatState(
                            x: (0..<32).map { guest.hart[x: $0] }, f: (0..<32).map { guest.hart[f: $0] },
                            fcsr: guest.hart.fcsr, scratch: try guest.memory.read(at: RandomInstructionLayout.scratch, size: initial.scratch.count),
                            pc: guest.hart.pc, faulted: false)
                        for executable in executables {
                            let actual = try #require(Self.runFloat(executable, initial, bytes: code))
                            #expect(actual == expected, "\(String(a, radix: 16)) \(String(b, radix: 16)) before \(before)")
                            runs += 1
                        }
                    }
                }
            }
        }
        #expect(runs == 4 * 16 * 4 * 4)
    }
}
