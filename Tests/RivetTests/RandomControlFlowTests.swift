import Rivet
import RivetFuzz
import RivetISA
import Testing

extension RandomInstructionSettings {
    /// Sequence `index` with control flow (`RandomControlFlowBuilder`).
    func branchyProgram(_ index: Int) -> RandomInstructionProgram {
        var generator = RandomInstructionGenerator(
            seed: seed(of: index) ^ 0xb7a9_c4f1, extensions: extensions, compressed: compressed)
        generator.excluded = excluded
        var builder = RandomControlFlowBuilder(generator: generator)
        let initial = builder.generator.initialState()
        return RandomInstructionProgram(initial: initial, body: builder.body(count: length))
    }
}

/// The JIT's differential fuzz test: random blocks with loads, stores, FP, atomics, forward
/// branches of every kind and loops, run by the interpreter, the baseline JIT, and `auto` with
/// tier-up at the first execution; all registers, fcsr and the memory written must be equal to
/// qemu's (or, without qemu, to the interpreter's).
@Suite struct RandomControlFlowTests {
    static let chunks = 4

    /// The runs compared: every tier, and `auto` tiering up immediately so that blocks switch
    /// between interpreter and JIT code in the middle of the program.
    static let runs: [(name: String, tier: ExecutionTier, threshold: UInt32)] =
        ExecutionTier.allCases.map { ($0.rawValue, $0, 50) } + [("auto/threshold 1", .auto, 1)]

    @Test(arguments: 0..<chunks)
    func everyTierMatchesTheReference(chunk: Int) throws {
        var settings = RandomInstructionSettings.current
        if QemuReference.isAvailable { settings.excluded = RandomInstructionSettings.qemuWrong }
        let scratch = try ScratchDirectory()
        var failures = 0
        for index in settings.indices(chunk: chunk, of: Self.chunks) {
            let program = settings.branchyProgram(index)
            let path = settings.path(index, scratch: scratch.path) + "-branchy"
            try program.elf.write(to: path)
            let reference: RandomMachineState
            let referenceName: String
            if QemuReference.isAvailable {
                let qemu = try QemuReference.run(program: path)
                guard let state = RandomMachineState(dump: qemu.output), qemu.status == 0 else {
                    Issue.record("branchy sequence \(index): qemu did not finish it (\(qemu.detail))\n\(program.listing)")
                    continue
                }
                reference = state
                referenceName = "qemu"
            } else {
                let run = try RandomInstructionProgram.runUnderRivet(path, tier: .interpreter)
                guard let state = RandomMachineState(dump: run.output), run.status == 0 else {
                    Issue.record("branchy sequence \(index): the interpreter did not finish it (\(run.detail))\n\(program.listing)")
                    continue
                }
                reference = state
                referenceName = "interp"
            }
            for run in Self.runs {
                let result = try RandomInstructionProgram.runUnderRivet(path, tier: run.tier, threshold: run.threshold)
                let state = RandomMachineState(dump: result.output)
                if result.status == 0, let state, state == reference { continue }
                failures += 1
                var text = "branchy sequence \(index) under \(run.name) differs from \(referenceName); rerun with \(settings.reproduction) RIVET_RANDOM_ONLY=\(index)"
                if failures <= 3 {
                    if let state, result.status == 0 {
                        text += "\n" + program.differences(state, reference, names: ("rivet", referenceName)).joined(separator: "\n")
                    } else {
                        text += "\nrivet did not finish it: \(result.detail)"
                    }
                    text += "\nsequence:\n" + program.listing
                }
                Issue.record(Comment(rawValue: text))
            }
        }
    }

    /// The compressed jump encoders agree with the decoder.
    @Test func compressedJumpsDecodeToTheirTargets() {
        for offset in stride(from: -256, to: 256, by: 2) {
            for rs1 in UInt8(8)...15 {
                let parcel = RandomControlFlowBuilder.compressedBranch(true, rs1: rs1, offset: offset)!
                let inst = Decoder.decodeCompressed(parcel)
                #expect(inst.opcode == .beq && inst.imm == Int64(offset) && inst.rs1 == rs1)
            }
        }
        for offset in stride(from: -2048, to: 2048, by: 2) {
            let inst = Decoder.decodeCompressed(RandomControlFlowBuilder.compressedJump(offset: offset)!)
            #expect(inst.opcode == .jal && inst.rd == 0 && inst.imm == Int64(offset))
        }
    }
}
