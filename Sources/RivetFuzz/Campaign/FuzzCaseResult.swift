/// One tier's outcome in a case.
package struct TierOutcome: Sendable {
    /// The tier.
    package var tier: FuzzTier
    /// What the program did under it.
    package var outcome: FuzzOutcome

    /// `outcome` under `tier`.
    package init(tier: FuzzTier, outcome: FuzzOutcome) {
        self.tier = tier
        self.outcome = outcome
    }
}

/// A case run under every tier, and how the tiers differed.
package struct FuzzCaseResult: Sendable {
    /// The case.
    package var fuzzCase: FuzzCase
    /// Each tier's outcome, the reference (the interpreter) first.
    package var outcomes: [TierOutcome]
    /// How the other tiers differ from the reference, a line per difference, each naming its
    /// tier; empty when all agree.
    package var differences: [String]
    /// The reference tier did not repeat itself when run again (a result that depends on the
    /// time, say, which a mutation can make any syscall read): not a disagreement of tiers.
    package var varies = false

    /// The outcomes of `fuzzCase` and their `differences` (`FuzzSession.compare`).
    package init(fuzzCase: FuzzCase, outcomes: [TierOutcome], differences: [String]) {
        self.fuzzCase = fuzzCase
        self.outcomes = outcomes
        self.differences = differences
    }

    /// Whether every tier did the same.
    package var agrees: Bool { differences.isEmpty }

    /// The word the worker reports: agree, disagree or varies.
    package var verdict: String { varies ? "varies" : agrees ? "agree" : "disagree" }
}
