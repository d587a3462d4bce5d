import Glibc
import RivetFuzz
import RivetIR
import RivetISA
import RivetInterpreter
import RivetJIT
import RivetMachine
import RivetX64
import Testing

/// End to end: random RISC-V sequences through `RegionFrontend`, `Pipeline.tier2` and the
/// backend, run on host memory, against the evaluator (which `RegionFrontendTests` ties to the
/// interpreter) and the interpreter.
@Suite struct Tier2BackendRegionTests {
    /// The guest arena: guest [0, 2 MiB) as host memory; beyond it, accesses take the bounds
    /// exit or fault in the guard pages.
    static let arenaSize = 2 << 20

    /// Runs a region's code with registers `x`, the code and scratch placed in a fresh arena.
    static func run(
        _ code: Tier2ExecutableCode, x: [UInt64], scratch: [UInt8], bytes: [UInt8], budget: UInt64 = 1 << 40
    ) -> (kind: UInt64, x: [UInt64], scratch: [UInt8], pc: UInt64, budget: UInt64)
    {
        let space = Tier2Arena(size: arenaSize)
        let arena = space.bytes
        for (k, byte) in bytes.enumerated() { arena[Int(RandomInstructionLayout.textAddress) + k] = byte }
        for (k, byte) in scratch.enumerated() { arena[Int(RandomInstructionLayout.scratch) + k] = byte }
        var state = [UInt64](repeating: 0, count: Tier2Harness.stateWords)
        for n in 1..<32 { state[HartState.Slot.x + n] = x[n] }
        let kind = code.run(&state, space, budget: budget)
        let out = (0..<scratch.count).map { arena[Int(RandomInstructionLayout.scratch) + $0] }
        return (
            kind, [0] + (1..<32).map { state[HartState.Slot.x + $0] }, out, state[HartState.Slot.pc],
            state[HartState.Slot.budget]
        )
    }

    @Test func randomRegionsMatchTheEvaluator() throws {
        var compiled = 0, skipped = 0, faults = 0
        var guestInstructions = 0, hostBytes = 0, stubBytes = 0
        var compileTime = Duration.zero
        let clock = ContinuousClock()
        for seed in 0..<400 as Range<UInt64> {
            var generator = RandomInstructionGenerator(
                seed: seed, extensions: RegionFrontendTests.extensions, compressed: true)
            let state = generator.initialState()
            let body = generator.body(count: 30)
            var code: [UInt8] = []
            for item in body {
                for k in 0..<item.length { code.append(UInt8(truncatingIfNeeded: item.bits >> (8 * UInt32(k)))) }
            }
            for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: RegionFrontendTests.ecall >> (8 * UInt32(k)))) }
            let decoded = body.map(\.decoded) + [Decoder.decode32(RegionFrontendTests.ecall)]
            guard var region = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded)
            else { continue }
            // The frontend's naive code (a get_slot/set_slot around each instruction), then the
            // pipeline's.
            let naive = region.function
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            for (function, optimized) in [(naive, false), (region.function, true)] {
                let start = clock.now
                guard let machineCode = Tier2Backend.compile(function) else {
                    Issue.record("seed \(seed): not compiled")
                    continue
                }
                let elapsed = clock.now - start
                LinearScanTests.expectDisjoint(machineCode.allocation)
                if optimized {
                    stubBytes += machineCode.stubBytes
                    compileTime += elapsed
                    compiled += 1
                    guestInstructions += region.instructions
                    hostBytes += machineCode.count
                }
                let executable = try Tier2ExecutableCode(machineCode)
                guard let expected = RegionFrontendTests.evaluate(function, x: state.x, scratch: state.scratch, code: code)
                else { continue }
                if let address = expected.fault, address < UInt64(Self.arenaSize) {
                    // Unmapped for the evaluator, host memory in the arena: not comparable.
                    skipped += 1
                    continue
                }
                let actual = Self.run(executable, x: state.x, scratch: state.scratch, bytes: code)
                let kind = expected.fault == nil ? 0 : 1
                #expect(actual.kind == kind, "seed \(seed) (optimized: \(optimized)): exit kind")
                if expected.fault != nil { faults += 1 }
                #expect(actual.x == expected.x, "seed \(seed) (optimized: \(optimized)): registers")
                #expect(actual.scratch == expected.scratch, "seed \(seed) (optimized: \(optimized)): memory")
                #expect(actual.pc == expected.pc, "seed \(seed) (optimized: \(optimized)): pc")
            }
        }
        #expect(compiled > 300)
        #expect(skipped < 80)
        print(
            "tier 2 backend: \(compiled) regions, \(guestInstructions) guest instructions, \(hostBytes) host bytes "
                + "(\(hostBytes / max(guestInstructions, 1)) per guest instruction, \(stubBytes) of them in fault stubs), \(faults) bounds faults, "
                + "\(skipped) skipped, compile \(compileTime / max(compiled, 1)) per region")
    }

    /// `RegionFrontendTests.aLoopIsALoop`'s array sum after the pipeline: its loop-carried
    /// registers stay in host registers, and it runs to the end as the interpreter does.
    @Test func arraySumLoop() throws {
        func encode(_ i: Instruction) -> [UInt8] {
            let word = RandomInstructionEncoding.encodeChecked(i)
            return (0..<4).map { UInt8(truncatingIfNeeded: word >> (8 * UInt32($0))) }
        }
        let body: [Instruction] = [
            Instruction(opcode: .ld, rd: 5, rs1: 10, imm: 0),
            Instruction(opcode: .add, rd: 11, rs1: 11, rs2: 5),
            Instruction(opcode: .addi, rd: 10, rs1: 10, imm: 8),
            Instruction(opcode: .addi, rd: 12, rs1: 12, imm: -1),
            Instruction(opcode: .bne, rs1: 12, rs2: 0, imm: -16),
        ]
        let decoded = body.map { Decoder.decode32(RandomInstructionEncoding.encodeChecked($0)) }
        var region = try #require(RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded))
        try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
        var scratch = [UInt8](repeating: 0, count: RandomInstructionLayout.scratchSize)
        for k in 0..<64 { scratch[8 * k] = UInt8(k + 1) }
        var x = [UInt64](repeating: 0, count: 32)
        x[10] = RandomInstructionLayout.scratch
        x[12] = 64
        let bytes = body.flatMap(encode)
        let guest = try RegionFrontendTests.Guest(code: bytes, x: x, scratch: scratch)
        _ = guest.interpreter.run(budget: 64 * 5)

        guard let machineCode = Tier2Backend.compile(region.function) else {
            Issue.record("not compiled")
            return
        }
        // Every block parameter (the loop's carried registers) lives in a host register.
        let compact = region.function.compacted()
        let params = compact.layout.flatMap { compact.blocks[$0.id].params }
        #expect(!params.isEmpty)
        for p in params {
            guard case .register = machineCode.allocation.location(p) else {
                Issue.record("\(p) is spilled")
                continue
            }
        }
        let executable = try Tier2ExecutableCode(machineCode)
        if let path = getenv("RIVET_TIER2_DUMP") {
            // For `objdump -D -b binary -mi386:x86-64 <path>`.
            let file = fopen(path, "wb")
            fwrite(executable.base, 1, executable.bytes, file)
            fclose(file)
        }
        let actual = Self.run(executable, x: x, scratch: scratch, bytes: bytes)
        #expect(actual.kind == 0)
        #expect(actual.x == (0..<32).map { guest.hart[x: $0] })
        #expect(actual.x[11] == 64 * 65 / 2)
        #expect(actual.pc == guest.hart.pc)
    }
}

