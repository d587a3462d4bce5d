import Rivet

/// One fuzz case: a guest program and how to run it, fixed by the campaign's seed and the
/// case's number alone.
package struct FuzzCase: Sendable {
    /// The campaign's seed.
    package var seed: UInt64
    /// The case's number in the campaign.
    package var index: Int
    /// The seed everything in this case follows from (`FuzzCaseFactory.caseSeed`).
    package var caseSeed: UInt64
    /// What was generated.
    package var kind: FuzzKind
    /// The guest program: an ELF file (possibly a corrupt one).
    package var program: [UInt8]
    /// One line saying what the program is (`72 instructions, 3 words mutated, 2 rounds`).
    package var summary: String
    /// The details for a reproducer: the instruction listing, the calls, the mutations.
    package var listing: String
    /// The compiled tiers' engine set-up.
    package var setup: FuzzEngineSetup
}
