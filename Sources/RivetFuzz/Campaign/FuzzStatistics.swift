/// What a campaign found, in all and by kind.
package struct FuzzStatistics: Sendable {
    /// Counters for one kind, or all.
    package struct Counts: Sendable, Equatable {
        /// Cases run to the end (every tier), or that crashed the host.
        package var cases = 0
        /// Guest programs run: cases times tiers.
        package var programs = 0
        /// Cases that killed the worker (a signal) or hung it past the watchdog.
        package var crashes = 0
        /// Cases whose tiers disagreed.
        package var disagreements = 0
        /// Cases whose reference tier did not repeat itself (not compared).
        package var varying = 0
        /// How the reference tier's runs ended (`FuzzOutcome.Ending.category`), by category.
        package var endings: [String: Int] = [:]
        /// Instructions the `auto` tier ran in compiled code.
        package var autoCompiled: UInt64 = 0
        /// Instructions the `auto` tier ran in all.
        package var autoInstructions: UInt64 = 0

        /// Zero counts.
        package init() {}

        /// Whether anything was found.
        package var found: Bool { crashes > 0 || disagreements > 0 }
    }

    /// Counts by kind.
    package private(set) var byKind: [FuzzKind: Counts] = [:]

    /// Nothing counted yet.
    package init() {}

    /// The sum over kinds.
    package var total: Counts {
        byKind.values.reduce(into: Counts()) { total, counts in
            total.cases += counts.cases
            total.programs += counts.programs
            total.crashes += counts.crashes
            total.disagreements += counts.disagreements
            total.varying += counts.varying
        }
    }

    /// Counts a case that ran `programs` programs.
    /// - Parameters:
    ///   - ending: how the reference tier's run ended (`FuzzOutcome.Ending.category`).
    ///   - autoInstructions: instructions the `auto` tier ran in compiled code, and in all.
    package mutating func recordCase(
        _ kind: FuzzKind, programs: Int, disagreed: Bool, varies: Bool = false, ending: String,
        autoInstructions: (compiled: UInt64, all: UInt64)
    ) {
        if varies { byKind[kind, default: Counts()].varying += 1 }
        byKind[kind, default: Counts()].endings[ending, default: 0] += 1
        byKind[kind, default: Counts()].autoCompiled += autoInstructions.compiled
        byKind[kind, default: Counts()].autoInstructions += autoInstructions.all
        byKind[kind, default: Counts()].cases += 1
        byKind[kind, default: Counts()].programs += programs
        if disagreed { byKind[kind, default: Counts()].disagreements += 1 }
    }

    /// Counts a case that crashed or hung the worker.
    package mutating func recordCrash(_ kind: FuzzKind) {
        byKind[kind, default: Counts()].cases += 1
        byKind[kind, default: Counts()].crashes += 1
    }

    /// `1234 cases, 3702 programs run (cases × tiers), 0 host crashes, 0 disagreements`.
    package static func line(_ counts: Counts) -> String {
        "\(counts.cases) cases, \(counts.programs) programs run (cases × tiers), \(counts.crashes) host crashes, "
            + "\(counts.disagreements) disagreements" + (counts.varying > 0 ? ", \(counts.varying) varying (not compared)" : "")
    }

    /// The final summary: the totals, then a line per kind.
    package func summary(seed: UInt64, seconds: Double) -> String {
        var text = "rivet-fuzz: seed \(seed), \(Int(seconds.rounded())) s: \(Self.line(total))\n"
        for kind in FuzzKind.allCases {
            guard let counts = byKind[kind] else { continue }
            let padded = kind.rawValue + String(repeating: " ", count: max(0, 13 - kind.rawValue.count))
            text += "  \(padded)\(Self.line(counts))\n"
            let endings = ["exited", "signaled", "limit", "timeout", "rejected"].compactMap { name in
                counts.endings[name].map { "\($0) \(name)" }
            }
            let indent = String(repeating: " ", count: 15)
            if !endings.isEmpty { text += indent + "interp runs: \(endings.joined(separator: ", "))\n" }
            if counts.autoInstructions > 0 {
                let share = Double(counts.autoCompiled) * 100 / Double(counts.autoInstructions)
                text += indent + "auto: \((share * 10).rounded() / 10)% of instructions in compiled code\n"
            }
        }
        return text
    }
}