extension Tier2BackendRegionTests {
    /// The same regions with the address space ending in the middle of the scratch area (the
    /// evaluator maps the code and the scratch area's first half): accesses past it take the
    /// bounds exit, whose exit state (filled by state forwarding) must leave the registers the
    /// interpreter would have at the faulting instruction.
    @Test func randomRegionsFaultAtTheEndOfTheAddressSpace() throws {
        let limit = RandomInstructionLayout.scratch + 2048
        var faults = 0, compared = 0
        for seed in 0..<400 as Range<UInt64> {
            var generator = RandomInstructionGenerator(
                seed: seed, extensions: RegionFrontendTests.extensions, compressed: true)
            let state = generator.initialState()
            let body = generator.body(count: 30)
            var code: [UInt8] = []
            for item in body {
                for k in 0..<item.length { code.append(UInt8(truncatingIfNeeded: item.bits >> (8 * UInt32(k)))) }
            }
            for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: RegionFrontendTests.ecall >> (8 * UInt32(k)))) }
            let decoded = body.map(\.decoded) + [Decoder.decode32(RegionFrontendTests.ecall)]
            guard var region = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded)
            else { continue }
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            guard let machineCode = Tier2Backend.compile(region.function) else {
                Issue.record("seed \(seed): not compiled")
                continue
            }
            let executable = try Tier2ExecutableCode(machineCode)

            var memory = EvalMemory()
            memory.map(RandomInstructionLayout.textAddress, size: 0x10000)
            for (k, byte) in code.enumerated() {
                _ = memory.store(RandomInstructionLayout.textAddress + UInt64(k), 1, UInt64(byte))
            }
            memory.map(RandomInstructionLayout.scratch, size: 2048)
            for k in 0..<2048 { _ = memory.store(RandomInstructionLayout.scratch + UInt64(k), 1, UInt64(state.scratch[k])) }
            var environment = Environment(slots: Array(state.x[1...]), memory: memory, helpers: RegionFrontend.evaluatorHelpers)
            let outcome = Evaluator.run(region.function, &environment, stepLimit: 1_000_000)
            var expectedKind = 0
            let expectedPC: UInt64
            switch outcome {
            case .exit(let to, _): expectedPC = to.rawValue
            case .exitIndirect(let to, _): expectedPC = to
            case .fault(_, let at, let address, _):
                // Unmapped for the evaluator but inside the address space: not comparable.
                if address < limit { continue }
                expectedKind = 1
                expectedPC = at.rawValue
                faults += 1
            case .deoptimized:
                continue  // (random f registers: the regions here carry no singles round loops)
            case .trap, .stepLimit, .badHelper:
                Issue.record("seed \(seed): \(outcome)")
                continue
            }
            for update in outcome.updates { environment.slots[update.slot.id] = update.bits }
            let expectedScratch = (0..<2048).map {
                UInt8(truncatingIfNeeded: environment.memory.load(RandomInstructionLayout.scratch + UInt64($0), 1) ?? 0)
            }

            let space = Tier2Arena(size: Int(limit))
            let arena = space.bytes
            for (k, byte) in code.enumerated() { arena[Int(RandomInstructionLayout.textAddress) + k] = byte }
            for k in 0..<2048 { arena[Int(RandomInstructionLayout.scratch) + k] = state.scratch[k] }
            var hart = [UInt64](repeating: 0, count: Tier2Harness.stateWords)
            for n in 1..<32 { hart[HartState.Slot.x + n] = state.x[n] }
            let kind = executable.run(&hart, space)
            compared += 1
            #expect(kind == expectedKind, "seed \(seed): exit kind")
            #expect(hart[HartState.Slot.pc] == expectedPC, "seed \(seed): pc")
            #expect((1..<32).map { hart[HartState.Slot.x + $0] } == environment.slots, "seed \(seed): registers")
            #expect((0..<2048).map { arena[Int(RandomInstructionLayout.scratch) + $0] } == expectedScratch, "seed \(seed): memory")
        }
        #expect(compared > 300)
        #expect(faults > 50)
        print("tier 2 backend: \(compared) regions compared with the address space ending at 0x\(String(limit, radix: 16)), \(faults) bounds faults")
    }
}

