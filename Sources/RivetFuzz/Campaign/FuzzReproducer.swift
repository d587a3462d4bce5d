#if canImport(Glibc)
import Glibc
#endif
import Rivet

/// A reproducer directory: `LABEL-SEED-CASE/` holding the guest program (`program`) and a
/// `README` with the seed, case, kind, the command that reruns it and each tier's outcome.
package struct FuzzReproducer {
    /// The case and what the tiers did.
    package var result: FuzzCaseResult
    /// The command that reruns the case, without `--case`.
    package var rerunCommand: String
    /// The limits the runs had.
    package var limits: FuzzLimits

    /// A reproducer of `result`.
    package init(result: FuzzCaseResult, rerunCommand: String, limits: FuzzLimits) {
        self.result = result
        self.rerunCommand = rerunCommand
        self.limits = limits
    }

    /// Writes `DIRECTORY/LABEL-SEED-CASE/{program,README}`.
    /// - Returns: the reproducer's directory.
    /// - Throws: `RivetError` if a file cannot be written.
    @discardableResult
    package func write(into directory: String, label: String) throws(RivetError) -> String {
        let fuzzCase = result.fuzzCase
        let path = directory + "/\(label)-\(fuzzCase.seed)-\(fuzzCase.index)"
        HostFiles.makeDirectories(path)
        try HostFiles.write(fuzzCase.program, to: path + "/program", mode: 0o755)
        try HostFiles.write(readme(title: "rivet-fuzz \(label)"), to: path + "/README")
        return path
    }

    /// The README's text.
    package func readme(title: String) -> String {
        let fuzzCase = result.fuzzCase
        var text = Self.header(title: title, fuzzCase: fuzzCase, rerunCommand: rerunCommand, limits: limits)
        if result.agrees {
            text += "\nAll tiers agree.\n"
        } else {
            text += "\nDifferences:\n" + result.differences.map { "  " + $0 }.joined(separator: "\n") + "\n"
        }
        for run in result.outcomes {
            text += "\n== \(run.tier.name) ==\n" + Self.describe(run.outcome)
        }
        text += "\n== The program ==\n" + fuzzCase.listing + "\n"
        return text
    }

    /// The lines every reproducer starts with: what the case is and how to rerun it.
    package static func header(title: String, fuzzCase: FuzzCase, rerunCommand: String, limits: FuzzLimits) -> String {
        """
        \(title)

        seed:    \(fuzzCase.seed)
        case:    \(fuzzCase.index)
        kind:    \(fuzzCase.kind.rawValue)
        program: \(fuzzCase.summary)
        engine:  \(fuzzCase.setup.description) (compiled tiers)
        limits:  \(limits.instructions) instructions, \(limits.wallTime), \(limits.memoryBytes >> 20) MiB of guest memory
        rerun:   \(rerunCommand) --case \(fuzzCase.index)

        The guest program is the file `program` beside this README (a riscv64 ELF file; each tier
        ran it with /dev/null as standard input and a fresh scratch directory as /scratch).

        """
    }

    /// One tier's outcome: ending, instructions, detail, output (as text or hex), diagnostics,
    /// files.
    package static func describe(_ outcome: FuzzOutcome) -> String {
        var text = "ending: \(outcome.ending.description)\n"
        text += "instructions: \(outcome.instructions) (\(outcome.compiledInstructions) in compiled code)\n"
        if !outcome.detail.isEmpty { text += "detail: \(outcome.detail)\n" }
        text += "standard output: \(outcome.outputSize) bytes, hash 0x\(paddedHex(outcome.outputHash, 16))\n"
        text += render(Array(outcome.output.prefix(4096)), total: outcome.outputSize)
        if !outcome.diagnostics.isEmpty {
            text += "standard error (start):\n" + outcome.diagnostics.split(separator: "\n").prefix(20).map { "  | " + $0 }
                .joined(separator: "\n") + "\n"
        }
        if !outcome.files.isEmpty {
            text += "files left in /scratch:\n" + outcome.files.map { "  " + $0.description }.joined(separator: "\n") + "\n"
        }
        return text
    }

    /// Output as indented text if it is printable, else as a hex dump; says if it was cut.
    static func render(_ bytes: [UInt8], total: Int) -> String {
        guard !bytes.isEmpty else { return "" }
        var text: String
        if bytes.allSatisfy({ (0x20...0x7e).contains($0) || $0 == 0x0a || $0 == 0x09 }) {
            text = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { "  | " + $0 }.joined(separator: "\n") + "\n"
        } else {
            text = ""
            for start in stride(from: 0, to: bytes.count, by: 16) {
                let row = bytes[start..<min(start + 16, bytes.count)]
                let hex = row.map { paddedHex($0, 2) }.joined(separator: " ")
                let ascii = String(row.map { (0x20...0x7e).contains($0) ? Character(UnicodeScalar($0)) : "." })
                text += "  \(paddedHex(start, 6))  \(hex)\(String(repeating: " ", count: 3 * (16 - row.count)))  \(ascii)\n"
            }
        }
        if total > bytes.count { text += "  ... (\(total - bytes.count) more bytes)\n" }
        return text
    }
}
