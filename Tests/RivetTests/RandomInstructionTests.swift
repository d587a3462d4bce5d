#if canImport(Glibc)
import Glibc
#endif
import Rivet
import RivetFuzz
import RivetISA
import Testing

/// What the random-instruction tests run: fixed by default, chosen from the environment to
/// explore or reproduce.
///
/// - `RIVET_RANDOM_SEED`: the seed (decimal or 0x-hex); sequence `i` uses a seed derived
///   from it and `i`, so any one sequence can be rerun alone.
/// - `RIVET_RANDOM_COUNT`: how many sequences (default 200).
/// - `RIVET_RANDOM_LENGTH`: instructions per sequence (default 50).
/// - `RIVET_RANDOM_ONLY`: run just this sequence index.
/// - `RIVET_RANDOM_EXTENSIONS`: the extensions to draw from, e.g. `I,M,A,Zicsr,C`
///   (default: all of I, M, A, F, D, Zicsr, C, Zba, Zbb and Zbs: what qemu 7.2 runs; the
///   extensions it lacks have their own test, against the interpreter).
/// - `RIVET_RANDOM_KEEP`: a directory to keep every generated program in (as `sequence-N`).
struct RandomInstructionSettings: Sendable {
    var seed: UInt64 = 0x5256_4745_4e31  // "RVGEN1"
    var count = 200
    var length = 50
    var only: Int? = nil
    var extensions: Set<Extension> = Self.qemuExtensions
    var compressed = true
    /// Forms left out (those the reference gets wrong).
    var excluded: Set<Opcode> = []
    var keep: String? = nil
    /// `RIVET_RANDOM_EXTENSIONS` as given, for reproduction lines.
    var extensionsSpec: String? = nil

    /// The extensions qemu-riscv64 7.2 (Debian bookworm) executes; it lacks Zicond, Zicbom,
    /// Zicboz and Zfa (added in qemu 8).
    static let qemuExtensions: Set<Extension> = [.i, .m, .a, .f, .d, .zicsr, .zba, .zbb, .zbs]
    /// Forms qemu-riscv64 7.2 gets wrong: `ctzw` of a value whose low word is 0 but not its
    /// high word gives the 64-bit count (52 for 0x0010_0000_0000_0000) instead of 32.
    static let qemuWrong: Set<Opcode> = [.ctzw]

