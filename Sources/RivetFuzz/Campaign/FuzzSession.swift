import Rivet

/// Runs cases in-process: makes the program, writes it to `programPath`, runs it under every
/// tier and compares the outcomes; writes a reproducer when they disagree.
package struct FuzzSession: Sendable {
    /// Makes the cases.
    package var factory: FuzzCaseFactory
    /// Runs the programs.
    package var runner: FuzzRunner
    /// The tiers compared; the first is the reference.
    package var tiers: [FuzzTier] = FuzzTier.all
    /// Where each case's program is written before it runs (an absolute path).
    package var programPath: String
    /// Where reproducers go (`disagreement-SEED-CASE/`); nil to write none.
    package var outputDirectory: String?
    /// The command that reruns a case, for reproducers (`--case` is appended).
    package var rerunCommand: String

    /// A session making cases with `factory`, running them with `runner`.
    package init(
        factory: FuzzCaseFactory, runner: FuzzRunner, programPath: String, outputDirectory: String?, rerunCommand: String
    ) {
        self.factory = factory
        self.runner = runner
        self.programPath = programPath
        self.outputDirectory = outputDirectory
        self.rerunCommand = rerunCommand
    }

    /// Makes case `index` and writes its program to `programPath`.
    /// - Throws: `RivetError` if the program cannot be written.
    package func prepare(_ index: Int) throws(RivetError) -> FuzzCase {
        let fuzzCase = factory.make(index)
        try HostFiles.write(fuzzCase.program, to: programPath, mode: 0o755)
        return fuzzCase
    }

    /// Runs a prepared case under every tier and compares the outcomes; on a disagreement,
    /// writes its reproducer (if there is an output directory).
    package func run(_ fuzzCase: FuzzCase) -> FuzzCaseResult {
        var outcomes: [TierOutcome] = []
        for tier in tiers {
            let outcome = runner.run(
                programPath: programPath, tier: tier, setup: fuzzCase.setup, randomSeed: fuzzCase.caseSeed)
            outcomes.append(TierOutcome(tier: tier, outcome: outcome))
        }
        // A tier that ran out of wall time where the reference did not may only be slow (`opt`
        // compiles every block through tier 2: on a loaded machine, 2 s was not always enough
        // for a mutated `hello_static`, and 21 such "disagreements" in one campaign were all
        // slowness): it runs again with five times the time, and that outcome counts. A tier
        // that hangs still stops at the longer limit; a loop stops at the instruction limit.
        if let reference = outcomes.first, reference.outcome.ending != .timeLimit {
            var patient = runner
            patient.limits.wallTime = runner.limits.wallTime * 5
            for k in outcomes.indices.dropFirst() where outcomes[k].outcome.ending == .timeLimit {
                outcomes[k].outcome = patient.run(
                    programPath: programPath, tier: outcomes[k].tier, setup: fuzzCase.setup, randomSeed: fuzzCase.caseSeed)
            }
        }
        var result = FuzzCaseResult(fuzzCase: fuzzCase, outcomes: outcomes, differences: Self.compare(outcomes))
        if !result.agrees, let reference = outcomes.first {
            // Does the reference repeat itself? If not, the program's behaviour varies from run
            // to run and the tiers cannot be compared on it.
            let again = runner.run(
                programPath: programPath, tier: reference.tier, setup: fuzzCase.setup, randomSeed: fuzzCase.caseSeed)
            if !Self.compare([reference, TierOutcome(tier: reference.tier, outcome: again)]).isEmpty {
                result.varies = true
                result.differences = []
            }
        }
        if !result.agrees, let outputDirectory {
            _ = try? FuzzReproducer(result: result, rerunCommand: rerunCommand, limits: runner.limits)
                .write(into: outputDirectory, label: "disagreement")
        }
        return result
    }

    /// Makes, writes and runs case `index`.
    /// - Throws: `RivetError` if the program cannot be written.
    package func run(_ index: Int) throws(RivetError) -> FuzzCaseResult {
        run(try prepare(index))
    }

    /// How each outcome after the first differs from the first, each line prefixed with its
    /// tier's name; empty when all agree.
    package static func compare(_ outcomes: [TierOutcome]) -> [String] {
        guard let reference = outcomes.first else { return [] }
        var lines: [String] = []
        for other in outcomes.dropFirst() {
            for line in other.outcome.differences(from: reference.outcome, names: (other.tier.name, reference.tier.name)) {
                lines.append("\(other.tier.name) vs \(reference.tier.name): \(line)")
            }
        }
        return lines
    }
}
