import RivetFuzz
import RivetIR
import RivetISA
import RivetInterpreter
import RivetJIT
import RivetMachine
import Testing

/// Tier 2's frontend against the interpreter, the reference: random integer instruction
/// sequences (every RV64I, M, Zba, Zbb, Zbs and Zicond form the generator draws, compressed ones
/// mixed in, loads and stores in a scratch area) are run by the interpreter and, as IR, by the
/// IR's evaluator — before and after the whole tier-2 pipeline of passes — and must leave the
/// same registers, memory and pc.
@Suite struct RegionFrontendTests {
    static let extensions: Set<Extension> = [.i, .m, .zba, .zbb, .zbs, .zicond]
    static let ecall: UInt32 = 0x0000_0073

    /// A guest whose code is `words` (parcels of 2 or 4 bytes) at the text address and whose
    /// scratch area holds `scratch`, with registers `x`.
    struct Guest {
        let memory: GuestMemory
        let interpreter: Interpreter
        let hart: HartState

        init(code: [UInt8], x: [UInt64], scratch: [UInt8]) throws {
            memory = try GuestMemory(limit: 1 << 30)
            let text = RandomInstructionLayout.textAddress
            try memory.mapAnonymous(at: GuestAddress(text), size: 0x10000, permissions: .readWrite)
            try memory.write(code, at: text)
            try memory.protect(at: GuestAddress(text), size: 0x10000, permissions: .readExecute)
            try memory.mapAnonymous(
                at: GuestAddress(RandomInstructionLayout.dataAddress), size: 0x3000, permissions: .readWrite)
            try memory.write(scratch, at: RandomInstructionLayout.scratch)
            hart = HartState()
            for n in 1..<32 { hart[x: n] = x[n] }
            hart.pc = text
            interpreter = Interpreter(memory: memory, hart: hart)
        }
    }

    /// The evaluator's environment for the same state: slot k is x(k+1) (the frontend's order).
    static func environment(x: [UInt64], scratch: [UInt8], code: [UInt8]) -> Environment {
        var memory = EvalMemory()
        // The code's 64 KiB are readable (snippets load from it pc-relatively).
        memory.map(RandomInstructionLayout.textAddress, size: 0x10000)
        for (k, byte) in code.enumerated() {
            _ = memory.store(RandomInstructionLayout.textAddress + UInt64(k), 1, UInt64(byte))
        }
        memory.map(RandomInstructionLayout.scratch, size: UInt64(scratch.count))
        for (k, byte) in scratch.enumerated() {
            _ = memory.store(RandomInstructionLayout.scratch + UInt64(k), 1, UInt64(byte))
        }
        return Environment(slots: Array(x[1...]), memory: memory, helpers: RegionFrontend.evaluatorHelpers)
    }

    /// Evaluates `function` from `x`/`scratch`; returns the registers, scratch bytes and pc
    /// (and the address, at a fault), the exit state applied.
    /// Counts the budget calls' instructions in `evaluate(..., budget:)`.
    final class BudgetCount: @unchecked Sendable {
        var instructions: UInt64 = 0
    }

    static func evaluate(
        _ function: Function, x: [UInt64], scratch: [UInt8], code: [UInt8], budget: BudgetCount? = nil
    ) -> (x: [UInt64], scratch: [UInt8], pc: UInt64, fault: UInt64?)? {
        var environment = environment(x: x, scratch: scratch, code: code)
        if let budget {
            environment.helpers[Tier2Backend.budgetHelper] = { _, arguments in
                budget.instructions += arguments[0]
                return .none
            }
        }
        let outcome = Evaluator.run(function, &environment, stepLimit: 1_000_000)
        let pc: UInt64
        var fault: UInt64? = nil
        switch outcome {
        case .exit(let to, _): pc = to.rawValue
        case .exitIndirect(let to, _): pc = to
        case .fault(_, let at, let address, _):
            pc = at.rawValue
            fault = address
        case .trap, .stepLimit, .badHelper, .deoptimized:
            Issue.record("the region ended with \(outcome)")
            return nil
        }
        for update in outcome.updates { environment.slots[update.slot.id] = update.bits }
        let bytes = (0..<scratch.count).map {
            UInt8(truncatingIfNeeded: environment.memory.load(RandomInstructionLayout.scratch + UInt64($0), 1) ?? 0)
        }
        return ([0] + environment.slots, bytes, pc, fault)
    }