extension Tier2BackendRegionTests {
    /// Random loops: a random body (none of it writing x31), then `addi x31, x31, -1;
    /// bne x31, x0, start`, run for a few iterations: values carried around the back edge, spills
    /// and parallel moves under pressure, faults in later iterations.
    @Test func randomLoopsMatchTheEvaluator() throws {
        var loops = 0, compared = 0
        for seed in 0..<300 as Range<UInt64> {
            var generator = RandomInstructionGenerator(
                seed: 1000 + seed, extensions: RegionFrontendTests.extensions, compressed: true)
            var state = generator.initialState()
            let body = generator.body(count: 12).filter { $0.decoded.rd != 31 }
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
            state.x[31] = 1 + seed % 7
            guard var region = RegionFrontend.translate(pc: RandomInstructionLayout.textAddress, instructions: decoded)
            else { continue }
            if region.isLoop { loops += 1 }
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            guard let machineCode = Tier2Backend.compile(region.function) else {
                Issue.record("seed \(seed): not compiled")
                continue
            }
            LinearScanTests.expectDisjoint(machineCode.allocation)
            let executable = try Tier2ExecutableCode(machineCode)
            guard let expected = RegionFrontendTests.evaluate(region.function, x: state.x, scratch: state.scratch, code: code)
            else { continue }
            if let address = expected.fault, address < UInt64(Self.arenaSize) { continue }
            compared += 1
            let actual = Self.run(executable, x: state.x, scratch: state.scratch, bytes: code)
            let kind = expected.fault == nil ? 0 : 1
            #expect(actual.kind == kind, "seed \(seed): exit kind")
            #expect(actual.x == expected.x, "seed \(seed): registers")
            #expect(actual.scratch == expected.scratch, "seed \(seed): memory")
            #expect(actual.pc == expected.pc, "seed \(seed): pc")
        }
        #expect(loops > 100)
        #expect(compared > 200)
        print("tier 2 backend: \(loops) random loops, \(compared) compared")
    }
}