    static let current: RandomInstructionSettings = {
        var settings = RandomInstructionSettings()
        func value(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        func number(_ text: String) -> UInt64? {
            text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        }
        if let text = value("RIVET_RANDOM_SEED"), let seed = number(text) { settings.seed = seed }
        if let text = value("RIVET_RANDOM_COUNT"), let count = Int(text), count > 0 { settings.count = count }
        if let text = value("RIVET_RANDOM_LENGTH"), let length = Int(text), length > 0 { settings.length = length }
        if let text = value("RIVET_RANDOM_ONLY"), let only = Int(text) { settings.only = only }
        settings.keep = value("RIVET_RANDOM_KEEP")
        if let text = value("RIVET_RANDOM_EXTENSIONS") {
            settings.extensionsSpec = text
            let names = Set(text.split(separator: ",").map { $0.filter { $0 != " " }.lowercased() })
            settings.extensions = Set(Extension.allCases.filter { names.contains($0.rawValue.lowercased()) })
            settings.extensions.insert(.i)
            settings.compressed = names.contains("c")
        }
        return settings
    }()

    /// The seed of sequence `index`.
    func seed(of index: Int) -> UInt64 {
        var z = seed &+ UInt64(index) &* 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// The sequence indices chunk `chunk` of `chunks` runs.
    func indices(chunk: Int, of chunks: Int) -> [Int] {
        if let only { return only % chunks == chunk ? [only] : [] }
        return Array(stride(from: chunk, to: count, by: chunks))
    }

    /// Where sequence `index` is written: the keep directory, or `scratch`.
    func path(_ index: Int, scratch: String) -> String { (keep ?? scratch) + "/sequence-\(index)" }

    func program(_ index: Int) -> RandomInstructionProgram {
        var generator = RandomInstructionGenerator(
            seed: seed(of: index), extensions: extensions, compressed: compressed)
        generator.excluded = excluded
        let initial = generator.initialState()
        return RandomInstructionProgram(initial: initial, body: generator.body(count: length))
    }

    var reproduction: String {
        var text = "RIVET_RANDOM_SEED=0x\(paddedHex(seed, 1)) RIVET_RANDOM_LENGTH=\(length)"
        if let extensionsSpec { text += " RIVET_RANDOM_EXTENSIONS=\(extensionsSpec)" }
        return text
    }
}

/// Random straight-line sequences over every instruction form, run under Rivet in every tier
/// and compared bit for bit (registers, fcsr, the memory they stored to) with qemu-riscv64.
/// Without qemu, the tiers are compared with the interpreter, which must finish each sequence
/// normally.
@Suite struct RandomInstructionTests {
    static let chunks = 4
    static let detailedFailures = 3

    @Test(.enabled(if: QemuReference.isAvailable), arguments: 0..<chunks)
    func rivetMatchesQemu(chunk: Int) throws {
        var settings = RandomInstructionSettings.current
        settings.excluded = RandomInstructionSettings.qemuWrong
        let scratch = try ScratchDirectory()
        var failures = 0
        for index in settings.indices(chunk: chunk, of: Self.chunks) {
            let program = settings.program(index)
            let path = settings.path(index, scratch: scratch.path)
            try program.elf.write(to: path)
            let qemu = try QemuReference.run(program: path)
            guard let reference = RandomMachineState(dump: qemu.output), qemu.status == 0 else {
                Issue.record("sequence \(index): qemu did not finish it (\(qemu.detail)); \(settings.reproduction)\n\(program.listing)")
                continue
            }
            for tier in ExecutionTier.allCases {
                let rivet = try RandomInstructionProgram.runUnderRivet(path, tier: tier)
                let state = RandomMachineState(dump: rivet.output)
                if rivet.status == 0, let state, state == reference { continue }
                failures += 1
                Issue.record(
                    Comment(
                        rawValue: report(
                            index, tier: tier, settings: settings, program: program, run: rivet, state: state,
                            reference: reference, names: ("rivet", "qemu"), detailed: failures <= Self.detailedFailures)))
            }
        }
    }

    /// A slice (`Configuration.sliceInstructions`) smaller than the blocks it meets: a block's
    /// budget check leaves at once, and the next slice must grow until the block fits, not
    /// leave again forever (straight-line bodies have blocks of up to 64 instructions).
    @Test func slicesSmallerThanABlockStillRunIt() throws {
        let settings = RandomInstructionSettings.current
        let scratch = try ScratchDirectory()
        for index in 0..<8 {
            let program = settings.program(index)
            let path = settings.path(index, scratch: scratch.path)
            try program.elf.write(to: path)
            let reference = try RandomInstructionProgram.runUnderRivet(path, tier: .interpreter)
            let sliced = try RandomInstructionProgram.runUnderRivet(path, tier: .auto, threshold: 1) {
                $0.sliceInstructions = 3
                $0.optimizingThreshold = 2
                $0.optimizesOnGuestThread = true
                $0.limits.wallTime = .seconds(20)
            }
            #expect(sliced.status == reference.status && sliced.output == reference.output, "sequence \(index): \(sliced.detail)")
        }
    }

    @Test(.enabled(if: !QemuReference.isAvailable), arguments: 0..<chunks)
    func tiersAgreeWithTheInterpreter(chunk: Int) throws {
        try compareTiersWithTheInterpreter(RandomInstructionSettings.current, chunk: chunk)
    }

    /// Sequences over every extension, those qemu 7.2 lacks (Zicond, Zicbom, Zicboz, Zfa)
    /// included: compared between the tiers, with qemu or without.
    @Test(arguments: 0..<chunks)
    func extensionsQemuLacksAgreeAcrossTiers(chunk: Int) throws {
        var settings = RandomInstructionSettings.current
        if settings.extensionsSpec == nil {
            settings.extensions = Extension.all
            settings.extensionsSpec = Extension.allCases.map(\.rawValue).joined(separator: ",") + ",C"
            settings.count = max(1, settings.count / 4)
        }
        try compareTiersWithTheInterpreter(settings, chunk: chunk)
    }

    private func compareTiersWithTheInterpreter(_ settings: RandomInstructionSettings, chunk: Int) throws {
        let scratch = try ScratchDirectory()
        var failures = 0
        for index in settings.indices(chunk: chunk, of: Self.chunks) {
            let program = settings.program(index)
            let path = settings.path(index, scratch: scratch.path)
            try program.elf.write(to: path)
            let interpreter = try RandomInstructionProgram.runUnderRivet(path, tier: .interpreter)
            guard let reference = RandomMachineState(dump: interpreter.output), interpreter.status == 0,
                reference.x[RandomInstructionLayout.baseRegister] == RandomInstructionLayout.base
            else {
                Issue.record("sequence \(index): the interpreter did not finish it (\(interpreter.detail)); \(settings.reproduction)\n\(program.listing)")
                continue
            }
            for tier in ExecutionTier.allCases where tier != .interpreter {
                let rivet = try RandomInstructionProgram.runUnderRivet(path, tier: tier)
                let state = RandomMachineState(dump: rivet.output)
                if rivet.status == 0, let state, state == reference { continue }
                failures += 1
                Issue.record(
                    Comment(
                        rawValue: report(
                            index, tier: tier, settings: settings, program: program, run: rivet, state: state,
                            reference: reference, names: (tier.rawValue, "interp"),
                            detailed: failures <= Self.detailedFailures)))
            }
        }
    }

    /// A mismatch report: how to rerun it, and (for the first few) the differing registers and
    /// memory, the initial state and the sequence.
    func report(
        _ index: Int, tier: ExecutionTier, settings: RandomInstructionSettings, program: RandomInstructionProgram,
        run: RandomRunResult, state: RandomMachineState?, reference: RandomMachineState, names: (String, String),
        detailed: Bool
    ) -> String {
        var text = "sequence \(index) under the \(tier.rawValue) tier differs from \(names.1); rerun with \(settings.reproduction) RIVET_RANDOM_ONLY=\(index)"
        guard detailed else { return text }
        let kept = "/tmp/rivet-random-\(paddedHex(settings.seed, 1))-\(index).elf"
        try? program.elf.write(to: kept)
        text += " (ELF kept at \(kept))\n"
        if let state, run.status == 0 {
            text += "differences:\n" + program.differences(state, reference, names: names).joined(separator: "\n")
        } else {
            text += "rivet did not finish it: \(run.detail)"
        }
        text += "\ninitial state:\n" + program.initialListing
        text += "\nsequence:\n" + program.listing
        return text
    }

    /// Every form the generator may draw encodes to bits the decoder reads back as that form.
    @Test func everyCandidateFormRoundTrips() {
        let settings = RandomInstructionSettings()
        var generator = RandomInstructionGenerator(seed: 1, extensions: settings.extensions, compressed: true)
        let rows = generator.candidates
        #expect(rows.count > 100)
        for row in rows {
            for inst in generator.snippet(row) {
                #expect(Decoder.decode32(inst.bits).opcode == inst.decoded.opcode)
                #expect(RandomInstructionEncoding.encode(inst.decoded) == inst.bits, "\(row.mnemonic)")
            }
        }
        // The prologue and epilogue decode as what they were built from.
        for word in RandomInstructionProgram.prologue + RandomInstructionProgram.epilogue {
            #expect(Decoder.decode32(word).opcode != .illegal)
        }
    }
}