    @Test func randomStraightLineCodeMatchesTheInterpreter() throws {
        var regions = 0
        var instructions = 0
        var faults = 0
        for seed in 0..<400 as Range<UInt64> {
            var generator = RandomInstructionGenerator(seed: seed, extensions: Self.extensions, compressed: true)
            let state = generator.initialState()
            let body = generator.body(count: 30)
            var code: [UInt8] = []
            for item in body {
                for k in 0..<item.length { code.append(UInt8(truncatingIfNeeded: item.bits >> (8 * UInt32(k)))) }
            }
            for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: Self.ecall >> (8 * UInt32(k)))) }
            let decoded = body.map(\.decoded) + [Decoder.decode32(Self.ecall)]
            guard var region = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded)
            else { continue }
            try Verifier.verify(region.function)
            regions += 1
            instructions += region.instructions

            let guest = try Guest(code: code, x: state.x, scratch: state.scratch)
            let stop = guest.interpreter.run(budget: UInt64(region.instructions))
            // A fault (a pc-relative load below the code) leaves the state before the faulting
            // instruction, in both.
            var fault: UInt64? = nil
            if case .fault(let f) = stop {
                fault = f.address.rawValue
                faults += 1
            }
            let expected = (
                x: (0..<32).map { guest.hart[x: $0] },
                scratch: try guest.memory.read(at: RandomInstructionLayout.scratch, size: state.scratch.count),
                pc: guest.hart.pc
            )
            let before = Self.evaluate(region.function, x: state.x, scratch: state.scratch, code: code)
            #expect(before?.x == expected.x, "seed \(seed): registers (frontend)")
            #expect(before?.scratch == expected.scratch, "seed \(seed): memory (frontend)")
            #expect(before?.pc == expected.pc, "seed \(seed): pc (frontend)")
            #expect(before?.fault == fault, "seed \(seed): fault (frontend)")
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            let after = Self.evaluate(region.function, x: state.x, scratch: state.scratch, code: code)
            #expect(after?.x == expected.x, "seed \(seed): registers (after the passes)")
            #expect(after?.scratch == expected.scratch, "seed \(seed): memory (after the passes)")
            #expect(after?.pc == expected.pc, "seed \(seed): pc (after the passes)")
            #expect(after?.fault == fault, "seed \(seed): fault (after the passes)")
        }
        // The generator's forms that the frontend does not model end regions early; most run.
        #expect(faults > 0)  // exact fault states are tested too
        #expect(regions > 300)
        #expect(instructions > 3_000)
    }

    /// A loop (its back edge branches to its first instruction) becomes a loop in the IR: an
    /// array sum runs to its end in the evaluator as in the interpreter.
    @Test func aLoopIsALoop() throws {
        func encode(_ i: Instruction) -> [UInt8] {
            let word = RandomInstructionEncoding.encodeChecked(i)
            return (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) }
        }
        // loop: ld t0, 0(a0); add a1, a1, t0; addi a0, a0, 8; addi a2, a2, -1; bne a2, x0, loop
        let body: [Instruction] = [
            Instruction(opcode: .ld, rd: 5, rs1: 10, imm: 0),
            Instruction(opcode: .add, rd: 11, rs1: 11, rs2: 5),
            Instruction(opcode: .addi, rd: 10, rs1: 10, imm: 8),
            Instruction(opcode: .addi, rd: 12, rs1: 12, imm: -1),
            Instruction(opcode: .bne, rs1: 12, rs2: 0, imm: -16),
        ]
        let decoded = body.map { Decoder.decode32(RandomInstructionEncoding.encodeChecked($0)) }
        let region = try #require(RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded))
        #expect(region.isLoop)
        try Verifier.verify(region.function)
        var scratch = [UInt8](repeating: 0, count: RandomInstructionLayout.scratchSize)
        for k in 0..<64 { scratch[8 * k] = UInt8(k + 1) }
        var x = [UInt64](repeating: 0, count: 32)
        x[10] = RandomInstructionLayout.scratch
        x[12] = 64
        let guest = try Guest(code: body.flatMap(encode), x: x, scratch: scratch)
        _ = guest.interpreter.run(budget: 64 * 5)
        #expect(guest.hart[x: 11] == 64 * 65 / 2)
        var optimized = region.function
        try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &optimized)
        for function in [region.function, optimized] {
            let result = try #require(Self.evaluate(function, x: x, scratch: scratch, code: body.flatMap(encode)))
            #expect(result.x == (0..<32).map { guest.hart[x: $0] })
            #expect(result.pc == guest.hart.pc)
        }
    }
}