extension Tier2BackendRegionTests {
    /// Random nested loops: a random outer body, an inner loop counting x30 down over a random
    /// body, a random tail, the outer loop counting x31 down (no body writes x30 or x31). The
    /// inner loop's pressure spills values the outer blocks read, which the allocator then keeps
    /// in registers there and in their slots through the inner loop (`LinearScan.split`): the
    /// edges between load and store them, exits and faults find them in either place.
    @Test func randomNestedLoopsMatchTheEvaluator() throws {
        var compared = 0, splits = 0, splitRegions = 0, takenAhead = 0
        for seed in 0..<300 as Range<UInt64> {
            var generator = RandomInstructionGenerator(
                seed: 5000 + seed, extensions: RegionFrontendTests.extensions, compressed: true)
            var state = generator.initialState()
            func body(_ count: Int) -> [RandomInstruction] {
                generator.body(count: count).filter { $0.decoded.rd != 30 && $0.decoded.rd != 31 }
            }
            let outer = body(8), inner = body(14), tail = body(5)
            var code: [UInt8] = []
            var blocks: [RegionFrontend.GuestBlock] = []
            func startBlock() {
                blocks.append(RegionFrontend.GuestBlock(
                    pc: RandomInstructionLayout.textAddress + UInt64(code.count), instructions: []))
            }
            func append(_ items: [RandomInstruction]) {
                for item in items {
                    for k in 0..<item.length { code.append(UInt8(truncatingIfNeeded: item.bits >> (8 * UInt32(k)))) }
                    blocks[blocks.count - 1].instructions.append(item.decoded)
                }
            }
            func append(_ i: Instruction) {
                let word = RandomInstructionEncoding.encodeChecked(i)
                for k in 0..<4 { code.append(UInt8(truncatingIfNeeded: word >> (8 * UInt32(k)))) }
                blocks[blocks.count - 1].instructions.append(Decoder.decode32(word))
            }
            // A branch out of the region (to 2 KiB past its code) between two registers the
            // bodies may change: the blocks after it in the loop have one predecessor whose other
            // successor is an exit.
            func leave() {
                let a = UInt8(1 + seed % 29), b = UInt8(1 + (seed / 29) % 29)
                append(Instruction(opcode: .beq, rs1: a, rs2: b == a ? b % 29 + 1 : b, imm: 0x800))
                startBlock()
            }
            startBlock()
            append(outer)
            leave()
            append(Instruction(opcode: .addi, rd: 30, rs1: 0, imm: 1 + Int64(seed % 3)))
            let innerStart = code.count
            startBlock()
            append(Array(inner.prefix(7)))
            leave()
            append(Array(inner.dropFirst(7)))
            append(Instruction(opcode: .addi, rd: 30, rs1: 30, imm: -1))
            append(Instruction(opcode: .bne, rs1: 30, rs2: 0, imm: -Int64(code.count - innerStart)))
            startBlock()
            append(tail)
            append(Instruction(opcode: .addi, rd: 31, rs1: 31, imm: -1))
            append(Instruction(opcode: .bne, rs1: 31, rs2: 0, imm: -Int64(code.count)))
            state.x[31] = 1 + seed % 4
            guard var region = RegionFrontend.translate(blocks) else { continue }
            try PassManager(verifyEachPass: true).run(Pipeline.tier2, on: &region.function)
            guard let machineCode = Tier2Backend.compile(region.function) else {
                Issue.record("seed \(seed): not compiled")
                continue
            }
            LinearScanTests.expectDisjoint(machineCode.allocation)
            LinearScanTests.expectSplitsDisjoint(machineCode.allocation, region.function.compacted())
            splits += machineCode.allocation.splits.count
            if !machineCode.allocation.splits.isEmpty { splitRegions += 1 }
            if Tier2Backend.budgetPlan(region.function.compacted()).entryPrepaid.contains(where: { $0 > 0 }) {
                takenAhead += 1
            }
            let executable = try Tier2ExecutableCode(machineCode)
            let count = RegionFrontendTests.BudgetCount()
            guard
                let expected = RegionFrontendTests.evaluate(
                    region.function, x: state.x, scratch: state.scratch, code: code, budget: count)
            else { continue }
            if let address = expected.fault, address < UInt64(Self.arenaSize) { continue }
            compared += 1
            // (A budget: a lost loop counter leaves by it, not never.)
            let actual = Self.run(executable, x: state.x, scratch: state.scratch, bytes: code, budget: 1 << 20)
            if expected.fault == nil {
                // Each guest block's instructions taken once, wherever the plan takes them.
                #expect((1 << 20) - actual.budget == count.instructions, "seed \(seed): instructions counted")
            }
            let kind = expected.fault == nil ? 0 : 1
            #expect(actual.kind == kind, "seed \(seed): exit kind")
            #expect(actual.x == expected.x, "seed \(seed): registers")
            #expect(actual.scratch == expected.scratch, "seed \(seed): memory")
            #expect(actual.pc == expected.pc, "seed \(seed): pc")
        }
        #expect(compared > 200)
        #expect(splitRegions > 20)
        #expect(takenAhead > 20)
        print(
            "tier 2 backend: \(compared) random nested loops compared, \(splits) splits in \(splitRegions) regions, "
                + "\(takenAhead) regions taking a block's budget ahead")
    }
}
