#if canImport(Glibc)
import Glibc
#endif
import Rivet
import RivetFuzz
import Testing

/// A short, seeded slice of `rivet-fuzz`: random and mutated instruction streams, random
/// control flow, mutated ELF files and random syscalls, each under every tier, which must all
/// agree. The long runs are `swift run -c release rivet-fuzz --duration 3600` (README).
@Suite struct FuzzTests {
    /// The slice's seed. Its cases avoid the host crashes the fuzzer has found and Rivet has
    /// not fixed yet (a slice that crashed would take the whole test process down).
    static let seed: UInt64 = 0x5eed_f022
    /// Cases in the slice (about a quarter of each kind).
    static let count = 100

    /// The session the slice runs in: programs in a scratch directory, no reproducers.
    static func session(_ scratch: ScratchDirectory) -> FuzzSession {
        FuzzSession(
            factory: FuzzCaseFactory(seed: seed), runner: FuzzRunner(), programPath: scratch.path + "/program",
            outputDirectory: nil, rerunCommand: "swift run -c release rivet-fuzz --seed \(seed)")
    }

    @Test func everyTierAgreesOnASeededSlice() throws {
        let scratch = try ScratchDirectory()
        let session = Self.session(scratch)
        var kinds: [FuzzKind: Int] = [:]
        for index in 0..<Self.count {
            let result = try session.run(index)
            kinds[result.fuzzCase.kind, default: 0] += 1
            #expect(result.outcomes.count == FuzzTier.all.count)
            if !result.agrees {
                let readme = FuzzReproducer(result: result, rerunCommand: session.rerunCommand, limits: session.runner.limits)
                    .readme(title: "rivet-fuzz disagreement")
                Issue.record(Comment(rawValue: readme))
            }
        }
        for kind in FuzzKind.allCases { #expect(kinds[kind, default: 0] >= 10, "too few \(kind.rawValue) cases") }
    }

    /// The comparison sees every kind of difference, and names the tiers; equal outcomes agree.
    @Test func aDifferentOutcomeIsADisagreement() {
        let reference = FuzzOutcome(
            ending: .exited(0), instructions: 100, output: Array("hello\n".utf8),
            files: [FileEntry(path: "f", type: .file, size: 3, mode: 0o644)])
        func differences(_ change: (inout FuzzOutcome) -> Void) -> [String] {
            var other = reference
            change(&other)
            return FuzzSession.compare([
                TierOutcome(tier: FuzzTier.all[0], outcome: reference), TierOutcome(tier: FuzzTier.all[1], outcome: other),
            ])
        }
        #expect(differences { _ in }.isEmpty)
        // What is not compared: the instruction count of a program that exited, the details.
        #expect(differences { $0.instructions = 99; $0.detail = "x"; $0.diagnostics = "y" }.isEmpty)
        let ending = differences { $0.ending = .signaled(11) }
        #expect(ending == ["baseline vs interp: ending: baseline killed by signal 11, interp exited with status 0"])
        #expect(differences { $0.ending = .exited(1) }.count == 1)
        #expect(differences { $0.ending = .instructionLimit }.count == 1)
        #expect(differences { $0.ending = .timeLimit }.count == 1)
        #expect(differences { $0.ending = .rejected("bad ELF") }.count == 1)
        let output = differences {
            $0.output = Array("hellO\n".utf8)
            $0.outputHash = FuzzOutcome.hash($0.output)
        }
        #expect(output.count == 1 && output[0].contains("first difference at byte 4"))
        #expect(differences { $0.outputSize = 7 }.count == 1)
        let files = differences { $0.files[0].size = 4 }
        #expect(files.count == 1 && files[0].hasPrefix("baseline vs interp: files:"))
        #expect(differences { $0.files = [] }.count == 1)

        var limited = reference
        limited.ending = FuzzOutcome.Ending.instructionLimit
        var further = limited
        further.instructions = 101
        let counted = FuzzSession.compare([
            TierOutcome(tier: FuzzTier.all[0], outcome: limited), TierOutcome(tier: FuzzTier.all[2], outcome: further),
        ])
        #expect(counted == ["auto vs interp: instructions at the limit: auto 101, interp 100"])
    }

    /// A disagreement's reproducer holds the program and a README that says how to rerun it.
    @Test func aDisagreementWritesAReproducer() throws {
        let scratch = try ScratchDirectory()
        let fuzzCase = FuzzCaseFactory(seed: 7, kinds: [.syscalls]).make(3)
        let result = FuzzCaseResult(
            fuzzCase: fuzzCase,
            outcomes: [
                TierOutcome(tier: FuzzTier.all[0], outcome: FuzzOutcome(ending: .exited(0), output: [1, 2, 3])),
                TierOutcome(tier: FuzzTier.all[1], outcome: FuzzOutcome(ending: .signaled(4))),
            ],
            differences: ["baseline vs interp: ending: ..."])
        let path = try FuzzReproducer(result: result, rerunCommand: "swift run -c release rivet-fuzz --seed 7", limits: FuzzLimits())
            .write(into: scratch.path, label: "disagreement")
        #expect(path == scratch.path + "/disagreement-7-3")
        #expect(try readBytes(path + "/program") == fuzzCase.program)
        let readme = String(decoding: try readBytes(path + "/README"), as: UTF8.self)
        for text in [
            "seed:    7", "case:    3", "kind:    syscalls", "rivet-fuzz --seed 7 --case 3", "== interp ==", "== baseline ==",
            "killed by signal 4", "000000  01 02 03", "baseline vs interp",
        ] {
            #expect(readme.contains(text), "README lacks \(text)")
        }
    }

    /// A case is made again identically from its seed and number alone, whatever ran before.
    @Test func aCaseDependsOnlyOnItsSeedAndNumber() {
        let factory = FuzzCaseFactory(seed: 99)
        for index in [0, 5, 17, 1000] {
            let first = factory.make(index)
            let again = factory.make(index)
            #expect(first.program == again.program && first.kind == again.kind && first.setup == again.setup)
        }
        #expect(factory.make(1).program != factory.make(2).program)
        let only = FuzzCaseFactory(seed: 99, kinds: [.elf])
        #expect((0..<20).allSatisfy { only.make($0).kind == .elf })
    }

    /// Syscall programs never exit early nor touch the descriptor their results go to, and
    /// their sleeps are short.
    @Test func syscallProgramsAreSteeredAwayFromTheHarness() {
        var generator = SyscallProgramGenerator(seed: 11)
        let results = UInt64(SyscallProgram.Layout.resultDescriptor)
        for _ in 0..<50 {
            let program = generator.program(calls: 60)
            for call in program.calls {
                #expect(call.number & 0xffff_ffff != 93 && call.number & 0xffff_ffff != 94)
                if call.number == 57 || call.number == 24 {
                    #expect(call.arguments[call.number == 57 ? 0 : 1] & 0xffff_ffff != results)
                }
                if call.number == 436 {
                    let low = call.arguments[0] & 0xffff_ffff
                    let high = call.arguments[1] & 0xffff_ffff
                    #expect(!(low <= results && results <= high))
                }
                if call.number == 59 { #expect(call.arguments[1] & 0x800 != 0) }
            }
        }
    }

    /// The command runs a campaign in a worker process and reports it.
    @Test func theCommandRunsACampaign() throws {
        let scratch = try ScratchDirectory()
        let process = try HostProcess([
            rivetFuzzCommand, "--seed", "\(Self.seed)", "--count", "6", "--out", scratch.path + "/out",
        ])
        #expect(process.wait(timeout: .seconds(120)) == 0, "\(process.standardOutput)\(process.standardError)")
        #expect(
            process.standardOutput.contains(
                "6 cases, \(6 * FuzzTier.all.count) programs run (cases × tiers), 0 host crashes, 0 disagreements"))
    }
}

/// The `rivet-fuzz` command built beside the tests.
let rivetFuzzCommand: String = {
    var parts = rivetCommand.split(separator: "/").map(String.init)
    parts.removeLast()
    return "/" + parts.joined(separator: "/") + "/rivet-fuzz"
}()
